"""Per-market circuit breaker (SPEC §3, seed 004): metrics, trip rule and the reopening sequence.

A market leaves continuous trading only when two independent views of a liquidity vacuum agree,
at once or within ``coincidence_ms`` of each other — never on one price line, which would pull
prices towards it (the magnet effect):

* **A**: the local price has left the index (CVD > 3 %) *and* the book is empty near the mid
  (R_L < 20 % of its trailing median depth);
* **B**: the price is moving fast (V_P > 10 % in 5 minutes) *and* a reference-size market order
  would slip (S_I > 5 %) *and* liquidations are clustered within reach of the move (LCE critical).

Then: ``halted`` for at least N = max(T_DLP, T_chain) + T_buffer; it ends only when CVD < 1 %,
R_L > 50 % and LCE is safe (an operator ``resume`` skips the check); ``cooldown`` (no matching,
indicative price published); ``auction`` (orders collected, one uncrossing price at its end);
``continuous``.

:class:`Breaker` is the state machine, fed with metric values (or a probe computing them on
demand, so that the cheap metrics gate the expensive ones). :class:`MarketMonitor` keeps the
windows the metrics need (depth benchmark, TWAP of the mid, 5-minute price range) and turns a
book view into such a probe. Both are pure: time arrives as ``ts`` (ms) from commands.
"""

from __future__ import annotations

import copy
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields

from offchain.core.codes import RejectCode as R
from offchain.core.model.breaker_params import DAY_MS, MINUTE_MS, BreakerError, BreakerParams  # noqa: F401
from offchain.core.model.states import AUCTION, CONTINUOUS, COOLDOWN, HALTED, TRADING_STATES
from offchain.core.units import PPM

STATES = TRADING_STATES

# trip reasons, as they appear in BreakerTransition events and the replay report
REASON_DEVIATION_DEPTH = "cvd_and_depth"
REASON_VELOCITY_SLIPPAGE_LCE = "velocity_slippage_and_liquidations"
REASON_INDEX_LOST = "index_lost"  # every index source stale or gone: no CVD, so no trading blind
REASON_MANUAL = "manual"
REASON_RECOVERED = "recovered"
REASON_RESUME = "operator_resume"
REASON_COOLDOWN_OVER = "cooldown_over"
REASON_AUCTION_OVER = "auction_over"

_NOW = 2
_RECENT = 1

METRIC_NAMES = ("cvd_ppm", "rl_ppm", "si_ppm", "vp_ppm", "lce_ppm")


@dataclass(slots=True, frozen=True)
class Metrics:
    """One evaluation of the five metrics, in ppm; ``None`` = not measurable right now.

    ``None`` never trips a market and never holds one halted: a market without an index has no
    CVD, a market too young for a depth benchmark has no R_L.
    """

    cvd_ppm: int | None = None
    rl_ppm: int | None = None
    si_ppm: int | None = None
    vp_ppm: int | None = None
    lce_ppm: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return asdict(self)


@dataclass(slots=True, frozen=True)
class Transition:
    """A change of trading state, with the reason and the metrics that justified it."""

    ts: int
    from_state: str
    to_state: str
    reason: str
    metrics: Metrics


def _read(metrics, name: str) -> int | None:
    return getattr(metrics, name)


def snapshot_metrics(metrics) -> Metrics:
    """Evaluate every metric of a probe (or copy a :class:`Metrics`) for the record."""
    if isinstance(metrics, Metrics):
        return metrics
    return Metrics(*(getattr(metrics, name) for name in METRIC_NAMES))


class Breaker:
    """The per-market state machine. Feed it with :meth:`observe`; it returns the transitions."""

    __slots__ = ("params", "state", "since", "reason", "manual", "halt_until", "last_over")

    def __init__(self, params: BreakerParams | None = None) -> None:
        self.params = params or BreakerParams()
        self.state = CONTINUOUS
        self.since = 0  # ts the current state began
        self.reason = ""  # why the market left continuous trading
        self.manual = False  # halted by the operator: only `resume` ends it
        self.halt_until = 0  # earliest end of the halt window
        self.last_over: dict[str, int] = {}  # metric -> last ts it was beyond its trip threshold

    # -- what matching asks ---------------------------------------------------------------------

    @property
    def matching(self) -> bool:
        """True when incoming orders may trade (continuous trading)."""
        return self.state == CONTINUOUS

    # -- operator commands ----------------------------------------------------------------------

    def halt(self, ts: int, metrics=None) -> Transition:
        """Operator halt: the market stays halted until :meth:`resume`, whatever the metrics."""
        if self.state == HALTED:
            raise BreakerError(R.ALREADY_HALTED, "the market is already halted")
        return self._move(ts, HALTED, REASON_MANUAL, metrics, manual=True)

    def resume(self, ts: int, metrics=None) -> Transition:
        """Operator resume: start the reopening sequence now (cool-down, auction, continuous)."""
        if self.state != HALTED:
            raise BreakerError(R.NOT_HALTED, f"the market is {self.state}, not halted")
        return self._move(ts, COOLDOWN, REASON_RESUME, metrics)

    # -- evaluation -----------------------------------------------------------------------------

    def observe(self, ts: int, metrics) -> list[Transition]:
        """Evaluate at ``ts``; return the transitions that happen (usually none).

        ``metrics`` is a :class:`Metrics` or any object with the same attributes; a probe that
        computes them lazily is read cheap-first (CVD and V_P before the book walks).
        """
        out: list[Transition] = []
        if self.state == CONTINUOUS:
            reason = self.trip_reason(ts, metrics)
            if reason:
                out.append(self._move(ts, HALTED, reason, metrics))
            return out
        if self.state == HALTED:
            if self.manual or ts < self.halt_until or not self.recovered(metrics):
                return out
            out.append(self._move(ts, COOLDOWN, REASON_RECOVERED, metrics))
        out.extend(self.advance(ts, metrics))
        return out

    def advance(self, ts: int, metrics=None) -> list[Transition]:
        """Run the timed phases: cool-down -> auction -> continuous, each at its scheduled time."""
        out: list[Transition] = []
        if self.state == COOLDOWN and ts >= self.since + self.params.cooldown_ms:
            out.append(
                self._move(self.since + self.params.cooldown_ms, AUCTION, REASON_COOLDOWN_OVER, metrics)
            )
        if self.state == AUCTION and ts >= self.since + self.params.auction_ms:
            out.append(
                self._move(self.since + self.params.auction_ms, CONTINUOUS, REASON_AUCTION_OVER, metrics)
            )
        return out

    def next_deadline(self) -> int | None:
        """When the current timed phase ends (None in continuous trading or an open-ended halt)."""
        if self.state == COOLDOWN:
            return self.since + self.params.cooldown_ms
        if self.state == AUCTION:
            return self.since + self.params.auction_ms
        if self.state == HALTED and not self.manual:
            return self.halt_until
        return None

    def trip_reason(self, ts: int, metrics) -> str:
        """Record which metrics are beyond their trip thresholds; return the trip reason or ''.

        A metric counts if it is beyond now, or was within the last ``coincidence_ms`` and a
        partner is beyond now. Expensive partners are read only when a cheap one is hot.
        """
        p = self.params
        if not p.enabled:
            return ""
        recent = ts - p.coincidence_ms
        # A: deviation from the index and an empty book
        cvd = self._hot(ts, recent, metrics, "cvd_ppm", p.cvd_trip_ppm, above=True)
        if cvd:
            rl = self._hot(ts, recent, metrics, "rl_ppm", p.rl_trip_ppm, above=False)
            if rl and max(cvd, rl) == _NOW:
                return REASON_DEVIATION_DEPTH
        # B: velocity, slippage and a liquidation cluster within reach
        vp = self._hot(ts, recent, metrics, "vp_ppm", p.vp_trip_ppm, above=True)
        if vp:
            si = self._hot(ts, recent, metrics, "si_ppm", p.si_trip_ppm, above=True)
            if si:
                lce = self._hot(ts, recent, metrics, "lce_ppm", p.lce_trip_ppm, above=True)
                if lce and max(vp, si, lce) == _NOW:
                    return REASON_VELOCITY_SLIPPAGE_LCE
        return ""

    def would_trip(self, ts: int, metrics) -> bool:
        """Pre-trade question: would a trade with these metrics trip the market? (records nothing
        beyond what :meth:`trip_reason` records)."""
        return self.state == CONTINUOUS and bool(self.trip_reason(ts, metrics))

    def note(self, ts: int, metrics) -> None:
        """Record metrics measured for their own sake (the periodic depth sample), without a trip."""
        p = self.params
        for name, threshold, above in (
            ("cvd_ppm", p.cvd_trip_ppm, True),
            ("rl_ppm", p.rl_trip_ppm, False),
            ("si_ppm", p.si_trip_ppm, True),
            ("vp_ppm", p.vp_trip_ppm, True),
            ("lce_ppm", p.lce_trip_ppm, True),
        ):
            value = _read(metrics, name)
            if value is not None and (value > threshold if above else value < threshold):
                self.last_over[name] = ts

    def recovered(self, metrics) -> bool:
        """The restart test: CVD < 1 %, R_L > 50 %, LCE safe. It fails safe: a CVD or R_L that cannot
        be measured (no index, no depth benchmark) is not a recovery, so the market stays halted
        until it can be measured or the operator resumes it. LCE is None only where nothing is
        leveraged (no risk module): nothing to liquidate is safe."""
        return not self.recovery_blockers(metrics)

    def recovery_blockers(self, metrics) -> list[str]:
        """The restart conditions not met now, as ``metric`` (beyond its threshold) or
        ``metric:unmeasurable`` (what `/status` shows a halted market waits for)."""
        p = self.params
        out = []
        cvd = _read(metrics, "cvd_ppm")
        if cvd is None:
            out.append("cvd_ppm:unmeasurable")
        elif cvd >= p.cvd_recover_ppm:
            out.append("cvd_ppm")
        rl = _read(metrics, "rl_ppm")
        if rl is None:
            out.append("rl_ppm:unmeasurable")
        elif rl <= p.rl_recover_ppm:
            out.append("rl_ppm")
        lce = _read(metrics, "lce_ppm")
        if lce is not None and lce >= p.lce_safe_ppm:
            out.append("lce_ppm")
        return out

    def lose_index(self, ts: int, metrics=None) -> Transition | None:
        """Every index source is stale or gone in continuous trading: halt (a documented trip reason;
        the market then waits for a measurable CVD like any other halt)."""
        if self.state != CONTINUOUS or not self.params.enabled:
            return None
        return self._move(ts, HALTED, REASON_INDEX_LOST, metrics)

    # -- internals ------------------------------------------------------------------------------

    def _hot(self, ts: int, recent: int, metrics, name: str, threshold: int, above: bool) -> int:
        """``_NOW`` if the metric is beyond its threshold now, ``_RECENT`` if it was lately, else 0."""
        value = _read(metrics, name)
        if value is not None and (value > threshold if above else value < threshold):
            self.last_over[name] = ts
            return _NOW
        last = self.last_over.get(name)
        return _RECENT if last is not None and last >= recent else 0

    def _move(self, ts: int, to_state: str, reason: str, metrics, manual: bool = False) -> Transition:
        record = snapshot_metrics(metrics) if metrics is not None else Metrics()
        transition = Transition(ts, self.state, to_state, reason, record)
        self.state = to_state
        self.since = ts
        if to_state == HALTED:
            self.reason = reason
            self.manual = manual
            self.halt_until = ts + self.params.halt_window_ms
        elif to_state == CONTINUOUS:
            self.reason = ""
            self.manual = False
            self.last_over.clear()  # the reopened market starts with a clean slate
        else:
            self.manual = False
        return transition

    def to_state(self) -> dict:
        """Canonical, JSON-able state (for the engine's snapshot and state hash)."""
        return {
            "params": {f.name: getattr(self.params, f.name) for f in fields(self.params)},
            "state": self.state,
            "since": self.since,
            "reason": self.reason,
            "manual": self.manual,
            "halt_until": self.halt_until,
            "last_over": dict(sorted(self.last_over.items())),
        }

    @classmethod
    def from_state(cls, data: dict) -> Breaker:
        breaker = cls(BreakerParams(**data["params"]))
        breaker.state = data["state"]
        breaker.since = data["since"]
        breaker.reason = data["reason"]
        breaker.manual = data["manual"]
        breaker.halt_until = data["halt_until"]
        breaker.last_over = dict(data["last_over"])
        return breaker


# -- metric definitions (SPEC §3 table) ---------------------------------------------------------


def cvd_ppm(local_price: int, index_price: int) -> int:
    """CVD = |P_local - P_index| / P_index, in ppm (rounded down)."""
    if index_price <= 0:
        raise ValueError("index price must be positive")
    return abs(local_price - index_price) * PPM // index_price


def depth_notional(
    bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]], mid: int, band_ppm: int, base_unit: int
) -> int:
    """Quote notional resting within ``band_ppm`` of ``mid`` on both sides (levels best first).

    Depth is counted in quote atoms so that it compares across prices: a book of 1M USDE at
    0.65 is less liquidity than 1M USDE at 1.00.
    """
    low = mid - mid * band_ppm // PPM
    high = mid + mid * band_ppm // PPM
    total = 0
    for price, qty in bids:
        if price < low:
            break
        total += price * qty // base_unit
    for price, qty in asks:
        if price > high:
            break
        total += price * qty // base_unit
    return total


def sweep_price(levels: Iterable[tuple[int, int]], notional: int, base_unit: int) -> int | None:
    """The last price a market order of ``notional`` quote atoms reaches walking ``levels``.

    ``None`` when the book cannot absorb it (a vacuum: slippage is total).
    """
    remaining = notional
    for price, qty in levels:
        level_notional = price * qty // base_unit
        if level_notional >= remaining:
            return price
        remaining -= level_notional
    return None


def slippage_ppm(final_price: int | None, reference_mid: int) -> int:
    """S_I = |P_executed - P_mid| / P_mid in ppm; a sweep that cannot complete is 100 %."""
    if final_price is None or reference_mid <= 0:
        return PPM
    return min(PPM, abs(final_price - reference_mid) * PPM // reference_mid)


# -- windows the metrics need -------------------------------------------------------------------


class DepthBenchmark:
    """Median of the depth samples taken over the trailing window (30 days by default)."""

    __slots__ = ("window_ms", "sample_ms", "samples", "_sorted", "last_sample_ts")

    def __init__(self, window_ms: int, sample_ms: int) -> None:
        self.window_ms = window_ms
        self.sample_ms = sample_ms
        self.samples: deque[tuple[int, int]] = deque()
        self._sorted: list[int] = []
        self.last_sample_ts: int | None = None

    def due(self, ts: int) -> bool:
        return self.last_sample_ts is None or ts - self.last_sample_ts >= self.sample_ms

    def add(self, ts: int, depth: int) -> None:
        self.samples.append((ts, depth))
        insort(self._sorted, depth)
        self.last_sample_ts = ts
        self._expire(ts)

    def _expire(self, ts: int) -> None:
        horizon = ts - self.window_ms
        while self.samples and self.samples[0][0] < horizon:
            _, old = self.samples.popleft()
            del self._sorted[bisect_left(self._sorted, old)]

    def __len__(self) -> int:
        return len(self._sorted)

    def median(self) -> int | None:
        n = len(self._sorted)
        if n == 0:
            return None
        mid = n // 2
        return self._sorted[mid] if n % 2 else (self._sorted[mid - 1] + self._sorted[mid]) // 2


class TimeWeightedAverage:
    """TWAP of a step function (the mid) over a trailing window, kept as a running integral."""

    __slots__ = ("window_ms", "points", "_area", "_span")

    def __init__(self, window_ms: int) -> None:
        self.window_ms = window_ms
        self.points: deque[tuple[int, int]] = deque()  # (ts, value) from ts until the next point
        self._area = 0  # sum of value * duration over closed segments in the deque
        self._span = 0

    def add(self, ts: int, value: int) -> None:
        points = self.points
        if points:
            last_ts, last_value = points[-1]
            if ts == last_ts:  # same instant: the later value wins, no segment changes its length
                points[-1] = (ts, value)
                return
            if ts < last_ts:  # an earlier instant: the later value wins from there
                points.pop()
                if points:
                    prev_ts, prev_value = points[-1]
                    self._area -= prev_value * (last_ts - prev_ts)
                    self._span -= last_ts - prev_ts
                    self._area += prev_value * (ts - prev_ts)
                    self._span += ts - prev_ts
                points.append((ts, value))
                return
            self._area += last_value * (ts - last_ts)
            self._span += ts - last_ts
        points.append((ts, value))
        horizon = ts - self.window_ms
        while len(points) > 1 and points[1][0] <= horizon:
            t0, v0 = points.popleft()
            t1 = points[0][0]
            self._area -= v0 * (t1 - t0)
            self._span -= t1 - t0

    def value(self) -> int | None:
        if not self.points:
            return None
        if self._span == 0:
            return self.points[-1][1]
        return self._area // self._span


class PriceRange:
    """Highest and lowest traded price of the trailing window (monotonic deques, O(1) amortised)."""

    __slots__ = ("window_ms", "_max", "_min")

    def __init__(self, window_ms: int) -> None:
        self.window_ms = window_ms
        self._max: deque[tuple[int, int]] = deque()
        self._min: deque[tuple[int, int]] = deque()

    def add(self, ts: int, price: int) -> None:
        highs, lows = self._max, self._min  # every trade comes through here
        while highs and highs[-1][1] <= price:
            highs.pop()
        highs.append((ts, price))
        while lows and lows[-1][1] >= price:
            lows.pop()
        lows.append((ts, price))

    def copy(self) -> PriceRange:
        """An independent copy (reading V_P trims the window: a reader trims its copy)."""
        other = PriceRange(self.window_ms)
        other._max = deque(self._max)
        other._min = deque(self._min)
        return other

    def _expire(self, ts: int) -> None:
        horizon = ts - self.window_ms
        highs, lows = self._max, self._min
        while highs and highs[0][0] < horizon:
            highs.popleft()
        while lows and lows[0][0] < horizon:
            lows.popleft()

    def extremes(self, ts: int) -> tuple[int, int] | None:
        """``(highest, lowest)`` price of the window as of ``ts`` (None: empty), without trimming it."""
        highs = self._max
        if not highs:
            return None
        horizon = ts - self.window_ms
        t, high = highs[0]
        if t < horizon:  # the window was not trimmed to `ts`: look past what has expired
            high = _first_since(highs, horizon)
            if high is None:
                return None
        t, low = self._min[0]
        if t < horizon:
            low = _first_since(self._min, horizon)
        return high, low

    def velocity_ppm(self, ts: int, price: int) -> int | None:
        """V_P: the largest move from any price of the window to ``price``, in ppm."""
        self._expire(ts)
        if not self._max:
            return None
        high = self._max[0][1]
        low = self._min[0][1]
        down = (high - price) * PPM // high if high > price else 0
        up = (price - low) * PPM // low if low and price > low else 0
        return max(down, up)


def _first_since(entries: deque[tuple[int, int]], horizon: int) -> int | None:
    """The price of the first ``(ts, price)`` entry at or after ``horizon`` (a loop: the first usually is)."""
    for t, price in entries:
        if t >= horizon:
            return price
    return None


# -- the monitor: windows + a lazy probe over the current book ----------------------------------

LevelsFn = Callable[[], Iterable[tuple[int, int]]]
LceFn = Callable[[int, int], int | None]  # (price, reach_ppm) -> lce_ppm


class MetricProbe:
    """Metrics of one market at one instant, computed on first read and cached.

    ``price`` is the local price being judged: the last trade, the price a fill is about to
    print at, or the indicative auction price during a halt.
    """

    __slots__ = ("_monitor", "_ts", "_price", "_index", "_bids", "_asks", "_mid", "_lce_fn", "_cache")

    def __init__(self, monitor, ts, price, index, bids: LevelsFn, asks: LevelsFn, mid, lce_fn) -> None:
        self._monitor = monitor
        self._ts = ts
        self._price = price
        self._index = index
        self._bids = bids
        self._asks = asks
        self._mid = mid
        self._lce_fn = lce_fn
        self._cache: dict[str, int | None] = {}

    def _get(self, name: str, compute):
        if name not in self._cache:
            self._cache[name] = compute()
        return self._cache[name]

    @property
    def cvd_ppm(self) -> int | None:
        return self._get("cvd_ppm", self._cvd)

    @property
    def rl_ppm(self) -> int | None:
        return self._get("rl_ppm", self._rl)

    @property
    def si_ppm(self) -> int | None:
        return self._get("si_ppm", self._si)

    @property
    def vp_ppm(self) -> int | None:
        return self._get("vp_ppm", self._vp)

    @property
    def lce_ppm(self) -> int | None:
        return self._get("lce_ppm", self._lce)

    def _cvd(self):
        if self._price is None or not self._index:
            return None
        return cvd_ppm(self._price, self._index)

    def depth(self) -> int | None:
        return self._get("depth", self._depth)

    def _depth(self):
        center = self._mid if self._mid is not None else self._price
        if center is None:
            return 0
        m = self._monitor
        return depth_notional(self._bids(), self._asks(), center, m.params.depth_band_ppm, m.base_unit)

    def _rl(self):
        benchmark = self._monitor.depth_benchmark()
        if not benchmark:
            return None
        return min(PPM, self.depth() * PPM // benchmark)

    def _si(self):
        m = self._monitor
        mid = m.twap.value()
        if mid is None:
            mid = self._mid if self._mid is not None else self._price
        if mid is None:
            return None
        notional = m.si_notional
        sell = slippage_ppm(sweep_price(self._bids(), notional, m.base_unit), mid)
        buy = slippage_ppm(sweep_price(self._asks(), notional, m.base_unit), mid)
        return max(sell, buy)

    def _vp(self):
        if self._price is None:
            return None
        return self._monitor.range.velocity_ppm(self._ts, self._price)

    def _lce(self):
        if self._lce_fn is None or self._price is None:
            return None
        reach = max(self.vp_ppm or 0, self._monitor.params.lce_min_reach_ppm)
        return self._lce_fn(self._price, reach)


class MarketMonitor:
    """The trailing windows behind one market's metrics, fed by the engine as trading happens."""

    __slots__ = ("params", "base_unit", "quote_unit", "si_notional", "benchmark", "twap", "range")

    def __init__(self, params: BreakerParams, base_unit: int, quote_unit: int) -> None:
        self.params = params
        self.base_unit = base_unit
        self.quote_unit = quote_unit
        self.si_notional = params.si_notional_units * quote_unit
        self.benchmark = DepthBenchmark(params.depth_window_ms, params.depth_sample_ms)
        self.twap = TimeWeightedAverage(params.twap_window_ms)
        self.range = PriceRange(params.vp_window_ms)

    def detached(self) -> MarketMonitor:
        """A copy to probe without changing this monitor: the price range (which a probe trims) is
        copied, the other windows (which a probe only reads) are shared."""
        other = copy.copy(self)
        other.range = self.range.copy()
        return other

    def reconfigure(self, params: BreakerParams) -> None:
        """Apply new parameters; the windows keep their samples and trim to the new lengths."""
        self.params = params
        self.si_notional = params.si_notional_units * self.quote_unit
        self.benchmark.window_ms = params.depth_window_ms
        self.benchmark.sample_ms = params.depth_sample_ms
        self.twap.window_ms = params.twap_window_ms
        self.range.window_ms = params.vp_window_ms

    def depth_benchmark(self) -> int | None:
        """The trailing median depth, once there are enough samples to trust it."""
        if len(self.benchmark) < self.params.depth_min_samples:
            return None
        return self.benchmark.median() or None

    def on_mid(self, ts: int, mid: int | None) -> None:
        if mid is not None:
            self.twap.add(ts, mid)

    def probe(self, ts, price, index, bids: LevelsFn, asks: LevelsFn, mid, lce_fn=None) -> MetricProbe:
        return MetricProbe(self, ts, price, index, bids, asks, mid, lce_fn)

    def maybe_sample(self, ts: int, probe: MetricProbe) -> bool:
        """Take a depth sample for the benchmark if one is due (continuous trading only)."""
        if not self.benchmark.due(ts):
            return False
        self.benchmark.add(ts, probe.depth())
        return True

    def to_state(self) -> dict:
        """Canonical, JSON-able windows (for the engine's snapshot and state hash)."""
        return {
            "depth_samples": [list(x) for x in self.benchmark.samples],
            "depth_last": self.benchmark.last_sample_ts,
            "twap": [list(x) for x in self.twap.points],
            "range_max": [list(x) for x in self.range._max],
            "range_min": [list(x) for x in self.range._min],
        }

    @classmethod
    def from_state(cls, params: BreakerParams, base_unit: int, quote_unit: int, data: dict) -> MarketMonitor:
        monitor = cls(params, base_unit, quote_unit)
        for ts, depth in data["depth_samples"]:
            monitor.benchmark.samples.append((ts, depth))
            insort(monitor.benchmark._sorted, depth)
        monitor.benchmark.last_sample_ts = data["depth_last"]
        points = [tuple(x) for x in data["twap"]]
        monitor.twap.points.extend(points)
        for (t0, v0), (t1, _) in zip(points, points[1:], strict=False):
            monitor.twap._area += v0 * (t1 - t0)
            monitor.twap._span += t1 - t0
        monitor.range._max.extend(tuple(x) for x in data["range_max"])
        monitor.range._min.extend(tuple(x) for x in data["range_min"])
        return monitor
