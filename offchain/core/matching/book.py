"""One order book: price-time priority over a dict-indexed price ladder.

The book knows prices, quantities, owners and time priority; it knows nothing about money. Each side is
a dict `price -> level` plus a sorted list of its prices, kept so that the best price is the *last*
element (bids ascending, asks stored as negated prices ascending), so taking or emptying the best level is
a `list.pop()`. A level is a plain dict `oid -> order`: dicts keep insertion order, which is time
priority, and deleting any order from it is O(1). Nothing on the resting path allocates beyond the dict
slot and, for a new price, one level dict.

`match` is the only place where orders cross. It reports fills and self-trade cancellations into a list
that the caller owns, so the engine settles money after the book has moved (and the book stays usable on
its own, which is how `bench/book_core.py` measures it, through `crosses`, `match`, `add` and
`remove`).
"""

from __future__ import annotations

from bisect import bisect_left, insort

from offchain.core.model.orders import Order
from offchain.core.model.states import CANCEL_BOTH, CANCEL_MAKER, CANCEL_TAKER, DECREMENT, STP_MODES

__all__ = ["Book", "Order", "CANCEL_BOTH", "CANCEL_MAKER", "CANCEL_TAKER", "DECREMENT", "STP_MODES"]


REDUCE_ONLY_CANCEL = -1  # the price of a `match` step that cancels a reduce-only maker (no room left)


class Book:
    """Price-time priority order book for one market."""

    __slots__ = ("bids", "asks", "_bid_keys", "_ask_keys", "orders", "taker_cancelled")

    def __init__(self) -> None:
        self.bids: dict[int, dict[int, Order]] = {}
        self.asks: dict[int, dict[int, Order]] = {}
        self._bid_keys: list[int] = []  # bid prices ascending: best bid is [-1]
        self._ask_keys: list[int] = []  # negated ask prices ascending: best ask is -[-1]
        self.orders: dict[int, Order] = {}
        self.taker_cancelled = False  # set by `match` when self-trade prevention ended the taker

    # -- queries -------------------------------------------------------------------------------
    def best_bid(self) -> int | None:
        """Return the highest bid price, or None."""
        keys = self._bid_keys
        return keys[-1] if keys else None

    def best_ask(self) -> int | None:
        """Return the lowest ask price, or None."""
        keys = self._ask_keys
        return -keys[-1] if keys else None

    def touch(self) -> tuple[int | None, int | None]:
        """Return `(best bid, best ask)` (None for an empty side)."""
        bids, asks = self._bid_keys, self._ask_keys
        return (bids[-1] if bids else None), (-asks[-1] if asks else None)

    def get(self, oid: int) -> Order | None:
        """Return the resting order with this id, or None."""
        return self.orders.get(oid)

    def __len__(self) -> int:
        return len(self.orders)

    def prices(self, is_buy: bool) -> list[int]:
        """Return one side's prices, best first."""
        if is_buy:
            return self._bid_keys[::-1]
        return [-k for k in reversed(self._ask_keys)]

    def level(self, is_buy: bool, price: int) -> list[Order]:
        """Return the orders resting at one price, in time priority."""
        lv = (self.bids if is_buy else self.asks).get(price)
        return list(lv.values()) if lv else []

    def depth(self, is_buy: bool, levels: int | None = None) -> list[tuple[int, int]]:
        """Return `(price, total open qty)` per level, best first (all levels when `levels` is None)."""
        side = self.bids if is_buy else self.asks
        out = []
        for price in self.prices(is_buy)[:levels]:
            out.append((price, sum(o.qty for o in side[price].values())))
        return out

    def iter_orders(self, is_buy: bool):
        """Yield one side's orders in priority order (best price first, then time)."""
        side = self.bids if is_buy else self.asks
        for price in self.prices(is_buy):
            yield from list(side[price].values())

    def is_crossed(self) -> bool:
        """Return True when the best bid is at or above the best ask."""
        return bool(self._bid_keys and self._ask_keys and self._bid_keys[-1] >= -self._ask_keys[-1])

    def fillable(self, is_buy: bool, limit: int, qty: int, owner: str, stp: str) -> tuple[int, int]:
        """Return `(qty a taker would fill, worst price it would reach)` without changing the book.

        Follows the same self-trade rules as `match`: own orders are skipped (cancel_maker), end the walk
        (cancel_taker, cancel_both), or eat the taker's size without a fill (decrement).
        """
        filled = 0
        worst = 0
        if is_buy:
            keys, side, sign = self._ask_keys, self.asks, -1
        else:
            keys, side, sign = self._bid_keys, self.bids, 1
        for k in reversed(keys):
            price = k * sign
            if (price > limit) if is_buy else (price < limit):
                break
            for mk in side[price].values():
                if mk.owner == owner:
                    if stp == CANCEL_MAKER:
                        continue
                    if stp == DECREMENT:
                        qty -= min(qty, mk.qty)
                        if qty == 0:
                            return filled, worst
                        continue
                    return filled, worst
                take = mk.qty if mk.qty < qty else qty
                filled += take
                qty -= take
                worst = price
                if qty == 0:
                    return filled, worst
        return filled, worst

    # -- changes -------------------------------------------------------------------------------
    def add(self, order: Order) -> None:
        """Rest an order at the back of its price level (no matching: the caller has matched first)."""
        price = order.price
        if order.is_buy:
            lv = self.bids.get(price)
            if lv is None:
                lv = self.bids[price] = {}
                keys = self._bid_keys
                if not keys or price > keys[-1]:
                    keys.append(price)
                else:
                    insort(keys, price)
        else:
            lv = self.asks.get(price)
            if lv is None:
                lv = self.asks[price] = {}
                keys = self._ask_keys
                k = -price
                if not keys or k > keys[-1]:
                    keys.append(k)
                else:
                    insort(keys, k)
        lv[order.oid] = order
        self.orders[order.oid] = order

    def remove(self, order: Order) -> None:
        """Take a resting order off the book (its `qty` is left for the caller to read)."""
        oid = order.oid
        del self.orders[oid]
        price = order.price
        if order.is_buy:
            lv = self.bids[price]
            del lv[oid]
            if not lv:
                del self.bids[price]
                keys = self._bid_keys
                if keys[-1] == price:
                    keys.pop()
                else:
                    del keys[bisect_left(keys, price)]
        else:
            lv = self.asks[price]
            del lv[oid]
            if not lv:
                del self.asks[price]
                keys = self._ask_keys
                k = -price
                if keys[-1] == k:
                    keys.pop()
                else:
                    del keys[bisect_left(keys, k)]

    def crosses(self, is_buy: bool, price: int) -> bool:
        """Return True when a limit order at `price` would take liquidity."""
        if is_buy:
            keys = self._ask_keys
            return bool(keys) and price >= -keys[-1]
        keys = self._bid_keys
        return bool(keys) and price <= keys[-1]

    def match(
        self, is_buy: bool, limit: int, qty: int, owner: str, stp: str, steps: list, reduce_room=None
    ) -> int:
        """Take liquidity at prices no worse than `limit`; return the taker's unmatched quantity.

        Appends to `steps`, in the order they happen, `(maker, price, qty)` per execution and
        `(maker, None, qty)` per resting order that self-trade prevention cancelled (or decremented by
        `qty`). A maker whose size reaches 0 leaves the book with `qty == 0`. `self.taker_cancelled` is True afterwards when self-trade
        prevention ended the taker (its remainder must not rest).

        `reduce_room(owner)` (perpetual markets) is how much a resting reduce-only order of `owner`
        may still fill before the owner's position would cross zero: reduce-only is enforced at fill
        time (issue 15.4). Every maker fill of such an owner in this walk uses that room up; a
        reduce-only maker with no room left leaves the book as `(maker, REDUCE_ONLY_CANCEL, qty)`.
        """
        self.taker_cancelled = False
        orders = self.orders
        rooms: dict[str, int] = {}
        if is_buy:
            keys, side, sign = self._ask_keys, self.asks, -1
        else:
            keys, side, sign = self._bid_keys, self.bids, 1
        while qty and keys:
            price = keys[-1] * sign
            if (price > limit) if is_buy else (price < limit):
                break
            lv = side[price]
            while qty and lv:
                oid = next(iter(lv))
                mk = lv[oid]
                mq = mk.qty
                if mk.owner == owner:
                    if stp == CANCEL_MAKER:
                        del lv[oid]
                        del orders[oid]
                        mk.qty = 0
                        steps.append((mk, None, mq))
                        continue
                    if stp == DECREMENT:
                        d = mq if mq < qty else qty
                        qty -= d
                        if d == mq:
                            del lv[oid]
                            del orders[oid]
                        mk.qty = mq - d
                        steps.append((mk, None, d))
                        continue
                    if stp == CANCEL_BOTH:
                        del lv[oid]
                        del orders[oid]
                        mk.qty = 0
                        steps.append((mk, None, mq))
                    self.taker_cancelled = True
                    break
                if reduce_room is not None:
                    mo = mk.owner
                    room = rooms.get(mo)
                    if room is None:
                        room = rooms[mo] = reduce_room(mo)
                    if mk.reduce_only and room < (mq if mq < qty else qty):
                        if room > 0:  # fill what reduces, cancel the rest
                            steps.append((mk, price, room))
                            qty -= room
                            mq -= room
                            rooms[mo] = 0
                        del lv[oid]
                        del orders[oid]
                        mk.qty = 0
                        steps.append((mk, REDUCE_ONLY_CANCEL, mq))
                        continue
                    rooms[mo] = room - (mq if mq <= qty else qty)
                if mq <= qty:
                    del lv[oid]
                    del orders[oid]
                    mk.qty = 0
                    steps.append((mk, price, mq))
                    qty -= mq
                else:
                    mk.qty = mq - qty
                    steps.append((mk, price, qty))
                    qty = 0
            if not lv:
                del side[price]
                keys.pop()
            if self.taker_cancelled:
                break
        return qty

    # -- a book on its own: what a venue without an engine would call ---------------------------------
