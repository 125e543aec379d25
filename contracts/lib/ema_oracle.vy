# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Exponential moving average price oracle with a capped input
@custom:contract-name ema_oracle
@license GNU Affero General Public License v3.0 only
@notice Keeps one EMA of a price and the time it was last updated. Each
        update blends in the spot price that has held since the previous
        update, with weight `1 - 2**(-elapsed / half_life)`, so one block of
        a manipulated price moves the EMA by little and a price held for a
        half-life moves it half-way. Before it is blended, the spot is capped
        to within `cap_bps` of the EMA: a single extreme print cannot drag
        the EMA further than the cap times its weight.

        The caller passes the spot on every call; it is the price that held
        *since the last update* (the pool passes the pre-trade spot), so the
        EMA never sees a price that did not last. Several updates in one block
        change nothing after the first.

        `_blend` is exported as a pure helper for other slow averages (the
        pool's depth benchmark).

        Storage: one slot, `ema << 64 | last_update`.
"""

from snekmate.utils import math


WAD: constant(uint256) = 10**18
# @dev ln(2) in WAD.
_LN2: constant(uint256) = 693_147_180_559_945_309
# @dev exp(-x) is below 1e-18 beyond x = 41.4: the old value is forgotten.
_MAX_EXPONENT: constant(uint256) = 41 * 10**18
_TS_MASK: constant(uint256) = 2**64 - 1
MAX_PRICE: constant(uint256) = 2**192 - 1


# @dev `ema << 64 | last_update`; 0 until the first update.
_state: uint256


@internal
@pure
def _blend(average: uint256, sample: uint256, elapsed: uint256, half_life: uint256) -> uint256:
    """
    @dev Move `average` towards `sample` as an EMA of half-life
         `half_life` does over `elapsed` seconds.
    @param average The current average.
    @param sample The value that held during `elapsed`.
    @param elapsed Seconds since the average was last moved.
    @param half_life Seconds for the average to cover half the gap (0: jump).
    @return uint256 The new average.
    """
    if elapsed == 0:
        return average
    if half_life == 0:
        return sample
    exponent: uint256 = elapsed * _LN2 // half_life
    if exponent >= _MAX_EXPONENT:
        return sample
    # alpha = exp(-elapsed * ln2 / half_life) = 2**(-elapsed / half_life), the weight kept.
    alpha: uint256 = convert(math._wad_exp(-convert(exponent, int256)), uint256)
    return (sample * (WAD - alpha) + average * alpha) // WAD


@internal
@pure
def _capped(spot: uint256, ema: uint256, cap_bps: uint256) -> uint256:
    """
    @dev Clamp `spot` to `ema * (1 +- cap_bps / 10000)`.
    @param spot The spot price.
    @param ema The current EMA.
    @param cap_bps The largest relative distance from the EMA, in bps.
    @return uint256 The clamped price.
    """
    low: uint256 = ema * (10_000 - min(cap_bps, 10_000)) // 10_000
    high: uint256 = ema * (10_000 + cap_bps) // 10_000
    return min(max(spot, low), high)


@internal
@view
def _price_oracle(spot: uint256, cap_bps: uint256, half_life: uint256) -> uint256:
    """
    @dev Return the EMA as of now, as if updated with `spot`.
    @param spot The spot price that has held since the last update.
    @param cap_bps The cap on the spot's distance from the EMA, in bps.
    @param half_life The half-life in seconds.
    @return uint256 The EMA now (the spot itself before any update).
    """
    word: uint256 = self._state
    ema: uint256 = word >> 64
    if ema == 0:
        return spot
    return self._blend(ema, self._capped(spot, ema, cap_bps), block.timestamp - (word & _TS_MASK), half_life)


@internal
def _update(spot: uint256, cap_bps: uint256, half_life: uint256) -> uint256:
    """
    @dev Blend the capped `spot` into the EMA and return the new EMA.
    @notice The first update sets the EMA to `spot`. A second update in
            the same block writes nothing.
    @param spot The spot price that has held since the last update.
    @param cap_bps The cap on the spot's distance from the EMA, in bps.
    @param half_life The half-life in seconds.
    @return uint256 The EMA after the update.
    """
    word: uint256 = self._state
    ema: uint256 = word >> 64
    last: uint256 = word & _TS_MASK
    if ema != 0 and last == block.timestamp:
        return ema
    if ema == 0:
        ema = spot
    else:
        ema = self._blend(ema, self._capped(spot, ema, cap_bps), block.timestamp - last, half_life)
    assert ema <= MAX_PRICE, "oracle: price out of range"
    self._state = ema << 64 | block.timestamp
    return ema


@internal
def _reset(price: uint256):
    """
    @dev Set the EMA to `price` now (governor resync after a halt).
    @param price The new EMA.
    """
    assert price <= MAX_PRICE, "oracle: price out of range"
    self._state = price << 64 | block.timestamp
