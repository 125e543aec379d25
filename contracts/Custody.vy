# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title Custody: user deposits in, operator-paid withdrawals out
@custom:contract-name Custody
@license GNU Affero General Public License v3.0 only
@notice Users deposit allowlisted tokens (`Deposited` with a nonce the
        engine credits once). The operator pays withdrawals the engine
        approved, each under a request id that pays at most once: a resent
        request with the same terms is a no-op that returns False, the same
        id with other terms reverts.

        Outflows are rate limited per token by `lib/outflow_limiter.vy`
        (ERC-7265 style rolling window with an elastic buffer: deposits buy
        room back), per user and globally. A withdrawal over the user's limit
        reverts. One over the global limit is refused and trips the
        CircuitBreaker for this contract (the transaction succeeds so that the
        halt stands; `WithdrawalBlocked` says why): a drain is stopped after
        one window's cap, and the governor resumes after review. While the
        breaker halts Custody (also when the ReserveRegistry finds a shortfall
        or a stale attestation), deposits and withdrawals are refused.

        Hot/cold: the governor moves tokens to registered cold wallets (which
        the ReserveRegistry counts as reserves), never below the hot target:
        `hot_target_bps` of the token's net liabilities in the latest
        attestation (default 65 %: seed 000 asks the hot wallet to pay 60-70 %
        of instant withdrawal demand).

        Roles (snekmate access control; the governor administers both):
        - governor: tokens and limits, cold wallets, hot target, `to_cold`;
        - operator: `withdraw` (the exchange's chain poster).
"""

from ethereum.ercs import IERC165

implements: IERC165

from ethereum.ercs import IERC20

from snekmate.auth.interfaces import IAccessControl

implements: IAccessControl

from interfaces import ICircuitBreaker
from interfaces import IReserveRegistry

from snekmate.auth import access_control

initializes: access_control

from lib import outflow_limiter

initializes: outflow_limiter

from lib import roles
from lib import trip_reasons

exports: access_control.__interface__


# @dev The role ids of `lib/roles.vy`, re-exported under the same names (same ABI).
GOVERNOR_ROLE: public(constant(bytes32)) = roles.GOVERNOR_ROLE
OPERATOR_ROLE: public(constant(bytes32)) = roles.OPERATOR_ROLE

MAX_BPS: constant(uint256) = 10_000
DEFAULT_HOT_TARGET_BPS: public(constant(uint256)) = 6_500
MIN_HOT_TARGET_BPS: public(constant(uint256)) = 6_000
MIN_LIMIT_WINDOW: public(constant(uint256)) = 60
MAX_LIMIT_WINDOW: public(constant(uint256)) = 30 * 86400
MAX_COLD_WALLETS: public(constant(uint256)) = 8


# @dev A token's deposit switch and outflow limits (window 0: not configured).
struct TokenConfig:
    deposits_open: bool
    account_cap: uint256
    global_cap: uint256
    window: uint256


breaker: public(immutable(ICircuitBreaker))

# @dev Where net liabilities come from (zero address: no hot target).
registry: public(IReserveRegistry)

hot_target_bps: public(uint256)

tokens: public(HashMap[address, TokenConfig])

# @dev Registered cold wallets; `to_cold` without a wallet uses the first.
cold_wallets: public(DynArray[address, MAX_COLD_WALLETS])

# @dev The nonce the next deposit gets.
deposit_nonce: public(uint256)

# @dev keccak256(abi_encode(user, token, amount)) of each paid request id.
paid_requests: public(HashMap[bytes32, bytes32])

# @dev Cumulative amount of each token paid to withdrawers (never decreases).
_paid_out: HashMap[address, uint256]


event Deposited:
    depositor: indexed(address)
    token: indexed(address)
    amount: uint256
    nonce: uint256


event Withdrawn:
    request_id: indexed(bytes32)
    user: indexed(address)
    token: indexed(address)
    amount: uint256


# @dev A withdrawal refused by the global outflow limit (the breaker tripped).
event WithdrawalBlocked:
    request_id: indexed(bytes32)
    user: indexed(address)
    token: indexed(address)
    amount: uint256
    global_headroom: uint256


event MovedToCold:
    token: indexed(address)
    cold_wallet: indexed(address)
    amount: uint256


event TokenSet:
    token: indexed(address)
    deposits_open: bool
    account_cap: uint256
    global_cap: uint256
    window: uint256


event ColdWalletSet:
    cold_wallet: indexed(address)
    registered: bool


event HotTargetSet:
    hot_target_bps: uint256


event RegistrySet:
    registry: indexed(address)


@deploy
def __init__(breaker_: ICircuitBreaker, governor: address, operator: address):
    """
    @dev Give the roles; the deployer keeps none unless it is one of them.
    @param breaker_ The protocol's CircuitBreaker (it must protect this contract).
    @param governor The governor (required).
    @param operator The first operator, or the zero address.
    """
    assert governor != empty(address), "custody: governor is the zero address"
    breaker = breaker_
    access_control.__init__()
    access_control._set_role_admin(GOVERNOR_ROLE, GOVERNOR_ROLE)
    access_control._set_role_admin(OPERATOR_ROLE, GOVERNOR_ROLE)
    access_control._grant_role(GOVERNOR_ROLE, governor)
    if operator != empty(address):
        access_control._grant_role(OPERATOR_ROLE, operator)
    access_control._revoke_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self.hot_target_bps = DEFAULT_HOT_TARGET_BPS


@external
def deposit(token: address, amount: uint256) -> uint256:
    """
    @dev Pull `amount` of `token` from the caller into custody.
    @notice The engine credits the depositor once per nonce. Refused for a
            token not open for deposits and while halted.
    @param token An allowlisted token.
    @param amount The amount in token units.
    @return uint256 The deposit's nonce.
    """
    assert amount > 0, "custody: zero amount"
    config: TokenConfig = self.tokens[token]
    assert config.deposits_open, "custody: token not accepted"
    assert not staticcall breaker.is_halted(self), "custody: halted"
    assert extcall IERC20(token).transferFrom(msg.sender, self, amount, default_return_value=True), (
        "custody: transferFrom failed"
    )
    # Fresh deposits buy outflow room back (elastic buffer).
    outflow_limiter._record(self._account_key(msg.sender, token), amount, 0, config.account_cap, config.window)
    outflow_limiter._record(self._global_key(token), amount, 0, config.global_cap, config.window)
    nonce: uint256 = self.deposit_nonce
    self.deposit_nonce = nonce + 1
    log Deposited(depositor=msg.sender, token=token, amount=amount, nonce=nonce)
    return nonce


@external
def withdraw(request_id: bytes32, user: address, token: address, amount: uint256) -> bool:
    """
    @dev Pay the engine-approved withdrawal `request_id`: `amount` of
         `token` to `user`.
    @notice Operator only. Idempotent: a request id that was paid with the
            same terms returns False and pays nothing; with other terms it
            reverts. Refused while halted and beyond the user's outflow
            limit (reverts). Beyond the global limit it pays nothing, trips
            the breaker, emits `WithdrawalBlocked` and returns False.
    @param request_id The engine's id of the withdrawal (not zero).
    @param user The receiver (the account's address).
    @param token The token.
    @param amount The amount in token units.
    @return bool True if this call paid the withdrawal.
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    assert request_id != empty(bytes32), "custody: zero request id"
    terms: bytes32 = keccak256(abi_encode(user, token, amount))
    seen: bytes32 = self.paid_requests[request_id]
    if seen != empty(bytes32):
        assert seen == terms, "custody: request id reused with other terms"
        return False
    assert not staticcall breaker.is_halted(self), "custody: halted"
    assert user != empty(address), "custody: zero user"
    assert amount > 0, "custody: zero amount"
    config: TokenConfig = self.tokens[token]
    assert config.window > 0, "custody: token has no limits"
    assert staticcall IERC20(token).balanceOf(self) >= amount, "custody: hot balance too low"
    account_key: bytes32 = self._account_key(user, token)
    assert outflow_limiter._headroom(account_key, config.account_cap, config.window) >= amount, (
        "custody: user outflow limit"
    )
    global_key: bytes32 = self._global_key(token)
    headroom: uint256 = outflow_limiter._headroom(global_key, config.global_cap, config.window)
    if headroom < amount:
        extcall breaker.trip(self, trip_reasons.CUSTODY_GLOBAL_OUTFLOW, amount)
        log WithdrawalBlocked(request_id=request_id, user=user, token=token, amount=amount, global_headroom=headroom)
        return False
    outflow_limiter._record(account_key, 0, amount, config.account_cap, config.window)
    outflow_limiter._record(global_key, 0, amount, config.global_cap, config.window)
    self.paid_requests[request_id] = terms
    self._paid_out[token] += amount
    assert extcall IERC20(token).transfer(user, amount, default_return_value=True), "custody: transfer failed"
    log Withdrawn(request_id=request_id, user=user, token=token, amount=amount)
    return True


@external
def to_cold(token: address, amount: uint256, cold_wallet: address = empty(address)):
    """
    @dev Move `amount` of `token` to a registered cold wallet.
    @notice Governor only. The hot balance left must cover the hot target.
    @param token The token.
    @param amount The amount in token units.
    @param cold_wallet A registered cold wallet; omitted: the first one.
    """
    access_control._check_role(GOVERNOR_ROLE, msg.sender)
    assert amount > 0, "custody: zero amount"
    target_wallet: address = cold_wallet
    if target_wallet == empty(address):
        assert len(self.cold_wallets) > 0, "custody: no cold wallet"
        target_wallet = self.cold_wallets[0]
    assert target_wallet in self.cold_wallets, "custody: not a registered cold wallet"
    balance: uint256 = staticcall IERC20(token).balanceOf(self)
    assert balance >= amount, "custody: hot balance too low"
    assert balance - amount >= self._hot_target(token), "custody: would go below the hot target"
    assert extcall IERC20(token).transfer(target_wallet, amount, default_return_value=True), (
        "custody: transfer failed"
    )
    log MovedToCold(token=token, cold_wallet=target_wallet, amount=amount)


@external
def set_token(token: address, deposits_open: bool, account_cap: uint256, global_cap: uint256, window: uint256):
    """
    @dev Open or close deposits of `token` and set its outflow limits.
    @notice Governor only. Net outflows already made stay counted.
    @param token The token.
    @param deposits_open Whether `deposit` accepts it.
    @param account_cap The largest net outflow per user per window.
    @param global_cap The largest net outflow of all users per window.
    @param window The rolling window in seconds (60 s .. 30 days).
    """
    access_control._check_role(GOVERNOR_ROLE, msg.sender)
    assert token != empty(address), "custody: zero address"
    assert window >= MIN_LIMIT_WINDOW and window <= MAX_LIMIT_WINDOW, "custody: window out of range"
    assert account_cap <= global_cap, "custody: user cap above global cap"
    assert global_cap <= outflow_limiter.MAX_AMOUNT, "custody: cap too large"
    self.tokens[token] = TokenConfig(
        deposits_open=deposits_open, account_cap=account_cap, global_cap=global_cap, window=window
    )
    log TokenSet(
        token=token, deposits_open=deposits_open, account_cap=account_cap, global_cap=global_cap, window=window
    )


@external
def set_cold_wallet(cold_wallet: address, registered: bool):
    """
    @dev Register (or remove) a cold wallet `to_cold` may send to.
    @notice Governor only. Register it in the ReserveRegistry too, so that
            its balances count as reserves.
    @param cold_wallet The cold wallet.
    @param registered True to add, False to remove.
    """
    access_control._check_role(GOVERNOR_ROLE, msg.sender)
    assert cold_wallet != empty(address), "custody: zero address"
    found: bool = cold_wallet in self.cold_wallets
    if registered:
        assert not found, "custody: cold wallet already registered"
        assert len(self.cold_wallets) < MAX_COLD_WALLETS, "custody: too many cold wallets"
        self.cold_wallets.append(cold_wallet)
    else:
        assert found, "custody: cold wallet not registered"
        kept: DynArray[address, MAX_COLD_WALLETS] = []
        for w: address in self.cold_wallets:
            if w != cold_wallet:
                kept.append(w)
        self.cold_wallets = kept
    log ColdWalletSet(cold_wallet=cold_wallet, registered=registered)


@external
def set_hot_target_bps(hot_target_bps: uint256):
    """
    @dev Set the share of net liabilities that must stay hot.
    @notice Governor only; 6000 .. 10000 bps.
    @param hot_target_bps The hot target in basis points.
    """
    access_control._check_role(GOVERNOR_ROLE, msg.sender)
    assert hot_target_bps >= MIN_HOT_TARGET_BPS and hot_target_bps <= MAX_BPS, "custody: hot target out of range"
    self.hot_target_bps = hot_target_bps
    log HotTargetSet(hot_target_bps=hot_target_bps)


@external
def set_registry(registry: IReserveRegistry):
    """
    @dev Set the ReserveRegistry whose liabilities the hot target follows.
    @notice Governor only.
    @param registry The registry (zero address: no hot target).
    """
    access_control._check_role(GOVERNOR_ROLE, msg.sender)
    self.registry = registry
    log RegistrySet(registry=registry.address)


@external
@view
def hot_target(token: address) -> uint256:
    """
    @dev Return the balance of `token` that must stay hot.
    @param token The token.
    @return uint256 `hot_target_bps` of its net liabilities (0 without a registry).
    """
    return self._hot_target(token)


@external
@view
def hot_surplus(token: address) -> uint256:
    """
    @dev Return how much of `token` `to_cold` may move now.
    @param token The token.
    @return uint256 The hot balance above the hot target, floored at 0.
    """
    balance: uint256 = staticcall IERC20(token).balanceOf(self)
    target: uint256 = self._hot_target(token)
    if balance <= target:
        return 0
    return balance - target


@external
@view
def user_headroom(user: address, token: address) -> uint256:
    """
    @dev Return how much more `user` may withdraw of `token` now (user limit only).
    @param user The user.
    @param token The token.
    @return uint256 The headroom in token units.
    """
    config: TokenConfig = self.tokens[token]
    return outflow_limiter._headroom(self._account_key(user, token), config.account_cap, config.window)


@external
@view
def global_headroom(token: address) -> uint256:
    """
    @dev Return how much more of `token` may leave now (global limit).
    @param token The token.
    @return uint256 The headroom in token units.
    """
    config: TokenConfig = self.tokens[token]
    return outflow_limiter._headroom(self._global_key(token), config.global_cap, config.window)


@external
@view
@reentrant
def paid_out(token: address) -> uint256:
    """
    @dev Return the cumulative amount of `token` paid to withdrawers.
    @notice Monotonic: it only grows, by exactly each paid withdrawal
            (moves to cold wallets are not payouts). The ReserveRegistry
            subtracts what was paid since an epoch from that epoch's
            liabilities, so a paid withdrawal never looks like a shortfall.
            Reentrant (a pure read of one slot) so that the registry can
            ask it while Custody is in a call that reads the registry.
    @param token The token.
    @return uint256 The amount in token units.
    """
    return self._paid_out[token]


@external
@view
def is_paid(request_id: bytes32) -> bool:
    """
    @dev Return whether withdrawal `request_id` was paid.
    @param request_id The engine's id of the withdrawal.
    @return bool True once paid.
    """
    return self.paid_requests[request_id] != empty(bytes32)


@external
@view
def cold_wallets_count() -> uint256:
    """
    @dev Return how many cold wallets are registered (`cold_wallets(i)`).
    @return uint256 The count.
    """
    return len(self.cold_wallets)


@internal
@view
def _hot_target(token: address) -> uint256:
    if self.registry.address == empty(address):
        return 0
    return staticcall self.registry.liabilities(token) * self.hot_target_bps // MAX_BPS


@internal
@pure
def _account_key(user: address, token: address) -> bytes32:
    return keccak256(abi_encode(user, token))


@internal
@pure
def _global_key(token: address) -> bytes32:
    return keccak256(abi_encode(empty(address), token))
