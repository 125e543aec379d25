"""contracts/lib/outflow_limiter.vy: the rolling-window net outflow cap shared by Pool and Custody."""

from pathlib import Path

import boa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

MOCKS = Path(__file__).resolve().parent / "mocks"
CAP, WINDOW = 300_000, 3_600
USDC_KEY = b"\x11" * 32
USDE_KEY = b"\x22" * 32


@pytest.fixture(scope="module")
def limiter():
    return boa.load(str(MOCKS / "LimiterHarness.vy"))


def test_outflow_up_to_the_cap_is_within_and_beyond_is_not(limiter):
    assert limiter.record(USDC_KEY, 0, CAP, CAP, WINDOW)
    assert limiter.headroom(USDC_KEY, CAP, WINDOW) == 0
    assert not limiter.record(USDC_KEY, 0, 1, CAP, WINDOW)
    assert limiter.net_outflow(USDC_KEY, CAP, WINDOW) == CAP + 1


def test_budget_comes_back_linearly_over_the_window(limiter):
    limiter.record(USDC_KEY, 0, CAP, CAP, WINDOW)
    boa.env.time_travel(seconds=WINDOW // 4)
    assert limiter.net_outflow(USDC_KEY, CAP, WINDOW) == CAP - CAP // 4
    assert limiter.headroom(USDC_KEY, CAP, WINDOW) == CAP // 4
    boa.env.time_travel(seconds=WINDOW)
    assert limiter.net_outflow(USDC_KEY, CAP, WINDOW) == 0


def test_flash_deposit_and_withdrawal_nets_to_zero(limiter):
    # A flash loan in and out again neither uses up the budget nor pins the limiter tripped.
    assert limiter.record(USDC_KEY, 50 * CAP, 0, CAP, WINDOW)
    assert limiter.record(USDC_KEY, 0, 50 * CAP, CAP, WINDOW)
    assert limiter.net_outflow(USDC_KEY, CAP, WINDOW) == 0
    assert limiter.headroom(USDC_KEY, CAP, WINDOW) == CAP


def test_inflow_replenishes_the_buffer_and_its_credit_relaxes(limiter):
    limiter.record(USDC_KEY, 0, CAP, CAP, WINDOW)
    limiter.record(USDC_KEY, 2 * CAP, 0, CAP, WINDOW)
    assert limiter.net_outflow(USDC_KEY, CAP, WINDOW) == -CAP
    assert limiter.headroom(USDC_KEY, CAP, WINDOW) == 2 * CAP
    boa.env.time_travel(seconds=WINDOW // 2)
    assert limiter.net_outflow(USDC_KEY, CAP, WINDOW) == -CAP // 2
    boa.env.time_travel(seconds=WINDOW)
    assert limiter.net_outflow(USDC_KEY, CAP, WINDOW) == 0, "credit must not outlive the window"


def test_keys_are_independent(limiter):
    assert not limiter.record(USDC_KEY, 0, CAP + 1, CAP, WINDOW)
    assert limiter.headroom(USDE_KEY, CAP, WINDOW) == CAP
    assert limiter.record(USDE_KEY, 0, CAP, CAP, WINDOW)


def test_stored_limit_applies_and_unconfigured_key_records_nothing(limiter):
    assert limiter.record_stored(USDC_KEY, 0, 10**30)
    assert limiter.net_outflow(USDC_KEY, CAP, WINDOW) == 0
    limiter.set_limit(USDC_KEY, CAP, WINDOW)
    (event,) = [e for e in limiter.get_logs() if type(e).__name__ == "LimitSet"]
    assert (event.key, event.cap, event.window) == (USDC_KEY, CAP, WINDOW)
    assert limiter.limits(USDC_KEY) == (CAP, WINDOW)
    assert limiter.record_stored(USDC_KEY, 0, CAP)
    assert not limiter.record_stored(USDC_KEY, 0, 1)


def test_reset_forgets_the_net_outflow(limiter):
    limiter.record(USDC_KEY, 0, 2 * CAP, CAP, WINDOW)
    limiter.reset(USDC_KEY)
    assert limiter.net_outflow(USDC_KEY, CAP, WINDOW) == 0


def test_amounts_beyond_the_packed_range_revert(limiter):
    with boa.reverts("limiter: amount too large"):
        limiter.record(USDC_KEY, 0, 2**189 + 1, CAP, WINDOW)
    with boa.reverts("limiter: cap too large"):
        limiter.set_limit(USDC_KEY, 2**189 + 1, WINDOW)


def _relax(net: int, cap: int, window: int, elapsed: int) -> int:
    decay = cap * elapsed // window
    return max(net - decay, 0) if net > 0 else min(net + decay, 0)


flows = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=5_000),  # seconds since the previous flow
        st.integers(min_value=0, max_value=10**24),  # inflow
        st.integers(min_value=0, max_value=10**24),  # outflow
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(flows=flows, cap=st.integers(min_value=1, max_value=10**24))
def test_limiter_matches_the_leaky_bucket_model(limiter, flows, cap):
    with boa.env.anchor():
        net = 0
        for elapsed, inflow, outflow in flows:
            boa.env.time_travel(seconds=elapsed)
            net = _relax(net, cap, WINDOW, elapsed) + outflow - inflow
            assert limiter.record(USDC_KEY, inflow, outflow, cap, WINDOW) == (net <= cap)
            assert limiter.net_outflow(USDC_KEY, cap, WINDOW) == net


LANE_BITS, MAX_LANE = 88, 2**87 - 1


def test_lanes_packed_in_one_word_are_read_apart(limiter):
    # Lane 0 takes an outflow over its cap, lane 1 an inflow; the caller packs both in one word.
    lane0, net0 = limiter.lane_flow(0, 0, CAP + 1, CAP, WINDOW, 0)
    lane1, net1 = limiter.lane_flow(0, 500, 0, CAP, WINDOW, 0)
    assert (net0 > CAP, net1) == (True, -500)
    word = lane0 | lane1 << LANE_BITS
    assert limiter.lane_net(word, CAP, WINDOW, 0) == CAP + 1
    assert limiter.lane_net(word >> LANE_BITS, CAP, WINDOW, 0) == -500
    # Both relax over the same elapsed time: the caller keeps one clock for the pair.
    assert limiter.lane_net(word, CAP, WINDOW, WINDOW // 2) == CAP + 1 - CAP // 2
    assert limiter.lane_net(word >> LANE_BITS, CAP, WINDOW, WINDOW // 2) == 0
    assert limiter.lane_flow(word, 0, 0, CAP, WINDOW, 0) == (lane0, CAP + 1), "only the low lane is read"


def test_an_empty_lane_is_zero(limiter):
    assert limiter.lane_net(0, CAP, WINDOW, 10**6) == 0
    lane, net = limiter.lane_flow(0, 0, 0, CAP, WINDOW, 0)
    assert net == 0 and lane != 0 and limiter.lane_net(lane, CAP, WINDOW, 0) == 0


def test_lanes_saturate_instead_of_overflowing(limiter):
    credit, net = limiter.lane_flow(0, 2**112, 0, CAP, WINDOW, 0)
    assert net == -(2**112) and limiter.lane_net(credit, CAP, WINDOW, 0) == -MAX_LANE
    debit, net = limiter.lane_flow(0, 0, 2**112, MAX_LANE, WINDOW, 0)
    assert net == 2**112 > MAX_LANE, "the answer of the call itself is exact"
    assert limiter.lane_net(debit, MAX_LANE, WINDOW, 0) == MAX_LANE, "still over any cap the lane allows"
    with boa.reverts("limiter: cap too large"):
        limiter.lane_flow(0, 0, 0, MAX_LANE + 1, WINDOW, 0)
    with boa.reverts("limiter: amount too large"):
        limiter.lane_flow(0, 0, 2**200, CAP, WINDOW, 0)


@settings(max_examples=30, deadline=None)
@given(flows=flows, cap=st.integers(min_value=1, max_value=10**24))
def test_lanes_match_the_leaky_bucket_model(limiter, flows, cap):
    lane = 0
    net = 0
    for elapsed, inflow, outflow in flows:
        net = _relax(net, cap, WINDOW, elapsed) + outflow - inflow
        lane, answer = limiter.lane_flow(lane, inflow, outflow, cap, WINDOW, elapsed)
        assert answer == net
        assert limiter.lane_net(lane, cap, WINDOW, 0) == net, "no saturation below 2**87"
