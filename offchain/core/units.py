"""The integer units every rule shares (docs/engine.md "Units"): ratios, rounding, mid, bands.

Rates are parts per million (`PPM`) or basis points (`BPS`); money and prices are integers. These
helpers are the one definition of each; a hot path that cannot afford a call keeps a copy written out
next to a call of the helper it mirrors, and tests/core/test_units.py proves the copy equal.
"""

from __future__ import annotations

PPM = 1_000_000  # parts per million: 1_000_000 = 100 %
BPS = 10_000  # basis points: 10_000 = 100 %

# Bounds every number is checked against where it enters (the codec, and the engine's own entry
# points for commands adapters build directly), so that no value can overflow a float, an int64
# column or the decimal context further in (docs/engine.md "Bounds", issue 15.1):
MAX_DECIMAL_CHARS = 96  # a decimal string longer than this is refused unparsed
MAX_EXPONENT = 60  # |adjusted exponent| of a decimal: 1e60 is already far beyond any maximum
MAX_ATOMS = 10**36  # an amount or a quantity in atoms: 10^18 whole units of an 18-decimal token
MAX_PRICE = 2**62  # a price (or tick) in quote atoms per whole base: the auction's int64 columns
MAX_TS = 2**53 - 1  # a time in ms (year 287,000; a JSON number stays exact)
MAX_INT = 2**63 - 1  # any other integer field (ids, windows, parameters)


def ceil_div(a: int, b: int) -> int:
    """Return ceil(a / b) for integers (b > 0)."""
    return -((-a) // b)


def mid(bid: int, ask: int) -> int:
    """Return the mid price of a two-sided touch, rounded down."""
    return (bid + ask) // 2


def mid_or_none(bid: int | None, ask: int | None) -> int | None:
    """Return `mid(bid, ask)`, or None when either side is empty."""
    return None if bid is None or ask is None else (bid + ask) // 2


def impact_limit(ref: int, impact_bps: int, is_buy: bool) -> int:
    """Return the worst price a market order (or a liquidation IOC) may fill at.

    The impact band is `ref * (1 +- impact_bps)` rounded *inward*, to the atom: a buy's limit rounds
    down, a sell's up, so no fill is ever outside the band. This is the one rounding of the band.
    """
    if is_buy:
        return ref * (BPS + impact_bps) // BPS
    return -(-ref * (BPS - impact_bps) // BPS)


def on_tick_inward(price: int, tick: int, is_buy: bool) -> int:
    """Snap a buy's limit down (a sell's up) to a multiple of `tick`: an order price must be on the tick,
    and snapping inward never widens the band (book prices are tick multiples, so a taker matches the
    same levels either way)."""
    if is_buy:
        return price // tick * tick
    return -(-price // tick) * tick


def out_of_band(price: int, ref: int, band_bps: int) -> bool:
    """Is `price` more than `band_bps` from `ref` (`|price - ref| > band_bps * ref / 10_000`)?"""
    return abs(price - ref) * BPS > band_bps * ref
