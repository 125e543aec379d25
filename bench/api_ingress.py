"""Signed orders through the real API: `python -m offchain serve` as its own process, a real SQLite
journal at `synchronous=FULL`, and `offchain.loadtest` posting orders signed in advance over HTTP
(one per POST, and batches of 100) and over one WebSocket from this process.

Also measured in the same run, for scale: secp256k1 recoveries per second on one core (the check
every signed request pays) and the bare engine's orders/s on the same orders (no journal, no API),
so the ratio API / engine is visible. The server's CPU per accepted order comes from its
/proc/<pid>/stat; when py-spy is installed the single-order run is profiled and its top frames are
written under the results table.

    python -m bench.api_ingress            # prints the JSON document
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GENESIS = ROOT / "scenarios" / "paper_genesis.jsonl"
HZ = os.sysconf("SC_CLK_TCK")


class Server:
    """`python -m offchain serve` on a free port over a fresh journal in `workdir`."""

    def __init__(self, workdir: Path, *extra: str) -> None:
        self.journal = f"sqlite:///{workdir / 'journal.db'}"
        cmd = [sys.executable, "-m", "offchain", "serve", "--journal", self.journal]
        cmd += ["--genesis", str(GENESIS), "--port", "0", "--ip-rate", "1000000", "--account-rate", "1000000"]
        cmd += ["--no-dashboard", *extra]
        self.stderr = open(workdir / "serve.err", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("serving "):
            self.stop()
            raise RuntimeError(f"serve did not start: {line!r} (see {workdir / 'serve.err'})")
        self.url = line.split()[1]

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / HZ

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


def _run(server: Server, **kwargs) -> dict:
    from offchain.loadtest import loop_runner, run_async

    before = server.cpu_s()
    result = loop_runner()(run_async(server.url, **kwargs))
    cpu = server.cpu_s() - before
    summary = result.summary()
    summary["server_cpu_s"] = round(cpu, 3)
    summary["server_cpu_us_per_order"] = round(1e6 * cpu / max(summary["accepted"], 1), 1)
    return summary


def recoveries_per_s(seconds: float = 1.0) -> dict:
    """secp256k1 public-key recoveries per second on one core (libsecp256k1 through coincurve), and
    whole signature checks (the EIP-712 digest, the recovery, the address) per second."""
    import coincurve

    from offchain import loadtest
    from offchain.api.signing import Domain, digest, sign_fast, verify

    domain = Domain(31337, "0x" + "00" * 19 + "01")
    msg = loadtest.order_message(0, loadtest.address(0), "USDE-USDC", Decimal("1"), Decimal("0.0001"), "r")
    msg.update(nonce=1, expiry=2**40)
    sig = sign_fast(domain, "Order", msg, loadtest.key(0))
    raw = bytes.fromhex(sig[2:130]) + bytes([int(sig[130:], 16) - 27])
    h = digest(domain, "Order", msg)

    def rate(fn) -> float:
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for _ in range(200):
                fn()
            n += 200
        return round(n / (time.perf_counter() - start))

    return {
        "recoveries_per_s": rate(lambda: coincurve.PublicKey.from_signature_and_message(raw, h, hasher=None)),
        "checks_per_s": rate(lambda: verify(domain, "Order", msg, sig, 0)),
    }


def bare_engine_orders_per_s(orders: int = 20_000) -> float:
    """The same orders applied to a bare engine (default modules, no journal, no API)."""
    from offchain import loadtest
    from offchain.api.order_entry import order_wire
    from offchain.core.build import build_engine
    from offchain.core.messages.codec import parse_command
    from offchain.serve import genesis_commands

    engine = build_engine()
    for _, wire in genesis_commands(GENESIS):
        engine.apply(parse_command(wire, engine))
    accounts = [loadtest.address(k) for k in range(16)]
    cmds = []
    for i in range(orders):
        msg = loadtest.order_message(
            i, accounts[i % 16], "USDE-USDC", Decimal("0.9990"), Decimal("0.0001"), "e"
        )
        cmds.append(parse_command({**order_wire(accounts[i % 16], msg), "ts": 1000 + i}, engine))
    start = time.perf_counter()
    for cmd in cmds:
        engine.apply(cmd)
    return orders / (time.perf_counter() - start)


def _profile(server: Server, out: Path, seconds: int) -> subprocess.Popen | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        return None
    cmd = [spy, "record", "-p", str(server.proc.pid), "-f", "raw", "-o", str(out), "-d", str(seconds)]
    return subprocess.Popen(
        [*cmd, "-r", "200", "--threads", "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _profiled(server: Server, work: Path, name: str, out: dict, seconds: int, **kwargs) -> None:
    spy = _profile(server, work / f"{name}.txt", seconds)
    out[name] = _run(server, **kwargs)
    if spy is not None:
        spy.wait(timeout=60)
        if (work / f"{name}.txt").exists():
            out.setdefault("profiles", {})[name] = profile_summary(work / f"{name}.txt")


def profile_summary(path: Path, top: int = 12) -> dict:
    """Per-thread shares and the top frames (own time) of a py-spy raw profile."""
    own: collections.Counter = collections.Counter()
    threads: collections.Counter = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")
        count = int(n)
        total += count
        threads[re.sub(r"^thread \(\w+\): ", "", frames[0].strip('"'))] += count
        leaf = re.sub(r" \((?:[^()]*/)?([^/():]*)(?::\d+)?\)$", r" (\1)", frames[-1])
        own[leaf] += count
    share = lambda c: round(100 * c / total, 1) if total else 0.0  # noqa: E731
    return {
        "samples": total,
        "threads": {name: share(c) for name, c in threads.most_common(4)},
        "top": [[frame, share(c)] for frame, c in own.most_common(top)],
    }


def measure(orders: int = 8000, clients: int = 16) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    out: dict = {"load_avg_1m_at_start": round(os.getloadavg()[0], 2)}
    try:
        server = Server(work)
        try:
            _run(server, orders=1000, clients=clients)  # warm-up (imports, caches, the first snapshot)
            _profiled(server, work, "single", out, 6, orders=orders, clients=clients)
            out["at_500"] = _run(server, orders=2500, clients=clients, rate=500)
            _profiled(server, work, "batch", out, 2, orders=orders * 3, clients=4, batch=100)
            out["ws"] = _run(server, orders=orders, clients=1, ws=True, ws_window=64)
        finally:
            server.stop()
        out["group_commits"] = (work / "serve.err").read_text().strip().splitlines()[-1:]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    limits = recoveries_per_s()
    out["secp256k1_recoveries_per_s"] = limits["recoveries_per_s"]
    out["signature_checks_per_s"] = limits["checks_per_s"]
    out["bare_engine_orders_per_s"] = round(bare_engine_orders_per_s(), 0)
    out["api_over_engine"] = round(out["single"]["orders_per_s"] / out["bare_engine_orders_per_s"], 4)
    out["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)
    out["markdown"] = markdown(out)
    return out


def markdown(r: dict) -> str:
    """The notes under the results table: the raw limits, CPU per order and the profile."""
    lines = [
        "### Signed orders through the API (`bench.api_ingress`, the details of one run)",
        "",
        f"Raw limits in the same run: {r['secp256k1_recoveries_per_s']:,.0f} secp256k1 recoveries/s on one "
        f"core ({r['signature_checks_per_s']:,.0f} whole EIP-712 signature checks/s); the bare engine {r['bare_engine_orders_per_s']:,.0f} orders/s on the same orders; "
        f"API single orders / bare engine = {r['api_over_engine']:.3f}. Load average (1 min, {os.cpu_count()} "
        f"cores) {r['load_avg_1m_at_start']} at the start of this run, {r['load_avg_1m_at_end']} at its end: "
        "client and server share the machine with whatever else runs on it.",
        "",
        "| run | orders/s | p50 ms | p99 ms | server CPU per order |",
        "|---|---:|---:|---:|---:|",
    ]
    names = {
        "single": "one order per POST, 16 connections",
        "at_500": "500 orders/s offered, 16 connections",
        "batch": "batches of 100, 4 connections",
        "ws": "WebSocket, one connection, 64 in flight",
    }
    for key, name in names.items():
        s = r.get(key)
        if s:
            lines.append(
                f"| {name} | {s['orders_per_s']:,.0f} | {s['p50_ms']} | {s['p99_ms']} | "
                f"{s['server_cpu_us_per_order']:,.0f} µs |"
            )
    for name, prof in r.get("profiles", {}).items():
        threads = ", ".join(f"{thread} {pct} %" for thread, pct in prof["threads"].items())
        run = names[name].split(",")[0]
        lines += ["", f"Server profile, {run} (py-spy, own time, {prof['samples']} samples; {threads}):", ""]
        lines += [f"- {pct} % {frame}" for frame, pct in prof["top"]]
    if r.get("group_commits"):
        lines += ["", f"Group commit: {r['group_commits'][0]}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
