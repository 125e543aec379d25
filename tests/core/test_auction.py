"""Call-auction uncrossing against published exchange rules and worked examples."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.core.matching.auction import OrderColumns, indicative, uncross

CENT = 1  # prices in cents in the published examples; tick = 1 cent


def test_asx_published_example_picks_highest_price_under_buy_pressure():
    """ASX SEATS "new call auction algorithm" (2002), worked example of the four principles.

    Source: ASX pre-open algorithm as taught in the UNSW trading-engine course reading
    (cgi.cse.unsw.edu.au/~fethir/TradingEngineCourse/session3/Additional readings/appendix of
    additional reading.htm): bids 500@6.40 (199), 500@6.39 (227), 500@6.39 (298), 1000@6.34,
    500@6.33; asks 1000@6.10, 500@6.40, 520@6.41, 550@6.42, 519@6.43. Principle 1: the maximum
    tradeable volume, 1,000, holds at every price from 6.10 to 6.39. Principle 2: the minimum
    surplus, 500, at every price from 6.35 to 6.39. Principle 3: the surplus is on the buy side,
    so the highest of those prices: 6.39.
    """
    bids = [(640, 500, 1), (639, 500, 2), (639, 500, 3), (634, 1000, 4), (633, 500, 5)]
    asks = [(610, 1000, 1), (640, 500, 2), (641, 520, 3), (642, 550, 4), (643, 519, 5)]

    result = uncross(bids, asks, tick=CENT)

    assert (result.price, result.volume, result.surplus) == (639, 1000, 500)
    # price-time: 6.40 fills first, then broker 227 (earlier at 6.39); broker 298 waits
    assert result.bid_fills == [(0, 500), (1, 500)]
    assert result.ask_fills == [(0, 1000)]
    assert result.trades == [(0, 0, 500), (1, 0, 500)]


def test_asx_example_every_price_step_between_limits_is_a_candidate():
    """Same book: the indicative volume is the same at 6.10 and at 6.39, as the ASX text states."""
    bids = [(640, 500, 1), (639, 500, 2), (639, 500, 3), (634, 1000, 4), (633, 500, 5)]
    asks = [(610, 1000, 1), (640, 500, 2), (641, 520, 3), (642, 550, 4), (643, 519, 5)]
    # drop the 6.40 bid: the buy surplus at 6.35..6.39 disappears, at 6.34 buyers = sellers (1000)
    without_top = bids[1:]

    result = indicative(without_top, asks, tick=CENT, reference=620)

    # max volume 1000 on 6.10..6.39; surplus 0 only at 6.35..6.39 (buy 1000, sell 1000);
    # no pressure, so the price nearest the reference 6.20 inside that range: 6.35, a price no
    # order was entered at
    assert (result.price, result.volume, result.surplus) == (635, 1000, 0)


def test_marketgrid_published_example_maximum_executable_volume():
    """MarketGrid single-price auction example: the maximum executable volume is 290 at 12,400.

    Source: MarketGrid documentation, "Matching algorithms / Auction" (cumulative bid and ask
    table; the MEV column peaks at 290 on the 12,400 row).
    """
    rows = [  # price, bid volume, ask volume
        (13100, 0, 35),
        (13000, 45, 50),
        (12900, 95, 10),
        (12800, 25, 15),
        (12700, 35, 10),
        (12600, 25, 20),
        (12500, 55, 90),
        (12400, 200, 155),
        (12300, 80, 125),
        (12200, 60, 10),
    ]
    bids = [(p, q, i) for i, (p, q, _) in enumerate(rows) if q]
    asks = [(p, q, i) for i, (p, _, q) in enumerate(rows) if q]

    result = uncross(bids, asks, tick=100)

    assert (result.price, result.volume) == (12400, 290)
    assert result.surplus == 480 - 290  # bid sum 480 against ask sum 290 at 12,400
    assert sum(q for _, q in result.bid_fills) == sum(q for _, q in result.ask_fills) == 290


def _two_sided_book():
    """Ten left over on the buy side at 100, on the sell side at 102, nothing at 101."""
    bids = [(102, 10, 1), (100, 10, 2)]
    asks = [(100, 10, 3), (102, 10, 4)]
    return bids, asks


@pytest.mark.parametrize(
    ("reference", "expected"),
    [(101, 101), (150, 102), (90, 100)],
    ids=["reference_inside_range", "reference_above_range", "reference_below_range"],
)
def test_no_surplus_tie_resolves_to_price_nearest_reference(reference, expected):
    """Xetra/ASX step 4: no surplus anywhere in 100..102, so the reference price decides.

    Xetra market model ("auction price determination"): with surplus on both sides, or none, the
    auction price is the reference price when it lies in the candidate range, else the end of the
    range nearest to it.
    """
    bids = [(102, 10, 1)]
    asks = [(100, 10, 2)]

    result = uncross(bids, asks, tick=1, reference=reference)

    assert (result.price, result.volume, result.surplus) == (expected, 10, 0)


def test_least_surplus_beats_reference_price():
    """Step 2 before step 4: at 100 and 102 ten are left over, at 101 nothing, whatever the reference."""
    bids, asks = _two_sided_book()

    result = uncross(bids, asks, tick=1, reference=150)

    assert (result.price, result.volume, result.surplus) == (101, 10, 0)


def test_surplus_on_both_sides_uses_reference_price():
    """Xetra: equal surplus on the buy side at one limit and the sell side at the next -> reference."""
    bids = [(101, 10, 1), (100, 10, 2)]
    asks = [(100, 10, 3), (101, 10, 4)]
    # at 100: buy 20 / sell 10 (+10); at 101: buy 10 / sell 20 (-10); no tick in between
    assert uncross(bids, asks, tick=1, reference=101).price == 101
    assert uncross(bids, asks, tick=1, reference=99).price == 100


def test_sell_pressure_picks_lowest_price():
    """Xetra/ASX step 3, sell side: the seller surplus is the same at 98..100, so the lowest, 98."""
    bids = [(100, 10, 1)]
    asks = [(98, 30, 2)]

    result = uncross(bids, asks, tick=1, reference=100)

    assert (result.price, result.volume, result.surplus) == (98, 10, -20)


def test_off_tick_reference_price_is_rounded_to_the_tick():
    """An index price between ticks never becomes an auction price: it is rounded first."""
    bids = [(1_000_000, 10, 1)]
    asks = [(980_000, 10, 2)]

    result = uncross(bids, asks, tick=100, reference=990_049)

    assert result.price == 990_000
    assert result.price % 100 == 0


def test_only_market_orders_execute_at_reference_price():
    """Xetra: when only market orders are executable, the auction price is the reference price."""
    result = uncross([(None, 7, 1)], [(None, 5, 2)], tick=1, reference=250)

    assert (result.price, result.volume, result.surplus) == (250, 5, 2)
    assert uncross([(None, 7, 1)], [(None, 5, 2)], tick=1).price is None  # no reference: no price


def test_market_orders_fill_before_limits_at_the_same_side():
    """Market orders carry the highest priority on their side, whatever their time."""
    bids = [(105, 10, 1), (None, 10, 9)]
    asks = [(100, 15, 2)]

    result = uncross(bids, asks, tick=1, reference=100)

    assert result.volume == 15
    assert result.bid_fills == [(1, 10), (0, 5)]


def test_book_that_does_not_cross_has_no_auction_price():
    result = uncross([(99, 10, 1)], [(100, 10, 2)], tick=1, reference=100)

    assert (result.price, result.volume, result.trades) == (None, 0, [])
    assert indicative([], [(100, 10, 2)], tick=1).price is None


def test_time_priority_at_the_auction_price_gives_partial_fill_to_the_later_order():
    bids = [(100, 10, 5), (100, 10, 3)]
    asks = [(100, 15, 1)]

    result = uncross(bids, asks, tick=1)

    assert result.bid_fills == [(1, 10), (0, 5)]


def test_eighteen_decimal_quantities_stay_exact():
    """USDE has 18 decimals: 10**24 atoms overflow int64, and no atom may be lost."""
    unit = 10**18
    bids = [(1_000_000, 3_000_000 * unit + 1, 1)]
    asks = [(990_000, 2_000_000 * unit, 2), (995_000, 10**40, 3)]

    result = uncross(bids, asks, tick=100, reference=1_000_000)

    assert result.volume == 3_000_000 * unit + 1
    assert sum(q for _, _, q in result.trades) == result.volume
    assert result.ask_fills == [(0, 2_000_000 * unit), (1, 1_000_000 * unit + 1)]


def test_columns_and_tuples_give_the_same_uncrossing():
    bids = [(101, 4, 1), (None, 3, 2), (100, 5, 3)]
    asks = [(99, 6, 4), (100, 7, 5)]
    columns = (
        OrderColumns([p for p, _, _ in bids], [q for _, q, _ in bids], [t for _, _, t in bids]),
        OrderColumns([p for p, _, _ in asks], [q for _, q, _ in asks], [t for _, _, t in asks]),
    )

    assert uncross(*columns, tick=1, reference=100) == uncross(bids, asks, tick=1, reference=100)


def test_non_positive_tick_is_refused():
    with pytest.raises(ValueError, match="tick"):
        uncross([(1, 1, 1)], [(1, 1, 2)], tick=0)


# -- property: the vectorised search agrees with a brute force over every tick -----------------


def _brute_force(bids, asks, tick, reference):
    """The four published principles, literally, over every tick between the extreme limits."""
    limits = [p for p, _, _ in bids + asks if p is not None]
    if not limits:
        return None, 0
    rows = []
    for price in range(min(limits), max(limits) + 1, tick):
        buy = sum(q for p, q, _ in bids if p is None or p >= price)
        sell = sum(q for p, q, _ in asks if p is None or p <= price)
        rows.append((price, min(buy, sell), buy - sell))
    best = max(v for _, v, _ in rows)
    if best == 0:
        return None, 0
    rows = [r for r in rows if r[1] == best]
    least = min(abs(s) for _, _, s in rows)
    rows = [r for r in rows if abs(r[2]) == least]
    if least and all(s > 0 for _, _, s in rows):
        return rows[-1][0], best
    if least and all(s < 0 for _, _, s in rows):
        return rows[0][0], best
    ref = (reference + tick // 2) // tick * tick
    return min(rows, key=lambda r: (abs(r[0] - ref), r[0]))[0], best


order_strategy = st.tuples(
    st.one_of(st.none(), st.integers(90, 110).map(lambda x: x * 5)),
    st.integers(1, 50),
    st.integers(0, 1000),
)


@settings(max_examples=300, deadline=None)
@given(
    bids=st.lists(order_strategy, max_size=12),
    asks=st.lists(order_strategy, max_size=12),
    reference=st.integers(440, 560),
)
def test_uncross_matches_brute_force_of_published_rules(bids, asks, reference):
    tick = 5
    if not any(p is not None for p, _, _ in bids + asks):
        bids = bids + [(500, 1, 0)]
    result = uncross(bids, asks, tick=tick, reference=reference)
    expected_price, expected_volume = _brute_force(bids, asks, tick, reference)

    assert (result.price, result.volume) == (expected_price, expected_volume)
    if result.price is None:
        return
    _assert_price_time_allocation(bids, dict(result.bid_fills), result.price, is_bid=True)
    _assert_price_time_allocation(asks, dict(result.ask_fills), result.price, is_bid=False)
    assert sum(dict(result.bid_fills).values()) == sum(dict(result.ask_fills).values()) == result.volume
    assert sum(q for _, _, q in result.trades) == result.volume


def _assert_price_time_allocation(orders, fills, price, is_bid):
    """Fills run full, full, ..., partial, nothing in priority order, and only at or through the price."""

    def rank(i):
        p, _, t = orders[i]
        if p is None:
            return (0, 0, t, i)
        return (1, -p if is_bid else p, t, i)

    ordered = sorted(range(len(orders)), key=rank)
    seen_short = False
    for i in ordered:
        p, qty, _ = orders[i]
        filled = fills.get(i, 0)
        if filled:
            assert not seen_short, "a lower-priority order filled before a higher one was complete"
            assert p is None or (p >= price if is_bid else p <= price)
        if filled < qty:
            seen_short = True
