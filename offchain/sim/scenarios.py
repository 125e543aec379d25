"""Deterministic scenario generators: the shipped market histories and the benchmark's long file.

Every generator is a pure function of its seed: the same seed gives the same lines, byte for byte.
Lines follow SPEC §4 (``t`` in seconds, amounts and prices as decimal strings). Regenerate the
shipped files with ``python -m offchain.sim.scenarios scenarios/``.

* :func:`usde_crash` — a synthetic reconstruction of 10 October 2025 (seed 004): market makers
  pull their quotes, a seller walks the local USDE-USDC book towards 0.65 over about 20 minutes
  while the on-chain index (the Curve pool among its sources) stays near 0.99, and leveraged
  accounts hold USDE as collateral against borrowed USDC. A designated liquidity provider brings
  money in through the priority channel once the market is halted.
* :func:`calm_market` — the same market on an ordinary day: quotes, noise trades, one large
  order walking the deep book; a breaker that trips on it is a false positive.
* :func:`busy_market` — a calm market with ``n`` lines, for the replay benchmark.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path

SYMBOL = "USDE-USDC"
TICK = Decimal("0.0001")

USDE_CRASH_FILE = "usde_2025_10_10.jsonl"
CALM_FILE = "calm.jsonl"


def price_str(value: Decimal | float) -> str:
    """A price on the 0.0001 tick as a plain decimal string."""
    return str(Decimal(str(value)).quantize(TICK))


def qty_str(units: int) -> str:
    return str(int(units))


class Timeline:
    """Lines keyed by time; ``lines()`` returns them in time order (stable within a millisecond)."""

    def __init__(self) -> None:
        self._items: list[tuple[int, int, dict]] = []

    def add(self, t_ms: int, cmd: str, **fields) -> None:
        line = {"t": _t(t_ms), "cmd": cmd, **fields}
        self._items.append((t_ms, len(self._items), line))

    def lines(self) -> list[dict]:
        return [line for _, _, line in sorted(self._items, key=lambda item: (item[0], item[1]))]


def _t(t_ms: int) -> int | float:
    return t_ms // 1000 if t_ms % 1000 == 0 else round(t_ms / 1000, 3)


def _listing(tl: Timeline, usde_weight: str = "0.9") -> None:
    tl.add(0, "asset", symbol="USDC", decimals=6, collateral_weight="1")
    tl.add(0, "asset", symbol="USDE", decimals=18, collateral_weight=usde_weight)
    tl.add(
        0,
        "market",
        symbol=SYMBOL,
        kind="spot",
        base="USDE",
        quote="USDC",
        tick=str(TICK),
        lot="1",
        band="0.2",
        impact="0.1",
    )


def _ladder(tl: Timeline, t_ms: int, account: str, side: str, prices: Iterable[Decimal], size: int, tag: str):
    ids = []
    for i, p in enumerate(prices):
        oid = f"{account}-{tag}-{side[0]}{i}"
        tl.add(
            t_ms,
            "order",
            account=account,
            symbol=SYMBOL,
            side=side,
            type="limit",
            price=price_str(p),
            qty=qty_str(size),
            tif="GTC",
            id=oid,
        )
        ids.append(oid)
    return ids


def _cancel(tl: Timeline, t_ms: int, account: str, ids: Iterable[str]) -> None:
    for oid in ids:
        tl.add(t_ms, "cancel", account=account, id=oid)


def _steps(start: Decimal, step: Decimal, count: int) -> list[Decimal]:
    return [start + step * i for i in range(count)]


# -- 10 October 2025 ----------------------------------------------------------------------------

MARKET_MAKERS = ("mm1", "mm2", "mm3")
LEVERAGED = {  # account -> (USDE deposited, USDE bought with borrowed USDC): the USDe loop
    "lev1": (1_000_000, 3_000_000),  # near the initial-margin limit: liquidated under ~0.95
    "lev2": (1_000_000, 2_800_000),
    "lev3": (1_000_000, 2_400_000),
    "lev4": (1_000_000, 2_000_000),
    "lev5": (1_000_000, 1_000_000),  # safe down to ~0.59
}
CRASH_START_S = 600  # market makers start pulling at 10:00 into the file (21:30 UTC in the story)
SELL_START_S = 660
SELL_END_S = SELL_START_S + 20 * 60
DLP_ARRIVAL_S = 1_020  # the designated provider has its money in 6 minutes
MM_RETURN_S = 1_140  # market makers re-quote once they have rebalanced inventory
SELLER_REST_S = 1_110  # the seller queues its rest in the cool-down (the halt ends at 1,081 s)
END_S = 3_000


def _index_feed(tl: Timeline, rng: random.Random, crash: bool) -> None:
    """Three sources every 5 s: the Curve pool, Ethena mint/redeem, another CEX."""
    for s in range(0, END_S + 1, 5):
        t_ms = s * 1000
        in_crash = crash and CRASH_START_S <= s <= SELL_END_S
        depth = min(1.0, max(0.0, (s - CRASH_START_S) / 900)) if in_crash else 0.0
        curve = (
            Decimal("0.9993") - Decimal(str(round(0.0040 * depth, 4))) + Decimal(rng.randint(-2, 2)) * TICK
        )
        other = Decimal("0.9992") - Decimal(str(round(0.07 * depth, 4))) + Decimal(rng.randint(-3, 3)) * TICK
        tl.add(t_ms, "index", symbol=SYMBOL, source="curve", price=price_str(curve))
        tl.add(t_ms, "index", symbol=SYMBOL, source="ethena_redeem", price="1.0000")
        tl.add(t_ms, "index", symbol=SYMBOL, source="bybit", price=price_str(other))


def _mm_quotes(tl: Timeline, rng: random.Random, until_s: int, from_s: int = 0) -> dict[str, list[str]]:
    """Deep two-sided ladders around 0.9995, re-quoted every 30 s; returns the ids left open."""
    open_ids: dict[str, list[str]] = {}
    for k, mm in enumerate(MARKET_MAKERS):
        t0 = from_s * 1000 + 100 * k
        tag = f"q{from_s}"
        bids = _ladder(tl, t0, mm, "buy", _steps(Decimal("0.9990"), Decimal("-0.0005"), 19), 300_000, tag)
        asks = _ladder(tl, t0, mm, "sell", _steps(Decimal("1.0000"), Decimal("0.0005"), 19), 300_000, tag)
        open_ids[mm] = bids + asks
    n = 0
    for s in range(from_s + 30, until_s, 30):
        for k, mm in enumerate(MARKET_MAKERS):
            t_ms = s * 1000 + 100 * k
            # refresh the top of book: cancel the two best quotes and post them again (new ids)
            ids = open_ids[mm]
            top = [ids[0], ids[19]]
            _cancel(tl, t_ms, mm, top)
            n += 1
            shade = Decimal(rng.randint(-1, 1)) * TICK
            new_bid = _ladder(tl, t_ms, mm, "buy", [Decimal("0.9990") + shade], 300_000, f"{tag}r{n}")
            new_ask = _ladder(tl, t_ms, mm, "sell", [Decimal("1.0000") + shade], 300_000, f"{tag}r{n}")
            ids[0] = new_bid[0]
            ids[19] = new_ask[0]
    return open_ids


def _noise(tl: Timeline, rng: random.Random, start_s: int, end_s: int, accounts: Iterable[str]) -> None:
    """Small market orders from retail accounts, a few a minute."""
    accounts = list(accounts)
    for s in range(start_s, end_s, 7):
        account = accounts[rng.randrange(len(accounts))]
        side = "buy" if rng.random() < 0.5 else "sell"
        qty = rng.randint(1, 20) * 1_000
        tl.add(
            s * 1000 + 500,
            "order",
            account=account,
            symbol=SYMBOL,
            side=side,
            type="market",
            qty=qty_str(qty),
        )


def usde_crash(
    seed: int = 20251010, stub_base: int = 10_000, wave_size: int = 40_000, sell_base: int = 90_000
) -> list[dict]:
    """The 10 October 2025 USDE-USDC reconstruction (see the module docstring).

    ``stub_base`` sizes the thin bids left under the touch, ``wave_size`` the bottom fishers'
    bids under 0.80, ``sell_base`` the seller's market orders (whole USDE).
    """
    rng = random.Random(seed)
    tl = Timeline()
    _listing(tl)
    for mm in MARKET_MAKERS:
        tl.add(0, "deposit", account=mm, asset="USDC", amount="12000000")
        tl.add(0, "deposit", account=mm, asset="USDE", amount="12000000")
    tl.add(0, "deposit", account="seller", asset="USDE", amount="15000000")
    tl.add(0, "deposit", account="bottom_fisher", asset="USDC", amount="20000000")
    for retail in ("retail1", "retail2", "retail3"):
        tl.add(0, "deposit", account=retail, asset="USDC", amount="200000")
        tl.add(0, "deposit", account=retail, asset="USDE", amount="200000")
    for acct, (collateral, _) in LEVERAGED.items():
        tl.add(0, "deposit", account=acct, asset="USDE", amount=qty_str(collateral))
        tl.add(0, "margin", account=acct)  # spot margin: buying beyond the USDC balance borrows it
    tl.add(0, "dlp", account="dlp1")
    for mm in MARKET_MAKERS:  # seed 004 §4.2: the exchange's market makers may quote during a halt
        tl.add(0, "authorise", account=mm)
    _index_feed(tl, rng, crash=True)
    open_ids = _mm_quotes(tl, rng, until_s=CRASH_START_S)
    # leveraged longs: buy USDE with borrowed USDC (calm, t = 60..100 s) from a treasury's offer
    bought_total = sum(bought for _, bought in LEVERAGED.values())
    tl.add(0, "deposit", account="treasury", asset="USDE", amount=qty_str(bought_total))
    _ladder(tl, 59_000, "treasury", "sell", [Decimal("0.9996")], bought_total, "otc")
    for k, (acct, (_, bought)) in enumerate(LEVERAGED.items()):
        tl.add(
            (60 + 10 * k) * 1000,
            "order",
            account=acct,
            symbol=SYMBOL,
            side="buy",
            type="limit",
            price="0.9996",
            qty=qty_str(bought),
            tif="IOC",
            id=f"{acct}-long",
        )
    _noise(tl, rng, 30, END_S, ("retail1", "retail2", "retail3"))
    # market makers pull depth over two minutes, keeping thin quotes near the touch
    for k, mm in enumerate(MARKET_MAKERS):
        ids = open_ids[mm]
        for j, oid in enumerate(ids):
            if j in (0, 19):
                continue  # the best bid and ask stay, thin
            tl.add((CRASH_START_S + 3 * j + k) * 1000, "cancel", account=mm, id=oid)
        tl.add((CRASH_START_S + 61 + k) * 1000, "amend", account=mm, id=ids[0], qty="100000")
        tl.add((CRASH_START_S + 61 + k) * 1000, "amend", account=mm, id=ids[19], qty="100000")
    # what is left under the touch: scattered resting bids every half cent down to 0.80, and bottom
    # fishers who bid lower as the price falls (a bid more than 20 % under the mark is refused by
    # the price band, so each wave only rests where the market has already gone)
    stubs = _steps(Decimal("0.9950"), Decimal("-0.0050"), 40)
    for i, p in enumerate(stubs):
        size = stub_base + 500 * i + rng.randint(0, 10) * 1_000
        _ladder(tl, (CRASH_START_S + 90) * 1000, "bottom_fisher", "buy", [p], size, f"stub{i}")
    for wave, s in enumerate(range(CRASH_START_S + 150, CRASH_START_S + 600, 30)):
        low = _steps(Decimal("0.7900"), Decimal("-0.0100"), 15)
        _ladder(tl, s * 1000, "bottom_fisher", "buy", low, wave_size, f"w{wave}")
    _ladder(tl, (CRASH_START_S + 540) * 1000, "bottom_fisher", "buy", [Decimal("0.6500")], 6_000_000, "wall")
    # the seller: a market sell every 15 s for 20 minutes
    for s in range(SELL_START_S, SELL_END_S, 15):
        qty = sell_base + rng.randint(0, 40) * 1_000
        tl.add(
            s * 1000 + 250,
            "order",
            account="seller",
            symbol=SYMBOL,
            side="sell",
            type="market",
            qty=qty_str(qty),
        )
    # the designated liquidity provider: priority deposit, then a deep two-sided book
    t_dlp = DLP_ARRIVAL_S * 1000
    tl.add(t_dlp, "dlp_deposit", account="dlp1", symbol=SYMBOL, asset="USDC", amount="25000000")
    tl.add(t_dlp, "dlp_deposit", account="dlp1", symbol=SYMBOL, asset="USDE", amount="20000000")
    _ladder(tl, t_dlp + 1000, "dlp1", "buy", _steps(Decimal("0.9960"), Decimal("-0.0010"), 8), 2_000_000, "d")
    _ladder(tl, t_dlp + 1000, "dlp1", "sell", _steps(Decimal("0.9995"), Decimal("0.0010"), 8), 2_000_000, "d")
    # the seller, refused while halted (only DLPs and authorised participants add orders then),
    # offers the rest at a sane price once the cool-down opens; it crosses the DLP's bids
    tl.add(
        SELLER_REST_S * 1000,
        "order",
        account="seller",
        symbol=SYMBOL,
        side="sell",
        type="limit",
        price="0.9930",
        qty="3000000",
        tif="GTC",
        id="seller-rest",
    )
    # market makers come back after rebalancing
    _mm_quotes(tl, rng, until_s=END_S, from_s=MM_RETURN_S)
    for s in range(1, END_S + 1):
        tl.add(s * 1000, "tick")
    return tl.lines()


# -- an ordinary day ----------------------------------------------------------------------------


def calm_market(seed: int = 7, minutes: int = 45) -> list[dict]:
    """A calm USDE-USDC market that a correct breaker never halts."""
    rng = random.Random(seed)
    tl = Timeline()
    end_s = minutes * 60
    _listing(tl)
    for mm in MARKET_MAKERS:
        tl.add(0, "deposit", account=mm, asset="USDC", amount="12000000")
        tl.add(0, "deposit", account=mm, asset="USDE", amount="12000000")
    for retail in ("retail1", "retail2", "retail3"):
        tl.add(0, "deposit", account=retail, asset="USDC", amount="500000")
        tl.add(0, "deposit", account=retail, asset="USDE", amount="500000")
    tl.add(0, "deposit", account="whale", asset="USDE", amount="5000000")
    tl.add(0, "deposit", account="whale", asset="USDC", amount="5000000")
    for s in range(0, end_s + 1, 5):
        tl.add(
            s * 1000,
            "index",
            symbol=SYMBOL,
            source="curve",
            price=price_str(Decimal("0.9993") + rng.randint(-3, 3) * TICK),
        )
        tl.add(s * 1000, "index", symbol=SYMBOL, source="ethena_redeem", price="1.0000")
        tl.add(
            s * 1000,
            "index",
            symbol=SYMBOL,
            source="bybit",
            price=price_str(Decimal("0.9992") + rng.randint(-4, 4) * TICK),
        )
    _mm_quotes(tl, rng, until_s=end_s)
    _noise(tl, rng, 30, end_s, ("retail1", "retail2", "retail3"))
    # an ordinary large order: the whale sells 2M and buys it back later; the deep book absorbs it
    tl.add(900_000, "order", account="whale", symbol=SYMBOL, side="sell", type="market", qty="2000000")
    tl.add(1_800_000, "order", account="whale", symbol=SYMBOL, side="buy", type="market", qty="2000000")
    for s in range(1, end_s + 1):
        tl.add(s * 1000, "tick")
    return tl.lines()


# -- the benchmark's long file ------------------------------------------------------------------


def busy_market(n: int, seed: int = 1) -> Iterator[dict]:
    """Yield ``n`` lines of a busy calm market: re-quotes, crossing trades, index posts, ticks."""
    rng = random.Random(seed)
    header = Timeline()
    _listing(header)
    makers = [f"mm{i}" for i in range(1, 9)]
    takers = [f"trader{i}" for i in range(1, 33)]
    for account in makers + takers:
        header.add(0, "deposit", account=account, asset="USDC", amount="1000000000")
        header.add(0, "deposit", account=account, asset="USDE", amount="1000000000")
    emitted = 0
    for line in header.lines():
        if emitted == n:
            return
        yield line
        emitted += 1
    live: dict[str, list[str]] = {m: [] for m in makers}
    t_ms = 1_000
    seq = 0
    while emitted < n:
        t_ms += 10
        roll = rng.random()
        if t_ms % 1_000 == 0:
            line = {"t": _t(t_ms), "cmd": "tick"}
        elif t_ms % 5_000 == 10:
            px = Decimal("0.9993") + rng.randint(-3, 3) * TICK
            line = {
                "t": _t(t_ms),
                "cmd": "index",
                "symbol": SYMBOL,
                "source": "curve",
                "price": price_str(px),
            }
        elif roll < 0.55 and len(live[makers[int(roll * 1000) % len(makers)]]) < 250:
            mm = makers[int(roll * 1000) % len(makers)]
            seq += 1
            side = "buy" if rng.random() < 0.5 else "sell"
            offset = rng.randint(1, 40) * TICK
            px = Decimal("0.9995") - offset if side == "buy" else Decimal("0.9995") + offset
            oid = f"{mm}-{seq}"
            live[mm].append(oid)
            line = {
                "t": _t(t_ms),
                "cmd": "order",
                "account": mm,
                "symbol": SYMBOL,
                "side": side,
                "type": "limit",
                "price": price_str(px),
                "qty": qty_str(rng.randint(1, 50) * 1_000),
                "tif": "GTC",
                "id": oid,
            }
        elif roll < 0.85 and any(live.values()):
            mm = makers[rng.randrange(len(makers))]
            if not live[mm]:
                continue
            oid = live[mm].pop(rng.randrange(len(live[mm])))
            line = {"t": _t(t_ms), "cmd": "cancel", "account": mm, "id": oid}
        else:
            trader = takers[rng.randrange(len(takers))]
            side = "buy" if rng.random() < 0.5 else "sell"
            line = {
                "t": _t(t_ms),
                "cmd": "order",
                "account": trader,
                "symbol": SYMBOL,
                "side": side,
                "type": "market",
                "qty": qty_str(rng.randint(1, 20) * 1_000),
            }
        yield line
        emitted += 1


def write_jsonl(lines: Iterable[dict], path: Path) -> int:
    """Write one JSON object per line; return the number of lines."""
    count = 0
    with open(path, "w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line, separators=(", ", ": ")))
            fh.write("\n")
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Regenerate the shipped scenario files.")
    parser.add_argument("out_dir", type=Path, help="directory to write the scenario files into")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, lines in ((USDE_CRASH_FILE, usde_crash()), (CALM_FILE, calm_market())):
        count = write_jsonl(lines, args.out_dir / name)
        print(f"{args.out_dir / name}: {count} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
