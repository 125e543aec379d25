"""Scenarios: one account walked through book liquidation, backstop and ADL; the USDe crash."""

from __future__ import annotations

from risk_venue import BTC, PERP, RISK_ONLY, SPOT, USDC, USDE, listed, px

from offchain.core.build import restore_engine
from offchain.core.messages.events import Cancelled, Trade
from offchain.core.messages.risk import (
    BadDebt,
    CollateralFrozen,
    Liquidation,
    LiquidationFee,
    LiquidationStarted,
    PnlSettled,
)
from offchain.core.risk.liquidation import AdlCandidate, adl_rank


def of(events: list, cls: type) -> list:
    return [e for e in events if isinstance(e, cls)]


def crash_setup():
    """A trader long 1 BTC at 60,000 with 1,500 USDC; two shorts on the other side; a thin bid."""
    v = listed()
    for account, amount in (
        ("market_maker", "1000000"),
        ("trader", "1500"),
        ("insurance", "400"),
        ("levered_winner", "2000"),
        ("calm_winner", "50000"),
    ):
        v.ok("deposit", account=account, asset="USDC", amount=amount)
    v.ok("order", account="levered_winner", symbol=PERP, side="sell", type="limit", price="60000", qty="0.6")
    v.ok("order", account="calm_winner", symbol=PERP, side="sell", type="limit", price="60000", qty="0.4")
    v.ok("order", account="trader", symbol=PERP, side="buy", type="limit", price="60000", qty="1", tif="IOC")
    v.ok(
        "order",
        account="trader",
        symbol=PERP,
        side="sell",
        type="limit",
        price="61000",
        qty="0.1",
        id="take-profit",
    )
    v.ok("order", account="market_maker", symbol=PERP, side="buy", type="limit", price="58900", qty="0.2")
    return v


def test_crash_walks_the_account_through_book_backstop_and_adl():
    v = crash_setup()
    assert not v.health("trader").below_maintenance

    events = v.ok("index", symbol=PERP, source="spot", price="58700")

    (started,) = of(events, LiquidationStarted)
    assert started.account == "trader" and started.equity < started.maintenance
    (cancel,) = [e for e in of(events, Cancelled) if e.reason == "liquidation"]
    assert cancel.client_id == "take-profit"
    book, backstop, *adl = of(events, Liquidation)
    # 1. the book takes what it has inside the impact band: the market maker's 0.2 BTC bid
    assert (book.via, book.qty, book.price, book.side) == ("book", BTC // 5, px("58900"), "sell")
    (trade,) = [t for t in of(events, Trade) if t.taker == "trader"]
    assert (trade.maker, trade.qty, trade.price) == ("market_maker", BTC // 5, px("58900"))
    (fee,) = of(events, LiquidationFee)
    assert fee.to == "insurance" and fee.amount == 58_900_000  # 0.5 % of 11,780 USDC
    # 2. the backstop (insurance fund's account) takes what its 400 USDC of margin allows, at bankruptcy
    assert backstop.via == "backstop" and backstop.counterparty == "insurance"
    assert 0 < backstop.qty < 8 * BTC // 10
    assert backstop.price < px("58700")  # below the mark: the account's remaining equity pays for it
    # 3. the rest is auto-deleveraged: the most levered profitable short first
    assert [(e.via, e.counterparty) for e in adl] == [("adl", "levered_winner")]
    assert book.qty + backstop.qty + sum(e.qty for e in adl) == BTC
    assert v.risk.position("trader", PERP).qty == 0
    assert v.risk.position("insurance", PERP).qty == backstop.qty
    assert v.risk.position("levered_winner", PERP).qty == -6 * BTC // 10 + adl[0].qty
    assert v.risk.position("calm_winner", PERP).qty == -4 * BTC // 10
    # the account ends flat with nothing left and no bad debt (ADL absorbed it at the bankruptcy price)
    assert v.balance("trader", "USDC") >= 0
    assert not of(events, BadDebt)
    assert not v.health("insurance").below_maintenance


def test_backstop_and_adl_close_at_the_price_that_leaves_the_account_with_nothing():
    v = crash_setup()
    events = v.ok("index", symbol=PERP, source="spot", price="58700")
    _, backstop, adl = of(events, Liquidation)
    mark = v.module.valuation().market_mark[PERP]
    assert abs(backstop.price - adl.price) <= 1  # one bankruptcy price for the whole remainder
    assert backstop.price < mark  # the account still had equity: the takers buy below the mark
    # closing at the bankruptcy price leaves the account at zero, never in debt (rounding: < 1 USDC)
    assert 0 <= v.balance("trader", "USDC") < USDC
    assert v.health("trader").equity == v.balance("trader", "USDC")


def test_adl_counterparties_follow_profit_times_leverage():
    v = crash_setup()
    v.ok("risk_params", insurance_account="empty_backstop")  # no backstop capacity: everything ADLs
    twin = crash_setup()  # the same market, liquidation-free, to rank the candidates independently
    twin_module = twin.module
    twin_module.liquidator.run = lambda *args: None
    twin.ok("index", symbol=PERP, source="spot", price="58700")
    mark = twin_module.valuation().market_mark[PERP]
    candidates = [
        AdlCandidate(
            name,
            pos.qty,
            pos.profit(mark, BTC),
            abs(pos.qty) * pos.entry // BTC,
            pos.notional(mark, BTC),
            twin.health(name).equity,
        )
        for name, pos in twin_module.positions[PERP].items()
        if pos.qty < 0
    ]
    expected = [c.account for c in adl_rank(candidates)]
    assert expected == ["levered_winner", "calm_winner"]

    events = v.ok("index", symbol=PERP, source="spot", price="58700")

    adl = [e for e in of(events, Liquidation) if e.via == "adl"]
    assert [e.counterparty for e in adl] == expected
    assert adl[0].qty == 6 * BTC // 10  # the first is closed entirely before the second is touched


def test_healthy_account_is_not_touched_by_the_crash():
    v = crash_setup()
    v.ok("deposit", account="careful_trader", asset="USDC", amount="30000")
    v.ok("order", account="market_maker", symbol=PERP, side="sell", type="limit", price="60000", qty="0.5")
    v.ok("order", account="careful_trader", symbol=PERP, side="buy", type="limit", price="60000", qty="0.5")

    events = v.ok("index", symbol=PERP, source="spot", price="58700")

    assert {e.account for e in of(events, LiquidationStarted)} == {"trader"}


def spot_margin_setup(mark_source: str):
    """A holder of 1M USDE who borrowed 800k USDC against it; bids stacked down to 0.55."""
    v = listed(mark_source)
    v.ok("deposit", account="lender", asset="USDC", amount="5000000")
    v.ok("deposit", account="holder", asset="USDE", amount="1000000")
    v.ok("deposit", account="seller", asset="USDE", amount="5000000")
    v.ok("deposit", account="bidder", asset="USDC", amount="5000000")
    v.ok("margin", account="holder")
    v.ok("withdraw", account="holder", asset="USDC", amount="800000")
    assert v.balance("holder", "USDC") == -800_000 * USDC
    for price in ("0.99", "0.95", "0.90", "0.85", "0.80", "0.75", "0.70", "0.65", "0.60", "0.55"):
        v.ok("order", account="bidder", symbol=SPOT, side="buy", type="limit", price=price, qty="200000")
    return v


def walk_down(v, steps: int) -> list:
    """A seller walks the book down while the on-chain index holds 0.99; the engine ticks."""
    events = []
    for _ in range(steps):
        events += v.order("seller", SPOT, "sell", "200000")
        events += v.ok("index", symbol=SPOT, source="curve", price="0.9900")
        events += v.ok("tick")
    return events


def test_usde_crash_liquidates_nobody_when_collateral_is_marked_at_the_index():
    v = spot_margin_setup("mark")

    events = walk_down(v, 8)

    assert v.engine.markets[SPOT].last_price == px("0.65")
    assert not of(events, LiquidationStarted)
    assert v.balance("holder", "USDE") == 1_000_000 * USDE
    assert not v.health("holder").below_maintenance


def test_naive_engine_values_collateral_at_its_own_book_and_liquidates_into_bad_debt():
    v = spot_margin_setup("local")

    events = walk_down(v, 8)

    (started,) = of(events, LiquidationStarted)
    assert started.account == "holder"
    sales = of(events, Liquidation)
    assert sales and all(e.via == "book" and e.side == "sell" for e in sales)
    assert sum(e.qty for e in sales) == 1_000_000 * USDE  # every USDE sold into the crash
    assert min(t.price for t in of(events, Trade) if t.taker == "holder") < px("0.65")  # it pushed the price
    (debt,) = of(events, BadDebt)
    assert debt.account == "holder" and debt.asset == "USDC" and debt.amount > 0
    assert v.balance("holder", "USDC") == 0
    assert v.module.bad_debt == {"USDC": debt.amount}


def test_halted_market_suspends_liquidation_and_freezes_the_collateral_mark():
    v = spot_margin_setup("mark")
    reference = v.module.valuation().asset_price["USDE"]
    v.ok("halt", symbol=SPOT, reason="manual")

    events = v.ok("tick")
    (frozen,) = of(events, CollateralFrozen)
    assert (frozen.symbol, frozen.price) == (SPOT, reference)
    v.ok("risk_params", collateral_mark_source="local")  # even a naive valuation stays frozen
    events = v.ok("index", symbol=SPOT, source="curve", price="0.5000")
    events += v.ok("tick")

    assert not of(events, LiquidationStarted)
    assert v.module.valuation().asset_price["USDE"] == reference


def test_settlement_every_ten_seconds_realises_pnl_into_usdc():
    v = crash_setup()
    v.ok("index", symbol=PERP, source="spot", price="60600")
    events = []
    for _ in range(11):
        events += v.ok("tick")
    (settled, *_) = of(events, PnlSettled)
    assert settled.symbol == PERP
    assert v.risk.position("trader", PERP).upnl(v.module.valuation().market_mark[PERP], BTC) == 0
    assert v.balance("trader", "USDC") > 1_380 * USDC  # the 600 USDC of profit is usable USDC now


def test_restore_reproduces_the_risk_state():
    v = crash_setup()
    v.ok("index", symbol=PERP, source="spot", price="58700")
    v.ok("tick")
    restored = restore_engine(v.engine.snapshot(), RISK_ONLY)
    assert restored.state_hash() == v.engine.state_hash()
    assert restored.risk.health("insurance") == v.health("insurance")
    assert restored.risk.position("levered_winner", PERP) == v.risk.position("levered_winner", PERP)
