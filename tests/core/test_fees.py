"""Fee tiers by 30-day volume, maker rebates, the API discount, and how fees round."""

from __future__ import annotations

import pytest
from core_venue import USDC, listed_venue, of

from offchain.core.messages.events import Trade
from offchain.core.model.fees import DAY_MS, DEFAULT_TIERS, FeeSchedule, VolumeWindow

M = 10**6 * 10**6  # one million in 6-decimal volume units


@pytest.mark.parametrize(
    ("volume", "maker", "taker"),
    [(0, -200, 2000), (M - 1, -200, 2000), (M, -250, 1800), (25 * M, -350, 1300), (10**4 * M, -500, 800)],
)
def test_tier_follows_thirty_day_volume(volume, maker, taker):
    assert FeeSchedule().rates(volume, api=False) == (maker, taker)


def test_api_flow_gets_ten_percent_off_fees_but_rebates_stay_whole():
    assert FeeSchedule().rates(0, api=True) == (-200, 1800)


def test_top_tier_is_a_sixty_percent_discount_and_no_trade_pays_out_more_than_it_takes():
    schedule = FeeSchedule()
    assert DEFAULT_TIERS[-1][2] * 10 == DEFAULT_TIERS[0][2] * 4
    best_taker = min(schedule.rates(v, api=True)[1] for v, _, _ in schedule.tiers)
    largest_rebate = max(-m for _, m, _ in schedule.tiers)
    assert best_taker >= largest_rebate


def test_schedule_must_have_six_increasing_tiers():
    with pytest.raises(ValueError):
        FeeSchedule(DEFAULT_TIERS[:5])
    with pytest.raises(ValueError):
        FeeSchedule(((0, 0, 1),) + DEFAULT_TIERS[2:] + (DEFAULT_TIERS[1],))


def test_volume_window_forgets_days_older_than_thirty():
    window = VolumeWindow()
    window.add(0, 5)
    window.add(10 * DAY_MS, 7)
    assert window.volume(29 * DAY_MS) == 12
    assert window.volume(30 * DAY_MS) == 7  # day 0 has left the window (reading changes nothing)
    assert window.days == {0: 5, 10: 7}
    window.add(40 * DAY_MS, 1)
    assert window.days == {40: 1} and window.volume(40 * DAY_MS) == 1


def test_traded_volume_moves_a_trader_to_the_next_tier_and_back_after_thirty_days():
    venue = listed_venue()
    venue.ok("deposit", account="trader", asset="USDC", amount="2000000")
    venue.ok("deposit", account="market_maker", asset="BTC", amount="100")
    venue.order("market_maker", "sell", "25", "50000")
    venue.order("trader", "buy", "20", "50000")  # 1 000 000 USDC of volume
    (trade,) = of(venue.order("trader", "buy", "1", "50000"), Trade)
    assert trade.taker_fee == 50_000 * USDC * 1800 // 10**6
    venue.t += 31 * 86_400
    (trade,) = of(venue.order("trader", "buy", "1", "50000"), Trade)
    assert trade.taker_fee == 50_000 * USDC * 2000 // 10**6


def test_fees_round_up_once_per_order_not_once_per_fill():
    venue = listed_venue()
    # ten makers of 0.00001 BTC at 1 USDC: each fill is 10 USDC atoms of notional, its 0.2 % fee 0.02 atoms
    venue.ok("market", symbol="DUST-USDC", base="BTC", quote="USDC", tick="0.01", lot="0.00000001")
    for i in range(10):
        venue.ok(
            "order",
            account="market_maker",
            symbol="DUST-USDC",
            side="sell",
            price="1",
            qty="0.00001",
            id=f"m{i}",
        )
    events = venue.ok("order", account="trader", symbol="DUST-USDC", side="buy", price="1", qty="0.0001")
    fees = [t.taker_fee for t in of(events, Trade)]
    assert fees == [1] + [0] * 9  # ceil(10 fills * 0.02) = 1 atom, charged once
    assert sum(t.maker_fee for t in of(events, Trade)) == 0  # each maker's 0.002-atom rebate rounds down
