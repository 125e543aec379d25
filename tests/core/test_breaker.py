"""The breaker as a pure state machine: trip rule, halt window, reopening sequence, metrics."""

from __future__ import annotations

import pytest

from offchain.core.breaker.rule import (
    AUCTION,
    CONTINUOUS,
    COOLDOWN,
    DAY_MS,
    HALTED,
    MINUTE_MS,
    PPM,
    REASON_DEVIATION_DEPTH,
    REASON_MANUAL,
    REASON_VELOCITY_SLIPPAGE_LCE,
    Breaker,
    BreakerError,
    BreakerParams,
    DepthBenchmark,
    MarketMonitor,
    Metrics,
    PriceRange,
    TimeWeightedAverage,
    cvd_ppm,
    depth_notional,
    slippage_ppm,
    sweep_price,
)
from offchain.core.risk.liquidation import liquidation_cluster_ppm

CALM = Metrics(cvd_ppm=1_000, rl_ppm=900_000, si_ppm=2_000, vp_ppm=5_000, lce_ppm=0)
VACUUM = Metrics(cvd_ppm=45_000, rl_ppm=80_000, si_ppm=2_000, vp_ppm=5_000, lce_ppm=0)
RECOVERED = Metrics(cvd_ppm=5_000, rl_ppm=700_000, si_ppm=1_000, vp_ppm=1_000, lce_ppm=0)
SEC = 1_000


def tripped_breaker(ts: int = 0, params: BreakerParams | None = None) -> Breaker:
    breaker = Breaker(params)
    [transition] = breaker.observe(ts, VACUUM)
    assert transition.to_state == HALTED
    return breaker


# -- trip rule ----------------------------------------------------------------------------------


def test_calm_market_never_trips():
    breaker = Breaker()
    for second in range(0, 3600):
        assert breaker.observe(second * SEC, CALM) == []
    assert breaker.state == CONTINUOUS


@pytest.mark.parametrize(
    "metrics",
    [
        Metrics(cvd_ppm=200_000, rl_ppm=900_000),  # far from the index, deep book
        Metrics(cvd_ppm=1_000, rl_ppm=10_000),  # empty book, on the index
        Metrics(vp_ppm=300_000, si_ppm=1_000, lce_ppm=500_000),  # fast move, but orders do not slip
        Metrics(vp_ppm=300_000, si_ppm=300_000, lce_ppm=0),  # no liquidations within reach
        Metrics(vp_ppm=1_000, si_ppm=300_000, lce_ppm=500_000),  # slippage and cluster, price still
    ],
    ids=["cvd_alone", "depth_alone", "no_slippage", "no_cluster", "no_velocity"],
)
def test_one_price_line_alone_never_trips(metrics):
    """Seed 004 §3: a single threshold would act as a magnet; a metric needs its partners."""
    breaker = Breaker()

    assert breaker.observe(0, metrics) == []
    assert breaker.state == CONTINUOUS


def test_deviation_with_empty_book_halts_and_records_metrics():
    breaker = Breaker()

    [transition] = breaker.observe(5 * SEC, VACUUM)

    assert (transition.from_state, transition.to_state) == (CONTINUOUS, HALTED)
    assert transition.reason == REASON_DEVIATION_DEPTH
    assert transition.metrics.cvd_ppm == 45_000 and transition.metrics.rl_ppm == 80_000
    assert not breaker.matching


def test_velocity_slippage_and_liquidation_cluster_halt_together():
    breaker = Breaker()

    [transition] = breaker.observe(0, Metrics(vp_ppm=120_000, si_ppm=60_000, lce_ppm=150_000))

    assert transition.reason == REASON_VELOCITY_SLIPPAGE_LCE


def test_partners_within_the_short_window_trip():
    """CVD breaches first, depth collapses 20 s later: 'within a short window' (30 s default)."""
    breaker = Breaker()
    assert breaker.observe(0, Metrics(cvd_ppm=40_000, rl_ppm=900_000)) == []

    [transition] = breaker.observe(20 * SEC, Metrics(cvd_ppm=20_000, rl_ppm=100_000))

    assert transition.reason == REASON_DEVIATION_DEPTH


def test_partners_further_apart_than_the_window_do_not_trip():
    breaker = Breaker()
    assert breaker.observe(0, Metrics(cvd_ppm=40_000, rl_ppm=900_000)) == []

    assert breaker.observe(31 * SEC, Metrics(cvd_ppm=20_000, rl_ppm=100_000)) == []
    assert breaker.state == CONTINUOUS


def test_disabled_breaker_never_trips_but_operator_still_halts():
    breaker = Breaker(BreakerParams(enabled=False))

    assert breaker.observe(0, VACUUM) == []
    assert breaker.halt(1, VACUUM).to_state == HALTED


def test_expensive_metrics_are_not_read_while_cheap_ones_are_calm():
    """The depth walk and slippage sweep run only when CVD or V_P is hot (the hot path stays cheap)."""

    class CountingProbe:
        def __init__(self):
            self.reads = []

        def __getattr__(self, name):
            self.reads.append(name)
            return {"cvd_ppm": 1_000, "vp_ppm": 2_000}.get(name, 0)

    probe = CountingProbe()

    Breaker().observe(0, probe)

    assert sorted(probe.reads) == ["cvd_ppm", "vp_ppm"]


# -- halt window and reopening ------------------------------------------------------------------


def test_default_halt_window_is_between_five_and_ten_minutes():
    params = BreakerParams()

    assert params.halt_window_ms == max(params.t_dlp_ms, params.t_chain_ms) + params.t_buffer_ms
    assert 5 * MINUTE_MS <= params.halt_window_ms <= 10 * MINUTE_MS
    assert 2 * MINUTE_MS <= params.cooldown_ms <= 5 * MINUTE_MS
    assert 2 * MINUTE_MS <= params.auction_ms <= 5 * MINUTE_MS


def test_recovered_metrics_do_not_reopen_before_the_halt_window_ends():
    breaker = tripped_breaker()
    window = breaker.params.halt_window_ms

    assert breaker.observe(window - 1, RECOVERED) == []
    assert breaker.state == HALTED


def test_reopening_is_not_a_timer_while_the_price_is_still_off_the_index():
    breaker = tripped_breaker()
    still_off = Metrics(cvd_ppm=15_000, rl_ppm=900_000, lce_ppm=0)

    assert breaker.observe(60 * MINUTE_MS, still_off) == []
    assert breaker.state == HALTED


@pytest.mark.parametrize(
    "not_ready",
    [
        Metrics(cvd_ppm=5_000, rl_ppm=500_000, lce_ppm=0),  # depth exactly 50 %: not above
        Metrics(cvd_ppm=10_000, rl_ppm=900_000, lce_ppm=0),  # CVD exactly 1 %: not below
        Metrics(cvd_ppm=5_000, rl_ppm=900_000, lce_ppm=60_000),  # liquidation cluster not safe
    ],
    ids=["depth_at_half", "cvd_at_one_percent", "lce_unsafe"],
)
def test_every_recovery_condition_is_required(not_ready):
    breaker = tripped_breaker()

    assert breaker.observe(breaker.halt_until, not_ready) == []


def test_recovery_runs_cooldown_auction_then_continuous_on_schedule():
    breaker = tripped_breaker()
    reopen = breaker.halt_until + 5 * SEC
    p = breaker.params

    [to_cooldown] = breaker.observe(reopen, RECOVERED)
    assert (to_cooldown.to_state, to_cooldown.ts) == (COOLDOWN, reopen)
    assert breaker.next_deadline() == reopen + p.cooldown_ms
    assert breaker.observe(reopen + p.cooldown_ms - 1, RECOVERED) == []

    [to_auction] = breaker.observe(reopen + p.cooldown_ms, RECOVERED)
    assert to_auction.to_state == AUCTION

    [to_continuous] = breaker.observe(reopen + p.cooldown_ms + p.auction_ms + 7 * SEC, RECOVERED)
    assert to_continuous.to_state == CONTINUOUS
    assert to_continuous.ts == reopen + p.cooldown_ms + p.auction_ms  # the scheduled end, not the late tick
    assert breaker.matching


def test_a_late_tick_runs_every_due_phase_in_order():
    breaker = tripped_breaker()
    breaker.observe(breaker.halt_until, RECOVERED)

    transitions = breaker.observe(breaker.since + 60 * MINUTE_MS, RECOVERED)

    assert [t.to_state for t in transitions] == [AUCTION, CONTINUOUS]
    assert transitions[0].ts < transitions[1].ts


# -- operator -------------------------------------------------------------------------------------


def test_operator_halt_outlasts_recovered_metrics_until_resume():
    breaker = Breaker()
    halt = breaker.halt(0, CALM)
    assert (halt.to_state, halt.reason) == (HALTED, REASON_MANUAL)

    assert breaker.observe(2 * DAY_MS, RECOVERED) == []
    assert breaker.state == HALTED


def test_operator_resume_starts_reopening_whatever_the_metrics_say():
    breaker = tripped_breaker()

    transition = breaker.resume(1 * SEC, VACUUM)

    assert transition.to_state == COOLDOWN
    assert breaker.state == COOLDOWN


def test_resume_of_a_trading_market_is_refused():
    with pytest.raises(BreakerError) as err:
        Breaker().resume(0)
    assert err.value.code == "not_halted"


def test_second_halt_is_refused():
    breaker = tripped_breaker()
    with pytest.raises(BreakerError) as err:
        breaker.halt(1)
    assert err.value.code == "already_halted"


def test_state_round_trips_through_canonical_data():
    breaker = tripped_breaker(ts=123)
    restored = Breaker.from_state(breaker.to_state())

    assert restored.to_state() == breaker.to_state()
    assert restored.observe(breaker.halt_until, RECOVERED)[0].to_state == COOLDOWN


# -- parameters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"cvd_recover_ppm": 40_000},  # recover above trip
        {"rl_recover_ppm": 100_000},  # recover below trip
        {"lce_safe_ppm": 200_000},
        {"cooldown_ms": -1},
        {"vp_trip_ppm": 2 * PPM},
        {"depth_sample_ms": 0},
        {"auction_ms": 2 * DAY_MS},
        {"enabled": 1},
    ],
)
def test_inconsistent_parameters_are_refused(changes):
    with pytest.raises(BreakerError) as err:
        BreakerParams().updated(**changes)
    assert err.value.code == "bad_param"


def test_unknown_parameter_is_refused_by_name():
    with pytest.raises(BreakerError, match="cvd_trip"):
        BreakerParams().updated(cvd_trip=1)


def test_depth_benchmark_window_is_settable():
    params = BreakerParams().updated(depth_window_ms=7 * DAY_MS)
    assert MarketMonitor(params, 10**18, 10**6).benchmark.window_ms == 7 * DAY_MS


# -- metric definitions -------------------------------------------------------------------------


def test_cvd_is_relative_deviation_from_the_index():
    assert cvd_ppm(970_000, 1_000_000) == 30_000
    assert cvd_ppm(650_000, 990_000) == 343_434  # the 10 Oct 2025 gap: 0.65 vs 0.99
    assert cvd_ppm(1_030_000, 1_000_000) == 30_000


def test_depth_counts_quote_notional_within_one_percent_of_mid():
    unit = 10**18
    bids = [(999_000, 100 * unit), (990_000, 50 * unit), (980_000, 1_000 * unit)]
    asks = [(1_001_000, 200 * unit), (1_020_000, 1_000 * unit)]

    depth = depth_notional(bids, asks, mid=1_000_000, band_ppm=10_000, base_unit=unit)

    # 100 @ 0.999 + 50 @ 0.99 + 200 @ 1.001 (0.98 and 1.02 are outside +-1 %)
    assert depth == 99_900_000 + 49_500_000 + 200_200_000


def test_slippage_walks_the_book_for_the_reference_notional():
    unit = 10**18
    bids = [(999_000, 500_000 * unit), (950_000, 1_000_000 * unit)]

    final = sweep_price(bids, notional=1_000_000 * 10**6, base_unit=unit)

    assert final == 950_000
    assert slippage_ppm(final, 1_000_000) == 50_000


def test_slippage_of_a_book_that_cannot_absorb_the_order_is_total():
    assert sweep_price([(999_000, 10**18)], notional=10**12, base_unit=10**18) is None
    assert slippage_ppm(None, 1_000_000) == PPM


def test_liquidation_cluster_counts_positions_within_reach_of_the_move():
    exposures = [
        (960_000, 300, True),  # long, liquidated 4 % lower: within a 5 % reach
        (900_000, 500, True),  # long, 10 % lower: out of reach
        (1_040_000, 100, False),  # short, liquidated 4 % higher: within reach
        (1_010_000, 100, True),  # long already past its liquidation price
    ]

    lce = liquidation_cluster_ppm(exposures, price=1_000_000, reach_ppm=50_000, open_interest=1_000)

    assert lce == 500_000


def test_depth_benchmark_is_the_median_over_the_trailing_window():
    bench = DepthBenchmark(window_ms=10 * SEC, sample_ms=SEC)
    for i, depth in enumerate([5, 1, 9, 7]):
        bench.add(i * SEC, depth)
    assert bench.median() == 6  # (5 + 7) // 2

    bench.add(12 * SEC, 100)  # samples before 2 s leave the window
    assert list(bench.samples) == [(2 * SEC, 9), (3 * SEC, 7), (12 * SEC, 100)]
    assert bench.median() == 9


def test_twap_weights_each_mid_by_how_long_it_lasted():
    twap = TimeWeightedAverage(window_ms=100 * SEC)
    twap.add(0, 1_000)
    twap.add(90 * SEC, 500)  # 1000 held for 90 s
    twap.add(100 * SEC, 500)  # 500 held for 10 s

    assert twap.value() == (1_000 * 90 + 500 * 10) // 100


def test_velocity_is_the_largest_move_within_five_minutes():
    window = PriceRange(window_ms=5 * MINUTE_MS)
    window.add(0, 1_000_000)
    window.add(60 * SEC, 950_000)

    assert window.velocity_ppm(120 * SEC, 880_000) == 120_000
    # 5.5 minutes in, the 1.00 print has left the window; 0.95 -> 0.88 is what remains
    assert window.velocity_ppm(5 * MINUTE_MS + 30 * SEC, 880_000) == 73_684
    assert window.velocity_ppm(7 * MINUTE_MS, 880_000) is None  # nothing traded in 5 minutes
