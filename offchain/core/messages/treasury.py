"""The treasury's commands, events and wire parsers (see docs/engine.md, "Treasury")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from offchain.core.codes import RejectCode as R
from offchain.core.messages import commands as C
from offchain.core.messages.events import register as register_event
from offchain.core.messages.wire import _invalid as invalid
from offchain.core.messages.wire import scale, wire

# -- commands -------------------------------------------------------------------------------------


@C.register
@dataclass(slots=True, frozen=True)
class ProtocolState:
    """The on-chain breaker's protocol-wide state, as the chain watcher read it."""

    CMD: ClassVar[str] = "protocol"
    ts: int
    withdrawals_paused: bool
    risk_paused: bool
    reason: str = ""


@C.register
@dataclass(slots=True, frozen=True)
class WithdrawalPaid:
    """Withdrawal `wid` is paid on-chain (transaction `tx`): it is no longer owed."""

    CMD: ClassVar[str] = "withdrawal_paid"
    ts: int
    wid: int
    tx: str = ""


@C.register
@dataclass(slots=True, frozen=True)
class WithdrawalQueued:
    """Custody holds withdrawal `wid` (transaction `tx` queued it): still owed, paid later on-chain."""

    CMD: ClassVar[str] = "withdrawal_queued"
    ts: int
    wid: int
    tx: str = ""


@C.register
@dataclass(slots=True, frozen=True)
class WithdrawalRefunded:
    """Custody refused withdrawal `wid` for good (`reason`): credit the amount back, owe it no more."""

    CMD: ClassVar[str] = "withdrawal_refunded"
    ts: int
    wid: int
    reason: str


@C.register
@dataclass(slots=True, frozen=True)
class CoverPaid:
    """`InsuranceFund.cover` paid `amount` of `asset` into Custody (transaction `tx`)."""

    CMD: ClassVar[str] = "cover_paid"
    ts: int
    asset: str
    amount: int
    tx: str = ""


# -- events ---------------------------------------------------------------------------------------


@register_event
@dataclass(slots=True, frozen=True)
class ProtocolChanged:
    EVENT: ClassVar[str] = "protocol"
    ts: int
    withdrawals_paused: bool
    risk_paused: bool
    reason: str


@register_event
@dataclass(slots=True, frozen=True)
class WithdrawalSettled:
    """A withdrawal left the owed list: paid on-chain by transaction `tx`."""

    EVENT: ClassVar[str] = "withdrawal_paid"
    ts: int
    wid: int
    account: str
    asset: str
    amount: int
    tx: str


@register_event
@dataclass(slots=True, frozen=True)
class WithdrawalHeld:
    """Custody holds a withdrawal until its outflow window has room: still owed, status `queued`."""

    EVENT: ClassVar[str] = "withdrawal_queued"
    ts: int
    wid: int
    account: str
    asset: str
    amount: int
    tx: str


@register_event
@dataclass(slots=True, frozen=True)
class WithdrawalReturned:
    """A withdrawal left the owed list unpaid: `amount` is back in the account's balance."""

    EVENT: ClassVar[str] = "withdrawal_refunded"
    ts: int
    wid: int
    account: str
    asset: str
    amount: int
    reason: str


@register_event
@dataclass(slots=True, frozen=True)
class BadDebtCovered:
    """The insurance fund paid `amount` of bad debt in `asset`; `covered` is the running total."""

    EVENT: ClassVar[str] = "bad_debt_covered"
    ts: int
    asset: str
    amount: int
    covered: int
    tx: str


# -- wire parsers ---------------------------------------------------------------------------------


@wire("protocol")
def _protocol(r: Any, ts: int, engine: Any) -> Any:
    return ProtocolState(ts, r.flag("withdrawals_paused"), r.flag("risk_paused"), r.text("reason", "") or "")


@wire("withdrawal_paid")
def _withdrawal_paid(r: Any, ts: int, engine: Any) -> Any:
    return WithdrawalPaid(ts, r.integer("wid"), r.text("tx", "") or "")


@wire("withdrawal_queued")
def _withdrawal_queued(r: Any, ts: int, engine: Any) -> Any:
    return WithdrawalQueued(ts, r.integer("wid"), r.text("tx", "") or "")


@wire("withdrawal_refunded")
def _withdrawal_refunded(r: Any, ts: int, engine: Any) -> Any:
    return WithdrawalRefunded(ts, r.integer("wid"), r.text("reason"))


@wire("cover_paid")
def _cover_paid(r: Any, ts: int, engine: Any) -> Any:
    asset, amount = r.text("asset"), r.req("amount")
    if asset not in engine.assets:
        return invalid(ts, r, R.UNKNOWN_ASSET, f"no asset {asset!r}")
    atoms = scale(amount, engine.assets[asset].decimals, "cover_paid.amount")
    if atoms is None:
        return invalid(ts, r, R.BAD_AMOUNT, f"{amount} is finer than {asset}'s smallest unit")
    return CoverPaid(ts, asset, atoms, r.text("tx", "") or "")
