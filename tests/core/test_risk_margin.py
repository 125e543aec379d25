"""Account value and margin requirements; refused parameter sets."""

from __future__ import annotations

import pytest

from offchain.core.risk.margin import (
    AssetRisk,
    MarginTier,
    MarketRisk,
    Valuation,
    WeightTier,
    account_health,
    default_taper,
    default_tiers,
    requirement,
    weighted_value,
)
from offchain.core.risk.params import PPM, ConfigError
from offchain.core.risk.perps import Position, fill_notional

USDC = 10**6
BTC = 10**8


def valuation() -> Valuation:
    return Valuation(
        assets={
            "USDC": AssetRisk("USDC", 6),
            "USDE": AssetRisk("USDE", 18, 950_000),
            "BTC": AssetRisk("BTC", 8, 900_000, default_taper(900_000, USDC)),
        },
        asset_price={"USDC": USDC, "USDE": 990_000, "BTC": 60_000 * USDC},
        markets={"BTC-PERP": MarketRisk(default_tiers(50, USDC))},
        market_mark={"BTC-PERP": 60_000 * USDC},
        market_unit={"BTC-PERP": BTC},
        vol_mult_ppm={"BTC-PERP": PPM},
    )


def test_own_token_as_collateral_is_refused_with_the_ftx_reason():
    with pytest.raises(ConfigError) as err:
        AssetRisk("BWT", 18, weight_ppm=100_000, own_token=True).validate()
    assert err.value.code == "own_token_collateral"
    assert "FTX" in err.value.message
    with pytest.raises(ConfigError):
        AssetRisk("BWT", 18, 0, taper=(WeightTier(None, 1),), own_token=True).validate()
    AssetRisk("BWT", 18, weight_ppm=0, own_token=True).validate()  # weight 0 is the only setting


@pytest.mark.parametrize(
    ("risk", "code"),
    [
        (AssetRisk("USDE", 18, weight_ppm=-1), "negative_rate"),
        (AssetRisk("USDE", 18, weight_ppm=1_100_000), "bad_param"),
        (AssetRisk("USDE", 18, borrow_imr_ppm=10_000, borrow_mmr_ppm=20_000), "bad_param"),
        (AssetRisk("USDE", 18, 900_000, taper=(WeightTier(10, 950_000), WeightTier(None, 0))), "bad_param"),
        (AssetRisk("USDE", 18, 900_000, taper=(WeightTier(10, 900_000),)), "bad_param"),
    ],
)
def test_bad_asset_parameters_are_refused(risk, code):
    with pytest.raises(ConfigError) as err:
        risk.validate()
    assert err.value.code == code


def test_more_than_fifty_times_leverage_is_refused():
    with pytest.raises(ConfigError) as err:
        MarketRisk((MarginTier(None, 10_000, 5_000),)).validate()
    assert err.value.code == "leverage_too_high"
    MarketRisk(default_tiers(50, USDC)).validate()


def test_margin_tiers_must_not_loosen_with_size():
    with pytest.raises(ConfigError):
        MarketRisk((MarginTier(100, 40_000, 20_000), MarginTier(None, 20_000, 10_000))).validate()


def test_weight_tapers_for_large_balances_without_a_jump():
    tiers = default_taper(900_000, USDC)
    million = 1_000_000 * USDC
    assert weighted_value(million, tiers) == 900_000 * USDC
    assert weighted_value(million + 1_000, tiers) == 900_000 * USDC + 810
    assert weighted_value(20 * million, tiers) == (900_000 + 9 * 810_000 + 10 * 675_000) * USDC
    values = [weighted_value(k * million // 4, tiers) for k in range(0, 100)]
    assert values == sorted(values)


def test_requirement_goes_through_size_tiers_marginally():
    tiers = default_tiers(50, USDC)  # 2 % to $1M, 4 % to $5M ...
    assert requirement(1_000_000 * USDC, tiers, True) == 20_000 * USDC
    assert requirement(2_000_000 * USDC, tiers, True) == 60_000 * USDC
    assert requirement(2_000_000 * USDC, tiers, False) == 30_000 * USDC
    assert requirement(1, tiers, True) == 1  # rounds up, in the exchange's favour


def test_account_value_weights_holdings_and_counts_borrows_in_full():
    v = valuation()
    balances = {"USDE": 1_000 * 10**18, "USDC": -500 * USDC}
    h = account_health(balances, {}, v)
    assert h.collateral == 990 * USDC * 95 // 100
    assert h.borrows == 500 * USDC
    assert h.equity == h.collateral - 500 * USDC
    assert h.initial == 50 * USDC and h.maintenance == 25 * USDC


def test_fifty_times_leverage_fits_exactly_in_initial_margin():
    v = valuation()
    qty = BTC  # one BTC at 60,000 = 60,000 USDC notional
    pos = Position().fill(qty, 60_000 * USDC, fill_notional(qty, 60_000 * USDC, BTC))
    h = account_health({"USDC": 1_200 * USDC}, {"BTC-PERP": pos}, v)
    assert h.initial == 1_200 * USDC
    assert h.free == 0
    assert not h.below_maintenance
    v.market_mark["BTC-PERP"] = 59_300 * USDC  # -700 USDC of PnL
    h = account_health({"USDC": 1_200 * USDC}, {"BTC-PERP": pos}, v)
    assert h.upnl == -700 * USDC
    assert h.below_maintenance  # 500 < 593


def test_maintenance_rises_with_realised_volatility():
    v = valuation()
    risk = v.markets["BTC-PERP"]
    pos = Position(BTC, -60_000 * USDC, 60_000 * USDC)
    calm = account_health({"USDC": 1_000 * USDC}, {"BTC-PERP": pos}, v)
    v.vol_mult_ppm["BTC-PERP"] = risk.vol_multiplier_ppm(risk.vol_ref_ppm * 2)
    stormy = account_health({"USDC": 1_000 * USDC}, {"BTC-PERP": pos}, v)
    assert stormy.maintenance == 2 * calm.maintenance
    assert stormy.initial == 2 * calm.initial
    assert risk.vol_multiplier_ppm(0) == PPM
    assert risk.vol_multiplier_ppm(10**9) == risk.vol_cap_ppm


def test_unpriced_asset_counts_for_nothing():
    v = valuation()
    h = account_health({"NEW": 10**18, "USDC": 5 * USDC}, {}, v)
    assert h.equity == 5 * USDC
