"""Order entry over /ws: signed orders, cancels and batches answered on the same connection, with the
REST routes' checks (signature, nonce, expiry) and codes, and nothing answered before it is durable."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal

from api_venue import DOMAIN, IMPOSTOR, MARKET_MAKER, SYMBOL, TRADER

from offchain.api.signing import sign

_nonces = itertools.count(int(time.time() * 1000) + 7_000_000)


def order(wallet, side: str, price: str, qty: str, client_id: str, *, account: str | None = None) -> dict:
    msg = {
        "account": account or wallet.address,
        "symbol": SYMBOL,
        "side": side,
        "type": "limit",
        "price": price,
        "qty": qty,
        "tif": "GTC",
        "client_id": client_id,
        "post_only": False,
        "reduce_only": False,
        "stp": "cancel_maker",
        "nonce": next(_nonces),
        "expiry": int(time.time()) + 600,
    }
    return {"order": msg, "signature": sign(DOMAIN, "Order", msg, wallet.key)}


def answers(ws, n: int) -> dict:
    """Read until `n` order-entry answers came; return them by id (other channels are skipped)."""
    out = {}
    while len(out) < n:
        message = ws.receive_json()
        if message["channel"] == "orders":
            out[message["data"]["id"]] = message
    return out


def test_orders_placed_over_the_websocket_are_answered_on_it_and_journaled(http, service):
    seq = service.runner.seq
    with http.websocket_connect("/ws?channels=orders") as ws:
        for i in range(5):
            ws.send_json(
                {"op": "order", "id": f"q{i}", **order(MARKET_MAKER, "buy", f"0.99{80 + i}", "100", f"w{i}")}
            )
        got = answers(ws, 5)
    assert sorted(got) == [f"q{i}" for i in range(5)]
    for i in range(5):
        data = got[f"q{i}"]["data"]
        assert got[f"q{i}"]["type"] == "result" and data["ok"] and data["status"] == "open"
        assert data["client_id"] == f"w{i}" and data["oid"] > 0
    assert service.runner.seq == seq + 5  # every answered order is in the journal
    bids = http.get(f"/book/{SYMBOL}").json()["bids"]
    assert sorted(Decimal(price) for price, _ in bids) == [Decimal(f"0.99{80 + i}") for i in range(5)]


def test_refusals_carry_the_rest_codes_and_change_nothing(http, service):
    placed = order(TRADER, "buy", "0.9985", "10", "t-1")
    forged = order(IMPOSTOR, "sell", "0.9000", "500", "forged", account=TRADER.address)
    broke = order(TRADER, "buy", "0.9985", "100000000", "too-big")
    with http.websocket_connect("/ws?channels=orders") as ws:
        ws.send_json({"op": "order", "id": "ok", **placed})
        assert answers(ws, 1)["ok"]["data"]["ok"]
        before = (service.runner.seq, service.runner.state_hash())
        ws.send_json({"op": "order", "id": "again", **placed})
        ws.send_json({"op": "order", "id": "forged", **forged})
        ws.send_json({"op": "order", "id": "shape", "order": {"account": TRADER.address}, "signature": "0x"})
        got = answers(ws, 3)
        assert (service.runner.seq, service.runner.state_hash()) == before
        ws.send_json({"op": "order", "id": "broke", **broke})
        got |= answers(ws, 1)
    codes = {rid: (m["type"], m["data"]["ok"], m["data"]["code"]) for rid, m in got.items()}
    assert codes == {
        "again": ("error", False, "nonce_reused"),
        "forged": ("error", False, "bad_signature"),
        "shape": ("error", False, "bad_request"),
        "broke": ("error", False, "insufficient_balance"),
    }
    assert "atoms" not in got["broke"]["data"]["message"]


def test_a_batch_and_a_cancel_over_the_websocket(http, market_maker):
    items = [
        {k: v for k, v in order(MARKET_MAKER, "sell", f"0.99{95 + i}", "100", f"wb{i}")["order"].items()}
        for i in range(3)
    ]
    for it in items:
        for k in ("account", "nonce", "expiry"):
            it.pop(k)
    batch = {
        "account": MARKET_MAKER.address,
        "orders": items,
        "nonce": next(_nonces),
        "expiry": int(time.time()) + 600,
    }
    with http.websocket_connect("/ws?channels=orders") as ws:
        ws.send_json(
            {
                "op": "order_batch",
                "id": "b",
                "batch": batch,
                "signature": sign(DOMAIN, "OrderBatch", batch, MARKET_MAKER.key),
            }
        )
        results = answers(ws, 1)["b"]["data"]["results"]
        assert [r["ok"] for r in results] == [True, True, True]
        cancel = {
            "account": MARKET_MAKER.address,
            "oid": results[0]["oid"],
            "client_id": "",
            "nonce": next(_nonces),
            "expiry": int(time.time()) + 600,
        }
        ws.send_json(
            {
                "op": "cancel",
                "id": "c",
                "cancel": cancel,
                "signature": sign(DOMAIN, "Cancel", cancel, MARKET_MAKER.key),
            }
        )
        done = answers(ws, 1)["c"]["data"]
    assert done["ok"] and done["oid"] == results[0]["oid"] and done["cancelled_qty"] == "100"
    assert sorted(o["client_id"] for o in market_maker.open_orders()) == ["wb1", "wb2"]


def test_streams_and_order_entry_share_a_connection(http):
    with http.websocket_connect("/ws?channels=trades") as ws:
        ws.send_json({"op": "order", "id": "s", **order(MARKET_MAKER, "sell", "0.9995", "100", "maker")})
        assert answers(ws, 1)["s"]["data"]["ok"]
        ws.send_json({"op": "order", "id": "t", **order(TRADER, "buy", "0.9995", "100", "taker")})
        seen = {"orders": None, "trades": None}
        while None in seen.values():
            message = ws.receive_json()
            if message["channel"] in seen:
                seen[message["channel"]] = message
    assert seen["orders"]["data"]["status"] == "filled"
    assert seen["trades"]["type"] in ("trade", "trades")
