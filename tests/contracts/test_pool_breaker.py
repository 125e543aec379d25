"""Every breaker path of the Pool: impact band, velocity with thin depth, depth collapse, outflow cap,
exits while halted, resume rules, cool-down band, guardian limits and governor override."""

import boa
import pytest

USDE, USDC = 10**18, 10**6
FAR = 2**40
BLOCK = 12
VELOCITY, COLLAPSE, OUTFLOW0, OUTFLOW1 = 10, 11, 12, 13
# Deposits buy no outflow credit any more (issue 14.1); the wait is kept, it changes nothing.
SEED_CREDIT_SECONDS = 4 * 3600


def trips(contract):
    """(reason, metric, accepted) of every trip the pool raised in the last call."""
    return [
        (e.reason, e.metric, e.accepted) for e in contract.get_logs() if type(e).__name__ == "BreakerTrip"
    ]


def set_reference_sizes(pool, governor, size0, size1):
    with boa.env.prank(governor):
        pool.set_parameters(pool.parameters()._replace(reference_size0=size0, reference_size1=size1))


@pytest.fixture
def thin_pool(pool, governor):
    """The pool with 100k reference sizes: 1M reserves are thin (slippage of 100k ~ 9 % > 5 %)."""
    set_reference_sizes(pool, governor, 100_000 * USDE, 100_000 * USDC)
    return pool


def collapse_depth(pool, liquidity_provider, share=85):
    """The seed LP withdraws `share` % of its shares; returns the trips raised."""
    with boa.env.prank(liquidity_provider):
        pool.remove_liquidity(
            pool.balanceOf(liquidity_provider) * share // 100, 0, 0, liquidity_provider, FAR
        )
    return trips(pool)


# --- impact band


def test_swap_with_impact_above_the_band_reverts(pool, usde, trader):
    reserves = pool.get_reserves()
    with boa.env.prank(trader), boa.reverts("pool: price impact above band"):
        pool.swap(usde, 60_000 * USDE, 0, trader, FAR)  # ~11 % impact
    assert pool.get_reserves() == reserves
    with boa.env.prank(trader):
        pool.swap(usde, 50_000 * USDE, 0, trader, FAR)  # ~9.3 %
    assert trips(pool) == []


def test_governor_widens_the_impact_band(pool, usde, trader, governor):
    with boa.env.prank(governor):
        pool.set_parameters(pool.parameters()._replace(impact_band_bps=2_000))
    with boa.env.prank(trader):
        pool.swap(usde, 60_000 * USDE, 0, trader, FAR)


# --- velocity with thin depth


def test_velocity_with_thin_depth_trips_in_the_same_transaction(thin_pool, breaker, usde, usdc, trader):
    pool = thin_pool
    with boa.env.prank(trader):
        pool.swap(usde, 50_000 * USDE, 0, trader, FAR)  # ~9.3 % off the EMA: below the velocity band
        assert trips(pool) == []
        boa.env.time_travel(seconds=BLOCK)  # one block may not move the price past the band (14.2)
        before = usdc.balanceOf(trader)
        out = pool.swap(usde, 50_000 * USDE, 0, trader, FAR)  # next block: ~17 % off the EMA
    raised = trips(pool)
    ema, spot = pool.price_oracle(), pool.spot_price()
    deviation_bps = (ema - spot) * 10_000 // ema
    assert deviation_bps > 1_000
    assert raised == [(VELOCITY, deviation_bps, True)]
    assert usdc.balanceOf(trader) == before + out, "the swap that trips the breaker still executes"
    assert breaker.is_halted(pool)
    assert (breaker.last_reason(pool), breaker.last_metric(pool)) == (VELOCITY, deviation_bps)
    with boa.env.prank(trader), boa.reverts("pool: halted by the circuit breaker"):
        pool.swap(usdc, 1_000 * USDC, 0, trader, FAR)


def test_velocity_on_deep_liquidity_does_not_trip(pool, breaker, usde, trader):
    with boa.env.prank(trader):
        pool.swap(usde, 50_000 * USDE, 0, trader, FAR)
        boa.env.time_travel(seconds=BLOCK)
        pool.swap(usde, 50_000 * USDE, 0, trader, FAR)
    assert (pool.price_oracle() - pool.spot_price()) * 10 > pool.price_oracle(), "velocity is there"
    assert not breaker.is_halted(pool), "velocity alone is not enough: depth must be thin too"


def test_thin_depth_without_velocity_does_not_trip(thin_pool, breaker, usde, trader):
    with boa.env.prank(trader):
        pool_out = thin_pool.swap(usde, 20_000 * USDE, 0, trader, FAR)
    assert pool_out > 0 and not breaker.is_halted(thin_pool)


# --- depth collapse


def test_a_large_exit_rescales_the_benchmark_and_does_not_trip(pool, breaker, usde, liquidity_provider):
    # Issue 14.1: a proportional exit moves no price, so it is no depth collapse (it used to trip reason 11).
    before = usde.balanceOf(liquidity_provider)
    liquidity, benchmark, _, _ = pool.breaker_metrics()
    assert collapse_depth(pool, liquidity_provider, share=85) == []
    after, after_benchmark, _, _ = pool.breaker_metrics()
    assert after * 5 < liquidity and after_benchmark * 5 < benchmark, "the benchmark follows the exit"
    assert usde.balanceOf(liquidity_provider) > before
    assert not breaker.is_halted(pool) and pool.can_resume()


def test_a_withdrawal_leaving_a_quarter_of_the_depth_does_not_trip(pool, breaker, liquidity_provider):
    assert collapse_depth(pool, liquidity_provider, share=75) == []
    assert not breaker.is_halted(pool)


def test_slow_exit_moves_the_benchmark_and_does_not_trip(pool, breaker, liquidity_provider):
    # 8 withdrawals of a quarter each, two days apart: the benchmark (1-day half-life) follows.
    for _ in range(8):
        boa.env.time_travel(seconds=2 * 86_400)
        assert collapse_depth(pool, liquidity_provider, share=25) == []
    liquidity, benchmark, _, _ = pool.breaker_metrics()
    assert liquidity * 5 < 10**18, "less than the collapse threshold of the original depth is left"
    assert not breaker.is_halted(pool)


# --- outflow cap


def test_net_outflow_above_the_cap_trips(pool, breaker, usde, usdc, trader):
    boa.env.time_travel(seconds=SEED_CREDIT_SECONDS)
    raised = []
    with boa.env.prank(trader):
        for _ in range(10):
            boa.env.time_travel(seconds=BLOCK)
            reserve1 = pool.get_reserves()[1]
            pool.swap(usde, 50_000 * USDE, 0, trader, FAR)
            raised = trips(pool)
            if raised:
                break
    assert [(r, ok) for r, _, ok in raised] == [(OUTFLOW1, True)]
    assert raised[0][1] > reserve1 * 3 // 10, "the metric is the net USDC outflow, above 30 % of the reserve"
    assert breaker.is_halted(pool)
    assert breaker.last_reason(pool) == OUTFLOW1


def test_the_same_outflow_spread_over_hours_does_not_trip(pool, breaker, usde, trader):
    boa.env.time_travel(seconds=SEED_CREDIT_SECONDS)
    with boa.env.prank(trader):
        for _ in range(8):
            boa.env.time_travel(seconds=20 * 60)
            pool.swap(usde, 50_000 * USDE, 0, trader, FAR)
    assert not breaker.is_halted(pool)


def test_flash_round_trips_cannot_pin_the_outflow_limiter(pool, breaker, usde, usdc, trader):
    boa.env.time_travel(seconds=SEED_CREDIT_SECONDS)
    with boa.env.prank(trader):
        for _ in range(12):  # 12 x ~47k USDC out would be ~57 % of the reserve without the elastic buffer
            out = pool.swap(usde, 50_000 * USDE, 0, trader, FAR)
            pool.swap(usdc, out, 0, trader, FAR)
    assert not breaker.is_halted(pool)
    _, _, headroom0, headroom1 = pool.breaker_metrics()
    assert headroom1 >= pool.get_reserves()[1] * 29 // 100


def test_flash_deposit_and_withdrawal_cannot_pin_the_outflow_limiter(pool, breaker, usde, usdc, fund):
    boa.env.time_travel(seconds=SEED_CREDIT_SECONDS)
    whale = boa.env.generate_address("whale")
    fund(whale, pool, usde, 5_000_000 * USDE)
    fund(whale, pool, usdc, 5_000_000 * USDC)
    with boa.env.prank(whale):
        shares = pool.add_liquidity(5_000_000 * USDE, 5_000_000 * USDC, 0, whale, FAR)
        pool.remove_liquidity(shares, 0, 0, whale, FAR)
    assert trips(pool) == []
    assert not breaker.is_halted(pool)


# --- while halted


def test_halted_pool_refuses_swaps_but_takes_deposits_and_pays_withdrawals(
    pool, breaker, sentinel, usde, usdc, trader, liquidity_provider, fund
):
    with boa.env.prank(sentinel):
        breaker.trip(pool, 1000, 0)
    with boa.env.prank(trader), boa.reverts("pool: halted by the circuit breaker"):
        pool.swap(usde, USDE, 0, trader, FAR)
    designated_lp = boa.env.generate_address("designated_liquidity_provider")
    fund(designated_lp, pool, usde, 100_000 * USDE)
    fund(designated_lp, pool, usdc, 100_000 * USDC)
    with boa.env.prank(designated_lp):
        assert pool.add_liquidity(100_000 * USDE, 100_000 * USDC, 0, designated_lp, FAR) > 0
    with boa.env.prank(liquidity_provider):
        out0, out1 = pool.remove_liquidity(
            pool.balanceOf(liquidity_provider) // 2, 1, 1, liquidity_provider, FAR
        )
    assert out0 > 0 and out1 > 0
    assert pool.get_amount_out(usde, USDE) > 0, "quotes stay readable"


def test_guardian_pause_stops_swaps_and_only_the_governor_restarts(
    pool, breaker, guardian, governor, stranger, usde, trader, liquidity_provider
):
    with boa.env.prank(guardian):
        breaker.pause(pool)
    with boa.env.prank(trader), boa.reverts("pool: halted by the circuit breaker"):
        pool.swap(usde, USDE, 0, trader, FAR)
    with boa.env.prank(liquidity_provider):
        pool.remove_liquidity(10**15, 1, 1, liquidity_provider, FAR)
    boa.env.time_travel(seconds=3_600)
    assert pool.can_resume()
    for caller in (guardian, stranger):
        with boa.env.prank(caller), boa.reverts("breaker: only the governor lifts a guardian pause"):
            breaker.resume(pool)
    with boa.env.prank(governor):
        breaker.resume(pool)
    boa.env.time_travel(seconds=BLOCK)  # no swap in the block of a resume
    with boa.env.prank(trader):
        pool.swap(usde, USDE, 0, trader, FAR)


def test_pause_all_stops_the_pool(pool, breaker, guardian, usde, trader):
    with boa.env.prank(guardian):
        breaker.pause_all()
    with boa.env.prank(trader), boa.reverts("pool: halted by the circuit breaker"):
        pool.swap(usde, USDE, 0, trader, FAR)


# --- resume rules and cool-down


def test_anyone_resumes_after_the_window_when_depth_is_there(
    pool, breaker, sentinel, liquidity_provider, stranger
):
    with boa.env.prank(sentinel):
        breaker.trip(pool, 1000, 0)
    collapse_depth(pool, liquidity_provider, share=85)  # exits while halted do not pin the halt
    with boa.env.prank(stranger), boa.reverts("breaker: halt window not over"):
        breaker.resume(pool)
    boa.env.time_travel(seconds=600)
    assert pool.can_resume()
    with boa.env.prank(stranger):
        breaker.resume(pool)
    assert not breaker.is_halted(pool)


def test_governor_resumes_at_once(pool, breaker, governor, sentinel, usde, trader):
    with boa.env.prank(sentinel):
        breaker.trip(pool, 1000, 0)
    with boa.env.prank(governor):
        breaker.resume(pool)
    with boa.env.prank(trader), boa.reverts("pool: resumed in this block, swaps open in the next"):
        pool.swap(usde, 100 * USDE, 0, trader, FAR)
    boa.env.time_travel(seconds=BLOCK)
    with boa.env.prank(trader):
        pool.swap(usde, 100 * USDE, 0, trader, FAR)


def test_cool_down_after_resume_applies_the_tighter_band(pool, breaker, governor, sentinel, usde, trader):
    with boa.env.prank(sentinel):
        breaker.trip(pool, 1000, 0)
    with boa.env.prank(governor):
        breaker.resume(pool)
    boa.env.time_travel(seconds=BLOCK)
    with boa.env.prank(trader):
        with boa.reverts("pool: price impact above band"):
            pool.swap(usde, 10_000 * USDE, 0, trader, FAR)  # ~2 % impact: above the 1 % cool-down band
        pool.swap(usde, 3_000 * USDE, 0, trader, FAR)  # ~0.9 %
        boa.env.time_travel(seconds=600)
        pool.swap(usde, 10_000 * USDE, 0, trader, FAR)  # the cool-down is over


# --- a breaker that refuses the trip


def test_large_withdrawal_from_an_unprotected_pool_goes_through_without_a_trip(
    pool_type, breaker, usde, usdc, insurance_fund, fund
):
    unprotected = pool_type.deploy(usde, usdc, breaker, insurance_fund, 1, 1, "Unprotected LP", "ULP")
    market_maker = boa.env.generate_address("market_maker")
    fund(market_maker, unprotected, usde, 1_000 * USDE)
    fund(market_maker, unprotected, usdc, 1_000 * USDC)
    with boa.env.prank(market_maker):
        shares = unprotected.add_liquidity(1_000 * USDE, 1_000 * USDC, 0, market_maker, FAR)
        unprotected.remove_liquidity(shares * 9 // 10, 0, 0, market_maker, FAR)
    assert trips(unprotected) == [], "an exit never trips (issue 14.1)"
    assert not breaker.is_halted(unprotected)
