# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Exponential moving average price oracle with a capped input
@custom:contract-name ema_oracle
@license GNU Affero General Public License v3.0 only
@notice Pure functions: the caller keeps the EMA and the time of its last
        update wherever its storage layout is cheapest (the Pool packs the
        EMA with its outflow limiter in one slot, and the time with its
        reserves), and asks `_next` for the new EMA.

        Each update blends in the spot price that has held since the
        previous update, with weight `1 - 2**(-elapsed / half_life)`, so one
        block of a manipulated price moves the EMA by little and a price held
        for a half-life moves it half-way. Before it is blended, the spot is
        capped to within `cap_bps` of the EMA: a single extreme print cannot
        drag the EMA further than the cap times its weight.

        The caller passes the spot that held *since the last update* (the
        pool passes the pre-trade spot), so the EMA never sees a price that
        did not last. Several updates in one block (`elapsed == 0`) change
        nothing after the first.

        `_pack`/`_unpack` store an EMA in 80 bits: exact below 2**72 (a
        1e18-scaled price below 4,722), otherwise its top 64 to 72 bits (a
        relative error below 2**-64). `_next` returns the EMA already rounded
        that way, so a view that calls it and the value stored agree to the
        unit.

        `_blend` is a pure helper for other slow averages (the pool's depth
        benchmark).
"""

from snekmate.utils import math


WAD: constant(uint256) = 10**18
# @dev ln(2) in WAD.
_LN2: constant(uint256) = 693_147_180_559_945_309
# @dev exp(-x) is below 1e-18 beyond x = 41.4: the old value is forgotten.
_MAX_EXPONENT: constant(uint256) = 41 * 10**18
MAX_PRICE: constant(uint256) = 2**192 - 1
# @dev A packed EMA: mantissa in the low 72 bits, byte shift in the next 8.
PACKED_BITS: constant(uint256) = 80
_MANTISSA_LIMIT: constant(uint256) = 2**72
_MANTISSA_MASK: constant(uint256) = 2**72 - 1


@internal
@pure
def _blend(average: uint256, sample: uint256, elapsed: uint256, half_life: uint256) -> uint256:
    """
    @dev Move `average` towards `sample` as an EMA of half-life
         `half_life` does over `elapsed` seconds.
    @param average The current average (at most `MAX_PRICE`).
    @param sample The value that held during `elapsed` (at most `MAX_PRICE`).
    @param elapsed Seconds since the average was last moved.
    @param half_life Seconds for the average to cover half the gap (0: jump).
    @return uint256 The new average.
    """
    # MAX_PRICE is all ones: one comparison bounds both.
    assert average | sample <= MAX_PRICE, "oracle: price out of range"
    if elapsed == 0:
        return average
    if half_life == 0:
        return sample
    exponent: uint256 = elapsed * _LN2 // half_life
    if exponent >= _MAX_EXPONENT:
        return sample
    # alpha = exp(-elapsed * ln2 / half_life) = 2**(-elapsed / half_life), the weight kept.
    alpha: uint256 = convert(math._wad_exp(-convert(exponent, int256)), uint256)
    # Values below 2**192 and weights at most 1e18 < 2**60: no overflow.
    return unsafe_div(unsafe_add(unsafe_mul(sample, unsafe_sub(WAD, alpha)), unsafe_mul(average, alpha)), WAD)


@internal
@pure
def _next(ema: uint256, spot: uint256, elapsed: uint256, cap_bps: uint256, half_life: uint256) -> uint256:
    """
    @dev Return the EMA after `elapsed` seconds of `spot`, with the spot
         first clamped to `ema * (1 +- cap_bps / 10000)`, rounded to what
         `_pack` keeps.
    @notice The first update (`ema == 0`) takes the spot itself.
    @param ema The EMA at the last update (0: none yet).
    @param spot The spot price that has held since the last update.
    @param elapsed Seconds since the last update.
    @param cap_bps The cap on the spot's distance from the EMA, in bps (at most 10000).
    @param half_life The half-life in seconds.
    @return uint256 The new EMA.
    """
    # MAX_PRICE is all ones: one comparison bounds both prices.
    assert ema | spot <= MAX_PRICE and cap_bps <= 10_000, "oracle: price or cap out of range"
    result: uint256 = spot
    if ema != 0:
        # Below 2**192 * 2**15: no overflow.
        low: uint256 = unsafe_div(unsafe_mul(ema, unsafe_sub(10_000, cap_bps)), 10_000)
        high: uint256 = unsafe_div(unsafe_mul(ema, unsafe_add(10_000, cap_bps)), 10_000)
        result = self._blend(ema, min(max(spot, low), high), elapsed, half_life)
    if result < _MANTISSA_LIMIT:
        return result
    return self._unpack(self._pack(result))


@internal
@pure
def _pack(ema: uint256) -> uint256:
    """
    @dev Encode `ema` (at most `MAX_PRICE`) in `PACKED_BITS` bits, rounding down.
    @param ema The EMA.
    @return uint256 The code: mantissa | byte shift << 72.
    """
    mantissa: uint256 = ema
    bytes_shifted: uint256 = 0
    # At most 15 byte shifts bring a 192-bit price under 2**72.
    for _: uint256 in range(16):
        if mantissa < _MANTISSA_LIMIT:
            break
        mantissa = mantissa >> 8
        bytes_shifted += 1
    return mantissa | bytes_shifted << 72


@internal
@pure
def _unpack(code: uint256) -> uint256:
    """
    @dev Decode a `_pack` code (only its low `PACKED_BITS` bits are read).
    @param code The code.
    @return uint256 The EMA.
    """
    return (code & _MANTISSA_MASK) << ((code >> 72 & 255) << 3)
