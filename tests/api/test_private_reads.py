"""Issue 14.8: an account's data is private. A stranger reading another address's balances, orders,
withdrawals or WebSocket account channel is refused (401 without a session, 403 with someone else's);
the owner with a valid signed read session gets its data; expired, forged, foreign-domain and
malformed sessions fail with a reason. Market data stays public."""

from __future__ import annotations

import time

import pytest
from api_venue import DOMAIN, IMPOSTOR, SYMBOL, TRADER
from eth_account import Account

from offchain.api.client import ApiError, Client
from offchain.api.signing import Domain, sign

PRIVATE_PATHS = (
    f"/accounts/{TRADER.address}",
    f"/orders?account={TRADER.address}",
    f"/withdrawals?account={TRADER.address}",
)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def session_token(key, account: str, expiry: int, nonce: int = 7, domain: Domain = DOMAIN) -> str:
    message = {"account": account, "nonce": nonce, "expiry": expiry}
    return f"{account}.{nonce}.{expiry}.{sign(domain, 'ReadSession', message, key)}"


@pytest.fixture
def trader_busy(market_maker, trader):
    """The trader has an open order and a withdrawal: there is something private to read."""
    trader.place_order(SYMBOL, "buy", "10", "0.9980", client_id="secret-bid")
    trader.withdraw("USDC", "5")
    return trader


@pytest.mark.parametrize("path", PRIVATE_PATHS)
def test_a_stranger_without_a_session_cannot_read_an_account(http, trader_busy, path):
    response = http.get(path)
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthenticated"
    assert "read session" in response.json()["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "secret-bid" not in response.text and "balances" not in response.text


@pytest.mark.parametrize("path", PRIVATE_PATHS)
def test_a_stranger_with_its_own_session_cannot_read_another_account(http, trader_busy, impostor, path):
    response = http.get(path, headers=impostor.auth_headers())
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["code"] == "not_owner"
    assert IMPOSTOR.address in body["message"] and TRADER.address in body["message"]
    assert "secret-bid" not in response.text


def test_the_client_refuses_another_address_for_a_stranger(trader_busy, impostor):
    for read in (impostor.account, impostor.open_orders, impostor.withdrawals):
        with pytest.raises(ApiError) as refused:
            read(TRADER.address)
        assert (refused.value.status, refused.value.code) == (403, "not_owner")


def test_the_owner_with_a_valid_session_reads_its_data(http, trader_busy):
    account = trader_busy.account()
    assert account["balances"]["USDC"]["balance"] == "99995"  # 100000 deposited, 5 withdrawn
    assert [o["client_id"] for o in trader_busy.open_orders()] == ["secret-bid"]
    assert [w["amount"] for w in trader_busy.withdrawals()] == ["5"]
    # without `account=`, a private list is the session's own
    headers = trader_busy.auth_headers()
    assert [o["client_id"] for o in http.get("/orders", headers=headers).json()] == ["secret-bid"]
    assert len(http.get("/withdrawals", headers=headers).json()) == 1
    me = http.get("/session", headers=headers).json()
    assert me["account"] == TRADER.address and me["expiry"] > time.time()


@pytest.mark.parametrize("path", PRIVATE_PATHS)
def test_an_expired_session_is_refused(http, trader_busy, path):
    token = session_token(TRADER.key, TRADER.address, int(time.time()) - 5)
    response = http.get(path, headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] == "expired"
    assert "sign a new one" in response.json()["message"]


def test_a_session_expires_on_the_servers_clock(http, trader_busy, clock):
    token = session_token(TRADER.key, TRADER.address, int(time.time()) + 600)
    assert http.get(f"/accounts/{TRADER.address}", headers=bearer(token)).status_code == 200
    clock.advance(601_000)
    response = http.get(f"/accounts/{TRADER.address}", headers=bearer(token))
    assert (response.status_code, response.json()["code"]) == (401, "expired")


@pytest.mark.parametrize("path", PRIVATE_PATHS)
def test_a_session_signed_by_another_key_is_refused(http, trader_busy, path):
    forged = session_token(IMPOSTOR.key, TRADER.address, int(time.time()) + 600)  # names the trader
    response = http.get(path, headers=bearer(forged))
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "bad_signature" and "another key" in body["message"]


def test_a_session_for_another_exchange_or_chain_is_refused(http, trader_busy):
    elsewhere = Domain(chain_id=1, verifying_contract=DOMAIN.verifying_contract)
    token = session_token(TRADER.key, TRADER.address, int(time.time()) + 600, domain=elsewhere)
    response = http.get(f"/accounts/{TRADER.address}", headers=bearer(token))
    assert (response.status_code, response.json()["code"]) == (401, "bad_signature")


def test_a_tampered_session_is_refused(http, trader_busy):
    token = session_token(TRADER.key, TRADER.address, int(time.time()) + 600)
    account, nonce, expiry, signature = token.split(".")
    longer = f"{account}.{nonce}.{int(expiry) + 3600}.{signature}"  # the holder stretches its life
    assert http.get(f"/accounts/{TRADER.address}", headers=bearer(longer)).status_code == 401


@pytest.mark.parametrize(
    "token", ["nonsense", "0x1234.1.2.0x56", f"{TRADER.address}.1.2", f"{TRADER.address}.x.y.0x" + "ab" * 65]
)
def test_a_malformed_session_is_refused_in_plain_words(http, token):
    response = http.get(f"/accounts/{TRADER.address}", headers=bearer(token))
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "bad_signature" and "does not parse" in body["message"]


def test_a_session_may_last_at_most_a_day(http):
    token = session_token(TRADER.key, TRADER.address, int(time.time()) + 2 * 86_400)
    response = http.get(f"/accounts/{TRADER.address}", headers=bearer(token))
    assert (response.status_code, response.json()["code"]) == (400, "expiry_too_far")


def test_market_data_stays_public(http, trader_busy):
    for path in ("/markets", f"/book/{SYMBOL}", "/trades", "/status", "/eip712"):
        assert http.get(path).status_code == 200, path
    assert "ReadSession" in http.get("/eip712").json()["types"]


# -- the WebSocket account channel ------------------------------------------------------------------


def receive_until(ws, predicate, seen: list | None = None, limit: int = 500) -> dict:
    for _ in range(limit):
        message = ws.receive_json()
        if seen is not None:
            seen.append(message)
        if predicate(message):
            return message
    raise AssertionError("message not received")


def trade_through(market_maker, trader) -> None:
    market_maker.place_order(SYMBOL, "sell", "10", "0.9995")
    trader.place_order(SYMBOL, "buy", "10", "0.9995", tif="IOC")


def settle(ws, seen: list) -> None:
    """Wait until everything the server sent before a ping has arrived."""
    ws.send_json({"op": "ping"})
    receive_until(ws, lambda m: m["type"] == "pong", seen=seen)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "unauthenticated"),
        ("&session={impostor}", "not_owner"),
        ("&session={forged}", "bad_signature"),
        ("&session={expired}", "expired"),
    ],
)
def test_a_stranger_cannot_listen_to_another_accounts_channel(
    http, market_maker, trader, impostor, query, code
):
    tokens = {
        "impostor": impostor.session(),
        "forged": session_token(IMPOSTOR.key, TRADER.address, int(time.time()) + 600),
        "expired": session_token(TRADER.key, TRADER.address, int(time.time()) - 1),
    }
    seen: list = []
    url = f"/ws?channels=trades,account:{TRADER.address}" + query.format(**tokens)
    with http.websocket_connect(url) as ws:
        error = receive_until(ws, lambda m: m["channel"] == "error", seen=seen)
        assert error["type"] == code and error["data"]["status"] in (401, 403)
        trade_through(market_maker, trader)
        receive_until(ws, lambda m: m["channel"] == "trades", seen=seen)  # public data flows
        settle(ws, seen)
    assert not [m for m in seen if m["channel"].startswith("account:")]


def test_a_subscribe_message_needs_the_owners_session(http, market_maker, trader, impostor):
    seen: list = []
    with http.websocket_connect("/ws?channels=trades") as ws:
        ws.send_json({"op": "subscribe", "channels": [f"account:{TRADER.address}"]})
        assert receive_until(ws, lambda m: m["channel"] == "error", seen=seen)["type"] == "unauthenticated"
        ws.send_json(
            {"op": "subscribe", "channels": [f"account:{TRADER.address}"], "session": impostor.session()}
        )
        assert receive_until(ws, lambda m: m["channel"] == "error", seen=seen)["type"] == "not_owner"
        trade_through(market_maker, trader)
        settle(ws, seen)
        assert not [m for m in seen if m["channel"].startswith("account:")]
        ws.send_json(
            {
                "op": "subscribe",
                "channels": ["account"],
                "account": TRADER.address,
                "session": trader.session(),
            }
        )
        subscribed = receive_until(ws, lambda m: m["type"] == "subscribed")
        assert f"account:{TRADER.address}" in subscribed["data"]
        trade_through(market_maker, trader)
        fill = receive_until(
            ws, lambda m: m["channel"] == f"account:{TRADER.address}" and m["type"] == "trade"
        )
        assert fill["data"]["role"] == "taker"


def test_the_owner_listens_until_its_session_expires(http, market_maker, trader):
    token = session_token(TRADER.key, TRADER.address, int(time.time()) + 3)
    seen: list = []
    with http.websocket_connect(f"/ws?channels=account:{TRADER.address}&session={token}") as ws:
        trade_through(market_maker, trader)
        # the session's timer always ends this wait: the owner's fill came first, then the expiry
        receive_until(ws, lambda m: m["channel"] == "error", seen=seen)
        assert seen[-1]["type"] == "expired"
        assert [m for m in seen if m["channel"] == f"account:{TRADER.address}" and m["type"] == "trade"]
        after: list = []
        trade_through(market_maker, trader)
        settle(ws, after)
    assert not [m for m in after if m["channel"].startswith("account:")]


def test_a_stranger_client_without_a_key_cannot_sign_a_session(http):
    with pytest.raises(ValueError):
        Client("http://testserver", domain=DOMAIN, http=http).account(TRADER.address)
    other = Client("http://testserver", Account.create().key, domain=DOMAIN, http=http)
    with pytest.raises(ApiError) as refused:
        other.account(TRADER.address)
    assert refused.value.status == 403


def test_the_documented_test_vector_holds(http):
    """docs/api.md gives this token for a browser implementation to check itself against."""
    from offchain.api.signing import Domain, digest

    domain = Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
    message = {"account": TRADER.address, "nonce": 1, "expiry": 1767225600}
    assert TRADER.address == "0x1563915e194D8CfBA1943570603F7606A3115508"
    assert digest(domain, "ReadSession", message).hex() == (
        "ab64fdbf7e2ec4250599bee75f6b4399c12560ca6c4e4477de5939787caa8230"
    )
    assert session_token(TRADER.key, TRADER.address, 1767225600, nonce=1, domain=domain) == (
        "0x1563915e194D8CfBA1943570603F7606A3115508.1.1767225600.0x7b4c544798d5c41a46cfdc68ab81689fe9cfd8"
        "beeccc79628403b6be168f38113c183518f11cfe4de699bedbc645256c04ad13c3b54a4fb8291b2cc37b3f92e31c"
    )
