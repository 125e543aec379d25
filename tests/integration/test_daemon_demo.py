"""`scripts/demo.sh` (what `make demo` runs) for a short while: a crash halts the market, an auction reopens it.

The index has three live sources (the pool and two Chainlink-style feeds) and, during the halt, a
designated liquidity provider that had only its bond in the exchange deposits through Custody, is
credited through the DLP priority channel before its confirmations and quotes (issue 16)."""

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
    assert summary["dlp_arrivals"] >= 1, logs["sim"][-3000:]  # credited before its confirmations
    assert {"pool", "chainlink", "redstone"} <= set(summary["index_sources"]), summary
    assert summary["index_sources_live"] >= 3, summary  # three sources live at once
    assert "index sources      pool" in out and "DLP arrival: credited" in out and "priority channel" in out

    store = open_store(f"sqlite:///{demo / 'journal.db'}")
    try:
        commands = [record for _, record in store.read_from(1)]
    finally:
        store.close()
    depositors = {
        r["account"] for r in commands if r["cmd"] == "deposit" and r["ref"].startswith("deposit:0x")
    }
    assert len(depositors) >= 6  # makers, traders and the dumper, credited from their Custody deposits
    # The arriving DLP: credited through the priority channel during the halt (`dlp_deposit`, the
    # Custody deposit's own ref), its confirmed deposits being its USDC bond only, then it quotes.
    priority = [
        i for i, r in enumerate(commands) if r["cmd"] == "dlp_deposit" and r["ref"].startswith("deposit:0x")
    ]
    assert priority, "no DLP deposit was credited through the priority channel"
    first = commands[priority[0]]
    dlp = first["account"]
    confirmed = {r["asset"] for r in commands if r["cmd"] == "deposit" and r["account"] == dlp}
    assert confirmed == {"USDC"}  # before the halt it held only its bond
    assert first["ref"] not in {r["ref"] for r in commands if r["cmd"] == "deposit"}  # credited once
    assert any(r["cmd"] == "order" and r["account"] == dlp for r in commands[priority[0] :])
    assert any(r["cmd"] == "order" and r.get("api") for r in commands)  # signed orders through the API
    status = json.loads((demo / "status.json").read_text())
    assert status["markets"]["USDE-USDC"]["state"] == "continuous"
    assert status["chain"]["pool"]["symbol"] == "USDE-USDC"
    assert status["chain"]["dlp"]["designations"][f"dlp:{dlp}"]["bond_asset"] == "USDC"
    assert status["chain"]["dlp"]["pending"] == {}  # the priority credit reached its confirmations
    assert status["chain"]["halt_window"]["dlp_samples"] >= 1  # T_DLP measured from the arrival
    fresh = [
        k for k, f in status["chain"]["index_sources"].items() if f["market"] == "USDE-USDC" and f["fresh"]
    ]
    assert len(fresh) >= 2 and status["markets"]["USDE-USDC"]["index_sources"].get("pool")
    assert "stopping at seq" in logs["daemon"]  # Ctrl-C/SIGTERM: the daemon shut down cleanly
