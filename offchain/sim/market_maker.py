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
    pull_beyond: Decimal = Decimal("0.01")  # a fast market: last trade this far from the index


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

    def fast_market(self, market: dict) -> bool:
        """The last trade is more than `pull_beyond` from the index (a crash): the agent steps back
        (its obligation's clock keeps running: the engine counts that time against it)."""
        index, last = market.get("index_price"), market.get("last_price")
        if not index or not last:
            return False
        return abs(Decimal(last) - Decimal(index)) > Decimal(index) * self.p.pull_beyond

    def step(self, market: dict, trades: list[dict]) -> None:
        state = market.get("state", "continuous")
        if state == "continuous" and self.fast_market(market):
            if self.live:
                log.info("maker steps back: a fast market (last %s, index %s)", market.get("last_price"),
                         market.get("index_price"))  # fmt: skip
                self.cancel()
            return
        if state != "continuous" and market.get("index_price"):  # a halt: quote the index, the DLP's job
            anchor = Decimal(market["index_price"])
        else:
            anchor = self.anchor_price(market, trades)
        if anchor is None:
            return
        moved = self.anchor is None or abs(anchor - self.anchor) >= self.p.tick * self.p.move_ticks
        if not self.live or (moved and time.monotonic() - self._quoted_at >= self.p.requote_s):
            self.quote(anchor)
        self.hedge(anchor)


# -- `python -m offchain.sim.market_maker`: the demo's designated market maker -----------------------
def main(argv: list[str] | None = None) -> int:
    """Fund a devnet wallet, deposit through Custody, get designated by the devnet operator through
    `POST /ops/makers`, then quote and hedge until SIGINT/SIGTERM (or `--seconds`)."""
    import argparse
    import json
    import signal
    import threading
    from pathlib import Path

    from web3 import Web3

    from offchain.api.signing import sign
    from offchain.chain.deployment import Deployment
    from offchain.settings import devnet_account
    from offchain.sim.market import SETUP_GAS, Participant, participant_key

    parser = argparse.ArgumentParser(prog="python -m offchain.sim.market_maker", description=main.__doc__)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--rpc", default="http://127.0.0.1:8545")
    parser.add_argument("--deployment", type=Path)
    parser.add_argument("--symbol", default="USDE-USDC")
    parser.add_argument("--level-notional", default="1000", help="quote units per level per side")
    parser.add_argument("--period", type=int, default=60, help="the obligation's period (seconds)")
    parser.add_argument("--seconds", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    w3 = Web3(Web3.HTTPProvider(args.rpc, request_kwargs={"timeout": 30}))
    deployment = Deployment.load(chain_id=w3.eth.chain_id, path=args.deployment)
    me = Participant("dmm", participant_key(args.seed, "dmm"), w3, args.api)
    base, quote = args.symbol.split("-")
    custody, pool = deployment.contract(w3, "Custody"), deployment.contract(w3, "Pool")
    calls = []
    for symbol in (base, quote):  # 100,000 through Custody to quote, 100,000 in the wallet to hedge
        token = deployment.contract(w3, symbol)
        unit = 10 ** token.functions.decimals().call()
        calls += [token.functions.mint(me.address, 200_000 * unit),
                  token.functions.approve(custody.address, 100_000 * unit),
                  custody.functions.deposit(token.address, 100_000 * unit),
                  token.functions.approve(pool.address, 100_000 * unit)]  # fmt: skip
    w3.provider.make_request("anvil_setBalance", [me.address, hex(100 * 10**18)])
    nonce = w3.eth.get_transaction_count(me.address, "pending")
    gas_price = 2 * w3.eth.gas_price + 1
    sent = []
    for i, call in enumerate(calls):
        tx = call.build_transaction({"from": me.address, "nonce": nonce + i, "gas": SETUP_GAS,
                                     "gasPrice": gas_price, "chainId": w3.eth.chain_id})  # fmt: skip
        sent.append(w3.eth.send_raw_transaction(me.account.sign_transaction(tx).raw_transaction))
    for tx_hash in sent:
        if w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)["status"] != 1:
            raise RuntimeError(f"set-up transaction {tx_hash.hex()} reverted")
    while not stop.is_set() and not me.client.account().get("balances"):
        stop.wait(0.5)  # the daemon credits the deposits after their confirmations

    operator = devnet_account(0)  # a devnet's operator is the daemon's own key
    message = {"account": operator.address, "participant": me.address, "symbol": args.symbol,
               "designated": True, "min_notional": args.level_notional, "levels": LEVELS,
               "max_spread": "0.003", "share": "0.9", "period": args.period,
               "nonce": int(time.time() * 1000), "expiry": int(time.time()) + 600}  # fmt: skip
    signature = sign(me.client.domain, "MakerDesignation", message, operator.key)
    response = me.client.http.post("/ops/makers", json={"designation": message, "signature": signature})
    log.info(
        "designation as market maker of %s: %s %s", args.symbol, response.status_code, response.text[:300]
    )

    program = MakerProgram(symbol=args.symbol, level_notional=Decimal(args.level_notional))
    hedger = PoolHedger(w3, deployment, me.sender, me.address, base, quote)
    agent = MarketMakerAgent(me.client, program, hedger)
    started = time.monotonic()
    last_report = 0.0
    while not stop.is_set() and not (args.seconds and time.monotonic() - started >= args.seconds):
        try:
            market = next(m for m in me.client.markets() if m["symbol"] == args.symbol)
            agent.step(market, me.client.trades(args.symbol, limit=100))
            if time.monotonic() - last_report >= args.period:
                last_report = time.monotonic()
                view = me.client._get(f"/accounts/{me.address}/maker", headers=me.client.auth_headers())
                for row in view.get("markets", []):
                    last = row["history"][-1] if row["history"] else None
                    log.info(
                        "compliance %s: this period %s of the time quoted; last period %s",
                        row["symbol"],
                        row["period"]["share"],
                        last and {k: last[k] for k in ("share", "compliant", "rebate")},
                    )
        except Exception:  # the daemon restarting, a refused request: keep quoting
            log.exception("market maker step failed")
        stop.wait(1.0)
    agent.cancel()
    print(json.dumps({"market_maker": {"requotes": agent.requotes, "hedges": agent.hedges}}), flush=True)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
