"""A hypothesis state machine over the Pool and its breaker: many role-named actors, any order.

Traders swap, liquidity providers add and remove, time jumps, the guardian pauses, the sentinel trips,
the governor resumes and switches fees on and off, strangers try to resume and donate. After every
step the invariants of issue 3 must hold:
- k never falls except through remove_liquidity (and the protocol fee sweep, itself a withdrawal);
- LP supply and reserves stay consistent: every share is accounted for, the tokens back the reserves,
  and the value of a share (counting the protocol's pending shares) never falls;
- the actors together never hold more value, at the oracle price, than they brought (fees on and off);
- halted means no swap, and the pool's mirror of its halt state is always the breaker's answer.
"""

import os
from fractions import Fraction

import boa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

USDE, USDC = 10**18, 10**6
FAR = 2**40
DEAD = "0x000000000000000000000000000000000000dEaD"
HALTED = "pool: halted by the circuit breaker"
# The band refusals: one swap's impact, the block's move (issue 14.2), the block of a resume.
BAND = (
    "pool: price impact above band",
    "pool: price move in this block above band",
    "pool: resumed in this block, swaps open in the next",
)
LIQUIDITY_PROVIDERS = ("market_maker", "designated_liquidity_provider")
TRADERS = ("trader", "arbitrageur")
ACTORS = LIQUIDITY_PROVIDERS + TRADERS + ("donor",)


def _reason(exc: boa.BoaError) -> str:
    return exc.stack_trace.last_frame.pretty_vm_reason


def _examples(default: int) -> int:
    """Sequences per run: the CI default, or BREAKWATER_FUZZ_EXAMPLES for `make fuzz` / the fuzz bench."""
    return int(os.environ.get("BREAKWATER_FUZZ_EXAMPLES", default))


class PoolMachine(RuleBasedStateMachine):
    # Set by the test before running: the deployed contracts and the funded actors.
    pool = breaker = usde = usdc = None
    accounts: dict = {}
    governor = guardian = sentinel = stranger = insurance_fund = None

    def __init__(self):
        super().__init__()
        self._anchor = boa.env.anchor()
        self._anchor.__enter__()
        self.brought = {
            name: (self.usde.balanceOf(a), self.usdc.balanceOf(a)) for name, a in self.accounts.items()
        }
        self.last_k = 0
        self.last_share_value = None  # (k, effective supply)
        self.k_may_fall = False

    def teardown(self):
        self._anchor.__exit__(None, None, None)

    # --- rules

    @initialize(price_bps=st.integers(min_value=2_000, max_value=50_000), size=st.integers(1_000, 2_000_000))
    def seed(self, price_bps, size):
        market_maker = self.accounts["market_maker"]
        with boa.env.prank(market_maker):
            self.pool.add_liquidity(size * USDE, size * USDC * price_bps // 10_000, 0, market_maker, FAR)

    @rule(
        actor=st.sampled_from(TRADERS + LIQUIDITY_PROVIDERS),
        sell_usde=st.booleans(),
        size_bps=st.integers(min_value=1, max_value=700),
    )
    def swap(self, actor, sell_usde, size_bps):
        halted = self.breaker.is_halted(self.pool)
        reserve0, reserve1 = self.pool.get_reserves()
        token, reserve_in = (self.usde, reserve0) if sell_usde else (self.usdc, reserve1)
        amount = max(reserve_in * size_bps // 10_000, 1)
        account = self.accounts[actor]
        try:
            with boa.env.prank(account):
                self.pool.swap(token, amount, 0, account, FAR)
        except boa.BoaError as exc:
            reason = _reason(exc)
            if halted:
                assert reason == HALTED
            else:
                assert reason in (*BAND, "pool: output is zero"), reason
            return
        assert not halted, "a halted pool executed a swap"

    @rule(
        actor=st.sampled_from(LIQUIDITY_PROVIDERS),
        size_bps=st.integers(min_value=1, max_value=5_000),
        skew_bps=st.integers(min_value=5_000, max_value=20_000),
    )
    def add_liquidity(self, actor, size_bps, skew_bps):
        reserve0, reserve1 = self.pool.get_reserves()
        amount0 = reserve0 * size_bps // 10_000 + 1
        amount1 = reserve1 * size_bps * skew_bps // 10**8 + 1
        account = self.accounts[actor]
        try:
            with boa.env.prank(account):
                self.pool.add_liquidity(amount0, amount1, 0, account, FAR)
        except boa.BoaError as exc:
            assert _reason(exc) == "pool: zero liquidity minted"

    @rule(
        actor=st.sampled_from(LIQUIDITY_PROVIDERS + TRADERS),
        share_pct=st.integers(min_value=1, max_value=100),
    )
    def remove_liquidity(self, actor, share_pct):
        account = self.accounts[actor]
        shares = self.pool.balanceOf(account) * share_pct // 100
        if shares == 0:
            return
        self.k_may_fall = True
        try:
            with boa.env.prank(account):
                self.pool.remove_liquidity(shares, 0, 0, account, FAR)
        except boa.BoaError as exc:
            assert _reason(exc) == "pool: nothing to withdraw", "a withdrawal must never be refused otherwise"

    @rule(
        actor=st.sampled_from(LIQUIDITY_PROVIDERS), to=st.sampled_from(TRADERS), share_pct=st.integers(1, 50)
    )
    def transfer_shares(self, actor, to, share_pct):
        with boa.env.prank(self.accounts[actor]):
            self.pool.transfer(
                self.accounts[to], self.pool.balanceOf(self.accounts[actor]) * share_pct // 100
            )

    @rule(seconds=st.sampled_from([1, 12, 300, 600, 3_600, 86_400]))
    def wait(self, seconds):
        boa.env.time_travel(seconds=seconds)

    @rule()
    def guardian_pauses(self):
        with boa.env.prank(self.guardian):
            self.breaker.pause(self.pool)
        assert self.breaker.is_halted(self.pool)

    @rule()
    def guardian_pauses_all(self):
        with boa.env.prank(self.guardian):
            self.breaker.pause_all()

    @rule()
    def sentinel_trips(self):
        with boa.env.prank(self.sentinel):
            self.breaker.trip(self.pool, 1000, 0)

    @rule()
    def governor_unpauses_all(self):
        with boa.env.prank(self.governor):
            self.breaker.unpause_all()
        assert not self.breaker.is_halted(self.pool)

    @rule()
    def governor_resumes(self):
        if not self.breaker.is_halted(self.pool) or self.breaker.all_paused():
            return
        with boa.env.prank(self.governor):
            self.breaker.resume(self.pool)
        assert not self.breaker.is_halted(self.pool)

    @rule()
    def stranger_resumes(self):
        _, halted, manual, halted_at, _, window = self.breaker.protection(self.pool)
        allowed = halted and not manual and boa.env.evm.patch.timestamp >= halted_at + window
        allowed = allowed and self.pool.can_resume()
        try:
            with boa.env.prank(self.stranger):
                self.breaker.resume(self.pool)
        except boa.BoaError:
            assert not allowed, "a resume the rules allow was refused"
            return
        assert allowed, "a stranger resumed against the rules"

    @rule(fee_bps=st.sampled_from([0, 30, 100]), divisor=st.sampled_from([0, 6]))
    def governor_sets_fees(self, fee_bps, divisor):
        with boa.env.prank(self.governor):
            self.pool.set_parameters(
                self.pool.parameters()._replace(fee_bps=fee_bps, protocol_fee_divisor=divisor)
            )

    @rule()
    def anyone_sweeps_the_protocol_fee(self):
        self.k_may_fall = True
        with boa.env.prank(self.stranger):
            self.pool.sweep_protocol_fee()

    @rule(amount=st.integers(min_value=1, max_value=10**22), skim=st.booleans())
    def donor_donates(self, amount, skim):
        with boa.env.prank(self.accounts["donor"]):
            self.usde.transfer(self.pool, amount)
        if skim:
            self.pool.skim()

    # --- invariants

    @invariant()
    def k_falls_only_through_withdrawals(self):
        reserve0, reserve1 = self.pool.get_reserves()
        k = reserve0 * reserve1
        if not self.k_may_fall:
            assert k >= self.last_k
        self.last_k, self.k_may_fall = k, False

    @invariant()
    def lp_supply_and_reserves_stay_consistent(self):
        pool = self.pool
        supply = pool.totalSupply()
        holders = [*self.accounts.values(), DEAD, pool.address]
        assert supply == sum(pool.balanceOf(h) for h in holders)
        reserve0, reserve1 = pool.get_reserves()
        assert (supply == 0) == (reserve0 == 0) == (reserve1 == 0)
        assert self.usde.balanceOf(pool) >= reserve0 and self.usdc.balanceOf(pool) >= reserve1
        if supply == 0:
            return
        # sqrt(k) per share, with the protocol's pending shares counted, never falls: k / supply**2.
        effective = supply + pool.protocol_fee_pending() - pool.balanceOf(pool)
        k = reserve0 * reserve1
        if self.last_share_value is not None:
            last_k, last_supply = self.last_share_value
            assert Fraction(k, effective**2) >= Fraction(last_k, last_supply**2) * (1 - Fraction(1, 10**15))
        self.last_share_value = (k, effective)

    @invariant()
    def actors_together_never_gain_at_the_oracle_price(self):
        pool = self.pool
        price = pool.price_oracle()
        if price == 0:
            return
        reserve0, reserve1 = pool.get_reserves()
        supply = pool.totalSupply()

        def value(usde, usdc):  # in USDC, exact: price is 1e18-scaled USDC per USDE
            return Fraction(usde * price, USDE * 10**18) + Fraction(usdc, USDC)

        now = brought = Fraction(0)
        for name, account in self.accounts.items():
            shares = pool.balanceOf(account)
            claim0 = shares * reserve0 // supply if supply else 0
            claim1 = shares * reserve1 // supply if supply else 0
            now += value(self.usde.balanceOf(account) + claim0, self.usdc.balanceOf(account) + claim1)
            brought += value(*self.brought[name])
        assert now <= brought

    @invariant()
    def the_pools_mirror_is_the_breakers_answer(self):
        # The pool reads its own copy of its halt state on every swap: it must be exactly the breaker's.
        assert self.pool.halt_state() == (True, *self.breaker.halt_state(self.pool))

    @invariant()
    def halted_means_no_swap(self):
        if not self.breaker.is_halted(self.pool) or self.pool.totalSupply() == 0:
            return
        trader = self.accounts["trader"]
        with boa.env.anchor(), boa.env.prank(trader), boa.reverts(HALTED):
            self.pool.swap(self.usdc, USDC, 0, trader, FAR)


@pytest.fixture(scope="module")
def machine_accounts(empty_pool, usde, usdc, fund):
    accounts = {name: boa.env.generate_address(name) for name in ACTORS}
    for account in accounts.values():
        fund(account, empty_pool, usde, 10**9 * USDE)
        fund(account, empty_pool, usdc, 10**9 * USDC)
    return accounts


def test_pool_state_machine(
    empty_pool, breaker, usde, usdc, machine_accounts, governor, guardian, sentinel, stranger, insurance_fund
):
    PoolMachine.pool, PoolMachine.breaker = empty_pool, breaker
    PoolMachine.usde, PoolMachine.usdc = usde, usdc
    PoolMachine.accounts = machine_accounts
    PoolMachine.governor, PoolMachine.guardian, PoolMachine.sentinel = governor, guardian, sentinel
    PoolMachine.stranger, PoolMachine.insurance_fund = stranger, insurance_fund
    run_state_machine_as_test(
        PoolMachine, settings=settings(max_examples=_examples(25), stateful_step_count=30, deadline=None)
    )


def test_lone_trader_never_gains_at_the_starting_price(pool, usde, usdc, trader):
    """No money pump: whatever a lone trader does, valued at the pool's starting price it ends poorer."""

    @settings(max_examples=25, deadline=None)
    @given(
        steps=st.lists(
            st.tuples(st.booleans(), st.integers(1, 500), st.sampled_from([0, 12, 600])),
            min_size=1,
            max_size=12,
        )
    )
    def run(steps):
        with boa.env.anchor():
            start_price = pool.spot_price()
            before = (usde.balanceOf(trader), usdc.balanceOf(trader))
            for sell_usde, size_bps, wait in steps:
                boa.env.time_travel(seconds=wait)
                reserve0, reserve1 = pool.get_reserves()
                token, reserve_in = (usde, reserve0) if sell_usde else (usdc, reserve1)
                try:
                    with boa.env.prank(trader):
                        pool.swap(token, max(reserve_in * size_bps // 10_000, 1), 0, trader, FAR)
                except boa.BoaError as exc:
                    assert _reason(exc) in (*BAND, HALTED, "pool: output is zero")
            after = (usde.balanceOf(trader), usdc.balanceOf(trader))
            gained = Fraction((after[0] - before[0]) * start_price, USDE * 10**18) + Fraction(
                after[1] - before[1], USDC
            )
            assert gained <= 0

    run()
