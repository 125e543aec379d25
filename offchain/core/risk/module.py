"""The risk engine inside the engine: cross margin, perps, auto-lend, settlement, funding, liquidation.

:class:`RiskModule` is the ``hooks.Module`` (named ``risk``, first in hook order). Installing it
replaces the engine's risk policy with :class:`CrossMarginPolicy`, which the core calls for every
order's hold and pre-trade check, every withdrawal and every trade's settlement. The module:

- lists risk state for every asset and market as the core lists them (``asset``/``market`` handlers
  wrap the core's: the exchange's own token with a non-zero weight and insane bands are refused);
- replaces the core's ``index`` handler: weighted median of fresh, close sources; mark; bands;
- adds the commands of ``riskcmds.py`` (``margin``, ``lend``, ``risk_asset``, ``risk_market``,
  ``risk_params``, ``index_source``);
- on every ``tick`` command: prices (index, premium EWMA, mark, volatility, collateral freeze while
  a market is not continuous), interest accrual, funding, the 10-second PnL settlement, and the
  liquidation pass (:mod:`offchain.core.risk.liquidator`); an ``index`` command runs prices and the
  liquidation pass too. Nothing runs on a wake timer, so a rejected command never changes state.

Spot orders of accounts without spot margin (the default) hold their free balance exactly like the
core's spot policy; perp orders, and spot orders of accounts with ``margin`` on, hold nothing and
pass the cross-margin check instead (``insufficient_margin``), and a new voluntary borrow must fit
in its lending pool (``insufficient_liquidity``).
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any

from offchain.core.codes import RejectCode as R
from offchain.core.messages import commands as C
from offchain.core.messages.events import IndexUpdated, Rejected
from offchain.core.messages.risk import (
    CollateralFrozen,
    CollateralUnfrozen,
    FundingPaid,
    IndexSource,
    InterestAccrued,
    PnlSettled,
    PositionChanged,
    RiskAsset,
    RiskConfigured,
    RiskMarket,
    RiskParams,
    SetLend,
    SetMargin,
)
from offchain.core.model.states import CONTINUOUS, PERP, SPOT
from offchain.core.ports import Module
from offchain.core.risk.funding import FundingParams, PremiumAverage, funding_payments
from offchain.core.risk.lending import LendingPool, RateModel
from offchain.core.risk.liquidation import LiquidationParams
from offchain.core.risk.liquidator import Liquidator
from offchain.core.risk.margin import (
    AssetRisk,
    Health,
    MarginTier,
    MarketRisk,
    Valuation,
    WeightTier,
    account_health,
    default_taper,
    default_tiers,
    raise_own_token,
)
from offchain.core.risk.params import ConfigError, require
from offchain.core.risk.perps import Position, settle_all
from offchain.core.risk.policy import CrossMarginPolicy
from offchain.core.risk.pricing import MarketPricing, validate_bands
from offchain.core.risk.revalue import RiskMatrix
from offchain.core.risk.state import MarketState, RiskConfig
from offchain.core.units import mid_or_none

if TYPE_CHECKING:
    from collections.abc import Iterable

    from offchain.core.messages.events import Trade
    from offchain.core.model.accounts import Account
    from offchain.core.model.markets import Market
    from offchain.core.ports import EngineContext


def local_price(market: Market) -> int | None:
    """Return the local book's price: the last trade, else the mid, else None."""
    if market.last_price is not None:
        return market.last_price
    return mid_or_none(market.book.best_bid(), market.book.best_ask())


class RiskModule(Module):
    """Risk state and the hooks that drive it (see the module docstring)."""

    name = "risk"

    def __init__(self, config: RiskConfig | None = None, collateral_mark_source: str | None = None) -> None:
        self.config = config or RiskConfig()
        if collateral_mark_source is not None:
            self.config.collateral_mark_source = collateral_mark_source
        self.config.validate()
        self.assets: dict[str, AssetRisk] = {}
        self.pools: dict[str, LendingPool] = {}
        self.markets: dict[str, MarketState] = {}
        self.positions: dict[str, dict[str, Position]] = {}  # symbol -> account -> position
        self.margin: dict[str, bool] = {}  # explicit spot-margin settings
        self.last_settle_ts: int | None = None
        self.bad_debt: dict[str, int] = {}  # asset -> written off, for the daemon's InsuranceFund.cover
        self.pending_deficit: dict[str, int] = {}  # account -> deficit a halt keeps unliquidated (15.2)
        self.policy = CrossMarginPolicy(self)
        self.liquidator = Liquidator(self)
        self.matrix = RiskMatrix()
        self.dirty: set[str] = set()
        self._valuation: Valuation | None = None
        self._new_risk_valuation: Valuation | None = None

    # -- wiring ----------------------------------------------------------------------------------
    def handlers(self, engine: EngineContext) -> dict[type, Any]:
        """Return the wrapped and new command handlers (the engine must run `self.policy` as its risk
        policy: the composition root, build.py, passes it in)."""
        if engine.risk is not self.policy:
            raise ValueError("the risk module needs its policy as the engine's risk: use build_engine")
        self.engine = engine
        core_asset = engine.handlers[C.AddAsset]
        core_market = engine.handlers[C.AddMarket]
        return {
            C.AddAsset: lambda cmd: self._on_asset(engine, cmd, core_asset),
            C.AddMarket: lambda cmd: self._on_market(engine, cmd, core_market),
            C.Index: lambda cmd: self._on_index(engine, cmd),
            SetMargin: lambda cmd: self._on_margin(engine, cmd),
            SetLend: lambda cmd: self._on_lend(engine, cmd),
            RiskAsset: lambda cmd: self._on_risk_asset(engine, cmd),
            RiskMarket: lambda cmd: self._on_risk_market(engine, cmd),
            RiskParams: lambda cmd: self._on_risk_params(engine, cmd),
            IndexSource: lambda cmd: self._on_index_source(engine, cmd),
        }

    # -- views -----------------------------------------------------------------------------------
    def invalidate(self) -> None:
        """Forget the cached valuation (prices or parameters changed)."""
        self._valuation = None
        self._new_risk_valuation = None

    def valuation(self) -> Valuation:
        """Return the valuation of every asset and market at the current prices (cached)."""
        if self._valuation is not None:
            return self._valuation
        settle = self.config.settlement_asset
        v = Valuation(assets=self.assets)
        if settle in self.assets:
            v.asset_price[settle] = self.assets[settle].unit
        source = self.config.collateral_mark_source
        for symbol in sorted(self.markets):
            ms = self.markets[symbol]
            if ms.kind == PERP:
                mark = ms.pricing.collateral_mark("mark")
                if mark is not None:
                    v.markets[symbol] = ms.risk
                    v.market_mark[symbol] = mark
                    v.market_unit[symbol] = ms.unit
                    v.vol_mult_ppm[symbol] = ms.risk.vol_multiplier_ppm(ms.pricing.vol_ppm)
            elif ms.quote == settle and ms.base not in v.asset_price:
                price = ms.pricing.collateral_mark(source)
                if price is not None:
                    v.asset_price[ms.base] = price
        for symbol in sorted(self.markets):  # an asset traded only as a perp is valued at its mark
            ms = self.markets[symbol]
            if ms.kind == PERP and ms.base not in v.asset_price and symbol in v.market_mark:
                v.asset_price[ms.base] = v.market_mark[symbol]
        self._valuation = v
        return v

    def new_risk_valuation(self) -> Valuation:
        """The valuation for taking value out or adding risk (withdrawals, borrows, new orders): a
        collateral mark frozen by a halt counts at the lower of the frozen mark and the live price
        (the fresh index, else the local price), so that nobody takes value out at a stale high mark
        (issue 15.5). Maintenance and liquidation keep the frozen mark (`valuation`)."""
        if self._new_risk_valuation is not None:
            return self._new_risk_valuation
        v = self.valuation()
        settle = self.config.settlement_asset
        lower: dict[str, int] = {}
        for symbol in sorted(self.markets):
            ms = self.markets[symbol]
            pricing = ms.pricing
            frozen = pricing.frozen_collateral
            if frozen is None or ms.kind == PERP or ms.quote != settle:
                continue
            live = pricing.index if pricing.index is not None else pricing.local
            if live is not None and live < v.asset_price.get(ms.base, live + 1):
                lower[ms.base] = live
        if lower:
            v = replace(v, asset_price={**v.asset_price, **lower})
        self._new_risk_valuation = v
        return v

    def positions_of(self, account: str) -> dict[str, Position]:
        """Return an account's open (or not yet settled) positions by market."""
        out = {}
        for symbol, book in self.positions.items():
            pos = book.get(account)
            if pos is not None and not pos.is_flat:
                out[symbol] = pos
        return out

    def position(self, account: str, symbol: str) -> Position:
        """Return an account's position in a market (flat when it has none)."""
        return self.positions.get(symbol, {}).get(account) or Position()

    def set_position(self, account: str, symbol: str, pos: Position) -> None:
        """Store a position (dropping it when flat) and mark the account for revaluation."""
        book = self.positions.setdefault(symbol, {})
        if pos.is_flat:
            book.pop(account, None)
        else:
            book[account] = pos
        self.dirty.add(account)

    def health(self, account: str, v: Valuation | None = None) -> Health:
        """Return an account's exact health at the current (or given) valuation."""
        acct = self.engine.accounts.by_name.get(account)
        balances = acct.balance if acct is not None else {}
        return account_health(balances, self.positions_of(account), v or self.valuation())

    def margin_enabled(self, account: str) -> bool:
        """True when the account may borrow through spot orders and withdrawals."""
        return self.margin.get(account, self.config.spot_margin_default)

    def exposed(self, acct: Account) -> bool:
        """True when the account has a position or a borrow (otherwise it cannot be under-margined)."""
        # asked on every spot order: plain loops (a generator costs more than the check)
        for amount in acct.balance.values():
            if amount < 0:
                return True
        name = acct.name
        for book in self.positions.values():
            pos = book.get(name)
            if pos is not None and not pos.is_flat:
                return True
        return False

    def pool_totals(self, asset: str) -> tuple[int, int]:
        """Return ``(supplied, borrowed)`` of an asset's pool over every account."""
        pool = self.pools[asset]
        return pool.totals((a.name, a.balance.get(asset, 0)) for a in self.engine.accounts.by_name.values())

    def open_interest(self, symbol: str) -> int:
        """Return a market's open interest as notional (quote atoms) at its mark.

        Perp: the sum of long positions. Spot: the base asset held or borrowed by accounts that
        borrow (the spot-margin exposure that a price move can liquidate).
        """
        ms = self.markets[symbol]
        v = self.valuation()
        if ms.kind == PERP:
            mark = v.market_mark.get(symbol)
            if mark is None:
                return 0
            return sum(p.qty for p in self.positions.get(symbol, {}).values() if p.qty > 0) * mark // ms.unit
        price = v.asset_price.get(ms.base)
        if price is None:
            return 0
        total = 0
        for acct in self.engine.accounts.by_name.values():
            if any(b < 0 for b in acct.balance.values()):
                total += abs(acct.balance.get(ms.base, 0))
        return total * price // self.assets[ms.base].unit

    def liquidation_exposures(self, symbol: str) -> list[tuple[int, int, bool]]:
        """Return ``(liquidation_price, notional, is_long)`` per exposed account (linearised, numpy).

        ``is_long``: the account loses when the price falls (a long, or a holder of the base asset).
        """
        ms = self.markets[symbol]
        self.refresh_matrix()
        v = self.valuation()
        exposure, level = self.matrix.liquidation_levels(v, symbol, ms.base if ms.kind == SPOT else None)
        price = v.market_mark.get(symbol) if ms.kind == PERP else v.asset_price.get(ms.base)
        if price is None:
            return []
        out = []
        j_q = self.matrix.markets.index(symbol) if symbol in self.matrix.markets else None
        j_b = self.matrix.assets.index(ms.base) if ms.base in self.matrix.assets else None
        for i in range(self.matrix.size):
            if exposure[i] <= 0 or level[i] != level[i]:  # NaN: no liquidation price
                continue
            net = 0.0
            if j_q is not None and ms.kind == PERP:
                net += self.matrix.qty[j_q, i]
            if j_b is not None and ms.kind == SPOT:
                net += self.matrix.bal[j_b, i]
            out.append((int(level[i]), int(exposure[i]) * price // ms.unit, net > 0))
        return out

    def refresh_matrix(self) -> None:
        """Copy the accounts changed since the last revaluation into the numpy matrix."""
        if not self.dirty:
            return
        by_name = self.engine.accounts.by_name
        for name in sorted(self.dirty):
            acct = by_name.get(name)
            self.matrix.update(name, acct.balance if acct is not None else {}, self.positions_of(name))
        self.dirty.clear()

    # -- registry handlers -------------------------------------------------------------------------
    def _on_asset(self, engine: EngineContext, cmd: C.AddAsset, core: Any) -> list:
        if cmd.symbol in self.config.own_tokens and cmd.collateral_weight_ppm != 0:
            try:
                raise_own_token(cmd.symbol)
            except ConfigError as err:
                return [engine.reject(cmd, err.code, err.message, cmd.symbol)]
        events = core(cmd)
        if events and isinstance(events[0], Rejected):
            return events
        self.assets[cmd.symbol] = self._asset_risk(cmd.symbol, cmd.decimals, cmd.collateral_weight_ppm)
        self.pools[cmd.symbol] = LendingPool(cmd.symbol)
        self.invalidate()
        return events

    def _asset_risk(self, symbol: str, decimals: int, weight: int) -> AssetRisk:
        settle = self.config.settlement_asset
        taper: tuple[WeightTier, ...] = ()
        if symbol != settle and weight:
            settle_unit = self.assets[settle].unit if settle in self.assets else 10**6
            taper = default_taper(weight, settle_unit)
        return AssetRisk(symbol, decimals, weight, taper, own_token=symbol in self.config.own_tokens)

    def _on_market(self, engine: EngineContext, cmd: C.AddMarket, core: Any) -> list:
        try:
            validate_bands(cmd.band_bps, cmd.impact_bps)
            if cmd.kind == PERP:
                require(
                    cmd.quote == self.config.settlement_asset,
                    R.BAD_MARKET,
                    f"a perpetual settles in {self.config.settlement_asset}, not {cmd.quote}",
                )
        except ConfigError as err:
            return [engine.reject(cmd, err.code, err.message, cmd.symbol)]
        events = core(cmd)
        if events and isinstance(events[0], Rejected):
            return events
        market = engine.markets[cmd.symbol]
        quote_unit = engine.assets[market.quote].unit
        self.markets[cmd.symbol] = MarketState(
            cmd.symbol,
            market.kind,
            market.base,
            market.quote,
            market.unit,
            MarketRisk(default_tiers(self.config.default_max_leverage, quote_unit)),
            MarketPricing(cmd.symbol),
        )
        if market.kind == PERP:
            self.positions.setdefault(cmd.symbol, {})
        self.invalidate()
        return events

    def _on_index(self, engine: EngineContext, cmd: C.Index) -> list:
        rejected = engine.check_index(cmd)
        if rejected is not None:
            return [rejected]
        market = engine.markets[cmd.symbol]
        ms = self.markets[cmd.symbol]
        market.index_sources[cmd.source] = cmd.price
        ms.pricing.post(cmd.source, cmd.price, cmd.ts)
        out: list = []
        self._update_market_price(engine, market, ms, cmd.ts, out)
        index = ms.pricing.index if ms.pricing.index is not None else cmd.price
        out.insert(0, IndexUpdated(cmd.ts, cmd.symbol, cmd.source, cmd.price, index))
        self.invalidate()
        self.liquidator.run(engine, cmd.ts, out)
        return out

    # -- risk commands -----------------------------------------------------------------------------
    def _configured(self, cmd: Any, scope: str, target: str, detail: str = "") -> list:
        self.invalidate()
        return [RiskConfigured(cmd.ts, scope, target, detail)]

    def _on_margin(self, engine: EngineContext, cmd: SetMargin) -> list:
        if cmd.account not in engine.accounts.by_name:
            return [engine.reject(cmd, R.UNKNOWN_ACCOUNT, f"no account {cmd.account!r}")]
        if not isinstance(cmd.enabled, bool):
            return [engine.reject(cmd, R.BAD_PARAM, "enabled must be true or false")]
        self.margin[cmd.account] = cmd.enabled
        return self._configured(cmd, "margin", cmd.account, "on" if cmd.enabled else "off")

    def _on_lend(self, engine: EngineContext, cmd: SetLend) -> list:
        if cmd.account not in engine.accounts.by_name:
            return [engine.reject(cmd, R.UNKNOWN_ACCOUNT, f"no account {cmd.account!r}")]
        if cmd.asset not in self.pools:
            return [engine.reject(cmd, R.UNKNOWN_ASSET, f"no asset {cmd.asset!r}", cmd.asset)]
        if not isinstance(cmd.enabled, bool):
            return [engine.reject(cmd, R.BAD_PARAM, "enabled must be true or false")]
        self.pools[cmd.asset].set_opt_out(cmd.account, not cmd.enabled, cmd.ts)
        return self._configured(cmd, "lend", f"{cmd.account}:{cmd.asset}", "on" if cmd.enabled else "off")

    def _on_risk_asset(self, engine: EngineContext, cmd: RiskAsset) -> list:
        old = self.assets.get(cmd.symbol)
        if old is None:
            return [engine.reject(cmd, R.UNKNOWN_ASSET, f"no asset {cmd.symbol!r}", cmd.symbol)]
        try:
            own = old.own_token if cmd.own_token is None else cmd.own_token
            require(own or cmd.symbol not in self.config.own_tokens, "own_token_collateral",
                    f"{cmd.symbol} is the exchange's own token and stays one")  # fmt: skip
            weight = old.weight_ppm if cmd.collateral_weight_ppm is None else cmd.collateral_weight_ppm
            if cmd.taper is not None:
                taper = tuple(WeightTier(_opt_int(up), _int(w)) for up, w in cmd.taper)
            elif weight != old.weight_ppm:
                taper = self._asset_risk(cmd.symbol, old.decimals, weight).taper
            else:
                taper = old.taper
            new = replace(old, weight_ppm=_int(weight), taper=taper, own_token=bool(own))
            if cmd.borrow_imr_ppm is not None:
                new = replace(new, borrow_imr_ppm=_int(cmd.borrow_imr_ppm))
            if cmd.borrow_mmr_ppm is not None:
                new = replace(new, borrow_mmr_ppm=_int(cmd.borrow_mmr_ppm))
            new.validate()
            model = self.pools[cmd.symbol].model
            changes = {
                "base_ppm": cmd.rate_base_ppm,
                "slope1_ppm": cmd.rate_slope1_ppm,
                "kink_ppm": cmd.rate_kink_ppm,
                "slope2_ppm": cmd.rate_slope2_ppm,
                "reserve_ppm": cmd.rate_reserve_ppm,
            }
            model = replace(model, **{k: _int(v) for k, v in changes.items() if v is not None})
            model.validate()
        except (ConfigError, TypeError, ValueError) as err:
            return [_refused(engine, cmd, err, cmd.symbol)]
        self.assets[cmd.symbol] = new
        self.pools[cmd.symbol].advance(cmd.ts)  # the old curve priced the time until now
        self.pools[cmd.symbol].model = model
        engine.assets[cmd.symbol].collateral_weight_ppm = new.weight_ppm
        return self._configured(cmd, "asset", cmd.symbol)

    def _on_risk_market(self, engine: EngineContext, cmd: RiskMarket) -> list:
        ms = self.markets.get(cmd.symbol)
        if ms is None:
            return [engine.reject(cmd, R.UNKNOWN_MARKET, f"no market {cmd.symbol!r}", cmd.symbol)]
        market = engine.markets[cmd.symbol]
        try:
            quote_unit = engine.assets[market.quote].unit
            tiers = ms.risk.tiers
            if cmd.max_leverage is not None:
                lev = _int(cmd.max_leverage)
                require(0 < lev <= 50, R.LEVERAGE_TOO_HIGH, f"max leverage {lev} outside 1..50x")
                tiers = default_tiers(lev, quote_unit)
            if cmd.tiers is not None:
                tiers = tuple(MarginTier(_opt_int(up), _int(i), _int(m)) for up, i, m in cmd.tiers)
            risk = MarketRisk(
                tiers,
                ms.risk.vol_ref_ppm if cmd.vol_ref_ppm is None else _int(cmd.vol_ref_ppm),
                ms.risk.vol_cap_ppm if cmd.vol_cap_ppm is None else _int(cmd.vol_cap_ppm),
            )
            risk.validate()
            pricing = _replace_some(
                ms.pricing.params,
                premium_band_bps=cmd.premium_band_bps,
                max_age_ms=cmd.max_source_age_ms,
                max_deviation_bps=cmd.max_deviation_bps,
                ewma_window_ms=cmd.ewma_window_ms,
            )
            pricing.validate()
            funding = _replace_some(
                ms.funding,
                interval_ms=cmd.funding_interval_ms,
                cap_ppm=cmd.funding_cap_ppm,
                interest_ppm=cmd.funding_interest_ppm,
                damper_ppm=cmd.funding_damper_ppm,
            )
            funding.validate()
            band = market.band_bps if cmd.band_bps is None else _int(cmd.band_bps)
            impact = market.impact_bps if cmd.impact_bps is None else _int(cmd.impact_bps)
            validate_bands(band, impact)
        except (ConfigError, TypeError, ValueError) as err:
            return [_refused(engine, cmd, err, cmd.symbol)]
        ms.risk = risk
        ms.pricing.params = pricing
        ms.funding = funding
        market.band_bps = band
        market.impact_bps = impact
        return self._configured(cmd, "market", cmd.symbol)

    def _on_risk_params(self, engine: EngineContext, cmd: RiskParams) -> list:
        c = self.config
        try:
            liq = _replace_some(
                c.liquidation, buffer_ppm=cmd.liquidation_buffer_ppm, fee_ppm=cmd.liquidation_fee_ppm
            )
            new = _replace_some(
                c,
                collateral_mark_source=cmd.collateral_mark_source,
                settle_interval_ms=cmd.settle_interval_ms,
                interest_interval_ms=cmd.interest_interval_ms,
                insurance_account=cmd.insurance_account,
                spot_margin_default=cmd.spot_margin_default,
            )
            new.liquidation = liq
            if cmd.own_token is not None:
                asset = self.assets.get(cmd.own_token)
                if asset is not None and asset.weight_ppm:
                    raise_own_token(cmd.own_token)
                new.own_tokens = tuple(sorted({*c.own_tokens, cmd.own_token}))
            new.validate()
        except (ConfigError, TypeError, ValueError) as err:
            return [_refused(engine, cmd, err, "")]
        self.config = new
        if cmd.own_token is not None and cmd.own_token in self.assets:
            self.assets[cmd.own_token] = replace(self.assets[cmd.own_token], own_token=True)
        return self._configured(cmd, "params", "engine")

    def _on_index_source(self, engine: EngineContext, cmd: IndexSource) -> list:
        ms = self.markets.get(cmd.symbol)
        if ms is None:
            return [engine.reject(cmd, R.UNKNOWN_MARKET, f"no market {cmd.symbol!r}", cmd.symbol)]
        if not isinstance(cmd.source, str) or not cmd.source:
            return [engine.reject(cmd, R.BAD_SOURCE, "an index source needs a name", cmd.symbol)]
        try:
            ms.pricing.configure_source(cmd.source, cmd.weight, cmd.max_age_ms)
        except (ConfigError, TypeError) as err:
            return [_refused(engine, cmd, err, cmd.symbol)]
        return self._configured(cmd, "index_source", f"{cmd.symbol}:{cmd.source}")

    # -- trades ------------------------------------------------------------------------------------
    def on_trade(self, engine: EngineContext, market: Market, trade: Trade, out: list) -> None:
        """Report perp positions after a fill; give a market without a price its first one."""
        self.dirty.add(trade.maker)
        self.dirty.add(trade.taker)
        ms = self.markets.get(market.symbol)
        if ms is None:
            return
        if ms.pricing.local is None:
            ms.pricing.local = trade.price
            if not ms.pricing.sources:
                ms.pricing.mark = trade.price
            self.invalidate()
        if ms.kind == PERP:
            for name in (trade.maker, trade.taker):
                pos = self.position(name, market.symbol)
                out.append(PositionChanged(trade.ts, name, market.symbol, pos.qty, pos.entry, pos.quote_open))

    def on_balances(self, engine: EngineContext, ts: int, pairs: Iterable[tuple[Account, str]]) -> None:
        """Checkpoint every changed balance in its lending pool (time-weighted interest, issue 15.6)."""
        pools = self.pools
        for acct, asset in pairs:
            pool = pools.get(asset)
            if pool is None:
                continue
            balance = acct.balance.get(asset, 0)
            cp = pool.points.get(acct.name)
            if (balance == cp.balance) if cp is not None else not balance:
                continue  # a hold moved, not the balance (most orders): nothing to checkpoint
            pool.observe(acct.name, balance, ts)

    # -- time --------------------------------------------------------------------------------------
    def on_tick(self, engine: EngineContext, ts: int, out: list) -> None:
        """Prices, interest, funding, the 10-second settlement and the liquidation pass, in order."""
        for symbol in sorted(self.markets):
            self._update_market_price(engine, engine.markets[symbol], self.markets[symbol], ts, out)
        self.invalidate()
        self._accrue_interest(engine, ts, out)
        self._fund(engine, ts, out)
        self._settle(engine, ts, out)
        self.liquidator.run(engine, ts, out)

    def _update_market_price(
        self, engine: EngineContext, market: Market, ms: MarketState, ts: int, out: list
    ) -> None:
        pricing = ms.pricing
        if self.config.collateral_mark_source == "mark":
            if market.state != CONTINUOUS and pricing.frozen_collateral is None:
                price = pricing.freeze_collateral()
                if price is not None:
                    ms.auto_frozen = True
                    out.append(CollateralFrozen(ts, ms.symbol, price))
            elif market.state == CONTINUOUS and ms.auto_frozen:
                pricing.unfreeze_collateral()
                ms.auto_frozen = False
                out.append(CollateralUnfrozen(ts, ms.symbol))
        pricing.update(ts, local_price(market))
        if pricing.index is not None or pricing.sources:
            market.index_price = pricing.index  # a stale index is no index (15.7): None when none is fresh
        if ms.kind == SPOT and self.config.collateral_mark_source == "book":
            market.mark_price = pricing.local  # bands from its own book (`--naive-bands book`)
        elif pricing.sources:  # bands measure from the index-based mark, naive "local" included (15.9)
            market.mark_price = pricing.mark
        if ms.kind == PERP and market.state == CONTINUOUS:
            ms.premium.sample(ts, pricing.premium_ppm())

    def _credit(self, engine: EngineContext, account: str, asset: str, amount: int) -> None:
        if amount:
            acct = engine.accounts.open(account)
            if amount > 0:
                engine.accounts.credit(acct, asset, amount)
            else:
                engine.accounts.debit(acct, asset, -amount)
            self.dirty.add(account)

    def _accrue_interest(self, engine: EngineContext, ts: int, out: list) -> None:
        accounts = engine.accounts.by_name
        for asset in sorted(self.pools):
            pool = self.pools[asset]
            if (
                pool.last_accrual_ts is not None
                and ts - pool.last_accrual_ts < self.config.interest_interval_ms
            ):
                continue
            balances = {n: a.balance[asset] for n, a in accounts.items() if a.balance.get(asset)}
            accrual = pool.accrue(balances, ts, self.config.insurance_account)
            if accrual is None or not accrual.borrowers_paid:
                continue
            for account in sorted(accrual.deltas):
                self._credit(engine, account, asset, accrual.deltas[account])
            out.append(
                InterestAccrued(
                    ts,
                    asset,
                    accrual.rate_ppm,
                    accrual.utilisation_ppm,
                    accrual.borrowers_paid,
                    accrual.lenders_earned,
                    accrual.protocol,
                )
            )

    def _fund(self, engine: EngineContext, ts: int, out: list) -> None:
        settle = self.config.settlement_asset
        for symbol in sorted(self.markets):
            ms = self.markets[symbol]
            if ms.kind != PERP:
                continue
            if ms.last_funding_ts is None:
                ms.last_funding_ts = ts
                ms.premium.take()
                continue
            if ts - ms.last_funding_ts < ms.funding.interval_ms:
                continue
            ms.last_funding_ts = ts
            premium = ms.premium.take()
            mark = self.valuation().market_mark.get(symbol)
            if mark is None or engine.markets[symbol].state != CONTINUOUS:
                continue  # no funding while halted or unpriced
            rate = ms.funding.rate_ppm(premium)
            qty = {a: p.qty for a, p in self.positions.get(symbol, {}).items() if p.qty}
            deltas = funding_payments(qty, mark, ms.unit, rate)
            for account in sorted(deltas):
                self._credit(engine, account, settle, deltas[account])
            if qty:
                paid = sum(d for d in deltas.values() if d > 0)
                out.append(FundingPaid(ts, symbol, rate, premium, mark, paid))

    def _settle(self, engine: EngineContext, ts: int, out: list) -> None:
        if self.last_settle_ts is not None and ts - self.last_settle_ts < self.config.settle_interval_ms:
            return
        self.last_settle_ts = ts
        v = self.valuation()
        for symbol in sorted(self.positions):
            book = self.positions[symbol]
            mark = v.market_mark.get(symbol)
            if not book or mark is None:
                continue
            pnl = settle_all(book, mark, self.markets[symbol].unit)
            self.settle_accounts(engine, symbol, sorted(book), mark, ts, out)
            if pnl:
                out.append(PnlSettled(ts, symbol, mark, len(pnl), sum(pnl.values())))

    def settle_accounts(
        self, engine: EngineContext, symbol: str, accounts: list[str], mark: int, ts: int, out: list
    ) -> None:
        """Realise the given accounts' PnL in ``symbol`` into the settlement asset at ``mark``.

        A deficit first uses the account's USDC (its supplied balance), then becomes a USDC borrow:
        one balance does both. Collateral is never sold here.
        """
        settle = self.config.settlement_asset
        unit = self.markets[symbol].unit
        for account in accounts:
            pos = self.position(account, symbol)
            amount, new = pos.settled(mark, unit)
            self._credit(engine, account, settle, amount)
            self.set_position(account, symbol, new)
            if new.is_flat and not pos.is_flat and pos.qty == 0:
                out.append(PositionChanged(ts, account, symbol, 0, 0, 0))

    # -- state -------------------------------------------------------------------------------------
    def to_state(self) -> dict:
        """Return the risk state as canonical JSON-able data."""
        c = self.config
        return {
            "config": {
                "collateral_mark_source": c.collateral_mark_source,
                "settlement_asset": c.settlement_asset,
                "insurance_account": c.insurance_account,
                "settle_interval_ms": c.settle_interval_ms,
                "interest_interval_ms": c.interest_interval_ms,
                "spot_margin_default": c.spot_margin_default,
                "own_tokens": list(c.own_tokens),
                "default_max_leverage": c.default_max_leverage,
                "liquidation": [c.liquidation.buffer_ppm, c.liquidation.fee_ppm],
            },
            "assets": {
                s: [
                    a.decimals,
                    a.weight_ppm,
                    [[t.up_to, t.weight_ppm] for t in a.taper],
                    a.own_token,
                    a.borrow_imr_ppm,
                    a.borrow_mmr_ppm,
                ]
                for s, a in self.assets.items()
            },
            "pools": {s: {"model": _fields(p.model), **p.to_state()} for s, p in self.pools.items()},
            "markets": {
                s: {
                    "tiers": [[t.up_to, t.imr_ppm, t.mmr_ppm] for t in m.risk.tiers],
                    "vol": [m.risk.vol_ref_ppm, m.risk.vol_cap_ppm],
                    "pricing": m.pricing.to_state(),
                    "funding": _fields(m.funding),
                    "premium": [
                        m.premium.weighted_sum,
                        m.premium.duration_ms,
                        m.premium.last_ts,
                        m.premium.last_premium,
                    ],
                    "last_funding_ts": m.last_funding_ts,
                    "auto_frozen": m.auto_frozen,
                }
                for s, m in self.markets.items()
            },
            "positions": {
                s: {a: [p.qty, p.quote_open, p.entry] for a, p in book.items()}
                for s, book in self.positions.items()
            },
            "margin": dict(self.margin),
            "last_settle_ts": self.last_settle_ts,
            "bad_debt": dict(self.bad_debt),
            # only when there is one, so that a journal without it keeps its state hash
            **(
                {"pending_deficit": dict(sorted(self.pending_deficit.items()))}
                if self.pending_deficit
                else {}
            ),
        }

    def load_state(self, state: Any) -> None:
        """Restore what :meth:`to_state` returned (markets and assets come from the core's state)."""
        if not state:
            return
        c = state["config"]
        self.config = RiskConfig(
            c["collateral_mark_source"],
            c["settlement_asset"],
            c["insurance_account"],
            c["settle_interval_ms"],
            c["interest_interval_ms"],
            c["spot_margin_default"],
            tuple(c["own_tokens"]),
            c["default_max_leverage"],
            LiquidationParams(*c["liquidation"]),
        )
        self.assets = {
            s: AssetRisk(s, a[0], a[1], tuple(WeightTier(u, w) for u, w in a[2]), a[3], a[4], a[5])
            for s, a in state["assets"].items()
        }
        self.pools = {}
        by_name = self.engine.accounts.by_name
        for s, p in state["pools"].items():
            balances = {n: a.balance[s] for n, a in by_name.items() if a.balance.get(s)}
            self.pools[s] = LendingPool.from_state(s, RateModel(**p["model"]), p, balances)
        self.markets = {}
        for s, m in state["markets"].items():
            market = self.engine.markets[s]
            ms = MarketState(
                s,
                market.kind,
                market.base,
                market.quote,
                market.unit,
                MarketRisk(tuple(MarginTier(*t) for t in m["tiers"]), *m["vol"]),
                MarketPricing.from_state(s, m["pricing"]),
                FundingParams(**m["funding"]),
                PremiumAverage(*m["premium"]),
                m["last_funding_ts"],
                m["auto_frozen"],
            )
            self.markets[s] = ms
        self.positions = {
            s: {a: Position(*p) for a, p in book.items()} for s, book in state["positions"].items()
        }
        self.margin = dict(state["margin"])
        self.last_settle_ts = state["last_settle_ts"]
        self.bad_debt = dict(state["bad_debt"])
        self.pending_deficit = dict(state.get("pending_deficit", {}))
        self.matrix = RiskMatrix()
        self.dirty = set(self.engine.accounts.by_name)
        self.invalidate()


def _refused(engine: EngineContext, cmd: Any, err: Exception, ref: str) -> Rejected:
    if isinstance(err, ConfigError):
        return engine.reject(cmd, err.code, err.message, ref)
    return engine.reject(cmd, R.BAD_PARAM, str(err), ref)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(R.BAD_PARAM, f"expected an integer, got {value!r}")
    return value


def _opt_int(value: Any) -> int | None:
    return None if value is None else _int(value)


def _fields(obj: Any) -> dict:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _replace_some(obj: Any, **changes: Any) -> Any:
    """Return ``replace(obj, ...)`` with the changes that are not None (integers checked)."""
    kept = {}
    for k, v in changes.items():
        if v is None:
            continue
        kept[k] = v if isinstance(v, (str, bool)) else _int(v)
    return replace(obj, **kept)
