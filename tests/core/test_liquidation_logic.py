"""Liquidation decisions: bankruptcy price, least reduction, ADL order, liquidation price."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.core.risk.liquidation import (
    AdlCandidate,
    LiquidationParams,
    adl_rank,
    bankruptcy_price,
    liquidation_fee,
    liquidation_price,
    liquidation_prices,
    min_reduction,
    target_reached,
)
from offchain.core.risk.margin import AssetRisk, Health, MarketRisk, Valuation, account_health, default_tiers
from offchain.core.risk.params import PPM, ConfigError
from offchain.core.risk.perps import Position

USDC = 10**6
BTC = 10**8
E18 = 10**18


def valuation(mark: int = 60_000 * USDC) -> Valuation:
    return Valuation(
        assets={"USDC": AssetRisk("USDC", 6), "USDE": AssetRisk("USDE", 18, 950_000)},
        asset_price={"USDC": USDC, "USDE": 990_000},
        markets={
            "BTC-PERP": MarketRisk(default_tiers(50, USDC)),
            "ETH-PERP": MarketRisk(default_tiers(20, USDC)),
        },
        market_mark={"BTC-PERP": mark, "ETH-PERP": 3_000 * USDC},
        market_unit={"BTC-PERP": BTC, "ETH-PERP": E18},
        vol_mult_ppm={},
    )


@settings(max_examples=200, deadline=None)
@given(
    equity=st.integers(min_value=-(10**12), max_value=10**12),
    qty=st.integers(min_value=1, max_value=10**10).flatmap(lambda q: st.sampled_from([q, -q])),
    mark=st.integers(min_value=10**6, max_value=10**12),
)
def test_closing_at_the_bankruptcy_price_leaves_zero_equity_or_one_price_unit_more(equity, qty, mark):
    price = bankruptcy_price(equity, qty, mark, BTC)
    assert price >= 1
    if price > 1:  # 1 is the floor for an account so deep under water that no price zeroes it
        left = Fraction(equity) + Fraction(qty * (price - mark), BTC)
        assert 0 <= left < Fraction(abs(qty), BTC)  # never an artificial debt, less than one price unit


def test_min_reduction_finds_the_least_lot_multiple():
    assert min_reduction(100, 10, lambda d: d >= 37) == 40
    assert min_reduction(100, 10, lambda d: False) == 100
    assert min_reduction(100, 10, lambda d: True) == 0
    assert min_reduction(95, 10, lambda d: d >= 91) == 95


def test_target_needs_initial_plus_buffer():
    h = Health(equity=105, collateral=0, borrows=0, upnl=0, initial=100, maintenance=50)
    assert target_reached(h, 50_000)
    assert not target_reached(h, 60_000)
    assert not target_reached(Health(-1, 0, 0, 0, 0, 0), 0)


def test_fee_never_exceeds_the_equity_left():
    assert liquidation_fee(1_000_000, 5_000, 10**9) == 5_000
    assert liquidation_fee(1_000_000, 5_000, 1_200) == 1_200
    assert liquidation_fee(1_000_000, 5_000, -5) == 0


def test_liquidation_parameters_refuse_negative_values():
    try:
        LiquidationParams(buffer_ppm=-1).validate()
    except ConfigError as err:
        assert err.code == "negative_rate"
    else:
        raise AssertionError("a negative buffer was accepted")


def test_adl_ranks_profit_times_leverage_first():
    winner_levered = AdlCandidate("levered_winner", -BTC, 6_000, 60_000, 54_000, 3_000)
    winner_calm = AdlCandidate("calm_winner", -BTC, 6_000, 60_000, 54_000, 60_000)
    small_winner = AdlCandidate("small_winner", -BTC, 600, 60_000, 59_400, 3_000)
    loser = AdlCandidate("loser", -BTC, -600, 60_000, 60_600, 3_000)
    ranked = adl_rank([loser, winner_calm, small_winner, winner_levered])
    assert [c.account for c in ranked] == ["levered_winner", "small_winner", "calm_winner", "loser"]
    twin = AdlCandidate("a_twin", -BTC, 6_000, 60_000, 54_000, 3_000)
    assert [c.account for c in adl_rank([winner_levered, twin])] == ["a_twin", "levered_winner"]


def test_liquidation_price_of_a_long_is_where_equity_meets_maintenance():
    v = valuation()
    balances = {"USDC": 1_200 * USDC}
    positions = {"BTC-PERP": Position(BTC, -60_000 * USDC, 60_000 * USDC)}
    price = liquidation_price(balances, positions, v, "BTC-PERP", None, 60_000 * USDC)
    # 1200 + (p - 60000) = 1 % of p  ->  p = 58800 / 0.99
    assert abs(price - 58_800 * USDC * 100 // 99) <= 1
    at = account_health(balances, positions, v.with_price("BTC-PERP", None, price))
    above = account_health(balances, positions, v.with_price("BTC-PERP", None, price + 1))
    assert at.below_maintenance and not above.below_maintenance


def test_liquidation_price_of_a_spot_margin_account_moves_its_collateral():
    v = valuation()
    balances = {"USDE": 1_000_000 * E18, "USDC": -800_000 * USDC}
    below, above = liquidation_prices(balances, {}, v, "USDE-USDC", "USDE", 990_000)
    assert above is None
    # 0.95 * 1e6 * p - 800k = 5 % of 800k  ->  p = 840000 / 950000
    assert abs(below - 884_210) <= 1
    assert liquidation_price({"USDC": 5 * USDC}, {}, v, "USDE-USDC", "USDE", 990_000) is None


def test_ppm_is_a_million():
    assert PPM == 1_000_000
