"""The daemon's proof of reserves against a real anvil (issues 14.7 and 14.5): the chain poster attests
each epoch with its debtors' register at the engine's prices and haircuts, anyone's `por audit` checks it
against the chain, and a withdrawal the engine accepted stays a liability until Custody pays it, after
which the registry takes the payout off the attested liabilities."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from daemon_kit import KEY_ENV, Chain, daemon_settings, isolated_chain, write_deployment_file

from offchain.core.messages import commands as C
from offchain.core.messages.codec import format_units, parse_command
from offchain.daemon import Daemon
from offchain.paths import PROJECT_ROOT
from offchain.por import Register

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("anvil")]

USDC = 10**6
USDE = 10**18


@pytest.fixture(scope="module")
def chain(w3, deployment) -> Chain:
    return Chain(w3, deployment)


@pytest.fixture
def isolated(w3):
    with isolated_chain(w3):
        yield


@pytest.fixture
def open_daemon(anvil, chain, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, chain.daemon_key().key.hex())
    deployment_file = write_deployment_file(chain.deployment, tmp_path)
    daemons: list[Daemon] = []

    def make(**overrides) -> Daemon:
        daemon = Daemon(daemon_settings(tmp_path, anvil.url, deployment_file, **overrides)).open()
        daemon.deployment_file = deployment_file
        daemons.append(daemon)
        return daemon

    yield make
    for daemon in daemons:
        daemon.stop()


def margin_long(daemon: Daemon, trader: str, maker: str) -> None:
    """The trader buys 500 USDE at 1.00 with 100 USDC of its own: it owes 400 USDC against 500 USDE."""
    for wire in (
        {"cmd": "index", "symbol": "USDE-USDC", "source": "pool", "price": "1"},
        {"cmd": "margin", "account": trader},
        {"cmd": "order", "account": maker, "symbol": "USDE-USDC", "side": "sell", "type": "limit"}
        | {"price": "1", "qty": "500", "id": "m"},
        {"cmd": "order", "account": trader, "symbol": "USDE-USDC", "side": "buy", "type": "limit"}
        | {"price": "1", "qty": "500", "id": "t"},
    ):
        daemon.service.submit(parse_command({"t": 0, **wire}, daemon.service.engine))


def test_the_poster_attests_a_register_that_anyones_audit_accepts(
    open_daemon, chain, anvil, tmp_path, isolated
):
    registry, usdc = chain.contract("ReserveRegistry"), chain.contract("USDC")
    daemon = open_daemon(confirmations=1)
    trader, maker = chain.wallet(), chain.wallet()
    trader.deposit("USDC", 100 * USDC)
    maker.deposit("USDE", 1_000 * USDE)
    maker.deposit("USDC", 1_000 * USDC)
    daemon.watcher.scan_deposits(chain.w3.eth.block_number)
    margin_long(daemon, trader.address, maker.address)

    epoch = daemon.poster.attest()
    assert epoch["debtor_count"] == 1
    assert registry.functions.register(epoch["epoch"]).call() == [
        bytes.fromhex(epoch["register_root"][2:]),
        1,
    ]
    register = Register.from_json(daemon.service.por_register(epoch["epoch"]))
    (debtor,) = register.debtors
    usdc_i, usde_i = epoch["assets"].index("USDC"), epoch["assets"].index("USDE")
    owed = debtor.debt[usdc_i]  # 400 USDC and the taker's fee
    assert 400 * USDC <= owed < 402 * USDC and debtor.equity[usde_i] == 500 * USDE
    # The engine's valuation: USDC at 10**30 per atom with no haircut, USDE at its mark with 10 %.
    assert register.prices[usdc_i] == 10**30 and register.haircuts_bps == tuple(epoch["haircuts_bps"])
    assert register.valuation(0).covered
    assert registry.functions.challenge_debtor(*register.challenge_args(0)).call() is False
    # The gross ratio counts no receivable: it is below the net one by what the debtor owes.
    assert (
        registry.functions.gross_ratio_bps(usdc.address).call()
        < registry.functions.reserve_ratio_bps(usdc.address).call()
    )
    debtors = daemon.service.por_epoch()["debtors"]  # what the dashboard shows
    assert debtors["debt"]["USDC"] == format_units(owed, 6) and debtors["covered"] == 1

    path = tmp_path / "register.json"
    path.write_text(json.dumps(daemon.service.por_register(epoch["epoch"])))
    cmd = [
        sys.executable,
        "-m",
        "offchain",
        "por",
        "audit",
        "--epoch",
        str(epoch["epoch"]),
        "--rpc",
        anvil.url,
    ]
    cmd += ["--register", str(path), "--deployment", str(daemon.deployment_file)]
    run = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"USDC  debtors owe {format_units(owed, 6)}  debtors hold 0" in run.stdout
    assert "debts are all published and all covered." in run.stdout


def test_an_owed_withdrawal_is_a_liability_until_custody_pays_it(open_daemon, chain, isolated):
    registry, usdc = chain.contract("ReserveRegistry"), chain.contract("USDC")
    daemon = open_daemon(confirmations=1)
    user = chain.wallet()
    user.deposit("USDC", 50 * USDC)
    daemon.watcher.scan_deposits(chain.w3.eth.block_number)
    (requested,) = [
        e
        for e in daemon.service.submit(C.Withdraw(0, user.address, "USDC", 20 * USDC))
        if e.EVENT == "withdrawal_requested"
    ]
    epoch = daemon.poster.attest()  # before the payout: the 20 USDC are still owed to the user
    proof = daemon.service.por_proof(user.address)
    assert proof["equity"][epoch["assets"].index("USDC")] == str(50 * USDC)
    liabilities = registry.functions.liabilities(usdc.address).call()
    reserves = registry.functions.reserves(usdc.address).call()

    assert daemon.poster.pay_withdrawals() == 1
    # Reserves and liabilities both fall by the payout: a paid withdrawal is no shortfall.
    assert registry.functions.paid_since(usdc.address).call() == 20 * USDC
    assert registry.functions.reserves(usdc.address).call() == reserves - 20 * USDC
    assert registry.functions.liabilities(usdc.address).call() == liabilities - 20 * USDC
    assert requested.wid is not None
