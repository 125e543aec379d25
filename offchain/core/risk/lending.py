"""Per-asset lending pools: auto-lend, a utilisation-kink rate and exact interest accrual.

Model (SPEC §3 "Unified cross-margin account"):
- an account's positive balance of an asset is *supplied* to that asset's pool unless the account
  opted out for that asset; a negative balance *is* a borrow;
- the borrow rate is a kinked function of utilisation ``borrowed / supplied``;
- interest is a set of transfers between balances, computed at accrual instants on the balances
  as they stand then (the way FTX and Backpack charge hourly on the snapshot balance).

Integer rules (no unit is ever created or lost):
- a borrower owes ``debt * rate_ppm * dt_ms / (PPM * YEAR_MS)`` atoms; the fraction below one atom is
  kept as the borrower's *carry* (in units of ``1 / (PPM * YEAR_MS)`` atoms) and added to the next
  accrual, so a small debt still pays, only later. A carry is dropped when the debt is repaid in
  full (less than one atom, forgiven);
- the protocol share is ``floor(paid * reserve_ppm / PPM)`` (rounding favours lenders);
- lenders share the rest pro rata to their supplied balance: each gets the floor of its exact share,
  and the atoms left over go one each to the largest remainders (ties: account id ascending);
  with no supplier at all, the protocol receives everything;
- hence, per accrual and exactly: ``borrowers_paid == lenders_earned + protocol``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from offchain.core.codes import RejectCode as R
from offchain.core.risk.params import MAX_RATE_PPM, PPM, YEAR_MS, require, require_ppm

INTEREST_DENOMINATOR = PPM * YEAR_MS


@dataclass(frozen=True, slots=True)
class RateModel:
    """A utilisation-kink borrow-rate curve (annual rates in ppm)."""

    base_ppm: int = 0  # APR at zero utilisation
    slope1_ppm: int = 40_000  # APR added between 0 and the kink
    kink_ppm: int = 800_000  # utilisation at the kink
    slope2_ppm: int = 1_000_000  # APR added between the kink and 100 % utilisation
    reserve_ppm: int = 100_000  # protocol share of the interest paid

    def validate(self) -> None:
        """Refuse negative rates, a kink outside (0, 100 %) and a curve above the ceiling."""
        for name in ("base_ppm", "slope1_ppm", "slope2_ppm"):
            require_ppm(name, getattr(self, name), hi=MAX_RATE_PPM)
        require_ppm("reserve_ppm", self.reserve_ppm)
        require_ppm("kink_ppm", self.kink_ppm, lo=1, hi=PPM - 1)
        top = self.base_ppm + self.slope1_ppm + self.slope2_ppm
        require(top <= MAX_RATE_PPM, R.BAD_PARAM, f"rate at 100 % utilisation {top} ppm above {MAX_RATE_PPM}")

    def borrow_rate_ppm(self, utilisation_ppm: int) -> int:
        """Return the annual borrow rate (ppm) at ``utilisation_ppm`` (clamped to [0, 100 %])."""
        u = min(max(utilisation_ppm, 0), PPM)
        if u <= self.kink_ppm:
            return self.base_ppm + self.slope1_ppm * u // self.kink_ppm
        return (
            self.base_ppm + self.slope1_ppm + self.slope2_ppm * (u - self.kink_ppm) // (PPM - self.kink_ppm)
        )

    def supply_rate_ppm(self, utilisation_ppm: int) -> int:
        """Return the annual rate (ppm) lenders earn on average at ``utilisation_ppm``."""
        u = min(max(utilisation_ppm, 0), PPM)
        return self.borrow_rate_ppm(u) * u // PPM * (PPM - self.reserve_ppm) // PPM


def utilisation_ppm(supplied: int, borrowed: int) -> int:
    """Return ``borrowed / supplied`` in ppm (100 % when something is borrowed from nothing)."""
    if borrowed <= 0:
        return 0
    if supplied <= 0:
        return PPM
    return borrowed * PPM // supplied


def pro_rata(total: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Split ``total`` atoms over ``weights`` exactly: floors, then largest remainders get one more.

    Ties between equal remainders go to the smaller account id. The result sums to ``total``
    exactly whenever the weights sum to more than zero; with no weight it is empty.
    """
    denom = sum(w for w in weights.values() if w > 0)
    if total == 0 or denom == 0:
        return {}
    shares: dict[str, int] = {}
    remainders: list[tuple[int, str]] = []
    given = 0
    for account, w in weights.items():
        if w <= 0:
            continue
        q, r = divmod(total * w, denom)
        shares[account] = q
        remainders.append((-r, account))
        given += q
    left = total - given
    if left:
        remainders.sort()
        for _, account in remainders[:left]:
            shares[account] += 1
    return {a: s for a, s in shares.items() if s}


@dataclass(frozen=True, slots=True)
class Accrual:
    """One accrual of one pool: the balance changes and the identity they satisfy."""

    asset: str
    ts: int
    rate_ppm: int
    utilisation_ppm: int
    borrowers_paid: int
    lenders_earned: int
    protocol: int
    deltas: dict[str, int]


@dataclass(slots=True)
class LendingPool:
    """One asset's pool: rate curve, opt-outs, borrowers' carries and the last accrual time."""

    asset: str
    model: RateModel = field(default_factory=RateModel)
    opted_out: set[str] = field(default_factory=set)
    carry: dict[str, int] = field(default_factory=dict)
    last_accrual_ts: int | None = None

    def supplies(self, account: str, balance: int) -> int:
        """Return how much of ``balance`` the account supplies to the pool."""
        return balance if balance > 0 and account not in self.opted_out else 0

    def totals(self, balances: Iterable[tuple[str, int]]) -> tuple[int, int]:
        """Return ``(supplied, borrowed)`` over ``(account, balance)`` pairs."""
        supplied = borrowed = 0
        for account, b in balances:
            if b > 0:
                if account not in self.opted_out:
                    supplied += b
            elif b < 0:
                borrowed -= b
        return supplied, borrowed

    def set_opt_out(self, account: str, opt_out: bool) -> None:
        """Stop (or resume) supplying the account's positive balance of this asset."""
        if opt_out:
            self.opted_out.add(account)
        else:
            self.opted_out.discard(account)

    def borrow_room(self, supplied: int, borrowed: int) -> int:
        """Return how many more atoms may be borrowed voluntarily (utilisation capped at 100 %).

        Forced borrows (settlement losses, funding, fees) are never refused: they are a negative
        balance whatever the pool holds, and the rate curve at 100 % utilisation prices them.
        """
        return max(supplied - borrowed, 0)

    def accrue(self, balances: Mapping[str, int], ts: int, protocol_account: str) -> Accrual | None:
        """Accrue interest from the last accrual to ``ts`` on ``balances`` (account -> atoms).

        Return the transfers as an :class:`Accrual` (the caller applies ``deltas``), or ``None``
        the first time (which only starts the clock) or when no time has passed. The pool's own
        state (carries, clock) is updated here.
        """
        if self.last_accrual_ts is None or ts <= self.last_accrual_ts:
            if self.last_accrual_ts is None:
                self.last_accrual_ts = ts
            return None
        dt = ts - self.last_accrual_ts
        self.last_accrual_ts = ts
        supplied, borrowed = self.totals(balances.items())
        util = utilisation_ppm(supplied, borrowed)
        rate = self.model.borrow_rate_ppm(util)
        deltas: dict[str, int] = {}
        paid = 0
        new_carry: dict[str, int] = {}
        for account in sorted(balances):
            b = balances[account]
            if b >= 0:
                continue
            owed, frac = divmod(-b * rate * dt + self.carry.get(account, 0), INTEREST_DENOMINATOR)
            if frac:
                new_carry[account] = frac
            if owed:
                deltas[account] = -owed
                paid += owed
        self.carry = new_carry
        protocol = paid * self.model.reserve_ppm // PPM
        lenders = paid - protocol
        weights = {a: self.supplies(a, b) for a, b in sorted(balances.items()) if b > 0}
        earned = pro_rata(lenders, weights)
        if lenders and not earned:
            protocol += lenders  # nobody supplies: the protocol keeps the lenders' part
            lenders = 0
        for account, amount in earned.items():
            deltas[account] = deltas.get(account, 0) + amount
        if protocol:
            deltas[protocol_account] = deltas.get(protocol_account, 0) + protocol
        deltas = {a: d for a, d in deltas.items() if d}
        return Accrual(self.asset, ts, rate, util, paid, lenders, protocol, deltas)
