"""A designated market maker's agent (seed 001's `LiquidityOptimizer`, issue 20).

It quotes the article's ladder: anchored at the VWAP of the market's recent trades (the index, then
the mid, when nothing has traded), `levels` (5) price levels a side in 0.1 % steps — bid k at
``vwap * (1 - k * step)`` rounded down to the tick, ask k at ``vwap * (1 + k * step)`` rounded up,
k = 1..levels — each level at least `level_notional` quote units (the article: USD 500,000; the
demo's devnet program is smaller), sized up to the lot. Every `requote_s` it replaces the ladder
when the anchor moved; after fills it **hedges** on the on-chain pool when a chain is configured:
the base it bought (sold) beyond `hedge_threshold` is sold (bought) back through `Pool.swap`, so
its inventory stays flat and its quotes can stay on both sides (the obligation needs both).

The pure parts (`vwap`, `ladder`, `hedge_order`) are what the tests check; `MarketMakerAgent` talks
to the API through `offchain.api.client.Client` and to the pool through a `PoolHedger`. Decimal
strings only, never floats.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

log = logging.getLogger("offchain.sim.market_maker")

STEP = Decimal("0.001")  # the article's 0.1 % ladder step
LEVELS = 5


@dataclass
class MakerProgram:
    """What the agent quotes (the obligation it was designated with, plus its own margins)."""

    symbol: str = "USDE-USDC"
    levels: int = LEVELS
    step: Decimal = STEP
    level_notional: Decimal = Decimal("500000")  # quote units per level per side
    tick: Decimal = Decimal("0.0001")
    lot: Decimal = Decimal("1")
    requote_s: float = 10.0
    move_ticks: int = 1  # replace the ladder when the anchor moved at least this many ticks
    hedge_threshold: Decimal = Decimal("1000")  # base units of inventory left unhedged


def vwap(trades: Iterable[tuple[Any, Any]]) -> Decimal | None:
    """Volume-weighted average price of `(price, qty)` pairs (decimal strings or Decimals)."""
    value = volume = Decimal(0)
    for price, qty in trades:
        p, q = Decimal(str(price)), Decimal(str(qty))
        value += p * q
        volume += q
    return value / volume if volume > 0 else None


def _to(value: Decimal, unit: Decimal, rounding: str) -> Decimal:
    return (value / unit).to_integral_value(rounding=rounding) * unit


def ladder(anchor: Decimal, program: MakerProgram) -> list[tuple[str, Decimal, Decimal]]:
    """The ladder around `anchor`: `(side, price, qty)` for k = 1..levels, bids then asks, best first.

    Prices are on the tick, rounded away from the anchor (bids down, asks up), so no level sits
    nearer than k steps; each quantity is the smallest lot multiple worth `level_notional` there."""
    out = []
    for side, sign, rounding in (("buy", -1, ROUND_FLOOR), ("sell", 1, ROUND_CEILING)):
        for k in range(1, program.levels + 1):
            price = _to(anchor * (1 + sign * k * program.step), program.tick, rounding)
            if price <= 0:
                continue
            qty = _to(program.level_notional / price, program.lot, ROUND_CEILING)
            out.append((side, price, qty))
    return out


def hedge_order(exposure: Decimal, threshold: Decimal) -> tuple[str, Decimal] | None:
    """What to do on the pool for a base `exposure` (positive: long): `("sell", qty)` of base,
    `("buy", qty)` of base, or None inside the threshold."""
    if exposure > threshold:
        return "sell", exposure
    if exposure < -threshold:
        return "buy", -exposure
    return None


class PoolHedger:
    """Swaps on the devnet pool from the maker's own wallet (it holds tokens outside Custody)."""

    def __init__(self, w3: Any, deployment: Any, sender: Any, address: str, base: str, quote: str):
        self.w3, self.sender, self.address = w3, sender, address
        self.pool = deployment.contract(w3, "Pool")
        self.base, self.quote = deployment.contract(w3, base), deployment.contract(w3, quote)
        self.decimals = {
            "base": self.base.functions.decimals().call(),
            "quote": self.quote.functions.decimals().call(),
        }

    def swap(self, side: str, qty: Decimal, price: Decimal) -> None:
        """Sell `qty` base for quote (`side="sell"`) or spend about `qty * price` quote on base."""
        if side == "sell":
            token, atoms = self.base, int(qty * 10 ** self.decimals["base"])
        else:
            token, atoms = self.quote, int(qty * price * 10 ** self.decimals["quote"])
        deadline = self.w3.eth.get_block("latest")["timestamp"] + 300
        self.sender.send(self.pool.functions.swap(token.address, atoms, 0, self.address, deadline))


class MarketMakerAgent:
    """Quote the ladder through the API and hedge fills on the pool (module docstring)."""

    def __init__(self, client: Any, program: MakerProgram, hedger: PoolHedger | None = None):
        self.client = client
        self.p = program
        self.hedger = hedger
        self.live: list[str] = []  # client ids of the resting ladder
        self.anchor: Decimal | None = None
        self._quoted_at = 0.0
        self._start_base: Decimal | None = None
        self.hedged = Decimal(0)  # base sold on the pool so far (negative: bought)
        self.hedges = 0
        self.requotes = 0

    def anchor_price(self, market: dict, trades: list[dict]) -> Decimal | None:
        found = vwap(
            (t["price"], t["qty"]) for t in trades if t.get("symbol", self.p.symbol) == self.p.symbol
        )
        if found is not None:
            return found
        for key in ("index_price", "mid", "mark_price", "last_price"):
            if market.get(key):
                return Decimal(market[key])
        return None

    def cancel(self) -> None:
        for cid in self.live:
            try:
                self.client.cancel(client_id=cid)
            except Exception:  # filled or already gone
                pass
        self.live = []

    def quote(self, anchor: Decimal) -> None:
        self.cancel()
        for side, price, qty in ladder(anchor, self.p):
            try:
                placed = self.client.place_order(self.p.symbol, side, str(qty), str(price), post_only=True)
            except Exception as exc:  # refused (post-only would cross, a halt...): the next requote retries
                log.debug("maker %s %s@%s refused: %s", side, qty, price, exc)
                continue
            if placed.get("status") == "open":
                self.live.append(placed["client_id"])
        self.anchor = anchor
        self._quoted_at = time.monotonic()
        self.requotes += 1

    def base_balance(self) -> Decimal:
        base = self.p.symbol.split("-")[0]
        view = self.client.account()
        return Decimal(view.get("balances", {}).get(base, {}).get("balance", "0"))

    def hedge(self, price: Decimal) -> None:
        if self.hedger is None:
            return
        base = self.base_balance()
        if self._start_base is None:
            self._start_base = base
            return
        order = hedge_order(base - self._start_base - self.hedged, self.p.hedge_threshold)
        if order is None:
            return
        side, qty = order
        try:
            self.hedger.swap(side, qty, price)
        except Exception as exc:
            log.warning("pool hedge %s %s failed: %s", side, qty, exc)
            return
        self.hedged += qty if side == "sell" else -qty
        self.hedges += 1
        log.info("maker hedged: %s %s base on the pool", side, qty)

    def step(self, market: dict, trades: list[dict]) -> None:
        anchor = self.anchor_price(market, trades)
        if anchor is None:
            return
        moved = self.anchor is None or abs(anchor - self.anchor) >= self.p.tick * self.p.move_ticks
        if not self.live or (moved and time.monotonic() - self._quoted_at >= self.p.requote_s):
            self.quote(anchor)
        self.hedge(anchor)
