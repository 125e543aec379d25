# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title Protocol-level circuit breaker
@custom:contract-name CircuitBreaker
@license GNU Affero General Public License v3.0 only
@notice One per protocol. Protected contracts (Pool, Custody, InsuranceFund,
        ReserveRegistry) ask `is_halted(self)` before any action the halt must
        stop, and trip the breaker themselves when a metric fires.

        Roles (snekmate access control; the governor administers all three):
        - governor: registers targets (`protect`), resumes any target at any
          time, lifts every halt (`unpause_all`), grants and revokes roles;
        - guardian: halts one target (`pause`) or all (`pause_all`) at once,
          and cannot lift any halt;
        - sentinel: the off-chain keeper; may `trip` any protected target with
          a reason code and the metric that fired.
        A protected target may `trip` itself.

        Resume rules. A guardian pause is lifted by the governor only. A trip
        (by the target or a sentinel) may be lifted by anyone once the
        target's halt window has passed AND the target's own `can_resume()`
        view answers true (the Pool: depth back above half its benchmark);
        a target without `can_resume()` is resumed by the governor only.
        Every resume records its time: targets read it through `halt_state`
        to run their cool-down.

        Mirrors. `protect` offers the target `IHaltListener.on_halt_state`
        with its current state; a target that acknowledges (the Pool) is
        pushed its halt state and last resume time in the same transaction as
        every later transition (trip, pause, `pause_all`, resume,
        `unpause_all`), and the transition reverts if the push fails. Such a
        target reads its own copy instead of calling `is_halted` on every
        swap, and the copy can never say "running" while `is_halted` says
        "halted". A target that does not acknowledge keeps asking.

        Reason codes: `contracts/lib/trip_reasons.vy`.
@custom:kill A guardian's `pause(target)` / `pause_all()` stops at once what
        each target gates on `is_halted`: Pool swaps (never `add_liquidity`
        or `remove_liquidity`), and whatever Custody, InsuranceFund and
        ReserveRegistry gate. Only the governor restarts a paused target
        (`resume`, `unpause_all`). The governor removes a guardian's power
        with `revokeRole(GUARDIAN_ROLE, guardian)`; a guardian gives it up
        with `renounceRole`. A mirroring target (`IHaltListener`) whose push
        fails blocks its pause and `pause_all`: only targets that accept
        every push from the breaker (the Pool) may acknowledge the offer.
"""

from ethereum.ercs import IERC165

implements: IERC165

from snekmate.auth.interfaces import IAccessControl

implements: IAccessControl

from interfaces import ICircuitBreaker

implements: ICircuitBreaker

from interfaces import IHaltListener
from interfaces import IProtected

from snekmate.auth import access_control

initializes: access_control

from lib import roles
from lib import trip_reasons

exports: access_control.__interface__


# @dev The role ids of `lib/roles.vy`, re-exported under the same names (same ABI).
GOVERNOR_ROLE: public(constant(bytes32)) = roles.GOVERNOR_ROLE
GUARDIAN_ROLE: public(constant(bytes32)) = roles.GUARDIAN_ROLE
SENTINEL_ROLE: public(constant(bytes32)) = roles.SENTINEL_ROLE

# @dev The longest halt window a target may be given.
MAX_HALT_SECONDS: public(constant(uint256)) = 7 * 86400
# @dev The most targets one breaker protects (bounds `pause_all`).
MAX_TARGETS: public(constant(uint256)) = 64

# @dev The per-target word: four flags, then three 64-bit fields.
_PROTECTED: constant(uint256) = 1
_HALTED: constant(uint256) = 2
_MANUAL: constant(uint256) = 4
_FLAGS: constant(uint256) = 7
# @dev The target mirrors its halt state: push every transition to it.
_MIRRORED: constant(uint256) = 8
_MIRROR_ACK: constant(bytes4) = method_id("on_halt_state(bool,uint256)", output_type=bytes4)
_HALTED_AT_SHIFT: constant(uint256) = 8
_RESUMED_AT_SHIFT: constant(uint256) = 72
_HALT_SECONDS_SHIFT: constant(uint256) = 136
_U64: constant(uint256) = 2**64 - 1


# @dev Every protected target, in the order it was registered.
targets: public(DynArray[address, MAX_TARGETS])

# @dev True between a guardian's `pause_all` and the governor's `unpause_all`.
all_paused: public(bool)

# @dev The reason code and metric of the last trip or pause of a target.
last_reason: public(HashMap[address, uint256])
last_metric: public(HashMap[address, uint256])

# @dev Packed state by target (see the constants above): one read answers `is_halted`.
_state: HashMap[address, uint256]


# @dev A target was registered, or its halt window changed.
event Protected:
    target: indexed(address)
    halt_seconds: uint256


# @dev A target (or a sentinel for it) halted it because a metric fired.
event Tripped:
    target: indexed(address)
    caller: indexed(address)
    reason: uint256
    metric: uint256


# @dev A guardian halted a target.
event Paused:
    target: indexed(address)
    guardian: indexed(address)
    reason: uint256


# @dev A guardian halted every target.
event PausedAll:
    guardian: indexed(address)


# @dev A halt was lifted; `governor` says whether the governor's override lifted it.
event Resumed:
    target: indexed(address)
    caller: indexed(address)
    governor: bool


# @dev The governor lifted every halt.
event UnpausedAll:
    governor: indexed(address)


@deploy
def __init__(governor: address, guardian: address, sentinel: address):
    """
    @dev Give the roles and make the governor the admin of all three.
    @notice The deployer keeps no role unless it is one of the given
            addresses. `guardian` and `sentinel` may be the zero address
            (none yet; the governor grants them later).
    @param governor The governor (required).
    @param guardian The first guardian, or the zero address.
    @param sentinel The first sentinel, or the zero address.
    """
    assert governor != empty(address), "breaker: governor is the zero address"
    access_control.__init__()
    access_control._set_role_admin(GOVERNOR_ROLE, GOVERNOR_ROLE)
    access_control._set_role_admin(GUARDIAN_ROLE, GOVERNOR_ROLE)
    access_control._set_role_admin(SENTINEL_ROLE, GOVERNOR_ROLE)
    access_control._grant_role(GOVERNOR_ROLE, governor)
    if guardian != empty(address):
        access_control._grant_role(GUARDIAN_ROLE, guardian)
    if sentinel != empty(address):
        access_control._grant_role(SENTINEL_ROLE, sentinel)
    access_control._revoke_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)


@external
def protect(target: address, halt_seconds: uint256):
    """
    @dev Register `target` with its halt window, or change the window.
    @notice Governor only. A target registered during a `pause_all`
            starts halted. The target is offered `IHaltListener`
            pushes (see the notice) until it acknowledges one.
    @param target The contract to protect.
    @param halt_seconds How long a trip lasts at least before anyone but
           the governor may resume it (1 s .. 7 days).
    """
    access_control._check_role(GOVERNOR_ROLE, msg.sender)
    assert target != empty(address), "breaker: target is the zero address"
    assert halt_seconds > 0 and halt_seconds <= MAX_HALT_SECONDS, "breaker: halt window out of range"
    word: uint256 = self._state[target]
    if word & _PROTECTED == 0:
        assert len(self.targets) < MAX_TARGETS, "breaker: too many targets"
        self.targets.append(target)
        word = _PROTECTED
        if self.all_paused:
            word = word | _HALTED | _MANUAL | block.timestamp << _HALTED_AT_SHIFT
    word = word & ~(_U64 << _HALT_SECONDS_SHIFT) | halt_seconds << _HALT_SECONDS_SHIFT
    if word & _MIRRORED == 0 and self._offer_mirror(target, word):
        word = word | _MIRRORED
    self._state[target] = word
    log Protected(target=target, halt_seconds=halt_seconds)


@external
def trip(target: address, reason: uint256, metric: uint256):
    """
    @dev Halt `target` because a metric fired.
    @notice By the target itself or a sentinel. Tripping a target that is
            already halted records the new reason and metric but does not
            restart its halt window.
    @param target The protected contract to halt.
    @param reason The reason code (`lib/trip_reasons.vy`).
    @param metric The value of the metric that fired, in the unit the
           reason code names.
    """
    assert msg.sender == target or access_control.hasRole[SENTINEL_ROLE][msg.sender], (
        "breaker: caller is not the target or a sentinel"
    )
    word: uint256 = self._protected_state(target)
    if word & _HALTED == 0:
        self._store(target, self._halted(word, False))
    self.last_reason[target] = reason
    self.last_metric[target] = metric
    log Tripped(target=target, caller=msg.sender, reason=reason, metric=metric)


@external
def pause(target: address):
    """
    @dev Halt `target` now; only the governor can lift it.
    @notice Guardian only.
    @param target The protected contract to halt.
    """
    access_control._check_role(GUARDIAN_ROLE, msg.sender)
    self._pause(target, self._protected_state(target), trip_reasons.GUARDIAN_PAUSE)


@external
def pause_all():
    """
    @dev Halt every protected target now; only the governor can lift it.
    @notice Guardian only. `is_halted` also answers true for any address
            that is not protected until `unpause_all`.
    """
    access_control._check_role(GUARDIAN_ROLE, msg.sender)
    self.all_paused = True
    for target: address in self.targets:
        self._pause(target, self._state[target], trip_reasons.GUARDIAN_PAUSE_ALL)
    log PausedAll(guardian=msg.sender)


@external
def unpause_all():
    """
    @dev Lift every halt: the global pause, guardian pauses and trips.
    @notice Governor only. Each lifted target starts its cool-down.
    """
    access_control._check_role(GOVERNOR_ROLE, msg.sender)
    self.all_paused = False
    for target: address in self.targets:
        word: uint256 = self._state[target]
        if word & _HALTED != 0:
            self._resume(target, word, True)
    log UnpausedAll(governor=msg.sender)


@external
def resume(target: address):
    """
    @dev Lift the halt of `target`.
    @notice The governor may resume at any time. Anyone else may resume a
            trip (not a guardian pause) once the halt window has passed and
            the target's `can_resume()` answers true.
    @param target The halted contract.
    """
    word: uint256 = self._protected_state(target)
    assert word & _HALTED != 0, "breaker: target is not halted"
    governor: bool = access_control.hasRole[GOVERNOR_ROLE][msg.sender]
    if not governor:
        assert word & _MANUAL == 0, "breaker: only the governor lifts a guardian pause"
        halted_at: uint256 = word >> _HALTED_AT_SHIFT & _U64
        halt_seconds: uint256 = word >> _HALT_SECONDS_SHIFT & _U64
        assert block.timestamp >= halted_at + halt_seconds, "breaker: halt window not over"
        assert self._target_allows_resume(target), "breaker: target's resume conditions not met"
    self._resume(target, word, governor)


@external
@view
def is_halted(target: address) -> bool:
    """
    @dev Return whether `target` must stop what the breaker gates.
    @param target The contract asking (usually `self`).
    @return bool True while halted; for an address that is not protected,
            true only during a `pause_all`.
    """
    word: uint256 = self._state[target]
    if word & _PROTECTED == 0:
        return self.all_paused
    return word & _HALTED != 0


@external
@view
def halt_state(target: address) -> (bool, uint256):
    """
    @dev Return `is_halted(target)` and the time of its last resume in one
         call (a protected target's cool-down starts there).
    @param target The contract asking.
    @return bool Whether halted (as `is_halted`).
    @return uint256 The timestamp of the last resume, 0 if never resumed.
    """
    word: uint256 = self._state[target]
    if word & _PROTECTED == 0:
        return self.all_paused, 0
    return word & _HALTED != 0, word >> _RESUMED_AT_SHIFT & _U64


@external
@view
def protection(target: address) -> (bool, bool, bool, uint256, uint256, uint256):
    """
    @dev Return the full state of `target`, for dashboards and keepers.
    @param target The contract.
    @return bool Whether protected.
    @return bool Whether halted.
    @return bool Whether the halt is a guardian pause (governor lifts it).
    @return uint256 When the current (or last) halt started.
    @return uint256 When the last resume happened (0 if never).
    @return uint256 The halt window in seconds.
    """
    word: uint256 = self._state[target]
    return (
        word & _PROTECTED != 0,
        word & _HALTED != 0,
        word & _MANUAL != 0,
        word >> _HALTED_AT_SHIFT & _U64,
        word >> _RESUMED_AT_SHIFT & _U64,
        word >> _HALT_SECONDS_SHIFT & _U64,
    )


@external
@view
def mirrors(target: address) -> bool:
    """
    @dev Return whether `target` acknowledged the `IHaltListener` offer:
         every transition of its halt state is pushed to it.
    @param target The contract.
    @return bool True if the target mirrors its halt state.
    """
    return self._state[target] & _MIRRORED != 0


@external
@view
def targets_count() -> uint256:
    """
    @dev Return how many targets are protected (`targets(i)` lists them).
    @return uint256 The number of protected targets.
    """
    return len(self.targets)


@internal
@view
def _protected_state(target: address) -> uint256:
    word: uint256 = self._state[target]
    assert word & _PROTECTED != 0, "breaker: target not protected"
    return word


@internal
@view
def _halted(word: uint256, manual: bool) -> uint256:
    # Start a halt now; the halt window counts from here.
    flags: uint256 = _PROTECTED | _HALTED
    if manual:
        flags = flags | _MANUAL
    cleared: uint256 = word & ~(_FLAGS | _U64 << _HALTED_AT_SHIFT)
    return cleared | flags | block.timestamp << _HALTED_AT_SHIFT


@internal
def _pause(target: address, word: uint256, reason: uint256):
    if word & _HALTED == 0:
        self._store(target, self._halted(word, True))
    else:
        # Already tripped: a guardian pause on top makes it the governor's to lift.
        self._state[target] = word | _MANUAL
    self.last_reason[target] = reason
    self.last_metric[target] = 0
    log Paused(target=target, guardian=msg.sender, reason=reason)


@internal
def _resume(target: address, word: uint256, governor: bool):
    cleared: uint256 = word & ~(_HALTED | _MANUAL | _U64 << _RESUMED_AT_SHIFT)
    self._store(target, cleared | block.timestamp << _RESUMED_AT_SHIFT)
    log Resumed(target=target, caller=msg.sender, governor=governor)


@internal
def _store(target: address, word: uint256):
    # A halt state change: a mirroring target must take it, or the transition reverts.
    self._state[target] = word
    if word & _MIRRORED != 0:
        extcall IHaltListener(target).on_halt_state(word & _HALTED != 0, word >> _RESUMED_AT_SHIFT & _U64)


@internal
def _offer_mirror(target: address, word: uint256) -> bool:
    # Push the current state once; only a target answering with the selector mirrors from now on.
    ok: bool = False
    response: Bytes[32] = b""
    ok, response = raw_call(
        target,
        abi_encode(word & _HALTED != 0, word >> _RESUMED_AT_SHIFT & _U64, method_id=_MIRROR_ACK),
        max_outsize=32,
        revert_on_failure=False,
    )
    return ok and len(response) == 32 and convert(response, bytes32) == convert(_MIRROR_ACK, bytes32)


@internal
@view
def _target_allows_resume(target: address) -> bool:
    # A target without `can_resume()` (or one that reverts) never allows it.
    ok: bool = False
    response: Bytes[32] = b""
    ok, response = raw_call(
        target,
        method_id("can_resume()"),
        max_outsize=32,
        is_static_call=True,
        revert_on_failure=False,
    )
    if not ok or len(response) != 32:
        return False
    return convert(response, uint256) == 1
