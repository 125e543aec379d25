"""Reading the breaker without changing it: a view of a book's levels and the live metrics.

`BookView` is the breaker's view of a book (levels best first, optionally with the first levels of
one side taken away, as after a taker walked them); the guard uses it on every taker. The
`BreakerReadModel` is what adapters (the API's dashboard and `/markets`) read: the metrics as they
stand now, computed on a detached copy of the windows a probe trims, so looking never changes the
engine's state hash.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from offchain.core.breaker.rule import Metrics, snapshot_metrics
from offchain.core.units import mid_or_none


class BookView:
    """Level iterators over a book, optionally with the first levels of one side taken away
    (how the book would look after a taker walked them, for the guard)."""

    __slots__ = ("book", "consumed_side", "consumed_levels")

    def __init__(self, book, consumed_side: bool | None = None, consumed_levels: int = 0) -> None:
        self.book = book
        self.consumed_side = consumed_side
        self.consumed_levels = consumed_levels

    def _levels(self, is_buy: bool):
        book = self.book
        side = book.bids if is_buy else book.asks
        skip = self.consumed_levels if self.consumed_side is is_buy else 0
        for n, price in enumerate(_prices(book, is_buy)):
            if n < skip:
                continue
            yield price, sum(map(_QTY, side[price].values()))

    def bid_levels(self):
        return self._levels(True)

    def ask_levels(self):
        return self._levels(False)

    def mid(self) -> int | None:
        if self.consumed_side is None:
            bid, ask = self.book.best_bid(), self.book.best_ask()
        else:
            bid = next(
                _skip(_prices(self.book, True), self.consumed_levels if self.consumed_side else 0), None
            )
            ask = next(
                _skip(_prices(self.book, False), 0 if self.consumed_side else self.consumed_levels), None
            )
        return mid_or_none(bid, ask)


def _skip(it, n: int):
    for _ in range(n):
        if next(it, None) is None:
            break
    return it


_QTY = attrgetter("qty")


def _prices(book, is_buy: bool):
    """One side's prices best first, lazily (the guard reads only the top of the book)."""
    if is_buy:
        keys = book._bid_keys
        for i in range(len(keys) - 1, -1, -1):
            yield keys[i]
    else:
        keys = book._ask_keys
        for i in range(len(keys) - 1, -1, -1):
            yield -keys[i]


class BreakerReadModel:
    """Side-effect-free reads of a `BreakerModule` for adapters (never call the module's hooks)."""

    def __init__(self, module: Any, engine: Any) -> None:
        self.module = module
        self.engine = engine

    def live_metrics(self, symbol: str, ts: int) -> Metrics | None:
        """The five metrics of a market at `ts` (a field None: not measurable), or None before the
        breaker has seen the market. Reads a detached copy of the windows: state is unchanged."""
        module = self.module
        monitor = module.monitors.get(symbol)
        breaker = module.breakers.get(symbol)
        market = self.engine.markets.get(symbol)
        if monitor is None or breaker is None or market is None:
            return None
        view = BookView(market.book)
        probe = monitor.detached().probe(
            ts,
            module.local_price(market, breaker.state),
            market.index_price,
            view.bid_levels,
            view.ask_levels,
            view.mid(),
            module.lce_source(self.engine, market),
        )
        return snapshot_metrics(probe)
