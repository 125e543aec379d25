"""The state machine of test_engine_machine.py with the circuit breaker wired in (issue 15.3): every
refused command — market, IOC and FOK orders refused after the breaker's pre-trade guard looked at
the book (fok_unfillable, insufficient_balance, no_liquidity, not_continuous ...) — leaves the
state hash exactly as it was, across days of time passing between commands."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule
from test_engine_machine import SYMBOL, EngineMachine

from offchain.core.build import build_engine, restore_engine
from offchain.core.config import EngineConfig
from offchain.core.messages import commands as C

CONFIG = EngineConfig(risk=False, treasury=False, breaker_params=None)


class BreakerEngineMachine(EngineMachine):
    def __init__(self) -> None:
        super().__init__()
        fresh = build_engine(CONFIG)
        for cmd in (
            C.AddAsset(0, "QUOTE", 2),
            C.AddAsset(0, "BASE", 2, 500_000),
            C.AddMarket(0, SYMBOL, "spot", "BASE", "QUOTE", 1, 1, 0, 300, 200),
        ):
            fresh.apply(cmd)
        self.engine = fresh
        self.net = dict.fromkeys(self.net, 0)
        for account in ("market_maker", "trader", "whale"):
            self.apply(C.Deposit(0, account, "QUOTE", 200_000))
            self.apply(C.Deposit(0, account, "BASE", 2_000))
        if "authorise" in C.COMMANDS:
            for account in ("market_maker", "trader"):  # may add orders while halted
                self.engine.apply(C.COMMANDS["authorise"](0, account, True))

    @rule(minutes=st.integers(1, 20))
    def time_passes(self, minutes):
        """Minutes go by without a command: the next one finds the breaker's windows expired but
        not yet trimmed (what a refused order must not trim either)."""
        self.ts += minutes * 60_000

    @invariant()
    def snapshot_restores_the_same_state(self):
        if self.ts % 7 == 0:
            assert restore_engine(self.engine.snapshot(), CONFIG).state_hash() == self.engine.state_hash()


BreakerEngineMachine.TestCase.settings = settings(max_examples=120, stateful_step_count=80, deadline=None)
TestBreakerEngineMachine = BreakerEngineMachine.TestCase
