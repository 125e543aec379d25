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

        Unstaking is a request, then a cooldown (default 7 days, 1..30),
        then a window (default 2 days) in which `redeem` / `withdraw` pay
        out. A request moves the shares into escrow in the fund: they keep
        their share of gains and losses, so a staker cannot step out of a
        loss by asking first. While the protocol is halted (the breaker halts
        the fund, as `pause_all` does, or any registered Custody, as the
        ReserveRegistry's solvency check does) nobody can request or
        complete an unstake: stakers must not run ahead of a known loss.

        `cover` pays a shortfall, only into a registered Custody: the cover
        role within a cap per rolling 24 h (default 10 % of assets, counted
        on the assets before the window's payouts), the governor beyond it.
        Every payout is a `Covered` event with its reason.

        Roles (snekmate access control; the governor administers both):
        - governor: parameters, custody addresses, roles, cover above cap;
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


GOVERNOR_ROLE: public(constant(bytes32)) = keccak256("GOVERNOR_ROLE")
COVER_ROLE: public(constant(bytes32)) = keccak256("COVER_ROLE")

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
MAX_BPS: constant(uint256) = 10_000
MAX_CUSTODIES: public(constant(uint256)) = 8
# @dev Expired payouts dropped from the window per call (more wait for the next).
_MAX_EXPIRE: constant(uint256) = 64
_AMOUNT_BITS: constant(uint256) = 192
_AMOUNT_MASK: constant(uint256) = 2**192 - 1


# @dev A staker's pending unstake: escrowed shares and when they unlock.
struct UnstakeRequest:
    shares: uint256
    unlocks_at: uint256


breaker: public(immutable(ICircuitBreaker))

cooldown: public(uint256)
unstake_window: public(uint256)
cover_cap_bps: public(uint256)

# @dev The Custody contracts `cover` may pay (they also freeze unstaking when halted).
custodies: public(DynArray[address, MAX_CUSTODIES])

unstake_requests: public(HashMap[address, UnstakeRequest])

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


@external
def request_unstake(shares: uint256) -> uint256:
    """
    @dev Move `shares` into escrow and (re)start the cooldown of the
         caller's unstake request.
    @notice Adding to a pending request restarts its cooldown for all of
            it. Refused while the protocol is halted.
    @param shares The shares to unstake, at most the caller's balance.
    @return uint256 The time from which the request can be redeemed.
    """
    assert shares > 0, "fund: zero shares"
    assert not self._frozen(), "fund: unstaking frozen while halted"
    erc4626.erc20._transfer(msg.sender, self, shares)
    request: UnstakeRequest = self.unstake_requests[msg.sender]
    request.shares += shares
    request.unlocks_at = block.timestamp + self.cooldown
    self.unstake_requests[msg.sender] = request
    log UnstakeRequested(owner=msg.sender, shares=request.shares, unlocks_at=request.unlocks_at)
    return request.unlocks_at


@external
def cancel_unstake() -> uint256:
    """
    @dev Return the caller's escrowed shares to its balance (they stay staked).
    @notice Allowed at any time, also while halted.
    @return uint256 The shares returned.
    """
    shares: uint256 = self.unstake_requests[msg.sender].shares
    assert shares > 0, "fund: no unstake request"
    self.unstake_requests[msg.sender] = empty(UnstakeRequest)
    erc4626.erc20._transfer(self, msg.sender, shares)
    log UnstakeCancelled(owner=msg.sender, shares=shares)
    return shares


@external
def redeem(shares: uint256, receiver: address, owner: address) -> uint256:
    """
    @dev Burn `shares` of `owner`'s unlocked request and send their assets
         to `receiver`.
    @notice ERC-4626 `redeem`, restricted to an unlocked request inside its
            window and refused while halted. A caller other than `owner`
            spends `owner`'s share allowance.
    @param shares The shares to burn.
    @param receiver Who receives the assets.
    @param owner Whose request pays.
    @return uint256 The assets paid (rounded down).
    """
    assets: uint256 = erc4626._preview_redeem(shares)
    self._unstake(owner, receiver, assets, shares)
    return assets


@external
def withdraw(assets: uint256, receiver: address, owner: address) -> uint256:
    """
    @dev Send exactly `assets` to `receiver`, burning the shares they cost
         from `owner`'s unlocked request.
    @notice ERC-4626 `withdraw`, with the same restrictions as `redeem`.
    @param assets The assets to pay.
    @param receiver Who receives them.
    @param owner Whose request pays.
    @return uint256 The shares burned (rounded up).
    """
    shares: uint256 = erc4626._preview_withdraw(assets)
    self._unstake(owner, receiver, assets, shares)
    return shares


@external
@view
def maxRedeem(owner: address) -> uint256:
    """
    @dev Return the shares `owner` can redeem now: its request's, if
         unlocked, inside the window and not frozen; else 0.
    @param owner The staker.
    @return uint256 The redeemable shares.
    """
    return self._redeemable(owner)


@external
@view
def maxWithdraw(owner: address) -> uint256:
    """
    @dev Return the assets `owner` can withdraw now (see `maxRedeem`).
    @param owner The staker.
    @return uint256 The withdrawable assets (rounded down).
    """
    return erc4626._convert_to_assets(self._redeemable(owner), False)


@external
def cover(amount: uint256, receiver: address, reason: String[64]):
    """
    @dev Pay `amount` of the fund's assets into the Custody `receiver`.
    @notice Cover role within the rolling 24 h cap; the governor at any
            size. Allowed while halted: it only moves money into reserves.
    @param amount The payout in asset units.
    @param receiver A registered Custody.
    @param reason Why (shown in the `Covered` event), e.g. a bad-debt id.
    """
    governor: bool = access_control.hasRole[GOVERNOR_ROLE][msg.sender]
    assert governor or access_control.hasRole[COVER_ROLE][msg.sender], "fund: caller is not cover or governor"
    assert receiver in self.custodies, "fund: receiver is not a registered custody"
    assert amount > 0, "fund: zero amount"
    assert amount <= erc4626._total_assets(), "fund: amount above the fund's assets"
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
    @dev Return how much the cover role may still pay now.
    @return uint256 The cap minus the last 24 h's payouts, floored at 0.
    """
    paid: uint256 = self._window_total()
    cap: uint256 = self._cover_cap(paid)
    if paid >= cap:
        return 0
    return min(cap - paid, erc4626._total_assets())


@external
@view
def custodies_count() -> uint256:
    """
    @dev Return how many Custody contracts are registered (`custodies(i)`).
    @return uint256 The count.
    """
    return len(self.custodies)


@internal
def _unstake(owner: address, receiver: address, assets: uint256, shares: uint256):
    assert shares > 0, "fund: zero shares"
    assert not self._frozen(), "fund: unstaking frozen while halted"
    request: UnstakeRequest = self.unstake_requests[owner]
    assert request.shares > 0, "fund: no unstake request"
    assert block.timestamp >= request.unlocks_at, "fund: cooldown not over"
    assert block.timestamp < request.unlocks_at + self.unstake_window, "fund: unstake window expired"
    assert shares <= request.shares, "fund: more than the request"
    if msg.sender != owner:
        erc4626.erc20._spend_allowance(owner, msg.sender, shares)
    request.shares -= shares
    self.unstake_requests[owner] = request
    # The shares sit in escrow at the fund's own address.
    erc4626.erc20._burn(self, shares)
    assert extcall IERC20(erc4626.asset).transfer(receiver, assets, default_return_value=True), "fund: transfer failed"
    log IERC4626.Withdraw(sender=msg.sender, receiver=receiver, owner=owner, assets=assets, shares=shares)


@internal
@view
def _redeemable(owner: address) -> uint256:
    request: UnstakeRequest = self.unstake_requests[owner]
    if request.shares == 0 or block.timestamp < request.unlocks_at:
        return 0
    if block.timestamp >= request.unlocks_at + self.unstake_window or self._frozen():
        return 0
    return request.shares


@internal
@view
def _frozen() -> bool:
    if staticcall breaker.is_halted(self):
        return True
    for custody: address in self.custodies:
        if staticcall breaker.is_halted(custody):
            return True
    return False


@internal
@view
def _cover_cap(paid: uint256) -> uint256:
    # The cap is a share of the assets before this window's payouts, so
    # splitting a payout into pieces does not shrink or grow it.
    return (erc4626._total_assets() + paid) * self.cover_cap_bps // MAX_BPS


@internal
def _expire_payouts() -> uint256:
    # Drop payouts older than the window from the queue; return the rest's sum.
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
    # As `_expire_payouts`, without writing (a view may look further back).
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
