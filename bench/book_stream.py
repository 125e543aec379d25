"""The exchange-core order-book message mix, generated deterministically from a seed.

exchange-core's throughput benchmark feeds one book a stream of 9 % GTC orders, 3 % IOC orders,
6 % cancels and 82 % moves (a price change that loses priority). The stream here follows the
shape of its `TestOrdersGenerator`: passive GTC orders scattered around the last trade price
(the closer, the likelier), market-like IOCs, and moves that creep a resting order 1 % of its
distance toward the last trade price, so that a few percent of messages cross and trade (about
3 % here; exchange-core reports about 6 %, with a book it regulates by switching between GTC and
IOC placements). With the mix held fixed, the book is held near its target size (1,000 orders)
by shrinking IOC sizes while it is below target instead.

Every cancel and move targets an order that is resting at that point, so each book does real
work for each message. To know which orders rest, the generator runs its own plain price-time
book (`ReferenceBook`) over the stream; the figures it records (`RestingSummary`) let the
benchmark check that every book under test ended in the same state.

Prices are integer ticks around 3000.00 with a 0.01 tick (300_000 ticks, a WETH-USDC-like
market); sizes are integer lots. Bids come from even-numbered users and asks from odd-numbered
ones, so no user ever meets their own order: the peers have no self-trade prevention, and this
keeps one correct outcome for every book while ours still runs its STP check on every fill.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left, insort
from dataclasses import dataclass, field

GTC, IOC, CANCEL, MOVE = 0, 1, 2, 3
KIND_NAMES = {GTC: "gtc", IOC: "ioc", CANCEL: "cancel", MOVE: "move"}
BUY, SELL = 0, 1

# exchange-core's published mix (README, "benchmark configuration").
MIX = {GTC: 0.09, IOC: 0.03, CANCEL: 0.06, MOVE: 0.82}

MID_PRICE = 300_000  # ticks: 3000.00 at a 0.01 tick
PRICE_DEVIATION = 1_000  # ticks (0.33 %): how far from the last trade a GTC may rest
PRICE_LIMIT = 15_000  # ticks (5 %): the session's min/max price; IOCs use it as their limit
CENTRAL_MOVE_ALPHA = 0.01  # a move covers 1 % of the distance to the last trade price
USERS = 1_000


@dataclass(frozen=True, slots=True)
class RestingSummary:
    """What rests in a book: enough to tell two books apart after the same stream."""

    orders: int
    qty: int
    best_bid: int | None
    best_ask: int | None


@dataclass(slots=True)
class Stream:
    """A prefill (builds the book, not timed) and the measured messages.

    Messages are tuples: `(GTC|IOC, oid, side, price, qty, user)`, `(CANCEL, oid)`,
    `(MOVE, oid, new_price)`.
    """

    seed: int
    prefill: list[tuple]
    messages: list[tuple]
    expected: RestingSummary
    stats: dict = field(default_factory=dict)


class ReferenceBook:
    """A plain price-time book: the generator's model of what rests, and the benchmark's oracle."""

    def __init__(self) -> None:
        self.levels = ({}, {})  # side -> price -> {oid: None} (dicts keep arrival order)
        self.prices = ([], [])  # side -> ascending list of prices with resting orders
        self.orders: dict[int, list] = {}  # oid -> [side, price, qty]
        self.last_trade = MID_PRICE
        self.trades = 0

    def place(self, oid: int, side: int, price: int, qty: int, rest: bool) -> list[int]:
        """Match an incoming order, rest what is left if `rest`; return the oids it filled."""
        other = 1 - side
        prices = self.prices[other]
        levels = self.levels[other]
        filled: list[int] = []
        while qty and prices:
            best = prices[0] if side == BUY else prices[-1]
            if (side == BUY and best > price) or (side == SELL and best < price):
                break
            queue = levels[best]
            for maker in list(queue):
                entry = self.orders[maker]
                take = min(qty, entry[2])
                qty -= take
                entry[2] -= take
                self.trades += 1
                self.last_trade = best
                if entry[2] == 0:
                    del queue[maker]
                    del self.orders[maker]
                    filled.append(maker)
                if not qty:
                    break
            if not queue:
                del levels[best]
                prices.pop(0 if side == BUY else -1)
        if qty and rest:
            self.orders[oid] = [side, price, qty]
            queue = self.levels[side].get(price)
            if queue is None:
                queue = self.levels[side][price] = {}
                insort(self.prices[side], price)
            queue[oid] = None
        return filled

    def cancel(self, oid: int) -> list:
        """Remove a resting order; return its `[side, price, qty]`."""
        entry = self.orders.pop(oid)
        side, price, _ = entry
        queue = self.levels[side][price]
        del queue[oid]
        if not queue:
            del self.levels[side][price]
            prices = self.prices[side]
            del prices[bisect_left(prices, price)]
        return entry

    def summary(self) -> RestingSummary:
        bids, asks = self.prices
        return RestingSummary(
            orders=len(self.orders),
            qty=sum(entry[2] for entry in self.orders.values()),
            best_bid=bids[-1] if bids else None,
            best_ask=asks[0] if asks else None,
        )


class _LiveSet:
    """Resting order ids with O(1) add, remove and uniform random pick."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.pos: dict[int, int] = {}

    def add(self, oid: int) -> None:
        self.pos[oid] = len(self.ids)
        self.ids.append(oid)

    def remove(self, oid: int) -> None:
        i = self.pos.pop(oid)
        last = self.ids.pop()
        if last != oid:
            self.ids[i] = last
            self.pos[last] = i

    def pick(self, rng: random.Random) -> int:
        return self.ids[rng.randrange(len(self.ids))]

    def __len__(self) -> int:
        return len(self.ids)


def _size(rng: random.Random) -> int:
    # exchange-core's size law: mostly small, a long tail up to 126 lots.
    return 1 + rng.randrange(6) * rng.randrange(6) * rng.randrange(6)


def _passive_price(rng: random.Random, side: int, last: int) -> int:
    # exchange-core's placement: distance drawn from a narrowing band, always on the passive side.
    dev = 1 + int(rng.random() ** 2 * PRICE_DEVIATION)
    p = sum(rng.randrange(dev) for _ in range(4)) // 4 * 2 - dev
    if (p > 0) != (side == SELL):
        p = -p
    return min(max(last + p, MID_PRICE - PRICE_LIMIT), MID_PRICE + PRICE_LIMIT)


def generate(messages: int = 200_000, seed: int = 1, book_orders: int = 1_000) -> Stream:
    """Return a prefill of `book_orders` GTC orders and `messages` messages in the exchange-core mix."""
    rng = random.Random(seed)
    ref = ReferenceBook()
    live = _LiveSet()
    next_oid = 1
    direction = 0  # exchange-core's drift: +1 favours bids after a trade at the floor, -1 asks

    def place(kind: int, side: int) -> tuple:
        nonlocal next_oid
        oid = next_oid
        next_oid += 1
        user = 2 * rng.randrange(USERS // 2) + side
        qty = _size(rng)
        if kind == IOC and len(ref.orders) < book_orders:
            # Hold the book near its target size: exchange-core switches placements to GTC when
            # its book runs short; with the mix fixed, smaller IOCs do the same job.
            qty = 1 + rng.randrange(3)
        if kind == GTC:
            price = _passive_price(rng, side, ref.last_trade)
        else:
            price = MID_PRICE + PRICE_LIMIT if side == BUY else MID_PRICE - PRICE_LIMIT
        for maker in ref.place(oid, side, price, qty, rest=kind == GTC):
            live.remove(maker)
        if oid in ref.orders:
            live.add(oid)
        return (kind, oid, side, price, qty, user)

    prefill = []
    while len(ref.orders) < book_orders:
        side = BUY if rng.random() < 0.5 else SELL
        prefill.append(place(GTC, side))

    out: list[tuple] = []
    counts = dict.fromkeys(KIND_NAMES, 0)
    trading = 0
    book_sizes = []
    thresholds = (MIX[GTC], MIX[GTC] + MIX[IOC], MIX[GTC] + MIX[IOC] + MIX[CANCEL])
    while len(out) < messages:
        r = rng.random()
        kind = (
            GTC if r < thresholds[0] else IOC if r < thresholds[1] else CANCEL if r < thresholds[2] else MOVE
        )
        if kind in (CANCEL, MOVE) and not live:
            kind = GTC
        trades_before = ref.trades
        if kind in (GTC, IOC):
            side = BUY if rng.randrange(4) + direction >= 2 else SELL
            msg = place(kind, side)
        elif kind == CANCEL:
            oid = live.pick(rng)
            live.remove(oid)
            ref.cancel(oid)
            msg = (CANCEL, oid)
        else:
            oid = live.pick(rng)
            side, old, qty = ref.cancel(oid)
            last = ref.last_trade
            if old > last:
                step = math.floor((last - old) * CENTRAL_MOVE_ALPHA)
            elif old < last:
                step = math.ceil((last - old) * CENTRAL_MOVE_ALPHA)
            else:
                step = rng.randrange(2) * 2 - 1
            price = old + step
            live.remove(oid)
            for maker in ref.place(oid, side, price, qty, rest=True):
                live.remove(maker)
            if oid in ref.orders:
                live.add(oid)
            msg = (MOVE, oid, price)
        if ref.trades != trades_before:
            trading += 1
            if ref.last_trade <= MID_PRICE - PRICE_LIMIT:
                direction = 1
            elif ref.last_trade >= MID_PRICE + PRICE_LIMIT:
                direction = -1
        counts[kind] += 1
        out.append(msg)
        if len(out) % 1_000 == 0:
            book_sizes.append(len(ref.orders))

    summary = ref.summary()
    stats = {
        "messages": len(out),
        "prefill": len(prefill),
        "seed": seed,
        "mix": {KIND_NAMES[k]: round(v / len(out), 4) for k, v in counts.items()},
        "messages_that_trade": round(trading / len(out), 4),
        "resting_orders_min_mean_max": [
            min(book_sizes, default=0),
            round(sum(book_sizes) / max(len(book_sizes), 1)),
            max(book_sizes, default=0),
        ],
        "price_levels_at_end": len(ref.prices[BUY]) + len(ref.prices[SELL]),
        "last_trade_price": ref.last_trade,
    }
    return Stream(seed=seed, prefill=prefill, messages=out, expected=summary, stats=stats)
