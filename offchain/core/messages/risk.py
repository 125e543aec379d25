"""The risk engine's commands, events and wire parsers (see docs/engine.md, "Risk").

Wire form (scenario / API): ratios are decimal fractions (``"0.95"``, ``"0.02"``), durations are
seconds, taper and tier bounds are amounts of the settlement asset (``"1000000"`` = 1M USDC).
Every field but the target is optional: what is left out keeps its value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from offchain.core.messages.commands import register
from offchain.core.messages.events import register as register_event
from offchain.core.messages.wire import CommandFormatError, scale, wire

# -- commands ---------------------------------------------------------------------------------------


@register
@dataclass(slots=True, frozen=True)
class SetMargin:
    """Let an account borrow through spot orders and withdrawals (spot margin), or stop it."""

    CMD: ClassVar[str] = "margin"
    ts: int
    account: str
    enabled: bool = True


@register
@dataclass(slots=True, frozen=True)
class SetLend:
    """Supply an account's positive balance of an asset to its lending pool (the default), or stop."""

    CMD: ClassVar[str] = "lend"
    ts: int
    account: str
    asset: str
    enabled: bool = True


@register
@dataclass(slots=True, frozen=True)
class RiskAsset:
    """Risk parameters of one asset; ``taper`` is ``[[up_to quote atoms | None, weight_ppm], ...]``."""

    CMD: ClassVar[str] = "risk_asset"
    ts: int
    symbol: str
    collateral_weight_ppm: int | None = None
    own_token: bool | None = None
    taper: Any = None
    borrow_imr_ppm: int | None = None
    borrow_mmr_ppm: int | None = None
    rate_base_ppm: int | None = None
    rate_slope1_ppm: int | None = None
    rate_kink_ppm: int | None = None
    rate_slope2_ppm: int | None = None
    rate_reserve_ppm: int | None = None


@register
@dataclass(slots=True, frozen=True)
class RiskMarket:
    """Risk and price parameters of one market; ``tiers`` is ``[[up_to | None, imr_ppm, mmr_ppm], ...]``."""

    CMD: ClassVar[str] = "risk_market"
    ts: int
    symbol: str
    max_leverage: int | None = None
    tiers: Any = None
    vol_ref_ppm: int | None = None
    vol_cap_ppm: int | None = None
    band_bps: int | None = None
    impact_bps: int | None = None
    premium_band_bps: int | None = None
    max_source_age_ms: int | None = None
    max_deviation_bps: int | None = None
    ewma_window_ms: int | None = None
    funding_interval_ms: int | None = None
    funding_cap_ppm: int | None = None
    funding_interest_ppm: int | None = None
    funding_damper_ppm: int | None = None


@register
@dataclass(slots=True, frozen=True)
class RiskParams:
    """Engine-wide risk parameters."""

    CMD: ClassVar[str] = "risk_params"
    ts: int
    collateral_mark_source: str | None = None
    liquidation_buffer_ppm: int | None = None
    liquidation_fee_ppm: int | None = None
    settle_interval_ms: int | None = None
    interest_interval_ms: int | None = None
    insurance_account: str | None = None
    spot_margin_default: bool | None = None
    own_token: str | None = None


@register
@dataclass(slots=True, frozen=True)
class IndexSource:
    """The weight and staleness limit of one index source of a market."""

    CMD: ClassVar[str] = "index_source"
    ts: int
    symbol: str
    source: str
    weight: int | None = None
    max_age_ms: int | None = None


# -- events ----------------------------------------------------------------------------------------


@register_event
@dataclass(slots=True, frozen=True)
class RiskConfigured:
    """A risk command was accepted: ``scope`` is margin, lend, asset, market, params or index_source."""

    EVENT: ClassVar[str] = "risk_configured"
    ts: int
    scope: str
    target: str
    detail: str


@register_event
@dataclass(slots=True, frozen=True)
class PositionChanged:
    """A perp position after a fill, a liquidation transfer or a settlement that closed it."""

    EVENT: ClassVar[str] = "position"
    ts: int
    account: str
    symbol: str
    qty: int
    entry: int
    quote_open: int


@register_event
@dataclass(slots=True, frozen=True)
class PnlSettled:
    """A market's unrealised PnL moved into USDC balances at ``mark`` (``net`` = sum over accounts)."""

    EVENT: ClassVar[str] = "pnl_settled"
    ts: int
    symbol: str
    mark: int
    accounts: int
    net: int


@register_event
@dataclass(slots=True, frozen=True)
class FundingPaid:
    """One funding of a perp market: longs paid shorts ``paid`` quote atoms (negative rate: reverse)."""

    EVENT: ClassVar[str] = "funding"
    ts: int
    symbol: str
    rate_ppm: int
    premium_ppm: int
    mark: int
    paid: int


@register_event
@dataclass(slots=True, frozen=True)
class InterestAccrued:
    """One accrual of a lending pool: ``paid == lenders + protocol`` exactly."""

    EVENT: ClassVar[str] = "interest"
    ts: int
    asset: str
    rate_ppm: int
    utilisation_ppm: int
    paid: int
    lenders: int
    protocol: int


@register_event
@dataclass(slots=True, frozen=True)
class DeficitPending:
    """An account below zero equity that a halt keeps from being liquidated (issue 15.2): its deficit
    (settlement-asset atoms) is reported at once, so the insurance fund and operators see it for the
    whole halt instead of after the reopening."""

    EVENT: ClassVar[str] = "deficit_pending"
    ts: int
    account: str
    deficit: int


@register_event
@dataclass(slots=True, frozen=True)
class DeficitCleared:
    """A pending deficit is no longer pending: the account was liquidated or is above zero again."""

    EVENT: ClassVar[str] = "deficit_cleared"
    ts: int
    account: str
    deficit: int


@register_event
@dataclass(slots=True, frozen=True)
class LiquidationStarted:
    """An account was found below maintenance (exact integers); its orders are cancelled next."""

    EVENT: ClassVar[str] = "liquidation_started"
    ts: int
    account: str
    equity: int
    maintenance: int
    initial: int


@register_event
@dataclass(slots=True, frozen=True)
class Liquidation:
    """Part of an account's exposure closed: ``via`` book (IOC fills), backstop or adl."""

    EVENT: ClassVar[str] = "liquidation"
    ts: int
    account: str
    symbol: str
    side: str
    qty: int
    price: int
    via: str
    counterparty: str


@register_event
@dataclass(slots=True, frozen=True)
class LiquidationFee:
    """The liquidation fee moved from the liquidated account to the insurance fund's account."""

    EVENT: ClassVar[str] = "liquidation_fee"
    ts: int
    account: str
    asset: str
    amount: int
    to: str


@register_event
@dataclass(slots=True, frozen=True)
class BadDebt:
    """A debt nothing is left to pay: written off here, covered on-chain by ``InsuranceFund.cover``."""

    EVENT: ClassVar[str] = "bad_debt"
    ts: int
    account: str
    asset: str
    amount: int


@register_event
@dataclass(slots=True, frozen=True)
class CollateralFrozen:
    """A market's collateral (and perp) mark is held at ``price`` (the breaker's halt)."""

    EVENT: ClassVar[str] = "collateral_frozen"
    ts: int
    symbol: str
    price: int


@register_event
@dataclass(slots=True, frozen=True)
class CollateralUnfrozen:
    EVENT: ClassVar[str] = "collateral_unfrozen"
    ts: int
    symbol: str


# -- wire parsers ----------------------------------------------------------------------------------


def _scaled(r: Any, key: str, decimals: int) -> int | None:
    """Return an optional decimal field scaled by ``10**decimals`` (None when absent)."""
    value = r.get(key)
    if value is None:
        return None
    atoms = scale(value, decimals, f"{r.name}.{key}")
    if atoms is None:
        raise CommandFormatError(f"{r.name}: {key}={value!r} has more decimals than {decimals}")
    return atoms


def _ppm(r: Any, key: str) -> int | None:
    return _scaled(r, key, 6)


def _bps(r: Any, key: str) -> int | None:
    return _scaled(r, key, 4)


def _ms(r: Any, key: str) -> int | None:
    return _scaled(r, key, 3)


def _opt_flag(r: Any, key: str) -> bool | None:
    value = r.get(key)
    if value is not None and not isinstance(value, bool):
        raise CommandFormatError(f"{r.name}: {key} must be true or false, got {value!r}")
    return value


def _settle_decimals(engine: Any) -> int:
    """Return the settlement asset's decimals (the risk module's, else USDC's, else 6)."""
    module = getattr(engine.risk, "module", None)
    symbol = module.config.settlement_asset if module is not None else "USDC"
    return engine.assets[symbol].decimals if symbol in engine.assets else 6


def _brackets(r: Any, key: str, engine: Any, rates: int) -> list | None:
    """Parse ``[[up_to | null, rate, ...], ...]`` (amounts in settlement units, rates as fractions)."""
    rows = r.get(key)
    if rows is None:
        return None
    if not isinstance(rows, list) or not rows:
        raise CommandFormatError(f"{r.name}: {key} must be a non-empty list of brackets")
    decimals = _settle_decimals(engine)
    out = []
    for row in rows:
        if not isinstance(row, list) or len(row) != 1 + rates:
            raise CommandFormatError(f"{r.name}: each {key} bracket is [up_to, {rates} rate(s)]")
        up_to = None if row[0] is None else scale(row[0], decimals, f"{r.name}.{key}")
        values = [scale(x, 6, f"{r.name}.{key}") for x in row[1:]]
        if (row[0] is not None and up_to is None) or None in values:
            raise CommandFormatError(f"{r.name}: {key} bracket {row!r} is finer than the smallest unit")
        out.append([up_to, *values])
    return out


@wire("margin")
def _margin(r: Any, ts: int, engine: Any) -> Any:
    enabled = _opt_flag(r, "enabled")
    return SetMargin(ts, r.text("account"), True if enabled is None else enabled)


@wire("lend")
def _lend(r: Any, ts: int, engine: Any) -> Any:
    enabled = _opt_flag(r, "enabled")
    return SetLend(ts, r.text("account"), r.text("asset"), True if enabled is None else enabled)


@wire("risk_asset")
def _risk_asset(r: Any, ts: int, engine: Any) -> Any:
    return RiskAsset(
        ts,
        r.text("symbol"),
        _ppm(r, "collateral_weight"),
        _opt_flag(r, "own_token"),
        _brackets(r, "taper", engine, 1),
        _ppm(r, "borrow_imr"),
        _ppm(r, "borrow_mmr"),
        _ppm(r, "rate_base"),
        _ppm(r, "rate_slope1"),
        _ppm(r, "rate_kink"),
        _ppm(r, "rate_slope2"),
        _ppm(r, "rate_reserve"),
    )


@wire("risk_market")
def _risk_market(r: Any, ts: int, engine: Any) -> Any:
    leverage = r.get("max_leverage")
    if leverage is not None:
        leverage = r.integer("max_leverage")
    return RiskMarket(
        ts,
        r.text("symbol"),
        leverage,
        _brackets(r, "tiers", engine, 2),
        _ppm(r, "vol_ref"),
        _ppm(r, "vol_cap"),
        _bps(r, "band"),
        _bps(r, "impact"),
        _bps(r, "premium_band"),
        _ms(r, "max_source_age"),
        _bps(r, "max_deviation"),
        _ms(r, "ewma_window"),
        _ms(r, "funding_interval"),
        _ppm(r, "funding_cap"),
        _ppm(r, "funding_interest"),
        _ppm(r, "funding_damper"),
    )


@wire("risk_params")
def _risk_params(r: Any, ts: int, engine: Any) -> Any:
    return RiskParams(
        ts,
        r.text("collateral_mark_source", None),
        _ppm(r, "liquidation_buffer"),
        _ppm(r, "liquidation_fee"),
        _ms(r, "settle_interval"),
        _ms(r, "interest_interval"),
        r.text("insurance_account", None),
        _opt_flag(r, "spot_margin_default"),
        r.text("own_token", None),
    )


@wire("index_source")
def _index_source(r: Any, ts: int, engine: Any) -> Any:
    weight = r.get("weight")
    if weight is not None:
        weight = r.integer("weight")
    return IndexSource(ts, r.text("symbol"), r.text("source"), weight, _ms(r, "max_age"))
