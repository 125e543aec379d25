"""Determinism, snapshots, and the module seams the risk engine and the breaker plug into."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import ClassVar

from core_venue import core_engine, listed_venue, of, restore_core

from offchain.core.engine import Engine
from offchain.core.messages import commands as C
from offchain.core.messages.codec import event_to_dict
from offchain.core.messages.events import Rejected, Trade
from offchain.core.model.states import HALTED
from offchain.core.ports import Module
from offchain.core.risk.spot import SpotRisk


def random_session(seed: int, n: int = 400) -> list:
    """A reproducible stream of listing, deposits and orders around 50 000."""
    rng = random.Random(seed)
    cmds = [
        C.AddAsset(0, "USDC", 6),
        C.AddAsset(0, "BTC", 8, 900_000),
        C.AddMarket(0, "BTC-USDC", "spot", "BTC", "USDC", 10**4, 10**5),
    ]
    traders = ("market_maker", "trader", "arbitrageur")
    for name in traders:
        cmds += [C.Deposit(0, name, "USDC", 10**12), C.Deposit(0, name, "BTC", 10**10)]
    for i in range(n):
        who = rng.choice(traders)
        roll = rng.random()
        if roll < 0.6:
            price = (50_000 + rng.randint(-50, 50)) * 10**6
            side = rng.choice(("buy", "sell"))
            tif = rng.choice(("GTC", "GTC", "IOC"))
            cmds.append(
                C.PlaceOrder(
                    i,
                    who,
                    "BTC-USDC",
                    side,
                    "limit",
                    rng.randint(1, 20) * 10**5,
                    price,
                    tif,
                    client_id=f"{who}-{i % 7}",
                )
            )
        elif roll < 0.8:
            cmds.append(C.Cancel(i, who, client_id=f"{who}-{rng.randrange(7)}"))
        else:
            cmds.append(
                C.Amend(
                    i, who, f"{who}-{rng.randrange(7)}", None, (50_000 + rng.randint(-50, 50)) * 10**6, None
                )
            )
    return cmds


def test_same_commands_give_same_events_and_hash():
    runs = []
    for _ in range(2):
        engine = core_engine()
        events = [event_to_dict(e) for cmd in random_session(7) for e in engine.apply(cmd)]
        runs.append((events, engine.state_hash()))
    assert runs[0] == runs[1]
    assert any(e["event"] == "trade" for e in runs[0][0])


def test_restore_mid_session_then_replay_reaches_the_same_hash():
    cmds = random_session(11)
    whole = core_engine()
    for cmd in cmds:
        whole.apply(cmd)
    half = core_engine()
    for cmd in cmds[:200]:
        half.apply(cmd)
    resumed = restore_core(half.snapshot())
    assert resumed.state_hash() == half.state_hash()
    for cmd in cmds[200:]:
        resumed.apply(cmd)
    assert resumed.state_hash() == whole.state_hash()


def test_hash_covers_balances_orders_and_prices():
    venue = listed_venue()
    seen = {venue.engine.state_hash()}
    for cmd, fields in [
        ("deposit", {"account": "trader", "asset": "USDC", "amount": "1"}),
        (
            "order",
            {"account": "trader", "symbol": "BTC-USDC", "side": "buy", "price": "1", "qty": "1", "id": "x"},
        ),
        ("amend", {"account": "trader", "id": "x", "qty": "0.5"}),
        ("index", {"symbol": "BTC-USDC", "source": "pool", "price": "2"}),
        ("halt", {"symbol": "BTC-USDC"}),
    ]:
        venue.ok(cmd, **fields)
        seen.add(venue.engine.state_hash())
    assert len(seen) == 6


@C.register
@dataclass(slots=True, frozen=True)
class Stamp:
    """A command a module owns (test only)."""

    CMD: ClassVar[str] = "test_stamp"
    ts: int
    note: str


class Recorder(Module):
    """A module that uses every seam: its own command, a veto, trade and time callbacks, state."""

    def __init__(self, name: str, log: list) -> None:
        self.name = name
        self.log = log
        self.notes: list[str] = []
        self.wake_at = 5_000

    def handlers(self, engine):
        def stamp(cmd):
            if not cmd.note:
                return [engine.reject(cmd, "empty_note", "a stamp needs a note")]
            self.notes.append(cmd.note)
            if cmd.note == "schedule":  # e.g. a cool-down that ends in 100 ms
                self.wake_at = cmd.ts + 100
            return []

        return {Stamp: stamp}

    def check_order(self, engine, market, acct, order):
        if acct.name == "banned":
            return ("account_banned", f"{self.name} refuses {acct.name}")
        return None

    def on_trade(self, engine, market, trade, out):
        self.log.append((self.name, "trade", trade.tid))

    def on_tick(self, engine, ts, out):
        if ts >= self.wake_at:
            self.log.append((self.name, "tick", ts))
            self.wake_at = ts + 5_000
            engine.set_trading_state(engine.markets["BTC-USDC"], HALTED, ts, f"{self.name} timer", out)

    def next_wake(self):
        return self.wake_at

    def to_state(self):
        return {"notes": self.notes, "wake_at": self.wake_at}

    def load_state(self, state):
        self.notes = list(state["notes"])
        self.wake_at = state["wake_at"]


def test_modules_hook_in_their_fixed_order():
    log: list = []
    engine = Engine(modules=[Recorder("risk", log), Recorder("breaker", log)], risk=SpotRisk())
    for cmd in random_session(3, n=0):
        engine.apply(cmd)
    engine.apply(C.Deposit(1, "banned", "USDC", 10**12))
    engine.apply(C.PlaceOrder(10, "market_maker", "BTC-USDC", "sell", "limit", 10**5, 50_000 * 10**6))
    events = engine.apply(C.PlaceOrder(11, "trader", "BTC-USDC", "buy", "limit", 10**5, 50_000 * 10**6))
    (trade,) = of(events, Trade)
    assert log == [("risk", "trade", trade.tid), ("breaker", "trade", trade.tid)]

    (veto,) = engine.apply(C.PlaceOrder(12, "banned", "BTC-USDC", "buy", "limit", 10**5, 49_000 * 10**6))
    assert (veto.code, veto.message) == ("account_banned", "risk refuses banned")

    before = engine.state_hash()
    (rejected,) = engine.apply(Stamp(13, ""))
    assert isinstance(rejected, Rejected) and engine.state_hash() == before
    assert engine.apply(Stamp(14, "hello")) == []
    assert engine.state_hash() != before  # module state is in the hash

    log.clear()
    events = engine.apply(C.Cancel(5_000, "trader", client_id="none"))  # due timers run first
    assert [e.EVENT for e in events] == ["state", "state", "rejected"]  # both timers fired
    assert log == [("risk", "tick", 5_000), ("breaker", "tick", 5_000)]

    restored = Engine.restore(
        engine.snapshot(), modules=[Recorder("risk", []), Recorder("breaker", [])], risk=SpotRisk()
    )
    assert restored.state_hash() == engine.state_hash()
    assert restored.modules[1].notes == ["hello"]  # both own `test_stamp`: the later module wins


def test_a_module_command_that_sets_a_timer_wakes_the_module_on_a_later_command():
    log: list = []
    recorder = Recorder("breaker", log)
    recorder.wake_at = 10**12  # nothing due
    engine = Engine(modules=[recorder], risk=SpotRisk())
    for cmd in random_session(3, n=0):
        engine.apply(cmd)
    engine.apply(Stamp(1_000, "schedule"))
    engine.apply(C.Deposit(1_050, "trader", "USDC", 1))
    assert log == []
    engine.apply(C.Deposit(1_100, "trader", "USDC", 1))
    assert log == [("breaker", "tick", 1_100)]
