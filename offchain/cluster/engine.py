"""`python -m offchain engine --log nats://... --role auto`: one engine replica on the replicated log.

Every replica consumes the command stream in order and applies it to its own core (`Replica`).
Exactly one, the holder of the lease (key `leader` in the KV bucket `bw_lease`, whose TTL is the
lease), publishes a result per command to the events stream; the others are hot standbys. A
leader renews its lease every third of the TTL; a standby tries to take it every 0.25 s, so a dead
leader is replaced within about one TTL.

Taking over: the new leader looks up the last result in the events stream and publishes the ones
after it from the results it kept while standing by (results carry `Nats-Msg-Id: res:<seq>`, so a
result the old leader had published after all is dropped by the stream, never stored twice).

Snapshot marks (every `--snapshot-every` commands): each replica hashes its state; the first to
reach the mark stores the hash under `s<seq>` in `bw_hash`, the others compare theirs with it. A
mismatch means non-determinism: it is logged, published on `bw.alert.<id>` and counted in the
replica's status (the tests fail on it). The leader also stores the snapshot in the object store,
so a new replica starts from it and consumes only the tail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import time
from collections import OrderedDict, deque
from pathlib import Path
from typing import Any

from offchain.cluster import log as L
from offchain.cluster.replica import Replica

log = logging.getLogger("offchain.cluster.engine")
KEEP_RESULTS = 50_000  # results a standby keeps for a takeover (well beyond one lease of traffic)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log", required=True, help="NATS servers: nats://h1:4222,nats://h2:4222,...")
    parser.add_argument("--role", choices=["auto", "standby"], default="auto", help="auto: may lead")
    parser.add_argument("--id", default=f"engine-{os.getpid()}", help="replica id (default engine-PID)")
    parser.add_argument("--replicas", type=int, default=3, help="stream and bucket replicas (3)")
    parser.add_argument("--genesis", type=Path, help="scenario commands published once to an empty log")
    parser.add_argument("--snapshot-every", type=int, default=10_000, help="commands between marks")
    parser.add_argument("--lease-s", type=float, default=L.DEFAULT_LEASE_S, help="leader lease TTL (2 s)")
    parser.add_argument("--tick-s", type=float, default=1.0, help="the leader's clock ticks (0: none)")
    parser.add_argument(
        "--no-snapshot", action="store_true", help="replay the whole log, not from a snapshot"
    )


def genesis_lines(path: Path) -> list[dict]:
    out = []
    for no, line in enumerate(path.read_text().splitlines(), 1):
        text = line.strip()
        if text and not text.startswith("#"):
            d = json.loads(text)
            if not isinstance(d, dict):
                raise ValueError(f"{path}:{no}: a command is a JSON object")
            out.append(d)
    return out


class EngineNode:
    def __init__(
        self,
        url: str,
        ident: str,
        *,
        role: str = "auto",
        replicas: int = 3,
        snapshot_every: int = 10_000,
        lease_s: float = L.DEFAULT_LEASE_S,
        tick_s: float = 1.0,
        genesis: list[dict] | None = None,
        from_snapshot: bool = True,
    ) -> None:
        self.url, self.id, self.role = url, ident, role
        self.replicas, self.snapshot_every, self.lease_s, self.tick_s = (
            replicas,
            snapshot_every,
            lease_s,
            tick_s,
        )
        self.genesis, self.from_snapshot = genesis or [], from_snapshot
        self.replica = Replica()
        self.leader = False
        self.promote = False  # the lease was won: the apply loop publishes the missing results first
        self.lease_rev = 0
        self.results: OrderedDict[int, bytes] = OrderedDict()
        self.checks = 0
        self.mismatches = 0
        self.started_seq = 0
        self.stopping = asyncio.Event()
        self.last_msg = time.monotonic()
        self.sub = None
        self.inbox: deque = deque()
        self.arrived = asyncio.Event()
        self._hash: tuple[str, int] = ("", -1)

    # -- start ----------------------------------------------------------------------------------
    async def start(self) -> None:
        self.nc = await L.connect(self.url, f"engine-{self.id}")
        self.js = self.nc.jetstream(timeout=5)
        await L.ensure(self.js, self.replicas, self.lease_s)
        self.kv_lease = await self.js.key_value(L.LEASE_BUCKET)
        self.kv_hash = await self.js.key_value(L.HASH_BUCKET)
        self.kv_state = await self.js.key_value(L.STATE_BUCKET)
        self.obj = await self.js.object_store(L.SNAP_BUCKET)
        if self.from_snapshot:
            await self._load_snapshot()
        self.started_seq = self.replica.seq
        if self.genesis:
            await self._publish_genesis()
        await self._subscribe()

    async def _load_snapshot(self) -> None:
        try:
            got = await self.obj.get(L.SNAP_NAME)
        except Exception:  # none yet
            return
        self.replica = Replica.restore(got.data)
        log.warning("%s: restored the snapshot at seq %d", self.id, self.replica.seq)

    async def _publish_genesis(self) -> None:
        info = await self.js.stream_info(L.CMD_STREAM)
        if info.state.last_seq:
            return  # the log has begun: the genesis is in it
        from nats.js.errors import APIError

        now = time.time_ns() // 1_000_000  # stamped like `serve` stamps its genesis: the wall clock
        for n, wire in enumerate(self.genesis, 1):
            rid = f"genesis:{n}"
            env = L.envelope({k: v for k, v in wire.items() if k not in ("t", "ts")}, now, rid)
            while True:  # line n is stored (by us or a twin) before line n+1 is published
                try:
                    await self.js.publish(L.cmd_subject(None), env, headers={"Nats-Msg-Id": rid})
                    break
                except APIError as exc:
                    if exc.err_code != 10158:  # "duplicate message id is in process": a twin's publish
                        raise
                    await asyncio.sleep(0.05)

    async def _subscribe(self) -> None:
        from nats.js.api import ConsumerConfig, DeliverPolicy

        if self.sub is not None:
            try:
                await self.sub.unsubscribe()
            except Exception:
                pass
        start = self.replica.seq + 1
        self.inbox.clear()
        inbox, arrived = self.inbox, self.arrived

        async def deliver(msg: Any) -> None:  # only queue: the apply loop drains in batches
            inbox.append(msg)
            arrived.set()

        self.sub = await self.js.subscribe(
            L.CMD_SUBJECTS,
            cb=deliver,
            stream=L.CMD_STREAM,
            ordered_consumer=True,
            idle_heartbeat=1.0,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            config=ConsumerConfig(opt_start_seq=start, deliver_policy=DeliverPolicy.BY_START_SEQUENCE),
            pending_msgs_limit=1_000_000,
            pending_bytes_limit=1 << 30,
        )
        self.last_msg = time.monotonic()

    # -- the apply loop -------------------------------------------------------------------------
    async def run(self) -> None:
        await self.start()
        tasks = [asyncio.create_task(self._status_loop()), asyncio.create_task(self._watchdog())]
        if self.role == "auto":
            tasks.append(asyncio.create_task(self._lease_loop()))
        if self.tick_s > 0:
            tasks.append(asyncio.create_task(self._tick_loop()))
        print(f"engine {self.id} ready at seq {self.replica.seq}", flush=True)
        try:
            await self._apply_loop()
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._resign()
            try:
                await self.nc.close()
            except Exception:
                pass

    async def _apply_loop(self) -> None:
        inbox = self.inbox
        while not self.stopping.is_set():
            if self.promote:
                await self._take_over()
            if not inbox:
                try:
                    await asyncio.wait_for(self.arrived.wait(), 0.05)
                except TimeoutError:
                    continue
                self.arrived.clear()
                continue
            batch = list(inbox)
            inbox.clear()
            self.last_msg = time.monotonic()
            for i, msg in enumerate(batch):
                if i & 255 == 255:
                    await asyncio.sleep(0)  # a long catch-up batch must not starve the lease renewal
                seq = msg.metadata.sequence.stream
                if seq <= self.replica.seq:
                    continue  # redelivered after a consumer reset
                if seq != self.replica.seq + 1:
                    log.warning("%s: gap at %d (applied %d): resubscribing", self.id, seq, self.replica.seq)
                    await self._subscribe()
                    break
                result = self.replica.apply(seq, msg.data)
                data = json.dumps(result, separators=(",", ":")).encode()
                if self.leader:
                    await self._publish_result(seq, data)
                else:
                    self.results[seq] = data
                    if len(self.results) > KEEP_RESULTS:
                        self.results.popitem(last=False)
                if seq % self.snapshot_every == 0:
                    await self._mark(seq)

    async def _publish_result(self, seq: int, data: bytes) -> None:
        fut = await self.js.publish_async(L.res_subject(seq), data, headers={"Nats-Msg-Id": f"res:{seq}"})
        fut.add_done_callback(_ignore)

    async def _take_over(self) -> None:
        """Publish every result after the last one in the events stream, then lead."""
        self.promote = False
        last = await self._last_published()
        missing = [s for s in self.results if s > last]
        for s in missing:
            await self._publish_result(s, self.results[s])
        self.results.clear()
        self.leader = True
        await self._publish_markets()
        log.warning(
            "%s: leading at seq %d (published %d missing results)", self.id, self.replica.seq, len(missing)
        )
        print(f"engine {self.id} leads at seq {self.replica.seq}", flush=True)

    async def _last_published(self) -> int:
        info = await self.js.stream_info(L.EVT_STREAM)
        seq = info.state.last_seq
        while seq and seq >= info.state.first_seq:
            try:
                msg = await self.js.get_msg(L.EVT_STREAM, seq)
            except Exception:
                seq -= 1
                continue
            if msg.subject.startswith("bw.res."):
                return int(msg.subject.rsplit(".", 1)[1])
            seq -= 1
        return 0

    async def _mark(self, seq: int) -> None:
        replica = self.replica
        replica.prune()
        if self.leader:
            data, digest = replica.snapshot()
            try:
                await self.obj.put(L.SNAP_NAME, data)
            except Exception:
                log.exception("%s: storing the snapshot at %d failed", self.id, seq)
        else:
            digest = replica.state_hash()
        self.checks += 1
        key = f"s{seq}"
        try:
            await self.kv_hash.create(key, digest.encode())
            return
        except Exception:
            pass
        try:
            theirs = (await self.kv_hash.get(key)).value.decode()
        except Exception:
            return
        if theirs != digest:
            self.mismatches += 1
            alert = {
                "replica": self.id,
                "seq": seq,
                "hash": digest,
                "expected": theirs,
                "kind": "state_hash_mismatch",
            }
            log.error("NON-DETERMINISM: %s", alert)
            try:
                await self.js.publish(f"bw.alert.{self.id}", json.dumps(alert).encode())
            except Exception:
                log.exception("publishing the alert failed")

    # -- lease, ticks and status ----------------------------------------------------------------
    async def _lease_loop(self) -> None:
        renew = self.lease_s / 3
        while True:
            try:
                if self.leader or self.promote:
                    self.lease_rev = await self.kv_lease.update(
                        L.LEASE_KEY, self.id.encode(), last=self.lease_rev
                    )
                    await asyncio.sleep(renew)
                    continue
                try:
                    self.lease_rev = await self.kv_lease.create(L.LEASE_KEY, self.id.encode())
                except Exception:
                    await asyncio.sleep(0.25)
                    continue
                self.promote = True
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.leader or self.promote:
                    log.error("%s: lost the lease (%s): standing by", self.id, exc)
                    self.leader = self.promote = False
                await asyncio.sleep(0.25)

    async def _resign(self) -> None:
        if self.leader and self.lease_rev:
            try:
                await self.kv_lease.delete(L.LEASE_KEY, last=self.lease_rev)
            except Exception:
                pass
        self.leader = False

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            if not self.leader:
                continue
            try:
                ts = time.time_ns() // 1_000_000
                await self.js.publish(L.cmd_subject(None), L.envelope({"cmd": "tick"}, ts))
            except asyncio.CancelledError:
                raise
            except Exception:
                pass

    async def _publish_markets(self) -> None:
        from offchain.api.views import market_view

        engine = self.replica.engine
        view = [market_view(engine, m) for m in engine.markets.values()]
        await self.kv_state.put("markets", json.dumps(view).encode())

    def status(self) -> dict[str, Any]:
        # the full state hash only when idle (it serialises the whole state): `hash_seq` says which
        # sequence it is of; at snapshot marks the hash is compared whatever the load
        idle = not self.inbox and time.monotonic() - self.last_msg > 0.3
        if idle and self._hash[1] != self.replica.seq:
            self._hash = (self.replica.state_hash(), self.replica.seq)
        return {
            "id": self.id,
            "leader": self.leader,
            "seq": self.replica.seq,
            "started_seq": self.started_seq,
            "checks": self.checks,
            "mismatches": self.mismatches,
            "hash": self._hash[0],
            "hash_seq": self._hash[1],
            "ts": time.time(),
        }

    async def _status_loop(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            try:
                await self.kv_state.put(f"replica.{self.id}", json.dumps(self.status()).encode())
                if self.leader:
                    await self._publish_markets()
            except asyncio.CancelledError:
                raise
            except Exception:
                pass

    async def _watchdog(self) -> None:
        """Resubscribe when the stream is ahead but nothing arrived for 2 s (the consumer's node died)."""
        while True:
            await asyncio.sleep(1.0)
            if time.monotonic() - self.last_msg < 2.0:
                continue
            try:
                info = await self.js.stream_info(L.CMD_STREAM)
                if info.state.last_seq > self.replica.seq:
                    log.warning(
                        "%s: stalled at %d of %d: resubscribing",
                        self.id,
                        self.replica.seq,
                        info.state.last_seq,
                    )
                    await self._subscribe()
            except asyncio.CancelledError:
                raise
            except Exception:
                pass


def _ignore(fut: asyncio.Future) -> None:
    if not fut.cancelled():
        fut.exception()


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    node = EngineNode(
        args.log,
        args.id,
        role=args.role,
        replicas=args.replicas,
        snapshot_every=args.snapshot_every,
        lease_s=args.lease_s,
        tick_s=args.tick_s,
        genesis=genesis_lines(args.genesis) if args.genesis else None,
        from_snapshot=not args.no_snapshot,
    )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, node.stopping.set)
        await node.run()

    asyncio.run(main())
    return 0


if __name__ == "__main__":
    sys.exit(0)
