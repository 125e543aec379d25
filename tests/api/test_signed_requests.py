"""Signed writes: what the account's key signed is placed once; forgeries, replays, expired requests
and other accounts' orders and proofs are refused with their codes, and change nothing."""

from __future__ import annotations

import json
import time

import pytest
from api_venue import DOMAIN, GENEROUS, IMPOSTOR, MARKET_MAKER, SYMBOL, TRADER, TestClient, open_service
from eth_account import Account
from starlette.websockets import WebSocketDisconnect

from offchain.api.app import create_app
from offchain.api.client import ApiError, Client
from offchain.api.signing import sign
from offchain.por import build_account_tree


def refused(call, code: str, status: int) -> ApiError:
    with pytest.raises(ApiError) as err:
        call()
    assert (err.value.code, err.value.status) == (code, status), err.value
    return err.value


def unchanged(service):
    """Return a checker that the engine state and the journal did not move."""
    before = (service.runner.state_hash(), service.runner.seq)
    return lambda: (service.runner.state_hash(), service.runner.seq) == before


def test_an_order_signed_by_its_account_rests_in_the_book(market_maker, http):
    placed = market_maker.place_order(SYMBOL, "buy", "1000", "0.9985", client_id="mm-bid-1")
    assert placed["status"] == "open"
    assert placed["order"]["price"] == "0.9985" and placed["order"]["account"] == MARKET_MAKER.address
    assert http.get(f"/book/{SYMBOL}").json()["bids"] == [["0.9985", "1000"]]
    assert [o["client_id"] for o in market_maker.open_orders()] == ["mm-bid-1"]


def test_a_forged_signature_is_refused_as_bad_signature(impostor, http, service):
    # the impostor signs an order that claims to come from the trader's account
    body = impostor.signed_order(SYMBOL, "sell", "500", "0.9000")
    body["order"]["account"] = TRADER.address
    body["signature"] = sign(DOMAIN, "Order", body["order"], IMPOSTOR.key)
    same = unchanged(service)
    response = http.post("/orders", json=body)
    assert response.status_code == 401
    assert response.json()["code"] == "bad_signature"
    assert same()


def test_a_changed_order_no_longer_matches_its_signature(trader, http, service):
    body = trader.signed_order(SYMBOL, "buy", "10", "0.9985")
    body["order"]["qty"] = "10000"
    same = unchanged(service)
    assert http.post("/orders", json=body).json()["code"] == "bad_signature"
    assert same()


def test_a_replayed_order_is_refused_as_nonce_reused_and_placed_once(trader, http):
    body = trader.signed_order(SYMBOL, "buy", "10", "0.9980", client_id="once")
    assert http.post("/orders", json=body).status_code == 200
    trader.cancel(client_id="once")  # even with the client id free again, the signed order is spent
    again = http.post("/orders", json=body)
    assert (again.status_code, again.json()["code"]) == (409, "nonce_reused")
    assert trader.open_orders() == []


def test_a_used_nonce_stays_used_after_a_restart(trader, http, app, journal_path, clock):
    body = trader.signed_order(SYMBOL, "buy", "10", "0.9980", client_id="before-restart")
    assert http.post("/orders", json=body).status_code == 200
    app.state.service.runner.close()
    app.state.nonces.close()

    restarted = open_service(journal_path, clock)  # the journal and the nonce table, recovered
    try:
        assert restarted.engine.order_by_client_id(TRADER.address, "before-restart") is not None
        fresh_app = create_app(restarted, domain=DOMAIN, rate_limit=GENEROUS)
        with TestClient(fresh_app) as client:
            Client("http://testserver", TRADER.key, domain=DOMAIN, http=client).cancel(
                client_id="before-restart"
            )
            replay = client.post("/orders", json=body)
            assert (replay.status_code, replay.json()["code"]) == (409, "nonce_reused")
        fresh_app.state.close()
        fresh_app.state.nonces.close()
    finally:
        restarted.runner.close()


def test_an_expired_order_is_refused_as_expired(http, service):
    message = {
        "account": TRADER.address,
        "symbol": SYMBOL,
        "side": "buy",
        "type": "limit",
        "price": "0.9985",
        "qty": "10",
        "tif": "GTC",
        "client_id": "late",
        "post_only": False,
        "reduce_only": False,
        "stp": "cancel_maker",
        "nonce": 7,
        "expiry": int(time.time()) - 1,
    }
    same = unchanged(service)
    response = http.post(
        "/orders", json={"order": message, "signature": sign(DOMAIN, "Order", message, TRADER.key)}
    )
    assert (response.status_code, response.json()["code"]) == (401, "expired")
    assert same()


def test_an_order_valid_for_more_than_a_day_is_refused(trader, http):
    trader.expiry_s = 2 * 86_400
    body = trader.signed_order(SYMBOL, "buy", "10", "0.9985")
    assert http.post("/orders", json=body).json()["code"] == "expiry_too_far"


def test_an_order_signed_for_another_chain_is_refused(http):
    other = Client(
        "http://testserver", TRADER.key, domain=type(DOMAIN)(1, DOMAIN.verifying_contract), http=http
    )
    response = http.post("/orders", json=other.signed_order(SYMBOL, "buy", "10", "0.9985"))
    assert response.json()["code"] == "bad_signature"


def test_cancelling_another_accounts_order_is_refused_as_not_owner(market_maker, trader, http):
    placed = market_maker.place_order(SYMBOL, "sell", "1000", "0.9995")
    refused(lambda: trader.cancel(oid=placed["oid"]), "not_owner", 403)
    assert http.get(f"/book/{SYMBOL}").json()["asks"] == [["0.9995", "1000"]]
    cancelled = market_maker.cancel(oid=placed["oid"])
    assert cancelled["cancelled_qty"] == "1000"
    assert http.get(f"/book/{SYMBOL}").json()["asks"] == []


def test_a_cancel_by_client_id_reaches_only_the_signers_own_order(market_maker, trader):
    market_maker.place_order(SYMBOL, "buy", "5", "0.9900", client_id="shared-name")
    refused(lambda: trader.cancel(client_id="shared-name"), "unknown_order", 404)
    assert market_maker.cancel(client_id="shared-name")["client_id"] == "shared-name"


def test_a_cancel_signed_for_another_order_is_refused(market_maker, http):
    first = market_maker.place_order(SYMBOL, "buy", "5", "0.9900")
    second = market_maker.place_order(SYMBOL, "buy", "5", "0.9901")
    body = market_maker.signed_cancel(oid=first["oid"])
    response = http.request("DELETE", f"/orders/{second['oid']}", json=body)
    assert response.json()["code"] == "bad_request"
    assert len(market_maker.open_orders()) == 2


def test_the_engines_rejection_comes_back_with_its_code(trader):
    refused(lambda: trader.place_order(SYMBOL, "buy", "1000000", "0.9985"), "insufficient_balance", 400)
    refused(lambda: trader.place_order("BTC-USDC", "buy", "1", "1"), "unknown_market", 404)
    refused(lambda: trader.place_order(SYMBOL, "buy", "1", "0.99851"), "bad_tick", 400)
    refused(lambda: trader.place_order(SYMBOL, "buy", "1", "0.5"), "price_out_of_band", 400)


def test_a_crossing_order_trades_and_reports_its_fills(market_maker, trader, http):
    market_maker.place_order(SYMBOL, "sell", "1000", "0.9995")
    taken = trader.place_order(SYMBOL, "buy", "250", "0.9995", tif="IOC")
    assert taken["status"] == "filled"
    (trade,) = [e for e in taken["events"] if e["event"] == "trade"]
    assert (trade["price"], trade["qty"], trade["role"]) == ("0.9995", "250", "taker")
    # the answer tells the trader about its own side only: not the maker's name, orders or balances
    assert MARKET_MAKER.address not in json.dumps(taken)
    assert http.get("/trades").json()[0] == {
        "ts": trade["ts"],
        "tid": trade["tid"],
        "symbol": SYMBOL,
        "price": "0.9995",
        "qty": "250",
        "taker_side": "buy",
    }
    assert trader.account()["balances"]["USDE"]["balance"] == "2000250"


def test_floats_are_refused_as_amounts(trader, http):
    body = trader.signed_order(SYMBOL, "buy", "10", "0.9985")
    body["order"]["price"] = 0.9985
    response = http.post("/orders", json=body)
    assert (response.status_code, response.json()["code"]) == (422, "bad_request")
    with pytest.raises(TypeError):
        trader.signed_order(SYMBOL, "buy", 10.0, "0.9985")


def test_the_proof_is_given_only_to_its_owner(service, trader, impostor, http):
    tree = build_account_tree(
        3,
        ["0x" + "aa" * 20],
        [(TRADER.address, [100_000_000]), (IMPOSTOR.address, [1_000_000_000])],
        b"s" * 32,
    )
    proofs = {a: tree.proof_for(a).to_json() for a in (TRADER.address, IMPOSTOR.address)}
    service.publish_por({"epoch": 3, "root": "0x" + tree.root.hash.hex()}, proofs)

    own = trader.proof()
    assert own["epoch"]["epoch"] == 3
    assert own["proof"]["salt"] == proofs[TRADER.address]["salt"]
    # the impostor signs its own valid request for the trader's proof
    refused(lambda: impostor.proof(TRADER.address), "not_owner", 403)
    # or claims to be the trader with its own key
    message = {"account": TRADER.address, "nonce": 99, "expiry": int(time.time()) + 60}
    params = {**message, "signature": sign(DOMAIN, "ProofRequest", message, IMPOSTOR.key)}
    response = http.get(f"/por/proof/{TRADER.address}", params=params)
    assert (response.status_code, response.json()["code"]) == (401, "bad_signature")
    stranger = Client("http://testserver", Account.from_key("0x" + "44" * 32).key, domain=DOMAIN, http=http)
    refused(stranger.proof, "no_proof", 404)


def test_signed_requests_are_rate_limited_per_account(service, http):
    tight = create_app(
        service,
        domain=DOMAIN,
        rate_limit=type(GENEROUS)(ip_per_s=1000, ip_burst=1000, account_per_s=1, account_burst=3),
    )
    try:
        with TestClient(tight) as client:
            trader = Client("http://testserver", TRADER.key, domain=DOMAIN, http=client)
            other = Client("http://testserver", MARKET_MAKER.key, domain=DOMAIN, http=client)
            for i in range(3):
                trader.place_order(SYMBOL, "buy", "1", "0.9900", client_id=f"r{i}")
            err = refused(lambda: trader.place_order(SYMBOL, "buy", "1", "0.9900"), "rate_limited", 429)
            assert err.status == 429
            other.place_order(SYMBOL, "buy", "1", "0.9900")  # another account's budget is its own
            assert (
                "Retry-After"
                in client.post("/orders", json=trader.signed_order(SYMBOL, "buy", "1", "0.99")).headers
            )
    finally:
        tight.state.close()
        tight.state.nonces.close()


def test_requests_are_rate_limited_per_ip(service):
    tight = create_app(service, domain=DOMAIN, rate_limit=type(GENEROUS)(ip_per_s=1, ip_burst=5))
    try:
        with TestClient(tight) as client:
            codes = [client.get("/markets").status_code for _ in range(8)]
            assert codes[:5] == [200] * 5
            limited = client.get("/markets")
            assert (limited.status_code, limited.json()["code"]) == (429, "rate_limited")
            with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/ws"):
                pass
            assert closed.value.code == 1008
    finally:
        tight.state.close()
        tight.state.nonces.close()
