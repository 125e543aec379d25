"""The liquidation flow inside the engine (the decisions are :mod:`offchain.core.risk.liquidation`'s).

One pass (after every price update: ``tick`` and ``index`` commands):

1. screen every account at once with numpy (:class:`~offchain.core.risk.revalue.RiskMatrix`), then
   confirm each candidate with exact integers; an account is liquidated only when its exact equity
   is below its exact maintenance requirement;
2. an account whose every exposure sits in a market that is not trading continuously (the breaker
   halted it) is left alone: liquidations and margin calls are suspended there;
3. ``liquidation_started``; the account's orders are cancelled;
4. while below ``initial x (1 + buffer)``: take its largest exposure in a continuous market (perp
   positions first, then borrowed assets to buy back, then collateral to sell for the borrowed
   settlement asset) and send an IOC order of the least size that restores the target at the mark,
   limited to the impact band (``liquidation`` via ``book``; the liquidation fee goes to the
   insurance fund's account). If the book does not take it all (and the market still trades), the
   whole rest of that exposure goes to the backstop, the insurance fund's account, at the
   bankruptcy price as far as the backstop's margin allows (``via backstop``); a perp remainder is
   auto-deleveraged against opposite positions ranked by profit x leverage, also at the bankruptcy
   price (``via adl``);
5. the account's PnL is settled; a settlement-asset debt with nothing left to sell is written off as
   ``bad_debt`` (the daemon covers it with ``InsuranceFund.cover``), also for an account that is
   found with such a bare debt and nothing else;
6. an account below *zero* equity that step 2 leaves alone (a halt) is reported at once as
   ``deficit_pending`` with its deficit, kept in ``pending_deficit`` (shown to the insurance fund and
   operators for the whole halt) and ``deficit_cleared`` once it is liquidated or above zero (issue
   15.2: the rule is to report, not to move it at a bankruptcy price nobody can check while the
   book is halted).

The insurance fund's own account is never liquidated (it is the backstop).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from offchain.core.messages.events import Trade
from offchain.core.messages.risk import (
    BadDebt,
    DeficitCleared,
    DeficitPending,
    Liquidation,
    LiquidationFee,
    LiquidationStarted,
    PositionChanged,
)
from offchain.core.model.states import CONTINUOUS, PERP, SPOT
from offchain.core.risk.liquidation import (
    AdlCandidate,
    adl_rank,
    bankruptcy_price,
    liquidation_fee,
    min_reduction,
    target_reached,
)
from offchain.core.risk.margin import Valuation, account_health, requirement
from offchain.core.risk.params import ceil_div
from offchain.core.risk.perps import Position, fill_notional
from offchain.core.units import impact_limit, on_tick_inward

if TYPE_CHECKING:
    from offchain.core.model.accounts import Account
    from offchain.core.model.markets import Market
    from offchain.core.ports import EngineContext
    from offchain.core.risk.state import RiskState

MAX_STEPS = 32  # reductions per account per pass; every step closes part of an exposure


MAX_PASSES = 4  # liquidation passes per price update (each may liquidate the makers of the last)


class Liquidator:
    """Runs liquidation passes for a :class:`~offchain.core.risk.module.RiskModule`."""

    def __init__(self, module: RiskState) -> None:
        self.m = module

    def run(self, engine: EngineContext, ts: int, out: list) -> None:
        """Liquidate every account below maintenance that can be liquidated now; a liquidation's own
        fills may push its counterparties (makers) under maintenance, so passes repeat (a few at
        most) until one liquidates nobody (issue 15.8: not a tick late)."""
        done: set[str] = set()  # liquidated in this run: a later pass looks only at the others
        for _ in range(MAX_PASSES):
            before = len(done)
            self._pass(engine, ts, out, done)
            if len(done) == before:
                return

    def _pass(self, engine: EngineContext, ts: int, out: list, done: set[str]) -> None:
        m = self.m
        m.refresh_matrix()
        if m.matrix.size == 0:
            return
        insurance = m.config.insurance_account
        pending = m.pending_deficit
        for name in sorted(m.matrix.screen(m.valuation())):
            acct = engine.accounts.by_name.get(name)
            if acct is None or name == insurance or name in done:
                continue
            health = m.health(name)
            if not health.below_maintenance:
                continue  # the float screen is only a filter: the exact integers decide
            if self._pick(engine, acct, m.valuation(), set()) is not None:
                done.add(name)
                self.liquidate(engine, acct, ts, out)
            elif not m.positions_of(name):
                self._write_off(engine, acct, ts, out)  # a bare debt; otherwise halted: suspended
            elif health.equity < 0 and pending.get(name) != -health.equity:
                pending[name] = -health.equity
                out.append(DeficitPending(ts, name, -health.equity))
        for name in sorted(pending):
            if m.health(name).equity >= 0 or not m.positions_of(name):
                out.append(DeficitCleared(ts, name, pending.pop(name)))

    def liquidate(self, engine: EngineContext, acct: Account, ts: int, out: list) -> None:
        """Run the liquidation of one account (see the module docstring)."""
        m = self.m
        name = acct.name
        health = m.health(name)
        out.append(LiquidationStarted(ts, name, health.equity, health.maintenance, health.initial))
        out.extend(engine.cancel_orders(acct, None, ts, "liquidation"))
        done: set[str] = set()
        for _ in range(MAX_STEPS):
            v = m.valuation()
            if target_reached(m.health(name, v), m.config.liquidation.buffer_ppm):
                break
            item = self._pick(engine, acct, v, done)
            if item is None:
                break
            symbol, qty = item
            market = engine.markets[symbol]
            want = self._needed(acct, symbol, qty, v)
            filled = self._through_book(engine, market, acct, qty, want, ts, out)
            if market.state != CONTINUOUS:
                break  # the breaker halted the market under this order: stop here
            if filled and filled >= want:
                continue
            done.add(symbol)
            self._to_backstop(engine, market, acct, ts, out)
            if market.kind == PERP:
                self._adl(engine, market, acct, ts, out)
        self._settle(engine, acct, ts, out)
        self._write_off(engine, acct, ts, out)

    # -- choosing what to reduce --------------------------------------------------------------------
    def exposure(self, acct: Account, symbol: str) -> int:
        """Return the signed exposure of an account in a market: perp position or spot base balance."""
        ms = self.m.markets[symbol]
        if ms.kind == PERP:
            return self.m.position(acct.name, symbol).qty
        return acct.balance.get(ms.base, 0)

    def _pick(
        self, engine: EngineContext, acct: Account, v: Valuation, done: set[str]
    ) -> tuple[str, int] | None:
        """Return ``(market, signed exposure)`` to reduce next, or None when nothing can be."""
        m = self.m
        items: list[tuple[int, int, str, int]] = []
        for symbol, pos in sorted(m.positions_of(acct.name).items()):
            if pos.qty == 0 or symbol in done or engine.markets[symbol].state != CONTINUOUS:
                continue
            mark = v.market_mark.get(symbol)
            if mark is None:
                continue
            req = requirement(pos.notional(mark, m.markets[symbol].unit), v.markets[symbol].tiers, False)
            items.append((0, -req, symbol, pos.qty))
        settle = m.config.settlement_asset
        if any(b < 0 for b in acct.balance.values()):
            for asset, bal in sorted(acct.balance.items()):
                if asset == settle or bal == 0 or asset not in v.asset_price:
                    continue
                symbol = self.spot_market(asset)
                if symbol is None or symbol in done or engine.markets[symbol].state != CONTINUOUS:
                    continue
                value = abs(bal) * v.asset_price[asset] // m.assets[asset].unit
                items.append((1 if bal < 0 else 2, -value, symbol, bal))
        if not items:
            return None
        _, _, symbol, qty = min(items)
        return symbol, qty

    def spot_market(self, asset: str) -> str | None:
        """Return the spot market that trades ``asset`` against the settlement asset, if any."""
        settle = self.m.config.settlement_asset
        for symbol in sorted(self.m.markets):
            ms = self.m.markets[symbol]
            if ms.kind == SPOT and ms.base == asset and ms.quote == settle:
                return symbol
        return None

    def _price(self, symbol: str, v: Valuation) -> int:
        ms = self.m.markets[symbol]
        return v.market_mark[symbol] if ms.kind == PERP else v.asset_price[ms.base]

    def _shifted(self, acct: Account, symbol: str, delta: int, price: int) -> tuple[dict, dict]:
        """Return balances and positions after the exposure changes by ``delta`` (buy > 0) at ``price``.

        A buy pays the notional rounded up, a sale receives it rounded down (perps: the fill's notional).
        """
        m = self.m
        ms = m.markets[symbol]
        balances = dict(acct.balance)
        positions = dict(m.positions_of(acct.name))
        size = abs(delta)
        if ms.kind == PERP:
            notional = fill_notional(size, price, ms.unit)
            positions[symbol] = positions.get(symbol, Position()).fill(delta, price, notional)
        else:
            cash = ceil_div(size * price, ms.unit) if delta > 0 else -fill_notional(size, price, ms.unit)
            balances[ms.base] = balances.get(ms.base, 0) + delta
            balances[ms.quote] = balances.get(ms.quote, 0) - cash
        return balances, positions

    def _needed(self, acct: Account, symbol: str, qty: int, v: Valuation) -> int:
        """Return the least reduction (in lots) that restores initial margin plus the buffer at the mark."""
        m = self.m
        price = self._price(symbol, v)
        buffer = m.config.liquidation.buffer_ppm
        lot = m.engine.markets[symbol].lot

        def ok(d: int) -> bool:
            balances, positions = self._shifted(acct, symbol, -d if qty > 0 else d, price)
            return target_reached(account_health(balances, positions, v), buffer)

        return min_reduction(abs(qty), lot, ok)

    # -- the three ways out -------------------------------------------------------------------------
    def _through_book(
        self, engine: EngineContext, market: Market, acct: Account, qty: int, want: int, ts: int, out: list
    ) -> int:
        """Send an IOC for ``want`` (rounded down to the lot) inside the impact band; return the fill."""
        m = self.m
        size = want - want % market.lot
        ref = market.reference_price()
        if size < max(market.min_qty, 1) or ref is None:
            return 0
        is_buy = qty < 0
        # the impact band's one rounding (inward, `units.impact_limit`), then onto the tick grid
        limit = on_tick_inward(impact_limit(ref, market.impact_bps, is_buy), market.tick, is_buy)
        if limit <= 0:
            return 0
        start = len(out)
        order = engine.submit_ioc(market, acct, is_buy, size, limit, ts, out)
        filled = order.filled
        if not filled:
            return 0
        notional = sum(
            e.price * e.qty // market.unit
            for e in out[start:]
            if isinstance(e, Trade) and e.taker_oid == order.oid
        )
        side = "buy" if is_buy else "sell"
        out.append(
            Liquidation(
                ts, acct.name, market.symbol, side, filled, notional * market.unit // filled, "book", ""
            )
        )
        m.dirty.add(acct.name)
        m.invalidate()
        fee = liquidation_fee(notional, m.config.liquidation.fee_ppm, m.health(acct.name).equity)
        if fee:
            settle = m.config.settlement_asset
            m._credit(engine, acct.name, settle, -fee)
            m._credit(engine, m.config.insurance_account, settle, fee)
            out.append(LiquidationFee(ts, acct.name, settle, fee, m.config.insurance_account))
        return filled

    def _transfer(
        self,
        engine: EngineContext,
        market: Market,
        acct: Account,
        other: str,
        d: int,
        price: int,
        ts: int,
        out: list,
    ) -> None:
        """Move ``d`` of ``acct``'s exposure to ``other`` at ``price`` (a position or balances)."""
        m = self.m
        ms = m.markets[market.symbol]
        qty = self.exposure(acct, market.symbol)
        sign = 1 if qty > 0 else -1
        notional = fill_notional(d, price, ms.unit)
        if ms.kind == PERP:
            for name, delta in ((acct.name, -sign * d), (other, sign * d)):
                pos = m.position(name, market.symbol).fill(delta, price, notional)
                m.set_position(name, market.symbol, pos)
                out.append(PositionChanged(ts, name, market.symbol, pos.qty, pos.entry, pos.quote_open))
        else:
            cash = notional if sign > 0 else ceil_div(d * price, ms.unit)
            m._credit(engine, acct.name, ms.base, -sign * d)
            m._credit(engine, acct.name, ms.quote, sign * cash)
            m._credit(engine, other, ms.base, sign * d)
            m._credit(engine, other, ms.quote, -sign * cash)
        m.dirty.add(acct.name)
        m.dirty.add(other)
        m.invalidate()

    def _to_backstop(self, engine: EngineContext, market: Market, acct: Account, ts: int, out: list) -> int:
        """Hand what is left of the exposure to the backstop at the bankruptcy price, as far as it fits."""
        m = self.m
        backstop = m.config.insurance_account
        keeper = engine.accounts.by_name.get(backstop)
        qty = self.exposure(acct, market.symbol)
        if keeper is None or qty == 0:
            return 0
        v = m.valuation()
        ms = m.markets[market.symbol]
        price = bankruptcy_price(m.health(acct.name, v).equity, qty, self._price(market.symbol, v), ms.unit)
        sign = 1 if qty > 0 else -1

        def fits(d: int) -> bool:
            # the backstop takes the opposite side of the reduction: it buys what the account sells
            balances, positions = self._shifted(keeper, market.symbol, sign * d, price)
            before = account_health(keeper.balance, m.positions_of(backstop), v)
            after = account_health(balances, positions, v)
            return after.free >= 0 or (after.initial < before.initial and after.free >= before.free)

        take = _largest(abs(qty), market.lot, fits)
        if take == 0:
            return 0
        self._transfer(engine, market, acct, backstop, take, price, ts, out)
        side = "sell" if sign > 0 else "buy"
        out.append(Liquidation(ts, acct.name, market.symbol, side, take, price, "backstop", backstop))
        return take

    def _adl(self, engine: EngineContext, market: Market, acct: Account, ts: int, out: list) -> None:
        """Close the rest of a perp position against opposite positions, highest profit x leverage first."""
        m = self.m
        symbol = market.symbol
        qty = self.exposure(acct, symbol)
        if qty == 0:
            return
        v = m.valuation()
        ms = m.markets[symbol]
        mark = v.market_mark[symbol]
        price = bankruptcy_price(m.health(acct.name, v).equity, qty, mark, ms.unit)
        skip = {acct.name, m.config.insurance_account}
        candidates = []
        for other, pos in sorted(m.positions.get(symbol, {}).items()):
            if other in skip or pos.qty == 0 or (pos.qty > 0) == (qty > 0):
                continue
            candidates.append(
                AdlCandidate(
                    other,
                    pos.qty,
                    pos.profit(mark, ms.unit),
                    abs(pos.qty) * pos.entry // ms.unit,
                    pos.notional(mark, ms.unit),
                    m.health(other, v).equity,
                )
            )
        remaining = abs(qty)
        side = "sell" if qty > 0 else "buy"
        for c in adl_rank(candidates):
            d = min(remaining, abs(c.qty))
            self._transfer(engine, market, acct, c.account, d, price, ts, out)
            out.append(Liquidation(ts, acct.name, symbol, side, d, price, "adl", c.account))
            remaining -= d
            if remaining == 0:
                break

    def _settle(self, engine: EngineContext, acct: Account, ts: int, out: list) -> None:
        """Realise the account's PnL in every market so that its balance shows what is left."""
        m = self.m
        v = m.valuation()
        for symbol in sorted(m.positions_of(acct.name)):
            mark = v.market_mark.get(symbol)
            if mark is not None:
                m.settle_accounts(engine, symbol, [acct.name], mark, ts, out)

    def _write_off(self, engine: EngineContext, acct: Account, ts: int, out: list) -> None:
        """Write off a settlement-asset debt that nothing is left to repay (``bad_debt``)."""
        m = self.m
        if m.positions_of(acct.name):
            return
        settle = m.config.settlement_asset
        debt = -acct.balance.get(settle, 0)
        if debt <= 0:
            return
        v = m.valuation()
        for asset, bal in acct.balance.items():
            if asset != settle and (bal < 0 or (bal > 0 and v.asset_price.get(asset))):
                return  # something is left to sell or to buy back: a later pass continues
        pool = m.pools.get(settle)
        if pool is not None:  # the interest it accrued since the last accrual is part of what is lost
            pool.forgive(acct.name, ts)
        m._credit(engine, acct.name, settle, debt)
        m.bad_debt[settle] = m.bad_debt.get(settle, 0) + debt
        out.append(BadDebt(ts, acct.name, settle, debt))


def _largest(size: int, lot: int, fits) -> int:
    """Return the largest multiple of ``lot`` (or ``size``) up to ``size`` for which ``fits`` holds."""
    if fits(size):
        return size
    lo, hi = 0, size // lot  # fits(lo * lot) assumed (0 always), not fits(size)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid * lot):
            lo = mid
        else:
            hi = mid
    return lo * lot
