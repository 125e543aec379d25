"""Lending pools: the kinked rate, exact interest transfers, opt-out and carries."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from risk_venue import listed

from offchain.core.messages.risk import InterestAccrued
from offchain.core.risk.lending import INTEREST_DENOMINATOR, LendingPool, RateModel, pro_rata, utilisation_ppm
from offchain.core.risk.params import PPM, YEAR_MS, ConfigError

USDC = 10**6
HOUR = 3_600_000


def test_rate_follows_the_kink():
    model = RateModel(base_ppm=10_000, slope1_ppm=40_000, kink_ppm=800_000, slope2_ppm=1_000_000)
    assert model.borrow_rate_ppm(0) == 10_000
    assert model.borrow_rate_ppm(400_000) == 30_000
    assert model.borrow_rate_ppm(800_000) == 50_000
    assert model.borrow_rate_ppm(900_000) == 550_000
    assert model.borrow_rate_ppm(PPM) == 1_050_000
    assert model.borrow_rate_ppm(2 * PPM) == 1_050_000  # utilisation beyond 100 % prices as 100 %


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("base_ppm", -1, "negative_rate"),
        ("slope1_ppm", -5, "negative_rate"),
        ("slope2_ppm", -1, "negative_rate"),
        ("reserve_ppm", -1, "negative_rate"),
        ("kink_ppm", 0, "bad_param"),
        ("kink_ppm", PPM, "bad_param"),
        ("slope2_ppm", 50 * PPM, "bad_param"),
    ],
)
def test_bad_rate_model_is_refused_with_a_reason(field, value, code):
    with pytest.raises(ConfigError) as err:
        RateModel(**{field: value}).validate()
    assert err.value.code == code
    assert field in err.value.message


def test_borrower_pays_lenders_and_protocol_exactly():
    pool = LendingPool("USDC", RateModel(base_ppm=100_000, slope1_ppm=0, slope2_ppm=0, reserve_ppm=100_000))
    balances = {"lender": 1_000_000 * USDC, "borrower": -500_000 * USDC}
    assert pool.accrue(balances, 0, "insurance") is None  # the first call starts the clock
    accrual = pool.accrue(balances, YEAR_MS, "insurance")
    assert accrual.rate_ppm == 100_000
    assert accrual.deltas == {"borrower": -50_000 * USDC, "lender": 45_000 * USDC, "insurance": 5_000 * USDC}
    assert accrual.borrowers_paid == accrual.lenders_earned + accrual.protocol


def test_opted_out_balance_earns_nothing_and_does_not_count_as_supply():
    pool = LendingPool("USDC", RateModel(base_ppm=100_000, slope1_ppm=0, slope2_ppm=0, reserve_ppm=0))
    pool.set_opt_out("saver", True)
    balances = {"lender": 100 * USDC, "saver": 900 * USDC, "borrower": -50 * USDC}
    assert pool.totals(balances.items()) == (100 * USDC, 50 * USDC)
    pool.accrue(balances, 0, "insurance")
    accrual = pool.accrue(balances, YEAR_MS, "insurance")
    assert accrual.utilisation_ppm == 500_000
    assert "saver" not in accrual.deltas
    assert accrual.deltas["lender"] == 5 * USDC


def test_small_debt_pays_through_its_carry():
    pool = LendingPool("USDC", RateModel(base_ppm=50_000, slope1_ppm=0, slope2_ppm=0, reserve_ppm=0))
    balances = {"lender": 10_000 * USDC, "borrower": -1 * USDC}  # 0.05 atoms owed per minute
    pool.accrue(balances, 0, "insurance")
    paid = 0
    for minute in range(1, 24 * 60 + 1):
        accrual = pool.accrue(balances, minute * 60_000, "insurance")
        if accrual:
            paid -= accrual.deltas.get("borrower", 0)
    exact = 1 * USDC * 50_000 * 24 * HOUR // INTEREST_DENOMINATOR
    assert paid == exact  # one day of 5 % on 1 USDC, none of it lost to rounding
    assert paid > 0


def test_borrow_room_caps_utilisation_at_one_hundred_percent():
    pool = LendingPool("USDC")
    assert pool.borrow_room(1_000, 400) == 600
    assert pool.borrow_room(1_000, 1_200) == 0
    assert utilisation_ppm(0, 10) == PPM
    assert utilisation_ppm(0, 0) == 0


def test_pro_rata_gives_leftovers_to_largest_remainders_then_smallest_id():
    assert pro_rata(10, {"b": 1, "a": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    assert pro_rata(7, {"big": 2, "small": 1}) == {"big": 5, "small": 2}
    assert pro_rata(5, {}) == {}


balances_strategy = st.dictionaries(
    st.sampled_from([f"acct{i}" for i in range(12)]),
    st.integers(min_value=-(10**15), max_value=10**15),
    min_size=1,
)


@settings(max_examples=150, deadline=None)
@given(
    balances=balances_strategy,
    opted_out=st.sets(st.sampled_from([f"acct{i}" for i in range(12)])),
    dts=st.lists(st.integers(min_value=1, max_value=30 * 24 * HOUR), min_size=1, max_size=6),
    reserve=st.integers(min_value=0, max_value=PPM),
    slope2=st.integers(min_value=0, max_value=3 * PPM),
)
def test_accrual_never_creates_or_loses_a_unit(balances, opted_out, dts, reserve, slope2):
    pool = LendingPool("USDC", RateModel(base_ppm=20_000, slope2_ppm=slope2, reserve_ppm=reserve))
    for account in opted_out:
        pool.set_opt_out(account, True)
    balances = dict(balances)
    total_before = sum(balances.values())
    ts = 0
    pool.accrue(balances, ts, "insurance")
    for dt in dts:
        ts += dt
        accrual = pool.accrue(balances, ts, "insurance")
        assert accrual is not None
        assert sum(accrual.deltas.values()) == 0
        assert accrual.borrowers_paid == accrual.lenders_earned + accrual.protocol
        for account, delta in accrual.deltas.items():
            if account == "insurance":
                continue
            if balances[account] < 0:
                assert delta <= 0  # borrowers only pay
            else:
                assert delta >= 0 and account not in opted_out  # only suppliers earn
        for account, delta in accrual.deltas.items():
            balances[account] = balances.get(account, 0) + delta
    assert sum(balances.values()) == total_before


def test_borrower_pays_interest_to_lenders_through_the_engine():
    v = listed()
    v.ok("deposit", account="lender", asset="USDC", amount="100000")
    v.ok("deposit", account="saver", asset="USDC", amount="100000")
    v.ok("lend", account="saver", asset="USDC", enabled=False)
    v.ok("deposit", account="borrower", asset="USDE", amount="100000")
    v.ok("margin", account="borrower")
    v.ok("withdraw", account="borrower", asset="USDC", amount="80000")  # 80 % utilisation: 4 % a year
    events = []
    for _ in range(61):
        events += v.ok("tick", dt_ms=60_000)
    accruals = [e for e in events if isinstance(e, InterestAccrued)]
    assert len(accruals) == 60 and all(a.rate_ppm == 40_000 for a in accruals[:1])
    paid = sum(a.paid for a in accruals)
    assert paid == -80_000 * USDC - v.balance("borrower", "USDC")
    assert v.balance("lender", "USDC") - 100_000 * USDC == sum(a.lenders for a in accruals)
    assert v.balance("insurance", "USDC") == sum(a.protocol for a in accruals)
    assert v.balance("saver", "USDC") == 100_000 * USDC  # opted out: earns nothing
    assert abs(paid - 80_000 * USDC * 40_000 * HOUR // (PPM * YEAR_MS)) <= 60  # one hour at 4 %
