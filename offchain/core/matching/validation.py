"""Order validation: the size and price tests every new or amended order passes (SPEC §2 matching)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from offchain.core.codes import RejectCode as R
from offchain.core.units import out_of_band

if TYPE_CHECKING:
    from offchain.core.model.markets import Market


def check_size(market: Market, qty: Any) -> tuple[str, str] | None:
    """Refuse a size that is not a positive multiple of the lot at least the minimum, or return None.

    `OrderFlow._on_order` inlines the first test and calls this only to word the refusal
    (tests/core/test_units.py proves the inline test equal)."""
    if type(qty) is not int or qty <= 0:
        return R.BAD_QTY, "the size must be a positive integer"
    if qty % market.lot:
        return R.BAD_LOT, f"the size must be a multiple of the lot {market.lot}"
    if qty < market.min_qty:
        return R.BELOW_MIN_QTY, f"the size is below the minimum {market.min_qty}"
    return None


def check_price(market: Market, price: Any) -> tuple[str, str] | None:
    """Refuse a limit price off the tick or outside the band around the reference, or return None."""
    if type(price) is not int or price <= 0:
        return R.BAD_PRICE, "a limit price must be a positive integer"
    if price % market.tick:
        return R.BAD_TICK, f"the price must be a multiple of the tick {market.tick}"
    ref = market.reference_price()
    if ref is not None and out_of_band(price, ref, market.band_bps):
        return (
            R.PRICE_OUT_OF_BAND,
            f"the price is more than {market.band_bps} bps from the reference {ref}",
        )
    return None
