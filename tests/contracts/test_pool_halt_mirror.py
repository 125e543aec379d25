"""The pool's mirror of its halt state: the breaker pushes every transition, so a swap reads one slot it
already needs instead of calling `is_halted`, and the mirror never says "running" while the breaker says
"halted" (the stateful machine in test_pool_stateful.py checks the same after every random step)."""

from pathlib import Path

import boa
import pytest

MOCKS = Path(__file__).resolve().parent / "mocks"
USDE, USDC = 10**18, 10**6
FAR = 2**40
HALTED = "pool: halted by the circuit breaker"


def mirror_matches(pool, breaker):
    """The pool's (mirrored, halted, resumed_at) against the breaker's own answer."""
    return pool.halt_state() == (True, *breaker.halt_state(pool))


@pytest.fixture
def seeded_pool_type(pool_type, breaker, usde, usdc, insurance_fund, fund):
    """Return `deploy()`: a new pool seeded with 1M a side, not yet protected."""

    def deploy():
        pool = pool_type.deploy(usde, usdc, breaker, insurance_fund, 1, 1, "Late LP", "LLP")
        market_maker = boa.env.generate_address("market_maker")
        fund(market_maker, pool, usde, 1_000_000 * USDE)
        fund(market_maker, pool, usdc, 1_000_000 * USDC)
        with boa.env.prank(market_maker):
            pool.add_liquidity(1_000_000 * USDE, 1_000_000 * USDC, 0, market_maker, FAR)
        return pool

    return deploy


def test_an_unprotected_pool_refuses_swaps_until_the_breaker_protects_it(
    seeded_pool_type, breaker, governor, usde, trader, fund
):
    pool = seeded_pool_type()  # deposits work before protection: only swaps need the breaker
    fund(trader, pool, usde, 1_000 * USDE)
    assert pool.halt_state() == (False, False, 0)
    with boa.env.prank(trader), boa.reverts("pool: not protected by the breaker"):
        pool.swap(usde, 1_000 * USDE, 0, trader, FAR)
    with boa.env.prank(governor):
        breaker.protect(pool, 600)
    assert breaker.mirrors(pool)
    assert pool.halt_state() == (True, False, 0)
    with boa.env.prank(trader):
        assert pool.swap(usde, 1_000 * USDE, 0, trader, FAR) > 0


def test_the_mirror_follows_every_transition(pool, breaker, governor, guardian, sentinel, usde, trader):
    assert mirror_matches(pool, breaker) and not breaker.is_halted(pool)
    steps = [
        (sentinel, lambda: breaker.trip(pool, 1000, 0), True),
        (governor, lambda: breaker.resume(pool), False),
        (guardian, lambda: breaker.pause(pool), True),
        (governor, lambda: breaker.unpause_all(), False),
        (guardian, lambda: breaker.pause_all(), True),
        (governor, lambda: breaker.resume(pool), False),
        (guardian, lambda: breaker.pause_all(), True),
        (governor, lambda: breaker.unpause_all(), False),
    ]
    for actor, transition, halted in steps:
        boa.env.time_travel(seconds=60)
        with boa.env.prank(actor):
            transition()
        assert breaker.is_halted(pool) == halted
        assert mirror_matches(pool, breaker)
        assert pool.halt_state()[1] == halted
        if halted:
            with boa.env.prank(trader), boa.reverts(HALTED):
                pool.swap(usde, USDE, 0, trader, FAR)
    assert pool.halt_state()[2] == boa.env.evm.patch.timestamp, "the cool-down starts at the last resume"


def test_a_pool_protected_during_pause_all_starts_halted(
    seeded_pool_type, breaker, governor, guardian, usde, trader, fund
):
    with boa.env.prank(guardian):
        breaker.pause_all()
    pool = seeded_pool_type()
    fund(trader, pool, usde, USDE)
    with boa.env.prank(governor):
        breaker.protect(pool, 600)
    assert breaker.is_halted(pool) and pool.halt_state() == (True, True, 0)
    with boa.env.prank(trader), boa.reverts(HALTED):
        pool.swap(usde, USDE, 0, trader, FAR)
    with boa.env.prank(governor):
        breaker.unpause_all()
    assert mirror_matches(pool, breaker)
    boa.env.time_travel(seconds=12)  # no swap in the block of a resume (issue 14.2)
    with boa.env.prank(trader):
        pool.swap(usde, USDE, 0, trader, FAR)


def test_the_pools_own_trip_updates_its_mirror_in_the_same_swap(pool, breaker, governor, usde, trader):
    # Reference sizes of 100k make the 1M pool thin; two 50k sells in two blocks leave the EMA ~17 % behind.
    with boa.env.prank(governor):
        pool.set_parameters(
            pool.parameters()._replace(reference_size0=100_000 * USDE, reference_size1=10**11)
        )
    with boa.env.prank(trader):
        pool.swap(usde, 50_000 * USDE, 0, trader, FAR)
        boa.env.time_travel(seconds=12)  # one block may not move the price past the band (issue 14.2)
        pool.swap(usde, 50_000 * USDE, 0, trader, FAR)
    assert breaker.is_halted(pool), "the trip went through the breaker, which pushed back into the pool"
    assert pool.halt_state() == (True, True, 0)


def test_only_the_breaker_may_push(pool, governor, guardian, stranger):
    for caller in (governor, guardian, stranger):
        with boa.env.prank(caller), boa.reverts("pool: caller is not the breaker"):
            pool.on_halt_state(False, 0)


def test_governor_parameter_changes_keep_the_mirror(pool, breaker, governor, guardian):
    with boa.env.prank(guardian):
        breaker.pause(pool)
    with boa.env.prank(governor):
        pool.set_parameters(pool.parameters()._replace(fee_bps=5))
    assert pool.fee_bps() == 5
    assert pool.halt_state() == (True, True, 0), "a parameter change must leave the mirror alone"


# --- the breaker's side, against a stand-in target


@pytest.fixture
def mirroring_target(breaker, governor):
    target = boa.load(str(MOCKS / "MirroringTarget.vy"), breaker.address)
    with boa.env.prank(governor):
        breaker.protect(target, 600)
    return target


def test_a_refused_push_reverts_the_transition(breaker, mirroring_target, guardian, sentinel):
    assert breaker.mirrors(mirroring_target) and mirroring_target.pushes() == 1
    mirroring_target.set_refuse(True)
    with boa.env.prank(guardian), boa.reverts("mirror: push refused"):
        breaker.pause(mirroring_target)
    with boa.env.prank(guardian), boa.reverts("mirror: push refused"):
        breaker.pause_all()
    with boa.env.prank(sentinel), boa.reverts("mirror: push refused"):
        breaker.trip(mirroring_target, 1000, 0)
    assert not breaker.is_halted(mirroring_target) and not breaker.all_paused()
    mirroring_target.set_refuse(False)
    with boa.env.prank(guardian):
        breaker.pause_all()
    assert mirroring_target.halted() and mirroring_target.pushes() == 2


def test_a_target_that_does_not_acknowledge_is_not_pushed(breaker, governor, sentinel):
    stand_in = boa.load(str(MOCKS / "ProtectedTarget.vy"), breaker.address)
    custody_without_hook = boa.env.generate_address("custody_without_hook")
    for target in (stand_in.address, custody_without_hook):
        with boa.env.prank(governor):
            breaker.protect(target, 600)
        assert not breaker.mirrors(target)
        with boa.env.prank(sentinel):
            breaker.trip(target, 1000, 0)
        assert breaker.is_halted(target)


def test_a_failed_offer_leaves_the_target_unmirrored_until_protected_again(breaker, governor):
    target = boa.load(str(MOCKS / "MirroringTarget.vy"), breaker.address)
    target.set_refuse(True)
    with boa.env.prank(governor):
        breaker.protect(target, 600)
    assert not breaker.mirrors(target) and target.pushes() == 0
    target.set_refuse(False)
    with boa.env.prank(governor):
        breaker.protect(target, 600)
    assert breaker.mirrors(target) and target.pushes() == 1
