# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title Insurance fund: an ERC-4626 vault that pays shortfalls into Custody
@custom:contract-name InsuranceFund
@license GNU Affero General Public License v3.0 only
@notice Stakers deposit the settlement stablecoin for shares (snekmate
        `erc4626`, whose virtual shares and decimals offset make the
        first-depositor inflation attack unprofitable). Every token the fund
        holds is an asset: Pool protocol fees swept to it, liquidation fees
        the engine transfers (or sends through `add_revenue` for an event),
        stakers' deposits.

        Unstaking (issue 14.6: a staker cannot run ahead of a loss):
        1. `request_unstake` moves shares into escrow in the fund; a
           cooldown (default 7 days, 1..30) follows, then a window (default
           2 days) in which the exit may start.
        2. `redeem` / `withdraw` inside the window start the exit: the shares
           stay escrowed, and `ExitStarted` records the assets they are worth
           now (the most the exit can pay).
        3. After `settlement_delay` (default 1 day, 1 h .. 7 days) anyone may
           `settle_exit`: it burns the shares and pays the lower of that
           quote and what they are worth at settlement.
        Escrowed shares, requested or settling, bear every cover pro rata
        until they are burned. So a loss the engine wrote off just before an
        exit started (and that the cover role pays within the settlement
        delay) is borne by the exiting shares too: a matured request can no
        longer be redeemed in full just before the `cover` of a known loss.
        The lower-of rule means waiting after the window buys no gains.

        Halts. While the protocol is halted (the breaker halts the fund, as
        `pause_all` does, or any registered Custody, as the ReserveRegistry's
        solvency check does) nobody can request, start or settle an exit:
        stakers must not run ahead of a known loss. A request's clock stops
        during a halt: its unlock time and the end of its window move later
        by the halted seconds since the request (read from the breaker's
        halt and resume times of the fund and each Custody; every unstaking
        call and `sync_halt_clock` bring the count up to date), so a halt
        that covers a window no longer lets it expire.

        `cover` pays a shortfall, only into a registered Custody: the cover
        role within a cap per rolling 24 h (default 10 % of assets, counted
        on the assets before the window's payouts), the governor beyond it,
        but never more than `max_cover_bps` of the assets in one cover
        (default 30 %, at most `MAX_COVER_LIMIT_BPS` = 50 %: stkAAVE's
        maximum slash). Every payout is a `Covered` event with its reason.

        Other tokens. The fund counts only its asset. Any other token sent to
        it (a pool fee in the other token, a mistaken transfer) is moved by
        the governor's `recover_token` (`TokenRecovered`), which can never
        move the asset backing the stakers or the escrowed shares.

        Roles (snekmate access control, ids from `lib/roles.vy`; the
        governor administers both):
        - governor: parameters, custody addresses, roles, cover above cap,
          `recover_token`;
        - cover: `cover` within the cap (the exchange's chain poster).
"""

from ethereum.ercs import IERC165

implements: IERC165

from ethereum.ercs import IERC20

implements: IERC20

from ethereum.ercs import IERC20Detailed

implements: IERC20Detailed

from ethereum.ercs import IERC4626

implements: IERC4626

from snekmate.auth.interfaces import IAccessControl

implements: IAccessControl

from interfaces import ICircuitBreaker

from lib import roles

from snekmate.auth import access_control

initializes: access_control

from snekmate.extensions import erc4626

initializes: erc4626

exports: (
    access_control.__interface__,
    erc4626.totalSupply,
    erc4626.balanceOf,
    erc4626.transfer,
    erc4626.transferFrom,
    erc4626.approve,
    erc4626.allowance,
    erc4626.name,
    erc4626.symbol,
    erc4626.decimals,
    erc4626.permit,
    erc4626.nonces,
    erc4626.DOMAIN_SEPARATOR,
    erc4626.eip712Domain,
    erc4626.asset,
    erc4626.totalAssets,
    erc4626.convertToShares,
    erc4626.convertToAssets,
    erc4626.maxDeposit,
    erc4626.previewDeposit,
    erc4626.deposit,
    erc4626.maxMint,
    erc4626.previewMint,
    erc4626.mint,
    erc4626.previewWithdraw,
    erc4626.previewRedeem,
)


# @dev The role ids of `lib/roles.vy`, re-exported under the same names (same ABI).
GOVERNOR_ROLE: public(constant(bytes32)) = roles.GOVERNOR_ROLE
COVER_ROLE: public(constant(bytes32)) = roles.COVER_ROLE

DAY: constant(uint256) = 86400
MIN_COOLDOWN: public(constant(uint256)) = DAY
MAX_COOLDOWN: public(constant(uint256)) = 30 * DAY
DEFAULT_COOLDOWN: public(constant(uint256)) = 7 * DAY
MIN_UNSTAKE_WINDOW: public(constant(uint256)) = DAY
MAX_UNSTAKE_WINDOW: public(constant(uint256)) = 30 * DAY
DEFAULT_UNSTAKE_WINDOW: public(constant(uint256)) = 2 * DAY
# @dev The rolling window of the cover cap.
COVER_WINDOW: public(constant(uint256)) = DAY
DEFAULT_COVER_CAP_BPS: public(constant(uint256)) = 1_000
# @dev The largest single cover, in bps of the assets (the governor's included).
DEFAULT_MAX_COVER_BPS: public(constant(uint256)) = 3_000
MAX_COVER_LIMIT_BPS: public(constant(uint256)) = 5_000
# @dev From the start of an exit to its settlement.
MIN_SETTLEMENT_DELAY: public(constant(uint256)) = 3600
MAX_SETTLEMENT_DELAY: public(constant(uint256)) = 7 * DAY
DEFAULT_SETTLEMENT_DELAY: public(constant(uint256)) = DAY
MAX_BPS: constant(uint256) = 10_000
MAX_CUSTODIES: public(constant(uint256)) = 8
# @dev The fund and its custodies: the halts the unstake clock counts.
_MAX_TARGETS: constant(uint256) = MAX_CUSTODIES + 1
# @dev Expired payouts dropped from the window per call (more wait for the next).
_MAX_EXPIRE: constant(uint256) = 64
_AMOUNT_BITS: constant(uint256) = 192
_AMOUNT_MASK: constant(uint256) = 2**192 - 1


# @dev A staker's pending unstake: escrowed shares, when they unlock (not
# counting halts) and the halt clock when it was made.
struct UnstakeRequest:
    shares: uint256
    unlocks_at: uint256
    halt_clock: uint256


# @dev A staker's settling exit: escrowed shares, the most they pay, when
# `settle_exit` may pay them and to whom.
struct Exit:
    shares: uint256
    assets: uint256
    settles_at: uint256
    receiver: address


breaker: public(immutable(ICircuitBreaker))

cooldown: public(uint256)
unstake_window: public(uint256)
cover_cap_bps: public(uint256)
max_cover_bps: public(uint256)
settlement_delay: public(uint256)

# @dev The Custody contracts `cover` may pay (they also freeze unstaking when halted).
custodies: public(DynArray[address, MAX_CUSTODIES])

unstake_requests: public(HashMap[address, UnstakeRequest])

exits: public(HashMap[address, Exit])

# @dev Halted seconds counted up to `halt_clock_synced_at` (see the notice).
halt_clock_total: public(uint256)
halt_clock_synced_at: public(uint256)

# @dev Payouts of the last 24 h as a queue of `timestamp << 192 | amount`.
_payouts: HashMap[uint256, uint256]
_payouts_head: uint256
_payouts_tail: uint256
# @dev Sum of the queued payouts (some may have expired since the last `cover`).
_payouts_total: uint256


event UnstakeRequested:
    owner: indexed(address)
    shares: uint256
    unlocks_at: uint256


event UnstakeCancelled:
    owner: indexed(address)
    shares: uint256


# @dev `owner`'s exit of `shares` started: at most `assets` go to `receiver` from `settles_at`.
event ExitStarted:
    owner: indexed(address)
    receiver: indexed(address)
    shares: uint256
    assets: uint256
    settles_at: uint256


# @dev Another token than the asset left the fund.
event TokenRecovered:
    token: indexed(address)
    receiver: indexed(address)
    amount: uint256


event LimitsSet:
    max_cover_bps: uint256
    settlement_delay: uint256


# @dev A payout from the fund into a Custody; `above_cap` when the governor went beyond the cap.
event Covered:
    receiver: indexed(address)
    caller: indexed(address)
    amount: uint256
    reason: String[64]
    above_cap: bool


event RevenueAdded:
    source: indexed(address)
    amount: uint256


event CustodySet:
    custody: indexed(address)
    registered: bool


event ParametersSet:
    cooldown: uint256
    unstake_window: uint256
    cover_cap_bps: uint256


@deploy
def __init__(asset_: IERC20, breaker_: ICircuitBreaker, governor: address, decimals_offset: uint8):
    """
    @dev Set the vault's asset and the roles; the deployer keeps no role
         unless it is the governor.
    @param asset_ The settlement stablecoin (USDC).
    @param breaker_ The protocol's CircuitBreaker.
    @param governor The governor (required).
    @param decimals_offset Extra decimals of the shares over the asset
           (virtual shares 10**offset: the inflation-attack defence).
    """
    assert governor != empty(address), "fund: governor is the zero address"
    breaker = breaker_
    erc4626.__init__("Breakwater Insurance Fund", "bwINS", asset_, decimals_offset, "Breakwater Insurance Fund", "1")
    access_control.__init__()
    access_control._set_role_admin(GOVERNOR_ROLE, GOVERNOR_ROLE)
    access_control._set_role_admin(COVER_ROLE, GOVERNOR_ROLE)
    access_control._grant_role(GOVERNOR_ROLE, governor)
    access_control._revoke_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self.cooldown = DEFAULT_COOLDOWN
    self.unstake_window = DEFAULT_UNSTAKE_WINDOW
    self.cover_cap_bps = DEFAULT_COVER_CAP_BPS
    self.max_cover_bps = DEFAULT_MAX_COVER_BPS
    self.settlement_delay = DEFAULT_SETTLEMENT_DELAY
    self.halt_clock_synced_at = block.timestamp


@external
def request_unstake(shares: uint256) -> uint256:
    """
    @dev Move `shares` into escrow and (re)start the cooldown of the
         caller's unstake request.
    @notice Adding to a pending request restarts its cooldown for all of
            it. Refused while the protocol is halted. Later halts move the
            unlock time (and the window) later by their length.
    @param shares The shares to unstake, at most the caller's balance.
    @return uint256 The time from which the exit can start (if no halt).
    """
    assert shares > 0, "fund: zero shares"
    assert not self._frozen(), "fund: unstaking frozen while halted"
    clock: uint256 = self._sync_halt_clock()
    erc4626.erc20._transfer(msg.sender, self, shares)
    request: UnstakeRequest = self.unstake_requests[msg.sender]
    request.shares += shares
    request.unlocks_at = block.timestamp + self.cooldown
    request.halt_clock = clock
    self.unstake_requests[msg.sender] = request
    log UnstakeRequested(owner=msg.sender, shares=request.shares, unlocks_at=request.unlocks_at)
    return request.unlocks_at


@external
def cancel_unstake() -> uint256:
    """
    @dev Return the caller's escrowed shares, requested and settling, to
         its balance (they stay staked).
    @notice Allowed at any time, also while halted (the shares stay in the
            fund and keep bearing its losses).
    @return uint256 The shares returned.
    """
    shares: uint256 = self.unstake_requests[msg.sender].shares + self.exits[msg.sender].shares
    assert shares > 0, "fund: no unstake request"
    self.unstake_requests[msg.sender] = empty(UnstakeRequest)
    self.exits[msg.sender] = empty(Exit)
    erc4626.erc20._transfer(self, msg.sender, shares)
    log UnstakeCancelled(owner=msg.sender, shares=shares)
    return shares


@external
def redeem(shares: uint256, receiver: address, owner: address) -> uint256:
    """
    @dev Start the exit of `shares` of `owner`'s unlocked request, to
         `receiver`: `settle_exit` pays them after `settlement_delay`.
    @notice ERC-4626 `redeem` in two steps (see the notice): restricted to
            an unlocked request inside its window and refused while halted.
            A caller other than `owner` spends `owner`'s share allowance.
            Adding to a settling exit (same receiver) restarts its delay.
    @param shares The shares to exit.
    @param receiver Who receives the assets.
    @param owner Whose request pays.
    @return uint256 The most the exit pays: the shares' value now (rounded
            down); a cover before settlement lowers it.
    """
    assets: uint256 = erc4626._preview_redeem(shares)
    self._start_exit(owner, receiver, assets, shares)
    return assets


@external
def withdraw(assets: uint256, receiver: address, owner: address) -> uint256:
    """
    @dev Start the exit of the shares that `assets` cost now (rounded up)
         from `owner`'s unlocked request, to `receiver`.
    @notice ERC-4626 `withdraw` in two steps, as `redeem`: `settle_exit`
            pays `assets`, less any cover loss before settlement.
    @param assets The assets to pay.
    @param receiver Who receives them.
    @param owner Whose request pays.
    @return uint256 The shares the exit burns.
    """
    shares: uint256 = erc4626._preview_withdraw(assets)
    self._start_exit(owner, receiver, assets, shares)
    return shares


@external
def settle_exit(owner: address) -> uint256:
    """
    @dev Burn `owner`'s settled exit shares and pay its receiver the lower
         of the exit's quote and the shares' value now.
    @notice Anyone may call it once `settles_at` has passed; refused while
            halted (covers during a halt land first). The difference when
            the shares are worth more than the quote stays with the fund.
    @param owner The staker whose exit settles.
    @return uint256 The assets paid.
    """
    assert not self._frozen(), "fund: unstaking frozen while halted"
    self._sync_halt_clock()
    exit: Exit = self.exits[owner]
    assert exit.shares > 0, "fund: no exit settling"
    assert block.timestamp >= exit.settles_at, "fund: exit still settling"
    assets: uint256 = min(exit.assets, erc4626._convert_to_assets(exit.shares, False))
    self.exits[owner] = empty(Exit)
    # The shares sit in escrow at the fund's own address.
    erc4626.erc20._burn(self, exit.shares)
    assert extcall IERC20(erc4626.asset).transfer(exit.receiver, assets, default_return_value=True), (
        "fund: transfer failed"
    )
    log IERC4626.Withdraw(sender=msg.sender, receiver=exit.receiver, owner=owner, assets=assets, shares=exit.shares)
    return assets


@external
def sync_halt_clock() -> uint256:
    """
    @dev Count the halted seconds up to now (see the notice).
    @notice Anyone may call it; every unstaking call does it too.
    @return uint256 The halted seconds counted so far.
    """
    return self._sync_halt_clock()


@external
def recover_token(token: address, receiver: address) -> uint256:
    """
    @dev Send the fund's whole balance of `token` to `receiver`.
    @notice Governor only. Never the fund's asset (the stakers' backing)
            and never its own shares (the escrow): both revert.
    @param token Any other ERC-20 the fund holds.
    @param receiver Where it goes (e.g. a swap into the asset, or its owner).
    @return uint256 The amount moved.
    """
    access_control._check_role(GOVERNOR_ROLE, msg.sender)
    assert token != erc4626.asset, "fund: cannot recover the fund's asset"
    assert token != self, "fund: cannot recover the escrowed shares"
    assert receiver != empty(address), "fund: zero address"
    amount: uint256 = staticcall IERC20(token).balanceOf(self)
    assert amount > 0, "fund: nothing to recover"
    assert extcall IERC20(token).transfer(receiver, amount, default_return_value=True), "fund: transfer failed"
    log TokenRecovered(token=token, receiver=receiver, amount=amount)
    return amount


@external
@view
def maxRedeem(owner: address) -> uint256:
    """
    @dev Return the shares `owner` can start an exit of now: its
         request's, if unlocked, inside the window and not frozen; else 0.
    @param owner The staker.
    @return uint256 The redeemable shares.
    """
    return self._redeemable(owner)


@external
@view
def maxWithdraw(owner: address) -> uint256:
    """
    @dev Return the assets `owner` can start an exit of now (see `maxRedeem`).
    @param owner The staker.
    @return uint256 The withdrawable assets (rounded down).
    """
    return erc4626._convert_to_assets(self._redeemable(owner), False)


@external
def cover(amount: uint256, receiver: address, reason: String[64]):
    """
    @dev Pay `amount` of the fund's assets into the Custody `receiver`.
    @notice Cover role within the rolling 24 h cap; the governor beyond
            it; nobody above `max_cover_bps` of the assets in one cover.
            Allowed while halted: it only moves money into reserves.
    @param amount The payout in asset units.
    @param receiver A registered Custody.
    @param reason Why (shown in the `Covered` event), e.g. a bad-debt id.
    """
    governor: bool = access_control.hasRole[GOVERNOR_ROLE][msg.sender]
    assert governor or access_control.hasRole[COVER_ROLE][msg.sender], "fund: caller is not cover or governor"
    assert receiver in self.custodies, "fund: receiver is not a registered custody"
    assert amount > 0, "fund: zero amount"
    assets: uint256 = erc4626._total_assets()
    assert amount <= assets, "fund: amount above the fund's assets"
    assert amount <= assets * self.max_cover_bps // MAX_BPS, "fund: cover above the per-event maximum"
    paid: uint256 = self._expire_payouts()
    above_cap: bool = paid + amount > self._cover_cap(paid)
    assert governor or not above_cap, "fund: cover above the 24h cap"
    tail: uint256 = self._payouts_tail
    self._payouts[tail] = block.timestamp << _AMOUNT_BITS | amount
    self._payouts_tail = tail + 1
    self._payouts_total = paid + amount
    assert extcall IERC20(erc4626.asset).transfer(receiver, amount, default_return_value=True), "fund: transfer failed"
    log Covered(receiver=receiver, caller=msg.sender, amount=amount, reason=reason, above_cap=above_cap)


@external
def add_revenue(amount: uint256):
    """
    @dev Pull `amount` of the asset from the caller as revenue (it raises
         the value of every share); a plain transfer counts the same.
    @param amount The revenue in asset units.
    """
    assert amount > 0, "fund: zero amount"
    assert extcall IERC20(erc4626.asset).transferFrom(msg.sender, self, amount, default_return_value=True), (
        "fund: transferFrom failed"
    )
    log RevenueAdded(source=msg.sender, amount=amount)


@external
def set_parameters(cooldown: uint256, unstake_window: uint256, cover_cap_bps: uint256):
    """
    @dev Set the cooldown, the unstake window and the cover cap.
    @notice Governor only. A pending request keeps the unlock time it got.
    @param cooldown Seconds from request to unlock, 1..30 days.
    @param unstake_window Seconds an unlocked request stays redeemable, 1..30 days.
    @param cover_cap_bps The cover role's cap per 24 h, in bps of assets (1..10000).
    """
    access_control._check_role(GOVERNOR_ROLE, msg.sender)
    assert cooldown >= MIN_COOLDOWN and cooldown <= MAX_COOLDOWN, "fund: cooldown out of range"
    assert unstake_window >= MIN_UNSTAKE_WINDOW and unstake_window <= MAX_UNSTAKE_WINDOW, (
        "fund: unstake window out of range"
    )
    assert cover_cap_bps > 0 and cover_cap_bps <= MAX_BPS, "fund: cover cap out of range"
    self.cooldown = cooldown
    self.unstake_window = unstake_window
    self.cover_cap_bps = cover_cap_bps
    log ParametersSet(cooldown=cooldown, unstake_window=unstake_window, cover_cap_bps=cover_cap_bps)


@external
def set_limits(max_cover_bps: uint256, settlement_delay: uint256):
    """
    @dev Set the largest single cover and the exits' settlement delay.
    @notice Governor only. A settling exit keeps the time it got.
    @param max_cover_bps The most one cover pays, in bps of the assets
           (1 .. `MAX_COVER_LIMIT_BPS`).
    @param settlement_delay Seconds from an exit's start to its
           settlement (1 h .. 7 days).
    """
    access_control._check_role(GOVERNOR_ROLE, msg.sender)
    assert max_cover_bps > 0 and max_cover_bps <= MAX_COVER_LIMIT_BPS, "fund: max cover out of range"
    assert settlement_delay >= MIN_SETTLEMENT_DELAY and settlement_delay <= MAX_SETTLEMENT_DELAY, (
        "fund: settlement delay out of range"
    )
    self.max_cover_bps = max_cover_bps
    self.settlement_delay = settlement_delay
    log LimitsSet(max_cover_bps=max_cover_bps, settlement_delay=settlement_delay)


@external
def set_custody(custody: address, registered: bool):
    """
    @dev Register (or remove) a Custody that `cover` may pay and whose
         halt freezes unstaking.
    @notice Governor only.
    @param custody The Custody contract.
    @param registered True to add, False to remove.
    """
    access_control._check_role(GOVERNOR_ROLE, msg.sender)
    assert custody != empty(address), "fund: zero address"
    found: bool = custody in self.custodies
    if registered:
        assert not found, "fund: custody already registered"
        assert len(self.custodies) < MAX_CUSTODIES, "fund: too many custodies"
        self.custodies.append(custody)
    else:
        assert found, "fund: custody not registered"
        kept: DynArray[address, MAX_CUSTODIES] = []
        for c: address in self.custodies:
            if c != custody:
                kept.append(c)
        self.custodies = kept
    log CustodySet(custody=custody, registered=registered)


@external
@view
def is_frozen() -> bool:
    """
    @dev Return whether unstaking is frozen: the breaker halts the fund or
         a registered Custody.
    @return bool True while frozen.
    """
    return self._frozen()


@external
@view
def covered_last_24h() -> uint256:
    """
    @dev Return the payouts of the last 24 h (all of them, governor's too).
    @return uint256 The sum in asset units.
    """
    return self._window_total()


@external
@view
def cover_headroom() -> uint256:
    """
    @dev Return how much the cover role may still pay now, in one cover.
    @return uint256 The cap minus the last 24 h's payouts, floored at 0,
            and at most `max_cover_bps` of the assets.
    """
    paid: uint256 = self._window_total()
    cap: uint256 = self._cover_cap(paid)
    if paid >= cap:
        return 0
    assets: uint256 = erc4626._total_assets()
    return min(cap - paid, assets * self.max_cover_bps // MAX_BPS)


@external
@view
def halt_clock() -> uint256:
    """
    @dev Return the halted seconds counted up to now (as `sync_halt_clock`, without writing).
    @return uint256 The seconds.
    """
    return self._halt_clock()


@external
@view
def unstake_window_of(owner: address) -> (uint256, uint256):
    """
    @dev Return when `owner`'s request unlocks and when its window ends,
         both moved later by the halted seconds since the request.
    @param owner The staker.
    @return uint256 The unlock time (0 without a request).
    @return uint256 The end of the window (exclusive).
    """
    request: UnstakeRequest = self.unstake_requests[owner]
    if request.shares == 0:
        return 0, 0
    unlocks_at: uint256 = request.unlocks_at + self._halt_clock() - request.halt_clock
    return unlocks_at, unlocks_at + self.unstake_window


@external
@view
def custodies_count() -> uint256:
    """
    @dev Return how many Custody contracts are registered (`custodies(i)`).
    @return uint256 The count.
    """
    return len(self.custodies)


@internal
def _start_exit(owner: address, receiver: address, assets: uint256, shares: uint256):
    """
    @dev Move `shares` of `owner`'s unlocked request into its settling
         exit to `receiver`, quoted at `assets`.
    @param owner Whose request pays.
    @param receiver Who receives the assets at settlement.
    @param assets The quote: the most the exit pays for these shares.
    @param shares The shares.
    """
    assert shares > 0, "fund: zero shares"
    assert receiver != empty(address), "fund: zero address"
    assert not self._frozen(), "fund: unstaking frozen while halted"
    clock: uint256 = self._sync_halt_clock()
    request: UnstakeRequest = self.unstake_requests[owner]
    assert request.shares > 0, "fund: no unstake request"
    unlocks_at: uint256 = request.unlocks_at + clock - request.halt_clock
    assert block.timestamp >= unlocks_at, "fund: cooldown not over"
    assert block.timestamp < unlocks_at + self.unstake_window, "fund: unstake window expired"
    assert shares <= request.shares, "fund: more than the request"
    if msg.sender != owner:
        erc4626.erc20._spend_allowance(owner, msg.sender, shares)
    request.shares -= shares
    self.unstake_requests[owner] = request
    exit: Exit = self.exits[owner]
    assert exit.shares == 0 or exit.receiver == receiver, "fund: an exit to another receiver is settling"
    exit.shares += shares
    exit.assets += assets
    exit.settles_at = block.timestamp + self.settlement_delay
    exit.receiver = receiver
    self.exits[owner] = exit
    log ExitStarted(
        owner=owner, receiver=receiver, shares=exit.shares, assets=exit.assets, settles_at=exit.settles_at
    )


@internal
def _sync_halt_clock() -> uint256:
    """
    @dev Store the halted seconds counted up to now and return them.
    @return uint256 The halted seconds so far.
    """
    clock: uint256 = self._halt_clock()
    self.halt_clock_total = clock
    self.halt_clock_synced_at = block.timestamp
    return clock


@internal
@view
def _halt_clock() -> uint256:
    """
    @dev Return the stored halted seconds plus those since the last sync:
         the union of the fund's and each Custody's current or last halt,
         clipped to after the sync (from the breaker's halt and resume
         times), so overlapping halts count once. A target's earlier halt
         that started and ended between two syncs is not seen (every
         unstaking call and `sync_halt_clock` sync).
    @return uint256 The halted seconds up to now.
    """
    synced: uint256 = self.halt_clock_synced_at
    starts: DynArray[uint256, _MAX_TARGETS] = []
    ends: DynArray[uint256, _MAX_TARGETS] = []
    seen: bool = False
    start: uint256 = 0
    end: uint256 = 0
    seen, start, end = self._halt_interval(self, synced)
    if seen:
        starts.append(start)
        ends.append(end)
    for custody: address in self.custodies:
        seen, start, end = self._halt_interval(custody, synced)
        if seen:
            starts.append(start)
            ends.append(end)
    n: uint256 = len(starts)
    if n == 0:
        return self.halt_clock_total
    # Sort by start (at most 9 intervals), then add up their union.
    for i: uint256 in range(1, _MAX_TARGETS):
        if i >= n:
            break
        j: uint256 = i
        for _: uint256 in range(_MAX_TARGETS):
            if j == 0 or starts[j - 1] <= starts[j]:
                break
            swap: uint256 = starts[j]
            starts[j] = starts[j - 1]
            starts[j - 1] = swap
            swap = ends[j]
            ends[j] = ends[j - 1]
            ends[j - 1] = swap
            j -= 1
    total: uint256 = self.halt_clock_total
    start = starts[0]
    end = ends[0]
    for i: uint256 in range(1, _MAX_TARGETS):
        if i >= n:
            break
        if starts[i] <= end:
            end = max(end, ends[i])
        else:
            total += end - start
            start = starts[i]
            end = ends[i]
    return total + end - start


@internal
@view
def _halt_interval(target: address, synced: uint256) -> (bool, uint256, uint256):
    """
    @dev Return `target`'s current or last halt, clipped to after `synced`.
    @param target A protected contract (the fund or a Custody).
    @param synced The time the clock was last synced.
    @return bool Whether any of it lies after `synced`.
    @return uint256 Its start (at least `synced`).
    @return uint256 Its end (now while halted).
    """
    protected: bool = False
    halted: bool = False
    manual: bool = False
    halted_at: uint256 = 0
    resumed_at: uint256 = 0
    halt_seconds: uint256 = 0
    protected, halted, manual, halted_at, resumed_at, halt_seconds = staticcall breaker.protection(target)
    stop: uint256 = resumed_at
    if halted:
        stop = block.timestamp
    if not protected or stop <= synced or stop < halted_at:
        return False, 0, 0
    return True, max(halted_at, synced), stop


@internal
@view
def _redeemable(owner: address) -> uint256:
    """
    @dev Return the shares of `owner`'s request an exit may start from now.
    @param owner The staker.
    @return uint256 The shares, 0 outside the window or while frozen.
    """
    request: UnstakeRequest = self.unstake_requests[owner]
    if request.shares == 0 or self._frozen():
        return 0
    unlocks_at: uint256 = request.unlocks_at + self._halt_clock() - request.halt_clock
    if block.timestamp < unlocks_at or block.timestamp >= unlocks_at + self.unstake_window:
        return 0
    return request.shares


@internal
@view
def _frozen() -> bool:
    """
    @dev Return whether the breaker halts the fund or a registered Custody.
    @return bool True while frozen.
    """
    if staticcall breaker.is_halted(self):
        return True
    for custody: address in self.custodies:
        if staticcall breaker.is_halted(custody):
            return True
    return False


@internal
@view
def _cover_cap(paid: uint256) -> uint256:
    """
    @dev Return the cover role's cap for the window that paid `paid`.
    @param paid The window's payouts so far.
    @return uint256 `cover_cap_bps` of the assets before them.
    """
    # The cap is a share of the assets before this window's payouts, so
    # splitting a payout into pieces does not shrink or grow it.
    return (erc4626._total_assets() + paid) * self.cover_cap_bps // MAX_BPS


@internal
def _expire_payouts() -> uint256:
    """
    @dev Drop payouts older than the cover window from the queue (at
         most `_MAX_EXPIRE`) and return the sum of the rest.
    @return uint256 The window's payouts.
    """
    head: uint256 = self._payouts_head
    tail: uint256 = self._payouts_tail
    total: uint256 = self._payouts_total
    for _: uint256 in range(_MAX_EXPIRE):
        if head == tail:
            break
        entry: uint256 = self._payouts[head]
        if (entry >> _AMOUNT_BITS) + COVER_WINDOW > block.timestamp:
            break
        total -= entry & _AMOUNT_MASK
        self._payouts[head] = 0
        head += 1
    self._payouts_head = head
    self._payouts_total = total
    return total


@internal
@view
def _window_total() -> uint256:
    """
    @dev As `_expire_payouts`, without writing (a view may look further back).
    @return uint256 The window's payouts.
    """
    head: uint256 = self._payouts_head
    tail: uint256 = self._payouts_tail
    total: uint256 = self._payouts_total
    for _: uint256 in range(4 * _MAX_EXPIRE):
        if head == tail:
            break
        entry: uint256 = self._payouts[head]
        if (entry >> _AMOUNT_BITS) + COVER_WINDOW > block.timestamp:
            break
        total -= entry & _AMOUNT_MASK
        head += 1
    return total
