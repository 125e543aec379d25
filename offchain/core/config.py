"""`EngineConfig`: every choice that shapes an engine, in one typed value.

The replay tool, the daemon, the service, tests and benchmarks build engines with
`build.build_engine(EngineConfig(...))` instead of reaching into modules after the fact. Two engines
built from equal configs are the same machine: a journal replays onto either to the same state hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from offchain.core.model.breaker_params import BreakerParams
from offchain.core.model.fees import FeeSchedule
from offchain.core.risk.state import RiskConfig

NAIVE_BANDS = ("index", "book")  # what the naive exchange's price bands measure from


@dataclass(frozen=True)
class EngineConfig:
    """What `build_engine` wires (the defaults are what the daemon and the replay tool run)."""

    risk: bool = True
    """Wire the risk module (cross margin, lending, perps, funding, liquidation) and its policy.
    False: the core's spot policy (`SpotRisk`: free-balance holds, no perps)."""

    risk_config: RiskConfig | None = None
    """The risk engine's parameters (settlement asset, insurance account, intervals, liquidation
    buffer...). None: `RiskConfig()` defaults. Copied, never shared between engines."""

    collateral_mark_source: str | None = None
    """`"mark"` (default) values spot collateral at the index-based mark; `"local"` at the local
    book's price with bands still measured from the index-based mark (the naive exchange;
    `replay --no-breaker`); `"book"` at the local price with the bands measured from it too
    (`replay --no-breaker --naive-bands book`). None: keep `risk_config`'s."""

    breaker: bool = True
    """Wire the circuit-breaker module (halts, DLP deposits, call auctions, `halt`/`resume`).
    False: the core's plain `halt`/`resume`."""

    breaker_enabled: bool = True
    """With the breaker wired: may it trip on its own? False: operator halts only (the naive mode)."""

    breaker_params: BreakerParams | None = None
    """Default breaker parameters for every market (the `breaker` command changes them per market).
    None: `BreakerParams()` (the SPEC table)."""

    treasury: bool = True
    """Wire the treasury module (protocol pause, withdrawals owed on-chain, bad-debt cover)."""

    makers: bool = False
    """Wire the market-maker program (`maker` designations, compliance per period, rebate top-ups;
    designated makers are the breaker's DLPs). Off by default: existing journals replay unchanged."""

    fee_schedule: FeeSchedule | None = None
    """Fee tiers, maker rebate and API discount. None: `FeeSchedule()` (the SPEC's six tiers)."""

    extra_modules: tuple = field(default=())
    """Zero-argument factories of further `ports.Module`s, appended after the standard ones in this
    order (tests use it for recorders). Factories, so each engine gets fresh module state."""

    @classmethod
    def core(cls) -> EngineConfig:
        """The core alone: spot policy, no modules (the core's own tests and `bench.book_core`)."""
        return cls(risk=False, breaker=False, treasury=False)

    @classmethod
    def naive(cls, bands: str = "index") -> EngineConfig:
        """The exchange without its guard: no automatic halt, collateral at the local price; its
        price bands measure from its own index (`bands="index"`, what a real naive exchange does:
        issue 15.9) or from its own book (`bands="book"`)."""
        if bands not in NAIVE_BANDS:
            raise ValueError(f"naive bands must be one of {NAIVE_BANDS}, not {bands!r}")
        return cls(breaker_enabled=False, collateral_mark_source="local" if bands == "index" else "book")
