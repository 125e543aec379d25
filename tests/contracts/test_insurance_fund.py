"""InsuranceFund: ERC-4626 staking, unstake cooldown frozen while halted, revenue, and capped cover."""

import boa
import pytest
from conftest import deploy

DAY = 86400
USDC = 10**6
OFFSET = 6


@pytest.fixture(scope="module")
def cover_agent():
    return boa.env.generate_address("cover_agent")


@pytest.fixture(scope="module")
def staker():
    return boa.env.generate_address("staker")


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


def stake(fund, usdc, who, amount):
    usdc.mint(who, amount)
    with boa.env.prank(who):
        usdc.approve(fund, amount)
        return fund.deposit(amount, who)


def settle(fund, owner):
    """Wait out the settlement delay of `owner`'s exit and settle it (anyone may); return the assets paid."""
    boa.env.time_travel(seconds=fund.settlement_delay())
    return fund.settle_exit(owner)


def to_assets(shares, total_assets, supply):
    """ERC-4626 with virtual shares: what `shares` redeem for, rounded down."""
    return shares * (total_assets + 1) // (supply + 10**OFFSET)


def events(contract, name):
    return [e for e in contract.get_logs() if type(e).__name__ == name]


# -- staking and revenue ---------------------------------------------------------------------------------


def test_deposit_mints_shares_with_the_decimals_offset(fund, usdc, staker):
    assert fund.decimals() == 6 + OFFSET
    shares = stake(fund, usdc, staker, 1_000 * USDC)
    assert shares == 1_000 * USDC * 10**OFFSET
    assert fund.balanceOf(staker) == shares
    assert fund.totalAssets() == 1_000 * USDC
    assert fund.convertToAssets(shares) == to_assets(shares, 1_000 * USDC, shares) == 1_000 * USDC


def test_first_depositor_inflation_attack_loses_money(fund, usdc):
    attacker, victim = boa.env.generate_address("attacker"), boa.env.generate_address("victim")
    stake(fund, usdc, attacker, 1)
    usdc.mint(attacker, 10_000 * USDC)
    with boa.env.prank(attacker):
        usdc.transfer(fund, 10_000 * USDC)  # the donation that would round the victim to zero shares
    victim_shares = stake(fund, usdc, victim, 10_000 * USDC)
    assert victim_shares > 0
    victim_value = fund.convertToAssets(victim_shares)
    attacker_value = fund.convertToAssets(fund.balanceOf(attacker))
    assert victim_value >= 10_000 * USDC * 9_999 // 10_000
    assert attacker_value < 10_000 * USDC + 1  # the attacker gets back less than it put in


def test_pool_fee_transfer_raises_every_share(fund, usdc, staker):
    shares = stake(fund, usdc, staker, 1_000 * USDC)
    before = fund.convertToAssets(shares)
    pool = boa.env.generate_address("pool")
    usdc.mint(pool, 50 * USDC)
    with boa.env.prank(pool):
        usdc.transfer(fund, 50 * USDC)  # Pool.sweep: a plain transfer
    assert fund.totalAssets() == 1_050 * USDC
    # Stakers get the fee, less the sliver the virtual shares keep.
    assert fund.convertToAssets(shares) == to_assets(shares, 1_050 * USDC, shares)
    assert before + 50 * USDC - 1 <= fund.convertToAssets(shares) <= before + 50 * USDC


def test_add_revenue_pulls_from_the_engine_and_emits(fund, usdc, staker):
    stake(fund, usdc, staker, 1_000 * USDC)
    engine = boa.env.generate_address("engine")
    usdc.mint(engine, 7 * USDC)
    with boa.env.prank(engine):
        usdc.approve(fund, 7 * USDC)
        fund.add_revenue(7 * USDC)
    (event,) = events(fund, "RevenueAdded")
    assert (event.source, event.amount) == (engine, 7 * USDC)
    assert fund.totalAssets() == 1_007 * USDC
    with boa.env.prank(engine), boa.reverts("fund: zero amount"):
        fund.add_revenue(0)


# -- unstaking: request, cooldown, window ------------------------------------------------------------------


def test_unstake_pays_only_after_the_cooldown(fund, usdc, staker):
    shares = stake(fund, usdc, staker, 1_000 * USDC)
    with boa.env.prank(staker):
        unlocks_at = fund.request_unstake(shares)
    assert unlocks_at == boa.env.evm.patch.timestamp + 7 * DAY
    assert fund.balanceOf(staker) == 0 and fund.balanceOf(fund) == shares  # escrowed
    assert fund.maxRedeem(staker) == 0
    boa.env.time_travel(seconds=7 * DAY - 1)
    with boa.env.prank(staker), boa.reverts("fund: cooldown not over"):
        fund.redeem(shares, staker, staker)
    boa.env.time_travel(seconds=1)
    assert fund.maxRedeem(staker) == shares
    with boa.env.prank(staker):
        quoted = fund.redeem(shares, staker, staker)
    (started,) = events(fund, "ExitStarted")
    assert (started.owner, started.receiver, started.shares, started.assets) == (
        staker,
        staker,
        shares,
        quoted,
    )
    assert usdc.balanceOf(staker) == 0  # the exit settles after the settlement delay
    with boa.reverts("fund: exit still settling"):
        fund.settle_exit(staker)
    paid = settle(fund, staker)
    (event,) = events(fund, "Withdraw")
    assert (event.owner, event.receiver, event.assets, event.shares) == (staker, staker, paid, shares)
    assert paid == quoted == to_assets(shares, 1_000 * USDC, shares)
    assert usdc.balanceOf(staker) == paid
    assert fund.totalSupply() == 0


def test_unlocked_request_expires_after_the_window_and_can_be_cancelled(fund, usdc, staker):
    shares = stake(fund, usdc, staker, 100 * USDC)
    with boa.env.prank(staker):
        fund.request_unstake(shares)
    boa.env.time_travel(seconds=7 * DAY + 2 * DAY)
    assert fund.maxRedeem(staker) == 0
    with boa.env.prank(staker), boa.reverts("fund: unstake window expired"):
        fund.redeem(shares, staker, staker)
    with boa.env.prank(staker):
        assert fund.cancel_unstake() == shares
    assert fund.balanceOf(staker) == shares
    with boa.env.prank(staker), boa.reverts("fund: no unstake request"):
        fund.cancel_unstake()


def test_adding_to_a_request_restarts_its_cooldown(fund, usdc, staker):
    shares = stake(fund, usdc, staker, 100 * USDC)
    with boa.env.prank(staker):
        fund.request_unstake(shares // 2)
        boa.env.time_travel(seconds=6 * DAY)
        fund.request_unstake(shares // 2)
    boa.env.time_travel(seconds=2 * DAY)
    assert fund.maxRedeem(staker) == 0
    boa.env.time_travel(seconds=5 * DAY)
    assert fund.maxRedeem(staker) == shares


def test_withdraw_pays_exact_assets_and_a_third_party_needs_allowance(fund, usdc, staker):
    shares = stake(fund, usdc, staker, 100 * USDC)
    with boa.env.prank(staker):
        fund.request_unstake(shares)
    boa.env.time_travel(seconds=7 * DAY)
    helper = boa.env.generate_address("helper")
    with boa.env.prank(helper), boa.reverts("erc20: insufficient allowance"):
        fund.withdraw(40 * USDC, helper, staker)
    with boa.env.prank(staker):
        fund.approve(helper, shares)
    with boa.env.prank(helper):
        burned = fund.withdraw(40 * USDC, helper, staker)
    settle(fund, staker)
    assert usdc.balanceOf(helper) == 40 * USDC
    assert fund.unstake_requests(staker).shares == shares - burned
    with boa.env.prank(staker), boa.reverts("fund: more than the request"):
        fund.redeem(shares, staker, staker)


def test_a_request_cannot_exceed_the_balance(fund, usdc, staker):
    shares = stake(fund, usdc, staker, 100 * USDC)
    with boa.env.prank(staker), boa.reverts("erc20: transfer amount exceeds balance"):
        fund.request_unstake(shares + 1)
    with boa.env.prank(staker), boa.reverts("fund: zero shares"):
        fund.request_unstake(0)


# -- frozen while the protocol is halted -----------------------------------------------------------------


def _halt(how, breaker, guardian, sentinel, fund, custody):
    if how == "pause_all":
        with boa.env.prank(guardian):
            breaker.pause_all()
    elif how == "fund_paused":
        with boa.env.prank(guardian):
            breaker.pause(fund)
    else:  # the ReserveRegistry (a sentinel) found a shortfall and tripped Custody
        with boa.env.prank(sentinel):
            breaker.trip(custody, 50, 9_000)


@pytest.mark.parametrize("how", ["pause_all", "fund_paused", "custody_tripped"])
def test_unstaking_is_frozen_while_the_protocol_is_halted(
    fund, usdc, staker, breaker, guardian, sentinel, governor, custody, how
):
    shares = stake(fund, usdc, staker, 100 * USDC)
    with boa.env.prank(staker):
        fund.request_unstake(shares // 2)
    boa.env.time_travel(seconds=7 * DAY)
    _halt(how, breaker, guardian, sentinel, fund, custody)
    assert fund.is_frozen()
    assert fund.maxRedeem(staker) == 0 and fund.maxWithdraw(staker) == 0
    with boa.env.prank(staker), boa.reverts("fund: unstaking frozen while halted"):
        fund.redeem(shares // 2, staker, staker)
    with boa.env.prank(staker), boa.reverts("fund: unstaking frozen while halted"):
        fund.request_unstake(shares // 2)
    # Staking more and cancelling (shares stay in the fund) are still fine.
    stake(fund, usdc, staker, USDC)
    with boa.env.prank(governor):
        breaker.unpause_all()
    assert not fund.is_frozen()
    with boa.env.prank(staker):
        fund.redeem(shares // 2, staker, staker)
    assert settle(fund, staker) > 0


def test_escrowed_shares_bear_a_cover_loss(fund, usdc, staker, cover_agent, custody):
    shares = stake(fund, usdc, staker, 1_000 * USDC)
    with boa.env.prank(staker):
        fund.request_unstake(shares)
    with boa.env.prank(cover_agent):
        fund.cover(100 * USDC, custody, "bad debt #1")
    boa.env.time_travel(seconds=7 * DAY)
    with boa.env.prank(staker):
        fund.redeem(shares, staker, staker)
    assert settle(fund, staker) == to_assets(shares, 900 * USDC, shares)


# -- parameters ----------------------------------------------------------------------------------------------


def test_cooldown_is_settable_within_one_to_thirty_days(fund, governor, usdc, staker):
    shares = stake(fund, usdc, staker, 100 * USDC)
    with boa.env.prank(staker):
        fund.request_unstake(shares)
    with boa.env.prank(governor):
        fund.set_parameters(DAY, 2 * DAY, 1_000)
    assert fund.cooldown() == DAY
    boa.env.time_travel(seconds=DAY)
    assert fund.maxRedeem(staker) == 0  # a pending request keeps the unlock time it got
    for cooldown in (DAY - 1, 30 * DAY + 1, 0):
        with boa.env.prank(governor), boa.reverts("fund: cooldown out of range"):
            fund.set_parameters(cooldown, 2 * DAY, 1_000)
    with boa.env.prank(governor):
        fund.set_parameters(30 * DAY, 2 * DAY, 1_000)
    assert fund.cooldown() == 30 * DAY


@pytest.mark.parametrize(
    ("window", "cap", "reason"),
    [
        (DAY - 1, 1_000, "fund: unstake window out of range"),
        (2 * DAY, 0, "fund: cover cap out of range"),
        (2 * DAY, 10_001, "fund: cover cap out of range"),
    ],
)
def test_other_parameters_out_of_range_are_refused(fund, governor, window, cap, reason):
    with boa.env.prank(governor), boa.reverts(reason):
        fund.set_parameters(7 * DAY, window, cap)


# -- cover --------------------------------------------------------------------------------------------------


def test_cover_pays_custody_within_the_cap_with_its_reason(fund, usdc, staker, cover_agent, custody):
    stake(fund, usdc, staker, 1_000 * USDC)
    assert fund.cover_headroom() == 100 * USDC
    with boa.env.prank(cover_agent):
        fund.cover(60 * USDC, custody, "bad debt: liquidation 77")
    (event,) = events(fund, "Covered")
    assert (event.receiver, event.caller, event.amount, event.reason, event.above_cap) == (
        custody.address,
        cover_agent,
        60 * USDC,
        "bad debt: liquidation 77",
        False,
    )
    assert usdc.balanceOf(custody) == 60 * USDC
    assert fund.covered_last_24h() == 60 * USDC
    # Splitting does not stretch the cap: it counts the assets before the window's payouts.
    assert fund.cover_headroom() == 40 * USDC
    with boa.env.prank(cover_agent), boa.reverts("fund: cover above the 24h cap"):
        fund.cover(40 * USDC + 1, custody, "split")
    with boa.env.prank(cover_agent):
        fund.cover(40 * USDC, custody, "split")
    assert fund.cover_headroom() == 0


def test_cover_cap_rolls_over_after_24_hours(fund, usdc, staker, cover_agent, custody):
    stake(fund, usdc, staker, 1_000 * USDC)
    with boa.env.prank(cover_agent):
        fund.cover(100 * USDC, custody, "day one")
    boa.env.time_travel(seconds=DAY - 1)
    with boa.env.prank(cover_agent), boa.reverts("fund: cover above the 24h cap"):
        fund.cover(1, custody, "too early")
    boa.env.time_travel(seconds=1)
    assert fund.covered_last_24h() == 0
    assert fund.cover_headroom() == 90 * USDC  # 10 % of the 900 left
    with boa.env.prank(cover_agent):
        fund.cover(90 * USDC, custody, "day two")


def test_only_the_governor_covers_above_the_cap(fund, usdc, staker, governor, custody):
    stake(fund, usdc, staker, 1_000 * USDC)
    with boa.env.prank(governor):
        fund.cover(300 * USDC, custody, "exchange-wide shortfall")
    (event,) = events(fund, "Covered")
    assert event.above_cap and event.caller == governor
    assert fund.totalAssets() == 700 * USDC
    with boa.env.prank(governor), boa.reverts("fund: amount above the fund's assets"):
        fund.cover(700 * USDC + 1, custody, "more than there is")


def test_cover_goes_only_to_a_registered_custody(fund, usdc, staker, cover_agent, governor, custody):
    stake(fund, usdc, staker, 1_000 * USDC)
    elsewhere = boa.env.generate_address("elsewhere")
    for caller in (cover_agent, governor):
        with boa.env.prank(caller), boa.reverts("fund: receiver is not a registered custody"):
            fund.cover(USDC, elsewhere, "not custody")
    with boa.env.prank(governor):
        fund.set_custody(custody, False)
    assert fund.custodies_count() == 0
    with boa.env.prank(cover_agent), boa.reverts("fund: receiver is not a registered custody"):
        fund.cover(USDC, custody, "removed")


def test_cover_by_a_stranger_is_refused(fund, usdc, staker, stranger, custody):
    stake(fund, usdc, staker, 1_000 * USDC)
    with boa.env.prank(stranger), boa.reverts("fund: caller is not cover or governor"):
        fund.cover(USDC, custody, "theft")


# -- roles ------------------------------------------------------------------------------------------------------


def test_constructor_gives_the_governor_its_role_and_the_deployer_none(fund, deployer, governor):
    assert fund.hasRole(fund.GOVERNOR_ROLE(), governor)
    for role in (fund.DEFAULT_ADMIN_ROLE(), fund.GOVERNOR_ROLE(), fund.COVER_ROLE()):
        assert not fund.hasRole(role, deployer)
    assert fund.getRoleAdmin(fund.COVER_ROLE()) == fund.GOVERNOR_ROLE()


def test_every_privileged_function_reverts_for_a_stranger(fund, stranger, revert_reasons):
    public = {
        "deposit(uint256,address)",
        "mint(uint256,address)",
        "transfer(address,uint256)",
        "transferFrom(address,address,uint256)",
        "approve(address,uint256)",
        "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
        "request_unstake(uint256)",
        "cancel_unstake()",
        "redeem(uint256,address,address)",
        "withdraw(uint256,address,address)",
        "add_revenue(uint256)",
        "renounceRole(bytes32,address)",
        "settle_exit(address)",
        "sync_halt_clock()",
    }
    reasons = revert_reasons(fund, stranger, stranger)
    assert public <= set(reasons)
    for signature, reason in reasons.items():
        if signature not in public:
            assert reason in (
                "access_control: account is missing role",
                "fund: caller is not cover or governor",
            ), signature
