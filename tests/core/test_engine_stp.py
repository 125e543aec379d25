"""Self-trade prevention through the engine: events, holds and what stays on the book."""

from __future__ import annotations

from core_venue import BTC, PRICE, USDC, of

from offchain.core.messages.events import Cancelled, Trade


def setup_own_ask_then_other(venue):
    venue.order("trader", "sell", "1", "50000", id="own")
    venue.order("market_maker", "sell", "1", "50000", id="other")


def test_cancel_taker_stops_at_own_order_and_cancels_the_rest(venue):
    setup_own_ask_then_other(venue)
    events = venue.order("trader", "buy", "1", "50000", id="taker", stp="cancel_taker")
    assert not of(events, Trade)
    (cancel,) = of(events, Cancelled)
    assert (cancel.client_id, cancel.reason, cancel.qty) == ("taker", "stp", BTC)
    assert {o.client_id for o in venue.engine.open_orders("trader")} == {"own"}
    assert venue.held("trader", "USDC") == 0


def test_cancel_maker_removes_own_order_and_keeps_matching(venue):
    setup_own_ask_then_other(venue)
    events = venue.order("trader", "buy", "1", "50000", id="taker", stp="cancel_maker")
    (cancel,) = of(events, Cancelled)
    assert (cancel.client_id, cancel.reason, cancel.remaining) == ("own", "stp", 0)
    (trade,) = of(events, Trade)
    assert trade.maker == "market_maker"
    assert venue.held("trader", "BTC") == 0  # the cancelled ask released its base


def test_cancel_both_cancels_own_order_and_the_taker(venue):
    setup_own_ask_then_other(venue)
    events = venue.order("trader", "buy", "1", "50000", id="taker", stp="cancel_both")
    assert not of(events, Trade)
    assert sorted(c.client_id for c in of(events, Cancelled)) == ["own", "taker"]
    assert venue.engine.open_orders("trader") == []
    assert venue.held("trader", "BTC") == venue.held("trader", "USDC") == 0


def test_decrement_shrinks_both_by_the_smaller_size_without_trading(venue):
    venue.order("trader", "sell", "3", "50000", id="own")
    events = venue.order("trader", "buy", "1", "50000", id="taker", stp="decrement")
    assert not of(events, Trade)
    cancels = {c.client_id: (c.qty, c.remaining) for c in of(events, Cancelled)}
    assert cancels == {"own": (BTC, 2 * BTC), "taker": (BTC, 0)}
    (own,) = venue.engine.open_orders("trader")
    assert own.qty == 2 * BTC
    assert venue.held("trader", "BTC") == 2 * BTC  # the hold shrank with the order
    assert venue.held("trader", "USDC") == 0


def test_decrement_larger_taker_goes_on_to_trade_with_others(venue):
    venue.order("trader", "sell", "1", "50000", id="own")
    venue.order("market_maker", "sell", "1", "50000", id="other")
    events = venue.order("trader", "buy", "2", "50000", id="taker", stp="decrement")
    (trade,) = of(events, Trade)
    assert (trade.maker, trade.qty) == ("market_maker", BTC)
    assert {c.client_id: (c.qty, c.remaining) for c in of(events, Cancelled)} == {
        "own": (BTC, 0),
        "taker": (BTC, 0),
    }
    assert venue.engine.open_orders("trader") == []  # 2 - 1 decremented - 1 filled


# -- the auction seam: two resting orders of one account never trade ------------------------------


def halted_with_own_crossing_orders(venue, stp: str):
    """Halted: the trader's older bid and newer ask cross each other on the book."""
    venue.ok("halt", symbol="BTC-USDC")
    venue.order("trader", "buy", "2", "50100", id="own-bid")
    venue.order("trader", "sell", "1", "49900", id="own-ask", stp=stp)
    engine = venue.engine
    bid = engine.order_by_client_id("trader", "own-bid")
    ask = engine.order_by_client_id("trader", "own-ask")
    return engine, engine.markets["BTC-USDC"], bid, ask


def cross_own(venue, stp: str) -> tuple[int, list]:
    engine, market, bid, ask = halted_with_own_crossing_orders(venue, stp)
    out: list = []
    traded = engine.cross(market, bid, ask, 50_000 * PRICE, BTC, venue.t * 1000, out)
    return traded, out


def test_auction_cross_of_one_accounts_orders_with_cancel_maker_cancels_the_older_order(venue):
    traded, out = cross_own(venue, "cancel_maker")

    assert traded == 0 and not of(out, Trade)
    assert [(c.client_id, c.reason, c.remaining) for c in of(out, Cancelled)] == [("own-bid", "stp", 0)]
    assert {o.client_id for o in venue.engine.open_orders("trader")} == {"own-ask"}
    assert venue.held("trader", "USDC") == 0  # the cancelled bid released its hold


def test_auction_cross_of_one_accounts_orders_with_cancel_taker_cancels_the_newer_order(venue):
    traded, out = cross_own(venue, "cancel_taker")

    assert traded == 0 and not of(out, Trade)
    assert [(c.client_id, c.reason, c.remaining) for c in of(out, Cancelled)] == [("own-ask", "stp", 0)]
    assert {o.client_id for o in venue.engine.open_orders("trader")} == {"own-bid"}
    assert venue.held("trader", "BTC") == 0


def test_auction_cross_of_one_accounts_orders_with_cancel_both_cancels_both(venue):
    traded, out = cross_own(venue, "cancel_both")

    assert traded == 0 and not of(out, Trade)
    assert sorted(c.client_id for c in of(out, Cancelled)) == ["own-ask", "own-bid"]
    assert venue.engine.open_orders("trader") == [] and len(venue.book) == 0
    assert venue.held("trader", "USDC") == venue.held("trader", "BTC") == 0


def test_auction_cross_of_one_accounts_orders_with_decrement_shrinks_both_and_charges_no_fee(venue):
    usdc_before = venue.balance("trader", "USDC")

    traded, out = cross_own(venue, "decrement")

    assert traded == 0 and not of(out, Trade)
    assert {c.client_id: (c.qty, c.remaining) for c in of(out, Cancelled)} == {
        "own-bid": (BTC, BTC),
        "own-ask": (BTC, 0),
    }
    (bid,) = venue.engine.open_orders("trader")
    assert bid.qty == BTC
    assert venue.held("trader", "USDC") == 50_100 * USDC + 50_100 * USDC * 2000 // 10**6  # 1 BTC + fee bound
    assert venue.balance("trader", "USDC") == usdc_before  # no trade, no fee
    assert venue.engine.accounts.fees.get("USDC", 0) == 0


def test_auction_cross_skips_an_order_that_self_trade_prevention_already_cancelled(venue):
    engine, market, bid, ask = halted_with_own_crossing_orders(venue, "cancel_maker")
    engine.cross(market, bid, ask, 50_000 * PRICE, BTC, venue.t * 1000, [])
    venue.order("other_maker", "sell", "1", "49900", id="other-ask")
    other = engine.order_by_client_id("other_maker", "other-ask")
    out: list = []

    traded = engine.cross(market, bid, other, 50_000 * PRICE, BTC, venue.t * 1000, out)

    assert traded == 0 and out == []
    assert other.qty == BTC and venue.book.best_ask() == 49_900 * PRICE
