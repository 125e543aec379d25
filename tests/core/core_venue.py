"""Test helpers for the engine core: an exchange driven through the wire form, like a scenario."""

from __future__ import annotations

from offchain.core.engine import Engine
from offchain.core.messages.codec import parse_command
from offchain.core.messages.events import Rejected
from offchain.core.risk.spot import SpotRisk

USDC = 10**6  # atoms per USDC
BTC = 10**8  # atoms per BTC
PRICE = 10**6  # price units per 1 USDC per BTC (quote atoms per whole base unit)


def core_engine() -> Engine:
    """The core alone: no risk or breaker modules, the spot free-balance policy."""
    return Engine(modules=[], risk=SpotRisk())


def restore_core(data: bytes) -> Engine:
    return Engine.restore(data, modules=[], risk=SpotRisk())


class Venue:
    """An engine plus a clock; `do(cmd, **fields)` sends a wire command and returns its events."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine or core_engine()
        self.t = 0

    def do(self, cmd: str, **fields) -> list:
        self.t += 1
        return self.engine.apply(parse_command({"t": self.t, "cmd": cmd, **fields}, self.engine))

    def ok(self, cmd: str, **fields) -> list:
        """Send a command that must not be rejected."""
        events = self.do(cmd, **fields)
        assert not any(isinstance(e, Rejected) for e in events), events
        return events

    def order(self, account: str, side: str, qty: str, price: str | None = None, **fields) -> list:
        if price is not None:
            fields["price"] = price
        return self.do("order", account=account, symbol="BTC-USDC", side=side, qty=qty, **fields)

    def balance(self, account: str, asset: str) -> int:
        return self.engine.balance(account, asset)

    def held(self, account: str, asset: str) -> int:
        return self.engine.held(account, asset)

    def free(self, account: str, asset: str) -> int:
        return self.balance(account, asset) - self.held(account, asset)

    @property
    def book(self):
        return self.engine.book("BTC-USDC")


def of(events: list, cls: type) -> list:
    """Return the events of one class."""
    return [e for e in events if isinstance(e, cls)]


def rejection(events: list) -> Rejected:
    """Return the single rejection in `events` (and fail if there is none)."""
    found = of(events, Rejected)
    assert len(found) == 1, events
    return found[0]


def listed_venue() -> Venue:
    """USDC (6 dp) and BTC (8 dp), market BTC-USDC with tick 0.01 and lot 0.001, funded traders."""
    v = Venue()
    v.ok("asset", symbol="USDC", decimals=6, collateral_weight="1")
    v.ok("asset", symbol="BTC", decimals=8, collateral_weight="0.9")
    v.ok("market", symbol="BTC-USDC", kind="spot", base="BTC", quote="USDC", tick="0.01", lot="0.001")
    for account in ("market_maker", "trader", "other_maker"):
        v.ok("deposit", account=account, asset="USDC", amount="1000000")
        v.ok("deposit", account=account, asset="BTC", amount="100")
    return v
