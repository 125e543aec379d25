"""Units, sanity limits and the configuration error shared by the risk modules.

Every rate and ratio is an integer in parts per million (``*_ppm``) or basis points (``*_bps``);
every amount is an integer in atoms; every price is quote atoms per whole base unit
(see docs/engine.md). The limits below are the outer bounds a parameter set may reach: a value
outside them is refused with a :class:`ConfigError` before it can touch state.
"""

from __future__ import annotations

from offchain.core.codes import RejectCode as R
from offchain.core.units import BPS, PPM, ceil_div  # noqa: F401  (the one definition)

YEAR_MS = 365 * 24 * 3600 * 1000

# Outer bounds of what a parameter may be set to; beyond them a setting is a typo or an attack.
MAX_LIMIT_BAND_BPS = 5_000  # a limit order 50 % from the mark is as far as a band may allow
MAX_IMPACT_BAND_BPS = 5_000  # a market order never fills 50 % away from the mark
MAX_PREMIUM_BAND_BPS = 500  # the mark never strays more than 5 % from the index
MAX_SOURCE_DEVIATION_BPS = 2_000  # a source 20 % from the median is never "close enough"
MAX_LEVERAGE = 50  # initial margin is never below 1/50 = 2 %
MIN_IMR_PPM = PPM // MAX_LEVERAGE
MAX_RATE_PPM = 10 * PPM  # 1000 % a year is the ceiling of any borrow-rate curve
MAX_FUNDING_CAP_PPM = 20_000  # 2 % per funding interval
MAX_VOL_MULTIPLIER_PPM = 10 * PPM


class ConfigError(ValueError):
    """A refused risk parameter: ``code`` is the stable reason (the engine's ``Rejected.code``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def require(condition: bool, code: str, message: str) -> None:
    """Raise ``ConfigError(code, message)`` unless ``condition`` holds."""
    if not condition:
        raise ConfigError(code, message)


def require_ppm(name: str, value: int, *, lo: int = 0, hi: int = PPM) -> None:
    """Refuse a ppm field outside ``[lo, hi]`` (negative rates in particular)."""
    require(isinstance(value, int), R.BAD_PARAM, f"{name} must be an integer, got {value!r}")
    if value < 0 and lo >= 0:
        raise ConfigError(R.NEGATIVE_RATE, f"{name} must not be negative, got {value}")
    require(lo <= value <= hi, R.BAD_PARAM, f"{name}={value} outside [{lo}, {hi}]")


def require_band(name: str, value: int, limit: int) -> None:
    """Refuse a band that is not positive or wider than ``limit`` bps."""
    require(isinstance(value, int), R.BAD_PARAM, f"{name} must be an integer, got {value!r}")
    require(value > 0, R.BAD_BAND, f"{name} must be positive, got {value}")
    require(value <= limit, R.INSANE_BAND, f"{name}={value} bps is wider than the sane limit {limit} bps")


def clamp(value: int, lo: int, hi: int) -> int:
    """Clamp ``value`` into ``[lo, hi]``."""
    return lo if value < lo else hi if value > hi else value
