"""The running exchange: one sequencer that every adapter (API, chain watcher, simulation) submits to.

The engine core is single-threaded and deterministic; this wrapper makes it safe to share. It owns
the journaled engine, stamps each command with the service clock under the sequencer lock (so time
never goes backwards whichever thread submits), fans the resulting events out to subscribers
(WebSocket streams, the chain poster), and keeps what the chain adapters last read (reserve ratios,
pool price, insurance fund, the latest proof-of-reserves epoch) for the API to serve.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from offchain.core.codec import event_to_dict
from offchain.store.journaled import JournaledEngine

Subscriber = Callable[[list[dict]], None]
MAX_ALERTS = 200


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

    def publish_por(self, epoch: dict[str, Any], proofs: Mapping[str, dict]) -> None:
        """Keep the latest attested epoch (root, totals, tx) and each account's salt + proof.

        `proofs` may be lazy (the chain poster cuts each proof from the tree when it is asked for).
        """
        with self.lock:
            self._por_epoch = dict(epoch)
            self._por_proofs = proofs
            self._publish([{"event": "por_epoch", "ts": self.clock_ms(), **epoch}])

    def por_epoch(self) -> dict[str, Any] | None:
        """The latest attested proof-of-reserves epoch, or None before the first attestation."""
        with self.lock:
            return dict(self._por_epoch) if self._por_epoch else None

    def por_proof(self, account: str) -> dict | None:
        """The account's salt and inclusion proof in the latest epoch (serve it only to the owner)."""
        with self.lock:
            return self._por_proofs.get(account) or self._por_proofs.get(account.lower())
