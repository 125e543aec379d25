"""Self-trade prevention through the engine: events, holds and what stays on the book."""

from __future__ import annotations

from core_venue import BTC, of

from offchain.core.events import Cancelled, Trade


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
