"""Batches: up to 100 orders (or cancels) under one EIP-712 signature, one nonce, one group commit.

A batch is refused as a whole when its signature, expiry, nonce or size is wrong (nothing journaled);
one bad item is refused by itself with its reason while the rest are processed."""

from __future__ import annotations

import itertools
import time

from api_venue import DOMAIN, IMPOSTOR, MARKET_MAKER, SYMBOL, TRADER, open_service

from offchain.api.signing import sign

_nonces = itertools.count(int(time.time() * 1000))


def item(side: str, price: str, qty: str, client_id: str, **options) -> dict:
    return {
        "symbol": SYMBOL,
        "side": side,
        "type": "limit",
        "price": price,
        "qty": qty,
        "tif": options.get("tif", "GTC"),
        "client_id": client_id,
        "post_only": False,
        "reduce_only": False,
        "stp": "cancel_maker",
    }


def order_batch(wallet, orders: list[dict], *, account: str | None = None, nonce: int | None = None) -> dict:
    message = {
        "account": account or wallet.address,
        "orders": orders,
        "nonce": next(_nonces) if nonce is None else nonce,
        "expiry": int(time.time()) + 600,
    }
    return {"batch": message, "signature": sign(DOMAIN, "OrderBatch", message, wallet.key)}


def cancel_batch(wallet, cancels: list[dict]) -> dict:
    message = {
        "account": wallet.address,
        "cancels": cancels,
        "nonce": next(_nonces),
        "expiry": int(time.time()) + 600,
    }
    return {"batch": message, "signature": sign(DOMAIN, "CancelBatch", message, wallet.key)}


def journal(service) -> tuple[int, str]:
    return service.runner.seq, service.runner.state_hash()


def test_a_batch_places_every_order_with_its_own_result_in_one_commit(http, service):
    orders = [item("buy", f"0.99{80 + i}", "100", f"b-{i}") for i in range(5)]
    seq = service.runner.seq
    response = http.post("/orders/batch", json=order_batch(MARKET_MAKER, orders))
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["client_id"] for r in results] == [f"b-{i}" for i in range(5)]
    assert all(r["ok"] and r["status"] == "open" and r["oid"] > 0 for r in results)
    assert service.runner.seq == seq + 5
    assert service.group_sizes[-1] == 5  # one durable commit for the five orders and the nonce
    bids = http.get(f"/book/{SYMBOL}").json()["bids"]
    assert len(bids) == 5


def test_one_bad_order_is_refused_by_itself_and_the_rest_are_placed(http, market_maker):
    orders = [
        item("buy", "0.9985", "100", "ok-1"),
        item("buy", "0.99855", "100", "off-tick"),  # not on the 0.0001 tick
        item("sell", "0.9995", "1000000000", "too-big"),  # more USDE than the account holds
        {**item("buy", "0.9985", "100", "no-market"), "symbol": "NOPE-USDC"},
        item("sell", "0.9995", "100", "ok-2"),
    ]
    results = http.post("/orders/batch", json=order_batch(MARKET_MAKER, orders)).json()["results"]
    by_id = {r["client_id"]: r for r in results}
    assert by_id["ok-1"]["ok"] and by_id["ok-2"]["ok"]
    assert (by_id["off-tick"]["ok"], by_id["off-tick"]["code"]) == (False, "bad_tick")
    assert (by_id["too-big"]["ok"], by_id["too-big"]["code"]) == (False, "insufficient_balance")
    assert by_id["no-market"]["ok"] is False and by_id["no-market"]["code"] in (
        "unknown_market",
        "bad_request",
    )
    assert all(r["message"] for r in results if not r["ok"])
    assert "atoms" not in by_id["too-big"]["message"]  # worded in decimal units, like a single order
    open_ids = {o["client_id"] for o in market_maker.open_orders()}
    assert open_ids == {"ok-1", "ok-2"}


def test_a_crossing_batch_reports_fills(http, market_maker):
    market_maker.place_order(SYMBOL, "sell", "100", "0.9995", client_id="ask")
    orders = [
        item("buy", "0.9995", "100", "take", tif="IOC"),
        item("buy", "0.9995", "100", "miss", tif="IOC"),
    ]
    results = http.post("/orders/batch", json=order_batch(TRADER, orders)).json()["results"]
    assert [(r["client_id"], r["status"]) for r in results] == [("take", "filled"), ("miss", "cancelled")]


def test_more_than_100_orders_are_refused_before_anything_is_journaled(http, service):
    orders = [item("buy", "0.9980", "1", f"x-{i}") for i in range(101)]
    before = journal(service)
    response = http.post("/orders/batch", json=order_batch(MARKET_MAKER, orders))
    assert response.status_code == 400
    assert response.json()["code"] == "batch_too_large"
    assert journal(service) == before


def test_an_empty_batch_is_a_bad_request(http, service):
    before = journal(service)
    response = http.post("/orders/batch", json=order_batch(MARKET_MAKER, []))
    assert (response.status_code, response.json()["code"]) == (422, "bad_request")
    assert journal(service) == before


def test_a_replayed_batch_is_refused_and_executes_once(http, service):
    body = order_batch(MARKET_MAKER, [item("buy", "0.9980", "10", "once")])
    assert http.post("/orders/batch", json=body).status_code == 200
    before = journal(service)
    again = http.post("/orders/batch", json=body)
    assert (again.status_code, again.json()["code"]) == (409, "nonce_reused")
    assert journal(service) == before


def test_a_batch_for_another_account_is_a_bad_signature(http, service):
    body = order_batch(IMPOSTOR, [item("sell", "0.9000", "100", "dump")], account=TRADER.address)
    before = journal(service)
    response = http.post("/orders/batch", json=body)
    assert (response.status_code, response.json()["code"]) == (401, "bad_signature")
    assert journal(service) == before


def test_a_changed_batch_no_longer_matches_its_signature(http, service):
    body = order_batch(TRADER, [item("buy", "0.9980", "10", "a"), item("buy", "0.9981", "10", "b")])
    body["batch"]["orders"][1]["qty"] = "100000"
    before = journal(service)
    assert http.post("/orders/batch", json=body).json()["code"] == "bad_signature"
    assert journal(service) == before


def test_a_batch_nonce_is_refused_after_a_restart(http, service, journal_path, clock):
    body = order_batch(MARKET_MAKER, [item("buy", "0.9980", "10", "durable")])
    assert http.post("/orders/batch", json=body).status_code == 200
    from api_venue import GENEROUS, TestClient

    from offchain.api.app import create_app

    again = open_service(journal_path, clock)
    app = create_app(again, domain=DOMAIN, rate_limit=GENEROUS, static_dir=None)
    try:
        with TestClient(app) as client:
            response = client.post("/orders/batch", json=body)
        assert (response.status_code, response.json()["code"]) == (409, "nonce_reused")
    finally:
        app.state.close()
        again.runner.close()


def test_a_cancel_batch_cancels_each_with_its_own_result(http, market_maker, trader):
    a = market_maker.place_order(SYMBOL, "buy", "100", "0.9980", client_id="c-a")
    market_maker.place_order(SYMBOL, "buy", "100", "0.9981", client_id="c-b")
    theirs = trader.place_order(SYMBOL, "buy", "10", "0.9982", client_id="t-1")
    cancels = [
        {"oid": a["oid"], "client_id": ""},
        {"oid": 0, "client_id": "c-b"},
        {"oid": 0, "client_id": "never-placed"},
        {"oid": theirs["oid"], "client_id": ""},
        {"oid": a["oid"], "client_id": "c-a"},  # names both: refused by itself
    ]
    response = http.post("/orders/cancel-batch", json=cancel_batch(MARKET_MAKER, cancels))
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["ok"] for r in results] == [True, True, False, False, False]
    assert results[0]["oid"] == a["oid"] and results[0]["cancelled_qty"] == "100"
    assert results[1]["client_id"] == "c-b"
    assert results[2]["code"] == "unknown_order"
    assert results[3]["code"] == "not_owner"
    assert results[4]["code"] == "bad_request"
    assert market_maker.open_orders() == []
    assert [o["client_id"] for o in trader.open_orders()] == ["t-1"]


def test_single_cancels_and_withdrawals_keep_their_answers_through_group_commit(http, market_maker, service):
    placed = market_maker.place_order(SYMBOL, "buy", "100", "0.9980", client_id="g-1")
    sizes = len(service.group_sizes)
    done = market_maker.cancel(oid=placed["oid"])
    assert done["cancelled_qty"] == "100"
    paid = market_maker.withdraw("USDC", "5")
    assert paid["withdrawal"]["status"] == "requested" and paid["withdrawal"]["amount"] == "5"
    assert len(service.group_sizes) == sizes + 2  # both went through the sequencer's group commit
