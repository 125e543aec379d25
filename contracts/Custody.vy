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
        reverts. One over the global limit is held, not refused, and nothing
        halts (`lib/withdrawal_queue.vy`, as ERC-7265's settlement module):
        it waits in its token's first-in-first-out queue (`WithdrawalQueued`;
        while a token has held withdrawals, new ones queue behind them) and
        anyone may `claim` the oldest once the rolling window has room for it
        (`WithdrawalClaimed`, then `Withdrawn` as for a direct payment). A
        drain still stops after one window's cap, but ten honest users on a
        busy day no longer freeze Custody and the insurance fund. The
        governor may cancel a held withdrawal (`WithdrawalCancelled`; the
        engine refunds it). A withdrawal above the whole global cap can never
        fit a window and reverts.

        `paid_out(token)` is what Custody has paid to withdrawers, ever: the
        ReserveRegistry subtracts what was paid since an epoch from that
        epoch's liabilities, so a paid withdrawal never reads as a shortfall.

        Halts. While the breaker halts Custody (a guardian, a sentinel, or
        the ReserveRegistry's solvency check on a shortfall or a stale
        attestation), deposits, withdrawals and claims are refused. A trip
        (not a guardian pause) is lifted by anyone once its halt window has
        passed and `can_resume()` holds: the registry is set, its latest
        attestation is fresh, and every asset of that attestation has a
        reserve ratio of at least 100 %. `resume()` is that call (the
        breaker's `resume(custody)` does the same).

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

from lib import withdrawal_queue

initializes: withdrawal_queue

exports: (
    access_control.__interface__,
    withdrawal_queue.held,
    withdrawal_queue.held_total,
    withdrawal_queue.queue_at,
    withdrawal_queue.queue_head,
    withdrawal_queue.queue_tail,
)


# @dev The role ids of `lib/roles.vy`, re-exported under the same names (same ABI).
GOVERNOR_ROLE: public(constant(bytes32)) = roles.GOVERNOR_ROLE
OPERATOR_ROLE: public(constant(bytes32)) = roles.OPERATOR_ROLE

MAX_BPS: constant(uint256) = 10_000
DEFAULT_HOT_TARGET_BPS: public(constant(uint256)) = 6_500
MIN_HOT_TARGET_BPS: public(constant(uint256)) = 6_000
MIN_LIMIT_WINDOW: public(constant(uint256)) = 60
MAX_LIMIT_WINDOW: public(constant(uint256)) = 30 * 86400
MAX_COLD_WALLETS: public(constant(uint256)) = 8
# @dev A reserve ratio of 100 %, what `can_resume` needs for every asset.
FULL_RESERVE_BPS: constant(uint256) = 10_000

# @dev `withdrawal_state` answers.
STATE_UNKNOWN: public(constant(uint256)) = 0
STATE_QUEUED: public(constant(uint256)) = 1
STATE_PAID: public(constant(uint256)) = 2
STATE_CANCELLED: public(constant(uint256)) = 3


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

# @dev keccak256(abi_encode(user, token, amount)) of each request id the governor cancelled.
cancelled_requests: public(HashMap[bytes32, bytes32])

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


# @dev A withdrawal held by the global outflow limit: `claim` pays it once the window has room.
event WithdrawalQueued:
    request_id: indexed(bytes32)
    user: indexed(address)
    token: indexed(address)
    amount: uint256
    global_headroom: uint256
    position: uint256


# @dev `caller` claimed the held withdrawal `request_id` (a `Withdrawn` with the payment follows).
event WithdrawalClaimed:
    request_id: indexed(bytes32)
    caller: indexed(address)


# @dev The governor cancelled the held withdrawal `request_id` (nothing was paid).
event WithdrawalCancelled:
    request_id: indexed(bytes32)
    user: indexed(address)
    token: indexed(address)
    amount: uint256


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
         `token` to `user`, or hold it when the global limit has no room.
    @notice Operator only. Idempotent: a request id that was paid or is
            held with the same terms returns False and does nothing; with
            other terms it reverts, and a cancelled one reverts. Refused
            while halted, beyond the user's outflow limit and above the
            token's whole global cap (reverts). When the global limit has
            no room for it, or earlier withdrawals of the token are held,
            it is held (`WithdrawalQueued`) and returns False: `claim`
            pays it later. The user's limit counts it at once.
    @param request_id The engine's id of the withdrawal (not zero).
    @param user The receiver (the account's address).
    @param token The token.
    @param amount The amount in token units.
    @return bool True if this call paid the withdrawal.
    """
    access_control._check_role(OPERATOR_ROLE, msg.sender)
    assert request_id != empty(bytes32), "custody: zero request id"
    terms: bytes32 = keccak256(abi_encode(user, token, amount))
    if self._known(request_id, terms):
        return False
    assert not staticcall breaker.is_halted(self), "custody: halted"
    assert user != empty(address), "custody: zero user"
    assert amount > 0, "custody: zero amount"
    config: TokenConfig = self.tokens[token]
    assert config.window > 0, "custody: token has no limits"
    assert amount <= config.global_cap, "custody: amount above the global outflow cap"
    assert staticcall IERC20(token).balanceOf(self) >= amount, "custody: hot balance too low"
    account_key: bytes32 = self._account_key(user, token)
    assert outflow_limiter._headroom(account_key, config.account_cap, config.window) >= amount, (
        "custody: user outflow limit"
    )
    outflow_limiter._record(account_key, 0, amount, config.account_cap, config.window)
    global_key: bytes32 = self._global_key(token)
    headroom: uint256 = outflow_limiter._headroom(global_key, config.global_cap, config.window)
    if headroom < amount or withdrawal_queue.held_total[token] > 0:
        position: uint256 = withdrawal_queue._push(request_id, user, token, amount)
        log WithdrawalQueued(
            request_id=request_id, user=user, token=token, amount=amount, global_headroom=headroom, position=position
        )
        return False
    outflow_limiter._record(global_key, 0, amount, config.global_cap, config.window)
    self._pay(request_id, user, token, amount, terms)
    return True


@external
def claim(request_id: bytes32):
    """
    @dev Pay the held withdrawal `request_id` to its user.
    @notice Anyone may call it (the user, the operator, a keeper): it pays
            only the user the engine approved. Refused while halted, unless
            `request_id` is the oldest held withdrawal of its token, and
            until the global limit has room for it (`claimable`).
    @param request_id The held withdrawal's request id.
    """
    assert not staticcall breaker.is_halted(self), "custody: halted"
    entry: withdrawal_queue.Held = withdrawal_queue.held[request_id]
    assert entry.amount > 0, "custody: request id is not queued"
    assert withdrawal_queue._advance(entry.token) == request_id, "custody: an earlier queued withdrawal comes first"
    config: TokenConfig = self.tokens[entry.token]
    global_key: bytes32 = self._global_key(entry.token)
    assert outflow_limiter._headroom(global_key, config.global_cap, config.window) >= entry.amount, (
        "custody: global outflow limit has no room yet"
    )
    assert staticcall IERC20(entry.token).balanceOf(self) >= entry.amount, "custody: hot balance too low"
    withdrawal_queue._take_head(entry.token)
    outflow_limiter._record(global_key, 0, entry.amount, config.global_cap, config.window)
    log WithdrawalClaimed(request_id=request_id, caller=msg.sender)
    terms: bytes32 = keccak256(abi_encode(entry.user, entry.token, entry.amount))
    self._pay(request_id, entry.user, entry.token, entry.amount, terms)


@external
def cancel_queued(request_id: bytes32):
    """
    @dev Cancel the held withdrawal `request_id`: nothing is paid, and its
         request id can never pay.
    @notice Governor only (e.g. a withdrawal found fraudulent while held).
            The user's outflow limit gets the amount back; the engine
            refunds the withdrawal when it sees `WithdrawalCancelled`.
    @param request_id The held withdrawal's request id.
    """
    access_control._check_role(GOVERNOR_ROLE, msg.sender)
    entry: withdrawal_queue.Held = withdrawal_queue.held[request_id]
    assert entry.amount > 0, "custody: request id is not queued"
    withdrawal_queue._drop(request_id)
    withdrawal_queue._advance(entry.token)
    config: TokenConfig = self.tokens[entry.token]
    account_key: bytes32 = self._account_key(entry.user, entry.token)
    outflow_limiter._record(account_key, entry.amount, 0, config.account_cap, config.window)
    self.cancelled_requests[request_id] = keccak256(abi_encode(entry.user, entry.token, entry.amount))
    log WithdrawalCancelled(request_id=request_id, user=entry.user, token=entry.token, amount=entry.amount)


@external
def resume():
    """
    @dev Lift a trip of Custody: ask the breaker to resume it.
    @notice Anyone may call it once `can_resume()` holds and the halt
            window has passed (the breaker checks both; it refuses a
            guardian pause, which only the governor lifts).
    """
    assert self._can_resume(), "custody: resume conditions not met"
    extcall breaker.resume(self)


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
    assert balance - amount >= self._hot_target(token) + withdrawal_queue.held_total[token], (
        "custody: would go below the hot target"
    )
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
    @return uint256 The hot balance above the hot target and the held
            withdrawals, floored at 0.
    """
    balance: uint256 = staticcall IERC20(token).balanceOf(self)
    target: uint256 = self._hot_target(token) + withdrawal_queue.held_total[token]
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
def withdrawal_state(request_id: bytes32) -> uint256:
    """
    @dev Return where withdrawal `request_id` stands.
    @param request_id The engine's id of the withdrawal.
    @return uint256 `STATE_UNKNOWN` (0), `STATE_QUEUED` (1, held:
            `claim` pays it), `STATE_PAID` (2) or `STATE_CANCELLED` (3).
    """
    if self.paid_requests[request_id] != empty(bytes32):
        return STATE_PAID
    if withdrawal_queue.held[request_id].amount > 0:
        return STATE_QUEUED
    if self.cancelled_requests[request_id] != empty(bytes32):
        return STATE_CANCELLED
    return STATE_UNKNOWN


@external
@view
def claimable(request_id: bytes32) -> bool:
    """
    @dev Return whether `claim(request_id)` would pay now.
    @param request_id The held withdrawal's request id.
    @return bool True if it is held, the oldest of its token, the global
            limit has room for it, the hot balance covers it and Custody
            is not halted.
    """
    entry: withdrawal_queue.Held = withdrawal_queue.held[request_id]
    if entry.amount == 0 or staticcall breaker.is_halted(self):
        return False
    if self._oldest_held(entry.token) != request_id:
        return False
    config: TokenConfig = self.tokens[entry.token]
    if outflow_limiter._headroom(self._global_key(entry.token), config.global_cap, config.window) < entry.amount:
        return False
    return staticcall IERC20(entry.token).balanceOf(self) >= entry.amount


@external
@view
@reentrant
def can_resume() -> bool:
    """
    @dev Return whether anyone may lift a trip of Custody (`IProtected`).
    @notice True when a ReserveRegistry is set, its latest attestation is
            fresh (`is_fresh`), and every asset of that attestation has
            `reserve_ratio_bps` of at least 10000 (reserves cover the
            attested liabilities, net of what Custody paid since). The
            breaker also requires the halt window to have passed and the
            halt not to be a guardian pause. Reentrant: the breaker asks it
            during `resume()`.
    @return bool True if the conditions hold now.
    """
    return self._can_resume()


@external
@view
def cold_wallets_count() -> uint256:
    """
    @dev Return how many cold wallets are registered (`cold_wallets(i)`).
    @return uint256 The count.
    """
    return len(self.cold_wallets)


@internal
def _known(request_id: bytes32, terms: bytes32) -> bool:
    """
    @dev Return whether `request_id` was already paid or is held with
         `terms`; revert if it was with other terms, or was cancelled.
    @param request_id The request id.
    @param terms keccak256(abi_encode(user, token, amount)) of this call.
    @return bool True if there is nothing to do.
    """
    seen: bytes32 = self.paid_requests[request_id]
    if seen != empty(bytes32):
        assert seen == terms, "custody: request id reused with other terms"
        return True
    entry: withdrawal_queue.Held = withdrawal_queue.held[request_id]
    if entry.amount > 0:
        assert keccak256(abi_encode(entry.user, entry.token, entry.amount)) == terms, (
            "custody: request id reused with other terms"
        )
        return True
    assert self.cancelled_requests[request_id] == empty(bytes32), "custody: request id was cancelled"
    return False


@internal
def _pay(request_id: bytes32, user: address, token: address, amount: uint256, terms: bytes32):
    """
    @dev Mark `request_id` paid, count it in `paid_out` and transfer.
    @notice The caller has checked the limits and recorded the outflow.
    @param request_id The request id.
    @param user The receiver.
    @param token The token.
    @param amount The amount in token units.
    @param terms keccak256(abi_encode(user, token, amount)).
    """
    self.paid_requests[request_id] = terms
    self._paid_out[token] += amount
    assert extcall IERC20(token).transfer(user, amount, default_return_value=True), "custody: transfer failed"
    log Withdrawn(request_id=request_id, user=user, token=token, amount=amount)


@internal
@view
def _oldest_held(token: address) -> bytes32:
    """
    @dev Return the oldest held request id of `token` (as `_advance`
         would, without writing), or zero.
    @param token The token.
    @return bytes32 The request id at the head, holes skipped.
    """
    head: uint256 = withdrawal_queue.queue_head[token]
    tail: uint256 = withdrawal_queue.queue_tail[token]
    for _: uint256 in range(withdrawal_queue.MAX_SKIP + 1):
        if head == tail:
            break
        request_id: bytes32 = withdrawal_queue.queue_at[token][head]
        if withdrawal_queue.held[request_id].amount > 0:
            return request_id
        head += 1
    return empty(bytes32)


@internal
@view
def _can_resume() -> bool:
    """
    @dev The conditions of `can_resume` (see there).
    @return bool True if they hold now.
    """
    registry: IReserveRegistry = self.registry
    if registry.address == empty(address):
        return False
    if not staticcall registry.is_fresh():
        return False
    for asset: address in staticcall registry.latest_assets():
        if staticcall registry.reserve_ratio_bps(asset) < FULL_RESERVE_BPS:
            return False
    return True


@internal
@view
def _hot_target(token: address) -> uint256:
    """
    @dev Return `hot_target_bps` of `token`'s net liabilities in the
         registry's latest attestation (0 without a registry).
    @param token The token.
    @return uint256 The balance that must stay hot.
    """
    if self.registry.address == empty(address):
        return 0
    return staticcall self.registry.liabilities(token) * self.hot_target_bps // MAX_BPS


@internal
@pure
def _account_key(user: address, token: address) -> bytes32:
    """
    @dev Return the outflow limiter key of `user`'s limit for `token`.
    @param user The user.
    @param token The token.
    @return bytes32 The key.
    """
    return keccak256(abi_encode(user, token))


@internal
@pure
def _global_key(token: address) -> bytes32:
    """
    @dev Return the outflow limiter key of the global limit for `token`.
    @param token The token.
    @return bytes32 The key.
    """
    return keccak256(abi_encode(empty(address), token))
