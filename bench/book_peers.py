"""Book throughput and latency on the exchange-core mix: our book against pure-Python peers from PyPI.

Our book (`offchain.core.matching.book.Book`, through `bench.book_core.CoreBookDriver`) and every installed
peer get the same deterministic stream (`bench.book_stream`) in the same process and run,
through a thin driver with four calls (`gtc`, `ioc`, `cancel`, `move`). Where a peer lacks a
semantic, its driver emulates it with the peer's own calls, the cheapest faithful way:

- IOC: no peer has one. The driver places a limit order and cancels the unfilled rest.
- move (price amend that loses priority): no peer has one. The driver cancels the order, re-prices
  the same order object and adds it again (it may trade, as a move does); order-matching refuses a
  seen order id, so there the driver places a new order for the remaining quantity.
- self-trade prevention: no peer has one. The stream never lets a user meet their own order,
  so every book has one correct outcome; our book still runs its STP check on every fill.

After each run the benchmark checks that the book rests exactly what the reference model says
(order count, total quantity, best bid and ask): a driver that skips work fails the run.

Throughput is timed over the whole stream (no per-message clock); latency comes from a separate
pass that reads `perf_counter_ns` around every message (the clock's own cost is reported as
`timer_overhead_ns` and included in the latencies). Figures are medians over `runs` runs, with the
books interleaved run by run so that a noisy neighbour slows all of them alike.

    .venv/bin/python -m bench.book_peers            # prints the figures as JSON
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal

from bench.book_core import CoreBookDriver
from bench.book_stream import BUY, CANCEL, GTC, IOC, MOVE, RestingSummary, Stream, generate

OURS = "breakwater book (offchain.core.matching.book)"
TARGET_RATIO = 1.5  # issue 5: our book >= 1.5x the fastest pure-Python peer
TARGET_P99_NS = 10_000  # issue 5: p99 < 10 µs per message


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


class Akhil4nDriver:
    """akhil4n-orderbook: SortedDict of price levels, OrderedDict queues, Decimal-friendly prices."""

    dist = "akhil4n-orderbook"
    semantics = "no IOC (limit + cancel rest), no move (cancel + re-add the re-priced order), no STP"

    def __init__(self) -> None:
        import orderbook  # the wheel installs a top-level module `orderbook.py`

        self._mod = orderbook
        self.book = orderbook.OrderBook()
        self._sides = (orderbook.OrderSide.BID, orderbook.OrderSide.ASK)
        self.live: dict[int, object] = {}

    def gtc(self, oid: int, side: int, price: int, qty: int, user: int) -> None:
        order = self._mod.Order(self._sides[side], price, qty)
        self.book.add_limit_order(order)
        self.live[oid] = order

    def ioc(self, oid: int, side: int, price: int, qty: int, user: int) -> None:
        order = self._mod.Order(self._sides[side], price, qty)
        self.book.add_limit_order(order)
        if order.remaining_quantity:
            self.book.cancel_order(order.order_id)

    def cancel(self, oid: int) -> None:
        self.book.cancel_order(self.live.pop(oid).order_id)

    def move(self, oid: int, price: int) -> None:
        # Cheapest faithful move: re-price the same order object (it keeps its id, as in
        # exchange-core) rather than building a new one.
        order = self.live[oid]
        self.book.cancel_order(order.order_id)
        order.price = price
        self.book.add_limit_order(order)

    def resting(self) -> RestingSummary:
        orders = [order for _, order in self.book.orders.values()]
        # The book can keep an emptied level at the top (its level totals drift after partial
        # fills); the best price is the best level that still holds an order.
        bids = [p for p, level in self.book.bids.items() if level.queue]
        asks = [p for p, level in self.book.asks.items() if level.queue]
        return RestingSummary(
            orders=len(orders),
            qty=sum(order.remaining_quantity for order in orders),
            best_bid=bids[0] if bids else None,
            best_ask=asks[0] if asks else None,
        )


class PyOrderBookDriver:
    """pyorderbook: heap of price levels per symbol and side, Decimal prices, uuid4 order ids."""

    dist = "pyorderbook"
    semantics = "no IOC (limit + cancel rest), no move (cancel + re-add the re-priced order), no STP"

    def __init__(self) -> None:
        import logging

        import pyorderbook

        # Importing pyorderbook calls logging.basicConfig(level=INFO); keep its debug calls cheap.
        logging.getLogger("pyorderbook").setLevel(logging.WARNING)
        self._mod = pyorderbook
        self._decimal = Decimal
        self.book = pyorderbook.Book()
        self._sides = (pyorderbook.Side.BID, pyorderbook.Side.ASK)
        self.live: dict[int, object] = {}

    def gtc(self, oid: int, side: int, price: int, qty: int, user: int) -> None:
        order = self._mod.Order(self._sides[side], "X", price, qty)
        self.book.match(order)
        self.live[oid] = order

    def ioc(self, oid: int, side: int, price: int, qty: int, user: int) -> None:
        order = self._mod.Order(self._sides[side], "X", price, qty)
        self.book.match(order)
        if order.quantity:
            self.book.cancel(order)

    def cancel(self, oid: int) -> None:
        self.book.cancel(self.live.pop(oid))

    def move(self, oid: int, price: int) -> None:
        # Re-price the same order object: skips a new uuid4 and the Decimal(str(price)) round trip.
        order = self.live[oid]
        self.book.cancel(order)
        order.price = self._decimal(price)
        self.book.match(order)

    def resting(self) -> RestingSummary:
        orders = list(self.book.order_map.values())
        levels = self.book.level_map["X"]
        bids = [p for p, level in levels[self._sides[BUY]].items() if level.orders]
        asks = [p for p, level in levels[self._sides[1]].items() if level.orders]
        return RestingSummary(
            orders=len(orders),
            qty=sum(order.quantity for order in orders),
            best_bid=int(max(bids)) if bids else None,
            best_ask=int(min(asks)) if asks else None,
        )


class OrderMatchingDriver:
    """order-matching: batch place-then-match engine, float prices and sizes, linear-scan lookups.

    Not a project dependency: it needs numpy >= 2.2.6 (the project pins 1.26.4) plus polars,
    pandera and faker. Measured only when installed, e.g. in a scratch venv:
    `pip install "order-matching[polars]==0.12.0" akhil4n-orderbook==0.1.1 pyorderbook==0.4.9`,
    then `PYTHONPATH=. python -m bench.book_peers --messages 20000`.
    """

    dist = "order-matching"
    semantics = (
        "no IOC (limit + cancel rest), no amend/move (cancel + new order), no STP; "
        "time priority from caller timestamps"
    )

    def __init__(self) -> None:
        from datetime import datetime

        from loguru import logger
        from order_matching.enums import Side
        from order_matching.matching_engine import MatchingEngine
        from order_matching.order import LimitOrder
        from order_matching.orders import Orders

        logger.disable("order_matching")  # its debug lines would otherwise go to stderr
        self._limit, self._orders = LimitOrder, Orders
        self._sides = (Side.BUY, Side.SELL)
        self.engine = MatchingEngine(seed=1)
        self._epoch = datetime(2024, 1, 1).timestamp()
        self._from_ts = datetime.fromtimestamp
        self._clock = 0
        self.live: dict[int, object] = {}

    def _place(self, order_id: str, side, price: int, qty: float, user: int):
        # Each message gets the next microsecond: the engine orders time priority by timestamp.
        self._clock += 1
        ts = self._from_ts(self._epoch + self._clock / 1e6)
        order = self._limit(
            side=side, price=price, size=qty, timestamp=ts, order_id=order_id, trader_id=str(user)
        )
        self.engine.place(self._orders([order]))
        self.engine.match(timestamp=ts)
        return order

    def gtc(self, oid: int, side: int, price: int, qty: int, user: int) -> None:
        self.live[oid] = self._place(str(oid), self._sides[side], price, qty, user)

    def ioc(self, oid: int, side: int, price: int, qty: int, user: int) -> None:
        order = self._place(str(oid), self._sides[side], price, qty, user)
        if order.size > 0:
            self.engine.cancel_order(order.order_id)

    def cancel(self, oid: int) -> None:
        self.engine.cancel_order(self.live.pop(oid).order_id)

    def move(self, oid: int, price: int) -> None:
        # Its engine refuses an order id it has seen, so the moved order gets a fresh one.
        old = self.live[oid]
        self.engine.cancel_order(old.order_id)
        self.live[oid] = self._place(f"{oid}.{self._clock}", old.side, price, old.size, int(old.trader_id))

    def resting(self) -> RestingSummary:
        book = self.engine.unprocessed_orders
        orders = [o for side in (book.bids, book.offers) for level in side.values() for o in level]
        bids = [p for p, level in book.bids.items() if len(level)]
        asks = [p for p, level in book.offers.items() if len(level)]
        return RestingSummary(
            orders=len(orders),
            qty=int(sum(order.size for order in orders)),
            best_bid=int(max(bids)) if bids else None,
            best_ask=int(min(asks)) if asks else None,
        )


PEERS: tuple[type, ...] = (Akhil4nDriver, PyOrderBookDriver, OrderMatchingDriver)

# Looked at and left out:
# - OrderBook 0.1.2 (`orderbook` on PyPI, dyn4mik3): Python 2 only (`from cStringIO import ...`,
#   implicit relative imports), so it does not import on Python 3; it would also install a
#   top-level `orderbook` package over akhil4n-orderbook's `orderbook` module.
# - cython-orderbook: compiled, not pure Python.


def _calls(driver, messages: list[tuple]) -> list[tuple[Callable, tuple]]:
    """Bind each message to the driver method that handles it (done before the clock starts)."""
    table = {GTC: driver.gtc, IOC: driver.ioc, CANCEL: driver.cancel, MOVE: driver.move}
    return [(table[msg[0]], msg[1:]) for msg in messages]


def _fresh(factory, stream: Stream):
    driver = factory()
    for fn, args in _calls(driver, stream.prefill):
        fn(*args)
    return driver, _calls(driver, stream.messages)


def _check(name: str, driver, stream: Stream) -> None:
    got = driver.resting()
    if got != stream.expected:
        raise AssertionError(f"{name} ended in a different state: {got} != expected {stream.expected}")


def _throughput_run(factory, stream: Stream) -> float:
    driver, calls = _fresh(factory, stream)
    # Freeze what exists now (stream, bound calls, prefilled book) so that the collector's full
    # passes scan only what the book allocates during the run, not the harness.
    gc.collect()
    gc.freeze()
    try:
        start = time.perf_counter()
        for fn, args in calls:
            fn(*args)
        elapsed = time.perf_counter() - start
    finally:
        gc.unfreeze()
    _check(factory.__name__, driver, stream)
    return len(calls) / elapsed


def _latency_run(factory, stream: Stream) -> list[int]:
    driver, calls = _fresh(factory, stream)
    clock = time.perf_counter_ns
    out = [0] * len(calls)
    i = 0
    gc.collect()
    gc.freeze()
    try:
        for fn, args in calls:
            t0 = clock()
            fn(*args)
            out[i] = clock() - t0
            i += 1
    finally:
        gc.unfreeze()
    _check(factory.__name__, driver, stream)
    return out


def _timer_overhead_ns() -> int:
    clock = time.perf_counter_ns
    samples = []
    for _ in range(10_000):
        t0 = clock()
        samples.append(clock() - t0)
    return int(statistics.median(samples))


def _percentile(sorted_ns: list[int], q: float) -> int:
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))]


def _subjects() -> tuple[dict[str, tuple[Callable, str]], list[str]]:
    """Return name -> (driver factory, semantics note) for every installed book, and the skipped peers."""
    subjects, skipped = {OURS: (CoreBookDriver, CoreBookDriver.semantics)}, []
    for peer in PEERS:
        version = _version(peer.dist)
        if version == "not installed":
            skipped.append(f"{peer.dist}: not installed")
        else:
            subjects[f"{peer.dist} {version}"] = (peer, peer.semantics)
    return subjects, skipped


def measure(messages: int = 200_000, runs: int = 5, seed: int = 1) -> dict:
    """Return every book's throughput and latency on one stream, and our ratio to the fastest peer."""
    stream = generate(messages, seed)
    load_before = os.getloadavg()[0]
    subjects, skipped = _subjects()
    per_run: dict[str, list[float]] = {name: [] for name in subjects}
    for _ in range(runs):
        for name, (factory, _) in subjects.items():
            per_run[name].append(_throughput_run(factory, stream))
    books = {}
    for name, (factory, semantics) in subjects.items():
        lat = sorted(_latency_run(factory, stream))
        books[name] = {
            "msgs_per_s": round(statistics.median(per_run[name])),
            "runs_msgs_per_s": [round(x) for x in per_run[name]],
            "p50_ns": _percentile(lat, 0.50),
            "p99_ns": _percentile(lat, 0.99),
            "p999_ns": _percentile(lat, 0.999),
            "semantics": semantics,
        }
    peers = {name: fig for name, fig in books.items() if name != OURS}
    fastest = max(peers, key=lambda name: peers[name]["msgs_per_s"]) if peers else None
    result = {
        "ours": OURS,
        "stream": stream.stats,
        "runs": runs,
        "timer_overhead_ns": _timer_overhead_ns(),
        "python": sys.version.split()[0],
        # Other work on this 2-core machine slows every book; interleaving keeps the ratio fair.
        "load_avg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "books": books,
        "skipped_peers": skipped,
        "fastest_peer": fastest,
        "target_ratio": TARGET_RATIO,
        "target_p99_ns": TARGET_P99_NS,
    }
    if fastest:
        result["ratio_to_fastest_peer"] = round(books[OURS]["msgs_per_s"] / peers[fastest]["msgs_per_s"], 3)
        # The same ratio run by run (each pair ran back to back), less exposed to load drifting between runs.
        paired = [ours / peer for ours, peer in zip(per_run[OURS], per_run[fastest], strict=True)]
        result["ratio_to_fastest_peer_paired_runs"] = [round(r, 3) for r in paired]
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.messages, args.runs, args.seed), indent=2))


if __name__ == "__main__":
    main()
