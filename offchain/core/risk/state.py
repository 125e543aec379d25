"""The risk engine's configuration and per-market state, and `RiskState`: the risk module as its
parts (the cross-margin policy, the liquidator) see it, so that they never import the module back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from offchain.core.codes import RejectCode as R
from offchain.core.risk.funding import FundingParams, PremiumAverage
from offchain.core.risk.liquidation import LiquidationParams
from offchain.core.risk.margin import MarketRisk
from offchain.core.risk.params import require
from offchain.core.risk.pricing import COLLATERAL_MARK_SOURCES, MarketPricing

if TYPE_CHECKING:
    from offchain.core.model.accounts import Account
    from offchain.core.ports import EngineContext
    from offchain.core.risk.lending import LendingPool
    from offchain.core.risk.margin import AssetRisk, Health, Valuation
    from offchain.core.risk.perps import Position
    from offchain.core.risk.revalue import RiskMatrix


@dataclass(slots=True)
class RiskConfig:
    """Engine-wide risk parameters (``risk_params`` changes them)."""

    # "local": collateral at the local book (naive mode); "book": its bands from the local book too
    collateral_mark_source: str = "mark"
    settlement_asset: str = "USDC"
    insurance_account: str = "insurance"  # the insurance fund's off-chain account: backstop, fees
    settle_interval_ms: int = 10_000
    interest_interval_ms: int = 60_000
    spot_margin_default: bool = False
    own_tokens: tuple[str, ...] = ()
    default_max_leverage: int = 20  # perps listed without risk_market; majors are set to 50
    liquidation: LiquidationParams = field(default_factory=LiquidationParams)

    def validate(self) -> None:
        """Refuse an unknown mark source, non-positive intervals and bad liquidation parameters."""
        require(
            self.collateral_mark_source in COLLATERAL_MARK_SOURCES,
            R.BAD_PARAM,
            f"collateral_mark_source must be one of {COLLATERAL_MARK_SOURCES}",
        )
        for name in ("settle_interval_ms", "interest_interval_ms"):
            require(getattr(self, name) > 0, R.BAD_PARAM, f"{name} must be positive")
        require(bool(self.insurance_account), R.BAD_PARAM, "the insurance account needs a name")
        self.liquidation.validate()


@dataclass(slots=True)
class MarketState:
    """One market's risk state."""

    symbol: str
    kind: str
    base: str
    quote: str
    unit: int
    risk: MarketRisk
    pricing: MarketPricing
    funding: FundingParams = field(default_factory=FundingParams)
    premium: PremiumAverage = field(default_factory=PremiumAverage)
    last_funding_ts: int | None = None
    auto_frozen: bool = False


class RiskState(Protocol):
    """What the cross-margin policy and the liquidator read and change of the risk module."""

    config: RiskConfig
    engine: EngineContext
    assets: dict[str, AssetRisk]
    pools: dict[str, LendingPool]
    markets: dict[str, MarketState]
    positions: dict[str, dict[str, Position]]
    margin: dict[str, bool]
    bad_debt: dict[str, int]
    dirty: set[str]
    matrix: RiskMatrix

    def invalidate(self) -> None: ...

    def valuation(self) -> Valuation: ...

    def positions_of(self, account: str) -> dict[str, Position]: ...

    def position(self, account: str, symbol: str) -> Position: ...

    def set_position(self, account: str, symbol: str, pos: Position) -> None: ...

    def health(self, account: str, v: Valuation | None = None) -> Health: ...

    def margin_enabled(self, account: str) -> bool: ...

    def exposed(self, acct: Account) -> bool: ...

    def pool_totals(self, asset: str) -> tuple[int, int]: ...

    def open_interest(self, symbol: str) -> int: ...

    def liquidation_exposures(self, symbol: str) -> list[tuple[int, int, bool]]: ...

    def refresh_matrix(self) -> None: ...

    def settle_accounts(self, engine: EngineContext, accounts: Any, ts: int, out: list) -> None: ...

    def _credit(self, engine: EngineContext, account: str, asset: str, amount: int) -> None: ...
