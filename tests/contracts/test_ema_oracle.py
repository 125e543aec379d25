"""contracts/lib/ema_oracle.vy: the capped EMA and its 80-bit storage form."""

from pathlib import Path

import boa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

MOCKS = Path(__file__).resolve().parent / "mocks"
WAD = 10**18
MAX_PRICE = 2**192 - 1
HALF_LIFE = 600


@pytest.fixture(scope="module")
def oracle():
    return boa.load(str(MOCKS / "OracleHarness.vy"))


def test_first_update_takes_the_spot(oracle):
    assert oracle.next(0, 25 * 10**16, 12, 1_000, HALF_LIFE) == 25 * 10**16


def test_a_held_price_moves_the_ema_half_way_in_one_half_life(oracle):
    halfway = oracle.next(WAD, 105 * 10**16, HALF_LIFE, 1_000, HALF_LIFE)
    assert abs(halfway - 1025 * 10**15) <= 10**6


def test_the_spot_is_capped_before_it_enters(oracle):
    # A print at 10x moves the EMA as a print at +10 % would.
    assert oracle.next(WAD, 10 * WAD, HALF_LIFE, 1_000, HALF_LIFE) == oracle.next(
        WAD, 11 * 10**17, HALF_LIFE, 1_000, HALF_LIFE
    )


def test_no_time_no_change(oracle):
    assert oracle.next(WAD, 2 * WAD, 0, 1_000, HALF_LIFE) == WAD


def test_prices_out_of_range_revert(oracle):
    with boa.reverts("oracle: price or cap out of range"):
        oracle.next(0, MAX_PRICE + 1, 12, 1_000, HALF_LIFE)
    with boa.reverts("oracle: price or cap out of range"):
        oracle.next(10**18, 10**18, 12, 10_001, HALF_LIFE)


@settings(max_examples=60, deadline=None)
@given(price=st.integers(min_value=0, max_value=MAX_PRICE))
def test_storage_form_is_exact_below_2_72_and_within_2_pow_minus_64_above(oracle, price):
    code = oracle.pack(price)
    assert code < 2**80
    stored = oracle.unpack(code)
    assert stored <= price, "rounds down"
    if price < 2**72:
        assert stored == price
    else:
        assert (price - stored) * 2**64 < price


@settings(max_examples=40, deadline=None)
@given(
    ema=st.integers(min_value=1, max_value=MAX_PRICE),
    spot=st.integers(min_value=0, max_value=MAX_PRICE),
    elapsed=st.integers(min_value=0, max_value=10**6),
)
def test_next_returns_what_storage_keeps(oracle, ema, spot, elapsed):
    # The pool's view and the value it writes must agree to the unit.
    new = oracle.next(ema, spot, elapsed, 1_000, HALF_LIFE)
    assert oracle.unpack(oracle.pack(new)) == new
