"""The engine: a deterministic sequencer. `apply(command) -> events` is the only way state changes.

Handlers validate everything before they change anything, so a rejected command returns
`[Rejected(...)]` and leaves `state_hash()` as it was. Matching (limit, market, IOC, FOK, post-only,
self-trade prevention, price bands) lives here; the book, accounts, fees and the risk policy are their
own modules. Other parts plug in as `hooks.Module`s (see docs/engine.md).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from . import commands as C
from .accounts import Account, Accounts
from .book import CANCEL_MAKER, CANCEL_TAKER, DECREMENT, STP_MODES, Book, Order
from .commands import BUY, FOK, GTC, IOC, LIMIT, MARKET, SELL, TIFS
from .events import (
    Accepted,
    Amended,
    AssetAdded,
    Balance,
    Cancelled,
    Deposited,
    IndexUpdated,
    MarketAdded,
    Rejected,
    StateChanged,
    Trade,
    WithdrawalRequested,
)
from .fees import PPM, FeeSchedule, VolumeWindow, to_volume
from .hooks import Module
from .markets import CONTINUOUS, HALTED, MARKET_KINDS, Asset, Market
from .spot import SpotRisk

SNAPSHOT_VERSION = 1
BPS = 10_000


class OpenOrder(Order):
    """An order as the engine keeps it: the book's fields plus account, flags, hold and fee state."""

    __slots__ = (
        "acct",
        "symbol",
        "type",
        "tif",
        "post_only",
        "reduce_only",
        "stp",
        "client_id",
        "api",
        "ts",
        "filled",
        "hold_asset",
        "hold",
        "fee_acc",
        "fee_paid",
        "maker_ppm",
        "taker_ppm",
        "max_ppm",
    )

    def __init__(
        self,
        oid: int,
        acct: Account,
        symbol: str,
        is_buy: bool,
        type_: str,
        price: int,
        qty: int,
        tif: str,
        post_only: bool,
        reduce_only: bool,
        stp: str,
        client_id: str | None,
        api: bool,
        ts: int,
        maker_ppm: int,
        taker_ppm: int,
    ) -> None:
        self.oid = oid
        self.owner = acct.name
        self.is_buy = is_buy
        self.price = price
        self.qty = qty
        self.acct = acct
        self.symbol = symbol
        self.type = type_
        self.tif = tif
        self.post_only = post_only
        self.reduce_only = reduce_only
        self.stp = stp
        self.client_id = client_id
        self.api = api
        self.ts = ts
        self.filled = 0
        self.hold_asset = ""
        self.hold = 0
        self.fee_acc = 0  # sum of notional * rate over fills (ppm units)
        self.fee_paid = 0  # ceil(fee_acc / 1e6): fees charged so far (negative: rebates received)
        self.maker_ppm = maker_ppm  # rates are fixed when the order is accepted
        self.taker_ppm = taker_ppm
        # the largest non-negative rate (a conditional is cheaper than `max` on every order)
        top = maker_ppm if maker_ppm > taker_ppm else taker_ppm
        self.max_ppm = top if top > 0 else 0

    @property
    def side(self) -> str:
        return BUY if self.is_buy else SELL

    def to_state(self) -> list:
        return [
            self.oid,
            self.owner,
            self.side,
            self.type,
            self.price,
            self.qty,
            self.tif,
            self.post_only,
            self.reduce_only,
            self.stp,
            self.client_id,
            self.api,
            self.ts,
            self.filled,
            self.hold_asset,
            self.hold,
            self.fee_acc,
            self.fee_paid,
            self.maker_ppm,
            self.taker_ppm,
        ]


def default_modules() -> list[Module]:
    """Return the engine modules in the order their hooks run (risk, the breaker, then the treasury)."""
    from .breaker_module import BreakerModule
    from .risk import RiskModule
    from .treasury import TreasuryModule

    return [RiskModule(), BreakerModule(), TreasuryModule()]


def default_risk() -> SpotRisk:
    """Return the risk policy: spot free-balance checks until the risk engine replaces it."""
    return SpotRisk()


class Engine:
    """Commands in, events out; integer state with a canonical hash."""

    def __init__(
        self,
        modules: list[Module] | None = None,
        fee_schedule: FeeSchedule | None = None,
        risk: SpotRisk | None = None,
    ) -> None:
        self.assets: dict[str, Asset] = {}
        self.markets: dict[str, Market] = {}
        self.accounts = Accounts()
        self.fee_schedule = fee_schedule or FeeSchedule()
        self.risk = default_risk() if risk is None else risk
        self.now = 0  # ts of the last accepted command
        self.next_oid = 1
        self.next_tid = 1
        self.next_wid = 1
        self.deposit_refs: set[str] = set()
        self.modules: list[Module] = default_modules() if modules is None else list(modules)
        self._trades: list[tuple[Market, Trade]] = []  # this command's trades, for on_trade hooks
        self._steps: list = []  # scratch list the book reports fills and STP cancels into
        self.handlers: dict[type, Any] = {
            C.AddAsset: self._on_asset,
            C.AddMarket: self._on_market,
            C.Deposit: self._on_deposit,
            C.Withdraw: self._on_withdraw,
            C.PlaceOrder: self._on_order,
            C.Cancel: self._on_cancel,
            C.CancelAll: self._on_cancel_all,
            C.Amend: self._on_amend,
            C.Index: self._on_index,
            C.Halt: self._on_halt,
            C.Resume: self._on_resume,
            C.Tick: self._on_tick,
            C.Invalid: self._on_invalid,
        }
        self._module_commands: set[type] = set()  # commands whose handler may move a module's next wake
        for module in self.modules:
            owned = module.handlers(self)
            self.handlers.update(owned)
            self._module_commands.update(owned)
        # each hook's bound methods, for the modules that override it (in module order): a module
        # that leaves a hook to `Module` costs nothing on the paths that call it
        self._veto = _first_veto(_hooks(self.modules, "check_order"))  # None: no module vetoes orders
        self._trade_hooks = _hooks(self.modules, "on_trade")
        self._limit_hooks = _hooks(self.modules, "match_limit")
        self._stopped_hooks = _hooks(self.modules, "on_match_stopped")
        self._tick_hooks = _hooks(self.modules, "on_tick")
        self._wake_hooks = _hooks(self.modules, "next_wake")
        self._wake = self._next_wake()

    # -- the one entry point ---------------------------------------------------------------------
    def apply(self, cmd: Any) -> list:
        """Apply one command and return its events. A rejected command changes nothing."""
        ts = cmd.ts
        if ts < self.now:
            return [self.reject(cmd, "ts_backwards", f"ts {ts} is before the engine's time {self.now}")]
        handler = self.handlers.get(cmd.__class__)
        if handler is None:
            return [self.reject(cmd, "unknown_command", f"no handler for {type(cmd).__name__}")]
        if ts >= self._wake:
            out = self._run_timers(ts)
            out.extend(handler(cmd))
        else:
            out = handler(cmd)
        if out and out[0].__class__ is Rejected and len(out) == 1:  # accepted: one test, not two
            return out
        self.now = ts
        if self._trades:
            trades = self._trades
            self._trades = []
            hooks = self._trade_hooks
            if hooks:
                for market, trade in trades:
                    for hook in hooks:
                        hook(self, market, trade, out)
            if self._wake_hooks:
                self._wake = self._next_wake()
        elif cmd.__class__ in self._module_commands:
            self._wake = self._next_wake()
        touched = self.accounts.touched
        if touched:
            for acct, asset in touched:  # in the order the pairs changed
                out.append(Balance(ts, acct.name, asset, acct.balance.get(asset, 0), acct.held.get(asset, 0)))
            touched.clear()
        return out

    def reject(self, cmd: Any, code: str, message: str, ref: str = "") -> Rejected:
        """Return the rejection event for `cmd` (the caller returns `[it]` and changes nothing)."""
        name = cmd.cmd if cmd.__class__ is C.Invalid else cmd.CMD
        return Rejected(cmd.ts, name, getattr(cmd, "account", "") or "", code, message, ref or "")

    def _run_timers(self, ts: int) -> list:
        out: list = []
        for hook in self._tick_hooks:
            hook(self, ts, out)
        self._wake = self._next_wake()
        return out

    def _next_wake(self) -> float:
        wakes = [w for w in (hook() for hook in self._wake_hooks) if w is not None]
        return min(wakes) if wakes else float("inf")

    # -- read-only views for adapters -----------------------------------------------------------------
    def book(self, symbol: str) -> Book:
        return self.markets[symbol].book

    def balance(self, account: str, asset: str) -> int:
        acct = self.accounts.by_name.get(account)
        return acct.balance.get(asset, 0) if acct else 0

    def held(self, account: str, asset: str) -> int:
        acct = self.accounts.by_name.get(account)
        return acct.held.get(asset, 0) if acct else 0

    def open_orders(self, account: str) -> list[OpenOrder]:
        acct = self.accounts.by_name.get(account)
        return sorted(acct.orders.values(), key=lambda o: o.oid) if acct else []

    def order_by_client_id(self, account: str, client_id: str) -> OpenOrder | None:
        acct = self.accounts.by_name.get(account)
        if acct is None or client_id not in acct.client_ids:
            return None
        return acct.orders[acct.client_ids[client_id]]

    # -- registry -------------------------------------------------------------------------------------
    def _on_asset(self, cmd: C.AddAsset) -> list:
        sym = cmd.symbol
        if not isinstance(sym, str) or not sym:
            return [self.reject(cmd, "bad_symbol", "an asset needs a symbol")]
        if sym in self.assets:
            return [self.reject(cmd, "duplicate_asset", f"asset {sym} is already listed", sym)]
        if type(cmd.decimals) is not int or not 0 <= cmd.decimals <= 36:
            return [self.reject(cmd, "bad_decimals", "decimals must be an integer from 0 to 36", sym)]
        w = cmd.collateral_weight_ppm
        if type(w) is not int or not 0 <= w <= PPM:
            return [self.reject(cmd, "bad_collateral_weight", "collateral weight must be within 0..1", sym)]
        self.assets[sym] = Asset(sym, cmd.decimals, w)
        return [AssetAdded(cmd.ts, sym, cmd.decimals, w)]

    def _on_market(self, cmd: C.AddMarket) -> list:
        sym = cmd.symbol
        if not isinstance(sym, str) or not sym:
            return [self.reject(cmd, "bad_symbol", "a market needs a symbol")]
        if sym in self.markets:
            return [self.reject(cmd, "duplicate_market", f"market {sym} is already listed", sym)]
        if cmd.kind not in MARKET_KINDS:
            return [self.reject(cmd, "bad_kind", f"market kind must be one of {MARKET_KINDS}", sym)]
        for asset in (cmd.base, cmd.quote):
            if asset not in self.assets:
                return [self.reject(cmd, "unknown_asset", f"no asset {asset!r}", sym)]
        if cmd.base == cmd.quote:
            return [self.reject(cmd, "bad_market", "base and quote must differ", sym)]
        for name in ("tick", "lot"):
            value = getattr(cmd, name)
            if type(value) is not int or value <= 0:
                return [self.reject(cmd, f"bad_{name}", f"{name} must be a positive integer", sym)]
        min_qty = cmd.min_qty or cmd.lot
        if type(min_qty) is not int or min_qty < 0 or min_qty % cmd.lot:
            return [self.reject(cmd, "bad_min_qty", "minimum size must be a multiple of the lot", sym)]
        if type(cmd.band_bps) is not int or cmd.band_bps <= 0:
            return [self.reject(cmd, "bad_band", "the price band must be positive", sym)]
        if type(cmd.impact_bps) is not int or not 0 < cmd.impact_bps < BPS:
            return [self.reject(cmd, "bad_band", "the impact band must be within (0, 1)", sym)]
        base, quote = self.assets[cmd.base], self.assets[cmd.quote]
        market = Market(sym, cmd.kind, base, quote, cmd.tick, cmd.lot, min_qty, cmd.band_bps, cmd.impact_bps)
        self.markets[sym] = market
        return [MarketAdded(cmd.ts, sym, cmd.kind, cmd.base, cmd.quote, cmd.tick, cmd.lot, min_qty)]

    # -- money in and out ----------------------------------------------------------------------------
    def _on_deposit(self, cmd: C.Deposit) -> list:
        if not isinstance(cmd.account, str) or not cmd.account:
            return [self.reject(cmd, "bad_account", "a deposit needs an account")]
        return self.credit_deposit(cmd, cmd.ref)

    def credit_deposit(self, cmd: Any, reported_ref: str) -> list:
        """Credit `cmd.amount` of `cmd.asset` to `cmd.account` (opened on first use); return the events.

        Refuses an unknown asset, a non-positive amount and a `cmd.ref` already credited (each deposit
        ref counts once). The `deposited` event carries `reported_ref`. The core `deposit` and the
        breaker's priority `dlp_deposit` both credit through here.
        """
        if cmd.asset not in self.assets:
            return [self.reject(cmd, "unknown_asset", f"no asset {cmd.asset!r}", cmd.asset)]
        if type(cmd.amount) is not int or cmd.amount <= 0:
            return [self.reject(cmd, "bad_amount", "the amount must be positive", cmd.asset)]
        if cmd.ref and cmd.ref in self.deposit_refs:
            return [self.reject(cmd, "duplicate_deposit", f"deposit {cmd.ref} was already credited", cmd.ref)]
        if cmd.ref:
            self.deposit_refs.add(cmd.ref)
        acct = self.accounts.open(cmd.account)
        self.accounts.credit(acct, cmd.asset, cmd.amount)
        return [Deposited(cmd.ts, cmd.account, cmd.asset, cmd.amount, reported_ref)]

    def _on_withdraw(self, cmd: C.Withdraw) -> list:
        acct = self.accounts.by_name.get(cmd.account)
        if acct is None:
            return [self.reject(cmd, "unknown_account", f"no account {cmd.account!r}")]
        if cmd.asset not in self.assets:
            return [self.reject(cmd, "unknown_asset", f"no asset {cmd.asset!r}", cmd.asset)]
        if type(cmd.amount) is not int or cmd.amount <= 0:
            return [self.reject(cmd, "bad_amount", "the amount must be positive", cmd.asset)]
        veto = self.risk.check_withdraw(self, acct, cmd.asset, cmd.amount)
        if veto is not None:
            return [self.reject(cmd, veto[0], veto[1], cmd.asset)]
        self.accounts.debit(acct, cmd.asset, cmd.amount)
        wid = self.next_wid
        self.next_wid += 1
        return [WithdrawalRequested(cmd.ts, wid, cmd.account, cmd.asset, cmd.amount, cmd.ref)]

    # -- orders ------------------------------------------------------------------------------------
    def _on_order(self, cmd: C.PlaceOrder) -> list:
        market = self.markets.get(cmd.symbol)
        if market is None:
            return [self.reject(cmd, "unknown_market", f"no market {cmd.symbol!r}", cmd.symbol)]
        acct = self.accounts.by_name.get(cmd.account)
        if acct is None:
            return [self.reject(cmd, "unknown_account", f"no account {cmd.account!r}", cmd.client_id)]
        ref = cmd.client_id
        side = cmd.side
        if side == BUY:
            is_buy = True
        elif side == SELL:
            is_buy = False
        else:
            return [self.reject(cmd, "bad_side", "side must be buy or sell", ref)]
        typ = cmd.type
        tif = cmd.tif
        if typ != LIMIT and typ != MARKET:
            return [self.reject(cmd, "bad_type", "type must be limit or market", ref)]
        if tif not in TIFS:
            return [self.reject(cmd, "bad_tif", "time in force must be GTC, IOC or FOK", ref)]
        if cmd.stp not in STP_MODES:
            return [self.reject(cmd, "bad_stp", f"self-trade prevention must be one of {STP_MODES}", ref)]
        qty = cmd.qty
        if type(qty) is not int or qty <= 0 or qty % market.lot or qty < market.min_qty:
            veto = self._check_size(market, qty)  # `_check_size`'s tests, written out: every order
            return [self.reject(cmd, veto[0], veto[1], ref)]
        price = cmd.price
        book = market.book
        continuous = market.state == CONTINUOUS
        if typ == LIMIT:
            veto = self._check_price(market, price)
            if veto is not None:
                return [self.reject(cmd, veto[0], veto[1], ref)]
            if cmd.post_only:
                if tif != GTC:
                    return [self.reject(cmd, "bad_tif", "a post-only order is GTC", ref)]
                if continuous and book.crosses(is_buy, price):
                    return [self.reject(cmd, "post_only_would_cross", "a post-only order would take", ref)]
        else:
            if price is not None:
                return [self.reject(cmd, "bad_price", "a market order takes no price", ref)]
            if tif == GTC:
                return [self.reject(cmd, "bad_tif", "a market order is IOC or FOK", ref)]
            if cmd.post_only:
                return [self.reject(cmd, "bad_type", "a post-only order is a limit order", ref)]
        client_id = cmd.client_id
        if client_id is not None and client_id in acct.client_ids:
            return [
                self.reject(cmd, "duplicate_client_id", f"an open order already has id {client_id!r}", ref)
            ]
        if not continuous and (typ == MARKET or tif != GTC):
            return [
                self.reject(cmd, "not_continuous", f"{market.symbol} is {market.state}: only GTC limits", ref)
            ]
        # what the order will hold: its size at its limit, or for a market order, what it can take
        hold_qty = qty
        if typ == MARKET:
            ref_price = market.reference_price()
            if ref_price is None:
                ref_price = book.best_ask() if is_buy else book.best_bid()
                if ref_price is None:
                    return [self.reject(cmd, "no_liquidity", "the book is empty on the other side", ref)]
            if is_buy:
                price = ref_price * (BPS + market.impact_bps) // BPS
            else:
                price = -(-ref_price * (BPS - market.impact_bps) // BPS)
        if typ == MARKET or tif == FOK:
            limit = price
            if self._limit_hooks:  # preview the walk the taker will be allowed (a module may cap it)
                probe = OpenOrder(0, acct, market.symbol, is_buy, typ, price, qty, tif, False, False,
                                  cmd.stp, None, False, cmd.ts, 0, 0)  # fmt: skip
                limit = self._match_limit(market, probe)
            can, worst = book.fillable(is_buy, limit, qty, acct.name, cmd.stp)
            if tif == FOK and can < qty:
                return [self.reject(cmd, "fok_unfillable", f"only {can} of {qty} can fill now", ref)]
            if typ == MARKET:
                if can == 0:
                    return [self.reject(cmd, "no_liquidity", "nothing to take within the impact band", ref)]
                price, hold_qty = worst, can
        maker_ppm, taker_ppm = self.fee_schedule.rates(acct.volume.volume(cmd.ts), cmd.api)
        order = OpenOrder(
            0,
            acct,
            market.symbol,
            is_buy,
            typ,
            price,
            qty,
            tif,
            cmd.post_only,
            cmd.reduce_only,
            cmd.stp,
            client_id,
            cmd.api,
            cmd.ts,
            maker_ppm,
            taker_ppm,
        )
        asset, amount = self.risk.hold(market, order, price, hold_qty)
        veto = self.risk.check_order(self, market, acct, order, price, qty, asset, amount)
        if veto is None and self._veto is not None:
            veto = self._veto(self, market, acct, order)
        if veto is not None:
            return [self.reject(cmd, veto[0], veto[1], ref)]
        # -- accepted: from here on, state changes --
        oid = self.next_oid
        self.next_oid = oid + 1
        order.oid = oid
        out: list = [
            Accepted(cmd.ts, oid, acct.name, market.symbol, side, typ, cmd.price, qty, tif, client_id)
        ]
        order.hold_asset = asset
        order.hold = amount
        self.accounts.hold(acct, asset, amount)
        if continuous and book.crosses(is_buy, price):
            self._take(market, order, out, False)
        elif tif == GTC:  # `_rest`, written out: most new orders rest
            book.add(order)
            acct.orders[oid] = order
            if client_id is not None:
                acct.client_ids[client_id] = oid
        else:
            self._close(market, order, cmd.ts, out, "ioc")
        return out

    def _check_size(self, market: Market, qty: Any) -> tuple[str, str] | None:
        # `_on_order` writes these tests out before calling: change both together
        if type(qty) is not int or qty <= 0:
            return "bad_qty", "the size must be a positive integer"
        if qty % market.lot:
            return "bad_lot", f"the size must be a multiple of the lot {market.lot}"
        if qty < market.min_qty:
            return "below_min_qty", f"the size is below the minimum {market.min_qty}"
        return None

    def _check_price(self, market: Market, price: Any) -> tuple[str, str] | None:
        if type(price) is not int or price <= 0:
            return "bad_price", "a limit price must be a positive integer"
        if price % market.tick:
            return "bad_tick", f"the price must be a multiple of the tick {market.tick}"
        ref = market.reference_price()
        if ref is not None and abs(price - ref) * BPS > market.band_bps * ref:
            return (
                "price_out_of_band",
                f"the price is more than {market.band_bps} bps from the reference {ref}",
            )
        return None

    def _rest(self, order: OpenOrder, book: Book | None = None) -> None:
        """Put an order on its market's book (`book`, when the caller has it) and register it with its
        account."""
        if book is None:
            book = self.markets[order.symbol].book
        book.add(order)
        acct = order.acct
        acct.orders[order.oid] = order
        if order.client_id is not None:
            acct.client_ids[order.client_id] = order.oid

    def _finish(self, order: OpenOrder) -> None:
        """Forget an order that has left the book (filled or cancelled) and release what it still holds."""
        acct = order.acct
        if acct.orders.pop(order.oid, None) is not None and order.client_id is not None:
            del acct.client_ids[order.client_id]
        if order.hold:
            self.accounts.release(acct, order.hold_asset, order.hold)
            order.hold = 0

    def _close(self, market: Market, order: OpenOrder, ts: int, out: list, reason: str) -> None:
        """Cancel the open remainder of an order that is not on the book, and finish it."""
        if order.qty:
            out.append(
                Cancelled(ts, order.oid, order.owner, market.symbol, order.client_id, order.qty, 0, reason)
            )
            order.qty = 0
        self._finish(order)

    def _trim_hold(self, market: Market, order: OpenOrder) -> None:
        """Release what an order holds beyond what its open quantity at its price needs."""
        _, need = self.risk.hold(market, order, order.price, order.qty)
        excess = order.hold - need
        if excess > 0:
            self.accounts.release(order.acct, order.hold_asset, excess)
            order.hold = need

    def _take(self, market: Market, order: OpenOrder, out: list, registered: bool) -> None:
        """Match `order` as the taker (it is not on the book), then rest, or cancel, what is left."""
        book = market.book
        steps = self._steps
        before = order.qty
        limit = self._match_limit(market, order) if self._limit_hooks else order.price
        rem = book.match(order.is_buy, limit, before, order.owner, order.stp, steps)
        taker_cancelled = book.taker_cancelled
        ts = out[0].ts
        filled = 0
        for mk, price, q in steps:
            if price is None:
                self._maker_stp(market, mk, q, ts, out)
            else:
                filled += q
                self._fill(market, mk, order, price, q, ts, out)
        steps.clear()
        order.qty = rem
        decremented = before - filled - rem
        symbol = market.symbol
        if decremented:
            out.append(
                Cancelled(ts, order.oid, order.owner, symbol, order.client_id, decremented, rem, "stp")
            )
        if rem and limit != order.price and not taker_cancelled and book.crosses(order.is_buy, order.price):
            for hook in self._stopped_hooks:  # a module's limit stopped the walk (the breaker halts here)
                hook(self, market, order, out)
        if rem and not taker_cancelled and order.tif == GTC and order.type == LIMIT:
            self._trim_hold(market, order)
            if not registered:
                self._rest(order, book)
            else:
                book.add(order)
            return
        if rem:
            if taker_cancelled:
                reason = "stp"
            elif market.state != CONTINUOUS:
                reason = "halt"
            else:
                reason = "market" if order.type == MARKET else "ioc"
            out.append(Cancelled(ts, order.oid, order.owner, symbol, order.client_id, rem, 0, reason))
            order.qty = 0
        self._finish(order)

    def _match_limit(self, market: Market, order: OpenOrder) -> int:
        """Return the taker's limit tightened by any module's `match_limit`."""
        limit = order.price
        for hook in self._limit_hooks:
            cap = hook(self, market, order)
            if cap is not None and ((cap < limit) if order.is_buy else (cap > limit)):
                limit = cap
        return limit

    def _fill(
        self, market: Market, maker: OpenOrder, taker: OpenOrder, price: int, qty: int, ts: int, out: list
    ) -> None:
        """Settle one execution at the maker's price and report it."""
        notional = price * qty // market.unit
        acc = taker.fee_acc + notional * taker.taker_ppm
        paid = -((-acc) // PPM)
        taker_fee = paid - taker.fee_paid
        taker.fee_acc = acc
        taker.fee_paid = paid
        acc = maker.fee_acc + notional * maker.maker_ppm
        paid = -((-acc) // PPM)
        maker_fee = paid - maker.fee_paid
        maker.fee_acc = acc
        maker.fee_paid = paid
        if taker.is_buy:
            self.risk.settle(self, market, taker, maker, qty, notional, taker_fee, maker_fee)
        else:
            self.risk.settle(self, market, maker, taker, qty, notional, maker_fee, taker_fee)
        taker.filled += qty
        maker.filled += qty
        tid = self.next_tid
        self.next_tid = tid + 1
        trade = Trade(
            ts,
            tid,
            market.symbol,
            price,
            qty,
            BUY if taker.is_buy else SELL,
            maker.owner,
            taker.owner,
            maker.oid,
            taker.oid,
            maker_fee,
            taker_fee,
        )
        out.append(trade)
        self._trades.append((market, trade))
        market.last_price = price
        volume = to_volume(notional, market.quote_unit)
        if volume:
            maker.acct.volume.add(ts, volume)
            taker.acct.volume.add(ts, volume)
        if maker.qty == 0:
            self._finish(maker)

    def _maker_stp(self, market: Market, maker: OpenOrder, qty: int, ts: int, out: list) -> None:
        """Report a resting order that self-trade prevention cancelled (or decremented by `qty`)."""
        out.append(
            Cancelled(ts, maker.oid, maker.owner, market.symbol, maker.client_id, qty, maker.qty, "stp")
        )
        if maker.qty == 0:
            self._finish(maker)
        else:
            self._trim_hold(market, maker)

    def _find(self, cmd: Any) -> tuple[Account | None, OpenOrder | None, Rejected | None]:
        acct = self.accounts.by_name.get(cmd.account)
        if acct is None:
            return None, None, self.reject(cmd, "unknown_account", f"no account {cmd.account!r}")
        client_id = cmd.client_id
        oid = acct.client_ids.get(client_id) if client_id is not None else cmd.oid
        order = acct.orders.get(oid) if oid is not None else None
        if order is None:
            ref = client_id if client_id is not None else str(cmd.oid)
            return acct, None, self.reject(cmd, "unknown_order", f"no open order {ref!r}", ref)
        return acct, order, None

    def _on_cancel(self, cmd: C.Cancel) -> list:
        acct, order, rejected = self._find(cmd)
        if rejected is not None:
            return [rejected]
        market = self.markets[order.symbol]
        market.book.remove(order)
        out: list = []
        q = order.qty
        order.qty = 0
        out.append(Cancelled(cmd.ts, order.oid, order.owner, market.symbol, order.client_id, q, 0, "user"))
        self._finish(order)
        return out

    def _on_cancel_all(self, cmd: C.CancelAll) -> list:
        acct = self.accounts.by_name.get(cmd.account)
        if acct is None:
            return [self.reject(cmd, "unknown_account", f"no account {cmd.account!r}")]
        if cmd.symbol is not None and cmd.symbol not in self.markets:
            return [self.reject(cmd, "unknown_market", f"no market {cmd.symbol!r}", cmd.symbol)]
        return self.cancel_orders(acct, cmd.symbol, cmd.ts, "cancel_all")

    def submit_ioc(
        self, market: Market, acct: Account, is_buy: bool, qty: int, price: int, ts: int, out: list
    ) -> OpenOrder:
        """Match an engine-originated IOC limit order (a liquidation) and return it (see `filled`).

        The risk seam: it takes no hold and skips the pre-trade check and the modules' vetoes (the
        caller has decided), pays taker fees like any order, and its trades reach `on_trade` after the
        current command's handler. The caller checks that the market trades continuously.
        """
        maker_ppm, taker_ppm = self.fee_schedule.rates(acct.volume.volume(ts), False)
        oid = self.next_oid
        self.next_oid = oid + 1
        order = OpenOrder(
            oid, acct, market.symbol, is_buy, LIMIT, price, qty, IOC, False, False,
            "cancel_taker", None, False, ts, maker_ppm, taker_ppm,
        )  # fmt: skip
        order.hold_asset = market.quote if is_buy else market.base
        side = BUY if is_buy else SELL
        out.append(Accepted(ts, oid, acct.name, market.symbol, side, LIMIT, price, qty, IOC, None))
        if market.state == CONTINUOUS and market.book.crosses(is_buy, price):
            self._take(market, order, out, False)
        else:
            self._close(market, order, ts, out, "ioc")
        return order

    def cancel_orders(self, acct: Account, symbol: str | None, ts: int, reason: str) -> list:
        """Cancel an account's open orders (one market or all) in order-id order; return the events.

        A seam for risk (liquidation cancels the account's orders) and the breaker.
        """
        out: list = []
        for oid in sorted(acct.orders):
            order = acct.orders[oid]
            if symbol is not None and order.symbol != symbol:
                continue
            market = self.markets[order.symbol]
            market.book.remove(order)
            q = order.qty
            order.qty = 0
            out.append(Cancelled(ts, oid, order.owner, order.symbol, order.client_id, q, 0, reason))
            self._finish(order)
        return out

    def _on_amend(self, cmd: C.Amend) -> list:
        acct, order, rejected = self._find(cmd)
        if rejected is not None:
            return [rejected]
        market = self.markets[order.symbol]
        price = order.price if cmd.price is None else cmd.price
        qty = order.qty if cmd.qty is None else cmd.qty
        veto = None if cmd.qty is None else self._check_size(market, qty)
        if veto is None and price != order.price:
            veto = self._check_price(market, price)
        if veto is not None:
            return [self.reject(cmd, veto[0], veto[1], order.client_id or str(order.oid))]
        book = market.book
        continuous = market.state == CONTINUOUS
        if order.post_only and continuous and price != order.price and book.crosses(order.is_buy, price):
            ref = order.client_id or str(order.oid)
            return [self.reject(cmd, "post_only_would_cross", "a post-only order would take", ref)]
        if price == order.price and qty <= order.qty:
            # a size decrease (or nothing) keeps time priority
            if qty < order.qty:
                order.qty = qty
                self._trim_hold(market, order)
            return [Amended(cmd.ts, order.oid, order.owner, market.symbol, order.client_id, price, qty, True)]
        asset, need = self.risk.hold(market, order, price, qty)
        extra = need - order.hold
        veto = self.risk.check_order(self, market, acct, order, price, qty, asset, extra)
        if veto is None and self._veto is not None:
            veto = self._veto(self, market, acct, order)
        if veto is not None:
            return [self.reject(cmd, veto[0], veto[1], order.client_id or str(order.oid))]
        # a price change or a size increase goes to the back of the queue (and may take liquidity)
        book.remove(order)
        order.price = price
        order.qty = qty
        if extra > 0:
            self.accounts.hold(acct, asset, extra)
        else:
            self.accounts.release(acct, asset, -extra)
        order.hold = need
        out: list = [
            Amended(cmd.ts, order.oid, order.owner, market.symbol, order.client_id, price, qty, False)
        ]
        if continuous and book.crosses(order.is_buy, price):
            self._take(market, order, out, True)
        else:
            book.add(order)
        return out

    # -- prices, trading state, time ------------------------------------------------------------------
    def check_index(self, cmd: C.Index) -> Rejected | None:
        """Return the rejection of an `index` command (unknown market, no source, bad price), or None.

        Shared with the risk module's `index` handler, which replaces the core's.
        """
        if cmd.symbol not in self.markets:
            return self.reject(cmd, "unknown_market", f"no market {cmd.symbol!r}", cmd.symbol)
        if not isinstance(cmd.source, str) or not cmd.source:
            return self.reject(cmd, "bad_source", "an index price needs a source", cmd.symbol)
        if type(cmd.price) is not int or cmd.price <= 0:
            return self.reject(cmd, "bad_price", "an index price must be a positive integer", cmd.symbol)
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
            return [self.reject(cmd, "unknown_market", f"no market {cmd.symbol!r}", cmd.symbol)]
        if market.state == HALTED:
            return [self.reject(cmd, "already_halted", f"{cmd.symbol} is already halted", cmd.symbol)]
        out: list = []
        self.set_trading_state(market, HALTED, cmd.ts, cmd.reason, out)
        return out

    def _on_resume(self, cmd: C.Resume) -> list:
        """Return to continuous trading, uncrossing the book first (the breaker replaces this with
        cool-down and a call auction)."""
        market = self.markets.get(cmd.symbol)
        if market is None:
            return [self.reject(cmd, "unknown_market", f"no market {cmd.symbol!r}", cmd.symbol)]
        if market.state == CONTINUOUS:
            return [self.reject(cmd, "not_halted", f"{cmd.symbol} is already trading", cmd.symbol)]
        out: list = []
        self.set_trading_state(market, CONTINUOUS, cmd.ts, "resume", out)
        self.uncross(market, out)
        return out

    def uncross(self, market: Market, out: list) -> None:
        """Match a crossed book in continuous trading: the later of the two front orders takes."""
        book = market.book
        while book.is_crossed():
            bid = book.level(True, book.best_bid())[0]
            ask = book.level(False, book.best_ask())[0]
            taker = bid if bid.oid > ask.oid else ask
            book.remove(taker)
            self._take(market, taker, out, True)

    def cross(
        self, market: Market, buy: OpenOrder, sell: OpenOrder, price: int, qty: int, ts: int, out: list
    ) -> int:
        """Execute `qty` between two orders resting on the book at `price` (the call auction's seam).

        The older order (lower oid) is the maker for fees. Both orders shrink in place, leave the book
        when filled, and release what they held beyond their open size at their limit (a fill better
        than the limit); the trade settles, is reported and reaches the `on_trade` hooks like any other.
        Returns the quantity traded.

        Two orders of one account never trade: the newer one's `stp` applies as if it had arrived as
        the taker (`cancel_maker` cancels the older, `cancel_taker` the newer, `cancel_both` both,
        `decrement` shrinks both by `qty`), with `cancelled` events of reason `stp`, and nothing
        trades (returns 0). An order that is no longer open (such a cancel took it) is skipped.
        """
        if not buy.qty or not sell.qty:
            return 0
        maker, taker = (buy, sell) if buy.oid < sell.oid else (sell, buy)
        if buy.acct is sell.acct:
            mode = taker.stp
            if mode == DECREMENT:
                self._stp_resting(market, maker, qty, ts, out)
                self._stp_resting(market, taker, qty, ts, out)
            else:
                if mode != CANCEL_TAKER:
                    self._stp_resting(market, maker, maker.qty, ts, out)
                if mode != CANCEL_MAKER:
                    self._stp_resting(market, taker, taker.qty, ts, out)
            return 0
        book = market.book
        for order in (maker, taker):
            if order.qty == qty:
                book.remove(order)
            order.qty -= qty
        self._fill(market, maker, taker, price, qty, ts, out)
        if taker.qty == 0:
            self._finish(taker)
        else:
            self._trim_hold(market, taker)
        if maker.qty:
            self._trim_hold(market, maker)
        return qty

    def _stp_resting(self, market: Market, order: OpenOrder, qty: int, ts: int, out: list) -> None:
        """Cancel `qty` of a resting order for self-trade prevention (all of it: it leaves the book)."""
        if qty >= order.qty:
            qty = order.qty
            market.book.remove(order)
        order.qty -= qty
        self._maker_stp(market, order, qty, ts, out)

    def _on_tick(self, cmd: C.Tick) -> list:
        return self._run_timers(cmd.ts)

    def _on_invalid(self, cmd: C.Invalid) -> list:
        return [Rejected(cmd.ts, cmd.cmd, cmd.account, cmd.code, cmd.message, "")]

    # -- state ---------------------------------------------------------------------------------------
    def to_state(self) -> dict:
        """Return the whole state as canonical JSON-able data (what `snapshot` and `state_hash` cover)."""
        markets = {}
        for sym, m in self.markets.items():
            entry = m.params_state()
            entry["bids"] = [o.to_state() for o in m.book.iter_orders(True)]
            entry["asks"] = [o.to_state() for o in m.book.iter_orders(False)]
            markets[sym] = entry
        accounts = {}
        for name, acct in self.accounts.by_name.items():
            accounts[name] = {
                "balance": {a: v for a, v in acct.balance.items() if v},
                "held": {a: v for a, v in acct.held.items() if v},
                "volume": acct.volume.to_state(),
            }
        return {
            "version": SNAPSHOT_VERSION,
            "now": self.now,
            "next_oid": self.next_oid,
            "next_tid": self.next_tid,
            "next_wid": self.next_wid,
            "assets": {s: a.to_state() for s, a in self.assets.items()},
            "markets": markets,
            "accounts": accounts,
            "fees": {a: v for a, v in self.accounts.fees.items() if v},
            "fee_schedule": self.fee_schedule.to_state(),
            "deposit_refs": sorted(self.deposit_refs),
            "risk": self.risk.to_state(),
            "modules": {m.name: m.to_state() for m in self.modules},
        }

    def snapshot(self) -> bytes:
        """Return the canonical encoding of the whole state (UTF-8 JSON, sorted keys)."""
        return json.dumps(self.to_state(), sort_keys=True, separators=(",", ":")).encode()

    def state_hash(self) -> str:
        """Return the sha256 hex digest of `snapshot()`."""
        return hashlib.sha256(self.snapshot()).hexdigest()

    @classmethod
    def restore(
        cls, data: bytes, modules: list[Module] | None = None, risk: SpotRisk | None = None
    ) -> Engine:
        """Rebuild an engine from `snapshot()` bytes."""
        state = json.loads(data)
        if state.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"snapshot version {state.get('version')} is not {SNAPSHOT_VERSION}")
        eng = cls(modules=modules, fee_schedule=FeeSchedule.from_state(state["fee_schedule"]), risk=risk)
        eng.now = state["now"]
        eng.next_oid = state["next_oid"]
        eng.next_tid = state["next_tid"]
        eng.next_wid = state["next_wid"]
        for sym, (_, decimals, weight) in state["assets"].items():
            eng.assets[sym] = Asset(sym, decimals, weight)
        for name, a in state["accounts"].items():
            acct = eng.accounts.open(name)
            acct.balance.update(a["balance"])
            acct.held.update(a["held"])
            acct.volume = VolumeWindow.from_state(a["volume"])
        for sym, m in state["markets"].items():
            market = Market(
                sym,
                m["kind"],
                eng.assets[m["base"]],
                eng.assets[m["quote"]],
                m["tick"],
                m["lot"],
                m["min_qty"],
                m["band_bps"],
                m["impact_bps"],
            )
            market.state = m["state"]
            market.last_price = m["last_price"]
            market.index_sources = dict(m["index_sources"])
            market.index_price = m["index_price"]
            market.mark_price = m["mark_price"]
            eng.markets[sym] = market
            for row in m["bids"] + m["asks"]:
                eng._rest(_order_from_state(eng.accounts.by_name[row[1]], sym, row))
        eng.accounts.fees.update(state["fees"])
        eng.deposit_refs = set(state["deposit_refs"])
        eng.risk.load_state(state["risk"])
        for module in eng.modules:
            module.load_state(state["modules"].get(module.name))
        eng._wake = eng._next_wake()
        eng.accounts.touched.clear()
        return eng


def _hooks(modules: list[Module], name: str) -> list:
    """Return the bound `name` hooks of the modules that override `Module.name`, in module order."""
    base = getattr(Module, name)
    return [getattr(m, name) for m in modules if getattr(type(m), name, base) is not base]


def _first_veto(hooks: list) -> Any:
    """Return one `check_order(engine, market, acct, order)` that asks `hooks` in order (the first veto
    wins), or None without hooks. A single hook is returned as it is: one call per order, not two."""
    if not hooks:
        return None
    if len(hooks) == 1:
        return hooks[0]

    def veto(engine: Engine, market: Market, acct: Account, order: OpenOrder) -> tuple[str, str] | None:
        for hook in hooks:
            found = hook(engine, market, acct, order)
            if found is not None:
                return found
        return None

    return veto


def _order_from_state(acct: Account, symbol: str, row: list) -> OpenOrder:
    (oid, _, side, typ, price, qty, tif, post_only, reduce_only, stp, client_id, api, ts) = row[:13]
    (filled, hold_asset, hold, fee_acc, fee_paid, maker_ppm, taker_ppm) = row[13:]
    order = OpenOrder(
        oid,
        acct,
        symbol,
        side == BUY,
        typ,
        price,
        qty,
        tif,
        post_only,
        reduce_only,
        stp,
        client_id,
        api,
        ts,
        maker_ppm,
        taker_ppm,
    )
    order.filled = filled
    order.hold_asset = hold_asset
    order.hold = hold
    order.fee_acc = fee_acc
    order.fee_paid = fee_paid
    return order
