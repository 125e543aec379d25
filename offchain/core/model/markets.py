"""The registry's records: assets and markets, with each market's book, trading state and prices."""

from __future__ import annotations

from typing import Protocol

from offchain.core.model.states import CONTINUOUS
from offchain.core.units import mid


class BookTouch(Protocol):
    """What a market asks of its book (the matching layer's `matching.book.Book`)."""

    def best_bid(self) -> int | None: ...

    def best_ask(self) -> int | None: ...


DEFAULT_BAND_BPS = 1000  # a limit order more than 10 % from the reference price is rejected
DEFAULT_IMPACT_BPS = 500  # a market order never fills more than 5 % from the reference price


class Asset:
    """One asset: its smallest unit and its weight as collateral."""

    __slots__ = ("symbol", "decimals", "unit", "collateral_weight_ppm")

    def __init__(self, symbol: str, decimals: int, collateral_weight_ppm: int) -> None:
        self.symbol = symbol
        self.decimals = decimals
        self.unit = 10**decimals
        self.collateral_weight_ppm = collateral_weight_ppm

    def to_state(self) -> list:
        return [self.symbol, self.decimals, self.collateral_weight_ppm]


class Market:
    """One market: parameters, its book, its trading state and the prices it is referenced against.

    Prices are quote atoms per whole base unit (`unit` = 10**base decimals base atoms); the notional of
    `qty` base atoms at `price` is `price * qty // unit` quote atoms.
    """

    __slots__ = (
        "symbol",
        "kind",
        "base",
        "quote",
        "tick",
        "lot",
        "min_qty",
        "band_bps",
        "impact_bps",
        "unit",
        "quote_unit",
        "book",
        "state",
        "last_price",
        "index_sources",
        "index_price",
        "mark_price",
    )

    def __init__(
        self,
        symbol: str,
        kind: str,
        base: Asset,
        quote: Asset,
        tick: int,
        lot: int,
        min_qty: int,
        band_bps: int = DEFAULT_BAND_BPS,
        impact_bps: int = DEFAULT_IMPACT_BPS,
        *,
        book: BookTouch,
    ) -> None:
        self.symbol = symbol
        self.kind = kind
        self.base = base.symbol
        self.quote = quote.symbol
        self.tick = tick
        self.lot = lot
        self.min_qty = min_qty
        self.band_bps = band_bps
        self.impact_bps = impact_bps
        self.unit = base.unit
        self.quote_unit = quote.unit
        self.book = book  # the matching layer builds it (`matching.book.Book`)
        self.state = CONTINUOUS
        self.last_price: int | None = None  # last trade price
        self.index_sources: dict[str, int] = {}  # source -> last price it reported
        self.index_price: int | None = None  # set by the `index` handler (risk: weighted median)
        self.mark_price: int | None = None  # set by risk's pricing; None until then

    def reference_price(self) -> int | None:
        """Return the price bands are measured from: mark, else index, else last trade, else mid."""
        if self.mark_price is not None:
            return self.mark_price
        if self.index_price is not None:
            return self.index_price
        if self.last_price is not None:
            return self.last_price
        bid = self.book.best_bid()
        ask = self.book.best_ask()
        if bid is not None and ask is not None:
            return mid(bid, ask)
        return None

    def params_state(self) -> dict:
        """Return the market's parameters and prices (not its orders) as a JSON-able dict."""
        return {
            "symbol": self.symbol,
            "kind": self.kind,
            "base": self.base,
            "quote": self.quote,
            "tick": self.tick,
            "lot": self.lot,
            "min_qty": self.min_qty,
            "band_bps": self.band_bps,
            "impact_bps": self.impact_bps,
            "state": self.state,
            "last_price": self.last_price,
            "index_sources": dict(self.index_sources),
            "index_price": self.index_price,
            "mark_price": self.mark_price,
        }
