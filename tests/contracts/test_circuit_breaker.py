"""The protocol's CircuitBreaker: roles, trips, pauses and the resume rules, against a stand-in target."""

from pathlib import Path

import boa
import pytest

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
MOCKS = Path(__file__).resolve().parent / "mocks"

HALT_SECONDS = 600
GUARDIAN_PAUSE, GUARDIAN_PAUSE_ALL, POOL_VELOCITY = 1, 2, 10


def events(contract, name):
    return [e for e in contract.get_logs() if type(e).__name__ == name]


@pytest.fixture(scope="module")
def target(breaker, governor):
    """A protected contract whose `can_resume()` answer the test controls."""
    protected = boa.load(str(MOCKS / "ProtectedTarget.vy"), breaker.address)
    with boa.env.prank(governor):
        breaker.protect(protected, HALT_SECONDS)
    return protected


@pytest.fixture(scope="module")
def other_target(breaker, governor):
    protected = boa.load(str(MOCKS / "ProtectedTarget.vy"), breaker.address)
    with boa.env.prank(governor):
        breaker.protect(protected, HALT_SECONDS)
    return protected


def test_constructor_gives_each_role_and_the_deployer_none(breaker, deployer, governor, guardian, sentinel):
    assert breaker.hasRole(breaker.GOVERNOR_ROLE(), governor)
    assert breaker.hasRole(breaker.GUARDIAN_ROLE(), guardian)
    assert breaker.hasRole(breaker.SENTINEL_ROLE(), sentinel)
    for role in (breaker.DEFAULT_ADMIN_ROLE(), breaker.GOVERNOR_ROLE(), breaker.GUARDIAN_ROLE()):
        assert not breaker.hasRole(role, deployer)
    for role in (breaker.GOVERNOR_ROLE(), breaker.GUARDIAN_ROLE(), breaker.SENTINEL_ROLE()):
        assert breaker.getRoleAdmin(role) == breaker.GOVERNOR_ROLE()


def test_constructor_refuses_a_zero_governor(deployer, guardian, sentinel):
    with boa.env.prank(deployer), boa.reverts("breaker: governor is the zero address"):
        boa.load(str(CONTRACTS / "CircuitBreaker.vy"), "0x" + "00" * 20, guardian, sentinel)


def test_protect_registers_target_with_its_window(breaker, target, governor):
    assert breaker.protection(target) == (True, False, False, 0, 0, HALT_SECONDS)
    assert breaker.targets_count() == 1 and breaker.targets(0) == target.address
    with boa.env.prank(governor):
        breaker.protect(target, 1200)
    assert events(breaker, "Protected")[0].halt_seconds == 1200
    assert breaker.protection(target)[5] == 1200
    assert breaker.targets_count() == 1


@pytest.mark.parametrize("halt_seconds", [0, 7 * 86400 + 1])
def test_protect_rejects_a_window_out_of_range(breaker, target, governor, halt_seconds):
    with boa.env.prank(governor), boa.reverts("breaker: halt window out of range"):
        breaker.protect(target, halt_seconds)


def test_target_trips_itself_with_reason_and_metric(breaker, target):
    target.trip_self(POOL_VELOCITY, 1_234)
    (tripped,) = events(target, "Tripped")
    assert (tripped.target, tripped.caller, tripped.reason, tripped.metric) == (
        target.address,
        target.address,
        POOL_VELOCITY,
        1_234,
    )
    assert breaker.is_halted(target)
    assert breaker.halt_state(target) == (True, 0)
    assert (breaker.last_reason(target), breaker.last_metric(target)) == (POOL_VELOCITY, 1_234)


def test_sentinel_trips_any_protected_target(breaker, target, sentinel):
    with boa.env.prank(sentinel):
        breaker.trip(target, 1000, 7)
    assert breaker.is_halted(target)


def test_stranger_cannot_trip_a_target(breaker, target, stranger):
    with boa.env.prank(stranger), boa.reverts("breaker: caller is not the target or a sentinel"):
        breaker.trip(target, 1000, 7)
    assert not breaker.is_halted(target)


def test_trip_of_an_unprotected_target_reverts(breaker, sentinel, stranger):
    with boa.env.prank(sentinel), boa.reverts("breaker: target not protected"):
        breaker.trip(stranger, 1000, 7)


def test_second_trip_records_reason_but_keeps_the_halt_window(breaker, target):
    target.trip_self(POOL_VELOCITY, 1)
    halted_at = breaker.protection(target)[3]
    boa.env.time_travel(seconds=300)
    target.trip_self(11, 2)
    assert breaker.protection(target)[3] == halted_at
    assert (breaker.last_reason(target), breaker.last_metric(target)) == (11, 2)


def test_anyone_resumes_a_trip_after_the_window_when_the_target_agrees(breaker, target, stranger):
    target.trip_self(POOL_VELOCITY, 1)
    target.set_ready(True)
    boa.env.time_travel(seconds=HALT_SECONDS - 1)
    with boa.env.prank(stranger), boa.reverts("breaker: halt window not over"):
        breaker.resume(target)
    boa.env.time_travel(seconds=1)
    with boa.env.prank(stranger):
        breaker.resume(target)
    (resumed,) = events(breaker, "Resumed")
    assert (resumed.target, resumed.caller, resumed.governor) == (target.address, stranger, False)
    assert breaker.halt_state(target) == (False, boa.env.evm.patch.timestamp)


def test_resume_waits_for_the_targets_own_conditions(breaker, target, stranger):
    target.trip_self(POOL_VELOCITY, 1)
    boa.env.time_travel(seconds=HALT_SECONDS * 10)
    with boa.env.prank(stranger), boa.reverts("breaker: target's resume conditions not met"):
        breaker.resume(target)
    assert breaker.is_halted(target)


def test_target_without_can_resume_needs_the_governor(breaker, governor, sentinel, stranger):
    bare_target = boa.env.generate_address("custody_without_rules")
    with boa.env.prank(governor):
        breaker.protect(bare_target, HALT_SECONDS)
    with boa.env.prank(sentinel):
        breaker.trip(bare_target, 1000, 0)
    boa.env.time_travel(seconds=HALT_SECONDS)
    with boa.env.prank(stranger), boa.reverts("breaker: target's resume conditions not met"):
        breaker.resume(bare_target)
    with boa.env.prank(governor):
        breaker.resume(bare_target)
    assert not breaker.is_halted(bare_target)


def test_resume_of_a_running_target_reverts(breaker, target, governor):
    with boa.env.prank(governor), boa.reverts("breaker: target is not halted"):
        breaker.resume(target)


def test_governor_resumes_at_any_time(breaker, target, governor):
    target.trip_self(POOL_VELOCITY, 1)
    with boa.env.prank(governor):
        breaker.resume(target)
    assert events(breaker, "Resumed")[0].governor is True
    assert not breaker.is_halted(target)


def test_guardian_pause_halts_at_once_and_guardian_cannot_lift_it(breaker, target, guardian):
    target.set_ready(True)
    with boa.env.prank(guardian):
        breaker.pause(target)
    (paused,) = events(breaker, "Paused")
    assert (paused.target, paused.guardian, paused.reason) == (target.address, guardian, GUARDIAN_PAUSE)
    assert breaker.protection(target)[:3] == (True, True, True)
    boa.env.time_travel(seconds=HALT_SECONDS)
    with boa.env.prank(guardian), boa.reverts("breaker: only the governor lifts a guardian pause"):
        breaker.resume(target)
    with boa.env.prank(guardian), boa.reverts("access_control: account is missing role"):
        breaker.unpause_all()
    assert breaker.is_halted(target)


def test_guardian_pause_over_a_trip_makes_it_the_governors_to_lift(breaker, target, guardian, stranger):
    target.trip_self(POOL_VELOCITY, 1)
    target.set_ready(True)
    with boa.env.prank(guardian):
        breaker.pause(target)
    boa.env.time_travel(seconds=HALT_SECONDS)
    with boa.env.prank(stranger), boa.reverts("breaker: only the governor lifts a guardian pause"):
        breaker.resume(target)


def test_pause_all_halts_every_target_and_unprotected_callers(
    breaker, target, other_target, guardian, governor, stranger
):
    with boa.env.prank(guardian):
        breaker.pause_all()
    assert [e.reason for e in events(breaker, "Paused")] == [GUARDIAN_PAUSE_ALL, GUARDIAN_PAUSE_ALL]
    assert len(events(breaker, "PausedAll")) == 1
    assert breaker.all_paused()
    assert breaker.is_halted(target) and breaker.is_halted(other_target)
    assert breaker.is_halted(stranger), "an unprotected contract asking must see the global pause"

    late_target = boa.env.generate_address("late_target")
    with boa.env.prank(governor):
        breaker.protect(late_target, HALT_SECONDS)
    assert breaker.protection(late_target)[:3] == (True, True, True)


def test_unpause_all_lifts_pauses_and_trips_and_starts_cool_downs(
    breaker, target, other_target, guardian, governor
):
    other_target.trip_self(POOL_VELOCITY, 1)
    with boa.env.prank(guardian):
        breaker.pause_all()
    boa.env.time_travel(seconds=60)
    with boa.env.prank(governor):
        breaker.unpause_all()
    assert len(events(breaker, "Resumed")) == 2 and len(events(breaker, "UnpausedAll")) == 1
    now = boa.env.evm.patch.timestamp
    assert not breaker.all_paused()
    assert breaker.halt_state(target) == (False, now)
    assert breaker.halt_state(other_target) == (False, now)


def test_revoked_guardian_can_no_longer_pause(breaker, target, guardian, governor):
    with boa.env.prank(governor):
        breaker.revokeRole(breaker.GUARDIAN_ROLE(), guardian)
    with boa.env.prank(guardian), boa.reverts("access_control: account is missing role"):
        breaker.pause(target)
    with boa.env.prank(guardian), boa.reverts("access_control: account is missing role"):
        breaker.pause_all()


def test_guardian_renounces_its_own_power(breaker, target, guardian):
    with boa.env.prank(guardian):
        breaker.renounceRole(breaker.GUARDIAN_ROLE(), guardian)
        with boa.reverts("access_control: account is missing role"):
            breaker.pause(target)


def test_governor_appoints_a_new_guardian(breaker, target, governor):
    night_guardian = boa.env.generate_address("night_guardian")
    with boa.env.prank(governor):
        breaker.grantRole(breaker.GUARDIAN_ROLE(), night_guardian)
    with boa.env.prank(night_guardian):
        breaker.pause(target)
    assert breaker.is_halted(target)


def test_pause_of_an_unprotected_target_reverts(breaker, guardian, stranger):
    with boa.env.prank(guardian), boa.reverts("breaker: target not protected"):
        breaker.pause(stranger)


def test_a_target_sees_only_its_own_halt(breaker, target, other_target):
    target.trip_self(POOL_VELOCITY, 1)
    assert breaker.is_halted(target)
    assert not breaker.is_halted(other_target)
