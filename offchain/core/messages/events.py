"""Events: the only output of the engine, in the order things happened. Each class's `EVENT` is its name
in the journal, the API and the replay report.

Events are values: nothing changes one after it is emitted. They are plain slotted dataclasses, not
`frozen=True` ones, because a frozen dataclass takes about five times longer to build and the engine
builds one to four of these per order (`bench/book_core.py`: +30 % engine throughput).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

EVENTS: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make an event known to the codec by its `EVENT` name."""
    if cls.EVENT in EVENTS:
        raise ValueError(f"event {cls.EVENT!r} is registered twice")
    EVENTS[cls.EVENT] = cls
    return cls


@register
@dataclass(slots=True)
class Rejected:
    """A command refused with a stable `code` and a human `message`; nothing changed."""

    EVENT: ClassVar[str] = "rejected"
    ts: int
    cmd: str
    account: str
    code: str
    message: str
    ref: str = ""  # what the command named: client order id, symbol, asset


@register
@dataclass(slots=True)
class AssetAdded:
    EVENT: ClassVar[str] = "asset_added"
    ts: int
    symbol: str
    decimals: int
    collateral_weight_ppm: int


@register
@dataclass(slots=True)
class MarketAdded:
    EVENT: ClassVar[str] = "market_added"
    ts: int
    symbol: str
    kind: str
    base: str
    quote: str
    tick: int
    lot: int
    min_qty: int


@register
@dataclass(slots=True)
class Deposited:
    EVENT: ClassVar[str] = "deposited"
    ts: int
    account: str
    asset: str
    amount: int
    ref: str


@register
@dataclass(slots=True)
class WithdrawalRequested:
    """Free balance debited; the daemon pays `amount` on-chain, idempotently by `wid`."""

    EVENT: ClassVar[str] = "withdrawal_requested"
    ts: int
    wid: int
    account: str
    asset: str
    amount: int
    ref: str


@register
@dataclass(slots=True)
class Accepted:
    """An order passed every check; `oid` is the engine's id for it."""

    EVENT: ClassVar[str] = "accepted"
    ts: int
    oid: int
    account: str
    symbol: str
    side: str
    type: str
    price: int | None
    qty: int
    tif: str
    client_id: str | None


@register
@dataclass(slots=True)
class Trade:
    """One execution at the maker's price. Fees are in the quote asset; a negative fee is a rebate."""

    EVENT: ClassVar[str] = "trade"
    ts: int
    tid: int
    symbol: str
    price: int
    qty: int
    taker_side: str
    maker: str
    taker: str
    maker_oid: int
    taker_oid: int
    maker_fee: int
    taker_fee: int


@register
@dataclass(slots=True)
class Cancelled:
    """`qty` of an order was cancelled; `remaining` stays open (0: the order is gone)."""

    EVENT: ClassVar[str] = "cancelled"
    ts: int
    oid: int
    account: str
    symbol: str
    client_id: str | None
    qty: int
    remaining: int
    reason: str  # user, cancel_all, ioc, market, stp, halt, ...


@register
@dataclass(slots=True)
class Amended:
    """An order's new price and open quantity; `kept_priority` is False when it went to the back."""

    EVENT: ClassVar[str] = "amended"
    ts: int
    oid: int
    account: str
    symbol: str
    client_id: str | None
    price: int
    qty: int
    kept_priority: bool


@register
@dataclass(slots=True)
class Balance:
    """An account's balance and held amount in one asset after a command changed them."""

    EVENT: ClassVar[str] = "balance"
    ts: int
    account: str
    asset: str
    balance: int
    held: int


@register
@dataclass(slots=True)
class IndexUpdated:
    EVENT: ClassVar[str] = "index"
    ts: int
    symbol: str
    source: str
    price: int
    index_price: int


@register
@dataclass(slots=True)
class StateChanged:
    """A market's trading state changed (continuous, halted, cooldown, auction)."""

    EVENT: ClassVar[str] = "state"
    ts: int
    symbol: str
    prev: str
    state: str
    reason: str
