"""Per-asset lending pools: auto-lend, a utilisation-kink rate and exact interest accrual.

Model (SPEC §3 "Unified cross-margin account"):
- an account's positive balance of an asset is *supplied* to that asset's pool unless the account
  opted out for that asset; a negative balance *is* a borrow;
- the borrow rate is a kinked function of utilisation ``borrowed / supplied``;
- interest is a set of transfers between balances, paid at accrual instants but accrued
  *time-weighted* (as Aave and Compound do): a borrow index and a supply index advance at the rate
  that held every time a balance changes, and each account's checkpoint charges or credits its
  balance for exactly the time it held it (issue 15.6: sampling the balances at the accrual instant
  let a deposit held for 4 ms around the accrual take the lenders' interest).

Integer rules (no unit is ever created or lost):
- a borrower owes ``sum(debt * rate_ppm * dt_ms) / (PPM * YEAR_MS)`` atoms over the segments in
  which its debt and the rate were constant; the fraction below one atom is
  kept as the borrower's *carry* (in units of ``1 / (PPM * YEAR_MS)`` atoms) and added to the next
  accrual, so a small debt still pays, only later. A carry is dropped when the debt is repaid in
  full (less than one atom, forgiven);
- the protocol share is ``floor(paid * reserve_ppm / PPM)`` (rounding favours lenders);
- lenders share the rest pro rata to ``sum(supplied * rate * borrowed / pool supply * dt)``, their
  time-weighted part of what was lent: each gets the floor of its exact share,
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
class Checkpoint:
    """One account's standing in one pool since its balance last changed (SPEC §3, issue 15.6).

    ``balance`` is what the account has held since then; ``borrow_index``/``supply_index`` are the
    pool's indices when it was last brought up to date; ``owed`` (in ``1 / INTEREST_DENOMINATOR``
    atoms, the carry included) and ``weight`` (its share of what lenders earn) accumulate until the
    next accrual pays them.
    """

    balance: int = 0
    borrow_index: int = 0
    supply_index: int = 0
    owed: int = 0
    weight: int = 0

    def to_state(self) -> list[int]:
        return [self.balance, self.borrow_index, self.supply_index, self.owed, self.weight]


SUPPLY_INDEX_SCALE = 10**18  # fixed point of the supply index (lenders' weights only, never paid out)


@dataclass(slots=True)
class LendingPool:
    """One asset's pool: rate curve, opt-outs, the time-weighted indices and the last accrual time.

    Interest is time-weighted, as Aave and Compound accrue it: the pool keeps a *borrow index*
    (``sum(rate_ppm * dt_ms)``) and a *supply index* (``sum(rate_ppm * borrowed / supplied * dt_ms)``,
    fixed point) that advance, at the rate and utilisation that held, every time a balance of the
    asset changes (:meth:`observe`, called once per command for the pairs it changed) and at every
    accrual. Each account's :class:`Checkpoint` brings its own balance up to the index when that
    balance changes, so a borrower owes ``debt * (index_now - index_then)`` for exactly the time it
    owed, and lenders share what borrowers paid in proportion to ``supplied * (supply index moved)``.
    A balance that exists for a few milliseconds weighs a few milliseconds: a deposit made just
    before an accrual and withdrawn just after it takes (almost) nothing and hardly moves the rate.
    """

    asset: str
    model: RateModel = field(default_factory=RateModel)
    opted_out: set[str] = field(default_factory=set)
    last_accrual_ts: int | None = None
    points: dict[str, Checkpoint] = field(default_factory=dict)
    index_ts: int | None = None  # when the indices were last advanced (None: the clock has not started)
    borrow_index: int = 0
    supply_index: int = 0
    util_index: int = 0  # sum(utilisation_ppm * dt_ms): the average utilisation an accrual reports
    supplied: int = 0  # pool totals over the checkpoints (what held since the last change)
    borrowed: int = 0
    marks: tuple[int, int] = (0, 0)  # (borrow_index, util_index) at the last accrual

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

    def set_opt_out(self, account: str, opt_out: bool, ts: int | None = None) -> None:
        """Stop (or resume) supplying the account's positive balance of this asset (from ``ts``)."""
        if ts is not None:
            self.advance(ts)
        cp = self.points.get(account)
        if cp is not None:
            self._bring_up(account, cp)
            if cp.balance > 0 and (account in self.opted_out) != opt_out:
                self.supplied += -cp.balance if opt_out else cp.balance
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

    # -- the indices -------------------------------------------------------------------------------
    def advance(self, ts: int) -> None:
        """Advance the indices to ``ts`` at the rate the pool's totals gave since the last advance."""
        if self.index_ts is None or ts <= self.index_ts:
            return
        dt = ts - self.index_ts
        self.index_ts = ts
        util = utilisation_ppm(self.supplied, self.borrowed)
        rate = self.model.borrow_rate_ppm(util)
        self.borrow_index += rate * dt
        self.util_index += util * dt
        if self.supplied > 0 and self.borrowed > 0:
            self.supply_index += rate * self.borrowed * dt * SUPPLY_INDEX_SCALE // self.supplied

    def _bring_up(self, account: str, cp: Checkpoint) -> None:
        """Charge or credit ``cp``'s balance for the index moves since it was last brought up."""
        b = cp.balance
        if b < 0:
            cp.owed += -b * (self.borrow_index - cp.borrow_index)
        elif b > 0 and account not in self.opted_out:
            cp.weight += b * (self.supply_index - cp.supply_index)
        cp.borrow_index = self.borrow_index
        cp.supply_index = self.supply_index

    def _set_balance(self, account: str, cp: Checkpoint, balance: int) -> None:
        old = cp.balance
        out = account in self.opted_out
        if old > 0 and not out:
            self.supplied -= old
        elif old < 0:
            self.borrowed += old
        if balance > 0 and not out:
            self.supplied += balance
        elif balance < 0:
            self.borrowed -= balance
        cp.balance = balance

    def observe(self, account: str, balance: int, ts: int) -> None:
        """Record that the account holds ``balance`` from ``ts`` on (it held its old one until then)."""
        cp = self.points.get(account)
        if cp is None:
            if not balance:
                return
            cp = self.points[account] = Checkpoint(0, self.borrow_index, self.supply_index)
        elif cp.balance == balance:
            return
        self.advance(ts)
        self._bring_up(account, cp)
        self._set_balance(account, cp, balance)
        if not balance and not cp.owed and not cp.weight:
            del self.points[account]

    def forgive(self, account: str, ts: int) -> None:
        """Drop the interest the account owes since the last accrual (its debt is being written off:
        the unpaid interest is lost with it, as it was when accruals sampled the balance)."""
        cp = self.points.get(account)
        if cp is None:
            return
        self.advance(ts)
        self._bring_up(account, cp)
        cp.owed = 0

    def accrue(self, balances: Mapping[str, int], ts: int, protocol_account: str) -> Accrual | None:
        """Pay the interest accrued from the last accrual to ``ts``; ``balances`` (account -> atoms)
        are the balances from ``ts`` on.

        Every checkpoint is brought up to ``ts`` first (the balance it holds is the one that held
        until ``ts``: a balance observed only now weighs nothing before ``ts``). Return the
        transfers as an :class:`Accrual` (the caller applies ``deltas``; the checkpoints already
        hold ``balances`` plus them), or ``None`` the first time (which starts the clock) or when
        no time has passed.
        """
        if self.last_accrual_ts is None:
            self.last_accrual_ts = self.index_ts = ts
            self.marks = (self.borrow_index, self.util_index)
            self._rebase(balances, {})
            return None
        if ts <= self.last_accrual_ts:
            return None
        self.advance(ts)
        dt = ts - self.last_accrual_ts
        self.last_accrual_ts = ts
        rate = (self.borrow_index - self.marks[0]) // dt  # the time-weighted average rate
        util = (self.util_index - self.marks[1]) // dt
        self.marks = (self.borrow_index, self.util_index)
        deltas: dict[str, int] = {}
        weights: dict[str, int] = {}
        paid = 0
        for account in sorted(self.points):
            cp = self.points[account]
            self._bring_up(account, cp)
            owed, frac = divmod(cp.owed, INTEREST_DENOMINATOR)
            # the fraction of an atom is carried while the account still borrows (forgiven otherwise)
            cp.owed = frac if balances.get(account, 0) < 0 else 0
            if owed:
                deltas[account] = -owed
                paid += owed
            if cp.weight:
                weights[account] = cp.weight
                cp.weight = 0
        protocol = paid * self.model.reserve_ppm // PPM
        lenders = paid - protocol
        earned = pro_rata(lenders, weights)
        if lenders and not earned:
            protocol += lenders  # nobody supplied: the protocol keeps the lenders' part
            lenders = 0
        for account, amount in earned.items():
            deltas[account] = deltas.get(account, 0) + amount
        if protocol:
            deltas[protocol_account] = deltas.get(protocol_account, 0) + protocol
        deltas = {a: d for a, d in deltas.items() if d}
        self._rebase(balances, deltas)
        return Accrual(self.asset, ts, rate, util, paid, lenders, protocol, deltas)

    def _rebase(self, balances: Mapping[str, int], deltas: Mapping[str, int]) -> None:
        """Set every checkpoint to ``balances + deltas`` (the indices are at their current values)."""
        for account in sorted({*balances, *deltas, *self.points}):
            balance = balances.get(account, 0) + deltas.get(account, 0)
            cp = self.points.get(account)
            if cp is None:
                if not balance:
                    continue
                cp = self.points[account] = Checkpoint(0, self.borrow_index, self.supply_index)
            self._bring_up(account, cp)
            cp.balance = balance
            if not balance and not cp.owed and not cp.weight:
                del self.points[account]
        self.supplied, self.borrowed = self.totals((a, cp.balance) for a, cp in self.points.items())

    # -- state -------------------------------------------------------------------------------------
    def to_state(self) -> dict:
        """Return the pool's state as canonical JSON-able data (the rate model is the caller's)."""
        return {
            "opted_out": sorted(self.opted_out),
            "last": self.last_accrual_ts,
            "index": [self.index_ts, self.borrow_index, self.supply_index, self.util_index, *self.marks],
            "points": {a: cp.to_state() for a, cp in sorted(self.points.items())},
        }

    @classmethod
    def from_state(cls, asset: str, model: RateModel, p: Mapping, balances: Mapping[str, int]) -> LendingPool:
        """Rebuild a pool from :meth:`to_state`; a snapshot from before the indices existed (``carry``
        instead of ``points``) starts them at its last accrual from ``balances``, carries kept."""
        pool = cls(asset, model, set(p["opted_out"]), last_accrual_ts=p["last"])
        if "points" not in p:
            pool.index_ts = pool.last_accrual_ts
            if pool.last_accrual_ts is not None:
                pool._rebase(balances, {})
            for account, frac in p.get("carry", {}).items():
                pool.points.setdefault(account, Checkpoint(balances.get(account, 0))).owed = frac
            return pool
        pool.index_ts, pool.borrow_index, pool.supply_index, pool.util_index, *marks = p["index"]
        pool.marks = (marks[0], marks[1])
        pool.points = {a: Checkpoint(*v) for a, v in p["points"].items()}
        pool.supplied, pool.borrowed = pool.totals((a, cp.balance) for a, cp in pool.points.items())
        return pool
