"""Cross-margin account value and margin requirements, in exact integers.

Account value (``equity``), in quote atoms of the settlement asset (USDC):
    sum over positive balances of  value x collateral weight   (weights taper for large balances)
  - sum over negative balances of  value                        (borrows at full value)
  + sum over perp positions of     unrealised PnL at the mark

Requirements (initial and maintenance), in the same unit:
- each perp position: its notional ``|qty| x mark`` through the market's size tiers, marginally (the
  part of the notional inside a tier pays that tier's rate, so a requirement never jumps);
- each borrow: its value x the asset's ``borrow_imr_ppm`` / ``borrow_mmr_ppm``;
- a market's requirements are scaled by its volatility multiplier ``clamp(vol / vol_ref, 1, cap)``
  (maintenance rises with realised volatility; initial rises with it so that it stays above).

Rounding: collateral values round down, borrows and requirements round up (the exchange's side).
The exchange's own token has collateral weight 0 and :meth:`AssetRisk.validate` refuses anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from offchain.core.codes import RejectCode as R
from offchain.core.risk.params import (
    MAX_VOL_MULTIPLIER_PPM,
    MIN_IMR_PPM,
    PPM,
    ceil_div,
    require,
    require_ppm,
)
from offchain.core.risk.perps import Position


@dataclass(frozen=True, slots=True)
class WeightTier:
    """Collateral weight for the part of a balance's value below ``up_to`` (quote atoms; None = no cap)."""

    up_to: int | None
    weight_ppm: int


@dataclass(frozen=True, slots=True)
class AssetRisk:
    """Risk parameters of one asset."""

    symbol: str
    decimals: int
    weight_ppm: int = PPM
    taper: tuple[WeightTier, ...] = ()  # empty: the flat weight for any size
    own_token: bool = False
    borrow_imr_ppm: int = 100_000  # borrowing needs 10 % of its value as initial margin
    borrow_mmr_ppm: int = 50_000  # and keeps 5 % as maintenance

    @property
    def unit(self) -> int:
        """Atoms per whole unit."""
        return 10**self.decimals

    @property
    def tiers(self) -> tuple[WeightTier, ...]:
        """The weight brackets applied to a positive balance's value."""
        return self.taper or (WeightTier(None, self.weight_ppm),)

    def validate(self) -> None:
        """Refuse own-token collateral, weights outside [0, 1], and a taper that rises."""
        if self.own_token and (self.weight_ppm != 0 or any(t.weight_ppm for t in self.taper)):
            raise_own_token(self.symbol)
        require_ppm(f"{self.symbol} collateral weight", self.weight_ppm)
        require_ppm(f"{self.symbol} borrow_imr_ppm", self.borrow_imr_ppm)
        require_ppm(f"{self.symbol} borrow_mmr_ppm", self.borrow_mmr_ppm)
        require(
            self.borrow_imr_ppm >= self.borrow_mmr_ppm,
            R.BAD_PARAM,
            f"{self.symbol}: borrow initial margin must not be below maintenance",
        )
        prev_cap, prev_w = 0, self.weight_ppm
        for i, tier in enumerate(self.taper):
            require_ppm(f"{self.symbol} taper weight", tier.weight_ppm, hi=prev_w)
            last = i == len(self.taper) - 1
            require(
                (tier.up_to is None) == last, "bad_param", f"{self.symbol}: only the last taper tier is open"
            )
            if tier.up_to is not None:
                require(tier.up_to > prev_cap, R.BAD_PARAM, f"{self.symbol}: taper tiers must increase")
                prev_cap = tier.up_to
            prev_w = tier.weight_ppm


def raise_own_token(symbol: str) -> None:
    """Refuse a parameter set that would make the exchange's own token collateral (the FTX rule)."""
    require(
        False,
        R.OWN_TOKEN_COLLATERAL,
        f"{symbol} is the exchange's own token: its collateral weight must be 0 (FTX rule), nothing else",
    )


def default_taper(weight_ppm: int, quote_unit: int) -> tuple[WeightTier, ...]:
    """Return the default taper: full weight to $1M, 90 % of it to $10M, 75 % above."""
    return (
        WeightTier(1_000_000 * quote_unit, weight_ppm),
        WeightTier(10_000_000 * quote_unit, weight_ppm * 9 // 10),
        WeightTier(None, weight_ppm * 3 // 4),
    )


@dataclass(frozen=True, slots=True)
class MarginTier:
    """Initial and maintenance rates for the part of a notional below ``up_to`` (quote atoms)."""

    up_to: int | None
    imr_ppm: int
    mmr_ppm: int


def default_tiers(max_leverage: int, quote_unit: int) -> tuple[MarginTier, ...]:
    """Return size tiers starting at ``max_leverage`` (imr = 1/L, mmr = imr/2), doubling per tier."""
    imr = PPM // max_leverage
    caps = (1_000_000, 5_000_000, 20_000_000)
    tiers = [
        MarginTier(cap * quote_unit, min(imr << i, PPM), min(imr << i, PPM) // 2)
        for i, cap in enumerate(caps)
    ]
    tiers.append(MarginTier(None, min(imr << len(caps), PPM), min(imr << len(caps), PPM) // 2))
    return tuple(tiers)


@dataclass(frozen=True, slots=True)
class MarketRisk:
    """Margin parameters of one market."""

    tiers: tuple[MarginTier, ...]
    vol_ref_ppm: int = 3_000  # realised vol per sample at which requirements start rising
    vol_cap_ppm: int = 3 * PPM  # requirements rise at most threefold

    def validate(self) -> None:
        """Refuse leverage above 50x, maintenance above initial, and tiers that loosen with size."""
        require(len(self.tiers) > 0, R.BAD_PARAM, "a market needs at least one margin tier")
        prev_cap, prev = 0, (0, 0)
        for i, tier in enumerate(self.tiers):
            require_ppm("imr_ppm", tier.imr_ppm)
            require_ppm("mmr_ppm", tier.mmr_ppm)
            require(
                tier.imr_ppm >= MIN_IMR_PPM,
                R.LEVERAGE_TOO_HIGH,
                f"initial margin {tier.imr_ppm} ppm allows more than 50x leverage",
            )
            require(0 < tier.mmr_ppm <= tier.imr_ppm, R.BAD_PARAM, "maintenance must be in (0, initial]")
            require(
                tier.imr_ppm >= prev[0] and tier.mmr_ppm >= prev[1],
                R.BAD_PARAM,
                "margin rates must not fall with size",
            )
            last = i == len(self.tiers) - 1
            require((tier.up_to is None) == last, R.BAD_PARAM, "only the last margin tier is open")
            if tier.up_to is not None:
                require(tier.up_to > prev_cap, R.BAD_PARAM, "margin tiers must increase")
                prev_cap = tier.up_to
            prev = (tier.imr_ppm, tier.mmr_ppm)
        require(self.vol_ref_ppm > 0, R.BAD_PARAM, "vol_ref_ppm must be positive")
        require_ppm("vol_cap_ppm", self.vol_cap_ppm, lo=PPM, hi=MAX_VOL_MULTIPLIER_PPM)

    def vol_multiplier_ppm(self, vol_ppm: int) -> int:
        """Return ``clamp(vol / vol_ref, 1, cap)`` in ppm."""
        return min(max(vol_ppm * PPM // self.vol_ref_ppm, PPM), self.vol_cap_ppm)


def weighted_value(value: int, tiers: tuple[WeightTier, ...]) -> int:
    """Return ``value`` x its tapered weight (marginal brackets, rounded down)."""
    total, lo = 0, 0
    for tier in tiers:
        hi = value if tier.up_to is None else min(value, tier.up_to)
        if hi > lo:
            total += (hi - lo) * tier.weight_ppm
        if tier.up_to is None or value <= tier.up_to:
            break
        lo = tier.up_to
    return total // PPM


def requirement(notional: int, tiers: tuple[MarginTier, ...], initial: bool) -> int:
    """Return the initial (or maintenance) margin on ``notional`` through ``tiers`` (rounded up)."""
    total, lo = 0, 0
    for tier in tiers:
        hi = notional if tier.up_to is None else min(notional, tier.up_to)
        if hi > lo:
            total += (hi - lo) * (tier.imr_ppm if initial else tier.mmr_ppm)
        if tier.up_to is None or notional <= tier.up_to:
            break
        lo = tier.up_to
    return ceil_div(total, PPM)


@dataclass(slots=True)
class Valuation:
    """Everything needed to value accounts at one instant: parameters and prices."""

    assets: dict[str, AssetRisk] = field(default_factory=dict)
    asset_price: dict[str, int] = field(default_factory=dict)  # quote atoms per whole unit
    markets: dict[str, MarketRisk] = field(default_factory=dict)
    market_mark: dict[str, int] = field(default_factory=dict)
    market_unit: dict[str, int] = field(default_factory=dict)  # 10**base_decimals
    vol_mult_ppm: dict[str, int] = field(default_factory=dict)

    def with_price(self, symbol: str, base: str | None, price: int) -> Valuation:
        """Return a copy where market ``symbol`` (and its ``base`` asset as collateral) is at ``price``."""
        v = Valuation(
            self.assets,
            dict(self.asset_price),
            self.markets,
            dict(self.market_mark),
            self.market_unit,
            self.vol_mult_ppm,
        )
        if symbol in v.market_mark or symbol in self.markets:
            v.market_mark[symbol] = price
        if base is not None and base in v.asset_price:
            v.asset_price[base] = price
        return v


@dataclass(frozen=True, slots=True)
class Health:
    """An account's value and requirements at one valuation (quote atoms)."""

    equity: int
    collateral: int
    borrows: int
    upnl: int
    initial: int
    maintenance: int

    @property
    def below_maintenance(self) -> bool:
        """True when the account must be liquidated."""
        return self.equity < self.maintenance

    @property
    def free(self) -> int:
        """Equity above the initial requirement (negative: no new risk may be added)."""
        return self.equity - self.initial


def asset_value(balance: int, price: int, unit: int) -> int:
    """Return a balance's value in quote atoms: floor for holdings, ceiling for debts (as positive)."""
    return balance * price // unit if balance >= 0 else ceil_div(-balance * price, unit)


def account_health(balances: Mapping[str, int], positions: Mapping[str, Position], v: Valuation) -> Health:
    """Return an account's exact :class:`Health` under valuation ``v``.

    A balance whose asset has no price yet counts for nothing (a holding) — debts in such an asset
    cannot arise, since borrowing needs a price.
    """
    collateral = borrows = upnl = initial = maintenance = 0
    for asset, bal in balances.items():
        if bal == 0:
            continue
        price = v.asset_price.get(asset)
        if price is None:
            continue
        risk = v.assets[asset]
        if bal > 0:
            collateral += weighted_value(bal * price // risk.unit, risk.tiers)
        else:
            value = ceil_div(-bal * price, risk.unit)
            borrows += value
            initial += ceil_div(value * risk.borrow_imr_ppm, PPM)
            maintenance += ceil_div(value * risk.borrow_mmr_ppm, PPM)
    for symbol, pos in positions.items():
        if pos.is_flat:
            continue
        mark = v.market_mark[symbol]
        unit = v.market_unit[symbol]
        upnl += pos.upnl(mark, unit)
        if pos.qty:
            tiers = v.markets[symbol].tiers
            notional = pos.notional(mark, unit)
            mult = v.vol_mult_ppm.get(symbol, PPM)
            initial += ceil_div(requirement(notional, tiers, True) * mult, PPM)
            maintenance += ceil_div(requirement(notional, tiers, False) * mult, PPM)
    return Health(collateral - borrows + upnl, collateral, borrows, upnl, initial, maintenance)
