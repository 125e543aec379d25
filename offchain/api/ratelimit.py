"""Per-key token buckets: every client IP, and every account that signs writes, gets its own budget."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_KEYS = 50_000  # idle full buckets are dropped beyond this many keys


@dataclass(frozen=True)
class RateLimit:
    """Sustained requests per second and burst size, per client IP and per signing account."""

    ip_per_s: int = 50
    ip_burst: int = 200
    account_per_s: int = 20
    account_burst: int = 60


class TokenBuckets:
    """One token bucket per key: `rate` tokens per second refill, at most `burst` saved up."""

    def __init__(self, rate: int, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("rate and burst must be positive")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token of `key`; return 0 if allowed, else the seconds until one is available."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > MAX_KEYS:
                self._forget_idle(now)
            return 0.0

    def left(self, key: str) -> tuple[int, int]:
        """Return (whole tokens left, seconds until the bucket is full again) for `key`."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        return int(tokens), int(-(-(self.burst - tokens) // self.rate))

    def _forget_idle(self, now: float) -> None:
        # a bucket that has refilled completely carries no information
        full_after = self.burst / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
