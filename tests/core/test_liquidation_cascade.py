"""Issue 15.8 (second half): a maker pushed under maintenance by a liquidation's own fills is
liquidated in the same command, not on the next tick."""

from __future__ import annotations

from risk_venue import PERP, listed

from offchain.core.messages.risk import LiquidationStarted


def test_a_maker_a_liquidation_fill_pushes_under_is_liquidated_in_the_same_command():
    v = listed()  # risk only: no breaker to halt the gap
    v.ok("deposit", account="maker", asset="USDC", amount="1000000")
    v.ok("deposit", account="long", asset="USDC", amount="2500")
    v.ok("deposit", account="thin", asset="USDC", amount="1300")
    v.ok("order", account="maker", symbol=PERP, side="sell", type="limit", price="60000", qty="1", tif="GTC")
    v.ok("order", account="long", symbol=PERP, side="buy", type="market", qty="1", tif="IOC")  # ~24x long
    # thin rests the best bid: 1 BTC at 59,000 on 1,300 USDC (fits 50x at the 60,000 index)
    v.ok("order", account="thin", symbol=PERP, side="buy", type="limit", price="59000", qty="1", tif="GTC")
    v.ok("order", account="maker", symbol=PERP, side="buy", type="limit", price="56000", qty="5", tif="GTC")
    assert not v.health("thin").below_maintenance

    events = v.ok("index", symbol=PERP, source="spot", price="57000")  # the gap: one command

    started = [e.account for e in events if isinstance(e, LiquidationStarted)]
    assert started[0] == "long"  # the gap puts the long under
    fills = [e for e in events if e.EVENT == "trade" and e.maker == "thin"]
    assert fills, "the long's liquidation sold into thin's bid"
    assert "thin" in started  # thin, bought at 59,000 with the mark at 57,000, is liquidated at once
    assert not v.health("thin").below_maintenance
    assert not v.health("long").below_maintenance
