"""Call-auction uncrossing: one price for every crossing order.

The rules are the ones exchanges publish for their opening auctions (ASX "four principles",
Xetra, Euronext), applied on the tick grid:

1. **maximum executable volume**: at price ``p`` the executable volume is
   ``min(buy(p), sell(p))`` where ``buy(p)`` sums the market bids and the limit bids at or above
   ``p`` and ``sell(p)`` the market asks and the limit asks at or below ``p``;
2. **minimum surplus**: among those prices, the least ``abs(buy(p) - sell(p))``;
3. **market pressure**: if that surplus is on the buy side at every remaining price, the highest
   of them; if on the sell side at every one, the lowest;
4. **reference price**: otherwise (no surplus, or surplus on both sides) the remaining price
   nearest the reference price, rounded to the tick.

Every tick between two limits is a candidate (ASX evaluates each price step), so a reference price
that falls between two limits can itself be the auction price. Because ``buy`` falls and ``sell``
rises with the price, each step keeps a contiguous range, and the whole computation reduces to a
few vectorised passes over the sorted limits: 100k orders uncross in milliseconds.

Orders are ``(price, qty, time)`` tuples: ``price`` in quote atoms per whole base unit or ``None``
for a market order, ``qty`` in base atoms, ``time`` any integer that orders arrival (the engine's
sequence number). Allocation is by price then time; results name orders by their index in the
lists given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

AuctionOrder = tuple  # (price: int | None, qty: int, time: int)

# int64 cumulative sums stay exact below this; above it quantities are scaled by their gcd,
# and if that is not enough the arithmetic falls back to Python integers (exact, slower).
_INT64_SAFE = 2**62
_MARKET_BID = np.iinfo(np.int64).max
_MARKET_ASK = -1


@dataclass(slots=True, frozen=True)
class Indication:
    """What an auction would do if it uncrossed now (published during cool-down and call phase).

    ``price`` is ``None`` when nothing crosses (``volume == 0``). ``surplus`` is signed: positive
    when buyers are left over at ``price``, negative when sellers are.
    """

    price: int | None
    volume: int
    surplus: int


@dataclass(slots=True, frozen=True)
class Uncrossing:
    """The executed auction: one price, and each crossing order's fill in priority order.

    ``bid_fills`` / ``ask_fills`` are ``(index into the given list, qty)``; ``trades`` pairs them
    into ``(bid index, ask index, qty)`` in priority order, the way the engine prints them.
    """

    price: int | None
    volume: int
    surplus: int
    bid_fills: list[tuple[int, int]]
    ask_fills: list[tuple[int, int]]
    trades: list[tuple[int, int, int]]


@dataclass(slots=True)
class OrderColumns:
    """One side of an auction as three parallel lists: prices (``None`` = market), qtys, times."""

    prices: list[int | None]
    qtys: list[int]
    times: list[int]

    def __post_init__(self) -> None:
        if not len(self.prices) == len(self.qtys) == len(self.times):
            raise ValueError("prices, qtys and times must have the same length")

    def __len__(self) -> int:
        return len(self.prices)


class _Side:
    """One side as numpy columns, sorted by priority (best price first, then time)."""

    __slots__ = ("order", "prices", "qtys", "n_market", "limit_prices", "limit_cum", "limit_total")

    def __init__(self, prices, qtys, times, is_bid: bool) -> None:
        order = np.lexsort((times, -prices if is_bid else prices))
        self.order = order
        self.prices = prices[order]
        self.qtys = qtys[order]
        sentinel = _MARKET_BID if is_bid else _MARKET_ASK
        self.n_market = int(np.count_nonzero(self.prices == sentinel))
        # limit prices ascending with prefix sums, for buy(p) / sell(p) by binary search
        lim_p = self.prices[self.n_market :]
        lim_q = self.qtys[self.n_market :]
        if is_bid:
            lim_p = lim_p[::-1]
            lim_q = lim_q[::-1]
        self.limit_prices = np.ascontiguousarray(lim_p)
        cum = np.zeros(len(lim_q) + 1, dtype=lim_q.dtype)
        np.cumsum(lim_q, out=cum[1:])
        self.limit_cum = cum
        self.limit_total = cum[-1]

    def market_qty(self):
        return self.qtys[: self.n_market].sum() if self.n_market else 0


def _columns(orders, is_bid: bool) -> tuple[np.ndarray, Sequence[int], np.ndarray]:
    """Return price and time arrays and the raw quantities of one side.

    ``orders`` is either a sequence of ``(price, qty, time)`` tuples or an :class:`OrderColumns`
    (three parallel lists; the faster form when the caller builds them from a book).
    """
    if isinstance(orders, OrderColumns):
        prices, qtys, times = orders.prices, orders.qtys, orders.times
    else:
        prices = [o[0] for o in orders]
        qtys = [o[1] for o in orders]
        times = [o[2] for o in orders]
    if None in prices:
        sentinel = _MARKET_BID if is_bid else _MARKET_ASK
        prices = [sentinel if p is None else p for p in prices]
    n = len(prices)
    return np.fromiter(prices, np.int64, n), qtys, np.fromiter(times, np.int64, n)


def _quantities(bid_raw: tuple, ask_raw: tuple) -> tuple[np.ndarray, np.ndarray, int]:
    """Return both sides' quantities as arrays whose sums are exact, and the divisor used.

    Fast path: int64 when the total provably fits. Otherwise divide by the common divisor (the
    lot, in practice), and if even that overflows, use Python integers (exact, slower). Callers
    who pass quantities in lots stay on the fast path.
    """
    n = len(bid_raw) + len(ask_raw)
    try:
        b = np.fromiter(bid_raw, np.int64, len(bid_raw))
        a = np.fromiter(ask_raw, np.int64, len(ask_raw))
        biggest = max(int(b.max()) if len(b) else 0, int(a.max()) if len(a) else 0)
        if biggest * n < _INT64_SAFE:
            return b, a, 1
    except OverflowError:
        pass
    scale = math.gcd(*bid_raw, *ask_raw) or 1
    if (sum(bid_raw) + sum(ask_raw)) // scale < _INT64_SAFE:
        dtype = np.int64
    else:
        dtype = object
    b = np.array([q // scale for q in bid_raw], dtype=dtype)
    a = np.array([q // scale for q in ask_raw], dtype=dtype)
    return b, a, scale


def _round_to_tick(price: int, tick: int) -> int:
    """Nearest multiple of ``tick`` (half up), never below one tick."""
    return max(tick, (price + tick // 2) // tick * tick)


def _choose(lo: int, hi: int, pressure: int, reference: int | None, tick: int) -> int:
    """Steps 3 and 4 over the contiguous candidate range ``[lo, hi]``.

    Without a reference price the middle of the range (rounded down to the tick) is taken, so
    the result stays deterministic.
    """
    if pressure > 0:
        return hi
    if pressure < 0:
        return lo
    if reference is None:
        return lo + (hi - lo) // tick // 2 * tick
    return min(hi, max(lo, _round_to_tick(reference, tick)))


def _determine(bid: _Side, ask: _Side, tick: int, reference: int | None) -> tuple[int | None, int, int]:
    """Return ``(price, volume, surplus)`` in scaled quantity units."""
    mb = bid.market_qty()
    ms = ask.market_qty()
    levels = np.union1d(bid.limit_prices, ask.limit_prices)
    n = len(levels)
    if n == 0:
        volume = min(mb, ms)
        if volume == 0 or reference is None:
            return None, 0, 0
        return _round_to_tick(reference, tick), int(volume), int(mb - ms)
    # buy(p): market bids + limit bids priced >= p ; sell(p): market asks + limit asks priced <= p
    buy_at = mb + (bid.limit_total - bid.limit_cum[np.searchsorted(bid.limit_prices, levels, "left")])
    sell_at = ms + ask.limit_cum[np.searchsorted(ask.limit_prices, levels, "right")]
    # Segments of constant (buy, sell): each limit, and each open gap between two adjacent limits
    # that holds at least one tick. Prices outside the limits are never candidates: nobody quoted
    # there, and the published rules price within the limits.
    gap_ok = (levels[1:] - levels[:-1]) > tick
    b = np.concatenate([buy_at, buy_at[1:][gap_ok]])
    s = np.concatenate([sell_at, sell_at[:-1][gap_ok]])
    lo = np.concatenate([levels, levels[:-1][gap_ok] + tick])
    hi = np.concatenate([levels, levels[1:][gap_ok] - tick])
    volume = np.minimum(b, s)
    best_volume = volume.max()
    if best_volume == 0:
        return None, 0, 0
    surplus = b - s
    cand = volume == best_volume
    abs_surplus = np.abs(surplus)
    least = abs_surplus[cand].min()
    cand &= abs_surplus == least
    cand_surplus = surplus[cand]
    if least == 0:
        pressure = 0
    elif (cand_surplus > 0).all():
        pressure = 1
    elif (cand_surplus < 0).all():
        pressure = -1
    else:
        pressure = 0
    price = _choose(int(lo[cand].min()), int(hi[cand].max()), pressure, reference, tick)
    # the surplus reported is the one at the chosen price
    surplus_at = int(cand_surplus[0]) if pressure else int(_surplus_at(bid, ask, mb, ms, price))
    return price, int(best_volume), surplus_at


def _surplus_at(bid: _Side, ask: _Side, mb, ms, price: int):
    buy = mb + bid.limit_total - bid.limit_cum[int(np.searchsorted(bid.limit_prices, price, "left"))]
    sell = ms + ask.limit_cum[int(np.searchsorted(ask.limit_prices, price, "right"))]
    return buy - sell


def _prepare(bids: Sequence[AuctionOrder], asks: Sequence[AuctionOrder]) -> tuple[_Side, _Side, int]:
    bid_p, bid_raw, bid_t = _columns(bids, True)
    ask_p, ask_raw, ask_t = _columns(asks, False)
    bid_q, ask_q, scale = _quantities(bid_raw, ask_raw)
    return _Side(bid_p, bid_q, bid_t, True), _Side(ask_p, ask_q, ask_t, False), scale


def indicative(
    bids: Sequence[AuctionOrder], asks: Sequence[AuctionOrder], tick: int, reference: int | None = None
) -> Indication:
    """Return the price, volume and surplus the auction would produce now."""
    _, _, scale, price, volume, surplus = _solve(bids, asks, tick, reference)
    return Indication(price, volume * scale, surplus * scale)


def _solve(
    bids: Sequence[AuctionOrder], asks: Sequence[AuctionOrder], tick: int, reference: int | None
) -> tuple[_Side, _Side, int, int | None, int, int]:
    """Return both sides, the quantity scale, and the price, volume and surplus (scaled units)."""
    if tick <= 0:
        raise ValueError(f"tick must be positive, got {tick}")
    bid, ask, scale = _prepare(bids, asks)
    return bid, ask, scale, *_determine(bid, ask, tick, reference)


def _allocate(side: _Side, volume: int) -> tuple[np.ndarray, np.ndarray]:
    """Fill orders in priority order until ``volume`` is reached; the last one may be partial."""
    if volume == 0:
        return side.order[:0], side.qtys[:0]
    cum = np.cumsum(side.qtys)
    k = int(np.searchsorted(cum, volume, "left"))  # cum[k] >= volume: order k is the last filled
    qtys = side.qtys[: k + 1].copy()
    filled_before = cum[k - 1] if k else 0
    qtys[k] = volume - filled_before
    return side.order[: k + 1], qtys


def uncross(
    bids: Sequence[AuctionOrder], asks: Sequence[AuctionOrder], tick: int, reference: int | None = None
) -> Uncrossing:
    """Determine the auction price and allocate every crossing order at it, by price then time."""
    bid, ask, scale, price, volume, surplus = _solve(bids, asks, tick, reference)
    if price is None:
        return Uncrossing(None, 0, 0, [], [], [])
    bid_idx, bid_qty = _allocate(bid, volume)
    ask_idx, ask_qty = _allocate(ask, volume)
    trades = _pair(bid_idx, bid_qty, ask_idx, ask_qty, scale)
    bid_fills = list(zip(bid_idx.tolist(), _unscaled(bid_qty, scale), strict=True))
    ask_fills = list(zip(ask_idx.tolist(), _unscaled(ask_qty, scale), strict=True))
    return Uncrossing(price, volume * scale, surplus * scale, bid_fills, ask_fills, trades)


def _unscaled(qtys: np.ndarray, scale: int) -> list[int]:
    values = qtys.tolist()
    return values if scale == 1 else [int(q) * scale for q in values]


def _pair(bid_idx, bid_qty, ask_idx, ask_qty, scale: int) -> list[tuple[int, int, int]]:
    """Merge the two fill sequences into trades: walk both cumulative sums in step."""
    bid_cum = np.cumsum(bid_qty)
    ask_cum = np.cumsum(ask_qty)
    cuts = np.union1d(bid_cum, ask_cum)  # every point where one side moves to its next order
    starts = np.concatenate([np.zeros(1, dtype=cuts.dtype), cuts[:-1]])
    b = np.searchsorted(bid_cum, starts, "right")
    a = np.searchsorted(ask_cum, starts, "right")
    qty = _unscaled(cuts - starts, scale)
    return list(zip(bid_idx[b].tolist(), ask_idx[a].tolist(), qty, strict=True))
