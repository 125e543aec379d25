"""A designated maker's obligation and the test of its own resting quotes against it (pure).

A maker meets its obligation at an instant when, on each side of the market, its own resting orders
make at least `levels` distinct price levels whose best `levels` each carry at least `min_notional`
quote atoms (`price * qty // unit`, floor), and its own best ask is within `max_spread_ppm` of its
own best bid, measured against their mid. Only the maker's book state counts: never a clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from offchain.core.units import PPM


@dataclass(slots=True, frozen=True)
class Obligation:
    """What a designated maker must quote (quote atoms, ppm, ms)."""

    min_notional: int
    levels: int
    max_spread_ppm: int
    share_ppm: int
    period_ms: int

    def to_state(self) -> list:
        return [self.min_notional, self.levels, self.max_spread_ppm, self.share_ppm, self.period_ms]

    @classmethod
    def from_state(cls, row: list) -> Obligation:
        return cls(*row)


def ladder(orders: Iterable, symbol: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Return the maker's own `(price, qty)` levels in `symbol`: bids best first, asks best first."""
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    for o in orders:
        if o.symbol != symbol or not o.qty:
            continue
        side = bids if o.is_buy else asks
        side[o.price] = side.get(o.price, 0) + o.qty
    return sorted(bids.items(), reverse=True), sorted(asks.items())


def meets(orders: Iterable, symbol: str, unit: int, ob: Obligation) -> bool:
    """Whether the resting `orders` (an account's open orders, any market) meet `ob` in `symbol` now."""
    bids, asks = ladder(orders, symbol)
    n = ob.levels
    if len(bids) < n or len(asks) < n:
        return False
    floor = ob.min_notional
    for price, qty in bids[:n] + asks[:n]:
        if price * qty // unit < floor:
            return False
    bid, ask = bids[0][0], asks[0][0]
    if ask <= bid:  # its own quotes touch or cross (a halted book): no spread to speak of
        return True
    return (ask - bid) * PPM <= ob.max_spread_ppm * ((bid + ask) // 2)
