"""Figure: uncross a call auction of 100k resting orders (target < 50 ms).

Half bids, half asks, limits spread 2 % either side of 1.0000 on a 0.0001 tick (USDC 6 dp),
quantities of 1 to 1000 lots: the book a reopening auction after a halt sees, with the crossing
region in the middle. The time covers price determination, allocation by price-time and pairing
into trades. ``columns_ms`` is the engine's path (it builds three lists while walking its book);
``tuples_ms`` starts from ``(price, qty, time)`` tuples.
"""

from __future__ import annotations

import random
import time

from offchain.core.matching.auction import OrderColumns, uncross

N_ORDERS = 100_000
TICK = 100  # 0.0001 USDC per USDE
ONE = 1_000_000  # 1.0000 USDC


def make_book(n: int = N_ORDERS, seed: int = 7) -> tuple[list[tuple], list[tuple]]:
    """Return ``n`` orders split into bids and asks, crossing around 1.0000."""
    rng = random.Random(seed)
    bids, asks = [], []
    for i in range(n):
        offset = rng.randint(-200, 200) * TICK
        qty = rng.randint(1, 1000)  # in lots, as the engine passes them
        if i % 2:
            bids.append((ONE + offset - 20 * TICK, qty, i))
        else:
            asks.append((ONE + offset + 20 * TICK, qty, i))
    return bids, asks


def _best_ms(fn, repeats: int) -> tuple[float, float, object]:
    times = []
    result = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return round(times[0] * 1000, 2), round(times[len(times) // 2] * 1000, 2), result


def measure(repeats: int = 7) -> dict:
    """Uncross the 100k-order book ``repeats`` times per input form; report best and median."""
    bids, asks = make_book()
    bid_cols = OrderColumns(*map(list, zip(*bids, strict=True)))
    ask_cols = OrderColumns(*map(list, zip(*asks, strict=True)))
    best, median, result = _best_ms(lambda: uncross(bid_cols, ask_cols, TICK, reference=ONE), repeats)
    tuples_best, _, _ = _best_ms(lambda: uncross(bids, asks, TICK, reference=ONE), repeats)
    return {
        "figure": "auction_uncross_100k",
        "orders": N_ORDERS,
        "columns_ms": best,
        "columns_median_ms": median,
        "tuples_ms": tuples_best,
        "target_ms": 50,
        "price": result.price,
        "volume_lots": result.volume,
        "trades": len(result.trades),
    }


if __name__ == "__main__":
    print(measure())
