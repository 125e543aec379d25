"""Index, premium, mark and realised volatility per market; the collateral mark and its freeze.

- **Index** = weighted median of the market's sources. A source whose quote is older than its
  ``max_age_ms`` drops out; so does one farther than ``max_deviation_bps`` from the median of the
  fresh ones (the median is then taken again over the survivors). Weighted median: sources sorted by
  price (ties by name); the first price at which the running weight reaches half the total; when it
  lands exactly on half, the floor of the mean of that price and the next.
- **Premium** = ``(local - index) / index`` in ppm, clamped to ``+-premium_band_bps``, where
  ``local`` is the local book's price (mid when both sides exist, else the last trade).
- **Mark** = ``index * (1 + EWMA(premium))``, the EWMA taken over ``ewma_window_ms`` (5 minutes) with
  ``alpha = dt / (window + dt)`` per update (each move truncated towards zero, at least one ppm)
  and clamped to the band again. With no valid index the
  mark keeps its last value; a market that never had an index is marked at its local price.
- **Collateral mark**: the price at which balances of the market's base asset are valued. Source
  ``"mark"`` (default) uses the mark; ``"local"`` uses the local book price (what a naive exchange
  does, for ``replay --no-breaker``; its bands still measure from the index-based mark); ``"book"``
  too, and the module then publishes the local price as the spot market's mark, so that its bands
  measure from its own book (``replay --no-breaker --naive-bands book``). The breaker may *freeze* it at the last valid reference price
  taken before a trip; while frozen it does not move.
- **Bands**: limit and impact bands are the market's (``Market.band_bps``, ``impact_bps``) and the
  core measures them from the mark published here; :func:`band` gives the price range.
- **Realised volatility**: every ``vol_sample_ms`` the return of the mark since the previous sample
  (ppm) feeds an EWMA of squared returns over ``vol_window_ms``; ``vol_ppm`` is its integer square
  root (a per-sample standard deviation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import isqrt

from offchain.core.codes import RejectCode as R
from offchain.core.risk.params import (
    BPS,
    MAX_IMPACT_BAND_BPS,
    MAX_LIMIT_BAND_BPS,
    MAX_PREMIUM_BAND_BPS,
    MAX_SOURCE_DEVIATION_BPS,
    PPM,
    clamp,
    require,
    require_band,
)

COLLATERAL_MARK_SOURCES = ("mark", "local", "book")


@dataclass(frozen=True, slots=True)
class PricingParams:
    """Price-formation parameters of one market."""

    max_age_ms: int = 60_000  # default staleness limit of a source
    max_deviation_bps: int = 500  # a source 5 % from the median drops out
    premium_band_bps: int = 50  # the mark stays within 0.5 % of the index
    ewma_window_ms: int = 300_000  # 5-minute premium EWMA
    vol_sample_ms: int = 60_000  # realised volatility sampled once a minute
    vol_window_ms: int = 3_600_000  # over an hour-long EWMA

    def validate(self) -> None:
        """Refuse non-positive windows and a premium band or source deviation wider than sane.

        The limit and impact bands are the market's own (``Market.band_bps``/``impact_bps``, measured
        from the mark this module publishes); :func:`validate_bands` refuses insane ones.
        """
        require_band("premium_band_bps", self.premium_band_bps, MAX_PREMIUM_BAND_BPS)
        require_band("max_deviation_bps", self.max_deviation_bps, MAX_SOURCE_DEVIATION_BPS)
        for name in ("max_age_ms", "ewma_window_ms", "vol_sample_ms", "vol_window_ms"):
            value = getattr(self, name)
            require(isinstance(value, int) and value > 0, R.BAD_PARAM, f"{name} must be a positive integer")


def validate_bands(band_bps: int, impact_bps: int) -> None:
    """Refuse a limit band or an impact band wider than sane (or not positive)."""
    require_band("band_bps", band_bps, MAX_LIMIT_BAND_BPS)
    require_band("impact_bps", impact_bps, MAX_IMPACT_BAND_BPS)


def weighted_median(points: list[tuple[int, int, str]]) -> int | None:
    """Return the weighted median of ``(price, weight, name)`` points (rule in the module doc)."""
    pts = sorted((p, n, w) for p, w, n in points if w > 0)
    total = sum(w for _, _, w in pts)
    if total == 0:
        return None
    running = 0
    for i, (price, _, w) in enumerate(pts):
        running += w
        if 2 * running > total:
            return price
        if 2 * running == total:
            return (price + pts[i + 1][0]) // 2
    return pts[-1][0]  # unreachable: the running weight reaches the total


def ewma_step(diff: int, alpha_ppm: int) -> int:
    """Return the EWMA move ``diff x alpha`` truncated towards zero, but at least one unit.

    Truncation is symmetric (a rise and a fall converge alike) and the one-unit minimum lets the
    average reach a constant input exactly instead of stalling short of it.
    """
    if diff == 0 or alpha_ppm == 0:
        return 0
    step = abs(diff) * alpha_ppm // PPM
    return max(step, 1) if diff > 0 else -max(step, 1)


def band(price: int, band_bps: int) -> tuple[int, int]:
    """Return the inclusive ``(low, high)`` price range within ``band_bps`` of ``price``.

    Rounded inwards (low up, high down) so that the band is never wider than configured.
    """
    width = price * band_bps
    return -((-(price * BPS - width)) // BPS), (price * BPS + width) // BPS


@dataclass(frozen=True, slots=True)
class SourceQuote:
    """The latest price of one index source."""

    price: int
    ts: int
    weight: int = 1
    max_age_ms: int | None = None  # None: the market's default


@dataclass(slots=True)
class MarketPricing:
    """The price state of one market, updated by index posts and by ticks."""

    symbol: str
    params: PricingParams = field(default_factory=PricingParams)
    sources: dict[str, SourceQuote] = field(default_factory=dict)
    source_config: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    index: int | None = None
    premium_ewma_ppm: int = 0
    mark: int | None = None
    local: int | None = None
    last_update_ts: int | None = None
    frozen_collateral: int | None = None
    last_valid_reference: int | None = None
    vol_var_ppm2: int = 0
    vol_last_sample: tuple[int, int] | None = None  # (ts, mark)

    def configure_source(self, source: str, weight: int | None = None, max_age_ms: int | None = None) -> None:
        """Set a source's weight and staleness limit (None keeps the current setting)."""
        require(
            weight is None or weight >= 0, "bad_param", f"source weight must not be negative, got {weight}"
        )
        require(max_age_ms is None or max_age_ms > 0, R.BAD_PARAM, "a source's max age must be positive")
        old_w, old_age = self.source_config.get(source, (1, None))
        cfg = (old_w if weight is None else weight, old_age if max_age_ms is None else max_age_ms)
        self.source_config[source] = cfg
        quote = self.sources.get(source)
        if quote is not None:
            self.sources[source] = SourceQuote(quote.price, quote.ts, *cfg)

    def post(self, source: str, price: int, ts: int) -> None:
        """Record a source's price (its weight and max age come from :meth:`configure_source`)."""
        require(price > 0, R.BAD_PRICE, f"index price must be positive, got {price}")
        weight, max_age_ms = self.source_config.get(source, (1, None))
        self.sources[source] = SourceQuote(price, ts, weight, max_age_ms)

    def compute_index(self, ts: int) -> int | None:
        """Return the index at ``ts`` from fresh, close-enough sources (None when none is fresh)."""
        fresh = [
            (q.price, q.weight, name)
            for name, q in self.sources.items()
            if ts - q.ts <= (q.max_age_ms if q.max_age_ms is not None else self.params.max_age_ms)
        ]
        median = weighted_median(fresh)
        if median is None:
            return None
        limit = self.params.max_deviation_bps
        close = [pt for pt in fresh if abs(pt[0] - median) * BPS <= median * limit]
        return weighted_median(close)

    def update(self, ts: int, local: int | None) -> None:
        """Recompute index, premium EWMA, mark and volatility at ``ts`` with the local price."""
        if local is not None:
            self.local = local
        index = self.compute_index(ts)
        self.index = index
        dt = 0 if self.last_update_ts is None else max(ts - self.last_update_ts, 0)
        self.last_update_ts = ts
        if index is not None:
            cap = self.params.premium_band_bps * (PPM // BPS)
            if self.local is not None:
                sample = clamp((self.local - index) * PPM // index, -cap, cap)
                alpha = dt * PPM // (self.params.ewma_window_ms + dt)
                self.premium_ewma_ppm = clamp(
                    self.premium_ewma_ppm + ewma_step(sample - self.premium_ewma_ppm, alpha), -cap, cap
                )
            self.mark = index * (PPM + self.premium_ewma_ppm) // PPM
        elif not self.sources and self.local is not None:
            self.mark = self.local  # a market without index sources is marked at its own price
        if self.mark is not None and self.frozen_collateral is None:
            self.last_valid_reference = self.mark
        self._sample_vol(ts)

    def _sample_vol(self, ts: int) -> None:
        if self.mark is None:
            return
        if self.vol_last_sample is None:
            self.vol_last_sample = (ts, self.mark)
            return
        last_ts, last_mark = self.vol_last_sample
        if ts - last_ts < self.params.vol_sample_ms:
            return
        r = (self.mark - last_mark) * PPM // last_mark
        dt = ts - last_ts
        alpha = dt * PPM // (self.params.vol_window_ms + dt)
        self.vol_var_ppm2 += ewma_step(r * r - self.vol_var_ppm2, alpha)
        self.vol_last_sample = (ts, self.mark)

    @property
    def vol_ppm(self) -> int:
        """Realised volatility per ``vol_sample_ms`` sample, in ppm."""
        return isqrt(max(self.vol_var_ppm2, 0))

    def collateral_mark(self, source: str = "mark") -> int | None:
        """Return the price at which the base asset is valued as collateral."""
        if self.frozen_collateral is not None:
            return self.frozen_collateral
        if source in ("local", "book"):
            return self.local if self.local is not None else self.mark
        return self.mark

    def freeze_collateral(self, price: int | None = None, source: str = "mark") -> int | None:
        """Freeze the collateral mark at ``price`` or at the last valid reference; return it."""
        target = price
        if target is None:
            target = self.local if source in ("local", "book") else self.last_valid_reference
        if target is None:
            target = self.mark
        self.frozen_collateral = target
        return target

    def unfreeze_collateral(self) -> None:
        """Let the collateral mark follow the prices again."""
        self.frozen_collateral = None

    def premium_ppm(self) -> int | None:
        """Return the current clamped premium sample (None without index or local price)."""
        if self.index is None or self.local is None:
            return None
        cap = self.params.premium_band_bps * (PPM // BPS)
        return clamp((self.local - self.index) * PPM // self.index, -cap, cap)

    def to_state(self) -> dict:
        """Return the price state as canonical JSON-able data."""
        return {
            "params": {f: getattr(self.params, f) for f in PricingParams.__dataclass_fields__},
            "sources": {n: [q.price, q.ts, q.weight, q.max_age_ms] for n, q in self.sources.items()},
            "source_config": {n: list(c) for n, c in self.source_config.items()},
            "index": self.index,
            "premium_ewma_ppm": self.premium_ewma_ppm,
            "mark": self.mark,
            "local": self.local,
            "last_update_ts": self.last_update_ts,
            "frozen_collateral": self.frozen_collateral,
            "last_valid_reference": self.last_valid_reference,
            "vol_var_ppm2": self.vol_var_ppm2,
            "vol_last_sample": None if self.vol_last_sample is None else list(self.vol_last_sample),
        }

    @classmethod
    def from_state(cls, symbol: str, state: dict) -> MarketPricing:
        """Rebuild what :meth:`to_state` returned."""
        p = cls(symbol, PricingParams(**state["params"]))
        p.sources = {n: SourceQuote(*q) for n, q in state["sources"].items()}
        p.source_config = {n: (c[0], c[1]) for n, c in state["source_config"].items()}
        for name in ("index", "premium_ewma_ppm", "mark", "local", "last_update_ts", "frozen_collateral"):
            setattr(p, name, state[name])
        p.last_valid_reference = state["last_valid_reference"]
        p.vol_var_ppm2 = state["vol_var_ppm2"]
        sample = state["vol_last_sample"]
        p.vol_last_sample = None if sample is None else (sample[0], sample[1])
        return p
