"""The tick checks the state a transition leaves in the same command (issue 15.8): the tick that
reopens a market also liquidates the accounts its new prices put under maintenance."""

from __future__ import annotations

from risk_venue import PERP, listed

from offchain.core.build import build_engine
from offchain.core.config import EngineConfig


def test_the_reopening_tick_liquidates_at_once():
    v = listed(engine=build_engine(EngineConfig(treasury=False)))
    for account in ("maker", "long"):
        v.ok("deposit", account=account, asset="USDC", amount="4000" if account == "long" else "1000000")
    v.ok("authorise", account="maker")
    v.ok("order", account="maker", symbol=PERP, side="sell", type="limit", price="60000", qty="1", tif="GTC")
    v.ok("order", account="long", symbol=PERP, side="buy", type="market", qty="1", tif="IOC")  # 15x long
    v.ok("halt", symbol=PERP)
    v.ok("tick")
    for price in ("56490", "56480"):  # deep book around the new price, during the halt
        v.ok("order", account="maker", symbol=PERP, side="buy", type="limit", price=price, qty="3", tif="GTC")
    v.ok("order", account="maker", symbol=PERP, side="sell", type="limit", price="56510", qty="3", tif="GTC")
    v.ok("index", symbol=PERP, source="spot", price="56500")
    v.ok("resume", symbol=PERP)
    reopened = None
    for _ in range(40):
        v.ok("index", dt_ms=10_000, symbol=PERP, source="spot", price="56500")
        events = v.do("tick", dt_ms=10_000)
        if any(e.EVENT == "state" and e.state == "continuous" for e in events):
            reopened = events
            break
    assert reopened is not None, "the market never reopened"
    assert "liquidation_started" in [e.EVENT for e in reopened], [e.EVENT for e in reopened]
