"""Vectorised revaluation of every account after a price move (numpy, float64 screening only).

:class:`RiskMatrix` keeps a struct-of-arrays copy of all accounts' balances and perp positions.
After a price move, :meth:`RiskMatrix.screen` computes equity and maintenance for all accounts at
once in float64 and returns the accounts that *may* be below maintenance: the float result is
widened by a tolerance far above float64 error (1e-9 relative plus one atom per rounded term), so an
account the exact integers find below maintenance is never missed. No action is ever taken on the
float result: the engine re-checks each candidate with :func:`offchain.core.risk.margin.account_health`
(exact integers) first.

The same arrays give the breaker's LCE metric a linearised liquidation price per account and
market (:meth:`RiskMatrix.liquidation_levels`), which is a metric, never an action.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from offchain.core.risk.margin import AssetRisk, MarketRisk, Valuation
from offchain.core.risk.params import PPM
from offchain.core.risk.perps import Position

_TOLERANCE = 1e-9


def _bracketed(value: np.ndarray, tiers: tuple, rate: str) -> np.ndarray:
    """Return ``value`` through marginal brackets ``tiers`` (``up_to`` caps, ``rate`` ppm field)."""
    total = np.zeros_like(value)
    lo = 0.0
    for tier in tiers:
        hi = np.inf if tier.up_to is None else float(tier.up_to)
        total += np.clip(value - lo, 0.0, hi - lo) * (getattr(tier, rate) / PPM)
        lo = hi
    return total


class RiskMatrix:
    """All accounts' balances and positions as float64 arrays, one column per account.

    Kept per asset: the holdings ``pos = max(balance, 0)`` and the borrows ``neg = min(balance, 0)``;
    per market: ``qty``, ``|qty|`` and ``quote_open``; per account: the sum of ``quote_open``. None of
    it depends on prices or parameters, so a price move costs a few matrix-vector products: the prices
    (times weights, rates and ``1 / unit``) are the vectors.
    """

    _LINES = ("pos", "neg", "qty", "aq", "qopen")

    def __init__(self) -> None:
        self.assets: list[str] = []
        self.markets: list[str] = []
        self.accounts: list[str] = []
        self.row: dict[str, int] = {}
        for name in self._LINES:
            setattr(self, name, np.zeros((0, 1024)))
        self.qsum = np.zeros(1024)

    @property
    def size(self) -> int:
        """Number of accounts held."""
        return len(self.accounts)

    @property
    def bal(self) -> np.ndarray:
        """Balances (atoms, float64), one line per asset."""
        return self.pos + self.neg

    def _grow(self, rows: int) -> None:
        cap = self.qsum.shape[0]
        if rows > cap:
            cap = max(rows, 2 * cap)
        for name in self._LINES:
            lines = len(self.assets) if name in ("pos", "neg") else len(self.markets)
            old = getattr(self, name)
            if old.shape[0] < lines or old.shape[1] < cap:
                new = np.zeros((max(lines, old.shape[0]), cap))
                new[: old.shape[0], : old.shape[1]] = old
                setattr(self, name, new)
        if self.qsum.shape[0] < cap:
            self.qsum = np.concatenate([self.qsum, np.zeros(cap - self.qsum.shape[0])])

    def column(self, kind: str, symbol: str) -> int:
        """Return the line of an asset (``kind="asset"``) or market, adding it when new."""
        names = self.assets if kind == "asset" else self.markets
        if symbol not in names:
            names.append(symbol)
            self._grow(self.size)
        return names.index(symbol)

    def update(self, account: str, balances: Mapping[str, int], positions: Mapping[str, Position]) -> None:
        """Write ``account``'s entries from its exact balances and positions."""
        r = self.row.get(account)
        if r is None:
            r = len(self.accounts)
            self._grow(r + 1)
            self.accounts.append(account)
            self.row[account] = r
        for name in self._LINES:
            getattr(self, name)[:, r] = 0.0
        for asset, b in balances.items():
            if b:
                c = self.column("asset", asset)  # first: adding a line replaces the arrays
                if b > 0:
                    self.pos[c, r] = float(b)
                else:
                    self.neg[c, r] = float(b)
        total = 0.0
        for symbol, p in positions.items():
            if not p.is_flat:
                c = self.column("market", symbol)
                self.qty[c, r] = float(p.qty)
                self.aq[c, r] = float(abs(p.qty))
                self.qopen[c, r] = float(p.quote_open)
                total += float(p.quote_open)
        self.qsum[r] = total

    def load(self, accounts: list[str], bal: np.ndarray, qty: np.ndarray, qopen: np.ndarray) -> None:
        """Replace every entry at once from ``(accounts x assets)`` and ``(accounts x markets)`` arrays."""
        self.accounts = list(accounts)
        self.row = {a: i for i, a in enumerate(self.accounts)}
        bal_t = np.ascontiguousarray(np.asarray(bal, dtype=np.float64).T)
        self.pos = np.maximum(bal_t, 0.0)
        self.neg = np.minimum(bal_t, 0.0)
        self.qty = np.ascontiguousarray(np.asarray(qty, dtype=np.float64).T)
        self.aq = np.abs(self.qty)
        self.qopen = np.ascontiguousarray(np.asarray(qopen, dtype=np.float64).T)
        self.qsum = self.qopen.sum(axis=0)

    def exact_inputs(self, account: str) -> tuple[dict[str, int], dict[str, Position]]:
        """Return the integer balances and positions of a row (exact while below 2**53 atoms)."""
        r = self.row[account]
        bal = self.pos[:, r] + self.neg[:, r]
        balances = {a: int(bal[j]) for j, a in enumerate(self.assets) if bal[j]}
        positions = {
            m: Position(int(self.qty[j, r]), int(self.qopen[j, r]))
            for j, m in enumerate(self.markets)
            if self.qty[j, r] or self.qopen[j, r]
        }
        return balances, positions

    def revalue(self, v: Valuation, initial: bool = False) -> dict[str, np.ndarray]:
        """Return float64 arrays (one entry per account) of equity, maintenance and the error scale.

        With ``initial`` the initial requirement is computed too. Every account is first valued with
        each asset's first weight bracket and each market's first margin tier (matrix-vector
        products); only the accounts that reach past a first bracket are recomputed bracket by bracket.
        """
        n = self.size
        na, nm = len(self.assets), len(self.markets)
        held = np.zeros(na)  # value per holding atom at the first weight
        owed = np.zeros(na)  # value per borrowed atom
        b_mmr = np.zeros(na)
        b_imr = np.zeros(na)
        tapered: list[tuple[int, float, AssetRisk]] = []
        for j, asset in enumerate(self.assets):
            risk = v.assets.get(asset)
            price = v.asset_price.get(asset)
            if risk is None or price is None:
                continue
            scale = price / risk.unit
            held[j] = scale * risk.tiers[0].weight_ppm / PPM
            owed[j] = scale
            b_mmr[j] = -scale * risk.borrow_mmr_ppm / PPM
            b_imr[j] = -scale * risk.borrow_imr_ppm / PPM
            if len(risk.tiers) > 1:
                tapered.append((j, scale, risk))
        pos, neg = self.pos[:na, :n], self.neg[:na, :n]
        collateral = held @ pos
        borrows = -(owed @ neg)
        maint = b_mmr @ neg
        init = b_imr @ neg if initial else None
        if tapered:
            past = np.zeros(n, dtype=bool)
            for j, scale, risk in tapered:
                past |= pos[j] > risk.tiers[0].up_to / scale
            big = np.nonzero(past)[0]
            for j, scale, risk in tapered:
                value = pos[j, big] * scale
                first = value * (risk.tiers[0].weight_ppm / PPM)
                collateral[big] += _bracketed(value, risk.tiers, "weight_ppm") - first
        upnl = self.qsum[:n].copy()
        if nm:
            per = np.zeros(nm)
            mmr = np.zeros(nm)
            imr = np.zeros(nm)
            tiered: list[tuple[int, float, MarketRisk, float]] = []
            for j, market in enumerate(self.markets):
                risk = v.markets.get(market)
                mark = v.market_mark.get(market)
                if risk is None or mark is None:
                    continue
                scale = mark / v.market_unit[market]
                mult = v.vol_mult_ppm.get(market, PPM) / PPM
                per[j] = scale
                mmr[j] = scale * risk.tiers[0].mmr_ppm / PPM * mult
                imr[j] = scale * risk.tiers[0].imr_ppm / PPM * mult
                if len(risk.tiers) > 1:
                    tiered.append((j, scale, risk, mult))
            qty, aq = self.qty[:nm, :n], self.aq[:nm, :n]
            upnl += per @ qty
            maint = maint + mmr @ aq
            if initial:
                init = init + imr @ aq
            if tiered:
                past = np.zeros(n, dtype=bool)
                for j, scale, risk, _ in tiered:
                    past |= aq[j] > risk.tiers[0].up_to / scale
                big = np.nonzero(past)[0]
                for j, scale, risk, mult in tiered:
                    notional = aq[j, big] * scale
                    first = risk.tiers[0]
                    extra = _bracketed(notional, risk.tiers, "mmr_ppm") - notional * first.mmr_ppm / PPM
                    maint[big] += extra * mult
                    if initial:
                        extra = _bracketed(notional, risk.tiers, "imr_ppm") - notional * first.imr_ppm / PPM
                        init[big] += extra * mult
        out = {"equity": collateral - borrows + upnl, "maintenance": maint}
        if initial:
            out["initial"] = init
        out["scale"] = collateral + borrows + np.abs(upnl) + (per @ aq if nm else 0.0) + maint
        return out

    def screen(self, v: Valuation) -> list[str]:
        """Return the accounts that may be below maintenance (to be confirmed with exact integers)."""
        r = self.revalue(v)
        slack = _TOLERANCE * r["scale"] + (len(self.assets) + 3 * len(self.markets) + 2)
        hits = np.nonzero(r["equity"] - r["maintenance"] < slack)[0]
        return [self.accounts[i] for i in hits]

    def liquidation_levels(
        self, v: Valuation, symbol: str, base: str | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(exposure, price)`` per account for market ``symbol`` (linearised).

        ``exposure`` is the account's absolute base-atom exposure to the market (perp position plus,
        when ``base`` is held or borrowed, that balance); ``price`` is where equity would meet
        maintenance if only this market's price moved, linearised at the current prices (NaN when
        the account has no exposure or no such price above zero).
        """
        n = self.size
        exposure = np.zeros(n)
        slope = np.zeros(n)
        price = None
        if symbol in self.markets and symbol in v.market_mark:
            j = self.markets.index(symbol)
            unit = v.market_unit[symbol]
            price = v.market_mark[symbol]
            q = self.qty[j, :n]
            tiers = v.markets[symbol].tiers
            mult = v.vol_mult_ppm.get(symbol, PPM) / PPM
            notional = np.abs(q) * price / unit
            caps = np.array([np.inf if t.up_to is None else float(t.up_to) for t in tiers])
            rates = np.array([t.mmr_ppm / PPM for t in tiers]) * mult
            marginal = rates[np.minimum(np.searchsorted(caps, notional, side="right"), len(tiers) - 1)]
            slope += q / unit - np.abs(q) / unit * marginal
            exposure += np.abs(q)
        if base is not None and base in self.assets and base in v.asset_price:
            j = self.assets.index(base)
            risk = v.assets[base]
            price = v.asset_price[base] if price is None else price
            b = self.pos[j, :n] + self.neg[j, :n]
            value = np.maximum(b, 0.0) * v.asset_price[base] / risk.unit
            caps = np.array([np.inf if t.up_to is None else float(t.up_to) for t in risk.tiers])
            weights = np.array([t.weight_ppm / PPM for t in risk.tiers])
            wmarg = weights[np.minimum(np.searchsorted(caps, value, side="right"), len(weights) - 1)]
            slope += np.where(b > 0, b * wmarg, b * (1.0 + risk.borrow_mmr_ppm / PPM)) / risk.unit
            exposure += np.abs(b)
        if price is None:
            return exposure, np.full(n, np.nan)
        r = self.revalue(v)
        cushion = r["equity"] - r["maintenance"]
        with np.errstate(divide="ignore", invalid="ignore"):
            level = price - cushion / slope
        level = np.where((exposure > 0) & (slope != 0) & (level > 0), level, np.nan)
        return exposure, level
