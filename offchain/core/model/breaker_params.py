"""A market's circuit-breaker parameters (SPEC §3 table): thresholds in ppm, windows in ms.

Plain data shared by the rule (breaker/rule.py), the module and the `breaker` wire command.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from offchain.core.codes import RejectCode as R
from offchain.core.units import PPM

MINUTE_MS = 60_000
DAY_MS = 24 * 60 * MINUTE_MS


class BreakerError(ValueError):
    """A refused breaker command or parameter; ``code`` becomes ``Rejected.code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(slots=True, frozen=True)
class BreakerParams:
    """Thresholds and windows of one market's breaker; every ratio in ppm, every time in ms.

    The defaults are the SPEC table's; the halt window is 4 min (T_DLP) vs 2 min (T_chain) plus
    a 2-minute buffer = 6 minutes, inside the 5-10 minutes the seed recommends.
    """

    enabled: bool = True  # False: no automatic trip (operator halt/resume still work)
    cvd_trip_ppm: int = 30_000  # |P_local - P_index| / P_index > 3 %
    cvd_recover_ppm: int = 10_000  # < 1 %
    depth_band_ppm: int = 10_000  # depth counted within +-1 % of the mid
    rl_trip_ppm: int = 200_000  # depth / benchmark < 20 %
    rl_recover_ppm: int = 500_000  # > 50 %
    depth_window_ms: int = 30 * DAY_MS  # benchmark = median of the samples of the last 30 days
    depth_sample_ms: int = 30_000  # one depth sample per 30 s of continuous trading at most
    depth_min_samples: int = 10  # R_L is unknown (never trips) before 5 minutes of samples
    si_notional_units: int = 1_000_000  # S_I reference order: $1M (whole quote units)
    si_trip_ppm: int = 50_000  # slippage vs TWAP mid > 5 %
    twap_window_ms: int = 5 * MINUTE_MS
    vp_window_ms: int = 5 * MINUTE_MS
    vp_trip_ppm: int = 100_000  # price change within 5 minutes > 10 %
    lce_trip_ppm: int = 100_000  # >= 10 % of open interest liquidatable within reach: critical
    lce_safe_ppm: int = 50_000  # < 5 %: safe to reopen
    lce_min_reach_ppm: int = 10_000  # "within reach" is at least a 1 % move
    coincidence_ms: int = 30_000  # "at once or within a short window"
    t_dlp_ms: int = 4 * MINUTE_MS  # designated liquidity providers move funds in
    t_chain_ms: int = 2 * MINUTE_MS  # priority on-chain transfer under congestion
    t_buffer_ms: int = 2 * MINUTE_MS  # market makers re-arm their risk systems
    cooldown_ms: int = 3 * MINUTE_MS  # 2-5 minutes
    auction_ms: int = 3 * MINUTE_MS  # 2-5 minutes

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "enabled":
                if not isinstance(value, bool):
                    raise BreakerError(R.BAD_PARAM, f"enabled must be true or false, got {value!r}")
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise BreakerError(R.BAD_PARAM, f"{f.name} must be a non-negative integer, got {value!r}")
            if f.name.endswith("_ppm") and value > PPM:
                raise BreakerError(R.BAD_PARAM, f"{f.name}={value} is above 1_000_000 ppm (100 %)")
        if self.cvd_recover_ppm > self.cvd_trip_ppm:
            raise BreakerError(R.BAD_PARAM, "cvd_recover_ppm must not exceed cvd_trip_ppm")
        if self.rl_recover_ppm < self.rl_trip_ppm:
            raise BreakerError(R.BAD_PARAM, "rl_recover_ppm must not be below rl_trip_ppm")
        if self.lce_safe_ppm > self.lce_trip_ppm:
            raise BreakerError(R.BAD_PARAM, "lce_safe_ppm must not exceed lce_trip_ppm")
        for name in ("depth_sample_ms", "twap_window_ms", "vp_window_ms", "depth_band_ppm"):
            if getattr(self, name) == 0:
                raise BreakerError(R.BAD_PARAM, f"{name} must be positive")
        if self.depth_window_ms < self.depth_sample_ms:
            raise BreakerError(R.BAD_PARAM, "depth_window_ms must cover at least one sample")
        for name in ("cooldown_ms", "auction_ms", "t_dlp_ms", "t_chain_ms", "t_buffer_ms"):
            if getattr(self, name) > DAY_MS:
                raise BreakerError(R.BAD_PARAM, f"{name} longer than a day is not a breaker window")

    @property
    def halt_window_ms(self) -> int:
        """N = max(T_DLP, T_chain) + T_buffer: the least time a tripped market stays halted."""
        return max(self.t_dlp_ms, self.t_chain_ms) + self.t_buffer_ms

    def updated(self, **changes) -> BreakerParams:
        """Return a copy with ``changes`` applied (validated); unknown names are refused."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise BreakerError(R.BAD_PARAM, f"unknown breaker parameter(s): {', '.join(unknown)}")
        return replace(self, **changes)
