"""Group commit under a crash: `python -m offchain serve` is SIGKILLed while 8 connections post signed
orders; after a restart over the same journal every order that was answered 200 is in the journal,
and no nonce executes twice (every request is sent again and nothing journaled runs a second time).

Real processes, a real SQLite journal at synchronous=FULL, kill points drawn from a fixed seed.
"""

from __future__ import annotations

import asyncio
import collections
import json
import random
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from offchain import loadtest
from offchain.api.signing import Domain
from offchain.paths import PROJECT_ROOT
from offchain.store import open_store

SEED = 20251204
KEYS = 8
CLIENTS = 8
ORDERS = 2000  # more than the server answers before the kill


def genesis(path: Path) -> Path:
    lines = [
        {"cmd": "asset", "symbol": "USDC", "decimals": 6, "collateral_weight": "1"},
        {"cmd": "asset", "symbol": "USDE", "decimals": 18, "collateral_weight": "0.9"},
        {"cmd": "market", "symbol": "USDE-USDC", "kind": "spot", "base": "USDE", "quote": "USDC"}
        | {"tick": "0.0001", "lot": "1"},
        {"cmd": "index", "symbol": "USDE-USDC", "source": "curve", "price": "0.9990"},
    ]
    for k in range(KEYS):
        for asset in ("USDC", "USDE"):
            lines.append(
                {"cmd": "deposit", "account": loadtest.address(k), "asset": asset, "amount": "1000000000"}
            )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


class Serve:
    def __init__(self, journal: str, genesis_file: Path) -> None:
        cmd = [
            sys.executable,
            "-m",
            "offchain",
            "serve",
            "--journal",
            journal,
            "--genesis",
            str(genesis_file),
        ]
        cmd += ["--port", "0", "--ip-rate", "1000000", "--account-rate", "1000000", "--no-dashboard"]
        self.proc = subprocess.Popen(
            cmd, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        line = self.proc.stdout.readline()
        assert line.startswith("serving "), line
        url = line.split()[1]
        self.host, self.port = url.removeprefix("http://").rsplit(":", 1)
        self.port = int(self.port)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


async def post_all(server: Serve, raws: list[bytes], *, kill_after_s: float | None = None) -> dict[int, int]:
    """Post every request (8 connections) until they are done or the server dies; {index: status}."""
    statuses: dict[int, int] = {}
    queue = collections.deque(range(len(raws)))

    async def worker() -> None:
        try:
            conn = await loadtest.Http.connect(server.host, server.port)
        except OSError:
            return
        try:
            while queue:
                i = queue.popleft()
                status, _ = await conn.request(raws[i])
                statuses[i] = status
        except (OSError, asyncio.IncompleteReadError):
            return  # the server was killed under this request: it was never answered
        finally:
            conn.close()

    workers = [asyncio.create_task(worker()) for _ in range(CLIENTS)]
    if kill_after_s is not None:
        await asyncio.sleep(kill_after_s)
        server.kill()
    await asyncio.gather(*workers)
    return statuses


def journaled_orders(url: str) -> collections.Counter:
    store = open_store(url)
    try:
        return collections.Counter(
            (r["account"], r["client_id"]) for _, r in store.read_from(1) if r.get("cmd") == "order"
        )
    finally:
        store.close()


@pytest.mark.timeout(120)
def test_sigkill_under_load_loses_no_acknowledged_order_and_runs_no_nonce_twice(tmp_path):
    rng = random.Random(SEED)
    journal = f"sqlite:///{tmp_path / 'journal.db'}"
    genesis_file = genesis(tmp_path / "genesis.jsonl")
    domain = Domain(31337, "0x" + "00" * 19 + "01")  # serve's defaults
    plan = loadtest.plan(
        domain,
        keys=KEYS,
        orders=ORDERS,
        batch=0,
        symbol="USDE-USDC",
        index=Decimal("0.9990"),
        tick=Decimal("0.0001"),
    )
    host = "127.0.0.1"
    raws = [loadtest.http_request("POST", host, "/orders", body) for body in plan.bodies]
    ids = [ident[0] for ident in plan.ids]

    acknowledged: set[int] = set()
    for round_no in range(2):  # two crashes at random points of the load, each followed by a restart
        server = Serve(journal, genesis_file)
        statuses = asyncio.run(post_all(server, raws, kill_after_s=rng.uniform(0.3, 0.8)))
        acknowledged |= {i for i, s in statuses.items() if s == 200}
        assert acknowledged, f"round {round_no}: nothing was acknowledged before the kill"
        journal_now = journaled_orders(journal)
        lost = [ids[i] for i in acknowledged if journal_now[ids[i]] == 0]
        assert not lost, f"acknowledged but not journaled after SIGKILL: {lost[:5]}"
        # the next round sends every request again, answered or not

    # after the last crash: send everything once more; whatever is journaled is refused, never re-run
    server = Serve(journal, genesis_file)
    try:
        before = journaled_orders(journal)
        statuses = asyncio.run(post_all(server, raws))
        assert len(statuses) == len(raws)
        for i, status in statuses.items():
            if before[ids[i]]:
                assert status == 409, (i, ids[i], status)  # nonce_reused, also for journaled-unanswered ones
            else:
                assert status == 200, (i, ids[i], status)
    finally:
        server.stop()
    after = journaled_orders(journal)
    twice = [k for k, n in after.items() if n > 1]
    assert not twice, f"a signed order executed more than once: {twice[:5]}"
    assert set(after) == {ids[i] for i in range(len(raws))}
