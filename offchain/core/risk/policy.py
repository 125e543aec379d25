"""`CrossMarginPolicy`: the engine's risk policy when the risk module is wired (`EngineContext.risk`).

Spot orders of accounts without margin hold and check free balance as the spot policy does; perps and
margin accounts hold nothing and pass the cross-margin check. Settlement moves spot legs out of holds
and perp fills into positions. It reads the risk module through `state.RiskState`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from offchain.core.codes import RejectCode as R
from offchain.core.model.fees import buy_hold
from offchain.core.model.states import PERP, SPOT
from offchain.core.risk.liquidation import liquidation_cluster_ppm as _cluster_ppm
from offchain.core.risk.liquidation import liquidation_price
from offchain.core.risk.margin import Health, Valuation, account_health
from offchain.core.risk.params import PPM, ceil_div
from offchain.core.risk.perps import Position, fill_notional
from offchain.core.risk.spot import SpotRisk, free_balance_veto

if TYPE_CHECKING:
    from offchain.core.model.accounts import Account
    from offchain.core.model.markets import Market
    from offchain.core.model.orders import OpenOrder
    from offchain.core.ports import EngineContext
    from offchain.core.risk.state import RiskState


class CrossMarginPolicy:
    """The engine's risk policy when the risk module is installed (``engine.risk``).

    Seams for the breaker: :meth:`freeze_collateral`, :meth:`unfreeze_collateral`,
    :meth:`liquidation_cluster_ppm`; for adapters: :meth:`health`, :meth:`liquidation_price`,
    :meth:`open_interest`, :meth:`position`.
    """

    name = "cross_margin"

    def __init__(self, module: RiskState) -> None:
        self.module = module
        self.spot = SpotRisk()

    # -- the core's policy interface -----------------------------------------------------------------
    def hold(self, market: Market, order: OpenOrder, price: int, qty: int) -> tuple[str, int]:
        """Spot orders of accounts without margin hold like spot; everything else holds nothing."""
        # asked on every order: `margin_enabled` and `SpotRisk.hold` inlined (tests/core/test_units.py)
        if market.kind == SPOT:
            m = self.module
            if not m.margin.get(order.owner, m.config.spot_margin_default):
                if order.is_buy:  # its cost and the most fees it can pay
                    return market.quote, buy_hold(
                        price, qty, market.unit, order.fee_acc, order.fee_paid, order.max_ppm
                    )
                return market.base, qty  # its size
        return (market.quote if order.is_buy else market.base), 0

    def check_order(
        self,
        engine: EngineContext,
        market: Market,
        acct: Account,
        order: OpenOrder,
        price: int,
        qty: int,
        asset: str,
        extra: int,
    ) -> tuple[str, str] | None:
        """The pre-trade check: free balance (spot, no margin) and cross margin (everything else)."""
        m = self.module
        if market.kind == PERP:
            if order.reduce_only:
                pos = m.position(acct.name, market.symbol).qty
                reduces = (pos < 0) if order.is_buy else (pos > 0)
                if not reduces or qty > abs(pos):
                    return (
                        R.REDUCE_ONLY_WOULD_INCREASE,
                        f"position {pos}: this order would not only reduce it",
                    )
            return self._margin_check(market, acct, order, price, qty, borrow=False)
        if order.reduce_only:
            return R.REDUCE_ONLY_SPOT, "reduce-only applies to perpetual positions, not spot"
        if not m.margin.get(acct.name, m.config.spot_margin_default):  # `margin_enabled` inlined
            # the spot policy's check, of which only the free balance is left to ask here (inlined;
            # `free_balance_veto` words the refusal; tests/core/test_units.py)
            if extra > 0 and acct.balance.get(asset, 0) - acct.held.get(asset, 0) < extra:
                return free_balance_veto(acct, asset, extra)
            if not m.exposed(acct):
                return None
            return self._margin_check(market, acct, order, price, qty, borrow=False)
        return self._margin_check(market, acct, order, price, qty, borrow=True)

    def check_withdraw(
        self, engine: EngineContext, acct: Account, asset: str, amount: int
    ) -> tuple[str, str] | None:
        """Refuse with negative equity; otherwise free balance (no margin) or margin and pool room."""
        m = self.module
        m.dirty.add(acct.name)
        v = m.new_risk_valuation()  # a frozen mark above the live price does not pay out (15.5)
        positions = m.positions_of(acct.name)
        before = account_health(acct.balance, positions, v)
        if before.equity < 0:
            return R.NEGATIVE_EQUITY, f"the account's value is {before.equity}: no withdrawal until it is not"
        if not m.margin_enabled(acct.name):
            veto = self.spot.check_withdraw(engine, acct, asset, amount)
            if veto is not None or not m.exposed(acct):
                return veto
        held = acct.held.get(asset, 0)  # a hold (a DLP's bond) is not withdrawn, not even on margin
        if held and acct.balance.get(asset, 0) - amount < held:
            return R.INSUFFICIENT_BALANCE, f"withdrawing {amount} {asset} atoms would dip into {held} held"
        balances = dict(acct.balance)
        balances[asset] = balances.get(asset, 0) - amount
        after = account_health(balances, positions, v)
        if after.free < 0:
            return (
                R.INSUFFICIENT_MARGIN,
                f"after it the account value {after.equity} is below {after.initial}",
            )
        return self._borrow_room(acct.balance, balances)

    def settle(
        self,
        engine: EngineContext,
        market: Market,
        buy: OpenOrder,
        sell: OpenOrder,
        qty: int,
        notional: int,
        buy_fee: int,
        sell_fee: int,
    ) -> None:
        """Settle one trade: spot legs out of holds where orders hold; perps into positions."""
        accounts = engine.accounts
        quote = market.quote
        if market.kind != PERP:
            # each order's hold gives up what it held for this fill; an order that holds nothing (a
            # margin or liquidation order) gives up nothing (written out: every fill comes here)
            hold = buy.hold
            cost = notional + buy_fee
            buy_used = hold if hold < cost else cost
            if buy_used > 0:
                buy.hold = hold - buy_used
            else:
                buy_used = 0
            hold = sell.hold
            sell_used = hold if hold < qty else qty
            if sell_used > 0:
                sell.hold = hold - sell_used
            else:
                sell_used = 0
            accounts.settle_spot(
                buy.acct, sell.acct, market.base, quote, qty, notional, buy_fee, sell_fee, buy_used, sell_used
            )
            return
        m = self.module
        price = notional * market.unit // qty
        for order, delta in ((buy, qty), (sell, -qty)):
            name = order.acct.name
            m.set_position(name, market.symbol, m.position(name, market.symbol).fill(delta, price, notional))
        accounts.debit(buy.acct, quote, buy_fee)
        accounts.debit(sell.acct, quote, sell_fee)
        fees = accounts.fees
        fees[quote] = fees.get(quote, 0) + buy_fee + sell_fee

    def to_state(self) -> None:
        return None

    def load_state(self, state: Any) -> None:
        pass

    # -- seams -------------------------------------------------------------------------------------
    def freeze_collateral(self, symbol: str, price: int | None = None) -> int | None:
        """Hold a market's collateral (and perp) mark at ``price`` or the last valid reference."""
        ms = self.module.markets.get(symbol)
        if ms is None:
            return None
        frozen = ms.pricing.freeze_collateral(price, self.module.config.collateral_mark_source)
        ms.auto_frozen = False
        self.module.invalidate()
        return frozen

    def unfreeze_collateral(self, symbol: str) -> None:
        """Let a market's collateral mark follow its prices again."""
        ms = self.module.markets.get(symbol)
        if ms is not None:
            ms.pricing.unfreeze_collateral()
            ms.auto_frozen = False
            self.module.invalidate()

    def liquidation_cluster_ppm(
        self, engine: EngineContext, market: Market, price: int, reach_ppm: int
    ) -> int | None:
        """LCE: the share (ppm) of the market's open interest liquidatable within ``reach_ppm`` of ``price``."""
        m = self.module
        if market.symbol not in m.markets:
            return None
        oi = m.open_interest(market.symbol)
        if oi <= 0:
            return 0
        return _cluster_ppm(m.liquidation_exposures(market.symbol), price, reach_ppm, oi)

    def health(self, account: str) -> Health:
        """Return an account's exact health (equity, requirements) at the current prices."""
        return self.module.health(account)

    def position(self, account: str, symbol: str) -> Position:
        return self.module.position(account, symbol)

    def open_interest(self, symbol: str) -> int:
        return self.module.open_interest(symbol)

    def liquidation_price(self, account: str, symbol: str) -> int | None:
        """Return the price of ``symbol`` nearest the current one at which ``account`` is liquidated."""
        m = self.module
        ms = m.markets[symbol]
        v = m.valuation()
        price = v.market_mark.get(symbol) if ms.kind == PERP else v.asset_price.get(ms.base)
        if price is None:
            return None
        acct = m.engine.accounts.by_name.get(account)
        balances = acct.balance if acct is not None else {}
        base = ms.base if ms.kind == SPOT or ms.base in v.asset_price else None
        return liquidation_price(balances, m.positions_of(account), v, symbol, base, price)

    # -- the margin check --------------------------------------------------------------------------
    def _margin_check(
        self, market: Market, acct: Account, order: OpenOrder, price: int, qty: int, borrow: bool
    ) -> tuple[str, str] | None:
        """Accept when, with every same-side open order and this one filled at their limits, the
        account still meets initial margin, or when the order lowers the requirement without lowering
        the free margin (a risk-reducing order is never blocked)."""
        m = self.module
        engine = m.engine
        others = [
            o
            for o in sorted(acct.orders.values(), key=lambda o: o.oid)
            if o.oid != order.oid and o.is_buy == order.is_buy
        ]
        v = m.new_risk_valuation()  # new risk: frozen collateral at most its live price (15.5)
        for mk, p in [(engine.markets[o.symbol], o.price) for o in others] + [(market, price)]:
            v = _price_if_missing(v, m, mk, p)  # a market without a price yet: its orders' prices
        balances = dict(acct.balance)
        positions = dict(m.positions_of(acct.name))
        for other in others:
            self._fill_into(balances, positions, engine.markets[other.symbol], other, other.price, other.qty)
        before = account_health(balances, positions, v)
        current = dict(acct.balance)
        self._fill_into(balances, positions, market, order, price, qty)
        after = account_health(balances, positions, v)
        if after.free < 0 and not (after.initial < before.initial and after.free >= before.free):
            return (
                R.INSUFFICIENT_MARGIN,
                f"with its open orders filled the account value {after.equity} is below the initial margin {after.initial}",
            )
        if borrow:
            return self._borrow_room(current, balances)
        return None

    def _fill_into(
        self, balances: dict, positions: dict, market: Market, order: OpenOrder, price: int, qty: int
    ) -> None:
        notional = fill_notional(qty, price, market.unit)
        fee = ceil_div(notional * order.max_ppm, PPM)
        quote = market.quote
        if market.kind == PERP:
            pos = positions.get(market.symbol, Position())
            positions[market.symbol] = pos.fill(qty if order.is_buy else -qty, price, notional)
            balances[quote] = balances.get(quote, 0) - fee
            return
        sign = 1 if order.is_buy else -1
        balances[market.base] = balances.get(market.base, 0) + sign * qty
        balances[quote] = balances.get(quote, 0) - sign * notional - fee

    def _borrow_room(self, before: dict, after: dict) -> tuple[str, str] | None:
        """Refuse a new voluntary borrow larger than what its pool has left to lend."""
        m = self.module
        for asset in sorted(after):
            more = max(-after[asset], 0) - max(-before.get(asset, 0), 0)
            if more <= 0 or asset not in m.pools:
                continue
            supplied, borrowed = m.pool_totals(asset)
            room = m.pools[asset].borrow_room(supplied, borrowed)
            if more > room:
                return (
                    R.INSUFFICIENT_LIQUIDITY,
                    f"borrowing {more} {asset} atoms, the pool has {room} to lend",
                )
        return None


def _price_if_missing(v: Valuation, m: RiskState, market: Market, price: int) -> Valuation:
    """Return ``v`` with a market that has no price yet valued at ``price`` (an order's limit)."""
    ms = m.markets[market.symbol]
    if ms.kind == PERP and market.symbol not in v.market_mark:
        out = v.with_price(market.symbol, None, price)
        out.markets = {**v.markets, market.symbol: ms.risk}
        out.market_mark[market.symbol] = price
        out.market_unit = {**v.market_unit, market.symbol: ms.unit}
        return out
    if ms.kind == SPOT and ms.base not in v.asset_price and ms.quote == m.config.settlement_asset:
        out = v.with_price(market.symbol, ms.base, price)
        out.asset_price[ms.base] = price
        return out
    return v
