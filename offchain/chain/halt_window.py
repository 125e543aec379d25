"""The halt window from measurement (seed 004 §4.1): N = max(T_DLP, T_chain) + T_buffer.

The engine's breaker keeps a tripped market halted for at least `max(t_dlp_ms, t_chain_ms) +
t_buffer_ms` (`offchain/core/breaker/rule.py`, `BreakerParams.halt_window_ms`), fixed at the trip. The
daemon measures the two frictions and tells the engine (a journaled `breaker` command per market,
so a replay halts exactly as the live exchange did):

* **T_chain**, the time for funds to arrive on-chain: for every deposit the watcher credits live,
  the time from its block's timestamp to the credit (the confirmations) plus one median block
  interval (the wait for inclusion, which the daemon cannot see); until `min_samples` deposits
  were measured, `confirmations + 1` median block intervals of the blocks the watcher saw. The
  figure is the `percentile` (nearest rank) of the last `samples` measurements, so slow blocks or a
  congested chain lengthen the halt;
* **T_DLP**, the time designated liquidity providers need to bring funds in: from a market's trip
  to each priority (`dlp_deposit`) credit of that halt; `t_dlp_s` until `min_samples` arrivals;
* **T_buffer** is the setting `t_buffer_s` (market makers re-arm their risk systems).

Each figure is clamped to its bounds (`HaltWindowSettings`). The engine is told only when a figure
moves by at least `max(1 s, 10 %)` of what it has, so the journal does not fill with noise. A
figure a market's `breaker_params` names explicitly is left alone (an operator's pin). Everything
is shown in `chain_status["halt_window"]` (`/status`).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

MS = 1000
FIGURES = ("t_chain_ms", "t_dlp_ms", "t_buffer_ms")


def percentile(values: list[int], pct: int) -> int:
    """Nearest-rank percentile of non-empty `values` (integers in, integer out)."""
    ordered = sorted(values)
    rank = max(1, -(-pct * len(ordered) // 100))  # ceil(pct/100 * n), at least the first
    return ordered[min(rank, len(ordered)) - 1]


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


class HaltWindow:
    """Rolling T_chain and T_DLP measurements and the breaker figures they give (module docstring)."""

    def __init__(self, settings: Any, state: Any = None):
        hw = settings.halt_window
        self.cfg = hw
        self.confirmations = settings.confirmations
        self.pinned: dict[str, set[str]] = {
            sym: {k for k in params if k in FIGURES} for sym, params in settings.breaker_params.items()
        }
        self.state = state
        self._lock = threading.Lock()
        saved = (state.get("halt_window") if state is not None else None) or {}
        self.chain: deque[int] = deque(saved.get("chain", ()), maxlen=hw.samples)
        self.dlp: deque[int] = deque(saved.get("dlp", ()), maxlen=hw.samples)
        self.intervals: deque[int] = deque(saved.get("intervals", ()), maxlen=hw.samples)
        self._last_block: tuple[int, int] | None = None  # (number, timestamp s)

    # -- measurements -----------------------------------------------------------------------------
    def on_block(self, number: int, timestamp_s: int) -> None:
        """The watcher saw a new head: note the mean block interval since the last one it saw."""
        with self._lock:
            last = self._last_block
            self._last_block = (number, timestamp_s)
            if last is None or number <= last[0]:
                return
            interval = (timestamp_s - last[1]) * MS // (number - last[0])
            if interval > 0:
                self.intervals.append(interval)
        self._save()

    def on_deposit(self, block_ts_s: int, credited_ms: int) -> int:
        """A deposit credited after its confirmations; return the T_chain sample it gave (ms)."""
        with self._lock:
            sample = max(0, credited_ms - block_ts_s * MS) + self._interval()
            self.chain.append(sample)
        self._save()
        return sample

    def on_dlp_arrival(self, halted_since_ms: int, credited_ms: int) -> int:
        """A priority deposit credited during a halt that started at `halted_since_ms`."""
        with self._lock:
            sample = max(0, credited_ms - halted_since_ms)
            self.dlp.append(sample)
        self._save()
        return sample

    # -- figures ----------------------------------------------------------------------------------
    def _interval(self) -> int:
        return percentile(list(self.intervals), 50) if self.intervals else 0

    def figures(self) -> dict[str, int]:
        """The breaker figures (ms) from the measurements, clamped to their bounds."""
        cfg = self.cfg
        with self._lock:
            if len(self.chain) >= cfg.min_samples:
                t_chain = percentile(list(self.chain), cfg.percentile)
            elif self.intervals:
                t_chain = (self.confirmations + 1) * self._interval()
            else:
                t_chain = cfg.t_chain_s * MS
            if len(self.dlp) >= cfg.min_samples:
                t_dlp = percentile(list(self.dlp), cfg.percentile)
            else:
                t_dlp = cfg.t_dlp_s * MS
        return {
            "t_chain_ms": clamp(t_chain, cfg.t_chain_min_s * MS, cfg.t_chain_max_s * MS),
            "t_dlp_ms": clamp(t_dlp, cfg.t_dlp_min_s * MS, cfg.t_dlp_max_s * MS),
            "t_buffer_ms": cfg.t_buffer_s * MS,
        }

    def changes(self, symbol: str, have: dict[str, int]) -> dict[str, int]:
        """What to set on `symbol`'s breaker (whose figures are `have`): figures that moved enough."""
        pinned = self.pinned.get(symbol, set())
        out = {}
        for name, want in self.figures().items():
            if name in pinned:
                continue
            current = have.get(name)
            if current is None or abs(want - current) >= max(MS, current // 10):
                out[name] = want
        return out

    def status(self, markets: dict[str, int] | None = None) -> dict:
        """What `/status` shows: the figures, N, where T_chain comes from, samples and bounds."""
        cfg = self.cfg
        figures = self.figures()
        with self._lock:
            source = (
                "deposits"
                if len(self.chain) >= cfg.min_samples
                else ("blocks" if self.intervals else "default")
            )
            out = {
                "t_chain_s": figures["t_chain_ms"] / MS,
                "t_dlp_s": figures["t_dlp_ms"] / MS,
                "t_buffer_s": figures["t_buffer_ms"] / MS,
                "n_s": (max(figures["t_chain_ms"], figures["t_dlp_ms"]) + figures["t_buffer_ms"]) / MS,
                "t_chain_source": source,
                "t_dlp_source": "arrivals" if len(self.dlp) >= cfg.min_samples else "default",
                "block_interval_ms": self._interval(),
                "chain_samples": len(self.chain),
                "dlp_samples": len(self.dlp),
                "percentile": cfg.percentile,
                "bounds": {
                    "t_chain_s": [cfg.t_chain_min_s, cfg.t_chain_max_s],
                    "t_dlp_s": [cfg.t_dlp_min_s, cfg.t_dlp_max_s],
                },
            }
        if markets is not None:
            out["markets"] = {sym: n / MS for sym, n in sorted(markets.items())}
        return out

    def _save(self) -> None:
        if self.state is None:
            return
        with self._lock:
            doc = {"chain": list(self.chain), "dlp": list(self.dlp), "intervals": list(self.intervals)}
        self.state.put("halt_window", doc)
