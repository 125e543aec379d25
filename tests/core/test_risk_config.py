"""Risk parameters through the engine: bad sets are refused with a reason and change nothing."""

from __future__ import annotations

import pytest
from risk_venue import PERP, SPOT, USDC, listed, px

from offchain.core.messages.events import Rejected
from offchain.core.messages.risk import RiskConfigured


def refused(v, cmd: str, **fields) -> Rejected:
    before = v.engine.state_hash()
    events = v.do(cmd, **fields)
    assert len(events) == 1 and isinstance(events[0], Rejected), events
    assert v.engine.state_hash() == before
    return events[0]


def test_own_token_listed_as_collateral_is_refused():
    v = listed()
    v.ok("risk_params", own_token="BWT")
    rejection = refused(v, "asset", symbol="BWT", decimals=18, collateral_weight="0.5")
    assert rejection.code == "own_token_collateral"
    assert "FTX" in rejection.message
    v.ok("asset", symbol="BWT", decimals=18, collateral_weight="0")
    assert refused(v, "risk_asset", symbol="BWT", collateral_weight="0.1").code == "own_token_collateral"
    assert refused(v, "risk_asset", symbol="BWT", own_token=False).code == "own_token_collateral"


def test_marking_a_listed_collateral_asset_as_own_token_is_refused():
    v = listed()
    assert refused(v, "risk_asset", symbol="USDE", own_token=True).code == "own_token_collateral"
    assert refused(v, "risk_params", own_token="USDE").code == "own_token_collateral"
    v.ok("risk_asset", symbol="USDE", own_token=True, collateral_weight="0")
    assert v.module.valuation().assets["USDE"].weight_ppm == 0


def test_own_token_balance_adds_nothing_to_account_value():
    v = listed()
    v.ok("risk_params", own_token="BWT")
    v.ok("asset", symbol="BWT", decimals=18, collateral_weight="0")
    v.ok("market", symbol="BWT-USDC", kind="spot", base="BWT", quote="USDC", tick="0.01", lot="1")
    v.ok("index", symbol="BWT-USDC", source="venue", price="25")
    v.ok("deposit", account="insider", asset="BWT", amount="1000000")
    assert v.health("insider").equity == 0
    assert refused(
        v, "order", account="insider", symbol=PERP, side="buy", type="limit", price="60000", qty="0.1"
    ).code == ("insufficient_margin")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"rate_base": "-0.01"}, "negative_rate"),
        ({"rate_slope2": "-1"}, "negative_rate"),
        ({"rate_kink": "1"}, "bad_param"),
        ({"rate_slope2": "50"}, "bad_param"),
        ({"collateral_weight": "1.2"}, "bad_param"),
        ({"borrow_imr": "0.01", "borrow_mmr": "0.02"}, "bad_param"),
        ({"taper": [["100", "0.99"], [None, "0.5"]]}, "bad_param"),
    ],
)
def test_bad_asset_parameters_are_refused_with_a_reason(fields, code):
    v = listed()
    rejection = refused(v, "risk_asset", symbol="USDE", **fields)
    assert rejection.code == code
    assert rejection.message


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"band": "0.9"}, "insane_band"),
        ({"impact": "0.6"}, "insane_band"),
        ({"premium_band": "0.2"}, "insane_band"),
        ({"max_deviation": "0.5"}, "insane_band"),
        ({"max_leverage": 100}, "leverage_too_high"),
        ({"tiers": [[None, "0.01", "0.005"]]}, "leverage_too_high"),
        ({"funding_cap": "0.5"}, "bad_param"),
        ({"funding_interest": "-0.0001"}, "negative_rate"),
        ({"ewma_window": "0"}, "bad_param"),
    ],
)
def test_bad_market_parameters_are_refused_with_a_reason(fields, code):
    v = listed()
    assert refused(v, "risk_market", symbol=PERP, **fields).code == code


def test_insane_band_on_listing_and_a_perp_not_settled_in_usdc_are_refused():
    v = listed()
    bad_band = dict(kind="spot", base="USDE", quote="USDC", tick="0.0001", lot="1", band="0.9")
    assert refused(v, "market", symbol="USDE-USDC-2", **bad_band).code == "insane_band"
    v.ok("asset", symbol="WETH", decimals=18, collateral_weight="0.9")
    perp = dict(kind="perp", base="WETH", quote="USDE", tick="0.01", lot="0.01")
    assert refused(v, "market", symbol="ETH-USDE-PERP", **perp).code == "bad_market"


def test_engine_parameters_are_checked():
    v = listed()
    assert refused(v, "risk_params", collateral_mark_source="oracle").code == "bad_param"
    assert refused(v, "risk_params", liquidation_fee="-0.01").code == "negative_rate"
    assert refused(v, "risk_params", settle_interval="0").code == "bad_param"
    events = v.ok("risk_params", liquidation_buffer="0.1", settle_interval="5")
    assert isinstance(events[0], RiskConfigured)
    assert v.module.config.liquidation.buffer_ppm == 100_000
    assert v.module.config.settle_interval_ms == 5_000


def test_index_source_weight_and_age_shape_the_index():
    v = listed()
    v.ok("index_source", symbol=SPOT, source="curve", weight=3, max_age="30")
    v.ok("index", symbol=SPOT, source="curve", price="0.9990")
    v.ok("index", symbol=SPOT, source="venue", price="0.9800")
    v.ok("index", symbol=SPOT, source="other", price="0.9700")
    assert v.engine.markets[SPOT].index_price == px("0.9990")  # curve holds 3 of the 5 weights
    v.ok("tick", dt_ms=29_000)
    v.ok("index", symbol=SPOT, source="venue", price="0.9800")
    v.ok("index", symbol=SPOT, source="other", price="0.9700")
    assert v.engine.markets[SPOT].index_price == px("0.9750")  # curve is stale: two equal weights left
    assert refused(v, "index_source", symbol=SPOT, source="curve", weight=-1).code == "bad_param"


def test_negative_equity_account_cannot_withdraw():
    v = listed("local")
    v.ok("deposit", account="lender", asset="USDC", amount="100000")
    v.ok("deposit", account="holder", asset="USDE", amount="1000")
    v.ok("margin", account="holder")
    v.ok("withdraw", account="holder", asset="USDC", amount="800")
    v.ok("halt", symbol=SPOT)  # nothing can be liquidated while the market is halted
    v.module.markets[SPOT].pricing.local = 500_000  # the naive valuation sees the book at 0.50
    v.module.invalidate()
    assert v.health("holder").equity < 0
    assert refused(v, "withdraw", account="holder", asset="USDE", amount="1").code == "negative_equity"
    assert v.balance("holder", "USDC") == -800 * USDC
