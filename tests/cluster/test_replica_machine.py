"""The replica state machine without NATS: at-most-once by request id, the log's clock, snapshots."""

from __future__ import annotations

import json

from conftest import GENESIS

from offchain.cluster.log import envelope
from offchain.cluster.replica import Replica, result_status


def genesis_replica() -> Replica:
    r = Replica()
    for n, line in enumerate(
        x for x in GENESIS.read_text().splitlines() if x.strip() and not x.startswith("#")
    ):
        r.apply(n + 1, envelope(json.loads(line), 0, f"genesis:{n + 1}"))
    return r


def order(r: Replica, cid: str) -> dict:
    acct = sorted(r.engine.accounts.by_name)[0]
    sym = next(iter(r.engine.markets))
    return {"cmd": "order", "account": acct, "symbol": sym, "side": "buy", "type": "limit", "qty": "10",
            "price": "0.999", "id": cid, "api": True}  # fmt: skip


def test_a_request_id_executes_once_even_past_the_stream_window():
    r = genesis_replica()
    seq = r.seq
    first = r.apply(seq + 1, envelope(order(r, "a"), 1000, "0xabc:7", 4_000_000_000))
    # the same request published again after the stream forgot its Nats-Msg-Id
    again = r.apply(seq + 2, envelope(order(r, "a"), 1000, "0xabc:7", 4_000_000_000))
    assert result_status(first)["ok"] and again == {"seq": seq + 2, "id": "0xabc:7", "dup": seq + 1}
    assert len(r.engine.open_orders(sorted(r.engine.accounts.by_name)[0])) == 1


def test_time_never_goes_backwards_whichever_gateway_stamped_it():
    r = genesis_replica()
    s = r.seq
    a = r.apply(s + 1, envelope(order(r, "a"), 5000, "x:1"))
    b = r.apply(s + 2, envelope(order(r, "b"), 4000, "x:2"))  # a gateway whose clock is behind
    assert a["ts"] == b["ts"] == 5000 and result_status(b)["ok"]


def test_a_malformed_command_is_a_result_not_a_crash():
    r = genesis_replica()
    s = r.seq
    bad = r.apply(s + 1, b"not json")
    assert bad["error"] == "bad_envelope"
    odd = r.apply(s + 2, envelope({"cmd": "order", "nonsense": 1}, 0, "y:1"))
    assert odd["error"] == "bad_request" and r.seq == s + 2


def test_snapshot_restores_to_the_same_hash_and_continues_identically():
    r = genesis_replica()
    for i in range(20):
        r.apply(r.seq + 1, envelope(order(r, f"o{i}"), 10 * i, f"z:{i}", 4_000_000_000))
    data, digest = r.snapshot()
    twin = Replica.restore(data)
    assert twin.state_hash() == digest == r.state_hash()
    for rep in (r, twin):
        rep.apply(rep.seq + 1, envelope(order(rep, "next"), 999, "z:next"))
    assert twin.state_hash() == r.state_hash()


def test_expired_request_ids_are_forgotten_at_marks():
    r = genesis_replica()
    r.apply(r.seq + 1, envelope(order(r, "a"), 10_000_000, "x:1", 5))  # expired at 5 s
    r.prune()
    assert "x:1" not in r.done and "genesis:1" in r.done
