"""The seams other parts plug into: engine modules (commands, callbacks, state) and the risk policy.

A `Module` is a subsystem the engine drives: it may own commands (its handlers run like the core's
and may replace a core handler, e.g. the breaker's `resume`), veto orders, react to trades and to the
passage of time, and carries state that `snapshot`/`state_hash` include under its `name`. Modules run
in the fixed order of `Engine.modules`. The engine binds each hook once, when it is built, for the
modules whose class overrides it: a hook left to `Module` costs nothing on the hot path.

The `Risk` policy decides what an order holds, whether an account may place it or withdraw, and how a
trade settles. The core ships `SpotRisk` (free balance, spot settlement); the risk engine replaces it
with cross margin and perpetual settlement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .accounts import Account
    from .engine import Engine, OpenOrder
    from .events import Trade
    from .markets import Market

Veto = tuple[str, str] | None  # (code, message) to reject, or None to let it through


class Module:
    """Base class for an engine module; every method is optional."""

    name = "module"

    def handlers(self, engine: Engine) -> dict[type, Any]:
        """Return `{CommandClass: fn(cmd) -> list[Event]}` for the commands this module owns."""
        return {}

    def check_order(self, engine: Engine, market: Market, acct: Account, order: OpenOrder) -> Veto:
        """Veto a new or amended order after the core's checks, before anything changes."""
        return None

    def on_trade(self, engine: Engine, market: Market, trade: Trade, out: list) -> None:
        """React to one trade after the command that caused it has matched and settled."""

    def match_limit(self, engine: Engine, market: Market, order: OpenOrder) -> int | None:
        """Return a price no worse than which a taker may fill now (None: its own limit). The breaker
        stops a walk before the level that would trip the market."""
        return None

    def on_match_stopped(self, engine: Engine, market: Market, order: OpenOrder, out: list) -> None:
        """A taker stopped at a `match_limit` while it still crosses (the breaker halts the market)."""

    def on_tick(self, engine: Engine, ts: int, out: list) -> None:
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
