"""Custody: deposits with nonces, idempotent operator withdrawals under the breaker and the outflow limits,
and governor moves to cold wallets that respect the hot target."""

import boa
import pytest
from conftest import deploy

HOUR = 3600
USDC = 10**6
USER_CAP, GLOBAL_CAP = 1_000 * USDC, 5_000 * USDC


@pytest.fixture(scope="module")
def operator():
    return boa.env.generate_address("operator")


@pytest.fixture(scope="module")
def trader():
    return boa.env.generate_address("trader")


@pytest.fixture(scope="module")
def attester():
    return boa.env.generate_address("attester")


@pytest.fixture(scope="module")
def registry(breaker, governor, attester, deployer):
    with boa.env.prank(deployer):
        return deploy("ReserveRegistry", breaker.address, governor, attester)


@pytest.fixture(scope="module")
def custody(breaker, governor, operator, usdc, registry, deployer):
    with boa.env.prank(deployer):
        contract = deploy("Custody", breaker.address, governor, operator)
    with boa.env.prank(governor):
        breaker.protect(contract, HOUR)
        contract.set_token(usdc, True, USER_CAP, GLOBAL_CAP, HOUR)
        contract.set_registry(registry)
    return contract


def deposit(custody, usdc, who, amount):
    usdc.mint(who, amount)
    with boa.env.prank(who):
        usdc.approve(custody, amount)
        return custody.deposit(usdc, amount)


def events(contract, name):
    return [e for e in contract.get_logs() if type(e).__name__ == name]


def rid(n: int) -> bytes:
    return n.to_bytes(32, "big")


# -- deposits -----------------------------------------------------------------------------------------------


def test_deposit_emits_depositor_token_amount_and_a_nonce(custody, usdc, trader):
    usdc.mint(trader, 300)
    with boa.env.prank(trader):
        usdc.approve(custody, 300)
        assert custody.deposit(usdc, 100) == 0
        (first,) = events(custody, "Deposited")
        assert custody.deposit(usdc, 200) == 1
        (second,) = events(custody, "Deposited")
    assert (first.depositor, first.token, first.amount, first.nonce) == (trader, usdc.address, 100, 0)
    assert (second.amount, second.nonce) == (200, 1)
    assert usdc.balanceOf(custody) == 300
    assert custody.deposit_nonce() == 2


def test_deposit_of_a_token_not_accepted_is_refused(custody, trader, deployer):
    with boa.env.prank(deployer):
        other = deploy("DevToken", "Other", "OTH", 18)
    other.mint(trader, 10)
    with boa.env.prank(trader):
        other.approve(custody, 10)
        with boa.reverts("custody: token not accepted"):
            custody.deposit(other, 10)
        with boa.reverts("custody: zero amount"):
            custody.deposit(other, 0)


def test_deposit_is_refused_while_halted(custody, usdc, trader, breaker, guardian):
    with boa.env.prank(guardian):
        breaker.pause(custody)
    usdc.mint(trader, 10)
    with boa.env.prank(trader):
        usdc.approve(custody, 10)
        with boa.reverts("custody: halted"):
            custody.deposit(usdc, 10)


# -- withdrawals ----------------------------------------------------------------------------------------------


def test_withdraw_pays_the_user_once_per_request_id(custody, usdc, trader, operator):
    deposit(custody, usdc, boa.env.generate_address("market_maker"), 2_000 * USDC)
    with boa.env.prank(operator):
        assert custody.withdraw(rid(1), trader, usdc, 300 * USDC) is True
        (event,) = events(custody, "Withdrawn")
        assert (event.request_id, event.user, event.token, event.amount) == (
            rid(1),
            trader,
            usdc.address,
            300 * USDC,
        )
        # The poster resends after a timeout: nothing is paid again.
        assert custody.withdraw(rid(1), trader, usdc, 300 * USDC) is False
        assert events(custody, "Withdrawn") == []
    assert usdc.balanceOf(trader) == 300 * USDC
    assert custody.is_paid(rid(1)) and not custody.is_paid(rid(2))


@pytest.mark.parametrize("change", ["user", "amount", "token"])
def test_a_request_id_reused_with_other_terms_reverts(custody, usdc, trader, operator, change):
    deposit(custody, usdc, boa.env.generate_address("market_maker"), 2_000 * USDC)
    with boa.env.prank(operator):
        custody.withdraw(rid(7), trader, usdc, 100 * USDC)
    user, token, amount = trader, usdc.address, 100 * USDC
    if change == "user":
        user = boa.env.generate_address("someone_else")
    elif change == "amount":
        amount += 1
    else:
        token = boa.env.generate_address("other_token")
    with boa.env.prank(operator), boa.reverts("custody: request id reused with other terms"):
        custody.withdraw(rid(7), user, token, amount)


def test_withdraw_is_refused_while_halted_and_resumes_after(
    custody, usdc, trader, operator, breaker, guardian, governor
):
    deposit(custody, usdc, trader, 100 * USDC)
    with boa.env.prank(guardian):
        breaker.pause_all()
    with boa.env.prank(operator), boa.reverts("custody: halted"):
        custody.withdraw(rid(1), trader, usdc, USDC)
    with boa.env.prank(governor):
        breaker.unpause_all()
    with boa.env.prank(operator):
        assert custody.withdraw(rid(1), trader, usdc, USDC)


@pytest.mark.parametrize(
    ("user", "amount", "reason"),
    [("zero", USDC, "custody: zero user"), ("trader", 0, "custody: zero amount")],
)
def test_withdraw_with_bad_arguments_names_them(custody, usdc, trader, operator, user, amount, reason):
    deposit(custody, usdc, trader, 100 * USDC)
    who = "0x" + "00" * 20 if user == "zero" else trader
    with boa.env.prank(operator), boa.reverts(reason):
        custody.withdraw(rid(3), who, usdc, amount)
    with boa.env.prank(operator), boa.reverts("custody: zero request id"):
        custody.withdraw(b"\x00" * 32, trader, usdc, USDC)


def test_withdraw_of_a_token_without_limits_or_balance_is_refused(custody, usdc, trader, operator, deployer):
    with boa.env.prank(deployer):
        other = deploy("DevToken", "Other", "OTH", 18)
    other.mint(custody, 10)
    with boa.env.prank(operator), boa.reverts("custody: token has no limits"):
        custody.withdraw(rid(1), trader, other, 1)
    with boa.env.prank(operator), boa.reverts("custody: hot balance too low"):
        custody.withdraw(rid(1), trader, usdc, 1)


def test_user_outflow_limit_reverts_and_recovers_over_the_window(custody, usdc, trader, operator):
    deposit(custody, usdc, boa.env.generate_address("market_maker"), 3_000 * USDC)
    with boa.env.prank(operator):
        custody.withdraw(rid(1), trader, usdc, USER_CAP)
        with boa.reverts("custody: user outflow limit"):
            custody.withdraw(rid(2), trader, usdc, 1)
    assert custody.user_headroom(trader, usdc) == 0
    boa.env.time_travel(seconds=HOUR // 2)
    assert custody.user_headroom(trader, usdc) == USER_CAP // 2
    with boa.env.prank(operator):
        assert custody.withdraw(rid(2), trader, usdc, USER_CAP // 2)
    # Another user has the full limit.
    with boa.env.prank(operator):
        assert custody.withdraw(rid(3), boa.env.generate_address("liquidator"), usdc, USER_CAP)


def test_a_users_own_deposit_buys_back_outflow_room(custody, usdc, trader, operator):
    deposit(custody, usdc, boa.env.generate_address("market_maker"), 3_000 * USDC)
    with boa.env.prank(operator):
        custody.withdraw(rid(1), trader, usdc, USER_CAP)
    deposit(custody, usdc, trader, 400 * USDC)
    assert custody.user_headroom(trader, usdc) == 400 * USDC


def test_global_outflow_limit_holds_the_withdrawal_and_halts_nothing(custody, usdc, operator, breaker):
    usdc.mint(custody, 10_000 * USDC)  # funds brought back from cold: no deposit credit
    users = [boa.env.generate_address(f"user{i}") for i in range(6)]
    with boa.env.prank(operator):
        for i, user in enumerate(users[:5]):
            assert custody.withdraw(rid(i + 1), user, usdc, USER_CAP)
        assert custody.global_headroom(usdc) == 0
        assert custody.withdraw(rid(6), users[5], usdc, USDC) is False
        (queued,) = events(custody, "WithdrawalQueued")
    assert (queued.request_id, queued.user, queued.amount, queued.global_headroom) == (
        rid(6),
        users[5],
        USDC,
        0,
    )
    assert usdc.balanceOf(users[5]) == 0 and not custody.is_paid(rid(6))
    assert not breaker.is_halted(custody)
    # The budget comes back with time; anyone claims the held withdrawal.
    boa.env.time_travel(seconds=HOUR)
    custody.claim(rid(6))
    assert usdc.balanceOf(users[5]) == USDC and custody.is_paid(rid(6))


# -- hot / cold -------------------------------------------------------------------------------------------------


@pytest.fixture
def cold_wallet(custody, governor):
    wallet = boa.env.generate_address("cold_wallet")
    with boa.env.prank(governor):
        custody.set_cold_wallet(wallet, True)
    return wallet


def test_to_cold_keeps_the_hot_target_of_liabilities(
    custody, usdc, governor, attester, registry, cold_wallet
):
    deposit(custody, usdc, boa.env.generate_address("market_maker"), 1_000 * USDC)
    with boa.env.prank(attester):
        registry.attest(1, b"\x01" * 32, [usdc.address], [1_000 * USDC], [0], 10)
    assert custody.hot_target_bps() == 6_500
    assert custody.hot_target(usdc) == 650 * USDC
    assert custody.hot_surplus(usdc) == 350 * USDC
    with boa.env.prank(governor), boa.reverts("custody: would go below the hot target"):
        custody.to_cold(usdc, 350 * USDC + 1)
    with boa.env.prank(governor):
        custody.to_cold(usdc, 350 * USDC)
    (event,) = events(custody, "MovedToCold")
    assert (event.token, event.cold_wallet, event.amount) == (usdc.address, cold_wallet, 350 * USDC)
    assert usdc.balanceOf(cold_wallet) == 350 * USDC
    assert custody.hot_surplus(usdc) == 0


def test_to_cold_only_to_a_registered_cold_wallet(custody, usdc, governor, cold_wallet):
    deposit(custody, usdc, boa.env.generate_address("market_maker"), 100 * USDC)
    with boa.env.prank(governor), boa.reverts("custody: not a registered cold wallet"):
        custody.to_cold(usdc, USDC, boa.env.generate_address("hot_wallet_of_an_attacker"))
    second = boa.env.generate_address("second_cold_wallet")
    with boa.env.prank(governor):
        custody.set_cold_wallet(second, True)
        custody.to_cold(usdc, USDC, second)
        custody.set_cold_wallet(cold_wallet, False)
        custody.to_cold(usdc, USDC)  # the first registered wallet is now `second`
    assert usdc.balanceOf(second) == 2 * USDC and usdc.balanceOf(cold_wallet) == 0


def test_to_cold_without_any_cold_wallet_says_so(custody, usdc, governor):
    deposit(custody, usdc, boa.env.generate_address("market_maker"), 100 * USDC)
    with boa.env.prank(governor), boa.reverts("custody: no cold wallet"):
        custody.to_cold(usdc, USDC)


@pytest.mark.parametrize("bps", [5_999, 10_001])
def test_hot_target_out_of_range_is_refused(custody, governor, bps):
    with boa.env.prank(governor), boa.reverts("custody: hot target out of range"):
        custody.set_hot_target_bps(bps)


@pytest.mark.parametrize(
    ("user_cap", "global_cap", "window", "reason"),
    [
        (1, 1, 59, "custody: window out of range"),
        (1, 1, 30 * 86400 + 1, "custody: window out of range"),
        (2, 1, HOUR, "custody: user cap above global cap"),
        (1, 2**189 + 1, HOUR, "custody: cap too large"),
    ],
)
def test_token_limits_out_of_range_are_refused(custody, governor, usdc, user_cap, global_cap, window, reason):
    with boa.env.prank(governor), boa.reverts(reason):
        custody.set_token(usdc, True, user_cap, global_cap, window)


# -- roles --------------------------------------------------------------------------------------------------


def test_constructor_gives_each_role_and_the_deployer_none(custody, deployer, governor, operator):
    assert custody.hasRole(custody.GOVERNOR_ROLE(), governor)
    assert custody.hasRole(custody.OPERATOR_ROLE(), operator)
    assert not custody.hasRole(custody.OPERATOR_ROLE(), governor)
    for role in (custody.DEFAULT_ADMIN_ROLE(), custody.GOVERNOR_ROLE(), custody.OPERATOR_ROLE()):
        assert not custody.hasRole(role, deployer)


def test_every_privileged_function_reverts_for_a_stranger(custody, stranger, revert_reasons):
    public = {"deposit(address,uint256)", "renounceRole(bytes32,address)", "claim(bytes32)", "resume()"}
    reasons = revert_reasons(custody, stranger, stranger)
    assert {"to_cold(address,uint256)", "to_cold(address,uint256,address)"} <= set(reasons)
    for signature, reason in reasons.items():
        if signature not in public:
            assert reason == "access_control: account is missing role", signature


# -- paid_out (issue 14.5): what the ReserveRegistry subtracts from an epoch's liabilities ---------------------


def test_paid_out_grows_by_exactly_each_paid_withdrawal(custody, usdc, trader, operator, governor):
    deposit(custody, usdc, boa.env.generate_address("market_maker"), 2_000 * USDC)
    assert custody.paid_out(usdc) == 0
    with boa.env.prank(operator):
        custody.withdraw(rid(1), trader, usdc, 1)
        assert custody.paid_out(usdc) == 1
        custody.withdraw(rid(2), trader, usdc, 300 * USDC)
        # A resent request pays nothing and counts nothing.
        custody.withdraw(rid(2), trader, usdc, 300 * USDC)
    assert custody.paid_out(usdc) == 300 * USDC + 1 == usdc.balanceOf(trader)
    # Moves to cold wallets are not payouts; another token has its own counter.
    wallet = boa.env.generate_address("cold_wallet")
    with boa.env.prank(governor):
        custody.set_cold_wallet(wallet, True)
        custody.to_cold(usdc, 100 * USDC)
    assert custody.paid_out(usdc) == 300 * USDC + 1
    assert custody.paid_out(boa.env.generate_address("other_token")) == 0
