"""The venue's own commands: listing assets and markets, deposits and withdrawals, index prices,
halt and resume, time (`tick`) and the wire parser's `Invalid`.

`VenueHandlers` is one part of `Engine` (engine.py composes it); the risk, breaker and treasury
modules extend or replace some of these handlers through the composition root (build.py).
"""

from __future__ import annotations

from typing import Any

from offchain.core.codes import RejectCode as R
from offchain.core.matching.book import Book
from offchain.core.messages import commands as C
from offchain.core.messages.events import (
    AssetAdded,
    Deposited,
    IndexUpdated,
    MarketAdded,
    Rejected,
    StateChanged,
    WithdrawalRequested,
)
from offchain.core.model.markets import Asset, Market
from offchain.core.model.states import CONTINUOUS, HALTED, MARKET_KINDS
from offchain.core.units import BPS, MAX_ATOMS, MAX_PRICE, PPM


class VenueHandlers:
    """The core's non-order handlers and the `credit_deposit`/`check_index`/`set_trading_state` seams."""

    # -- registry -------------------------------------------------------------------------------------
    def _on_asset(self, cmd: C.AddAsset) -> list:
        sym = cmd.symbol
        if not isinstance(sym, str) or not sym:
            return [self.reject(cmd, R.BAD_SYMBOL, "an asset needs a symbol")]
        if sym in self.assets:
            return [self.reject(cmd, R.DUPLICATE_ASSET, f"asset {sym} is already listed", sym)]
        if type(cmd.decimals) is not int or not 0 <= cmd.decimals <= 36:
            return [self.reject(cmd, R.BAD_DECIMALS, "decimals must be an integer from 0 to 36", sym)]
        w = cmd.collateral_weight_ppm
        if type(w) is not int or not 0 <= w <= PPM:
            return [self.reject(cmd, R.BAD_COLLATERAL_WEIGHT, "collateral weight must be within 0..1", sym)]
        self.assets[sym] = Asset(sym, cmd.decimals, w)
        return [AssetAdded(cmd.ts, sym, cmd.decimals, w)]

    def _on_market(self, cmd: C.AddMarket) -> list:
        sym = cmd.symbol
        if not isinstance(sym, str) or not sym:
            return [self.reject(cmd, R.BAD_SYMBOL, "a market needs a symbol")]
        if sym in self.markets:
            return [self.reject(cmd, R.DUPLICATE_MARKET, f"market {sym} is already listed", sym)]
        if cmd.kind not in MARKET_KINDS:
            return [self.reject(cmd, R.BAD_KIND, f"market kind must be one of {MARKET_KINDS}", sym)]
        for asset in (cmd.base, cmd.quote):
            if asset not in self.assets:
                return [self.reject(cmd, R.UNKNOWN_ASSET, f"no asset {asset!r}", sym)]
        if cmd.base == cmd.quote:
            return [self.reject(cmd, R.BAD_MARKET, "base and quote must differ", sym)]
        for name in ("tick", "lot"):
            value = getattr(cmd, name)
            if type(value) is not int or value <= 0:
                return [self.reject(cmd, f"bad_{name}", f"{name} must be a positive integer", sym)]
        min_qty = cmd.min_qty or cmd.lot
        if type(min_qty) is not int or min_qty < 0 or min_qty % cmd.lot:
            return [self.reject(cmd, R.BAD_MIN_QTY, "minimum size must be a multiple of the lot", sym)]
        if type(cmd.band_bps) is not int or cmd.band_bps <= 0:
            return [self.reject(cmd, R.BAD_BAND, "the price band must be positive", sym)]
        if type(cmd.impact_bps) is not int or not 0 < cmd.impact_bps < BPS:
            return [self.reject(cmd, R.BAD_BAND, "the impact band must be within (0, 1)", sym)]
        base, quote = self.assets[cmd.base], self.assets[cmd.quote]
        market = Market(
            sym, cmd.kind, base, quote, cmd.tick, cmd.lot, min_qty, cmd.band_bps, cmd.impact_bps, book=Book()
        )
        self.markets[sym] = market
        return [MarketAdded(cmd.ts, sym, cmd.kind, cmd.base, cmd.quote, cmd.tick, cmd.lot, min_qty)]

    # -- money in and out ----------------------------------------------------------------------------
    def _on_deposit(self, cmd: C.Deposit) -> list:
        if not isinstance(cmd.account, str) or not cmd.account:
            return [self.reject(cmd, R.BAD_ACCOUNT, "a deposit needs an account")]
        return self.credit_deposit(cmd, cmd.ref)

    def credit_deposit(self, cmd: Any, reported_ref: str) -> list:
        """Credit `cmd.amount` of `cmd.asset` to `cmd.account` (opened on first use); return the events.

        Refuses an unknown asset, a non-positive amount and a `cmd.ref` already credited (each deposit
        ref counts once). The `deposited` event carries `reported_ref`. The core `deposit` and the
        breaker's priority `dlp_deposit` both credit through here.
        """
        if cmd.asset not in self.assets:
            return [self.reject(cmd, R.UNKNOWN_ASSET, f"no asset {cmd.asset!r}", cmd.asset)]
        if type(cmd.amount) is not int or not 0 < cmd.amount <= MAX_ATOMS:
            return [
                self.reject(cmd, R.BAD_AMOUNT, f"the amount must be from 1 to {MAX_ATOMS} atoms", cmd.asset)
            ]
        if cmd.ref and cmd.ref in self.deposit_refs:
            return [self.reject(cmd, R.DUPLICATE_DEPOSIT, f"deposit {cmd.ref} was already credited", cmd.ref)]
        if cmd.ref:
            self.deposit_refs.add(cmd.ref)
        acct = self.accounts.open(cmd.account)
        self.accounts.credit(acct, cmd.asset, cmd.amount)
        return [Deposited(cmd.ts, cmd.account, cmd.asset, cmd.amount, reported_ref)]

    def _on_withdraw(self, cmd: C.Withdraw) -> list:
        acct = self.accounts.by_name.get(cmd.account)
        if acct is None:
            return [self.reject(cmd, R.UNKNOWN_ACCOUNT, f"no account {cmd.account!r}")]
        if cmd.asset not in self.assets:
            return [self.reject(cmd, R.UNKNOWN_ASSET, f"no asset {cmd.asset!r}", cmd.asset)]
        if type(cmd.amount) is not int or cmd.amount <= 0:
            return [self.reject(cmd, R.BAD_AMOUNT, "the amount must be positive", cmd.asset)]
        veto = self.risk.check_withdraw(self, acct, cmd.asset, cmd.amount)
        if veto is not None:
            return [self.reject(cmd, veto[0], veto[1], cmd.asset)]
        self.accounts.debit(acct, cmd.asset, cmd.amount)
        wid = self.next_wid
        self.next_wid += 1
        return [WithdrawalRequested(cmd.ts, wid, cmd.account, cmd.asset, cmd.amount, cmd.ref)]

    # -- prices, trading state, time ------------------------------------------------------------------
    def check_index(self, cmd: C.Index) -> Rejected | None:
        """Return the rejection of an `index` command (unknown market, no source, bad price), or None.

        Shared with the risk module's `index` handler, which replaces the core's.
        """
        if cmd.symbol not in self.markets:
            return self.reject(cmd, R.UNKNOWN_MARKET, f"no market {cmd.symbol!r}", cmd.symbol)
        if not isinstance(cmd.source, str) or not cmd.source:
            return self.reject(cmd, R.BAD_SOURCE, "an index price needs a source", cmd.symbol)
        if type(cmd.price) is not int or not 0 < cmd.price <= MAX_PRICE:
            return self.reject(
                cmd, R.BAD_PRICE, f"an index price is an integer from 1 to {MAX_PRICE}", cmd.symbol
            )
        return None

    def _on_index(self, cmd: C.Index) -> list:
        rejected = self.check_index(cmd)
        if rejected is not None:
            return [rejected]
        market = self.markets[cmd.symbol]
        market.index_sources[cmd.source] = cmd.price
        prices = sorted(market.index_sources.values())
        market.index_price = prices[(len(prices) - 1) // 2]  # lower median; risk replaces with weights
        return [IndexUpdated(cmd.ts, cmd.symbol, cmd.source, cmd.price, market.index_price)]

    def set_trading_state(self, market: Market, state: str, ts: int, reason: str, out: list) -> None:
        """Move a market to another trading state (the breaker's seam) and report it."""
        prev = market.state
        market.state = state
        out.append(StateChanged(ts, market.symbol, prev, state, reason))

    def _on_halt(self, cmd: C.Halt) -> list:
        market = self.markets.get(cmd.symbol)
        if market is None:
            return [self.reject(cmd, R.UNKNOWN_MARKET, f"no market {cmd.symbol!r}", cmd.symbol)]
        if market.state == HALTED:
            return [self.reject(cmd, R.ALREADY_HALTED, f"{cmd.symbol} is already halted", cmd.symbol)]
        out: list = []
        self.set_trading_state(market, HALTED, cmd.ts, cmd.reason, out)
        return out

    def _on_resume(self, cmd: C.Resume) -> list:
        """Return to continuous trading, uncrossing the book first (the breaker replaces this with
        cool-down and a call auction)."""
        market = self.markets.get(cmd.symbol)
        if market is None:
            return [self.reject(cmd, R.UNKNOWN_MARKET, f"no market {cmd.symbol!r}", cmd.symbol)]
        if market.state == CONTINUOUS:
            return [self.reject(cmd, R.NOT_HALTED, f"{cmd.symbol} is already trading", cmd.symbol)]
        out: list = []
        self.set_trading_state(market, CONTINUOUS, cmd.ts, "resume", out)
        self.uncross(market, out)
        return out

    def _on_tick(self, cmd: C.Tick) -> list:
        return self._run_timers(cmd.ts)

    def _on_invalid(self, cmd: C.Invalid) -> list:
        return [Rejected(cmd.ts, cmd.cmd, cmd.account, cmd.code, cmd.message, "")]
