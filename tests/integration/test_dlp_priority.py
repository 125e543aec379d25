"""The DLP priority channel and the measured halt window on a real anvil (issue 16, seed 004 §4.1-4.2).

A designated liquidity provider's Custody deposit during a halt is credited before its
confirmations (up to its bond) and only once; a non-DLP's waits; a reorg that removes a priority
deposit is noticed and debited back; slow blocks lengthen the halt window within its bounds.
"""

from __future__ import annotations

import time

import pytest
from daemon_kit import KEY_ENV, Chain, daemon_settings, isolated_chain, mine, write_deployment_file

from offchain.core.messages import commands as C
from offchain.daemon import Daemon

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("anvil")]

USDC = 10**6
SYMBOL = "USDE-USDC"


@pytest.fixture(scope="module")
def chain(w3, deployment) -> Chain:
    return Chain(w3, deployment)


@pytest.fixture(scope="module")
def operator_key(chain):
    return chain.daemon_key()


@pytest.fixture
def isolated(w3):
    with isolated_chain(w3):
        yield


@pytest.fixture
def daemon(anvil, chain, operator_key, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, operator_key.key.hex())
    deployment_file = write_deployment_file(chain.deployment, tmp_path)
    settings = daemon_settings(
        tmp_path,
        anvil.url,
        deployment_file,
        confirmations=3,
        dlp_min_bond={"USDC": "100"},
        index_feeds=[],
        halt_window={
            "t_chain_min_s": 1,
            "t_chain_max_s": 100,
            "t_dlp_min_s": 1,
            "t_dlp_s": 5,
            "t_buffer_s": 2,
        },
    )
    d = Daemon(settings).open()
    d.watcher.poll()
    yield d
    d.stop()


def balance(daemon: Daemon, account: str, asset: str = "USDC") -> int:
    return daemon.service.read(lambda e: e.balance(account, asset))


def deposit_now(chain: Chain, wallet, amount: int) -> None:
    """Send a deposit of funded tokens and mine it in one block (head = its block: 1 confirmation)."""
    chain.w3.eth.wait_for_transaction_receipt(
        chain.w3.eth.send_raw_transaction(wallet.deposit_tx("USDC", amount))
    )


def confirm(chain: Chain, daemon: Daemon, blocks: int = 3) -> None:
    mine(chain.w3, blocks)
    daemon.watcher.poll()


def test_a_dlps_deposit_during_a_halt_is_credited_at_once_and_a_reorged_one_is_taken_back(
    daemon, chain, isolated
):
    dlp, other = chain.wallet(), chain.wallet()
    dlp.faucet("USDC", 10_000 * USDC)
    other.faucet("USDC", 10_000 * USDC)
    deposit_now(chain, dlp, 1_000 * USDC)
    confirm(chain, daemon)
    assert balance(daemon, dlp.address) == 1_000 * USDC
    record = daemon.dlp.designate(daemon.account.address, dlp.address, "dlp", True, "USDC", "500")
    assert record["bond"] == 500 * USDC

    # not halted: the priority channel is closed, the deposit waits for its confirmations
    deposit_now(chain, dlp, 50 * USDC)
    daemon.watcher.poll()
    assert balance(daemon, dlp.address) == 1_000 * USDC
    confirm(chain, daemon)
    assert balance(daemon, dlp.address) == 1_050 * USDC

    daemon.service.submit(C.Halt(0, SYMBOL, "test"))
    deposit_now(chain, dlp, 300 * USDC)
    daemon.watcher.poll()
    assert balance(daemon, dlp.address) == 1_350 * USDC, "the DLP's deposit is credited at 1 confirmation"
    assert len(daemon.dlp.pending) == 1
    deposit_now(chain, other, 300 * USDC)
    daemon.watcher.poll()
    assert balance(daemon, other.address) == 0, "a non-DLP waits for its confirmations"

    deposit_now(chain, dlp, 300 * USDC)  # 300 pending + 300 > the 500 bond: waits
    daemon.watcher.poll()
    assert balance(daemon, dlp.address) == 1_350 * USDC

    confirm(chain, daemon)
    assert balance(daemon, dlp.address) == 1_650 * USDC  # the second one, now confirmed; nothing twice
    assert balance(daemon, other.address) == 300 * USDC
    assert daemon.dlp.pending == {}
    assert daemon.halt_window.status()["dlp_samples"] == 1

    # a reorg takes a priority deposit away before its confirmations
    w3 = chain.w3
    fork = w3.provider.make_request("evm_snapshot", [])["result"]
    deposit_now(chain, dlp, 200 * USDC)
    daemon.watcher.poll()
    assert balance(daemon, dlp.address) == 1_850 * USDC
    w3.provider.make_request("evm_revert", [fork])
    confirm(chain, daemon, 4)
    alerts = [a for a in daemon.service.alerts if a["kind"] == "dlp_deposit_reorged"]
    assert len(alerts) == 1 and alerts[0]["amount"] == str(200 * USDC)
    assert daemon.dlp.pending == {}
    assert alerts[0]["debited"], alerts[0]  # dlp_reverse: taken back from the bond
    assert balance(daemon, dlp.address) == 1_650 * USDC


@pytest.fixture
def clock_restored(w3):
    """Undo the chain changes and put the chain's clock back to the wall clock (later tests read feeds
    whose freshness is measured against the head block's timestamp)."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    yield
    w3.provider.make_request("evm_revert", [snapshot])
    w3.provider.make_request("anvil_removeBlockTimestampInterval", [])
    head = int(w3.eth.get_block("latest")["timestamp"])
    w3.provider.make_request("evm_setNextBlockTimestamp", [max(int(time.time()), head + 1)])
    mine(w3, 1)


def test_slow_blocks_lengthen_the_halt_window_within_its_bounds(daemon, chain, clock_restored):
    w3 = chain.w3

    def blocks(n: int, interval_s: int) -> None:
        w3.provider.make_request("anvil_setBlockTimestampInterval", [interval_s])
        try:
            for _ in range(n):
                mine(w3, 1)
                daemon.watcher.poll()
        finally:
            w3.provider.make_request("anvil_removeBlockTimestampInterval", [])

    def window() -> tuple[int, int]:
        daemon.watcher.sync_halt_window()
        b = daemon.service.read(lambda e: next(m for m in e.modules if m.name == "breaker").breakers[SYMBOL])
        return b.params.t_chain_ms, b.params.halt_window_ms

    blocks(8, 2)
    fast_chain, fast_n = window()
    assert fast_chain == (3 + 1) * 2_000  # 3 confirmations + the wait for inclusion, 2 s blocks
    assert fast_n == max(fast_chain, 5_000) + 2_000

    blocks(10, 20)  # the median block interval is now 20 s
    slow_chain, slow_n = window()
    assert slow_chain == 80_000 and slow_n == 82_000

    blocks(20, 60)
    assert window()[0] == 100_000  # the upper bound
    status = daemon.service.chain_status["halt_window"]
    assert status["t_chain_s"] == 100 and status["markets"][SYMBOL] == 102
