"""Early-warning actions (seed 000): each fires on its trigger, changes what it says (journaled when
it is engine state), is evented, and is undone when the trigger is over."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from offchain.chain.early_warning import EarlyWarning
from offchain.chain.state import DaemonState
from offchain.core.messages.codec import parse_command
from offchain.service import ExchangeService
from offchain.settings import DaemonSettings
from offchain.store.journaled import JournaledEngine

USDC = 10**6
USDE = 10**18
CUSTODY = "0x" + "c0" * 20
SYMBOL = "USDE-USDC"


@pytest.fixture
def clock():
    return [1_000_000_000]


@pytest.fixture
def service(tmp_path, clock):
    runner = JournaledEngine.open(f"sqlite:///{tmp_path / 'journal.db'}")
    svc = ExchangeService(runner, clock_ms=lambda: clock[0])
    for wire in (
        {"cmd": "asset", "symbol": "USDC", "decimals": 6, "collateral_weight": "1"},
        {"cmd": "asset", "symbol": "USDE", "decimals": 18, "collateral_weight": "0.9"},
        {"cmd": "market", "symbol": SYMBOL, "kind": "spot", "base": "USDE", "quote": "USDC",
         "tick": "0.0001", "lot": "1"},
    ):  # fmt: skip
        svc.submit(parse_command({"ts": 0, **wire}, svc.engine))
    yield svc
    runner.close()


def warning(service, clock, state=None, **actions) -> EarlyWarning:
    settings = DaemonSettings(confirmations=2, early_warning_actions=actions, large_transfers={"USDE": 1_000})
    protocol = SimpleNamespace(deployment=SimpleNamespace(contracts={"Custody": CUSTODY}))
    return EarlyWarning(service, settings, protocol, state=state, clock=lambda: clock[0])


def kinds(service) -> list[tuple[str, str]]:
    return [(a["kind"], a.get("action", "")) for a in service.alerts if a["kind"].startswith("ew_action")]


def request(ts: int, asset: str, amount: int) -> dict:
    return {"event": "withdrawal_requested", "ts": ts, "asset": asset, "amount": amount}


def test_a_bank_run_raises_confirmations_and_requests_cold_funds_until_it_clears(service, clock):
    ew = warning(service, clock)
    hot, net = {"USDC": 100_000 * USDC}, {"USDC": 150_000 * USDC}  # hot covers 66 %: no coverage alert
    assert ew.required_confirmations() == 2

    ew.on_events([request(clock[0], "USDC", 70_000 * USDC)])
    metrics = ew.evaluate(clock[0], hot, {}, net)

    assert ew.required_confirmations() == 6
    assert ("ew_action", "raise_confirmations") in kinds(service)
    cold = metrics["actions"]["cold_to_hot:USDC"]
    assert int(cold["amount"]) == 105_000 * USDC - 100_000 * USDC  # 70 % of net liabilities, less hot

    clock[0] += 11 * 60_000  # the window passes, the run is over
    metrics = ew.evaluate(clock[0], hot, {}, net)
    assert ew.required_confirmations() == 2
    assert metrics["actions"] == {}
    assert ("ew_action_undone", "raise_confirmations") in kinds(service)
    assert ("ew_action_undone", "cold_to_hot") in kinds(service)


def test_the_watcher_waits_for_the_raised_confirmations():
    from offchain.chain.watcher import ChainWatcher

    watcher = ChainWatcher.__new__(ChainWatcher)
    watcher.settings = DaemonSettings(confirmations=2)
    watcher.early_warning = SimpleNamespace(required_confirmations=lambda: 6)
    assert watcher.confirmations() == 6


def breaker_of(service):
    breaker = next(m for m in service.engine.modules if m.name == "breaker")
    b = breaker.breakers.get(SYMBOL)
    return (b.params if b else breaker.default_params).cvd_trip_ppm


def test_a_whale_transfer_into_custody_tightens_its_markets_band_for_the_hold(service, clock):
    ew = warning(service, clock, whale_hold_s=600)
    ew.on_transfer("USDE", "0x" + "ab" * 20, CUSTODY, 999 * USDE, 18, "0x01")
    assert breaker_of(service) == 30_000  # below the threshold: nothing
    ew.on_transfer("USDE", "0x" + "ab" * 20, "0x" + "cd" * 20, 5_000 * USDE, 18, "0x02")
    assert breaker_of(service) == 30_000  # large, but not into the exchange

    ew.on_transfer("USDE", "0x" + "ab" * 20, CUSTODY, 5_000 * USDE, 18, "0x03")
    assert breaker_of(service) == 15_000
    assert ("ew_action", "tighten_band") in kinds(service)
    journaled = [r for _, r in service.runner.store.read_from(1) if r["cmd"] == "breaker"]
    assert journaled[-1]["changes"] == {"cvd_trip_ppm": 15_000}

    clock[0] += 300_000
    ew.on_transfer("USDE", "0x" + "ab" * 20, CUSTODY, 5_000 * USDE, 18, "0x04")  # holds longer
    clock[0] += 400_000
    ew.evaluate(clock[0], {}, {}, {})
    assert breaker_of(service) == 15_000
    clock[0] += 200_001
    ew.evaluate(clock[0], {}, {}, {})
    assert breaker_of(service) == 30_000
    assert ("ew_action_undone", "tighten_band") in kinds(service)


def test_low_hot_coverage_pauses_new_borrowing_and_restores_it(service, clock, tmp_path):
    state = DaemonState(tmp_path / "state.db")
    ew = warning(service, clock, state=state)
    risk = next(m for m in service.engine.modules if m.name == "risk")
    before = risk.assets["USDC"].borrow_imr_ppm

    ew.evaluate(clock[0], {"USDC": 50 * USDC}, {}, {"USDC": 100 * USDC})
    assert risk.assets["USDC"].borrow_imr_ppm == 1_000_000
    assert ("ew_action", "pause_borrowing") in kinds(service)

    restarted = warning(service, clock, state=state)  # a restart remembers what to restore
    restarted.evaluate(clock[0], {"USDC": 90 * USDC}, {}, {"USDC": 100 * USDC})
    assert risk.assets["USDC"].borrow_imr_ppm == before
    assert ("ew_action_undone", "pause_borrowing") in kinds(service)
    state.close()


def test_actions_off_means_alerts_only(service, clock):
    ew = warning(service, clock, enabled=False)
    ew.on_events([request(clock[0], "USDC", 70_000 * USDC)])
    ew.evaluate(clock[0], {"USDC": 10 * USDC}, {}, {"USDC": 100 * USDC})
    ew.on_transfer("USDE", "0x" + "ab" * 20, CUSTODY, 5_000 * USDE, 18, "0x05")
    assert ew.required_confirmations() == 2 and kinds(service) == [] and breaker_of(service) == 30_000
    assert {a["kind"] for a in service.alerts} >= {"bank_run", "hot_reserves_low", "large_transfer"}
