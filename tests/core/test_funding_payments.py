"""Funding: the capped rate and exactly zero-sum payments."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from risk_venue import BTC, PERP, listed

from offchain.core.messages.risk import FundingPaid
from offchain.core.risk.funding import FundingParams, PremiumAverage, funding_payments
from offchain.core.risk.params import PPM, ConfigError

USDC = 10**6


def test_rate_is_premium_plus_damped_interest_and_capped():
    params = FundingParams(interest_ppm=12, damper_ppm=62, cap_ppm=1_000)
    assert params.rate_ppm(0) == 12
    assert params.rate_ppm(300) == 300 - 62
    assert params.rate_ppm(40) == 40 + (12 - 40)
    assert params.rate_ppm(50_000) == 1_000
    assert params.rate_ppm(-50_000) == -1_000


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [("interest_ppm", -1, "negative_rate"), ("cap_ppm", 0, "bad_param"), ("cap_ppm", 500_000, "bad_param")],
)
def test_bad_funding_parameters_are_refused(field, value, code):
    with pytest.raises(ConfigError) as err:
        FundingParams(**{field: value}).validate()
    assert err.value.code == code


def test_premium_average_is_weighted_by_time():
    avg = PremiumAverage()
    avg.sample(0, 100)
    avg.sample(3_000, 400)  # 100 held for 3 s
    avg.sample(4_000, 0)  # 400 held for 1 s
    assert avg.take() == (100 * 3_000 + 400 * 1_000) // 4_000
    assert avg.duration_ms == 0


def test_longs_pay_shorts_when_the_rate_is_positive():
    positions = {"long_trader": 2 * BTC, "short_a": -BTC, "short_b": -BTC}
    deltas = funding_payments(positions, 60_000 * USDC, BTC, 100)  # 0.01 %
    assert deltas == {"long_trader": -12 * USDC, "short_a": 6 * USDC, "short_b": 6 * USDC}


def test_remainder_goes_to_the_largest_share_then_the_smallest_id():
    # the long owes floor(3 * 340e12 * 1 / 1e14) = 10 atoms; three equal shorts get 3 each + 1 left over
    positions = {"long_trader": 3, "short_c": -1, "short_b": -1, "short_a": -1}
    deltas = funding_payments(positions, 340 * 10**12, BTC, 1)
    assert deltas == {"long_trader": -10, "short_a": 4, "short_b": 3, "short_c": 3}
    # unequal shorts: 10 atoms over 2:1 -> 6.67 / 3.33 -> the larger remainder (short_big) gets the atom
    positions = {"long_trader": 3, "short_big": -2, "short_small": -1}
    deltas = funding_payments(positions, 340 * 10**12, BTC, 1)
    assert deltas == {"long_trader": -10, "short_big": 7, "short_small": 3}


positions_strategy = st.lists(st.integers(min_value=1, max_value=10**12), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(
    longs=positions_strategy,
    shorts=positions_strategy,
    mark=st.integers(min_value=1, max_value=10**12),
    rate=st.integers(min_value=-20_000, max_value=20_000),
)
def test_funding_is_exactly_zero_sum_and_no_payer_pays_more_than_owed(longs, shorts, mark, rate):
    # balance the book: total long == total short, as trades always create
    diff = sum(longs) - sum(shorts)
    if diff > 0:
        shorts = [*shorts, diff]
    elif diff < 0:
        longs = [*longs, -diff]
    qty = {f"long{i}": q for i, q in enumerate(longs)} | {f"short{i}": -q for i, q in enumerate(shorts)}
    deltas = funding_payments(qty, mark, BTC, rate)
    assert sum(deltas.values()) == 0
    for account, delta in deltas.items():
        exact = abs(qty[account]) * mark * abs(rate) / (BTC * PPM)
        paying = (qty[account] > 0) == (rate > 0)
        if paying:
            assert -delta <= exact
        else:
            assert delta >= 0


def test_perp_trading_above_the_index_makes_longs_pay_shorts_every_hour():
    v = listed()
    v.ok("risk_market", symbol=PERP, premium_band="0.005")
    for account in ("long_trader", "short_trader"):
        v.ok("deposit", account=account, asset="USDC", amount="100000")
    v.ok("order", account="short_trader", symbol=PERP, side="sell", type="limit", price="60300", qty="1")
    v.ok("order", account="long_trader", symbol=PERP, side="buy", type="limit", price="60300", qty="1")
    before = {a: v.balance(a, "USDC") for a in ("long_trader", "short_trader")}
    events = []
    for _ in range(61):  # the local price stays 0.5 % above the index for an hour
        v.ok("index", symbol=PERP, source="spot", price="60000", dt_ms=1)
        events += v.ok("tick", dt_ms=60_000 - 1)
    funding = [e for e in events if isinstance(e, FundingPaid)]
    assert funding and all(f.rate_ppm == 1_000 for f in funding)  # 0.5 % premium, capped at 0.1 %
    paid = sum(f.paid for f in funding)
    # PnL settles too, but it nets to zero between the two: what moved is the funding
    moved = {a: v.balance(a, "USDC") - before[a] for a in before}
    unsettled = {
        a: v.risk.position(a, PERP).upnl(v.module.valuation().market_mark[PERP], BTC) for a in before
    }
    total = {a: moved[a] + unsettled[a] for a in before}
    assert total["long_trader"] + total["short_trader"] == 0
    assert paid > 0 and total["short_trader"] > 0
