"""Order types, priority, cancels and amends, driven the way a scenario drives the engine."""

from __future__ import annotations

from core_venue import BTC, PRICE, USDC, of, rejection

from offchain.core.messages.events import Accepted, Amended, Balance, Cancelled, Trade, WithdrawalRequested


def test_resting_buy_holds_notional_plus_worst_fee(venue):
    venue.ok("order", account="market_maker", symbol="BTC-USDC", side="buy", price="50000", qty="1", id="b1")
    # 50 000 USDC notional plus the tier-0 taker rate (0.2 %) it could be charged
    assert venue.held("market_maker", "USDC") == 50_000 * USDC + 100 * USDC
    assert venue.book.best_bid() == 50_000 * PRICE


def test_crossing_limit_trades_at_maker_price_and_settles_both_sides(venue):
    venue.order("market_maker", "sell", "0.5", "50000", id="a1")
    events = venue.order("trader", "buy", "0.5", "50100", id="t1")
    (trade,) = of(events, Trade)
    assert (trade.price, trade.qty, trade.maker, trade.taker) == (
        50_000 * PRICE,
        BTC // 2,
        "market_maker",
        "trader",
    )
    notional = 25_000 * USDC
    assert trade.taker_fee == notional * 2000 // 10**6  # 0.2 %
    assert trade.maker_fee == -(notional * 200 // 10**6)  # 0.02 % rebate
    assert venue.balance("trader", "BTC") == 100 * BTC + BTC // 2
    assert venue.balance("trader", "USDC") == 1_000_000 * USDC - notional - trade.taker_fee
    assert venue.balance("market_maker", "USDC") == 1_000_000 * USDC + notional - trade.maker_fee
    assert venue.held("trader", "USDC") == 0  # fully filled: nothing left held
    assert venue.engine.accounts.fees["USDC"] == trade.taker_fee + trade.maker_fee
    assert of(events, Balance), "balance changes are reported"


def test_price_time_priority_best_price_then_earliest(venue):
    venue.order("market_maker", "sell", "1", "50010", id="worse")
    venue.order("market_maker", "sell", "1", "50000", id="first")
    venue.order("other_maker", "sell", "1", "50000", id="second")
    events = venue.order("trader", "buy", "2.5", "50010", id="sweep")
    fills = [(t.maker_oid, t.price, t.qty) for t in of(events, Trade)]
    oids = {o.client_id: o.oid for o in venue.engine.open_orders("market_maker")}
    assert [f[1] for f in fills] == [50_000 * PRICE, 50_000 * PRICE, 50_010 * PRICE]
    assert fills[0][0] == 2 and fills[1][0] == 3  # 'first' (oid 2) before 'second' (oid 3)
    assert fills[2][2] == BTC // 2
    assert oids == {"worse": 1}  # half of 'worse' is still open


def test_market_buy_sweeps_then_cancels_rest(venue):
    venue.order("market_maker", "sell", "1", "50000")
    events = venue.order("trader", "buy", "3", type="market")
    assert sum(t.qty for t in of(events, Trade)) == BTC
    (cancel,) = of(events, Cancelled)
    assert (cancel.qty, cancel.reason) == (2 * BTC, "market")
    assert venue.held("trader", "USDC") == 0


def test_market_order_never_fills_beyond_impact_band(venue):
    venue.ok("index", symbol="BTC-USDC", source="pool", price="50000")
    venue.order("market_maker", "sell", "1", "50000")
    venue.order("market_maker", "sell", "1", "52400")  # inside the 5 % impact band, inside the 10 % band
    venue.order("market_maker", "sell", "1", "53000")  # beyond 52 500
    events = venue.order("trader", "buy", "3", type="market")
    assert [t.price for t in of(events, Trade)] == [50_000 * PRICE, 52_400 * PRICE]
    assert venue.book.best_ask() == 53_000 * PRICE


def test_market_order_with_nothing_to_take_is_rejected(venue):
    assert rejection(venue.order("trader", "buy", "1", type="market")).code == "no_liquidity"


def test_ioc_fills_what_it_can_and_cancels_the_rest(venue):
    venue.order("market_maker", "sell", "1", "50000")
    events = venue.order("trader", "buy", "2", "50000", tif="IOC")
    assert sum(t.qty for t in of(events, Trade)) == BTC
    assert of(events, Cancelled)[0].reason == "ioc"
    assert venue.book.best_bid() is None


def test_fok_is_all_or_nothing(venue):
    venue.order("market_maker", "sell", "1", "50000")
    before = venue.engine.state_hash()
    assert rejection(venue.order("trader", "buy", "2", "50000", tif="FOK")).code == "fok_unfillable"
    assert venue.engine.state_hash() == before
    events = venue.order("trader", "buy", "1", "50000", tif="FOK")
    assert sum(t.qty for t in of(events, Trade)) == BTC


def test_post_only_that_would_take_is_rejected(venue):
    venue.order("market_maker", "sell", "1", "50000")
    assert (
        rejection(venue.order("trader", "buy", "1", "50000", post_only=True)).code == "post_only_would_cross"
    )
    venue.ok("order", account="trader", symbol="BTC-USDC", side="buy", qty="1", price="49999", post_only=True)


def test_cancel_releases_hold_and_frees_client_id(venue):
    venue.order("trader", "buy", "1", "40000", id="x")
    assert venue.held("trader", "USDC") > 0
    events = venue.ok("cancel", account="trader", id="x")
    assert of(events, Cancelled)[0].reason == "user"
    assert venue.held("trader", "USDC") == 0
    assert of(venue.order("trader", "buy", "1", "40000", id="x"), Accepted)  # the id can be reused


def test_duplicate_open_client_id_is_rejected(venue):
    venue.order("trader", "buy", "1", "40000", id="x")
    assert rejection(venue.order("trader", "sell", "1", "60000", id="x")).code == "duplicate_client_id"


def test_cancel_all_in_one_market(venue):
    venue.order("trader", "buy", "1", "40000", id="a")
    venue.order("trader", "sell", "1", "60000", id="b")
    events = venue.ok("cancel_all", account="trader", symbol="BTC-USDC")
    assert [c.client_id for c in of(events, Cancelled)] == ["a", "b"]
    assert venue.engine.open_orders("trader") == []
    assert venue.held("trader", "USDC") == venue.held("trader", "BTC") == 0


def test_amend_size_down_keeps_priority(venue):
    venue.order("market_maker", "sell", "2", "50000", id="first")
    venue.order("other_maker", "sell", "1", "50000", id="second")
    (amended,) = of(venue.ok("amend", account="market_maker", id="first", qty="1"), Amended)
    assert amended.kept_priority
    assert venue.held("market_maker", "BTC") == BTC
    (trade,) = of(venue.order("trader", "buy", "1", "50000"), Trade)
    assert trade.maker == "market_maker"


def test_amend_size_up_loses_priority(venue):
    venue.order("market_maker", "sell", "1", "50000", id="first")
    venue.order("other_maker", "sell", "1", "50000", id="second")
    (amended,) = of(venue.ok("amend", account="market_maker", id="first", qty="2"), Amended)
    assert not amended.kept_priority
    (trade,) = of(venue.order("trader", "buy", "1", "50000"), Trade)
    assert trade.maker == "other_maker"


def test_amend_price_moves_to_back_and_can_take(venue):
    venue.order("market_maker", "sell", "1", "50100", id="ask")
    venue.order("trader", "buy", "1", "50000", id="bid")
    events = venue.ok("amend", account="trader", id="bid", price="50100")
    (trade,) = of(events, Trade)
    assert (trade.taker, trade.price) == ("trader", 50_100 * PRICE)
    assert venue.engine.open_orders("trader") == []


def test_amend_beyond_balance_is_rejected_without_change(venue):
    venue.order("trader", "buy", "10", "50000", id="big")
    before = venue.engine.state_hash()
    assert rejection(venue.do("amend", account="trader", id="big", qty="30")).code == "insufficient_balance"
    assert venue.engine.state_hash() == before


def test_amend_post_only_into_the_spread_that_would_cross_is_rejected(venue):
    venue.order("market_maker", "sell", "1", "50100")
    venue.order("trader", "buy", "1", "50000", id="po", post_only=True)
    assert (
        rejection(venue.do("amend", account="trader", id="po", price="50100")).code == "post_only_would_cross"
    )


def test_halted_market_rests_limits_without_matching_and_rejects_market_orders(venue):
    venue.order("market_maker", "sell", "1", "50000")
    venue.ok("halt", symbol="BTC-USDC", reason="manual")
    events = venue.order("trader", "buy", "1", "50100", id="waits")
    assert of(events, Accepted) and not of(events, Trade)
    assert venue.book.is_crossed()
    assert rejection(venue.order("trader", "buy", "1", type="market")).code == "not_continuous"
    assert rejection(venue.order("trader", "buy", "1", "50100", tif="IOC")).code == "not_continuous"
    events = venue.ok("resume", symbol="BTC-USDC")
    (trade,) = of(events, Trade)
    assert (trade.taker, trade.price) == ("trader", 50_000 * PRICE)  # the later order takes on resume
    assert not venue.book.is_crossed()


def test_auction_seam_crosses_two_resting_orders_at_one_price(venue):
    venue.ok("halt", symbol="BTC-USDC")
    venue.order("market_maker", "sell", "2", "49900", id="ask")
    venue.order("trader", "buy", "1", "50100", id="bid")
    engine = venue.engine
    market = engine.markets["BTC-USDC"]
    bid = engine.order_by_client_id("trader", "bid")
    ask = engine.order_by_client_id("market_maker", "ask")
    out: list = []
    engine.cross(market, bid, ask, 50_000 * PRICE, BTC, venue.t * 1000, out)
    (trade,) = of(out, Trade)
    assert (trade.price, trade.qty, trade.maker, trade.taker) == (
        50_000 * PRICE,
        BTC,
        "market_maker",
        "trader",
    )
    assert engine.order_by_client_id("trader", "bid") is None and venue.held("trader", "USDC") == 0
    assert ask.qty == BTC and venue.book.best_ask() == 49_900 * PRICE
    assert venue.balance("trader", "BTC") == 101 * BTC


def test_auction_seam_releases_what_a_partly_filled_bid_held_beyond_its_fill_price(venue):
    venue.ok("halt", symbol="BTC-USDC")
    venue.order("trader", "buy", "2", "50100", id="bid")
    venue.order("market_maker", "sell", "1", "49900", id="ask")
    engine = venue.engine
    bid = engine.order_by_client_id("trader", "bid")
    ask = engine.order_by_client_id("market_maker", "ask")
    out: list = []

    traded = engine.cross(engine.markets["BTC-USDC"], bid, ask, 50_000 * PRICE, BTC, venue.t * 1000, out)

    assert traded == BTC
    assert bid.qty == BTC
    # the 1 BTC left holds its notional at its limit plus the 0.2 % fee bound (50 100 + 100.2 USDC):
    # the fill at 50 000 released the 100 USDC it saved and the filled half's fee reserve
    assert venue.held("trader", "USDC") == 50_200_200_000


def test_market_buy_needs_only_what_it_takes(venue):
    venue.ok("deposit", account="buyer", asset="USDC", amount="50100")
    venue.order("market_maker", "sell", "1", "50000")
    venue.order("market_maker", "sell", "5", "50010")
    events = venue.order("buyer", "buy", "1", type="market")  # 50 000 + 0.2 % fee = 50 100 USDC
    assert sum(t.qty for t in of(events, Trade)) == BTC
    assert venue.balance("buyer", "USDC") == 0 and venue.held("buyer", "USDC") == 0


def test_withdrawal_debits_free_balance_and_asks_for_payment(venue):
    venue.order("trader", "buy", "10", "50000")  # holds 501 000 USDC of 1 000 000
    (request,) = of(
        venue.ok("withdraw", account="trader", asset="USDC", amount="498000", ref="w1"), WithdrawalRequested
    )
    assert (request.amount, request.account, request.ref) == (498_000 * USDC, "trader", "w1")
    assert venue.free("trader", "USDC") == 1_000 * USDC
    assert rejection(venue.do("withdraw", account="trader", asset="USDC", amount="1000.000001")).code == (
        "insufficient_balance"
    )


def test_amend_in_a_halted_market_rests_without_matching(venue):
    venue.order("market_maker", "sell", "1", "50000")
    venue.order("trader", "buy", "1", "49000", id="bid")
    venue.ok("halt", symbol="BTC-USDC")
    events = venue.ok("amend", account="trader", id="bid", price="50500")
    assert not of(events, Trade) and venue.book.is_crossed()
