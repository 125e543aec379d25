"""The state machine every engine replica runs: the log's commands in, one result per command out.

Deterministic and free of I/O: the same commands in the same order give the same state and the
same results on every replica, which `state_hash` checks at every snapshot mark.

A command's time is `max(its publisher's clock, the engine's time)`, decided here from the log
alone, so gateways with clocks a little apart never make the engine see time go backwards.

At most once: a command whose request id (`account:nonce`, a deposit's `ref`) was executed before
is not applied again; its result names the sequence that executed it (`dup`). The stream's
duplicate window catches most second publishes; this check catches the rest (a retry after the
window, two gateways racing across a leader change). Ids of signed requests are forgotten once
their signed expiry has passed (their signature no longer verifies); the others are kept.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from offchain.cluster.core_port import (
    CommandFormatError,
    Engine,
    build_engine,
    event_to_dict,
    parse_command,
    restore_engine,
)

SNAPSHOT_FORMAT = 1


class Replica:
    def __init__(self, engine: Engine | None = None, seq: int = 0, done: dict | None = None) -> None:
        self.engine = engine or build_engine()
        self.seq = seq  # the last applied stream sequence
        self.done: dict[str, list[int]] = dict(done or {})  # request id -> [seq, expiry_s (0: keep)]

    def apply(self, seq: int, data: bytes) -> dict:
        """Apply the command at stream sequence `seq`; return its result (JSON-able)."""
        if seq <= self.seq:
            raise ValueError(f"sequence {seq} already applied (at {self.seq})")
        self.seq = seq
        try:
            env = json.loads(data)
            wire = dict(env["w"])
            sent_ts = int(env.get("ts", 0))
            req_id = str(env.get("id", ""))
            expiry = int(env.get("exp", 0))
        except (ValueError, KeyError, TypeError) as exc:
            return {"seq": seq, "error": "bad_envelope", "message": str(exc)}
        if req_id:
            first = self.done.get(req_id)
            if first is not None:
                return {"seq": seq, "id": req_id, "dup": first[0]}
        engine = self.engine
        ts = max(sent_ts, engine.now)
        wire.pop("t", None)
        wire["ts"] = ts
        try:
            cmd = parse_command(wire, engine)
        except CommandFormatError as exc:
            result = {"seq": seq, "id": req_id, "ts": ts, "error": "bad_request", "message": str(exc)}
        else:
            events = engine.apply(cmd)
            result = {"seq": seq, "id": req_id, "ts": ts, "events": [event_to_dict(e) for e in events]}
        if req_id:
            self.done[req_id] = [seq, expiry]
        return result

    def prune(self) -> None:
        """Forget signed request ids whose expiry has passed by the engine's clock (at marks only)."""
        now_s = self.engine.now // 1000
        self.done = {k: v for k, v in self.done.items() if not v[1] or v[1] >= now_s}

    # -- snapshot and hash -----------------------------------------------------------------------
    def state_bytes(self) -> bytes:
        return self.engine.snapshot()

    def state_hash(self, engine_state: bytes | None = None) -> str:
        """sha256 over the engine's canonical state, the sequence and the remembered request ids."""
        h = hashlib.sha256(engine_state if engine_state is not None else self.state_bytes())
        h.update(json.dumps([self.seq, sorted(self.done.items())], separators=(",", ":")).encode())
        return h.hexdigest()

    def snapshot(self) -> tuple[bytes, str]:
        """(the snapshot's bytes, the state hash it restores to)."""
        state = self.state_bytes()
        digest = self.state_hash(state)
        doc = {
            "format": SNAPSHOT_FORMAT,
            "seq": self.seq,
            "hash": digest,
            "done": self.done,
            "engine": base64.b64encode(state).decode(),
        }
        return json.dumps(doc, separators=(",", ":")).encode(), digest

    @classmethod
    def restore(cls, data: bytes) -> Replica:
        doc = json.loads(data)
        if doc.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"snapshot format {doc.get('format')} is not {SNAPSHOT_FORMAT}")
        replica = cls(restore_engine(base64.b64decode(doc["engine"])), doc["seq"], doc["done"])
        if replica.state_hash() != doc["hash"]:
            raise ValueError("snapshot does not restore to its own hash")
        return replica


def result_status(result: dict) -> dict[str, Any]:
    """The order-entry answer of one order's result: oid, status, or the rejection."""
    if "error" in result:
        return {"ok": False, "code": result["error"], "message": result.get("message", "")}
    events = result.get("events", [])
    for e in events:
        if e["event"] == "rejected":
            return {"ok": False, "code": e["code"], "message": e["message"]}
    accepted = next((e for e in events if e["event"] == "accepted"), None)
    if accepted is None:
        return {"ok": True, "status": "done"}
    oid = accepted["oid"]
    traded = sum(
        e["qty"] for e in events if e["event"] == "trade" and oid in (e["maker_oid"], e["taker_oid"])
    )
    closed = any(e["event"] == "cancelled" and e["oid"] == oid for e in events)
    if not closed and traded < accepted["qty"]:
        status = "open"
    else:
        status = "filled" if traded else "cancelled"
    return {"ok": True, "oid": oid, "status": status}
