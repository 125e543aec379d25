"""Index, mark, bands, freeze and realised volatility."""

from __future__ import annotations

import pytest

from offchain.core.risk.params import ConfigError
from offchain.core.risk.pricing import MarketPricing, PricingParams, band, validate_bands, weighted_median

P = 10**6  # one USDC in price units (quote atoms per whole unit)


def test_weighted_median_picks_the_price_holding_half_the_weight():
    assert weighted_median([(100, 1, "a"), (200, 1, "b"), (300, 1, "c")]) == 200
    assert weighted_median([(100, 5, "a"), (200, 1, "b"), (300, 1, "c")]) == 100
    assert weighted_median([(100, 1, "a"), (300, 1, "b")]) == 200  # exactly half: mean of the two
    assert weighted_median([(100, 0, "a")]) is None


def test_stale_source_drops_out_of_the_index():
    market = MarketPricing("USDE-USDC", PricingParams(max_age_ms=60_000))
    market.post("curve", 999_000, ts=0)
    market.post("venue", 990_000, ts=50_000)
    market.post("other", 995_000, ts=50_000)
    assert market.compute_index(55_000) == 995_000
    assert market.compute_index(100_000) == 992_500  # curve is 100 s old: two sources left


def test_source_far_from_the_median_drops_out():
    market = MarketPricing("USDE-USDC", PricingParams(max_deviation_bps=200))
    market.post("curve", 999_000, ts=0)
    market.post("venue_a", 998_000, ts=0)
    market.post("broken", 650_000, ts=0)
    assert market.compute_index(0) == 998_500


def test_no_fresh_source_means_no_index_and_the_mark_holds():
    market = MarketPricing("USDE-USDC", PricingParams(max_age_ms=1_000))
    market.post("curve", 999_000, ts=0)
    market.update(0, local=999_000)
    assert market.mark == 999_000
    market.update(5_000, local=700_000)
    assert market.index is None
    assert market.mark == 999_000


def test_mark_premium_is_clamped_to_the_band_even_when_the_book_crashes():
    market = MarketPricing("USDE-USDC", PricingParams(premium_band_bps=50))
    for second in range(0, 3_600, 10):
        market.post("curve", 990_000, ts=second * 1000)
        market.update(second * 1000, local=650_000)
    assert market.index == 990_000
    assert market.premium_ewma_ppm == -5_000
    assert market.mark == 990_000 * 995 // 1000
    assert market.collateral_mark("mark") == market.mark
    assert market.collateral_mark("local") == 650_000  # the naive exchange's valuation


def test_premium_ewma_moves_gradually_over_five_minutes():
    market = MarketPricing("BTC-PERP", PricingParams(premium_band_bps=100))
    market.post("spot", 60_000 * P, ts=0)
    market.update(0, local=60_000 * P)
    market.post("spot", 60_000 * P, ts=1_000)
    market.update(1_000, local=60_600 * P)  # +1 % premium appears
    first = market.premium_ewma_ppm
    assert 0 < first < 10_000 // 100
    for second in range(2, 2_000):
        market.post("spot", 60_000 * P, ts=second * 1000)
        market.update(second * 1000, local=60_600 * P)
    assert market.premium_ewma_ppm > 9_900


def test_freeze_holds_the_collateral_mark_at_the_last_reference_before_the_trip():
    market = MarketPricing("USDE-USDC")
    market.post("curve", 999_000, ts=0)
    market.update(0, local=999_000)
    frozen = market.freeze_collateral()
    assert frozen == 999_000
    market.post("curve", 900_000, ts=1_000)
    market.update(1_000, local=650_000)
    assert market.mark < 999_000
    assert market.collateral_mark("mark") == 999_000
    assert market.collateral_mark("local") == 999_000
    market.unfreeze_collateral()
    assert market.collateral_mark("mark") == market.mark


def test_band_is_never_wider_than_configured():
    assert band(1_000_000, 1_000) == (900_000, 1_100_000)
    lo, hi = band(999_999, 300)
    assert lo * 10_000 >= 999_999 * 9_700 and hi * 10_000 <= 999_999 * 10_300


@pytest.mark.parametrize(
    ("band_bps", "impact_bps", "code"),
    [
        (6_000, 300, "insane_band"),
        (1_000, 5_001, "insane_band"),
        (0, 300, "bad_band"),
        (1_000, -1, "bad_band"),
    ],
)
def test_insane_market_bands_are_refused(band_bps, impact_bps, code):
    with pytest.raises(ConfigError) as err:
        validate_bands(band_bps, impact_bps)
    assert err.value.code == code


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("premium_band_bps", 1_000, "insane_band"),
        ("premium_band_bps", 0, "bad_band"),
        ("max_deviation_bps", -10, "bad_band"),
        ("ewma_window_ms", 0, "bad_param"),
    ],
)
def test_insane_pricing_parameters_are_refused_with_a_reason(field, value, code):
    with pytest.raises(ConfigError) as err:
        PricingParams(**{field: value}).validate()
    assert err.value.code == code
    assert field in err.value.message


def test_realised_volatility_rises_with_price_swings():
    calm = MarketPricing("BTC-PERP")
    wild = MarketPricing("BTC-PERP")
    for minute in range(120):
        ts = minute * 60_000
        calm.post("spot", 60_000 * P + (minute % 2) * 6 * P, ts=ts)
        wild.post("spot", 60_000 * P + (minute % 2) * 1_200 * P, ts=ts)
        calm.update(ts, local=None)
        wild.update(ts, local=None)
    assert calm.vol_ppm < 200
    assert wild.vol_ppm > 10_000
