"""Our book and our engine on the exchange-core message mix (9 % GTC, 3 % IOC, 6 % cancel, 82 % move).

Two figures, both on the deterministic stream of `bench.book_stream`:

- **book**: `offchain.core.matching.book.Book` alone, through `CoreBookDriver` (real IOC, real move that loses
  priority and may trade, the STP check on every fill). Throughput over the whole stream without a
  per-message clock, then p50/p99 from a second pass with `perf_counter_ns` around each message
  (the clock's own cost, `timer_overhead_ns`, is included). Target: ~650k msgs/s, p99 < 10 µs.
- **engine**: the same stream as engine commands (`order` GTC/IOC, `cancel`, `amend` price) through
  `Engine.apply` of the core alone (`Engine(modules=[], risk=SpotRisk())`), with funded accounts,
  holds, the free-balance check, fees, settlement and every event. Target: >= 100k orders/s on one
  core. `engine_new_orders`: only the stream's placements (about a quarter of them trade).
  `engine_full` / `engine_full_new_orders`: the same through the default engine (risk, breaker and
  treasury modules wired in, cross-margin policy: what the daemon and the replay tool run).

Both runs end by checking that what rests equals the stream's reference model, so a fast wrong
book fails. `bench.book_peers` compares the book with PyPI peers on the same stream.

    .venv/bin/python -m bench.book_core [--messages N] [--runs R]      # prints JSON
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time

from bench.book_stream import BUY, CANCEL, GTC, IOC, MOVE, RestingSummary, Stream, generate
from offchain.core.build import build_engine
from offchain.core.config import EngineConfig
from offchain.core.engine import Engine
from offchain.core.matching.book import CANCEL_TAKER, Book, Order
from offchain.core.messages import commands as C

TARGET_BOOK_MSGS_PER_S = 650_000
TARGET_P99_NS = 10_000
TARGET_ENGINE_ORDERS_PER_S = 100_000


class CoreBookDriver:
    """`offchain.core.matching.book.Book` behind the four calls every book in the benchmarks gets."""

    name = "breakwater book"
    semantics = "native IOC, move = remove + place (loses priority, may trade), STP check on every fill"

    def __init__(self) -> None:
        self.book = Book()
        self.orders = self.book.orders
        self.steps: list = []

    def gtc(self, oid: int, side: int, price: int, qty: int, user: int) -> None:
        self._place(Order(oid, user, side == BUY, price, qty))

    def _place(self, order: Order) -> None:
        """Match a limit order, then rest what is left unless STP ended it (the book's public calls)."""
        book = self.book
        is_buy = order.is_buy
        if book.crosses(is_buy, order.price):
            steps = self.steps
            order.qty = book.match(is_buy, order.price, order.qty, order.owner, CANCEL_TAKER, steps)
            if steps:
                steps.clear()
            if not order.qty or book.taker_cancelled:
                return
        book.add(order)

    def ioc(self, oid: int, side: int, price: int, qty: int, user: int) -> None:
        steps = self.steps
        self.book.match(side == BUY, price, qty, user, CANCEL_TAKER, steps)
        if steps:
            steps.clear()

    def cancel(self, oid: int) -> None:
        self.book.remove(self.orders[oid])

    def move(self, oid: int, price: int) -> None:
        order = self.orders[oid]
        self.book.remove(order)  # a move loses priority and may trade: remove, then place again
        order.price = price
        self._place(order)

    def resting(self) -> RestingSummary:
        book = self.book
        return RestingSummary(
            orders=len(book.orders),
            qty=sum(o.qty for o in book.orders.values()),
            best_bid=book.best_bid(),
            best_ask=book.best_ask(),
        )


def _bind(driver, messages: list[tuple]) -> list:
    table = {GTC: driver.gtc, IOC: driver.ioc, CANCEL: driver.cancel, MOVE: driver.move}
    return [(table[m[0]], m[1:]) for m in messages]


def _fresh_book(stream: Stream):
    driver = CoreBookDriver()
    for fn, args in _bind(driver, stream.prefill):
        fn(*args)
    return driver, _bind(driver, stream.messages)


def _check(got: RestingSummary, stream: Stream, what: str) -> None:
    if got != stream.expected:
        raise AssertionError(f"{what} ended in a different state: {got} != expected {stream.expected}")


def _timed(calls: list) -> float:
    gc.collect()
    gc.freeze()
    try:
        start = time.perf_counter()
        for fn, args in calls:
            fn(*args)
        return time.perf_counter() - start
    finally:
        gc.unfreeze()


def _latencies(calls: list) -> list[int]:
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
    out.sort()
    return out


def _pct(sorted_ns: list[int], q: float) -> int:
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))]


def _timer_overhead_ns() -> int:
    clock = time.perf_counter_ns
    samples = []
    for _ in range(10_000):
        t0 = clock()
        samples.append(clock() - t0)
    return int(statistics.median(samples))


def measure_book(stream: Stream, runs: int) -> dict:
    rates = []
    for _ in range(runs):
        driver, calls = _fresh_book(stream)
        rates.append(len(calls) / _timed(calls))
        _check(driver.resting(), stream, "book")
    driver, calls = _fresh_book(stream)
    lat = _latencies(calls)
    _check(driver.resting(), stream, "book")
    return {
        "msgs_per_s": round(statistics.median(rates)),
        "runs_msgs_per_s": [round(r) for r in rates],
        "p50_ns": _pct(lat, 0.50),
        "p99_ns": _pct(lat, 0.99),
        "p999_ns": _pct(lat, 0.999),
        "target_msgs_per_s": TARGET_BOOK_MSGS_PER_S,
        "target_p99_ns": TARGET_P99_NS,
    }


# -- the engine on the same stream ---------------------------------------------------------------
SYMBOL = "WETH-USDC"
TICK = 10**4  # 0.01 USDC in quote atoms: stream prices are ticks
LOT = 10**15  # 0.001 WETH in base atoms: stream sizes are lots


def _engine_commands(messages: list[tuple], owner: dict[int, str], ts: int) -> list:
    out = []
    for m in messages:
        kind = m[0]
        if kind in (GTC, IOC):
            _, oid, side, price, qty, user = m
            out.append(
                C.PlaceOrder(
                    ts,
                    f"u{user}",
                    SYMBOL,
                    C.BUY if side == BUY else C.SELL,
                    C.LIMIT,
                    qty * LOT,
                    price * TICK,
                    C.GTC if kind == GTC else C.IOC,
                    stp="cancel_taker",
                )
            )
        elif kind == CANCEL:
            out.append(C.Cancel(ts, owner[m[1]], oid=m[1]))
        else:
            out.append(C.Amend(ts, owner[m[1]], oid=m[1], price=m[2] * TICK))
    return out


def _fresh_engine(stream: Stream, full: bool = False) -> tuple[Engine, list]:
    # the core: spot free-balance checks, no modules; `full`: the default modules and risk policy
    eng = build_engine(EngineConfig() if full else EngineConfig.core())
    setup = [
        C.AddAsset(0, "USDC", 6),
        C.AddAsset(0, "WETH", 18, 900_000),
        C.AddMarket(0, SYMBOL, "spot", "WETH", "USDC", TICK, LOT, 0, 2000, 500),
    ]
    users = {m[5] for m in stream.prefill + stream.messages if m[0] in (GTC, IOC)}
    for user in sorted(users):
        setup.append(C.Deposit(0, f"u{user}", "USDC", 10**9 * 10**6))
        setup.append(C.Deposit(0, f"u{user}", "WETH", 10**6 * 10**18))
    owner = {m[1]: f"u{m[5]}" for m in stream.prefill + stream.messages if m[0] in (GTC, IOC)}
    for cmd in setup + _engine_commands(stream.prefill, owner, 0):
        eng.apply(cmd)
    return eng, _engine_commands(stream.messages, owner, 1)


def _engine_resting(eng: Engine) -> RestingSummary:
    book = eng.book(SYMBOL)
    bid, ask = book.best_bid(), book.best_ask()
    return RestingSummary(
        orders=len(book.orders),
        qty=sum(o.qty for o in book.orders.values()) // LOT,
        best_bid=None if bid is None else bid // TICK,
        best_ask=None if ask is None else ask // TICK,
    )


def _run_engine(eng: Engine, cmds: list) -> tuple[float, int]:
    """Apply `cmds` with the collector frozen; return (seconds, events)."""
    apply = eng.apply
    events = 0
    gc.collect()
    gc.freeze()
    try:
        start = time.perf_counter()
        for cmd in cmds:
            events += len(apply(cmd))
        return time.perf_counter() - start, events
    finally:
        gc.unfreeze()


def measure_engine_new_orders(stream: Stream, runs: int, full: bool = False) -> dict:
    """Only new orders (the stream's GTC and IOC placements, no cancels or moves): each one is checked
    against free balance, holds, and about 1 in 4 trades. `full`: through the default engine."""
    rates, trades = [], 0
    for _ in range(runs):
        eng, _ = _fresh_engine(stream, full)
        placements = [m for m in stream.messages if m[0] in (GTC, IOC)]
        cmds = _engine_commands(placements, {}, 1)
        elapsed, _ = _run_engine(eng, cmds)
        rates.append(len(cmds) / elapsed)
        trades = eng.next_tid - 1
    return {
        "orders_per_s": round(statistics.median(rates)),
        "runs_orders_per_s": [round(r) for r in rates],
        "orders": len(cmds),
        "trades": trades,
        "target_orders_per_s": TARGET_ENGINE_ORDERS_PER_S,
        "modules": [type(m).__name__ for m in eng.modules],
        "risk": type(eng.risk).__name__,
    }


def measure_engine(stream: Stream, runs: int, full: bool = False) -> dict:
    rates = []
    events = 0
    for _ in range(runs):
        eng, cmds = _fresh_engine(stream, full)
        apply = eng.apply
        gc.collect()
        gc.freeze()
        try:
            start = time.perf_counter()
            for cmd in cmds:
                events += len(apply(cmd))
            elapsed = time.perf_counter() - start
        finally:
            gc.unfreeze()
        rates.append(len(cmds) / elapsed)
        _check(_engine_resting(eng), stream, "engine")
    eng, cmds = _fresh_engine(stream, full)
    lat = _latencies([(eng.apply, (cmd,)) for cmd in cmds])
    return {
        "orders_per_s": round(statistics.median(rates)),
        "runs_orders_per_s": [round(r) for r in rates],
        "events_per_command": round(events / (runs * len(cmds)), 2),
        "p50_ns": _pct(lat, 0.50),
        "p99_ns": _pct(lat, 0.99),
        "target_orders_per_s": TARGET_ENGINE_ORDERS_PER_S,
        "modules": [type(m).__name__ for m in eng.modules],
        "risk": type(eng.risk).__name__,
        "note": "every message is an engine command (order/cancel/amend) with holds, balance check, fees, events",
    }


def measure(messages: int = 200_000, runs: int = 5, seed: int = 1, engine_messages: int = 100_000) -> dict:
    """Return the book and engine figures on the exchange-core stream."""
    stream = generate(messages, seed)
    result = {
        "stream": stream.stats,
        "python": sys.version.split()[0],
        "timer_overhead_ns": _timer_overhead_ns(),
        "book": measure_book(stream, runs),
    }
    estream = stream if engine_messages == messages else generate(engine_messages, seed)
    result["engine"] = measure_engine(estream, max(1, runs // 2))
    result["engine_new_orders"] = measure_engine_new_orders(stream, runs)
    result["engine_full"] = measure_engine(estream, max(1, runs // 2), full=True)
    result["engine_full_new_orders"] = measure_engine_new_orders(stream, runs, full=True)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--engine-messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.messages, args.runs, args.seed, args.engine_messages), indent=2))


if __name__ == "__main__":
    main()
