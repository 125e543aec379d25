"""Commands: the only input of the engine. Integers only (atoms, price units, ms); time is `ts`.

Each class's `CMD` is the scenario's `cmd` string. A later part adds a command by defining a dataclass
here (or in its own module) with `register` and a handler on its engine module (see docs/engine.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

COMMANDS: dict[str, type] = {}

from offchain.core.model.states import (  # noqa: E402,F401  (the wire's words, defined once)
    BUY,
    FOK,
    GTC,
    IOC,
    LIMIT,
    MARKET,
    ORDER_TYPES,
    SELL,
    SIDES,
    TIFS,
)


def register(cls: type) -> type:
    """Class decorator: make a command known to the codec by its `CMD` name."""
    if cls.CMD in COMMANDS:
        raise ValueError(f"command {cls.CMD!r} is registered twice")
    COMMANDS[cls.CMD] = cls
    return cls


@register
@dataclass(slots=True, frozen=True)
class AddAsset:
    """List an asset: its decimals and its collateral weight."""

    CMD: ClassVar[str] = "asset"
    ts: int
    symbol: str
    decimals: int
    collateral_weight_ppm: int = 1_000_000


@register
@dataclass(slots=True, frozen=True)
class AddMarket:
    """List a market. `tick` is in price units, `lot` and `min_qty` in base atoms (0: one lot)."""

    CMD: ClassVar[str] = "market"
    ts: int
    symbol: str
    kind: str
    base: str
    quote: str
    tick: int
    lot: int
    min_qty: int = 0
    band_bps: int = 1000
    impact_bps: int = 500


@register
@dataclass(slots=True, frozen=True)
class Deposit:
    """Credit an account (chain watcher or scenario). A non-empty `ref` is accepted once only."""

    CMD: ClassVar[str] = "deposit"
    ts: int
    account: str
    asset: str
    amount: int
    ref: str = ""


@register
@dataclass(slots=True, frozen=True)
class Withdraw:
    """Debit free balance now; the daemon pays the `WithdrawalRequested` event on-chain."""

    CMD: ClassVar[str] = "withdraw"
    ts: int
    account: str
    asset: str
    amount: int
    ref: str = ""


@register
@dataclass(slots=True, frozen=True)
class PlaceOrder:
    """A new order. `price` is None for market orders; `client_id` is unique among open orders."""

    CMD: ClassVar[str] = "order"
    ts: int
    account: str
    symbol: str
    side: str
    type: str
    qty: int
    price: int | None = None
    tif: str = GTC
    post_only: bool = False
    reduce_only: bool = False
    stp: str = "cancel_maker"
    client_id: str | None = None
    api: bool = False


@register
@dataclass(slots=True, frozen=True)
class Cancel:
    """Cancel one open order by client id or by engine order id."""

    CMD: ClassVar[str] = "cancel"
    ts: int
    account: str
    client_id: str | None = None
    oid: int | None = None


@register
@dataclass(slots=True, frozen=True)
class CancelAll:
    """Cancel every open order of an account, in one market or all."""

    CMD: ClassVar[str] = "cancel_all"
    ts: int
    account: str
    symbol: str | None = None


@register
@dataclass(slots=True, frozen=True)
class Amend:
    """Change an open order's price and/or open quantity (None: unchanged)."""

    CMD: ClassVar[str] = "amend"
    ts: int
    account: str
    client_id: str | None = None
    oid: int | None = None
    price: int | None = None
    qty: int | None = None


@register
@dataclass(slots=True, frozen=True)
class Index:
    """One index source's price for a market (the on-chain pool oracle, another venue...)."""

    CMD: ClassVar[str] = "index"
    ts: int
    symbol: str
    source: str
    price: int


@register
@dataclass(slots=True, frozen=True)
class Halt:
    """Operator halt of one market."""

    CMD: ClassVar[str] = "halt"
    ts: int
    symbol: str
    reason: str = "manual"


@register
@dataclass(slots=True, frozen=True)
class Resume:
    """Operator resume of one market (the breaker runs cool-down and auction before continuous)."""

    CMD: ClassVar[str] = "resume"
    ts: int
    symbol: str


@register
@dataclass(slots=True, frozen=True)
class Tick:
    """Advance time: time-driven work (funding, PnL settlement, breaker timers) runs up to `ts`."""

    CMD: ClassVar[str] = "tick"
    ts: int


@register
@dataclass(slots=True, frozen=True)
class Invalid:
    """A wire command the parser could read but not express in integers (unknown market, sub-atom
    precision). The engine answers it with a rejection carrying this code and changes nothing."""

    CMD: ClassVar[str] = "invalid"
    ts: int
    cmd: str
    account: str
    code: str
    message: str
