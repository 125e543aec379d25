"""The order book on its own: price-time priority, moves, self-trade prevention, the fill preview."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.core.matching.book import (
    CANCEL_BOTH,
    CANCEL_MAKER,
    CANCEL_TAKER,
    DECREMENT,
    STP_MODES,
    Book,
    Order,
)


def resting(book: Book, *orders: tuple) -> list[Order]:
    """Rest `(oid, owner, is_buy, price, qty)` orders in the given order."""
    out = []
    for spec in orders:
        order = Order(*spec)
        book.add(order)
        out.append(order)
    return out


def test_best_prices_follow_adds_and_removes():
    book = Book()
    bid_low, bid_high, ask_high, ask_low = resting(
        book,
        (1, "mm", True, 99, 5),
        (2, "mm", True, 100, 5),
        (3, "mm", False, 103, 5),
        (4, "mm", False, 102, 5),
    )
    assert (book.best_bid(), book.best_ask()) == (100, 102)
    book.remove(bid_high)
    book.remove(ask_low)
    assert (book.best_bid(), book.best_ask()) == (99, 103)
    book.remove(bid_low)
    book.remove(ask_high)
    assert (book.best_bid(), book.best_ask(), len(book)) == (None, None, 0)


def test_match_takes_best_price_first_then_earliest_at_a_price():
    book = Book()
    resting(
        book,
        (1, "maker_a", False, 101, 5),
        (2, "maker_b", False, 100, 5),
        (3, "maker_c", False, 100, 5),
    )
    steps = []
    left = book.match(True, 101, 12, "taker", CANCEL_TAKER, steps)
    assert left == 0
    assert [(m.oid, price, q) for m, price, q in steps] == [(2, 100, 5), (3, 100, 5), (1, 101, 2)]
    assert book.get(1).qty == 3 and book.best_ask() == 101


def test_match_stops_at_the_limit_price():
    book = Book()
    resting(book, (1, "mm", True, 100, 5), (2, "mm", True, 98, 5))
    steps = []
    assert book.match(False, 99, 20, "taker", CANCEL_TAKER, steps) == 15
    assert book.best_bid() == 98


def place(book: Book, order: Order, stp: str, steps: list) -> int:
    """A limit order through the book's public calls: match what crosses, rest the rest."""
    if book.crosses(order.is_buy, order.price):
        order.qty = book.match(order.is_buy, order.price, order.qty, order.owner, stp, steps)
        if not order.qty or book.taker_cancelled:
            return 0
    book.add(order)
    return order.qty


def move(book: Book, order: Order, price: int, stp: str, steps: list) -> int:
    """Re-price a resting order: remove it, then place it again (it loses priority, may trade)."""
    book.remove(order)
    order.price = price
    return place(book, order, stp, steps)


def test_move_loses_priority_and_shrinking_keeps_it():
    book = Book()
    first, second = resting(book, (1, "a", False, 100, 5), (2, "b", False, 100, 5))
    move(book, first, 100, CANCEL_TAKER, [])  # same price, still to the back
    assert [o.oid for o in book.level(False, 100)] == [2, 1]
    second.qty = 2  # a size decrease is done in place (the engine's amend)
    assert [o.oid for o in book.level(False, 100)] == [2, 1]


def test_move_across_the_spread_trades_and_rests_the_rest():
    book = Book()
    bid, ask = resting(book, (1, "buyer", True, 99, 5), (2, "seller", False, 101, 3))
    steps = []
    assert move(book, bid, 101, CANCEL_TAKER, steps) == 2
    assert [(m.oid, p, q) for m, p, q in steps] == [(2, 101, 3)]
    assert book.best_bid() == 101 and book.best_ask() is None and book.get(1) is bid


@pytest.mark.parametrize(
    ("mode", "taker_left", "maker_left"),
    [
        (CANCEL_TAKER, 4, 6),  # the taker stops at its own order; nothing else happens
        (CANCEL_MAKER, 0, None),  # own order gone, the taker fills against the next maker
        (CANCEL_BOTH, 4, None),  # own order gone and the taker ends
        (DECREMENT, 0, 2),  # own 6 vs taker 4: the maker shrinks to 2, no trade
    ],
)
def test_self_trade_prevention_modes(mode, taker_left, maker_left):
    book = Book()
    _, other = resting(book, (1, "trader", False, 100, 6), (2, "maker", False, 100, 10))
    steps = []
    left = book.match(True, 100, 4, "trader", mode, steps)
    assert all(m.owner != "trader" for m, p, _ in steps if p is not None), "no self-trade"
    assert book.taker_cancelled is (mode in (CANCEL_TAKER, CANCEL_BOTH))
    if mode == CANCEL_MAKER:
        assert [(m.oid, p, q) for m, p, q in steps] == [(1, None, 6), (2, 100, 4)]
    elif mode == DECREMENT:
        assert [(m.oid, p, q) for m, p, q in steps] == [(1, None, 4)]
    assert left == taker_left
    assert (book.get(1).qty if book.get(1) else None) == maker_left
    assert other.qty == (6 if mode == CANCEL_MAKER else 10)


book_ops = st.lists(
    st.tuples(
        st.sampled_from(("add", "take", "cancel", "move")),
        st.sampled_from(("u1", "u2", "u3")),
        st.booleans(),
        st.integers(95, 105),
        st.integers(1, 9),
        st.sampled_from(STP_MODES),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(book_ops)
def test_fill_preview_equals_the_match_and_the_book_never_rests_crossed(ops):
    book = Book()
    oid = 0
    for op, owner, is_buy, price, qty, stp in ops:
        oid += 1
        if op == "add":
            place(book, Order(oid, owner, is_buy, price, qty), stp, [])
        elif op == "take":
            preview = book.fillable(is_buy, price, qty, owner, stp)
            steps = []
            book.match(is_buy, price, qty, owner, stp, steps)
            fills = [(p, q) for _, p, q in steps if p is not None]
            assert preview == (sum(q for _, q in fills), fills[-1][0] if fills else 0)
        elif book.orders:
            target = book.orders[sorted(book.orders)[price % len(book.orders)]]
            if op == "cancel":
                book.remove(target)
            else:
                move(book, target, price, stp, [])
        assert not book.is_crossed()
        assert all(o.qty > 0 for o in book.orders.values())
        in_levels = sum(len(lv) for lv in book.bids.values()) + sum(len(lv) for lv in book.asks.values())
        assert in_levels == len(book)
        assert book.prices(True) == sorted(book.bids, reverse=True) and book.prices(False) == sorted(
            book.asks
        )
