"""Periodic funding of perpetuals: rate from the premium plus an interest component, capped.

Rate per interval (ppm), with ``P`` the time-weighted average premium over the interval and ``I``
the interest component per interval::

    rate = clamp(P + clamp(I - P, -damper, +damper), -cap, +cap)

A positive rate means longs pay shorts. Payments are in quote atoms (USDC) and exactly zero-sum:

- **Remainder rule**: each payer pays the *floor* of ``|qty| x mark x |rate| / (unit x PPM)``; the
  receivers share the payers' total pro rata to ``|qty|``, each the floor of its share, and the atoms
  left over go one each to the largest remainders (ties: account id ascending). So receivers get
  exactly what payers pay, and no payer ever pays more than its exact amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from offchain.core.codes import RejectCode as R
from offchain.core.risk.lending import pro_rata
from offchain.core.risk.params import MAX_FUNDING_CAP_PPM, PPM, clamp, require, require_ppm


@dataclass(frozen=True, slots=True)
class FundingParams:
    """Funding parameters of one perpetual market."""

    interval_ms: int = 3_600_000  # hourly
    interest_ppm: int = 12  # per interval: about 0.01 % per 8 hours
    damper_ppm: int = 62  # the interest term moves the rate at most about 0.05 % per 8 hours
    cap_ppm: int = 1_000  # at most 0.1 % per interval either way

    def validate(self) -> None:
        """Refuse a non-positive interval, negative rates and a cap beyond the sane limit."""
        require(
            isinstance(self.interval_ms, int) and self.interval_ms > 0,
            R.BAD_PARAM,
            "interval_ms must be positive",
        )
        require_ppm("interest_ppm", self.interest_ppm, hi=MAX_FUNDING_CAP_PPM)
        require_ppm("damper_ppm", self.damper_ppm, hi=MAX_FUNDING_CAP_PPM)
        require_ppm("cap_ppm", self.cap_ppm, hi=MAX_FUNDING_CAP_PPM)
        if self.cap_ppm == 0:
            require(False, R.BAD_PARAM, "cap_ppm must be positive")

    def rate_ppm(self, premium_ppm: int) -> int:
        """Return the funding rate for an average premium ``premium_ppm``."""
        p = premium_ppm
        return clamp(
            p + clamp(self.interest_ppm - p, -self.damper_ppm, self.damper_ppm), -self.cap_ppm, self.cap_ppm
        )


@dataclass(slots=True)
class PremiumAverage:
    """Time-weighted average of premium samples since the last funding."""

    weighted_sum: int = 0
    duration_ms: int = 0
    last_ts: int | None = None
    last_premium: int = 0

    def sample(self, ts: int, premium_ppm: int | None) -> None:
        """Add the time since the previous sample at the previous premium, then take the new one."""
        if self.last_ts is not None and ts > self.last_ts:
            dt = ts - self.last_ts
            self.weighted_sum += self.last_premium * dt
            self.duration_ms += dt
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts = ts
        if premium_ppm is not None:
            self.last_premium = premium_ppm

    def take(self) -> int:
        """Return the average premium (floor) and start a new interval."""
        avg = self.weighted_sum // self.duration_ms if self.duration_ms else self.last_premium
        self.weighted_sum = 0
        self.duration_ms = 0
        return avg


def funding_payments(qty: Mapping[str, int], mark: int, unit: int, rate_ppm: int) -> dict[str, int]:
    """Return the quote-atom change of each account for one funding at ``rate_ppm``.

    ``qty`` maps account -> signed position (base atoms). The result sums to exactly zero.
    """
    if rate_ppm == 0:
        return {}
    payers_long = rate_ppm > 0
    magnitude = abs(rate_ppm)
    deltas: dict[str, int] = {}
    total = 0
    receivers: dict[str, int] = {}
    for account in sorted(qty):
        q = qty[account]
        if q == 0:
            continue
        if (q > 0) == payers_long:
            owed = abs(q) * mark * magnitude // (unit * PPM)
            if owed:
                deltas[account] = -owed
                total += owed
        else:
            receivers[account] = abs(q)
    shares = pro_rata(total, receivers)
    if total and not shares:
        return {}  # nobody on the other side: nothing changes hands
    for account, amount in shares.items():
        deltas[account] = deltas.get(account, 0) + amount
    return deltas
