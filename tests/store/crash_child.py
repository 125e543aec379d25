"""Child process for the crash-recovery test: drive random commands through the journaled engine.

    python tests/store/crash_child.py STORE_URL SEED SNAPSHOT_EVERY

Recovers the engine from the store, then submits the seeded command stream from where the journal
ends, printing `ack <seq>` after each `submit` returns. It runs until the parent SIGKILLs it.
`command_stream(seed)` is a pure function of the seed, so the parent can regenerate exactly what
was submitted and check it against the journal and the recovered state.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from itertools import islice

from offchain.core.matching.book import STP_MODES
from offchain.core.messages import commands as C
from offchain.store.journaled import JournaledEngine

USDC, WETH = 10**6, 10**18
MARKET = "WETH-USDC"
TICK = USDC // 100  # 0.01 USDC per WETH
LOT = WETH // 1000  # 0.001 WETH
ACCOUNTS = [f"market_maker-{i}" for i in range(3)] + [f"trader-{i}" for i in range(3)]


def command_stream(seed: int) -> Iterator:
    """Yield an endless, seeded mix of listings, deposits, orders, cancels, amends and withdrawals."""
    rng = random.Random(seed)
    ts = 1_760_000_000_000
    yield C.AddAsset(ts, "USDC", 6)
    yield C.AddAsset(ts, "WETH", 18)
    yield C.AddMarket(ts, MARKET, "spot", "WETH", "USDC", TICK, LOT)
    for account in ACCOUNTS:
        yield C.Deposit(ts, account, "USDC", 1_000_000 * USDC)
        yield C.Deposit(ts, account, "WETH", 300 * WETH)
    n = 0
    while True:
        n += 1
        ts += rng.randrange(0, 50)
        account = rng.choice(ACCOUNTS)
        side = rng.choice((C.BUY, C.SELL))
        price = (300_000 + rng.randrange(-400, 401)) * TICK
        qty = rng.randrange(1, 80) * LOT
        earlier = f"c{rng.randrange(1, n + 1)}"
        r = rng.random()
        if r < 0.50:
            tif = C.GTC if r < 0.40 else C.IOC if r < 0.46 else C.FOK
            stp = rng.choice(STP_MODES)
            yield C.PlaceOrder(
                ts, account, MARKET, side, C.LIMIT, qty, price, tif, stp=stp, client_id=f"c{n}"
            )
        elif r < 0.55:
            yield C.PlaceOrder(ts, account, MARKET, side, C.MARKET, qty, None, C.IOC, client_id=f"c{n}")
        elif r < 0.70:
            yield C.Cancel(ts, account, client_id=earlier)
        elif r < 0.85:
            new_price = price if rng.random() < 0.6 else None
            yield C.Amend(ts, account, client_id=earlier, price=new_price, qty=None if new_price else qty)
        elif r < 0.88:
            yield C.CancelAll(ts, account, MARKET)
        elif r < 0.94:
            yield C.Deposit(ts, account, rng.choice(("USDC", "WETH")), rng.randrange(1, 10_000) * USDC)
        else:
            yield C.Withdraw(ts, account, "USDC", rng.randrange(1, 50_000) * USDC)


def main() -> None:
    url, seed, snapshot_every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    runner = JournaledEngine.open(url, snapshot_every=snapshot_every)
    for cmd in islice(command_stream(seed), runner.seq, None):
        runner.submit(cmd)
        sys.stdout.write(f"ack {runner.seq}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
