"""`scripts/demo.sh` (what `make demo` runs) for a short while: a crash halts the market, an auction reopens it."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from offchain.chain.devnet import free_port
from offchain.paths import PROJECT_ROOT
from offchain.store import open_store

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("demo")]

# The engine breaker's windows cut to seconds so that one crash episode fits in the run.
FAST_BREAKER = {
    "USDE-USDC": {
        "depth_sample_ms": 2000,
        "depth_min_samples": 5,
        "t_dlp_ms": 8000,
        "t_chain_ms": 4000,
        "t_buffer_ms": 4000,
        "cooldown_ms": 6000,
        "auction_ms": 6000,
    }
}


def test_demo_runs_a_market_whose_crash_trips_the_breaker_and_reopens_by_auction(tmp_path):
    rpc_port, api_port = free_port(), free_port()
    env = dict(os.environ)
    env.update(
        PATH=f"{PROJECT_ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        ANVIL_PORT=str(rpc_port),
        API_PORT=str(api_port),
        DEMO_DIR=str(tmp_path / "demo"),
        BREAKWATER_DEPLOYMENTS_DIR=str(tmp_path / "deployments"),
        DEMO_SECONDS="60",
        DEMO_FIRST_CRASH="20",
        DEMO_CRASH_EVERY="600",
        BREAKWATER_BREAKER_PARAMS=json.dumps(FAST_BREAKER),
    )
    result = subprocess.run(
        ["bash", "scripts/demo.sh"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    demo = tmp_path / "demo"
    logs = {
        name: (demo / f"{name}.log").read_text()
        for name in ("daemon", "sim")
        if (demo / f"{name}.log").exists()
    }
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{logs.get('daemon', '')[-3000:]}"

    out = result.stdout
    assert f"http://127.0.0.1:{api_port}/" in out and "31337.json" in out and '"Custody"' in out
    summary = json.loads(next(line for line in out.splitlines() if line.startswith('{"simulation"')))[
        "simulation"
    ]
    assert summary["crashes"] >= 1 and summary["halts"] >= 1 and summary["reopenings"] >= 1, logs["sim"][
        -3000:
    ]

    store = open_store(f"sqlite:///{demo / 'journal.db'}")
    try:
        commands = [record for _, record in store.read_from(1)]
    finally:
        store.close()
    depositors = {
        r["account"] for r in commands if r["cmd"] == "deposit" and r["ref"].startswith("deposit:0x")
    }
    assert len(depositors) >= 6  # makers, traders and the dumper, credited from their Custody deposits
    assert any(r["cmd"] == "order" and r.get("api") for r in commands)  # signed orders through the API
    status = json.loads((demo / "status.json").read_text())
    assert status["markets"]["USDE-USDC"]["state"] == "continuous"
    assert status["chain"]["pool"]["symbol"] == "USDE-USDC"
    assert "stopping at seq" in logs["daemon"]  # Ctrl-C/SIGTERM: the daemon shut down cleanly
