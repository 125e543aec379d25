"""The breaker inside the engine: halting before the breaking trade, the halt, DLPs, the reopening."""

from __future__ import annotations

from decimal import Decimal

import pytest

from offchain.core.breaker.module import (
    AuctionUncrossed,
    BreakerParamsSet,
    BreakerTransition,
    IndicativePrice,
)
from offchain.core.build import build_engine, restore_engine
from offchain.core.config import EngineConfig
from offchain.core.messages.codec import parse_command
from offchain.core.messages.events import Accepted, Cancelled, Deposited, Rejected, Trade

SYMBOL = "USDE-USDC"
USDC = 10**6
USDE = 10**18
INDEX = "1.0000"
# small windows so that a test builds a depth benchmark in seconds, not minutes
FAST = {"depth_sample_ms": 1_000, "depth_min_samples": 3}


def px(text: str) -> int:
    return int(Decimal(text) * USDC)


class Exchange:
    """An engine with the breaker, a USDE-USDC market and a scenario clock in milliseconds."""

    def __init__(self, breaker: bool = True) -> None:
        self.engine = build_engine(EngineConfig(risk=False, treasury=False, breaker_enabled=breaker))
        self.ts = 0
        self.ok("asset", symbol="USDC", decimals=6, collateral_weight="1")
        self.ok("asset", symbol="USDE", decimals=18, collateral_weight="0.9")
        self.ok(
            "market",
            symbol=SYMBOL,
            kind="spot",
            base="USDE",
            quote="USDC",
            tick="0.0001",
            lot="1",
            band="0.5",
            impact="0.4",
        )
        self.ok("breaker", symbol=SYMBOL, set=FAST)
        for account in ("market_maker", "seller", "buyer", "dlp", "retail"):
            self.ok("deposit", account=account, asset="USDC", amount="50000000")
            self.ok("deposit", account=account, asset="USDE", amount="50000000")
        self.ok("index", symbol=SYMBOL, source="curve", price=INDEX)
        # seed 004 §4.2: during a halt only DLPs and authorised participants add orders; the
        # professionals of these scenarios are authorised, "retail" is not
        for account in ("market_maker", "seller", "buyer"):
            self.ok("authorise", account=account)

    def do(self, cmd: str, dt_ms: int = 1, **fields) -> list:
        self.ts += dt_ms
        return self.engine.apply(parse_command({"ts": self.ts, "cmd": cmd, **fields}, self.engine))

    def ok(self, cmd: str, dt_ms: int = 1, **fields) -> list:
        events = self.do(cmd, dt_ms, **fields)
        assert not any(isinstance(e, Rejected) for e in events), events
        return events

    def limit(self, account: str, side: str, price: str, qty: str, oid: str | None = None, **kw) -> list:
        if oid is not None:
            kw["id"] = oid
        return self.do(
            "order",
            account=account,
            symbol=SYMBOL,
            side=side,
            type="limit",
            price=price,
            qty=qty,
            tif="GTC",
            **kw,
        )

    def market(self, account: str, side: str, qty: str) -> list:
        return self.do("order", account=account, symbol=SYMBOL, side=side, type="market", qty=qty)

    def tick_for(self, seconds: int) -> list:
        events = []
        for _ in range(seconds):
            events += self.do("tick", dt_ms=1_000)
        return events

    @property
    def state(self) -> str:
        return self.engine.markets[SYMBOL].state

    @property
    def breaker(self):
        return self.engine.modules[0].breakers[SYMBOL]


def of(events: list, cls: type) -> list:
    return [e for e in events if isinstance(e, cls)]


def deep_book(x: Exchange) -> None:
    """A market maker quoting 1M USDE on 10 levels each side around 1.0000, then 5 s of calm."""
    for i in range(10):
        x.limit("market_maker", "buy", str(Decimal("0.9995") - Decimal(i) / 10_000), "1000000", f"b{i}")
        x.limit("market_maker", "sell", str(Decimal("1.0005") + Decimal(i) / 10_000), "1000000", f"a{i}")
    x.tick_for(5)


def vacuum(x: Exchange) -> None:
    """The market maker pulls; what is left under the touch is thin and gapped."""
    for i in range(10):
        x.ok("cancel", account="market_maker", id=f"b{i}")
    for price in ("0.9900", "0.9800", "0.9750", "0.9700", "0.9500", "0.9000", "0.8000"):
        x.limit("retail", "buy", price, "20000")


def tripped(x: Exchange) -> list:
    deep_book(x)
    vacuum(x)
    return x.market("seller", "sell", "200000")


# -- the trip -------------------------------------------------------------------------------------


def test_seller_walking_a_gapped_book_is_halted_before_the_trade_that_breaks_the_index():
    x = Exchange()

    events = tripped(x)

    prices = [t.price for t in of(events, Trade)]
    assert prices == [px("0.99"), px("0.98"), px("0.975"), px("0.97")]  # 0.95 would be 5 % off the index
    (transition,) = of(events, BreakerTransition)
    assert (transition.from_state, transition.to_state, transition.reason) == (
        "continuous",
        "halted",
        "cvd_and_depth",
    )
    assert transition.metrics["cvd_ppm"] > 30_000 and transition.metrics["rl_ppm"] < 200_000
    # the market order was only ever allowed to walk to 0.97: its remainder is cancelled
    (rest,) = [c for c in of(events, Cancelled) if c.account == "seller"]
    assert (rest.reason, rest.qty) == ("market", 120_000 * USDE)
    assert x.state == "halted"


def test_limit_orders_stopped_by_the_guard_halt_the_market_within_their_own_command():
    x = Exchange()
    deep_book(x)
    vacuum(x)

    ioc = x.do("order", account="seller", symbol=SYMBOL, side="sell", type="limit", price="0.9000", qty="100000",
               tif="IOC")  # fmt: skip
    gtc = x.limit("buyer", "sell", "0.9000", "50000", "rests")

    assert [t.price for t in of(ioc, Trade)] == [px("0.99"), px("0.98"), px("0.975"), px("0.97")]
    assert [(c.reason, c.qty) for c in of(ioc, Cancelled)] == [("halt", 20_000 * USDE)]
    assert of(ioc, BreakerTransition)[0].to_state == "halted"
    assert of(gtc, Accepted) and not of(gtc, Trade)  # a crossing limit rests on the halted book
    assert x.engine.order_by_client_id("buyer", "rests") is not None


def test_without_the_breaker_the_same_seller_walks_the_book_down():
    x = Exchange(breaker=False)

    events = tripped(x)

    assert min(t.price for t in of(events, Trade)) <= px("0.90")
    assert not of(events, BreakerTransition)
    assert x.state == "continuous"


def test_a_large_order_in_a_deep_book_never_trips():
    x = Exchange()
    deep_book(x)

    events = x.market("seller", "sell", "3000000") + x.market("buyer", "buy", "3000000") + x.tick_for(60)

    assert of(events, Trade)
    assert not of(events, BreakerTransition)
    assert x.state == "continuous"


def test_price_far_from_the_index_in_a_deep_book_never_trips():
    """A deep book trading 5 % off the index (say the index feed is stale) is not a vacuum."""
    x = Exchange()
    deep_book(x)
    x.ok("index", symbol=SYMBOL, source="curve", price="1.0600")

    events = x.market("buyer", "buy", "500000") + x.tick_for(30)

    assert not of(events, BreakerTransition)


# -- during the halt ------------------------------------------------------------------------------


def test_halted_market_accepts_limits_without_matching_and_refuses_market_orders():
    x = Exchange()
    tripped(x)

    crossing = x.limit("buyer", "buy", "1.0100", "1000", "waits")
    market_order = x.market("buyer", "buy", "1000")

    assert of(crossing, Accepted) and not of(crossing, Trade)
    assert of(market_order, Rejected)[0].code == "not_continuous"


def test_dlp_deposit_is_credited_at_once_during_a_halt_only_for_designated_providers():
    x = Exchange()
    deep_book(x)
    x.ok("dlp", account="dlp")
    deposit = {"account": "dlp", "symbol": SYMBOL, "asset": "USDC", "amount": "1000000"}

    assert of(x.do("dlp_deposit", **deposit), Rejected)[0].code == "not_halted"
    vacuum(x)
    x.market("seller", "sell", "200000")
    assert of(x.do("dlp_deposit", **{**deposit, "account": "retail"}), Rejected)[0].code == "not_designated"
    before = x.engine.balance("dlp", "USDC")

    events = x.ok("dlp_deposit", **deposit)

    assert of(events, Deposited)
    assert x.engine.balance("dlp", "USDC") == before + 1_000_000 * USDC


def test_recovery_is_not_a_timer_while_the_book_stays_empty():
    x = Exchange()
    tripped(x)

    events = x.tick_for(30 * 60)

    assert not of(events, BreakerTransition)
    assert x.state == "halted"


def reopen(x: Exchange) -> list:
    """Liquidity comes back: the DLP quotes deep around the index, a seller offers below a buyer's bid."""
    x.ok("dlp", account="dlp")
    x.ok("dlp_deposit", account="dlp", symbol=SYMBOL, asset="USDC", amount="20000000")
    for i in range(8):
        x.limit("dlp", "buy", str(Decimal("0.9985") - Decimal(i) / 10_000), "1000000")
        x.limit("dlp", "sell", str(Decimal("1.0010") + Decimal(i) / 10_000), "1000000")
    x.limit("seller", "sell", "0.9950", "300000", "late-seller")
    x.limit("buyer", "buy", "1.0000", "200000", "eager-buyer")
    return x.tick_for(20 * 60)


def test_reopening_runs_cooldown_and_auction_then_uncrosses_at_one_price_near_the_index():
    x = Exchange()
    tripped(x)

    events = reopen(x)

    states = [t.to_state for t in of(events, BreakerTransition)]
    assert states == ["cooldown", "auction", "continuous"]
    assert of(events, IndicativePrice)
    (auction,) = of(events, AuctionUncrossed)
    auction_trades = [t for t in of(events, Trade) if t.ts == auction.ts]
    assert {t.price for t in auction_trades} == {auction.price}
    assert sum(t.qty for t in auction_trades) == auction.volume
    assert abs(auction.price - px(INDEX)) * 100 <= px(INDEX)  # within 1 % of the index
    assert not x.engine.book(SYMBOL).is_crossed()
    assert x.state == "continuous"


def test_halt_window_holds_the_market_even_when_liquidity_is_back_at_once():
    x = Exchange()
    events = tripped(x)
    (trip,) = of(events, BreakerTransition)

    events = reopen(x)

    (to_cooldown, *_) = of(events, BreakerTransition)
    assert to_cooldown.ts - trip.ts >= x.breaker.params.halt_window_ms


def test_auction_fills_release_what_orders_held_beyond_their_fill_price():
    x = Exchange()
    tripped(x)
    reopen(x)

    for account in ("market_maker", "seller", "buyer", "dlp", "retail"):
        x.ok("cancel_all", account=account)
    for account in ("market_maker", "seller", "buyer", "dlp", "retail"):
        assert x.engine.held(account, "USDC") == 0 and x.engine.held(account, "USDE") == 0
    deposits = {"USDC": 5 * 50_000_000 * USDC + 20_000_000 * USDC, "USDE": 5 * 50_000_000 * USDE}
    for asset, total in deposits.items():
        balances = sum(a.balance.get(asset, 0) for a in x.engine.accounts.by_name.values())
        assert balances + x.engine.accounts.fees.get(asset, 0) == total


@pytest.mark.parametrize(
    ("stp", "cancelled", "trades"),
    [
        # the newer order's mode applies: the ask is the market maker's newer order
        ("cancel_maker", ["mm-bid"], []),
        ("cancel_taker", ["mm-ask"], [(px("1.0020"), 400 * USDE)]),
        ("cancel_both", ["mm-bid", "mm-ask"], []),
        ("decrement", ["mm-bid", "mm-ask"], [(px("1.0020"), 400 * USDE)]),
    ],
)
def test_reopening_auction_never_trades_an_account_with_itself(stp, cancelled, trades):
    """The market maker's own bid and ask cross during the halt; the auction first pairs them."""
    x = Exchange()
    x.ok("halt", symbol=SYMBOL, reason="exchange maintenance")
    x.limit("market_maker", "buy", "1.0020", "1500", "mm-bid")
    x.limit("seller", "sell", "1.0000", "400", "other-ask")
    x.limit("market_maker", "sell", "0.9980", "1000", "mm-ask", stp=stp)
    fees_before = x.engine.accounts.fees.get("USDC", 0)

    events = x.ok("resume", symbol=SYMBOL) + x.tick_for(7 * 60)

    (auction,) = of(events, AuctionUncrossed)
    auction_trades = [t for t in of(events, Trade) if t.ts == auction.ts]
    assert [(t.price, t.qty) for t in auction_trades] == trades
    assert all(t.maker != t.taker for t in auction_trades)
    assert (auction.volume, auction.trades) == (sum(q for _, q in trades), len(trades))
    stp_cancels = [c for c in of(events, Cancelled) if c.reason == "stp"]
    assert sorted(c.client_id for c in stp_cancels) == sorted(cancelled)
    assert x.engine.accounts.fees.get("USDC", 0) - fees_before == sum(
        t.maker_fee + t.taker_fee for t in auction_trades
    )
    assert not x.engine.book(SYMBOL).is_crossed()
    assert x.state == "continuous"


# -- operator -------------------------------------------------------------------------------------


def test_operator_halt_lasts_until_resume_then_reopens_through_the_auction():
    x = Exchange()
    deep_book(x)
    x.ok("halt", symbol=SYMBOL, reason="exchange maintenance")
    x.limit("buyer", "buy", "1.0010", "500000")  # crosses the market maker's asks, waits

    assert not of(x.tick_for(20 * 60), BreakerTransition)
    events = x.ok("resume", symbol=SYMBOL) + x.tick_for(7 * 60)

    assert [t.to_state for t in of(events, BreakerTransition)] == ["cooldown", "auction", "continuous"]
    (auction,) = of(events, AuctionUncrossed)
    assert auction.volume == 500_000 * USDE


def test_resume_of_a_trading_market_is_rejected_without_changing_state():
    x = Exchange()
    before = x.engine.state_hash()

    (rejected,) = of(x.do("resume", symbol=SYMBOL), Rejected)

    assert rejected.code == "not_halted"
    assert x.engine.state_hash() == before


def test_breaker_parameters_are_validated():
    x = Exchange()
    before = x.engine.state_hash()

    (rejected,) = of(x.do("breaker", symbol=SYMBOL, set={"cvd_recover_ppm": 90_000}), Rejected)
    assert rejected.code == "bad_param"
    assert x.engine.state_hash() == before

    events = x.ok("breaker", symbol=SYMBOL, set={"t_buffer_ms": 240_000})
    assert of(events, BreakerParamsSet)
    assert x.breaker.params.halt_window_ms == 8 * 60_000


# -- determinism ----------------------------------------------------------------------------------


def test_snapshot_taken_during_a_halt_replays_identically():
    x = Exchange()
    tripped(x)
    x.tick_for(10)
    restored = restore_engine(x.engine.snapshot(), EngineConfig(risk=False, treasury=False))
    assert restored.state_hash() == x.engine.state_hash()

    y = Exchange.__new__(Exchange)
    y.engine, y.ts = restored, x.ts
    original, copy = reopen(x), reopen(y)

    assert [type(e).__name__ for e in original] == [type(e).__name__ for e in copy]
    assert x.engine.state_hash() == y.engine.state_hash()


@pytest.mark.parametrize("breaker", [True, False])
def test_rejected_dlp_commands_change_nothing(breaker):
    x = Exchange(breaker=breaker)
    before = x.engine.state_hash()

    x.do("dlp_deposit", account="nobody", symbol=SYMBOL, asset="USDC", amount="1")
    x.do("dlp_deposit", account="dlp", symbol="NOPE", asset="USDC", amount="1")

    assert x.engine.state_hash() == before
