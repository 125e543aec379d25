"""Liquidation decisions: who, how much, at what price, and whom to auto-deleverage.

The flow the engine runs (SPEC §3 "Liquidation"); this module only decides, it never mutates:

1. an account whose exact equity is below its maintenance requirement is liquidated
   (`Health.below_maintenance`); its orders are cancelled;
2. its largest risk (`Liquidator._pick`) is reduced through the book with IOC orders inside the
   impact band, by the least amount (:func:`min_reduction`) that brings it back to
   ``equity >= initial x (1 + buffer)`` (:func:`target_reached`);
3. what the book will not take goes to the backstop account at the bankruptcy price
   (:func:`bankruptcy_price`), as far as the backstop's own margin allows;
4. the rest is auto-deleveraged against opposite positions ranked by profit x leverage
   (:func:`adl_rank`), at the bankruptcy price;
5. the liquidation fee (``fee_ppm`` of the liquidated notional, never more than the equity left)
   goes to the insurance fund's account; a negative equity left after all that is bad debt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from offchain.core.risk.margin import Health, Valuation, account_health
from offchain.core.risk.params import PPM, ceil_div, require_ppm
from offchain.core.risk.perps import Position


@dataclass(frozen=True, slots=True)
class LiquidationParams:
    """Engine-wide liquidation parameters."""

    buffer_ppm: int = 50_000  # reduce until equity >= initial x 1.05
    fee_ppm: int = 5_000  # 0.5 % of the liquidated notional to the insurance fund

    def validate(self) -> None:
        """Refuse negative or absurd values."""
        require_ppm("buffer_ppm", self.buffer_ppm)
        require_ppm("liquidation fee_ppm", self.fee_ppm, hi=100_000)


def target_reached(health: Health, buffer_ppm: int) -> bool:
    """True once equity is at least the initial requirement plus the buffer (and not negative)."""
    return health.equity >= ceil_div(health.initial * (PPM + buffer_ppm), PPM) and health.equity >= 0


def bankruptcy_price(equity: int, qty: int, mark: int, unit: int) -> int:
    """Return the price at which closing ``qty`` leaves the account's equity at zero.

    Long: ``mark - equity x unit / qty`` rounded up; short: ``mark + equity x unit / |qty|`` rounded
    down — both round towards the account, so closing at it never leaves an artificial debt. The
    price is at least 1.
    """
    if qty == 0:
        return mark
    if qty > 0:
        return max(mark - (equity * unit) // qty, 1)
    return max(mark + (equity * unit) // (-qty), 1)


def liquidation_fee(notional: int, fee_ppm: int, equity_left: int) -> int:
    """Return the fee on a liquidated ``notional``: ``fee_ppm`` of it, never more than the equity left."""
    return max(min(ceil_div(notional * fee_ppm, PPM), equity_left), 0)


def min_reduction(size: int, lot: int, ok: Callable[[int], bool]) -> int:
    """Return the least multiple of ``lot`` (or ``size`` itself) whose removal satisfies ``ok``.

    ``ok`` must be monotone (reducing more never hurts); when even ``size`` fails, return ``size``.
    """
    if size <= 0:
        return 0
    lots = ceil_div(size, lot)
    lo, hi = 0, lots  # ok(lo * lot) is false (or lo == 0 untested), answer in (lo, hi]
    if ok(0):
        return 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(min(mid * lot, size)):
            hi = mid
        else:
            lo = mid
    return min(hi * lot, size)


@dataclass(frozen=True, slots=True)
class AdlCandidate:
    """An opposite position that auto-deleveraging may close."""

    account: str
    qty: int  # signed base atoms
    profit: int  # PnL since entry at the mark (quote atoms)
    entry_notional: int  # |qty| x entry price
    notional: int  # |qty| x mark
    equity: int  # the account's margin equity


def adl_score(c: AdlCandidate) -> tuple[int, Fraction]:
    """Return the sort key (smaller first) of profit x leverage.

    Profitable positions come first, highest ``(profit / entry_notional) x (notional / equity)``
    first; then the rest, least unprofitable per unit of leverage first. An account with equity at or
    below zero counts as maximally leveraged (equity taken as one atom).
    """
    equity = max(c.equity, 1)
    entry = max(c.entry_notional, 1)
    notional = max(c.notional, 1)
    if c.profit > 0:
        return 0, -Fraction(c.profit * c.notional, entry * equity)
    return 1, -Fraction(c.profit * equity, entry * notional)


def adl_rank(candidates: list[AdlCandidate]) -> list[AdlCandidate]:
    """Return ``candidates`` in auto-deleveraging order (ties: account id ascending)."""
    return sorted(candidates, key=lambda c: (*adl_score(c), c.account))


def excess(balances: Mapping[str, int], positions: Mapping[str, Position], v: Valuation) -> int:
    """Return equity minus maintenance: the account is liquidated when this is negative."""
    h = account_health(balances, positions, v)
    return h.equity - h.maintenance


def liquidation_prices(
    balances: Mapping[str, int],
    positions: Mapping[str, Position],
    v: Valuation,
    symbol: str,
    base: str | None,
    price: int,
) -> tuple[int | None, int | None]:
    """Return ``(below, above)``: the nearest prices of ``symbol`` at which the account would be liquidated.

    Everything else held constant; the market's ``base`` asset (if held as collateral) moves with it.
    ``below`` is the highest price under ``price`` where the account is liquidatable, ``above`` the
    lowest one over it (each None when there is none within [1, 1000 x price]). Found by bisection
    on exact integers, assuming the account's health is monotone on each side.
    """

    def bad(p: int) -> bool:
        return excess(balances, positions, v.with_price(symbol, base, p)) < 0

    if bad(price):
        return price, price
    below = _nearest_bad(bad, price, 1) if bad(1) else None
    top = price * 1000
    above = _nearest_bad(bad, price, top) if bad(top) else None
    return below, above


def _nearest_bad(bad: Callable[[int], bool], good: int, worse: int) -> int:
    """Bisect between a price where the account is healthy (``good``) and one where it is liquidatable
    (``worse``, on either side); return the liquidatable price nearest ``good``."""
    while abs(worse - good) > 1:
        mid = (good + worse) // 2
        if bad(mid):
            worse = mid
        else:
            good = mid
    return worse


def liquidation_price(
    balances: Mapping[str, int],
    positions: Mapping[str, Position],
    v: Valuation,
    symbol: str,
    base: str | None,
    price: int,
) -> int | None:
    """Return the price of ``symbol`` nearest ``price`` at which the account would be liquidated."""
    below, above = liquidation_prices(balances, positions, v, symbol, base, price)
    if below is None or above is None:
        return below if above is None else above
    return below if price - below <= above - price else above


def liquidation_cluster_ppm(
    exposures: Iterable[tuple[int, int, bool]], price: int, reach_ppm: int, open_interest: int
) -> int:
    """LCE: notional whose liquidation price lies within ``reach_ppm`` of ``price``, per OI (ppm).

    ``exposures`` are ``(liquidation_price, notional, is_long)``: a long (or a collateral holder)
    is liquidated when the price falls to its liquidation price, a short when it rises to it.
    Positions already past their liquidation price are in reach too.
    """
    if open_interest <= 0:
        return 0
    low = price - price * reach_ppm // PPM
    high = price + price * reach_ppm // PPM
    in_reach = 0
    for liq_price, notional, is_long in exposures:
        if (is_long and liq_price >= low) or (not is_long and liq_price <= high):
            in_reach += notional
    return min(PPM, in_reach * PPM // open_interest)
