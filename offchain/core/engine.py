"""The engine: a deterministic sequencer. `apply(command) -> events` is the only way state changes.

Handlers validate everything before they change anything, so a rejected command returns
`[Rejected(...)]` and leaves `state_hash()` as it was. The engine is composed of three parts by job —
`venue.VenueHandlers` (listing, money, index, halt/resume), `matching.orders.OrderFlow` (orders,
matching, fills, STP) and `snapshot.SnapshotState` (canonical state and hash) — and drives the modules
(`ports.Module`) it is given. It imports no module: `build.build_engine(config)` wires them.
"""

from __future__ import annotations

from typing import Any

from offchain.core.codes import RejectCode as R
from offchain.core.matching.book import Book
from offchain.core.matching.orders import OrderFlow
from offchain.core.messages import commands as C
from offchain.core.messages.events import Balance, Rejected, StateChanged, Trade
from offchain.core.model.accounts import Account, Accounts
from offchain.core.model.fees import FeeSchedule
from offchain.core.model.markets import Asset, Market
from offchain.core.model.orders import OpenOrder
from offchain.core.model.states import CONTINUOUS
from offchain.core.ports import Module, RiskPolicy
from offchain.core.snapshot import SNAPSHOT_VERSION, SnapshotState
from offchain.core.venue import VenueHandlers

__all__ = ["Engine", "SNAPSHOT_VERSION"]


class Engine(VenueHandlers, OrderFlow, SnapshotState):
    """Commands in, events out; integer state with a canonical hash.

    The pipeline: `apply(cmd)` runs the modules' timers that are due, the command's handler (the
    venue's, the order flow's, or a module's), the modules' `on_trade` hooks, and reports one balance
    event per changed (account, asset). Build one with `build.build_engine(config)`; `Engine(modules=[],
    risk=SpotRisk())` is the core alone.
    """

    def __init__(
        self,
        modules: list[Module],
        fee_schedule: FeeSchedule | None = None,
        *,
        risk: RiskPolicy,
    ) -> None:
        self.assets: dict[str, Asset] = {}
        self.markets: dict[str, Market] = {}
        self.accounts = Accounts()
        self.fee_schedule = fee_schedule or FeeSchedule()
        self.risk = risk
        self.now = 0  # ts of the last accepted command
        self.next_oid = 1
        self.next_tid = 1
        self.next_wid = 1
        self.deposit_refs: set[str] = set()
        self.modules: list[Module] = list(modules)
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
        self._balance_hooks = _hooks(self.modules, "on_balances")
        self._wake_hooks = _hooks(self.modules, "next_wake")
        self._wake = self._next_wake()

    # -- the one entry point ---------------------------------------------------------------------
    def apply(self, cmd: Any) -> list:
        """Apply one command and return its events. A rejected command changes nothing."""
        ts = cmd.ts
        if ts < self.now:
            return [self.reject(cmd, R.TS_BACKWARDS, f"ts {ts} is before the engine's time {self.now}")]
        handler = self.handlers.get(cmd.__class__)
        if handler is None:
            return [self.reject(cmd, R.UNKNOWN_COMMAND, f"no handler for {type(cmd).__name__}")]
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
            for balance_hook in self._balance_hooks:
                balance_hook(self, ts, touched)
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
        hooks = self._tick_hooks
        for i, hook in enumerate(hooks):
            n = len(out)
            hook(self, ts, out)
            if i and any(e.__class__ is StateChanged and e.state == CONTINUOUS for e in out[n:]):
                # a later module's timer reopened a market: the earlier ones (risk: marks, then
                # liquidations) see the reopened market in this same command, not a tick late (15.8)
                for earlier in hooks[:i]:
                    earlier(self, ts, out)
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
