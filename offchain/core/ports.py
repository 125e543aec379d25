"""The seams other parts plug into: engine modules (commands, callbacks, state) and the risk policy.

A `Module` is a subsystem the engine drives: it may own commands (its handlers run like the core's
and may replace a core handler, e.g. the breaker's `resume`), veto orders, react to trades and to the
passage of time, and carries state that `snapshot`/`state_hash` include under its `name`. Modules run
in the fixed order of `Engine.modules`. The engine binds each hook once, when it is built, for the
modules whose class overrides it: a hook left to `Module` costs nothing on the hot path.

`EngineContext` is the engine as a module sees it and `RiskPolicy` what the engine asks of its risk
policy: modules program against these `Protocol`s and never import engine.py or each other; the
composition root (build.py) hands each module what it needs. The `Risk` policy decides what an order holds, whether an account may place it or withdraw, and how a
trade settles. The core ships `SpotRisk` (free balance, spot settlement); the risk engine replaces it
with cross margin and perpetual settlement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable

    from offchain.core.messages.events import Rejected, Trade
    from offchain.core.model.accounts import Account, Accounts
    from offchain.core.model.fees import FeeSchedule
    from offchain.core.model.markets import Asset, Market
    from offchain.core.model.orders import OpenOrder

Veto = tuple[str, str] | None  # (code, message) to reject, or None to let it through


class RiskPolicy(Protocol):
    """What the engine asks of its risk policy (`risk.spot.SpotRisk`, `risk.module.CrossMarginPolicy`)."""

    name: str

    def hold(self, market: Market, order: OpenOrder, price: int, qty: int) -> tuple[str, int]:
        """Return `(asset, amount)` the order must hold to trade `qty` more at up to `price`."""

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
    ) -> Veto:
        """Veto an order (or its amendment) that needs `extra` more of `asset` held."""

    def check_withdraw(self, engine: EngineContext, acct: Account, asset: str, amount: int) -> Veto:
        """Veto a withdrawal."""

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
        """Settle one trade for both sides."""

    def to_state(self) -> Any: ...

    def load_state(self, state: Any) -> None: ...


class CollateralSeams(Protocol):
    """What the breaker may ask of a risk policy that has collateral marks and liquidations (the
    composition root hands the breaker one when the risk module is wired, else None)."""

    def freeze_collateral(self, symbol: str, price: int | None = None) -> int | None: ...

    def unfreeze_collateral(self, symbol: str) -> None: ...

    def liquidation_cluster_ppm(
        self, engine: EngineContext, market: Market, price: int, reach_ppm: int
    ) -> int | None: ...


class EngineContext(Protocol):
    """The engine as a module sees it: its state (read; change it only through the seams) and the
    seams a module may call. `Engine` implements it; modules never import engine.py."""

    assets: dict[str, Asset]
    markets: dict[str, Market]
    accounts: Accounts
    fee_schedule: FeeSchedule
    risk: RiskPolicy
    now: int
    next_wid: int
    handlers: dict[type, Any]

    def reject(self, cmd: Any, code: str, message: str, ref: str = "") -> Rejected: ...

    def credit_deposit(self, cmd: Any, reported_ref: str) -> list: ...

    def check_index(self, cmd: Any) -> Rejected | None: ...

    def set_trading_state(self, market: Market, state: str, ts: int, reason: str, out: list) -> None: ...

    def cancel_orders(self, acct: Account, symbol: str | None, ts: int, reason: str) -> list: ...

    def submit_ioc(
        self, market: Market, acct: Account, is_buy: bool, qty: int, price: int, ts: int, out: list
    ) -> OpenOrder: ...

    def cross(
        self, market: Market, buy: OpenOrder, sell: OpenOrder, price: int, qty: int, ts: int, out: list
    ) -> int: ...

    def uncross(self, market: Market, out: list) -> None: ...


class Module:
    """Base class for an engine module; every method is optional."""

    name = "module"

    def handlers(self, engine: EngineContext) -> dict[type, Any]:
        """Return `{CommandClass: fn(cmd) -> list[Event]}` for the commands this module owns."""
        return {}

    def check_order(self, engine: EngineContext, market: Market, acct: Account, order: OpenOrder) -> Veto:
        """Veto a new or amended order after the core's checks, before anything changes."""
        return None

    def on_trade(self, engine: EngineContext, market: Market, trade: Trade, out: list) -> None:
        """React to one trade after the command that caused it has matched and settled."""

    def match_limit(self, engine: EngineContext, market: Market, order: OpenOrder) -> int | None:
        """Return a price no worse than which a taker may fill now (None: its own limit). The breaker
        stops a walk before the level that would trip the market."""
        return None

    def on_match_stopped(self, engine: EngineContext, market: Market, order: OpenOrder, out: list) -> None:
        """A taker stopped at a `match_limit` while it still crosses (the breaker halts the market)."""

    def on_balances(self, engine: EngineContext, ts: int, pairs: Iterable[tuple[Account, str]]) -> None:
        """Hear the (account, asset) pairs whose balance or hold this accepted command changed, once,
        at its end, before the balance events (risk checkpoints its lending pools here)."""

    def on_tick(self, engine: EngineContext, ts: int, out: list) -> None:
        """Do time-driven work due at `ts` (on every `tick` command, and before any command at or after
        `next_wake()`)."""

    def next_wake(self) -> int | None:
        """Return the earliest ts at which `on_tick` has work to do, or None."""
        return None

    def to_state(self) -> Any:
        """Return this module's state as canonical JSON-able data (dicts, lists, ints, strings)."""
        return None

    def load_state(self, state: Any) -> None:
        """Restore what `to_state` returned."""
