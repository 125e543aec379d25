"""`python -m offchain daemon` as a real process: SIGKILL, restart, same state, nothing lost or paid twice."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from daemon_kit import Chain, mine, wait_until, write_deployment_file

from offchain.chain.protocol import Protocol
from offchain.chain.watcher import engine_module
from offchain.core.messages import commands as C
from offchain.paths import PROJECT_ROOT
from offchain.store import open_store
from offchain.store.journaled import JournaledEngine

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("anvil")]

USDC = 10**6
RECOVERED = re.compile(r"recovered journal \S+ at seq (\d+), state_hash ([0-9a-f]{64})")


class DaemonProcess:
    """One run of the daemon program, its log in a file."""

    def __init__(self, tmp_path: Path, rpc_url: str, deployment_file: Path, key: str, run: int):
        self.journal_url = f"sqlite:///{tmp_path / 'journal.db'}"
        self.log = tmp_path / f"daemon-{run}.log"
        env = dict(os.environ)
        env.update(
            BREAKWATER_PRIVATE_KEY=key,
            BREAKWATER_TICK_INTERVAL_S="0.5",
            BREAKWATER_STATUS_INTERVAL_S="0.5",
            BREAKWATER_ATTESTATION_INTERVAL_S="3600",
        )
        cmd = [
            sys.executable,
            "-m",
            "offchain",
            "daemon",
            "--rpc-url",
            rpc_url,
            "--deployment",
            str(deployment_file),
            "--journal",
            self.journal_url,
            "--state",
            str(tmp_path / "daemon_state.db"),
            "--no-api",
            "--confirmations",
            "1",
            "--poll-interval",
            "0.1",
        ]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_until(lambda: "daemon running" in self.text() or self.proc.poll() is not None, what="start-up")
        assert self.proc.poll() is None, self.text()

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def recovered(self) -> tuple[int, str]:
        seq, state_hash = RECOVERED.search(self.text()).groups()
        return int(seq), state_hash

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(30)


def journal(url: str) -> list[dict]:
    store = open_store(url)
    try:
        return [record for _, record in store.read_from(1)]
    finally:
        store.close()


def test_sigkill_then_restart_keeps_the_state_loses_no_deposit_and_pays_no_withdrawal_twice(
    anvil, w3, deployment, tmp_path
):
    chain = Chain(w3, deployment)
    operator = chain.daemon_key()
    deployment_file = write_deployment_file(chain.deployment, tmp_path)
    start = lambda run: DaemonProcess(tmp_path, anvil.url, deployment_file, operator.key.hex(), run)  # noqa: E731
    depositor = chain.wallet()
    custody = chain.contract("Custody")

    first = start(1)
    depositor.deposit("USDC", 200 * USDC)
    wait_until(
        lambda: any(
            r["cmd"] == "deposit" and r["account"] == depositor.address for r in journal(first.journal_url)
        ),
        what="the first deposit",
    )
    assert first.terminate() == 0

    # A withdrawal accepted while the daemon was down (as the API would journal it).
    with JournaledEngine.open(first.journal_url) as runner:
        (requested,) = [
            e
            for e in runner.submit(C.Withdraw(runner.engine.now + 1, depositor.address, "USDC", 80 * USDC))
            if e.EVENT == "withdrawal_requested"
        ]
        journal_id = next(iter(runner.store.read_from(1)))[1]["ts"]
    request_id = Protocol(w3, chain.deployment).request_id(requested.wid, journal_id)
    wallet_before = chain.balance("USDC", depositor.address)

    second = start(2)
    wait_until(lambda: custody.functions.is_paid(request_id).call(), what="the payout")
    second.kill()  # SIGKILL right after the payment: its journaling may or may not have happened
    depositor.deposit("USDC", 30 * USDC)  # while no daemon runs
    mine(w3, 1)
    with JournaledEngine.open(second.journal_url) as runner:
        after_kill = (runner.seq, runner.state_hash())

    third = start(3)
    assert third.recovered() == after_kill

    def settled() -> bool:
        records = journal(third.journal_url)
        deposits = [r for r in records if r["cmd"] == "deposit" and r["account"] == depositor.address]
        paid = [r for r in records if r["cmd"] == "withdrawal_paid" and r["wid"] == requested.wid]
        return len(deposits) == 2 and len(paid) >= 1

    wait_until(settled, what="the late deposit and the journaled payout")
    assert third.terminate() == 0

    with JournaledEngine.open(third.journal_url) as runner:
        assert runner.engine.balance(depositor.address, "USDC") == (200 - 80 + 30) * USDC
        assert engine_module(runner.engine, "treasury").owed == {}
    assert chain.balance("USDC", depositor.address) == wallet_before + 80 * USDC
    payouts = custody.events.Withdrawn.get_logs(argument_filters={"request_id": request_id}, from_block=0)
    assert len(payouts) == 1
