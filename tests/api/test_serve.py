"""`python -m offchain serve` (the paper exchange from a genesis file) and `python -m offchain loadtest`
against it, as real processes on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from offchain.__main__ import main as offchain_main
from offchain.api.client import Client
from offchain.api.signing import Domain
from offchain.paths import PROJECT_ROOT

GENESIS = PROJECT_ROOT / "scenarios" / "paper_genesis.jsonl"
# anvil's well-known account 1, which the sample genesis funds
ANVIL_1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


class Serve:
    def __init__(self, journal: str, *extra: str, genesis: Path = GENESIS) -> None:
        cmd = [sys.executable, "-m", "offchain", "serve", "--journal", journal, "--genesis", str(genesis)]
        cmd += ["--port", "0", *extra]
        self.proc = subprocess.Popen(
            cmd, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        line = self.proc.stdout.readline()
        if not line.startswith("serving "):
            self.proc.wait(timeout=20)
            raise AssertionError((line, self.proc.stderr.read()))
        self.url = line.split()[1]

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(timeout=20)


@pytest.fixture(scope="module")
def paper(tmp_path_factory):
    journal = f"sqlite:///{tmp_path_factory.mktemp('serve') / 'journal.db'}"
    server = Serve(journal, "--ip-rate", "100000", "--account-rate", "100000")
    yield server, journal
    if server.proc.poll() is None:
        server.stop()


def test_serve_runs_the_genesis_and_takes_signed_orders(paper):
    server, _ = paper
    markets = httpx.get(f"{server.url}/markets").json()
    assert [m["symbol"] for m in markets] == ["USDE-USDC"]
    assert markets[0]["index_price"] == "0.999"
    eip = httpx.get(f"{server.url}/eip712").json()
    domain = Domain(eip["domain"]["chainId"], eip["domain"]["verifyingContract"])
    with Client(server.url, ANVIL_1, domain=domain) as client:
        placed = client.place_order("USDE-USDC", "buy", "100", "0.9980", client_id="paper-1")
        assert placed["status"] == "open"
        assert client.account()["balances"]["USDC"]["held"] not in ("0", None)
    assert httpx.get(f"{server.url}/", follow_redirects=True).status_code == 200  # the dashboard


def test_loadtest_against_serve_reports_what_was_accepted(paper, capsys):
    server, _ = paper
    for extra in ([], ["--batch", "50"], ["--ws", "--ws-window", "8"]):
        argv = ["loadtest", "--url", server.url, "--orders", "200", "--clients", "4", "--keys", "4"]
        assert offchain_main([*argv, "--json", "--no-progress", *extra]) == 0
        result = json.loads(capsys.readouterr().out)
        assert (result["orders"], result["accepted"]) == (200, 200), (extra, result)
        assert result["orders_per_s"] > 0 and result["p50_ms"] <= result["p99_ms"]


def test_a_restart_recovers_the_journal_and_does_not_apply_the_genesis_again(paper):
    server, journal = paper
    book = httpx.get(f"{server.url}/book/USDE-USDC").json()
    assert server.stop() in (0, -15)
    again = Serve(journal)
    try:
        assert httpx.get(f"{again.url}/book/USDE-USDC").json()["bids"] == book["bids"]
        assert len(httpx.get(f"{again.url}/markets").json()) == 1
    finally:
        again.stop()


def test_a_bad_genesis_line_is_refused_with_its_line_number(tmp_path):
    bad = tmp_path / "genesis.jsonl"
    bad.write_text('{"cmd": "asset", "symbol": "USDC", "decimals": 6}\n{"cmd": "deposit", "account": "a"\n')
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "offchain",
            "serve",
            "--journal",
            f"sqlite:///{tmp_path / 'j.db'}",
            "--genesis",
            str(bad),
        ]
        + ["--port", "0"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert f"{bad}:2" in out.stderr
