"""Signed orders through the cluster mode: a real 3-node NATS JetStream cluster (R=3 streams), two
engine replicas (leader + hot standby) and two gateways, all separate processes on this machine,
and `offchain.loadtest`'s pre-signed orders posted to both gateways at once from this process.

An order is answered after its publish was acknowledged by a quorum of the stream's replicas and
the leader's result came back, so the latency is gateway check + quorum write + engine + result.

Figures: flat-out orders/s; p50/p99 at 500 orders/s offered; failover (SIGKILL the leader, time
to the first order accepted after it, median of `kills`); a new replica's catch-up from the
latest snapshot plus the tail, and a full replay without the snapshot (commands/s), over a log of
`catchup` commands.

    python -m bench.cluster_ingress [--quick]       # prints the JSON document
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GENESIS = ROOT / "scenarios" / "paper_genesis.jsonl"


class Child:
    def __init__(self, work: Path, name: str, *args: str) -> None:
        self.name = name
        self.err = open(work / f"{name}.err", "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "offchain", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self.err,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def wait_line(self, prefix: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if line.startswith(prefix):
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: no {prefix!r} line (see its .err)")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.err.close()


class Topology:
    """3 NATS nodes, engines e1 e2 (auto), gateways g1 g2."""

    def __init__(self, work: Path) -> None:
        from offchain.cluster.nats_local import NatsCluster

        self.work = work
        self.nats = NatsCluster(work / "nats", 3).start()
        self.children: list[Child] = []
        self.engines: dict[str, Child] = {}
        self.spare = 1
        self.engine()
        self.engine()
        self.gateways = [self.gateway(f"g{i}", i) for i in (1, 2)]

    def engine(self, *extra: str) -> Child:
        name = f"e{self.spare}"
        self.spare += 1
        args = ["engine", "--log", self.nats.url, "--id", name, "--genesis", str(GENESIS), "--tick-s", "1"]
        child = Child(self.work, name, *args, *extra)
        self.children.append(child)
        self.engines[name] = child
        return child

    def gateway(self, name: str, i: int) -> str:
        urls = self.nats.urls[i - 1 :] + self.nats.urls[: i - 1]
        args = ["gateway", "--log", ",".join(urls), "--id", name, "--account-rate", "1000000"]
        child = Child(self.work, name, *args)
        self.children.append(child)
        return child.wait_line("gateway http://").split()[1]

    def stop(self) -> None:
        for child in self.children:
            child.stop()
        self.nats.stop()

    def query(self, fn):
        from offchain.cluster import log as L

        async def go():
            nc = await L.connect(self.nats.url, "bench")
            try:
                return await fn(nc.jetstream(timeout=10))
            finally:
                await nc.close()

        return asyncio.run(go())

    def leader(self) -> str | None:
        from offchain.cluster import log as L

        async def fn(js):
            try:
                return (await (await js.key_value(L.LEASE_BUCKET)).get(L.LEASE_KEY)).value.decode()
            except Exception:
                return None

        return self.query(fn)

    def replica(self, name: str) -> dict | None:
        from offchain.cluster import log as L

        async def fn(js):
            try:
                return json.loads((await (await js.key_value(L.STATE_BUCKET)).get(f"replica.{name}")).value)
            except Exception:
                return None

        return self.query(fn)


def _markets(url: str) -> dict:
    import httpx

    deadline = time.monotonic() + 60
    while True:
        r = httpx.get(f"{url}/markets", timeout=5)
        if r.status_code == 200 and r.json() and r.json()[0]["index_price"]:
            return r.json()[0]
        if time.monotonic() > deadline:
            raise RuntimeError(f"no markets at {url}")
        time.sleep(0.2)


def ingress(urls: list[str], orders: int, clients: int, rate: float = 0.0) -> dict:
    """Orders split over the gateways, sent at once; one merged result."""
    from urllib.parse import urlsplit

    from offchain.api.signing import Domain
    from offchain.loadtest import Result, _run_http, plan

    market = _markets(urls[0])
    domain = Domain(31337, "0x" + "00" * 19 + "01")
    plans = []
    for _ in urls:
        plans.append(
            plan(
                domain,
                keys=16,
                orders=orders // len(urls),
                batch=0,
                symbol=market["symbol"],
                index=Decimal(market["index_price"]),
                tick=Decimal(market["tick"]),
            )
        )
        time.sleep(0.01)  # the next plan's nonces start later

    async def go():
        parts = [urlsplit(u) for u in urls]
        per = rate / len(urls) if rate else 0.0
        return await asyncio.gather(
            *(
                _run_http(p.hostname, p.port, pl, clients // len(urls), per, None)
                for p, pl in zip(parts, plans, strict=True)
            )
        )

    results = asyncio.run(go())
    merged = Result(orders=sum(r.orders for r in results))
    for r in results:
        merged.accepted += r.accepted
        merged.latencies_ms += r.latencies_ms
        merged.statuses.update(r.statuses)
        merged.codes.update(r.codes)
    merged.seconds = max(r.seconds for r in results)
    return merged.summary()


def failovers(topo: Topology, kills: int) -> list[float]:
    """SIGKILL the leader under a light load; seconds to the first order accepted after it."""
    import httpx

    sys.path.insert(0, str(ROOT / "tests" / "cluster"))
    from cluster_orders import Signer

    signer = Signer(_markets(topo.gateways[0]))
    out = []
    with httpx.Client(timeout=30) as client:
        for _ in range(kills):
            for _ in range(5):
                client.post(f"{topo.gateways[0]}/orders", json=signer.order())
            leader = topo.leader()
            t0 = time.monotonic()
            topo.engines.pop(leader).kill()
            topo.engine()  # the replacement standby (from the snapshot)
            while True:
                r = client.post(f"{topo.gateways[len(out) % 2]}/orders", json=signer.order())
                if r.status_code == 200:
                    break
            out.append(time.monotonic() - t0)
            # wait until the replacement is live before the next kill
            name = f"e{topo.spare - 1}"
            topo.engines[name].wait_line(f"engine {name} ready")
    return out


def catchup(topo: Topology, commands: int) -> dict:
    """Fill the log with `commands` orders (unsigned envelopes: the engine does not re-check
    signatures), then time a new replica from the snapshot + tail and one replaying everything."""
    from offchain.cluster import log as L
    from offchain.loadtest import address, order_message

    market = _markets(topo.gateways[0])
    index, tick = Decimal(market["index_price"]), Decimal(market["tick"])
    accounts = [address(k) for k in range(16)]
    base = time.time_ns() // 1000

    async def fill(js):
        from offchain.api.signing import account_name

        t0 = time.perf_counter()
        futs = []
        for i in range(commands):
            acct = account_name(accounts[i % 16])
            msg = order_message(i, acct, market["symbol"], index, tick, f"cu{base:x}")
            wire = {"cmd": "order", "ts": 0, "account": acct, "symbol": msg["symbol"], "side": msg["side"]}
            wire.update(type="limit", qty=msg["qty"], price=msg["price"], tif=msg["tif"], id=msg["client_id"])
            wire.update(stp="cancel_maker", api=True)
            rid = f"{acct}:{base + i}"
            env = L.envelope(wire, time.time_ns() // 1_000_000, rid, int(time.time()) + 3600)
            futs.append(
                await js.publish_async(L.cmd_subject(msg["symbol"]), env, headers={"Nats-Msg-Id": rid})
            )
            if len(futs) >= 2000:
                await asyncio.gather(*futs)
                futs = []
        await asyncio.gather(*futs)
        info = await js.stream_info(L.CMD_STREAM)
        return info.state.last_seq, time.perf_counter() - t0

    last, fill_s = topo.query(fill)
    leader = topo.leader()
    deadline = time.monotonic() + 600
    while (topo.replica(leader) or {}).get("seq", 0) < last and time.monotonic() < deadline:
        time.sleep(0.5)
    out = {"commands": last, "publish_per_s": round(commands / fill_s)}
    for label, extra in (("from_snapshot", ()), ("full_replay", ("--no-snapshot",))):
        t0 = time.monotonic()
        child = topo.engine("--role", "standby", *extra)
        name = child.name
        ready = None
        while time.monotonic() < deadline:
            st = topo.replica(name)
            if ready is None and any(line.startswith(f"engine {name} ready") for line in child.lines):
                ready = time.monotonic() - t0
            if st and st["seq"] >= last:
                break
            time.sleep(0.2)
        took = time.monotonic() - t0
        st = topo.replica(name) or {}
        out[label] = {
            "seconds": round(took, 2),
            "started_seq": st.get("started_seq"),
            "ready_s": round(ready or 0, 2),
            "commands_per_s": round((last - (st.get("started_seq") or 0)) / max(took - (ready or 0), 1e-6)),
        }
        child.stop()
    return out


def measure(orders: int = 6000, clients: int = 32, kills: int = 10, catchup_commands: int = 200_000) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    out: dict = {"orders": orders, "clients": clients}
    topo = Topology(work)
    try:
        ingress(topo.gateways, 1000, clients)  # warm-up
        out["flat_out"] = ingress(topo.gateways, orders, clients)
        out["at_500"] = ingress(topo.gateways, 2500, clients, rate=500)
        fo = failovers(topo, kills)
        out["failover_s"] = [round(f, 3) for f in fo]
        out["failover_median_s"] = round(statistics.median(fo), 3)
        out["catchup"] = catchup(topo, catchup_commands)
    finally:
        topo.stop()
        shutil.rmtree(work, ignore_errors=True)
    out["markdown"] = markdown(out)
    return out


def markdown(r: dict) -> str:
    f, a, c = r["flat_out"], r["at_500"], r.get("catchup", {})
    lines = [
        "### Cluster ingress (bench/cluster_ingress.py)",
        "",
        "3 nats-server nodes (R=3 streams), 2 engine replicas, 2 gateways and the load client on the same 2 cores.",
        "",
        "| figure | value | target |",
        "|---|---:|---|",
        f"| signed orders/s through 2 gateways, acknowledged after quorum | {f['orders_per_s']:,} | >= 2,000 |",
        f"| p50 / p99 at flat out | {f['p50_ms']} / {f['p99_ms']} ms | |",
        f"| p50 / p99 at 500 orders/s offered | {a['p50_ms']} / {a['p99_ms']} ms | p99 <= 50 ms |",
        f"| failover, leader SIGKILL to the first accepted order (median of {len(r['failover_s'])}) "
        f"| {r['failover_median_s']} s | <= 3 s |",
    ]
    if c:
        lines.append(
            f"| new replica from snapshot + tail, log of {c['commands']:,} commands | {c['from_snapshot']['seconds']} s | |"
        )
        lines.append(
            f"| full replay without snapshot, {c['commands']:,} commands | {c['full_replay']['seconds']} s "
            f"({c['full_replay']['commands_per_s']:,} commands/s) | 1M <= 60 s |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    doc = measure(**({"orders": 2000, "kills": 3, "catchup_commands": 20_000} if quick else {}))
    print(json.dumps(doc, indent=2))
