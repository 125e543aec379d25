# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Rolling-window net outflow limiters (ERC-7265 style), many per contract
@custom:contract-name outflow_limiter
@license GNU Affero General Public License v3.0 only
@notice Any number of independent limiters, each under a `bytes32` key
        (a token address, `keccak256(abi_encode(account, token))` for a
        per-address limit, a constant for a global one...).

        Each limiter keeps one signed number, the net outflow `net`
        (outflows minus inflows), which relaxes towards zero at the rate
        `cap / window` per second, in both directions. That is a rolling
        window without buckets: an outflow of `cap` fully drains the budget,
        and the budget comes back linearly over `window` seconds.

        The buffer is elastic: an inflow lowers `net`, below zero if need be,
        so fresh liquidity buys room for the same amount of outflow, and that
        credit relaxes back to zero like the debit does. A flash deposit
        followed by its withdrawal therefore nets to zero: it can neither use
        up the budget (pin the limiter tripped) nor reset or extend a window,
        because there is no window start to move.

        A limiter is over its cap when `net > cap`. The module never reverts
        on a breach: `_record` returns whether the limiter is still within its
        cap, and the caller decides (revert, or trip a circuit breaker and let
        the transaction that measured the breach stand).

        Lanes: `_lane_flow` keeps one limiter in an 88-bit code that the
        caller stores where its layout is cheapest (the Pool packs its two
        token lanes with its EMA in one slot and keeps their shared clock
        with its reserves): pure functions, the caller passes the seconds
        since the lane was written. A lane holds `net` saturated at
        +-`MAX_LANE` (caps must be at most `MAX_LANE`, so saturation never
        changes an answer); a code of 0 is an empty lane.

        Two ways to hold the cap:
        - stored per key by `_set_limit(key, cap, window)` and used by
          `_record_stored` (Custody: per-address and global limits);
        - passed on every call to `_record` (the Pool: the cap follows the
          reserves, e.g. 30 % of the reserve per hour).

        Usage:
        ```vy
        from lib import outflow_limiter
        initializes: outflow_limiter
        ...
        within: bool = outflow_limiter._record(key, inflow, outflow, cap, window)
        ```

        Storage: one slot per key, `net + OFFSET` in the high 192 bits and
        the time of the last update in the low 64 bits. A lane code is
        `net + 2**87`.
"""


# @dev The stored configuration of a limiter.
struct Limit:
    cap: uint256
    window: uint256


# @dev `net` is stored as `net + _OFFSET` so that the word is unsigned.
_OFFSET: constant(int256) = 2**190
# @dev Largest cap and largest absolute `net`: `cap * elapsed`
# stays below 2**255 for any 64-bit `elapsed`.
MAX_AMOUNT: constant(uint256) = 2**189
_TS_MASK: constant(uint256) = 2**64 - 1
# @dev Lanes: 88-bit offset-binary `net` (0 encodes no lane: it is below -MAX_LANE).
LANE_BITS: constant(uint256) = 88
_LANE_OFFSET: constant(int256) = 2**87
_LANE_MASK: constant(uint256) = 2**88 - 1
MAX_LANE: constant(uint256) = 2**87 - 1


# @dev Stored limits by key (`window == 0` means no stored limit).
limits: public(HashMap[bytes32, Limit])


# @dev Packed state by key: `(net + _OFFSET) << 64 | last_update`.
_state: HashMap[bytes32, uint256]


# @dev Emitted when a stored limit is set or changed.
event LimitSet:
    key: indexed(bytes32)
    cap: uint256
    window: uint256


@internal
def _set_limit(key: bytes32, cap: uint256, window: uint256):
    """
    @dev Store the limit of `key`; a window of 0 removes it.
    @notice The accumulated `net` is kept: changing a cap does
            not forgive outflows already made.
    @param key The limiter key.
    @param cap The largest net outflow per window, in token units.
    @param window The window in seconds over which `cap` recovers.
    """
    assert cap <= MAX_AMOUNT, "limiter: cap too large"
    self.limits[key] = Limit(cap=cap, window=window)
    log LimitSet(key=key, cap=cap, window=window)


@internal
@view
def _net_outflow(key: bytes32, cap: uint256, window: uint256) -> int256:
    """
    @dev Return the net outflow of `key` now, after relaxing it
         towards zero at `cap / window` per second.
    @param key The limiter key.
    @param cap The cap the caller applies.
    @param window The window in seconds (0: no relaxation).
    @return int256 Outflows minus inflows still in the window.
    """
    word: uint256 = self._state[key]
    if word == 0:
        return 0
    net: int256 = convert(word >> 64, int256) - _OFFSET
    return self._relax(net, cap, window, block.timestamp - (word & _TS_MASK))


@internal
@view
def _headroom(key: bytes32, cap: uint256, window: uint256) -> uint256:
    """
    @dev Return how much more may flow out of `key` right now
         before it goes over `cap`.
    @param key The limiter key.
    @param cap The cap the caller applies.
    @param window The window in seconds.
    @return uint256 `cap - net`, floored at 0.
    """
    room: int256 = convert(cap, int256) - self._net_outflow(key, cap, window)
    return convert(max(room, 0), uint256)


@internal
def _record(key: bytes32, inflow: uint256, outflow: uint256, cap: uint256, window: uint256) -> bool:
    """
    @dev Add `outflow - inflow` to the net outflow of `key` and
         return whether it is still within `cap`.
    @notice Never reverts on a breach (only on amounts above
            `MAX_AMOUNT`): the caller acts on the result.
    @param key The limiter key.
    @param inflow Tokens that came in.
    @param outflow Tokens that went out.
    @param cap The largest net outflow per window.
    @param window The window in seconds over which `cap` recovers.
    @return bool True if the net outflow is at most `cap`.
    """
    assert cap <= MAX_AMOUNT, "limiter: cap too large"
    assert inflow <= MAX_AMOUNT and outflow <= MAX_AMOUNT, "limiter: amount too large"
    net: int256 = self._net_outflow(key, cap, window) + convert(outflow, int256) - convert(inflow, int256)
    # Clamp the credit so the packed word cannot underflow; a credit of
    # MAX_AMOUNT is already far beyond any cap.
    net = max(min(net, convert(MAX_AMOUNT, int256)), -convert(MAX_AMOUNT, int256))
    self._state[key] = convert(net + _OFFSET, uint256) << 64 | block.timestamp
    return net <= convert(cap, int256)


@internal
def _record_stored(key: bytes32, inflow: uint256, outflow: uint256) -> bool:
    """
    @dev Like `_record`, with the limit stored for `key`.
    @notice A key without a stored limit (window 0) records
            nothing and is always within its cap.
    @param key The limiter key.
    @param inflow Tokens that came in.
    @param outflow Tokens that went out.
    @return bool True if the net outflow is at most the stored cap.
    """
    limit: Limit = self.limits[key]
    if limit.window == 0:
        return True
    return self._record(key, inflow, outflow, limit.cap, limit.window)


@internal
def _reset(key: bytes32):
    """
    @dev Forget the net outflow of `key` (e.g. after governance
         has reviewed a breach).
    @param key The limiter key.
    """
    self._state[key] = 0


@internal
@pure
def _lane_net(lane: uint256, cap: uint256, window: uint256, elapsed: uint256) -> int256:
    """
    @dev Return the net outflow of a lane now.
    @param lane The lane code (only its low `LANE_BITS` bits are read; 0: empty).
    @param cap The cap the caller applies.
    @param window The window in seconds (0: no relaxation).
    @param elapsed Seconds since the lane was written.
    @return int256 Outflows minus inflows still in the window.
    """
    code: uint256 = lane & _LANE_MASK
    if code == 0:
        return 0
    return self._relax(unsafe_sub(convert(code, int256), _LANE_OFFSET), cap, window, elapsed)


@internal
@pure
def _lane_flow(
    lane: uint256, inflow: uint256, outflow: uint256, cap: uint256, window: uint256, elapsed: uint256
) -> (uint256, int256):
    """
    @dev Record flows on a lane and return its new code with its net
         outflow; the lane is within its cap while `net <= cap`.
    @notice Never reverts on a breach. The code saturates at +-`MAX_LANE`,
            so the answer stays right for any cap up to `MAX_LANE`.
    @param lane The lane code (only its low `LANE_BITS` bits are read; 0: empty).
    @param inflow Tokens that came in (below 2**200).
    @param outflow Tokens that went out (below 2**200).
    @param cap The cap (at most `MAX_LANE`).
    @param window The window in seconds over which `cap` recovers.
    @param elapsed Seconds since the lane was written.
    @return uint256 The new lane code, to store.
    @return int256 The net outflow after the flows.
    """
    assert cap <= MAX_LANE, "limiter: cap too large"
    assert inflow | outflow < 2**200, "limiter: amount too large"
    net: int256 = 0
    code: uint256 = lane & _LANE_MASK
    if code != 0:
        net = self._relax(unsafe_sub(convert(code, int256), _LANE_OFFSET), cap, window, elapsed)
    # |net| <= MAX_LANE before the flows and both flows are below 2**200: no overflow.
    net = unsafe_sub(unsafe_add(net, convert(outflow, int256)), convert(inflow, int256))
    limit: int256 = convert(MAX_LANE, int256)
    return convert(unsafe_add(max(min(net, limit), -limit), _LANE_OFFSET), uint256), net


@internal
@pure
def _relax(net: int256, cap: uint256, window: uint256, elapsed: uint256) -> int256:
    """
    @dev Move `net` towards zero by `cap * elapsed / window`, never past zero.
    @param net The net outflow at the last update.
    @param cap The cap the caller applies.
    @param window The window in seconds (0: no relaxation).
    @param elapsed Seconds since the last update.
    @return int256 The relaxed net outflow.
    """
    # Move `net` towards zero by `cap * elapsed / window`, never past zero. `decay` is checked into
    # [0, 2**255); subtracting it from a positive `net` (adding it to a negative one) cannot overflow.
    if net == 0 or elapsed == 0 or window == 0:
        return net
    decay: int256 = convert(cap * elapsed // window, int256)
    if net > 0:
        return max(unsafe_sub(net, decay), 0)
    return min(unsafe_add(net, decay), 0)
