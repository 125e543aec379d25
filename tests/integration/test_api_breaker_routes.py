"""The API routes of the live breaker issue (16): signed amend, the per-asset lend choice, and the
operator's designations of liquidity providers (operator-only, with criteria)."""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

import pytest
from eth_account import Account

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from api_venue import (  # noqa: E402
    DOMAIN,
    GENEROUS,
    GENESIS,
    IMPOSTOR,
    MARKET_MAKER,
    SYMBOL,
    TRADER,
    Clock,
    TestClient,
    open_service,
    submit,
)

from offchain.api.app import create_app  # noqa: E402
from offchain.api.client import Client  # noqa: E402
from offchain.api.signing import sign  # noqa: E402
from offchain.chain.dlp import DlpDesk  # noqa: E402
from offchain.settings import DaemonSettings  # noqa: E402

OPERATOR = Account.from_key("0x" + "44" * 32)
NONCES = itertools.count(1)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def service(tmp_path, clock):
    svc = open_service(tmp_path / "journal.db", clock)
    for wire in GENESIS:
        submit(svc, **wire)
    yield svc
    svc.runner.close()


@pytest.fixture
def desk(service):
    settings = DaemonSettings(operators=[OPERATOR.address], dlp_min_bond={"USDC": "1000"})
    return DlpDesk(service, settings)


@pytest.fixture
def http(service, desk):
    app = create_app(service, domain=DOMAIN, rate_limit=GENEROUS, static_dir=None, dlp_desk=desk)
    with TestClient(app) as client:
        yield client
    app.state.close()
    app.state.nonces.close()


def signed(key, primary: str, now_s: float | None = None, **message) -> tuple[dict, str]:
    expiry = int(time.time() if now_s is None else now_s) + 600
    message = {"account": key.address, **message, "nonce": next(NONCES), "expiry": expiry}
    return message, sign(DOMAIN, primary, message, key.key)


def amend(http, key, oid: int, **change):
    msg, sig = signed(
        key, "Amend", oid=oid, client_id="", price=change.get("price", ""), qty=change.get("qty", "")
    )
    return http.patch(f"/orders/{oid}", json={"amend": msg, "signature": sig})


def queue(service, price: int) -> list[int]:
    book = service.engine.markets[SYMBOL].book
    return [o.oid for o in book.orders_at(True, price)] if hasattr(book, "orders_at") else []


# -- amend ---------------------------------------------------------------------------------------


def test_amend_keeps_priority_on_a_size_decrease_and_loses_it_on_a_new_price(http, service):
    maker = Client("http://testserver", MARKET_MAKER.key, domain=DOMAIN, http=http)
    first = maker.place_order(SYMBOL, "buy", "100", price="0.9980", client_id="b1")["oid"]
    maker.place_order(SYMBOL, "buy", "100", price="0.9980", client_id="b2")

    smaller = amend(http, MARKET_MAKER, first, qty="60")
    assert smaller.status_code == 200, smaller.text
    assert smaller.json()["kept_priority"] is True and smaller.json()["qty"] == "60"

    repriced = amend(http, MARKET_MAKER, first, price="0.9981")
    assert repriced.json()["kept_priority"] is False
    assert repriced.json()["order"]["price"] == "0.9981"

    back = amend(http, MARKET_MAKER, first, price="0.9980", qty="60")
    assert back.json()["kept_priority"] is False  # behind b2 now
    # a seller hits 100 at 0.9980: b2 (first in the queue now) fills, b1 does not
    trader = Client("http://testserver", TRADER.key, domain=DOMAIN, http=http)
    trader.place_order(SYMBOL, "sell", "100", price="0.9980", client_id="s1", tif="IOC")
    open_ids = {o["client_id"]: o for o in maker.open_orders()}
    assert "b2" not in open_ids and open_ids["b1"]["qty"] in ("60", "60.0")


def test_amend_is_refused_for_another_accounts_order_and_without_a_change(http):
    maker = Client("http://testserver", MARKET_MAKER.key, domain=DOMAIN, http=http)
    oid = maker.place_order(SYMBOL, "buy", "10", price="0.9970", client_id="x")["oid"]
    stolen = amend(http, IMPOSTOR, oid, price="0.5")
    assert stolen.status_code == 403 and stolen.json()["code"] == "not_owner"
    nothing = amend(http, MARKET_MAKER, oid)
    assert nothing.status_code == 422


def test_amend_during_a_halt_reprices_without_trading_for_authorised_participants_only(http, service):
    maker = Client("http://testserver", MARKET_MAKER.key, domain=DOMAIN, http=http)
    oid = maker.place_order(SYMBOL, "buy", "10", price="0.9970", client_id="h")["oid"]
    trader = Client("http://testserver", TRADER.key, domain=DOMAIN, http=http)
    other = trader.place_order(SYMBOL, "sell", "10", price="0.9990", client_id="ask")["oid"]
    submit(service, cmd="authorise", account=MARKET_MAKER.address)
    submit(service, cmd="halt", symbol=SYMBOL)
    refused = amend(http, TRADER, other, price="0.9991")  # not a DLP nor authorised: waits (seed 004)
    assert refused.status_code == 400 and refused.json()["code"] == "halted_dlp_only"
    crossed = amend(http, MARKET_MAKER, oid, price="0.9995")
    assert crossed.status_code == 200, crossed.text
    assert not [e for e in crossed.json()["events"] if e.get("event") == "trade"]
    assert crossed.json()["order"]["price"] == "0.9995"


# -- lending as a choice ---------------------------------------------------------------------------


def set_lend(http, key, asset: str, enabled: bool, now_s: float | None = None):
    msg, sig = signed(key, "Lend", now_s, asset=asset, enabled=enabled)
    return http.post(f"/accounts/{key.address}/lending", json={"lend": msg, "signature": sig})


def test_lend_is_on_by_default_shown_and_off_stops_interest_and_leaves_the_pool(http, service, clock):
    reader = Client("http://testserver", TRADER.key, domain=DOMAIN, http=http)
    view = http.get(f"/accounts/{TRADER.address}/lending", headers=reader.auth_headers()).json()
    assert view["default"] is True
    assert view["assets"]["USDC"]["enabled"] is True
    assert view["assets"]["USDC"]["supplied"] == "100000"

    off = set_lend(http, TRADER, "USDC", False)
    assert off.status_code == 200, off.text
    assert off.json()["assets"]["USDC"]["enabled"] is False
    assert off.json()["assets"]["USDC"]["supplied"] == "0"
    assert off.json()["assets"]["USDC"]["not_lent"] == "100000"
    assert reader.account()["lend"] == {"USDC": False, "USDE": True}
    risk = next(m for m in service.engine.modules if m.name == "risk")
    assert risk.pool_totals("USDC")[0] == 10_001_000 * 10**6  # the maker's and the impostor's only

    # a borrower pays interest: the market maker earns, the trader who opted out does not
    submit(service, cmd="deposit", account=IMPOSTOR.address, asset="USDE", amount="500000")
    submit(service, cmd="margin", account=IMPOSTOR.address)
    submit(service, cmd="withdraw", account=IMPOSTOR.address, asset="USDC", amount="300000")
    trader_before = service.engine.balance(TRADER.address, "USDC")
    maker_before = service.engine.balance(MARKET_MAKER.address, "USDC")
    for _ in range(3):
        clock.advance(3_600_000)
        submit(service, cmd="tick")
    assert service.engine.balance(TRADER.address, "USDC") == trader_before
    assert service.engine.balance(MARKET_MAKER.address, "USDC") > maker_before

    back_on = set_lend(http, TRADER, "USDC", True, clock() / 1000)
    assert back_on.json()["assets"]["USDC"]["enabled"] is True
    assert back_on.json()["assets"]["USDC"]["supplied"] == "100000"
    forged, sig = signed(IMPOSTOR, "Lend", clock() / 1000, asset="USDC", enabled=False)
    refused = http.post(f"/accounts/{TRADER.address}/lending", json={"lend": forged, "signature": sig})
    assert refused.status_code == 422  # the path names another account


# -- designations --------------------------------------------------------------------------------


def designate(http, key, participant: str, **fields):
    msg, sig = signed(
        key,
        "Designation",
        participant=participant,
        role=fields.get("role", "dlp"),
        designated=fields.get("designated", True),
        bond_asset=fields.get("bond_asset", "USDC"),
        bond=fields.get("bond", "5000"),
    )
    return http.post("/ops/designations", json={"designation": msg, "signature": sig})


def test_only_an_operator_designates_and_a_dlp_must_hold_its_bond(http, service):
    impostor = designate(http, IMPOSTOR, IMPOSTOR.address)
    assert impostor.status_code == 403 and impostor.json()["code"] == "not_operator"

    poor = designate(http, OPERATOR, IMPOSTOR.address, bond="1001")  # it holds 1,000 USDC
    assert poor.status_code == 400 and poor.json()["code"] == "bond_not_held"
    too_small = designate(http, OPERATOR, TRADER.address, bond="10")
    assert too_small.json()["code"] == "bond_too_small"
    not_held = designate(http, OPERATOR, TRADER.address, bond="200000")
    assert not_held.json()["code"] == "bond_not_held"

    ok = designate(http, OPERATOR, TRADER.address, bond="50000")
    assert ok.status_code == 200, ok.text
    assert ok.json()["bond"] == str(50_000 * 10**6)
    breaker = next(m for m in service.engine.modules if m.name == "breaker")
    assert TRADER.address in breaker.dlps
    listed = http.get("/ops/designations").json()
    assert f"dlp:{TRADER.address}" in listed["designations"]

    revoked = designate(http, OPERATOR, TRADER.address, designated=False)
    assert revoked.status_code == 200 and TRADER.address not in breaker.dlps


# -- fail safe, on /status --------------------------------------------------------------------------


def test_losing_every_index_source_halts_the_market_and_status_says_what_it_waits_for(http, service, clock):
    assert http.get("/status").json()["markets"][SYMBOL]["state"] == "continuous"
    clock.advance(61_000)  # the only index source is older than its 60 s limit: no index
    submit(service, cmd="tick")
    status = http.get("/status").json()["markets"][SYMBOL]
    breaker = status["breaker"]
    assert breaker["state"] == "halted" and breaker["reason"] == "index_lost"
    assert breaker["waiting_for"][:2] == ["halt_window", "cvd_ppm:unmeasurable"]
    clock.advance(24 * 3_600_000)  # long after the halt window: still no index, still halted
    submit(service, cmd="tick")
    later = http.get("/status").json()["markets"][SYMBOL]["breaker"]
    assert later["state"] == "halted" and "cvd_ppm:unmeasurable" in later["waiting_for"]
