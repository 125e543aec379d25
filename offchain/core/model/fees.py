"""Maker/taker fees: six tiers by 30-day volume, maker rebates, an extra discount for API flow.

Rates are signed parts-per-million of the quote notional: a negative maker rate is a rebate. The
default schedule follows the seeds (SPEC §3): takers pay 0.2 % down to 0.08 % (a 60 % discount at the
top tier), makers earn a 0.02 % to 0.05 % rebate, and API flow takes 10 % off any positive rate.
The best taker rate stays above the largest rebate, so on every trade the exchange keeps at least
what it pays out.

Fees are charged in the quote asset. Each order accumulates `notional * rate` over its fills and has
paid `ceil(total / 10**6)` so far; a fill's fee is the increase. Rounding is therefore up, in the
exchange's favour, once per order rather than once per fill (a rebate rounds down), and the hold a
buy order takes up front (`buy_hold`) always covers what it can be charged.
"""

from __future__ import annotations

from offchain.core.units import PPM

DAY_MS = 86_400_000
WINDOW_DAYS = 30
VOLUME_DECIMALS = 6  # 30-day volume is counted in quote notional scaled to 6 decimals (USD-stable quotes)

# (minimum 30-day volume in whole quote units, maker ppm, taker ppm)
DEFAULT_TIERS: tuple[tuple[int, int, int], ...] = (
    (0, -200, 2000),
    (1_000_000, -250, 1800),
    (5_000_000, -300, 1600),
    (25_000_000, -350, 1300),
    (100_000_000, -400, 1000),
    (500_000_000, -500, 800),
)
DEFAULT_API_DISCOUNT_PPM = 100_000  # 10 % off positive rates for orders that arrive through the API


class FeeSchedule:
    """Tiered maker/taker rates."""

    __slots__ = ("tiers", "api_discount_ppm")

    def __init__(
        self,
        tiers: tuple[tuple[int, int, int], ...] = DEFAULT_TIERS,
        api_discount_ppm: int = DEFAULT_API_DISCOUNT_PPM,
    ) -> None:
        if len(tiers) != 6:
            raise ValueError("a fee schedule has six tiers")
        if [t[0] for t in tiers] != sorted({t[0] for t in tiers}) or tiers[0][0] != 0:
            raise ValueError("tier volumes start at 0 and strictly increase")
        self.tiers = tuple((int(v) * 10**VOLUME_DECIMALS, int(m), int(t)) for v, m, t in tiers)
        self.api_discount_ppm = api_discount_ppm

    def tier(self, volume: int) -> int:
        """Return the tier index (0-5) for a 30-day volume in 6-decimal quote units."""
        tiers = self.tiers
        if volume < tiers[1][0]:  # most accounts: checked on every order, so first
            return 0
        for i in range(len(tiers) - 1, 0, -1):
            if volume >= tiers[i][0]:
                return i
        return 0

    def rates(self, volume: int, api: bool) -> tuple[int, int]:
        """Return `(maker_ppm, taker_ppm)` for a 30-day volume; API flow gets a discount on fees, not rebates."""
        tiers = self.tiers
        # most accounts are in the first tier, and every order asks: decided here without `tier`
        _, maker, taker = tiers[0] if volume < tiers[1][0] else tiers[self.tier(volume)]
        if api:
            keep = PPM - self.api_discount_ppm
            if maker > 0:
                maker = maker * keep // PPM
            taker = taker * keep // PPM
        return maker, taker

    def to_state(self) -> dict:
        return {
            "tiers": [[v // 10**VOLUME_DECIMALS, m, t] for v, m, t in self.tiers],
            "api_discount_ppm": self.api_discount_ppm,
        }

    @classmethod
    def from_state(cls, state: dict) -> FeeSchedule:
        return cls(tuple(tuple(t) for t in state["tiers"]), state["api_discount_ppm"])


def buy_hold(price: int, qty: int, unit: int, fee_acc: int, fee_paid: int, max_ppm: int) -> int:
    """Return the quote a buy order must hold to cover `qty` more at up to `price`, fees included.

    `fee_acc`/`fee_paid` are the order's fee accumulator and what it has paid; `max_ppm` is the largest
    non-negative rate it can be charged. Fill by fill, the hold taken never falls below this amount.
    """
    # `units.ceil_div` inlined (every buy order and every fill of one comes here; tests/core/test_units.py)
    notional = -(-price * qty // unit)
    return notional - ((-fee_acc - notional * max_ppm) // PPM) - fee_paid


def to_volume(notional: int, quote_unit: int) -> int:
    """Return a quote notional in 6-decimal volume units."""
    return notional * 10**VOLUME_DECIMALS // quote_unit


class VolumeWindow:
    """An account's traded volume per day over the last 30 days (days are `ts // DAY_MS`)."""

    __slots__ = ("days", "total", "oldest")

    def __init__(self) -> None:
        self.days: dict[int, int] = {}
        self.total = 0
        # the first day in `days` (the oldest: time never goes back), None while empty; asked on every
        # order and fill, so kept here rather than read off the dict each time
        self.oldest: int | None = None

    def add(self, ts: int, volume: int) -> None:
        """Count traded volume on the day of `ts` and forget days that left the window."""
        day = ts // DAY_MS
        days = self.days
        oldest = self.oldest
        if oldest is None:
            self.oldest = day
        elif oldest <= day - WINDOW_DAYS:
            first = day - WINDOW_DAYS + 1
            for old in [d for d in days if d < first]:
                self.total -= days.pop(old)
            self.oldest = next(iter(days)) if days else day
        days[day] = days.get(day, 0) + volume
        self.total += volume

    def volume(self, ts: int) -> int:
        """Return the volume of the 30 days ending with the day of `ts` (read-only)."""
        oldest = self.oldest
        first = ts // DAY_MS - WINDOW_DAYS + 1
        if oldest is None or oldest >= first:
            return self.total
        return sum(v for d, v in self.days.items() if d >= first)

    def to_state(self) -> list:
        return [[d, v] for d, v in sorted(self.days.items())]

    @classmethod
    def from_state(cls, state: list) -> VolumeWindow:
        w = cls()
        for d, v in state:
            w.days[d] = v
            w.total += v
        if w.days:
            w.oldest = next(iter(w.days))
        return w
