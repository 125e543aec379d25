"""InsuranceFund under issue 14.6 and 14.3: a staker cannot run ahead of a loss (exits settle after a delay
and bear every cover until then), the governor's cover has a hard maximum per event, a halt stops the
unstake clock, and any token but the asset can be recovered (never the stakers' USDC or the escrow)."""

import boa
import pytest
from conftest import deploy

DAY = 86400
USDC = 10**6
OFFSET = 6
STAKE = 500_000 * USDC
LOSS = 100_000 * USDC


@pytest.fixture(scope="module")
def cover_agent():
    return boa.env.generate_address("cover_agent")


@pytest.fixture(scope="module")
def custody(breaker, governor, deployer):
    with boa.env.prank(deployer):
        contract = deploy("Custody", breaker.address, governor, governor)
    with boa.env.prank(governor):
        breaker.protect(contract, 3600)
    return contract


@pytest.fixture(scope="module")
def fund(breaker, governor, cover_agent, custody, usdc, deployer):
    with boa.env.prank(deployer):
        contract = deploy("InsuranceFund", usdc.address, breaker.address, governor, OFFSET)
    with boa.env.prank(governor):
        breaker.protect(contract, 3600)
        contract.grantRole(contract.COVER_ROLE(), cover_agent)
        contract.set_custody(custody, True)
    return contract


@pytest.fixture(scope="module")
def alice():
    return boa.env.generate_address("alice")


@pytest.fixture(scope="module")
def bob():
    return boa.env.generate_address("bob")


def stake(fund, usdc, who, amount):
    usdc.mint(who, amount)
    with boa.env.prank(who):
        usdc.approve(fund, amount)
        return fund.deposit(amount, who)


def events(contract, name):
    return [e for e in contract.get_logs() if type(e).__name__ == name]


def two_stakers_alice_matured(fund, usdc, alice, bob):
    """Alice and Bob stake 500k each; Alice asks to unstake everything and waits out the cooldown."""
    shares = stake(fund, usdc, alice, STAKE)
    stake(fund, usdc, bob, STAKE)
    with boa.env.prank(alice):
        fund.request_unstake(shares)
    boa.env.time_travel(seconds=7 * DAY)
    assert fund.maxRedeem(alice) == shares
    return shares


# -- 14.6: a matured request cannot run ahead of a cover ---------------------------------------------------------


def test_a_matured_exit_started_just_before_a_cover_bears_its_share_of_the_loss(
    fund, usdc, alice, bob, cover_agent, custody
):
    shares = two_stakers_alice_matured(fund, usdc, alice, bob)
    # The engine has written off 100k of bad debt; Alice sees it and exits one block before the cover.
    with boa.env.prank(alice):
        fund.redeem(shares, alice, alice)
    with boa.env.prank(cover_agent):
        fund.cover(LOSS, custody, "bad debt USDC to 100000")  # no halt preceded it
    boa.env.time_travel(seconds=fund.settlement_delay())
    fund.settle_exit(alice)  # anyone may settle it
    alice_loss = STAKE - usdc.balanceOf(alice)
    bob_loss = STAKE - fund.convertToAssets(fund.balanceOf(bob))
    # Before the fix: Alice 0, Bob the whole 100k. Now each bears half (a few atoms of rounding).
    assert abs(alice_loss - LOSS // 2) <= 2 and abs(bob_loss - LOSS // 2) <= 2
    assert alice_loss + bob_loss <= LOSS + 2


def test_an_exit_settled_before_the_loss_owes_nothing(fund, usdc, alice, bob, cover_agent, custody):
    shares = two_stakers_alice_matured(fund, usdc, alice, bob)
    with boa.env.prank(alice):
        fund.redeem(shares, alice, alice)
    boa.env.time_travel(seconds=fund.settlement_delay())
    fund.settle_exit(alice)
    with boa.env.prank(cover_agent):
        fund.cover(LOSS // 2, custody, "a later loss")
    assert usdc.balanceOf(alice) >= STAKE - 1  # she had left before it
    assert fund.totalAssets() == STAKE - LOSS // 2


def test_gains_during_settlement_stay_with_the_fund(fund, usdc, alice, bob):
    shares = two_stakers_alice_matured(fund, usdc, alice, bob)
    with boa.env.prank(alice):
        quoted = fund.redeem(shares, alice, alice)
    usdc.mint(fund, 10_000 * USDC)  # pool fees arrive while her exit settles
    boa.env.time_travel(seconds=fund.settlement_delay())
    assert fund.settle_exit(alice) == quoted  # the lower of the quote and the value now
    assert fund.convertToAssets(fund.balanceOf(bob)) >= STAKE + 10_000 * USDC - 2


def test_a_halt_freezes_settlement_and_a_cover_during_it_lands_first(
    fund, usdc, alice, bob, breaker, guardian, governor, custody
):
    shares = two_stakers_alice_matured(fund, usdc, alice, bob)
    with boa.env.prank(alice):
        fund.redeem(shares, alice, alice)
    with boa.env.prank(guardian):
        breaker.pause_all()
    boa.env.time_travel(seconds=fund.settlement_delay())
    with boa.reverts("fund: unstaking frozen while halted"):
        fund.settle_exit(alice)
    with boa.env.prank(governor):
        fund.cover(LOSS, custody, "shortfall found during the halt")
        breaker.unpause_all()
    fund.settle_exit(alice)
    assert abs((STAKE - usdc.balanceOf(alice)) - LOSS // 2) <= 2


def test_a_second_exit_to_another_receiver_is_refused_and_cancel_returns_everything(fund, usdc, alice, bob):
    shares = two_stakers_alice_matured(fund, usdc, alice, bob)
    with boa.env.prank(alice):
        fund.redeem(shares // 2, alice, alice)
        with boa.reverts("fund: an exit to another receiver is settling"):
            fund.redeem(shares // 4, bob, alice)
        assert fund.cancel_unstake() == shares
    assert fund.balanceOf(alice) == shares
    with boa.reverts("fund: no exit settling"):
        fund.settle_exit(alice)


# -- 14.6: a hard maximum per cover event --------------------------------------------------------------------


def test_no_cover_pays_more_than_the_per_event_maximum(fund, usdc, alice, governor, cover_agent, custody):
    stake(fund, usdc, alice, 1_000_000 * USDC)
    assert fund.max_cover_bps() == 3_000
    with boa.env.prank(governor), boa.reverts("fund: cover above the per-event maximum"):
        fund.cover(300_000 * USDC + 1, custody, "above the max slash")
    with boa.env.prank(governor):
        fund.cover(300_000 * USDC, custody, "the max slash")
        # The cover role's cap cannot lift it either.
        fund.set_parameters(7 * DAY, 2 * DAY, 10_000)
    with boa.env.prank(cover_agent), boa.reverts("fund: cover above the per-event maximum"):
        fund.cover(700_000 * 3_000 // 10_000 * USDC + 1, custody, "above")
    assert fund.cover_headroom() == 700_000 * 3_000 // 10_000 * USDC  # what the poster reads


@pytest.mark.parametrize(
    ("max_cover", "delay", "reason"),
    [
        (0, DAY, "fund: max cover out of range"),
        (5_001, DAY, "fund: max cover out of range"),
        (3_000, 3_599, "fund: settlement delay out of range"),
        (3_000, 7 * DAY + 1, "fund: settlement delay out of range"),
    ],
)
def test_limits_out_of_range_are_refused(fund, governor, max_cover, delay, reason):
    with boa.env.prank(governor), boa.reverts(reason):
        fund.set_limits(max_cover, delay)


def test_the_governor_sets_the_limits_with_an_event(fund, governor, stranger):
    with boa.env.prank(stranger), boa.reverts("access_control: account is missing role"):
        fund.set_limits(5_000, 3600)
    with boa.env.prank(governor):
        fund.set_limits(5_000, 3600)
    (event,) = events(fund, "LimitsSet")
    assert (event.max_cover_bps, event.settlement_delay) == (5_000, 3600)


# -- 14.6: a halt stops the unstake clock -------------------------------------------------------------------


@pytest.mark.parametrize("how", ["pause_all", "custody_tripped"])
def test_a_halt_that_covers_the_window_extends_it(
    fund, usdc, alice, breaker, guardian, sentinel, governor, custody, how
):
    shares = stake(fund, usdc, alice, STAKE)
    with boa.env.prank(alice):
        fund.request_unstake(shares)
    boa.env.time_travel(seconds=8 * DAY)  # one day of the two-day window left
    if how == "pause_all":
        with boa.env.prank(guardian):
            breaker.pause_all()
    else:
        with boa.env.prank(sentinel):
            breaker.trip(custody, 50, 9_000)
    boa.env.time_travel(seconds=3 * DAY)  # the window's end passes during the halt
    with boa.env.prank(governor):
        if how == "pause_all":
            breaker.unpause_all()
        else:
            breaker.resume(custody)
    # Before the fix the request had silently expired; now the day that was left is still there.
    assert fund.maxRedeem(alice) == shares
    unlocks_at, ends_at = fund.unstake_window_of(alice)
    assert ends_at - boa.env.evm.patch.timestamp == DAY
    boa.env.time_travel(seconds=DAY - 1)
    with boa.env.prank(alice):
        fund.redeem(shares, alice, alice)


def test_a_halt_during_the_cooldown_moves_the_unlock(fund, usdc, alice, breaker, guardian, governor):
    shares = stake(fund, usdc, alice, STAKE)
    with boa.env.prank(alice):
        fund.request_unstake(shares)
    boa.env.time_travel(seconds=2 * DAY)
    with boa.env.prank(guardian):
        breaker.pause(fund)
    boa.env.time_travel(seconds=DAY)
    with boa.env.prank(governor):
        breaker.resume(fund)
    boa.env.time_travel(seconds=4 * DAY)  # seven days since the request, six of them running
    assert fund.maxRedeem(alice) == 0
    with boa.env.prank(alice), boa.reverts("fund: cooldown not over"):
        fund.redeem(shares, alice, alice)
    boa.env.time_travel(seconds=DAY)
    assert fund.maxRedeem(alice) == shares


def test_the_halt_clock_counts_overlapping_halts_once(fund, breaker, guardian, sentinel, governor, custody):
    start = fund.halt_clock()
    with boa.env.prank(sentinel):
        breaker.trip(custody, 50, 9_000)
    boa.env.time_travel(seconds=100)
    with boa.env.prank(guardian):
        breaker.pause(fund)
    boa.env.time_travel(seconds=100)
    with boa.env.prank(governor):
        breaker.resume(custody)
    boa.env.time_travel(seconds=100)
    with boa.env.prank(governor):
        breaker.resume(fund)
    boa.env.time_travel(seconds=1_000)
    assert fund.halt_clock() - start == 300
    assert fund.sync_halt_clock() - start == 300
    assert fund.halt_clock() - start == 300


def test_the_halt_clock_does_not_count_the_gap_between_two_targets_halts(
    fund, breaker, guardian, sentinel, governor, custody
):
    start = fund.halt_clock()
    with boa.env.prank(sentinel):
        breaker.trip(custody, 50, 9_000)
    boa.env.time_travel(seconds=100)
    with boa.env.prank(governor):
        breaker.resume(custody)
    boa.env.time_travel(seconds=1_000)  # running: not halted time
    with boa.env.prank(guardian):
        breaker.pause(fund)
    boa.env.time_travel(seconds=100)
    with boa.env.prank(governor):
        breaker.resume(fund)
    assert fund.halt_clock() - start == 200


# -- 14.3: other tokens can leave, the asset never ---------------------------------------------------------


@pytest.fixture
def usde(deployer):
    with boa.env.prank(deployer):
        return deploy("DevToken", "Ethena USDe (devnet)", "USDE", 18)


def test_the_governor_recovers_another_token_with_an_event(fund, usde, governor):
    usde.mint(fund, 1_770 * 10**18)  # protocol fees in the pool's other token
    receiver = boa.env.generate_address("treasury")
    with boa.env.prank(governor):
        assert fund.recover_token(usde, receiver) == 1_770 * 10**18
    (event,) = events(fund, "TokenRecovered")
    assert (event.token, event.receiver, event.amount) == (usde.address, receiver, 1_770 * 10**18)
    assert usde.balanceOf(receiver) == 1_770 * 10**18 and usde.balanceOf(fund) == 0
    with boa.env.prank(governor), boa.reverts("fund: nothing to recover"):
        fund.recover_token(usde, receiver)


def test_recover_token_never_touches_the_asset_or_the_escrow(fund, usdc, alice, governor, stranger, usde):
    shares = stake(fund, usdc, alice, STAKE)
    with boa.env.prank(alice):
        fund.request_unstake(shares)  # escrowed: the fund holds its own shares
    with boa.env.prank(governor), boa.reverts("fund: cannot recover the fund's asset"):
        fund.recover_token(usdc, governor)
    with boa.env.prank(governor), boa.reverts("fund: cannot recover the escrowed shares"):
        fund.recover_token(fund, governor)
    usde.mint(fund, 1)
    with boa.env.prank(stranger), boa.reverts("access_control: account is missing role"):
        fund.recover_token(usde, stranger)
    with boa.env.prank(governor), boa.reverts("fund: zero address"):
        fund.recover_token(usde, "0x" + "00" * 20)
    assert fund.totalAssets() == STAKE and fund.balanceOf(fund) == shares
