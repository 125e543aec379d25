"""Custody under any sequence of deposits, (re)sent withdrawals, claims of held ones, time, pauses and
resumes (hypothesis).

Properties: a request id pays at most once and only with its first terms; a withdrawal the global limit
has no room for is held, never lost, and held ones pay first in first out; what Custody takes from a
user's limit (at request) and what leaves for everyone (at payment) over any stretch of time never exceeds
what the rolling limit allows: the cap, plus the cap's recovery over that stretch, plus the deposits that
bought room back; `paid_out` is exactly what was paid; a cap breach never halts Custody.
"""

import os
from functools import cache
from pathlib import Path

import boa
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
WINDOW = 3600
USER_CAP, GLOBAL_CAP = 1_000, 2_500


@cache
def blueprint(name):
    return boa.load_partial(str(CONTRACTS / f"{name}.vy"))


def within_rolling_limit(outflows, inflows, cap):
    """Check every stretch [t0, t1] between flow times: out <= cap + cap*(t1-t0)/window + earlier inflows."""
    times = sorted({t for t, _ in outflows})
    for i, t0 in enumerate(times):
        for t1 in times[i:]:
            out = sum(a for t, a in outflows if t0 <= t <= t1)
            credit = sum(a for t, a in inflows if t <= t1)
            if out > cap + cap * (t1 - t0) // WINDOW + credit:
                return False
    return True


def _examples(default: int) -> int:
    """Sequences per run: the CI default, or BREAKWATER_FUZZ_EXAMPLES for `make fuzz` / the fuzz bench."""
    return int(os.environ.get("BREAKWATER_FUZZ_EXAMPLES", default))


class CustodyMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.governor = boa.env.generate_address("governor")
        self.operator = boa.env.generate_address("operator")
        self.users = [boa.env.generate_address(f"user{i}") for i in range(3)]
        self.usdc = blueprint("DevToken").deploy("USD Coin", "USDC", 6)
        self.breaker = blueprint("CircuitBreaker").deploy(self.governor, self.governor, self.governor)
        self.custody = blueprint("Custody").deploy(self.breaker.address, self.governor, self.operator)
        with boa.env.prank(self.governor):
            self.breaker.protect(self.custody, 60)
            self.custody.set_token(self.usdc, True, USER_CAP, GLOBAL_CAP, WINDOW)
        self.usdc.mint(self.custody, 10**9)  # the hot wallet, refilled from cold: no deposit credit
        for user in self.users:
            with boa.env.prank(user):
                self.usdc.approve(self.custody, 2**256 - 1)
        self.paid = {}  # request id -> (user index, amount)
        self.held = []  # [(request, user index, amount)], oldest first
        self.outflows = {i: [] for i in range(3)}  # user -> [(t, amount)] taken from the user's limit
        self.payments = []  # [(t, amount)] every payment, when it left
        self.inflows = {i: [] for i in range(3)}
        self.minted = dict.fromkeys(range(3), 0)
        self.halted = False

    def teardown(self):
        self._anchor.__exit__(None, None, None)

    @property
    def now(self):
        return boa.env.evm.patch.timestamp

    @rule(who=st.integers(0, 2), amount=st.integers(1, 2_000))
    def user_deposits(self, who, amount):
        user = self.users[who]
        self.usdc.mint(user, amount)
        self.minted[who] += amount
        if self.halted:
            with boa.env.prank(user), boa.reverts("custody: halted"):
                self.custody.deposit(self.usdc, amount)
            return
        with boa.env.prank(user):
            self.custody.deposit(self.usdc, amount)
        self.inflows[who].append((self.now, amount))

    def _terms(self, request):
        if request in self.paid:
            return self.paid[request]
        for r, who, amount in self.held:
            if r == request:
                return (who, amount)
        return None

    @rule(
        request=st.integers(1, 12),
        who=st.integers(0, 2),
        amount=st.sampled_from([1, 100, 333, 999, 1_000, 1_001, 2_000]),
    )
    def operator_sends_a_withdrawal(self, request, who, amount):
        request_id = request.to_bytes(32, "big")
        user = self.users[who]
        before = self.usdc.balanceOf(user)
        known = self._terms(request)
        if known is not None:
            if known != (who, amount):
                with boa.env.prank(self.operator), boa.reverts("custody: request id reused with other terms"):
                    self.custody.withdraw(request_id, user, self.usdc, amount)
                return
            with boa.env.prank(self.operator):
                assert self.custody.withdraw(request_id, user, self.usdc, amount) is False
            assert self.usdc.balanceOf(user) == before
            return
        if self.halted:
            with boa.env.prank(self.operator), boa.reverts("custody: halted"):
                self.custody.withdraw(request_id, user, self.usdc, amount)
            return
        try:
            with boa.env.prank(self.operator):
                paid = self.custody.withdraw(request_id, user, self.usdc, amount)
        except boa.BoaError as exc:
            assert exc.stack_trace.last_frame.pretty_vm_reason == "custody: user outflow limit"
            assert self.usdc.balanceOf(user) == before
            return
        self.outflows[who].append((self.now, amount))
        if paid:
            self.paid[request] = (who, amount)
            self.payments.append((self.now, amount))
            assert self.usdc.balanceOf(user) == before + amount
        else:  # held by the global limit: nothing moved, nothing halted
            assert self.custody.withdrawal_state(request_id) == 1
            assert self.usdc.balanceOf(user) == before
            self.held.append((request, who, amount))

    @precondition(lambda self: self.held)
    @rule(pick=st.integers(0, 3))
    def anyone_claims(self, pick):
        request, who, amount = self.held[min(pick, len(self.held) - 1)]
        request_id = request.to_bytes(32, "big")
        if not self.custody.claimable(request_id):
            with boa.reverts():
                self.custody.claim(request_id)
            return
        assert not self.halted and request == self.held[0][0]  # first in, first out
        before = self.usdc.balanceOf(self.users[who])
        self.custody.claim(request_id)
        assert self.usdc.balanceOf(self.users[who]) == before + amount
        self.held.pop(0)
        self.paid[request] = (who, amount)
        self.payments.append((self.now, amount))

    @precondition(lambda self: not self.halted)
    @rule()
    def guardian_pauses(self):
        with boa.env.prank(self.governor):
            self.breaker.pause(self.custody)
        self.halted = True

    @precondition(lambda self: self.halted)
    @rule()
    def governor_resumes(self):
        with boa.env.prank(self.governor):
            self.breaker.resume(self.custody)
        self.halted = False

    @rule(seconds=st.sampled_from([1, 60, 600, 1_800, 3_599, 3_600, 7_200]))
    def time_passes(self, seconds):
        boa.env.time_travel(seconds=seconds)

    @invariant()
    def each_request_paid_once_and_in_full(self):
        for who, user in enumerate(self.users):
            received = sum(a for u, a in self.paid.values() if u == who)
            deposited = sum(a for _, a in self.inflows[who])
            assert self.usdc.balanceOf(user) == self.minted[who] - deposited + received
        assert all(self.custody.is_paid(r.to_bytes(32, "big")) for r in self.paid)

    @invariant()
    def outflows_stay_within_the_rolling_limits(self):
        for who in range(3):
            assert within_rolling_limit(self.outflows[who], self.inflows[who], USER_CAP)
        everyone_in = [f for flows in self.inflows.values() for f in flows]
        assert within_rolling_limit(self.payments, everyone_in, GLOBAL_CAP)

    @invariant()
    def held_and_paid_totals_match_the_model(self):
        assert self.custody.held_total(self.usdc) == sum(a for _, _, a in self.held)
        assert self.custody.paid_out(self.usdc) == sum(a for _, a in self.payments)

    @invariant()
    def halted_exactly_when_the_model_says(self):
        assert self.breaker.is_halted(self.custody) == self.halted


CustodyMachine.TestCase.settings = settings(max_examples=_examples(20), stateful_step_count=30, deadline=None)
TestCustodyMachine = CustodyMachine.TestCase
