"""The measured halt window (seed 004 §4.1): N = max(T_DLP, T_chain) + T_buffer from what the daemon
saw, bounded, journaled on every market's breaker, shown on the status."""

from __future__ import annotations

from offchain.chain.halt_window import HaltWindow, percentile
from offchain.chain.state import DaemonState
from offchain.chain.watcher import ChainWatcher
from offchain.core.messages.codec import parse_command
from offchain.service import ExchangeService
from offchain.settings import DaemonSettings
from offchain.store.journaled import JournaledEngine

S = 1000


def window(state=None, **halt_window) -> HaltWindow:
    settings = DaemonSettings(confirmations=2, halt_window=halt_window)
    return HaltWindow(settings, state)


def test_percentile_is_nearest_rank():
    assert percentile([5], 90) == 5
    assert percentile(list(range(1, 11)), 90) == 9
    assert percentile(list(range(1, 11)), 100) == 10
    assert percentile([3, 1, 2], 50) == 2


def test_t_chain_follows_the_block_interval_until_deposits_are_measured():
    hw = window(t_chain_min_s=1, t_chain_max_s=600)
    assert hw.figures()["t_chain_ms"] == 120 * S  # nothing seen: the setting
    for n in range(10):
        hw.on_block(100 + n, 1_000 + 12 * n)  # 12 s blocks
    assert hw.figures()["t_chain_ms"] == 3 * 12 * S  # 2 confirmations + the wait for inclusion


def test_slow_confirmations_lengthen_the_halt_and_it_stays_within_its_bounds():
    hw = window(t_chain_min_s=30, t_chain_max_s=900, t_dlp_s=60, t_dlp_min_s=60, t_buffer_s=60)
    for n in range(5):
        hw.on_block(n, 12 * n)
    for _ in range(5):  # deposits credited 20 s after their block: fast chain
        hw.on_deposit(1_000, 1_020 * S)
    fast = hw.figures()
    assert fast["t_chain_ms"] == 32 * S  # 20 s + one 12 s block
    assert hw.status()["n_s"] == 60 + 60  # T_DLP dominates

    for _ in range(64):  # congestion: 10 minutes from block to credit
        hw.on_deposit(2_000, 2_600 * S)
    slow = hw.figures()
    assert slow["t_chain_ms"] == 612 * S
    assert hw.status()["n_s"] == 612 + 60
    assert hw.status()["t_chain_source"] == "deposits"

    for _ in range(64):  # a stalled chain: an hour
        hw.on_deposit(3_000, 6_600 * S)
    assert hw.figures()["t_chain_ms"] == 900 * S  # the upper bound

    for _ in range(64):
        hw.on_deposit(9_000, 9_000 * S)  # instant (a devnet)
    assert hw.figures()["t_chain_ms"] == 30 * S  # the lower bound


def test_dlp_arrivals_set_t_dlp():
    hw = window(t_dlp_s=240, t_dlp_min_s=10, t_dlp_max_s=1_000, min_samples=2)
    hw.on_dlp_arrival(0, 50 * S)
    assert hw.figures()["t_dlp_ms"] == 240 * S  # one arrival: not yet
    hw.on_dlp_arrival(0, 70 * S)
    assert hw.figures()["t_dlp_ms"] == 70 * S
    assert hw.status()["t_dlp_source"] == "arrivals"


def test_changes_only_when_a_figure_moved_enough_and_pins_are_kept(tmp_path):
    settings = DaemonSettings(
        confirmations=2, breaker_params={"USDE-USDC": {"t_dlp_ms": 5_000}}, halt_window={"t_chain_min_s": 1}
    )
    hw = HaltWindow(settings)
    have = {"t_chain_ms": 120 * S, "t_dlp_ms": 5 * S, "t_buffer_ms": 120 * S}
    assert hw.changes("USDE-USDC", have) == {}
    for n in range(5):
        hw.on_block(n, 30 * n)
    assert hw.changes("USDE-USDC", have) == {"t_chain_ms": 90 * S}  # t_dlp_ms is pinned
    assert hw.changes("USDE-USDC", {**have, "t_chain_ms": 85 * S}) == {}  # within 10 %
    assert hw.changes("WETH-USDC", have) == {"t_chain_ms": 90 * S, "t_dlp_ms": 240 * S}


def test_measurements_survive_a_restart(tmp_path):
    state = DaemonState(tmp_path / "state.db")
    hw = window(state)
    for _ in range(3):
        hw.on_deposit(0, 400 * S)
    again = window(state)
    assert again.figures() == hw.figures()
    state.close()


def test_the_watcher_journals_the_measured_window_and_the_next_trip_uses_it(tmp_path):
    runner = JournaledEngine.open(f"sqlite:///{tmp_path / 'journal.db'}")
    clock = [1_000_000]
    service = ExchangeService(runner, clock_ms=lambda: clock[0])
    for wire in (
        {"cmd": "asset", "symbol": "USDC", "decimals": 6},
        {"cmd": "asset", "symbol": "USDE", "decimals": 18},
        {"cmd": "market", "symbol": "USDE-USDC", "kind": "spot", "base": "USDE", "quote": "USDC",
         "tick": "0.0001", "lot": "1"},
    ):  # fmt: skip
        service.submit(parse_command({"ts": 0, **wire}, service.engine))
    settings = DaemonSettings(
        confirmations=2,
        halt_window={"t_chain_min_s": 1, "t_dlp_s": 100, "t_dlp_min_s": 1, "t_buffer_s": 50},
    )
    hw = HaltWindow(settings)
    watcher = ChainWatcher.__new__(ChainWatcher)  # only what sync_halt_window reads
    watcher.service, watcher.settings, watcher.halt_window = service, settings, hw
    for _ in range(3):
        hw.on_deposit(0, 300 * S)

    status = watcher.sync_halt_window()

    breaker = next(m for m in service.engine.modules if m.name == "breaker")
    params = breaker.breakers["USDE-USDC"].params
    assert (params.t_chain_ms, params.t_dlp_ms, params.t_buffer_ms) == (300 * S, 100 * S, 50 * S)
    assert status["markets"]["USDE-USDC"] == 350
    assert service.chain_status["halt_window"]["n_s"] == 350
    journaled = [r for _, r in runner.store.read_from(1) if r["cmd"] == "breaker"]
    assert journaled[-1]["changes"] == {"t_buffer_ms": 50 * S, "t_chain_ms": 300 * S, "t_dlp_ms": 100 * S}
    assert watcher.sync_halt_window()["markets"]["USDE-USDC"] == 350
    assert len([r for _, r in runner.store.read_from(1) if r["cmd"] == "breaker"]) == 1  # no noise

    service.submit(parse_command({"ts": 0, "cmd": "halt", "symbol": "USDE-USDC"}, service.engine))
    b = breaker.breakers["USDE-USDC"]
    assert b.halt_until - b.since == 350 * S
    runner.close()
