"""Issue 14.1: no sequence of deposits and withdrawals by one account halts the pool or pins a halt.

Each test performs an attack that worked before the fix (the exits counted as outflow and as lost
depth, a resume did not reset the limiter, the depth benchmark remembered a whale).
"""

import boa

USDE, USDC = 10**18, 10**6
FAR = 2**40
BLOCK = 12
# Before the fix the seed deposit bought outflow credit; the attacks wait until it is gone (as on a live pool).
SEED_CREDIT_SECONDS = 4 * 3600


def trips(contract):
    """(reason, metric) of every trip the pool raised in the last call."""
    return [(e.reason, e.metric) for e in contract.get_logs() if type(e).__name__ == "BreakerTrip"]


def lp_account(pool, usde, usdc, fund, name, whole_tokens):
    account = boa.env.generate_address(name)
    fund(account, pool, usde, whole_tokens * USDE)
    fund(account, pool, usdc, whole_tokens * USDC)
    return account


def two_step_exit(pool, attacker):
    """Add ~31 % of the liquidity, wait most of an hour, exit in two steps; return the trips raised."""
    with boa.env.prank(attacker):
        shares = pool.add_liquidity(450_000 * USDE, 450_000 * USDC, 0, attacker, FAR)
        boa.env.time_travel(seconds=50 * 60)
        pool.remove_liquidity(shares * 99 // 100, 0, 0, attacker, FAR)
        raised = trips(pool)
        pool.remove_liquidity(pool.balanceOf(attacker), 0, 0, attacker, FAR)
        return raised + trips(pool)


def test_two_step_exit_of_a_31_percent_deposit_does_not_trip(pool, breaker, usde, usdc, fund):
    attacker = lp_account(pool, usde, usdc, fund, "attacker", 450_000)
    boa.env.time_travel(seconds=SEED_CREDIT_SECONDS)
    assert two_step_exit(pool, attacker) == []
    assert not breaker.is_halted(pool)
    assert usde.balanceOf(attacker) >= 450_000 * USDE - 1 and usdc.balanceOf(attacker) >= 450_000 * USDC - 1


def test_re_adding_and_re_exiting_after_a_resume_does_not_trip(pool, breaker, sentinel, usde, usdc, fund):
    attacker = lp_account(pool, usde, usdc, fund, "attacker", 450_000)
    boa.env.time_travel(seconds=SEED_CREDIT_SECONDS)
    assert two_step_exit(pool, attacker) == []
    with boa.env.prank(sentinel):
        breaker.trip(pool, 1000, 0)
    boa.env.time_travel(seconds=600)
    breaker.resume(pool)
    with boa.env.prank(attacker):
        for _ in range(3):
            shares = pool.add_liquidity(450_000 * USDE, 450_000 * USDC, 0, attacker, FAR)
            pool.remove_liquidity(shares * 9 // 10, 0, 0, attacker, FAR)
            pool.remove_liquidity(pool.balanceOf(attacker), 0, 0, attacker, FAR)
            assert trips(pool) == []
    assert not breaker.is_halted(pool)


def test_a_24_percent_holder_cannot_trip_in_one_block(pool, breaker, usde, usdc, fund):
    holder = lp_account(pool, usde, usdc, fund, "holder", 320_000)
    boa.env.time_travel(seconds=SEED_CREDIT_SECONDS)
    with boa.env.prank(holder):
        pool.add_liquidity(320_000 * USDE, 320_000 * USDC, 0, holder, FAR)
    boa.env.time_travel(seconds=86_400)
    with boa.env.prank(holder):
        shares = pool.balanceOf(holder)
        out0, out1 = pool.remove_liquidity(shares * 9 // 10, 0, 0, holder, FAR)
        raised = trips(pool)
        pool.remove_liquidity(pool.balanceOf(holder), 0, 0, holder, FAR)
        raised += trips(pool)
        pool.add_liquidity(out0, out1, 0, holder, FAR)
    assert raised == []
    assert not breaker.is_halted(pool)


def test_a_whale_exit_after_a_day_neither_trips_nor_pins_can_resume(
    pool, breaker, sentinel, usde, usdc, fund
):
    whale = lp_account(pool, usde, usdc, fund, "whale", 5_000_000)
    with boa.env.prank(whale):
        shares = pool.add_liquidity(5_000_000 * USDE, 5_000_000 * USDC, 0, whale, FAR)
    boa.env.time_travel(seconds=86_400)
    with boa.env.prank(whale):
        pool.remove_liquidity(shares, 0, 0, whale, FAR)
    assert trips(pool) == []
    assert not breaker.is_halted(pool)
    liquidity, benchmark, _, _ = pool.breaker_metrics()
    assert liquidity * 2 >= benchmark and pool.can_resume(), "the benchmark does not remember the whale"
    # And a halt from elsewhere is not pinned by it: anyone resumes after the window.
    with boa.env.prank(sentinel):
        breaker.trip(pool, 1000, 0)
    boa.env.time_travel(seconds=600)
    breaker.resume(pool)
    assert not breaker.is_halted(pool)


def test_exits_do_not_use_up_the_outflow_budget(pool, usde, usdc, liquidity_provider):
    _, _, headroom0, headroom1 = pool.breaker_metrics()
    with boa.env.prank(liquidity_provider):
        pool.remove_liquidity(pool.balanceOf(liquidity_provider) // 2, 0, 0, liquidity_provider, FAR)
    _, _, after0, after1 = pool.breaker_metrics()
    reserve0, reserve1 = pool.get_reserves()
    # The whole cap of the new reserves is left (to the limiter's unit of 1e-6 token): no outflow counted.
    assert reserve0 * 3 // 10 - after0 < 10**12 and after1 == reserve1 * 3 // 10


def swap_until_outflow_trip(pool, usde, trader):
    with boa.env.prank(trader):
        for _ in range(20):
            boa.env.time_travel(seconds=BLOCK)
            pool.swap(usde, 50_000 * USDE, 0, trader, FAR)
            if trips(pool):
                return trips(pool)
    return []


def test_a_re_trip_after_resume_needs_new_outflow(pool, breaker, governor, usde, usdc, trader):
    assert [r for r, _ in swap_until_outflow_trip(pool, usde, trader)] == [13]
    with boa.env.prank(governor):
        breaker.resume(pool)
    _, _, _, headroom1 = pool.breaker_metrics()
    assert headroom1 == pool.get_reserves()[1] * 3 // 10, "the resume starts the limiter afresh"
    boa.env.time_travel(seconds=600)  # past the cool-down
    with boa.env.prank(trader):
        pool.swap(usde, 20_000 * USDE, 0, trader, FAR)
    assert trips(pool) == [] and not breaker.is_halted(pool)


def test_a_flash_deposit_does_not_shrink_the_outflow_cap_under_a_swap(pool, breaker, usde, usdc, fund):
    # Deposit 9x the pool, sell at the band into the big pool (~5 % of it flows out), exit: the net
    # outflow of the big pool used to stand against a cap of 30 % of the small one, and the next
    # swap tripped (reason 13), all in one block. The lanes now rescale with the reserves.
    attacker = lp_account(pool, usde, usdc, fund, "attacker", 10_000_000)
    boa.env.time_travel(seconds=SEED_CREDIT_SECONDS)
    with boa.env.prank(attacker):
        shares = pool.add_liquidity(9_000_000 * USDE, 9_000_000 * USDC, 0, attacker, FAR)
        pool.swap(usde, 500_000 * USDE, 0, attacker, FAR)
        pool.remove_liquidity(shares, 0, 0, attacker, FAR)
        raised = trips(pool)
        pool.swap(usde, 1_000 * USDE, 0, attacker, FAR)
        raised += trips(pool)
    assert raised == []
    assert not breaker.is_halted(pool)
    _, _, _, headroom1 = pool.breaker_metrics()
    assert headroom1 * 10 >= pool.get_reserves()[1] * 2, "the exit left the outflow fraction as it was"
