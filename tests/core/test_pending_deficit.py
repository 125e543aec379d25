"""A halt never hides an underwater account (issue 15.2). The rule: report it. When an index gap
puts an account below zero equity and its first liquidation IOC trips the halt, the account cannot be
liquidated until the reopening; its deficit is reported at once (`deficit_pending`, kept in the risk
state where the insurance fund and operators see it) and cleared once it is liquidated."""

from __future__ import annotations

from risk_venue import PERP, listed

from offchain.core.build import build_engine, restore_engine
from offchain.core.config import EngineConfig

CONFIG = EngineConfig(treasury=False)


def names(events: list) -> list[str]:
    return [e.EVENT for e in events]


def test_an_account_left_underwater_by_a_halt_is_reported_at_once_and_cleared_when_liquidated():
    v = listed(engine=build_engine(CONFIG))
    for account in ("maker", "long", "thin"):
        v.ok("deposit", account=account, asset="USDC", amount="2000" if account == "long" else "1000000")
    v.ok("order", account="maker", symbol=PERP, side="sell", type="limit", price="60000", qty="1", tif="GTC")
    v.ok("order", account="long", symbol=PERP, side="buy", type="market", qty="1", tif="IOC")  # ~30x
    v.ok("order", account="thin", symbol=PERP, side="buy", type="limit", price="50000", qty="0.1", tif="GTC")

    events = v.do("index", symbol=PERP, source="spot", price="57000") + v.do("tick")  # the gap

    assert v.engine.markets[PERP].state == "halted"  # the liquidation IOC tripped the breaker
    assert v.module.health("long").equity < 0
    pending = [e for e in events if e.EVENT == "deficit_pending"]
    assert [e.account for e in pending] == ["long"]
    assert pending[0].deficit == -v.module.health("long").equity
    assert v.module.pending_deficit == {"long": pending[0].deficit}
    assert "deficit_pending" not in names(v.do("tick"))  # reported once, not on every tick
    restored = restore_engine(v.engine.snapshot(), CONFIG)
    assert restored.risk.module.pending_deficit == v.module.pending_deficit

    v.ok("authorise", account="maker")
    v.ok("order", account="maker", symbol=PERP, side="buy", type="limit", price="56900", qty="2", tif="GTC")
    v.ok("order", account="maker", symbol=PERP, side="sell", type="limit", price="57100", qty="2", tif="GTC",
         id="ask2")  # fmt: skip
    v.ok("resume", symbol=PERP)
    later = []
    for _ in range(10):
        later += v.do("index", dt_ms=30_000, symbol=PERP, source="spot", price="57000")  # kept fresh
        later += v.do("tick", dt_ms=30_000)
    assert v.engine.markets[PERP].state == "continuous"
    assert "liquidation_started" in names(later)
    assert [e.account for e in later if e.EVENT == "deficit_cleared"] == ["long"]
    assert v.module.pending_deficit == {}
