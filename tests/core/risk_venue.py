"""Test helpers for the risk engine: an exchange with USDC, USDE, a spot and a perp market."""

from __future__ import annotations

from decimal import Decimal

from offchain.core.build import build_engine
from offchain.core.config import EngineConfig
from offchain.core.engine import Engine
from offchain.core.messages.codec import parse_command
from offchain.core.messages.events import Rejected
from offchain.core.risk.margin import account_health
from offchain.core.risk.module import RiskModule

USDC = 10**6
USDE = 10**18
BTC = 10**8
SPOT = "USDE-USDC"
PERP = "BTC-PERP"


def px(text: str) -> int:
    """A price in quote atoms (USDC, 6 dp) per whole base unit."""
    return int(Decimal(text) * USDC)


class RiskVenue:
    """An engine (default modules, or risk only) with a clock; commands go through the wire form."""

    def __init__(self, engine: Engine | None = None, mark_source: str = "mark") -> None:
        self.engine = engine or build_engine(
            EngineConfig(breaker=False, treasury=False, collateral_mark_source=mark_source)
        )
        self.ts = 0

    def do(self, cmd: str, dt_ms: int = 1_000, **fields) -> list:
        self.ts += dt_ms
        return self.engine.apply(parse_command({"ts": self.ts, "cmd": cmd, **fields}, self.engine))

    def ok(self, cmd: str, dt_ms: int = 1_000, **fields) -> list:
        events = self.do(cmd, dt_ms, **fields)
        assert not any(isinstance(e, Rejected) for e in events), events
        return events

    def order(self, account: str, symbol: str, side: str, qty: str, price: str | None = None, **kw) -> list:
        kw.setdefault("tif", "GTC" if price is not None else "IOC")
        if price is not None:
            kw["price"] = price
        kind = "limit" if price is not None else "market"
        return self.do("order", account=account, symbol=symbol, side=side, type=kind, qty=qty, **kw)

    @property
    def risk(self):
        return self.engine.risk

    @property
    def module(self) -> RiskModule:
        return self.engine.risk.module

    def balance(self, account: str, asset: str) -> int:
        return self.engine.balance(account, asset)

    def health(self, account: str):
        return self.engine.risk.health(account)

    def exact_health(self, account: str):
        """Health recomputed here from balances, positions and the valuation (not the liquidator's path)."""
        m = self.module
        acct = self.engine.accounts.by_name[account]
        return account_health(acct.balance, m.positions_of(account), m.valuation())


def listed(mark_source: str = "mark", engine: Engine | None = None) -> RiskVenue:
    """USDC, USDE (weight 0.95), BTC (perp base); USDE-USDC spot and BTC-PERP (50x), wide bands."""
    v = RiskVenue(engine, mark_source)
    v.ok("asset", symbol="USDC", decimals=6, collateral_weight="1")
    v.ok("asset", symbol="USDE", decimals=18, collateral_weight="0.95")
    v.ok("asset", symbol="BTC", decimals=8, collateral_weight="0")
    v.ok(
        "market",
        symbol=SPOT,
        kind="spot",
        base="USDE",
        quote="USDC",
        tick="0.0001",
        lot="1",
        band="0.5",
        impact="0.4",
    )
    v.ok(
        "market",
        symbol=PERP,
        kind="perp",
        base="BTC",
        quote="USDC",
        tick="1",
        lot="0.001",
        band="0.5",
        impact="0.4",
    )
    v.ok("risk_market", symbol=PERP, max_leverage=50, premium_band="0.0001")
    v.ok("index", symbol=SPOT, source="curve", price="0.9990")
    v.ok("index", symbol=PERP, source="spot", price="60000")
    return v


RISK_ONLY = EngineConfig(breaker=False, treasury=False)  # the risk module alone, as `Venue` builds it
