"""The running exchange: one sequencer that every adapter (API, chain watcher, simulation) submits to.

The engine core is single-threaded and deterministic; this wrapper makes it safe to share. It owns
the journaled engine, stamps each command with the service clock under the sequencer lock (so time
never goes backwards whichever thread submits), fans the resulting events out to subscribers
(WebSocket streams, the chain poster), and keeps what the chain adapters last read (reserve ratios,
pool price, insurance fund, the latest proof-of-reserves epoch) for the API to serve.

Group commit (`submit_group`). Signed orders do not each pay an fsync: a request hands its work to
the sequencer thread and waits on a future. The sequencer takes everything queued, and under the
lock stamps the commands, journals them *and* their nonce rows in one durable transaction, applies
them, publishes their events and builds each request's answer; then it completes the futures.
Requests that arrive while that commit is in flight queue up and share the next one. So a command
is durable before anyone sees its events, and a nonce is durable exactly when its command is.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from typing import Any

from offchain.core.messages.codec import event_to_dict
from offchain.store.journaled import JournaledEngine

Subscriber = Callable[[list[dict]], None]
MAX_ALERTS = 200
log = logging.getLogger(__name__)


@dataclasses.dataclass(slots=True)
class _Work:
    """One request's share of a group commit: its commands, its nonce row and how to answer."""

    builds: Sequence[Callable[[Any], Any]]  # each engine -> command (may raise: that item's result)
    nonce: tuple[str, str, int] | None
    finish: Callable[[Any, list], Any]  # (engine, [events | exception per build]) -> the answer
    future: Future


def wall_clock_ms() -> int:
    """Milliseconds since the epoch: the service clock (the core never reads a clock itself)."""
    return time.time_ns() // 1_000_000


class ExchangeService:
    """Serialise commands into the journaled engine and publish what happened."""

    def __init__(self, runner: JournaledEngine, clock_ms: Callable[[], int] = wall_clock_ms):
        self.runner = runner
        self.clock_ms = clock_ms
        self.lock = threading.RLock()
        self._subscribers: list[Subscriber] = []
        self._last_ts = 0
        self.chain_status: dict[str, Any] = {}
        self.alerts: deque[dict] = deque(maxlen=MAX_ALERTS)
        self._por_epoch: dict[str, Any] | None = None
        self._por_proofs: Mapping[str, dict] = {}
        self._por_register: dict | None = None
        self._queue: list[_Work] = []
        self._queued = threading.Condition(threading.Lock())
        self._sequencer: threading.Thread | None = None
        self.group_sizes: deque[int] = deque(maxlen=1024)  # commands per commit, for /metrics and bench

    @property
    def engine(self):
        """The engine, for reads. Hold `lock` while reading several things that must agree."""
        return self.runner.engine

    # -- the write path --------------------------------------------------------------------------
    def submit(self, cmd) -> list:
        """Stamp `cmd` with the service clock, journal it, apply it, publish and return its events."""
        with self.lock:
            ts = max(self.clock_ms(), self._last_ts, self.engine.now)
            if getattr(cmd, "ts", None) != ts:
                cmd = dataclasses.replace(cmd, ts=ts)
            events = self.runner.submit(cmd)
            self._last_ts = ts
            if events and self._subscribers:
                self._publish([event_to_dict(e) for e in events])
            return events

    def submit_group(
        self,
        builds: Sequence[Callable[[Any], Any]],
        finish: Callable[[Any, list], Any],
        nonce: tuple[str, str, int] | None = None,
    ) -> Future:
        """Queue commands for the next group commit; return a future of `finish(engine, results)`.

        `builds` turn the engine into fresh commands (parsing needs the markets; the sequencer stamps
        each with the group's time in place); one that raises gives
        that exception as its result and journals nothing. `nonce` is written in the same
        transaction as the commands. `finish` runs under the lock right after the commands were
        applied (so the views it builds are exact) and its value or exception completes the future.
        """
        work = _Work(builds, nonce, finish, Future())
        with self._queued:
            self._queue.append(work)
            if self._sequencer is None:
                self._sequencer = threading.Thread(target=self._sequence, name="sequencer", daemon=True)
                self._sequencer.start()
            self._queued.notify()
        return work.future

    def _sequence(self) -> None:
        while True:
            with self._queued:
                while not self._queue:
                    self._queued.wait()
            # Let the request threads (the event loop) run before the group is cut: requests
            # they have already read join this commit instead of paying for their own. Free when
            # nobody else wants the interpreter; at most one switch interval when they are busy.
            time.sleep(0)
            with self._queued:
                group, self._queue = self._queue, []
            try:
                self._commit(group)
            except BaseException as exc:  # the journal failed: nobody in the group is acknowledged
                log.exception("group commit of %d requests failed", len(group))
                for work in group:
                    if not work.future.done():
                        work.future.set_exception(exc)

    def _commit(self, group: list[_Work]) -> None:
        with self.lock:
            engine = self.engine
            ts = max(self.clock_ms(), self._last_ts, engine.now)
            cmds: list = []
            slots: list[list] = []  # per work: per build, an index into cmds or the exception
            for work in group:
                mine = []
                for build in work.builds:
                    try:
                        cmd = build(engine)
                        if cmd.ts != ts:  # a build returns a fresh command: stamp it in place
                            object.__setattr__(cmd, "ts", ts)
                    except Exception as exc:
                        mine.append(exc)
                        continue
                    mine.append(len(cmds))
                    cmds.append(cmd)
                slots.append(mine)
            nonces = [work.nonce for work in group if work.nonce is not None]
            results = self.runner.submit_many(cmds, nonces=nonces)
            self._last_ts = ts
            self.group_sizes.append(len(cmds))
            if self._subscribers:
                published = [event_to_dict(e) for events in results for e in events]
                if published:
                    self._publish(published)
            answers = []
            for work, mine in zip(group, slots, strict=True):
                per = [results[i] if isinstance(i, int) else i for i in mine]
                try:
                    answers.append((True, work.finish(engine, per)))
                except Exception as exc:
                    answers.append((False, exc))
        for work, (ok, value) in zip(group, answers, strict=True):
            if ok:
                work.future.set_result(value)
            else:
                work.future.set_exception(value)

    def read(self, fn: Callable[[Any], Any]) -> Any:
        """Run `fn(engine)` under the sequencer lock and return its result (a consistent view)."""
        with self.lock:
            return fn(self.engine)

    # -- fan-out ---------------------------------------------------------------------------------
    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Call `fn(event_dicts)` after every command (in sequence order); return an unsubscribe."""
        with self.lock:
            self._subscribers.append(fn)

        def unsubscribe() -> None:
            with self.lock:
                if fn in self._subscribers:
                    self._subscribers.remove(fn)

        return unsubscribe

    def _publish(self, event_dicts: list[dict]) -> None:
        # Subscribers run under the lock so that every subscriber sees one global order; they must
        # only enqueue (a slow subscriber would stall the sequencer).
        for fn in list(self._subscribers):
            fn(event_dicts)

    # -- what the chain adapters report ----------------------------------------------------------
    def update_chain_status(self, **fields: Any) -> None:
        """Merge chain readings (block, pool, reserves, attestation, insurance_fund, paused...)."""
        with self.lock:
            self.chain_status.update(fields)
            self._publish([{"event": "chain_status", "ts": self.clock_ms(), **fields}])

    def alert(self, kind: str, message: str, **data: Any) -> dict:
        """Record an early-warning alert and publish it."""
        entry = {"event": "alert", "ts": self.clock_ms(), "kind": kind, "message": message, **data}
        with self.lock:
            self.alerts.append(entry)
            self._publish([entry])
        return entry

    def publish_por(
        self, epoch: dict[str, Any], proofs: Mapping[str, dict], register: dict | None = None
    ) -> None:
        """Keep the latest attested epoch (root, totals, tx), each account's salt + proof, and the
        epoch's public debtors' register (`offchain.por.register`, JSON form).

        `proofs` may be lazy (the chain poster cuts each proof from the tree when it is asked for).
        """
        with self.lock:
            self._por_epoch = dict(epoch)
            self._por_proofs = proofs
            self._por_register = register
            self._publish([{"event": "por_epoch", "ts": self.clock_ms(), **epoch}])

    def por_register(self, epoch: int) -> dict | None:
        """The debtors' register of `epoch` if it is the latest attested one (public), else None."""
        with self.lock:
            if not self._por_epoch or self._por_epoch.get("epoch") != epoch:
                return None
            return self._por_register

    def por_epoch(self) -> dict[str, Any] | None:
        """The latest attested proof-of-reserves epoch, or None before the first attestation."""
        with self.lock:
            return dict(self._por_epoch) if self._por_epoch else None

    def por_proof(self, account: str) -> dict | None:
        """The account's salt and inclusion proof in the latest epoch (serve it only to the owner)."""
        with self.lock:
            return self._por_proofs.get(account) or self._por_proofs.get(account.lower())
