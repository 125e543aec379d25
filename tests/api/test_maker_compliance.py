"""Issue 20 (seed 001): an operator designates a market maker through `/ops/makers` (operator-signed
`MakerDesignation`; anyone else is refused `not_operator`), and the maker reads its own compliance at
`GET /accounts/{account}/maker` with its signed read session (a stranger cannot)."""

from __future__ import annotations

import itertools
import time

import pytest
from api_venue import (
    DOMAIN,
    GENEROUS,
    GENESIS,
    IMPOSTOR,
    MARKET_MAKER,
    SYMBOL,
    TRADER,
    Clock,
    TestClient,
    submit,
)
from eth_account import Account

from offchain.api.app import create_app
from offchain.api.signing import sign
from offchain.chain.dlp import DlpDesk
from offchain.core.config import EngineConfig
from offchain.service import ExchangeService
from offchain.settings import DaemonSettings
from offchain.store.journaled import JournaledEngine

OPERATOR = Account.from_key("0x" + "44" * 32)
NONCES = itertools.count(1)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def service(tmp_path, clock):
    engine = JournaledEngine.open(f"sqlite:///{tmp_path / 'journal.db'}", config=EngineConfig(makers=True))
    svc = ExchangeService(engine, clock_ms=clock)
    for wire in GENESIS:
        submit(svc, **wire)
    yield svc
    svc.runner.close()


@pytest.fixture
def http(service):
    desk = DlpDesk(service, DaemonSettings(operators=[OPERATOR.address], dlp_min_bond={"USDC": "1000"}))
    app = create_app(service, domain=DOMAIN, rate_limit=GENEROUS, static_dir=None, dlp_desk=desk)
    with TestClient(app) as client:
        yield client
    app.state.close()
    app.state.nonces.close()


def designate(http, key, participant: str, **fields):
    message = {
        "account": key.address,
        "participant": participant,
        "symbol": SYMBOL,
        "designated": True,
        "min_notional": "1000",
        "levels": 5,
        "max_spread": "0.003",
        "share": "0.9",
        "period": 60,
        **fields,
        "nonce": next(NONCES),
        "expiry": int(time.time()) + 600,
    }
    signature = sign(DOMAIN, "MakerDesignation", message, key.key)
    return http.post("/ops/makers", json={"designation": message, "signature": signature})


def session(key, account: str) -> dict:
    expiry = int(time.time()) + 600
    message = {"account": account, "nonce": 7, "expiry": expiry}
    return {"Authorization": f"Bearer {account}.7.{expiry}.{sign(DOMAIN, 'ReadSession', message, key)}"}


def ladder(service) -> None:
    for i in range(1, 6):
        for side, price in (("buy", 0.9990 - 0.001 * i), ("sell", 0.9990 + 0.001 * i)):
            events = submit(service, cmd="order", account=MARKET_MAKER.address, symbol=SYMBOL, side=side,
                            qty="2000", price=f"{price:.4f}")  # fmt: skip
            assert not [e for e in events if e.EVENT == "rejected"], events


def test_an_operator_designates_a_maker_that_reads_its_own_compliance(http, service, clock):
    refused = designate(http, IMPOSTOR, IMPOSTOR.address)
    assert refused.status_code == 403 and refused.json()["code"] == "not_operator"
    bad = designate(http, OPERATOR, MARKET_MAKER.address, period=10)
    assert bad.status_code == 400 and bad.json()["code"] == "bad_param"

    ladder(service)
    done = designate(http, OPERATOR, MARKET_MAKER.address)
    assert done.status_code == 200, done.text
    assert "maker" in done.json()["events"] and "dlp" in done.json()["events"]  # a maker is a DLP

    path = f"/accounts/{MARKET_MAKER.address}/maker"
    assert http.get(path).status_code == 401
    assert http.get(path, headers=session(TRADER.key, TRADER.address)).status_code == 403
    mine = http.get(path, headers=session(MARKET_MAKER.key, MARKET_MAKER.address))
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["designated"] is True
    (market,) = body["markets"]
    assert market["symbol"] == SYMBOL and market["quoting"] is True
    assert market["obligation"] == {"min_notional": "1000", "levels": 5, "max_spread": "0.003", "share": "0.9",
                                    "period_s": 60}  # fmt: skip

    clock.advance(61_000)  # the period ends; the next command closes it
    submit(service, cmd="tick")
    (market,) = http.get(path, headers=session(MARKET_MAKER.key, MARKET_MAKER.address)).json()["markets"]
    assert market["history"] and market["history"][-1]["compliant"] is True
    assert market["history"][-1]["share"] == "1"


def test_a_trader_that_is_no_maker_reads_an_empty_program(http):
    body = http.get(f"/accounts/{TRADER.address}/maker", headers=session(TRADER.key, TRADER.address)).json()
    assert body == {"account": TRADER.address, "designated": False, "markets": []}
