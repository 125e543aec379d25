"""The market-maker program's commands, events and wire parser (docs/engine.md, "Market makers").

``maker`` (operator): designate ``account`` as a market maker of ``symbol`` with obligations — at
least ``min_notional`` (quote units, decimal string) on each of ``levels`` price levels per side,
within ``max_spread`` (a decimal fraction of the maker's own mid) for at least ``share`` (a decimal
fraction) of every ``period`` (seconds). ``designated: false`` revokes. Defaults are the seed's
program: USD 500,000 a side per level, five levels; 0.3 % spread, 90 % of each hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from offchain.core.codes import RejectCode as R
from offchain.core.messages import commands as C
from offchain.core.messages.events import register as register_event
from offchain.core.messages.wire import CommandFormatError, scale, to_decimal, wire
from offchain.core.units import PPM

DEFAULT_MIN_NOTIONAL = "500000"  # quote units a side per level (the seed: USD 500,000)
DEFAULT_LEVELS = 5
DEFAULT_MAX_SPREAD_PPM = 3_000  # 0.3 % of the maker's own mid (its 0.1 %-step ladder's touch is 0.2 %)
DEFAULT_SHARE_PPM = 900_000  # 90 % of the period
DEFAULT_PERIOD_MS = 3_600_000  # one hour
MAX_LEVELS = 50


@C.register
@dataclass(slots=True, frozen=True)
class DesignateMaker:
    """Operator: designate (or, ``designated=False``, revoke) a market maker with its obligations."""

    CMD: ClassVar[str] = "maker"
    ts: int
    account: str
    symbol: str
    min_notional: int = 0  # quote atoms per level per side
    levels: int = DEFAULT_LEVELS
    max_spread_ppm: int = DEFAULT_MAX_SPREAD_PPM
    share_ppm: int = DEFAULT_SHARE_PPM
    period_ms: int = DEFAULT_PERIOD_MS
    designated: bool = True


@register_event
@dataclass(slots=True, frozen=True)
class MakerDesignated:
    """A maker's designation (or revocation) and its obligations."""

    EVENT: ClassVar[str] = "maker"
    ts: int
    account: str
    symbol: str
    designated: bool
    min_notional: int
    levels: int
    max_spread_ppm: int
    share_ppm: int
    period_ms: int


@register_event
@dataclass(slots=True, frozen=True)
class MakerPeriod:
    """One closed compliance period of a maker: measured and quoted time (ms), the share (ppm),
    whether it met the obligation, its maker volume (quote atoms) and the rebate top-up it was paid
    (quote atoms; 0 when not compliant)."""

    EVENT: ClassVar[str] = "maker_period"
    ts: int
    account: str
    symbol: str
    start: int
    end: int
    measured_ms: int
    quoted_ms: int
    share_ppm: int
    compliant: bool
    maker_notional: int
    rebate: int


def _ppm(r: Any, key: str, default: int) -> int | None:
    value = r.get(key)
    if value is None:
        return default
    dec = to_decimal(value, f"maker.{key}") * PPM
    return int(dec) if dec == dec.to_integral_value() else None


@wire("maker")
def _wire_maker(r: Any, ts: int, engine: Any) -> Any:
    account, symbol = r.text("account"), r.text("symbol")
    designated = r.get("designated", True)
    if not isinstance(designated, bool):
        raise CommandFormatError(f"maker: designated must be true or false, got {designated!r}")
    market = engine.markets.get(symbol)
    if market is None:
        return C.Invalid(ts, "maker", account, R.UNKNOWN_MARKET, f"no market {symbol!r}")
    notional = scale(
        r.get("min_notional", DEFAULT_MIN_NOTIONAL),
        engine.assets[market.quote].decimals,
        "maker.min_notional",
    )
    if notional is None:
        return C.Invalid(ts, "maker", account, R.BAD_AMOUNT, "min_notional is finer than the quote's unit")
    levels = r.integer("levels", DEFAULT_LEVELS)
    spread = _ppm(r, "max_spread", DEFAULT_MAX_SPREAD_PPM)
    share = _ppm(r, "share", DEFAULT_SHARE_PPM)
    period = r.get("period")
    period_ms = DEFAULT_PERIOD_MS if period is None else scale(period, 3, "maker.period")
    if spread is None or share is None or period_ms is None:
        return C.Invalid(
            ts, "maker", account, R.BAD_PARAM, "max_spread/share finer than 1 ppm or period than 1 ms"
        )
    return DesignateMaker(ts, account, symbol, notional, levels, spread, share, period_ms, designated)
