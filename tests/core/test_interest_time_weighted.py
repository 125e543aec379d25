"""Issue 15.6: interest accrues time-weighted, so it cannot be captured just in time.

The attack (from the fuzzing in issue 15): a lender supplies 1M USDC, a borrower owes 900k (90 %
utilisation: 54 % APR). Interest is paid hourly. A whale deposits 9M USDC 2 ms before the accrual
and withdraws it 2 ms after. Sampled at the accrual instant, utilisation fell to 9 %, the rate to
0.45 % and the whale took nine tenths of what was left: the lender got 0.04 USDC instead of 49.93.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from risk_venue import USDC, listed

from offchain.core.build import restore_engine
from offchain.core.config import EngineConfig
from offchain.core.messages.risk import InterestAccrued
from offchain.core.risk.lending import INTEREST_DENOMINATOR, LendingPool, RateModel, utilisation_ppm
from offchain.core.risk.params import PPM, YEAR_MS

HOUR = 3_600_000


def pool_at_90_percent():
    v = listed()
    v.ok("risk_params", interest_interval=3600)
    v.ok("deposit", account="lender", asset="USDC", amount="1000000")
    v.ok("deposit", account="borrower", asset="USDE", amount="3000000")
    v.ok("margin", account="borrower")
    v.ok("withdraw", account="borrower", asset="USDC", amount="900000")
    v.ok("tick", dt_ms=1_000)  # starts the interest clock
    return v


def run_hour(v, whale: bool, borrow_between: bool = False) -> list[InterestAccrued]:
    """Tick every minute to the accrual an hour after the clock started (the whale acts around it)."""
    start = v.ts
    events: list = []
    while v.ts + 60_000 < start + HOUR:
        events += v.ok("tick", dt_ms=60_000)
    if whale:
        v.ok("deposit", dt_ms=start + HOUR - 2 - v.ts, account="whale", asset="USDC", amount="9000000")
    events += v.ok("tick", dt_ms=start + HOUR - v.ts)
    if whale:
        v.ok("withdraw", dt_ms=2, account="whale", asset="USDC", amount="9000000")
    return [e for e in events if isinstance(e, InterestAccrued)]


def test_a_deposit_around_the_accrual_takes_nothing_from_the_lender():
    honest = pool_at_90_percent()
    [fair] = run_hour(honest, whale=False)
    lender_fair = honest.balance("lender", "USDC") - 1_000_000 * USDC
    assert fair.rate_ppm == 540_000
    assert 49_900_000 < lender_fair < 50_000_000  # 49.93 USDC: 90 % of 900k x 54 % for an hour

    v = pool_at_90_percent()
    [accrual] = run_hour(v, whale=True)
    lender = v.balance("lender", "USDC") - 1_000_000 * USDC
    whale = v.balance("whale", "USDC")
    assert accrual.rate_ppm >= 539_000  # 2 ms at 0.45 % hardly moves the hour's rate
    assert lender >= lender_fair - 100_000  # the lender keeps its interest (within 0.1 USDC)
    assert whale <= 100_000  # the whale earns at most 0.1 USDC for 2 ms of supply
    assert accrual.paid == accrual.lenders + accrual.protocol
    # the borrower paid 54 % for the hour (one accrual, within one atom of the exact amount)
    paid = -900_000 * USDC - v.balance("borrower", "USDC")
    assert paid == accrual.paid
    assert abs(paid - 900_000 * USDC * 540_000 * HOUR // (PPM * YEAR_MS)) <= 2_000


def test_a_borrow_repaid_just_before_the_accrual_still_pays_for_its_time():
    """The mirror image: borrow right after an accrual, repay right before the next one."""
    v = listed()
    v.ok("risk_params", interest_interval=3600)
    v.ok("deposit", account="lender", asset="USDC", amount="1000000")
    v.ok("deposit", account="borrower", asset="USDE", amount="3000000")
    v.ok("margin", account="borrower")
    v.ok("tick")
    start = v.ts
    v.ok("withdraw", dt_ms=2, account="borrower", asset="USDC", amount="900000")
    while v.ts + 60_000 < start + HOUR:
        v.ok("tick", dt_ms=60_000)
    v.ok("deposit", dt_ms=start + HOUR - 2 - v.ts, account="borrower", asset="USDC", amount="900000")
    events = v.ok("tick", dt_ms=2)
    [accrual] = [e for e in events if isinstance(e, InterestAccrued)]
    assert accrual.paid > 49_000_000  # about an hour of 54 % on 900k (55.5 USDC), not zero
    assert v.balance("borrower", "USDC") == -accrual.paid
    assert v.balance("lender", "USDC") - 1_000_000 * USDC == accrual.lenders


def test_the_indices_survive_a_snapshot():
    v = pool_at_90_percent()
    run_hour(v, whale=False)
    v.ok("deposit", dt_ms=1_000, account="whale", asset="USDC", amount="1000000")
    v.ok("tick", dt_ms=600_000)
    restored = restore_engine(v.engine.snapshot(), EngineConfig(breaker=False, treasury=False))
    assert restored.state_hash() == v.engine.state_hash()
    twin = listed()
    twin.engine, twin.ts = restored, v.ts
    for venue in (v, twin):
        run_hour(venue, whale=False)
    assert twin.engine.state_hash() == v.engine.state_hash()
    assert twin.balance("whale", "USDC") == v.balance("whale", "USDC") > 1_000_000 * USDC


def test_a_snapshot_from_before_the_indices_restores_and_keeps_accruing():
    import json

    v = pool_at_90_percent()
    run_hour(v, whale=False)
    state = json.loads(v.engine.snapshot())
    for name, p in state["modules"]["risk"]["pools"].items():
        carry = {a: pt[3] for a, pt in p["points"].items() if pt[3]}
        state["modules"]["risk"]["pools"][name] = {
            "model": p["model"], "opted_out": p["opted_out"], "carry": carry, "last": p["last"]
        }  # fmt: skip
    old = json.dumps(state, sort_keys=True, separators=(",", ":")).encode()
    restored = restore_engine(old, EngineConfig(breaker=False, treasury=False))
    twin = listed()
    twin.engine, twin.ts = restored, v.ts
    for venue in (v, twin):
        run_hour(venue, whale=False)
    assert twin.balance("lender", "USDC") == v.balance("lender", "USDC")
    assert twin.balance("borrower", "USDC") == v.balance("borrower", "USDC")


@settings(max_examples=120, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=600_000),  # ms since the previous step
            st.sampled_from(["a", "b", "c", "d"]),
            st.integers(min_value=-(10**12), max_value=10**12),  # the account's new balance
            st.booleans(),  # accrue at this step
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_the_indices_charge_each_segment_at_the_rate_that_held(steps):
    """Against a direct reference: every borrower that never repays pays exactly
    floor(sum over segments of debt x rate(segment) x dt / (PPM x YEAR_MS)); nothing is created."""
    model = RateModel(base_ppm=20_000, slope1_ppm=40_000, slope2_ppm=1_000_000, reserve_ppm=100_000)
    pool = LendingPool("USDC", model)
    never_lend = "z"  # a borrower that never changes: its exact interest is checkable
    balances = {never_lend: -(10**11), "a": 10**12}
    ts = 0
    for account, b in balances.items():
        pool.observe(account, b, ts)
    pool.accrue(balances, ts, "insurance")
    exact = paid = 0  # the never-changing borrower's interest (DENOMINATOR units) and its payments
    for dt, account, balance, accrue in steps:
        supplied, borrowed = pool.totals(balances.items())
        exact += -balances[never_lend] * model.borrow_rate_ppm(utilisation_ppm(supplied, borrowed)) * dt
        ts += dt
        balances[account] = balance
        pool.observe(account, balance, ts)
        if accrue:
            accrual = pool.accrue(balances, ts, "insurance")
            if accrual is not None:
                assert sum(accrual.deltas.values()) == 0
                assert accrual.borrowers_paid == accrual.lenders_earned + accrual.protocol
                for a, d in accrual.deltas.items():
                    balances[a] = balances.get(a, 0) + d
                paid -= accrual.deltas.get(never_lend, 0)
                assert paid == exact // INTEREST_DENOMINATOR
                balances[never_lend] = -(10**11)  # it pays from elsewhere: keep its debt constant
                pool.observe(never_lend, balances[never_lend], ts)
