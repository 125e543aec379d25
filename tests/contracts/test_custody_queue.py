"""Custody under issue 14.5: a cap breach holds the withdrawal (queued, claimable later) instead of halting
Custody and freezing the fund; a permissionless resume once the registry is fresh and solvent; paid_out.

Wired as scripts/deploy.py does: the registry counts Custody's balance and trips it (sentinel role), the
fund freezes unstaking while Custody is halted; limits at the deploy defaults (100k per user, 1M global
per rolling day)."""

import boa
import pytest
from conftest import deploy

HOUR, DAY = 3600, 86400
USDC = 10**6
USER_CAP, GLOBAL_CAP = 100_000 * USDC, 1_000_000 * USDC
QUEUED, PAID, CANCELLED = 1, 2, 3


@pytest.fixture(scope="module")
def operator():
    return boa.env.generate_address("operator")


@pytest.fixture(scope="module")
def attester():
    return boa.env.generate_address("attester")


@pytest.fixture(scope="module")
def registry(breaker, governor, attester, deployer):
    with boa.env.prank(deployer):
        contract = deploy("ReserveRegistry", breaker.address, governor, attester)
    with boa.env.prank(governor):
        breaker.protect(contract, HOUR)
        breaker.grantRole(breaker.SENTINEL_ROLE(), contract)
    return contract


@pytest.fixture(scope="module")
def custody(breaker, governor, operator, usdc, registry, deployer):
    with boa.env.prank(deployer):
        contract = deploy("Custody", breaker.address, governor, operator)
    with boa.env.prank(governor):
        breaker.protect(contract, HOUR)
        contract.set_token(usdc, True, USER_CAP, GLOBAL_CAP, DAY)
        contract.set_registry(registry)
        registry.set_reserve_address(contract, True)
        registry.set_halt_target(contract)
        registry.set_custody(contract)
    return contract


@pytest.fixture(scope="module")
def insurance(breaker, governor, custody, usdc, deployer):
    with boa.env.prank(deployer):
        contract = deploy("InsuranceFund", usdc.address, breaker.address, governor, 6)
    with boa.env.prank(governor):
        breaker.protect(contract, HOUR)
        contract.set_custody(custody, True)
    return contract


def deposit(custody, usdc, who, amount):
    usdc.mint(who, amount)
    with boa.env.prank(who):
        usdc.approve(custody, amount)
        custody.deposit(usdc, amount)


def events(contract, name):
    return [e for e in contract.get_logs() if type(e).__name__ == name]


def rid(n: int) -> bytes:
    return n.to_bytes(32, "big")


def users(n: int) -> list:
    return [boa.env.generate_address(f"user{i}") for i in range(n)]


def fill_the_global_cap(custody, usdc, operator) -> list:
    """Ten users withdraw 100k each at once: the global cap of 1M is used up."""
    usdc.mint(custody, 2 * GLOBAL_CAP)
    ten = users(10)
    with boa.env.prank(operator):
        for i, user in enumerate(ten):
            assert custody.withdraw(rid(i + 1), user, usdc, USER_CAP)
    return ten


# -- 14.5: a busy day queues the breaching withdrawal; nothing halts ------------------------------------------


def test_ten_users_at_100k_then_one_more_queues_and_nothing_halts(
    custody, usdc, operator, breaker, insurance
):
    fill_the_global_cap(custody, usdc, operator)
    late = boa.env.generate_address("late_user")
    with boa.env.prank(operator):
        assert custody.withdraw(rid(11), late, usdc, USER_CAP) is False
        (queued,) = events(custody, "WithdrawalQueued")
    assert (queued.request_id, queued.user, queued.amount, queued.position) == (rid(11), late, USER_CAP, 0)
    assert queued.global_headroom < USER_CAP
    # The attack of the issue halted Custody and froze the fund: neither happens now.
    assert not breaker.is_halted(custody)
    assert not insurance.is_frozen()
    assert custody.withdrawal_state(rid(11)) == QUEUED and not custody.is_paid(rid(11))
    assert usdc.balanceOf(late) == 0 and custody.held_total(usdc) == USER_CAP
    # Deposits still work while a withdrawal is held, and so does unstaking from the fund.
    deposit(custody, usdc, boa.env.generate_address("depositor"), USDC)
    staker = boa.env.generate_address("staker")
    usdc.mint(staker, 1_000 * USDC)
    with boa.env.prank(staker):
        usdc.approve(insurance, 1_000 * USDC)
        shares = insurance.deposit(1_000 * USDC, staker)
        insurance.request_unstake(shares)
    assert insurance.unstake_requests(staker).shares == shares


def test_a_held_withdrawal_is_claimed_by_anyone_once_the_window_has_room(custody, usdc, operator, stranger):
    fill_the_global_cap(custody, usdc, operator)
    late = boa.env.generate_address("late_user")
    with boa.env.prank(operator):
        custody.withdraw(rid(11), late, usdc, USER_CAP)
    assert not custody.claimable(rid(11))
    with boa.env.prank(stranger), boa.reverts("custody: global outflow limit has no room yet"):
        custody.claim(rid(11))
    boa.env.time_travel(seconds=DAY // 10)  # a tenth of the window: 100k of room back
    assert custody.claimable(rid(11))
    paid_before = custody.paid_out(usdc)
    with boa.env.prank(stranger):
        custody.claim(rid(11))
        (claimed,) = events(custody, "WithdrawalClaimed")
        (withdrawn,) = events(custody, "Withdrawn")
    assert (claimed.request_id, claimed.caller) == (rid(11), stranger)
    assert (withdrawn.request_id, withdrawn.user, withdrawn.amount) == (rid(11), late, USER_CAP)
    assert usdc.balanceOf(late) == USER_CAP  # paid to the user, whoever claims
    assert custody.paid_out(usdc) == paid_before + USER_CAP
    assert custody.withdrawal_state(rid(11)) == PAID and custody.is_paid(rid(11))
    assert custody.held_total(usdc) == 0
    with boa.env.prank(stranger), boa.reverts("custody: request id is not queued"):
        custody.claim(rid(11))


def test_held_withdrawals_pay_first_in_first_out_and_new_ones_queue_behind(custody, usdc, operator):
    fill_the_global_cap(custody, usdc, operator)
    first, second, third = users(13)[10:]
    with boa.env.prank(operator):
        assert custody.withdraw(rid(11), first, usdc, 50_000 * USDC) is False
        assert custody.withdraw(rid(12), second, usdc, USDC) is False
    boa.env.time_travel(seconds=DAY // 100)  # 10k of room: the small one would fit, the old one not
    # The small one cannot jump the queue, and a new withdrawal that would fit queues behind.
    assert not custody.claimable(rid(12))
    with boa.reverts("custody: an earlier queued withdrawal comes first"):
        custody.claim(rid(12))
    with boa.env.prank(operator):
        assert custody.withdraw(rid(13), third, usdc, USDC) is False
        (queued,) = events(custody, "WithdrawalQueued")
    assert queued.position == 2 and custody.queue_at(usdc, 2) == rid(13)
    boa.env.time_travel(seconds=DAY // 20)
    for n in (11, 12, 13):
        custody.claim(rid(n))
    assert [usdc.balanceOf(u) for u in (first, second, third)] == [50_000 * USDC, USDC, USDC]


def test_a_resent_held_withdrawal_is_a_no_op_and_other_terms_revert(custody, usdc, operator):
    fill_the_global_cap(custody, usdc, operator)
    late = boa.env.generate_address("late_user")
    with boa.env.prank(operator):
        custody.withdraw(rid(11), late, usdc, USER_CAP)
        assert custody.withdraw(rid(11), late, usdc, USER_CAP) is False
        assert events(custody, "WithdrawalQueued") == []
        with boa.reverts("custody: request id reused with other terms"):
            custody.withdraw(rid(11), late, usdc, USER_CAP - 1)
    assert custody.held_total(usdc) == USER_CAP


def test_the_user_limit_counts_a_held_withdrawal(custody, usdc, operator):
    fill_the_global_cap(custody, usdc, operator)
    late = boa.env.generate_address("late_user")
    with boa.env.prank(operator):
        custody.withdraw(rid(11), late, usdc, USER_CAP)
        with boa.reverts("custody: user outflow limit"):
            custody.withdraw(rid(12), late, usdc, 1)


def test_a_withdrawal_above_the_whole_global_cap_is_refused(custody, usdc, operator, governor):
    usdc.mint(custody, 3 * GLOBAL_CAP)
    with boa.env.prank(governor):
        custody.set_token(usdc, True, GLOBAL_CAP, GLOBAL_CAP, DAY)
    whale = boa.env.generate_address("whale")
    deposit(custody, usdc, whale, GLOBAL_CAP)  # her own deposit buys her user room beyond the cap
    with boa.env.prank(operator), boa.reverts("custody: amount above the global outflow cap"):
        custody.withdraw(rid(1), whale, usdc, GLOBAL_CAP + 1)


def test_the_governor_cancels_a_held_withdrawal_and_its_id_is_dead(
    custody, usdc, operator, governor, stranger
):
    fill_the_global_cap(custody, usdc, operator)
    late, next_user = users(12)[10:]
    with boa.env.prank(operator):
        custody.withdraw(rid(11), late, usdc, USER_CAP)
        custody.withdraw(rid(12), next_user, usdc, USDC)
    with boa.env.prank(stranger), boa.reverts("access_control: account is missing role"):
        custody.cancel_queued(rid(11))
    with boa.env.prank(governor):
        custody.cancel_queued(rid(11))
        (cancelled,) = events(custody, "WithdrawalCancelled")
    assert (cancelled.request_id, cancelled.user, cancelled.amount) == (rid(11), late, USER_CAP)
    assert custody.withdrawal_state(rid(11)) == CANCELLED and custody.held_total(usdc) == USDC
    assert custody.user_headroom(late, usdc) == USER_CAP  # her limit got the amount back
    with boa.env.prank(operator), boa.reverts("custody: request id was cancelled"):
        custody.withdraw(rid(11), late, usdc, USER_CAP)
    # The next one moved up to the head.
    boa.env.time_travel(seconds=60)
    custody.claim(rid(12))
    assert usdc.balanceOf(next_user) == USDC


def test_claims_wait_while_halted(custody, usdc, operator, breaker, guardian, governor):
    fill_the_global_cap(custody, usdc, operator)
    late = boa.env.generate_address("late_user")
    with boa.env.prank(operator):
        custody.withdraw(rid(11), late, usdc, USER_CAP)
    boa.env.time_travel(seconds=DAY)
    with boa.env.prank(guardian):
        breaker.pause(custody)
    assert not custody.claimable(rid(11))
    with boa.reverts("custody: halted"):
        custody.claim(rid(11))
    with boa.env.prank(governor):
        breaker.resume(custody)
    custody.claim(rid(11))


def test_held_withdrawals_stay_hot(custody, usdc, operator, governor):
    ten = users(10)
    usdc.mint(custody, GLOBAL_CAP + USER_CAP)
    with boa.env.prank(operator):
        for i, user in enumerate(ten):
            custody.withdraw(rid(i + 1), user, usdc, USER_CAP)
        custody.withdraw(rid(11), boa.env.generate_address("late_user"), usdc, USER_CAP)
    wallet = boa.env.generate_address("cold_wallet")
    with boa.env.prank(governor):
        custody.set_cold_wallet(wallet, True)
    assert custody.hot_surplus(usdc) == 0  # the 100k left is held for the queued withdrawal
    with boa.env.prank(governor), boa.reverts("custody: would go below the hot target"):
        custody.to_cold(usdc, 1)


# -- 14.5: paid_out and the solvency check ----------------------------------------------------------------------


def test_a_paid_withdrawal_never_reads_as_a_shortfall(
    custody, usdc, registry, attester, operator, breaker, stranger
):
    alice = boa.env.generate_address("alice")
    deposit(custody, usdc, alice, 1_000 * USDC)
    with boa.env.prank(attester):  # reserves == attested liabilities
        registry.attest(1, b"\x01" * 32, [usdc.address], [1_000 * USDC], [0], 1)
    assert registry.reserve_ratio_bps(usdc) == 10_000
    with boa.env.prank(operator):
        custody.withdraw(rid(1), alice, usdc, USDC)  # 1 USDC she owns
    assert custody.paid_out(usdc) == USDC
    with boa.env.prank(stranger):
        registry.check_solvency()
    assert not breaker.is_halted(custody)
    assert registry.reserve_ratio_bps(usdc) >= 10_000


# -- 14.5: a documented permissionless resume -------------------------------------------------------------------


def _shortfall_trip(custody, usdc, registry, attester, governor, stranger):
    """Attest 1,000 owed with 1,000 held, then 100 leaves Custody without a withdrawal: a real shortfall."""
    deposit(custody, usdc, boa.env.generate_address("market_maker"), 1_000 * USDC)
    with boa.env.prank(attester):
        registry.attest(1, b"\x01" * 32, [usdc.address], [1_000 * USDC], [0], 1)
    wallet = boa.env.generate_address("not_a_reserve")
    with boa.env.prank(custody.address):
        usdc.transfer(wallet, 100 * USDC)
    with boa.env.prank(stranger):
        assert registry.check_solvency()


def test_anyone_resumes_custody_once_the_registry_is_fresh_and_solvent(
    custody, usdc, registry, attester, governor, stranger, breaker, operator
):
    _shortfall_trip(custody, usdc, registry, attester, governor, stranger)
    assert breaker.is_halted(custody) and not custody.can_resume()
    boa.env.time_travel(seconds=HOUR + 1)
    with boa.env.prank(stranger), boa.reverts("custody: resume conditions not met"):
        custody.resume()
    usdc.mint(custody, 100 * USDC)  # the reserves come back
    assert not custody.can_resume()  # still stale: the last attestation is an hour old...
    with boa.env.prank(attester):
        registry.attest(2, b"\x02" * 32, [usdc.address], [1_000 * USDC], [0], 1)
    assert custody.can_resume()
    with boa.env.prank(stranger):
        custody.resume()
    assert not breaker.is_halted(custody)
    assert breaker.protection(custody)[4] == boa.env.evm.patch.timestamp  # the resume's time
    with boa.env.prank(operator):
        assert custody.withdraw(rid(1), stranger, usdc, USDC)


def test_the_breakers_own_resume_asks_custody_too(
    custody, usdc, registry, attester, governor, stranger, breaker
):
    _shortfall_trip(custody, usdc, registry, attester, governor, stranger)
    usdc.mint(custody, 100 * USDC)
    boa.env.time_travel(seconds=HOUR)
    with boa.env.prank(attester):
        registry.attest(2, b"\x02" * 32, [usdc.address], [1_000 * USDC], [0], 1)
    with boa.env.prank(stranger):
        breaker.resume(custody)
    assert not breaker.is_halted(custody)


def test_resume_waits_for_the_halt_window_and_never_lifts_a_guardian_pause(
    custody, usdc, registry, attester, governor, guardian, sentinel, stranger, breaker
):
    deposit(custody, usdc, boa.env.generate_address("market_maker"), 1_000 * USDC)
    with boa.env.prank(attester):
        registry.attest(1, b"\x01" * 32, [usdc.address], [1_000 * USDC], [0], 1)
    with boa.env.prank(sentinel):  # any trip: the window counts from here
        breaker.trip(custody, 1000, 0)
    boa.env.time_travel(seconds=HOUR - 1)
    with boa.env.prank(attester):
        registry.attest(2, b"\x02" * 32, [usdc.address], [1_000 * USDC], [0], 1)
    assert custody.can_resume()
    with boa.env.prank(stranger), boa.reverts("breaker: halt window not over"):
        custody.resume()
    boa.env.time_travel(seconds=1)
    with boa.env.prank(guardian):
        breaker.pause(custody)
    with boa.env.prank(stranger), boa.reverts("breaker: only the governor lifts a guardian pause"):
        custody.resume()


def test_without_a_registry_custody_cannot_be_resumed_by_anyone(
    custody, governor, sentinel, stranger, breaker
):
    with boa.env.prank(governor):
        custody.set_registry("0x" + "00" * 20)
    with boa.env.prank(sentinel):
        breaker.trip(custody, 1000, 0)
    boa.env.time_travel(seconds=HOUR)
    assert not custody.can_resume()
    with boa.env.prank(stranger), boa.reverts("custody: resume conditions not met"):
        custody.resume()
