"""Frozen collateral pays out no more than it is worth now (issue 15.5): during a halt the collateral
mark is frozen (nobody is liquidated on a broken local price) but withdrawals, borrows and new risk
value it at the lower of the frozen mark and the live index."""

from __future__ import annotations

from risk_venue import SPOT, listed

from offchain.core.messages.events import Rejected


def halted_with_the_index_at_half():
    v = listed()
    v.ok("deposit", account="lender", asset="USDC", amount="1000000")
    v.ok("deposit", account="holder", asset="USDE", amount="100000")
    v.ok("margin", account="holder")
    v.ok("halt", symbol=SPOT)
    v.ok("tick")  # the collateral mark freezes at ~1.00
    ms = v.module.markets[SPOT]
    assert ms.pricing.frozen_collateral is not None
    v.ok("index", symbol=SPOT, source="curve", price="0.5000")
    v.ok("tick")
    assert ms.pricing.frozen_collateral > ms.pricing.index
    return v


def test_a_withdrawal_against_frozen_collateral_is_valued_at_the_live_index():
    v = halted_with_the_index_at_half()
    events = v.do("withdraw", account="holder", asset="USDC", amount="72000")
    assert isinstance(events[0], Rejected) and events[0].code == "insufficient_margin", events
    ok = v.do("withdraw", account="holder", asset="USDC", amount="30000")  # within 100k x 0.5 x 0.95
    assert not isinstance(ok[0], Rejected), ok


def test_the_frozen_mark_still_keeps_the_account_from_liquidation():
    v = halted_with_the_index_at_half()
    v.ok("withdraw", account="holder", asset="USDC", amount="30000")
    health = v.module.health("holder")
    assert health.equity > 0 and health.maintenance <= health.equity  # valued at the frozen mark
