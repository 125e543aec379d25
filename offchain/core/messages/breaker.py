"""The circuit breaker's commands, events and wire parsers (see docs/engine.md, "Circuit breaker")."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from offchain.core.codes import RejectCode as R
from offchain.core.messages import commands as C
from offchain.core.messages.events import register as register_event
from offchain.core.messages.wire import CommandFormatError, scale, wire
from offchain.core.model.breaker_params import BreakerParams

# -- commands -------------------------------------------------------------------------------------


@C.register
@dataclass(slots=True, frozen=True)
class DesignateDlp:
    """Operator: let an account use the priority deposit channel (``designated=False`` revokes).

    ``bond`` atoms of ``bond_asset`` (0: no bond) are held in the account while it is designated:
    not spendable by orders or withdrawals, released on revocation, and what ``dlp_reverse`` debits
    first. A designation the account's free balance cannot hold is refused."""

    CMD: ClassVar[str] = "dlp"
    ts: int
    account: str
    designated: bool = True
    bond_asset: str = ""
    bond: int = 0


@C.register
@dataclass(slots=True, frozen=True)
class DlpDeposit:
    """A designated liquidity provider's deposit, credited at once while ``symbol`` is halted."""

    CMD: ClassVar[str] = "dlp_deposit"
    ts: int
    account: str
    symbol: str
    asset: str
    amount: int
    ref: str = ""


@C.register
@dataclass(slots=True, frozen=True)
class Authorise:
    """Operator: let an account add orders while a market is halted (``authorised=False`` revokes)."""

    CMD: ClassVar[str] = "authorise"
    ts: int
    account: str
    authorised: bool = True


@C.register
@dataclass(slots=True, frozen=True)
class DlpReverse:
    """Take back a priority (``dlp_deposit``) credit whose on-chain deposit a reorg removed: the amount
    is debited from the provider's account (its bond) and ``ref`` may be credited again."""

    CMD: ClassVar[str] = "dlp_reverse"
    ts: int
    account: str
    asset: str
    amount: int
    ref: str


@C.register
@dataclass(slots=True, frozen=True)
class SetBreaker:
    """Operator: change a market's breaker parameters (names and units of ``BreakerParams``)."""

    CMD: ClassVar[str] = "breaker"
    ts: int
    symbol: str
    changes: dict = field(default_factory=dict)


@wire("dlp")
def _wire_dlp(r, ts: int, engine: Any) -> DesignateDlp:
    designated = r.get("designated", True)
    if not isinstance(designated, bool):
        raise CommandFormatError(f"dlp: designated must be true or false, got {designated!r}")
    account = r.text("account")
    if r.get("bond") is None:
        return DesignateDlp(ts, account, designated)
    asset, amount = r.text("bond_asset"), r.req("bond")
    if asset not in engine.assets:
        return C.Invalid(ts, "dlp", account, R.UNKNOWN_ASSET, f"no asset {asset!r}")
    atoms = scale(amount, engine.assets[asset].decimals, "dlp.bond")
    if atoms is None:
        return C.Invalid(ts, "dlp", account, R.BAD_AMOUNT, f"{amount} is finer than {asset}'s unit")
    return DesignateDlp(ts, account, designated, asset, atoms)


@wire("dlp_deposit")
def _wire_dlp_deposit(r, ts: int, engine: Any) -> Any:
    symbol = r.text("symbol")
    account, asset, amount = r.text("account"), r.text("asset"), r.req("amount")
    ref = r.text("ref", "") or ""
    if asset not in engine.assets:
        return C.Invalid(ts, "dlp_deposit", account, R.UNKNOWN_ASSET, f"no asset {asset!r}")
    atoms = scale(amount, engine.assets[asset].decimals, "dlp_deposit.amount")
    if atoms is None:
        return C.Invalid(ts, "dlp_deposit", account, R.BAD_AMOUNT, f"{amount} is finer than {asset}'s unit")
    return DlpDeposit(ts, account, symbol, asset, atoms, ref)


@wire("authorise")
def _wire_authorise(r, ts: int, engine: Any) -> Authorise:
    authorised = r.get("authorised", True)
    if not isinstance(authorised, bool):
        raise CommandFormatError(f"authorise: authorised must be true or false, got {authorised!r}")
    return Authorise(ts, r.text("account"), authorised)


@wire("dlp_reverse")
def _wire_dlp_reverse(r, ts: int, engine: Any) -> Any:
    account, asset, amount, ref = r.text("account"), r.text("asset"), r.req("amount"), r.text("ref")
    if asset not in engine.assets:
        return C.Invalid(ts, "dlp_reverse", account, R.UNKNOWN_ASSET, f"no asset {asset!r}")
    atoms = scale(amount, engine.assets[asset].decimals, "dlp_reverse.amount")
    if atoms is None:
        return C.Invalid(ts, "dlp_reverse", account, R.BAD_AMOUNT, f"{amount} is finer than {asset}'s unit")
    return DlpReverse(ts, account, asset, atoms, ref)


@wire("breaker")
def _wire_breaker(r, ts: int, engine: Any) -> SetBreaker:
    symbol = r.text("symbol")
    changes = r.req("set")
    if not isinstance(changes, dict) or not changes:
        raise CommandFormatError("breaker: 'set' must be an object of parameter: value")
    known = {f.name for f in fields(BreakerParams)}
    for name, value in changes.items():
        if name not in known:
            raise CommandFormatError(f"breaker: unknown parameter {name!r}")
        if name == "enabled":
            if not isinstance(value, bool):
                raise CommandFormatError("breaker: enabled must be true or false")
        elif isinstance(value, bool) or not isinstance(value, int):
            raise CommandFormatError(f"breaker: {name} must be an integer, got {value!r}")
    return SetBreaker(ts, symbol, dict(changes))


# -- events ---------------------------------------------------------------------------------------


@register_event
@dataclass(slots=True, frozen=True)
class BreakerTransition:
    """A market's breaker moved: the reason and the metrics (ppm; None = not measurable)."""

    EVENT: ClassVar[str] = "breaker"
    ts: int
    symbol: str
    from_state: str
    to_state: str
    reason: str
    metrics: dict


@register_event
@dataclass(slots=True, frozen=True)
class IndicativePrice:
    """During cool-down and call phase: what the auction would do now (price None: no cross)."""

    EVENT: ClassVar[str] = "indicative"
    ts: int
    symbol: str
    state: str
    price: int | None
    volume: int
    surplus: int
    bid_depth: int
    ask_depth: int


@register_event
@dataclass(slots=True, frozen=True)
class AuctionUncrossed:
    """The reopening auction's result: one price, the volume and trades it executed."""

    EVENT: ClassVar[str] = "auction"
    ts: int
    symbol: str
    price: int | None
    volume: int
    surplus: int
    trades: int
    reference: int | None


# -- the module -----------------------------------------------------------------------------------


@register_event
@dataclass(slots=True, frozen=True)
class DlpDesignated:
    EVENT: ClassVar[str] = "dlp"
    ts: int
    account: str
    designated: bool


@register_event
@dataclass(slots=True, frozen=True)
class DlpBond:
    """The bond a designated liquidity provider's account holds: ``bond`` atoms of ``asset`` (0:
    released, on revocation or once a reorged priority credit used it up)."""

    EVENT: ClassVar[str] = "dlp_bond"
    ts: int
    account: str
    asset: str
    bond: int


@register_event
@dataclass(slots=True, frozen=True)
class ParticipantAuthorised:
    EVENT: ClassVar[str] = "authorised"
    ts: int
    account: str
    authorised: bool


@register_event
@dataclass(slots=True, frozen=True)
class DlpReversed:
    """A priority credit taken back (its deposit left the chain): ``from_bond`` atoms out of the held
    bond, the rest out of the free balance; ``shortfall`` is what neither covered (never a negative
    balance: it stays owed, in the breaker's ``dlp_shortfall``, like a pending deficit)."""

    EVENT: ClassVar[str] = "dlp_reversed"
    ts: int
    account: str
    asset: str
    amount: int
    ref: str
    from_bond: int = 0
    shortfall: int = 0


@register_event
@dataclass(slots=True, frozen=True)
class BreakerParamsSet:
    EVENT: ClassVar[str] = "breaker_params"
    ts: int
    symbol: str
    changes: dict
