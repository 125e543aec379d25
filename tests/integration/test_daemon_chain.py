"""The daemon against a real anvil: deposits, reorgs, an RPC outage, proofs of reserves, payouts, pauses.

The daemon runs in this process; most tests drive its watcher and poster one round at a time (what
the threads do every poll), the outage test runs the threads.
"""

from __future__ import annotations

import time
import warnings

import pytest
from daemon_kit import (
    KEY_ENV,
    Chain,
    TcpProxy,
    daemon_settings,
    isolated_chain,
    mine,
    wait_until,
    write_deployment_file,
)

from offchain.api.client import ApiError, Client
from offchain.chain.watcher import engine_module
from offchain.core.messages import commands as C
from offchain.core.messages.codec import parse_command
from offchain.daemon import Daemon
from offchain.por import Proof, verify_proof

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("anvil")]

USDC = 10**6
USDE = 10**18


@pytest.fixture(scope="module")
def chain(w3, deployment) -> Chain:
    return Chain(w3, deployment)


@pytest.fixture(scope="module")
def operator_key(chain):
    """The daemon's key: operator, attester, cover and sentinel roles."""
    return chain.daemon_key()


@pytest.fixture
def open_daemon(anvil, chain, operator_key, tmp_path, monkeypatch):
    """Open daemons on one journal and state under `tmp_path` (a second call is a restart)."""
    monkeypatch.setenv(KEY_ENV, operator_key.key.hex())
    deployment_file = write_deployment_file(chain.deployment, tmp_path)
    daemons: list[Daemon] = []

    def make(rpc_url: str | None = None, **overrides) -> Daemon:
        settings = daemon_settings(tmp_path, rpc_url or anvil.url, deployment_file, **overrides)
        daemon = Daemon(settings).open()
        daemons.append(daemon)
        return daemon

    yield make
    for daemon in daemons:
        daemon.stop()


@pytest.fixture
def isolated(w3):
    """Undo this test's chain changes (pauses, halts) so that later tests see the chain as it was."""
    with isolated_chain(w3):
        yield


def balance(daemon: Daemon, account: str, asset: str) -> int:
    return daemon.service.read(lambda e: e.balance(account, asset))


def journaled(daemon: Daemon, cmd: str) -> list[dict]:
    return [r for _, r in daemon.runner.store.read_from(1) if r["cmd"] == cmd]


# -- deposits ------------------------------------------------------------------------------------


def test_deposit_is_credited_once_after_k_confirmations_and_across_restarts(open_daemon, chain, tmp_path):
    daemon = open_daemon(confirmations=2)
    depositor = chain.wallet()

    receipt = depositor.deposit("USDC", 250 * USDC)
    daemon.watcher.poll()
    assert balance(daemon, depositor.address, "USDC") == 0, "credited with one confirmation only"

    mine(chain.w3, 1)
    daemon.watcher.poll()
    assert balance(daemon, depositor.address, "USDC") == 250 * USDC

    mine(chain.w3, 3)
    daemon.watcher.poll()
    daemon.watcher.poll()
    daemon.stop()
    (tmp_path / "daemon_state.db").unlink()  # the cursor is lost: the next start rescans everything
    restarted = open_daemon(confirmations=2)
    restarted.watcher.poll()

    assert balance(restarted, depositor.address, "USDC") == 250 * USDC
    tx = "0x" + bytes(receipt["transactionHash"]).hex()
    assert [d["ref"] for d in journaled(restarted, "deposit") if tx in d["ref"]] == [f"deposit:{tx}:0"]


def test_reorg_by_snapshot_and_revert_never_double_credits(open_daemon, chain, isolated):
    w3 = chain.w3
    daemon = open_daemon(confirmations=2)
    depositor, other, vanished = chain.wallet(), chain.wallet(), chain.wallet()
    depositor.faucet("USDC", 100 * USDC)
    other.faucet("USDC", 40 * USDC)
    vanished.faucet("USDC", 7 * USDC)

    fork = w3.provider.make_request("evm_snapshot", [])["result"]
    deposit = depositor.deposit_tx("USDC", 100 * USDC)
    tx_hash = w3.eth.send_raw_transaction(deposit)
    mine(w3, 1)
    daemon.watcher.poll()
    assert balance(daemon, depositor.address, "USDC") == 100 * USDC
    first_position = [log["logIndex"] for log in w3.eth.get_transaction_receipt(tx_hash)["logs"]]

    # The reorg: the chain forgets that block; the new branch mines another deposit first and the
    # same signed deposit after it, in one block (same tx hash, another block, another log index).
    w3.provider.make_request("evm_revert", [fork])
    w3.provider.make_request("evm_setAutomine", [False])
    try:
        w3.eth.send_raw_transaction(other.deposit_tx("USDC", 40 * USDC))
        w3.eth.send_raw_transaction(deposit)
        mine(w3, 1)
    finally:
        w3.provider.make_request("evm_setAutomine", [True])
    mine(w3, 1)
    daemon.watcher.poll()

    assert [log["logIndex"] for log in w3.eth.get_transaction_receipt(tx_hash)["logs"]] != first_position
    assert balance(daemon, depositor.address, "USDC") == 100 * USDC
    assert balance(daemon, other.address, "USDC") == 40 * USDC

    # A deposit reorged out before its confirmations is never credited.
    fork = w3.provider.make_request("evm_snapshot", [])["result"]
    w3.eth.send_raw_transaction(vanished.deposit_tx("USDC", 7 * USDC))
    daemon.watcher.poll()
    w3.provider.make_request("evm_revert", [fork])
    mine(w3, 3)
    daemon.watcher.poll()
    assert balance(daemon, vanished.address, "USDC") == 0


def test_daemon_survives_the_rpc_going_away_and_coming_back(open_daemon, chain, anvil):
    proxy = TcpProxy(anvil.port).start()
    try:
        daemon = open_daemon(rpc_url=proxy.url, confirmations=1)
        daemon.start()
        wait_until(lambda: daemon.watcher.head is not None, what="a first poll")

        proxy.stop()
        depositor = chain.wallet()
        depositor.deposit("USDE", 5 * USDE)  # straight to anvil while the daemon cannot see it
        wait_until(
            lambda: any(a["kind"] == "rpc_unavailable" for a in daemon.service.alerts),
            what="the outage alert",
        )
        proxy.start()

        wait_until(
            lambda: balance(daemon, depositor.address, "USDE") == 5 * USDE,
            timeout=30,
            what="the late deposit",
        )
        wait_until(
            lambda: any(a["kind"] == "rpc_restored" for a in daemon.service.alerts), what="the all-clear"
        )
        assert all(t.is_alive() for t in daemon.threads)
    finally:
        proxy.stop()


# -- proof of reserves ---------------------------------------------------------------------------


def test_por_root_is_posted_and_a_users_proof_verifies_on_chain(open_daemon, chain):
    daemon = open_daemon(confirmations=1)
    users = [chain.wallet() for _ in range(3)]
    for i, user in enumerate(users):
        user.deposit("USDC", (10 + i) * USDC)
    users[2].deposit("WETH", 2 * USDE)
    daemon.watcher.poll()

    epoch = daemon.poster.attest()
    registry = chain.contract("ReserveRegistry")

    assert registry.functions.latest_epoch().call() == epoch["epoch"]
    root, leaf_count, _ = registry.functions.attestation(epoch["epoch"]).call()
    assert "0x" + root.hex() == epoch["root"] and leaf_count == epoch["leaf_count"]
    served = daemon.service.por_proof(users[2].address)
    proof = Proof.from_json(served)
    weth = epoch["assets"].index("WETH")
    assert proof.equity[weth] == 2 * USDE and proof.equity[epoch["assets"].index("USDC")] == 12 * USDC
    assert verify_proof(proof, root_hash=root)
    assert registry.functions.verify_inclusion(*proof.contract_args()).call() is True
    forged = list(proof.contract_args())
    forged[2] = [v + (1 if i == weth else 0) for i, v in enumerate(forged[2])]
    assert registry.functions.verify_inclusion(*forged).call() is False

    daemon.stop()
    restarted = open_daemon(confirmations=1)
    restarted.poster.restore_por()
    assert restarted.service.por_proof(users[2].address) == served


# -- payouts --------------------------------------------------------------------------------------


def test_withdrawal_request_is_paid_once_even_when_resent(open_daemon, chain):
    daemon = open_daemon(confirmations=1)
    user = chain.wallet()
    user.deposit("USDC", 300 * USDC)
    daemon.watcher.poll()
    custody, usdc = chain.contract("Custody"), chain.contract("USDC")
    wallet_before = chain.balance("USDC", user.address)

    (requested,) = [
        e
        for e in daemon.service.submit(C.Withdraw(0, user.address, "USDC", 120 * USDC))
        if e.EVENT == "withdrawal_requested"
    ]
    daemon.poster.step()
    assert chain.balance("USDC", user.address) == wallet_before + 120 * USDC
    rid = daemon.protocol.request_id(requested.wid, daemon.journal_id)
    resent = daemon.sender.send(custody.functions.withdraw(rid, user.address, usdc.address, 120 * USDC))
    daemon.poster.step()

    assert custody.events.Withdrawn().process_receipt(resent) == ()
    assert chain.balance("USDC", user.address) == wallet_before + 120 * USDC
    assert daemon.service.read(lambda e: engine_module(e, "treasury").owed) == {}

    # The daemon paid the next one, then died before journaling it: the restart only journals it.
    (second,) = [
        e
        for e in daemon.service.submit(C.Withdraw(0, user.address, "USDC", 50 * USDC))
        if e.EVENT == "withdrawal_requested"
    ]
    rid2 = daemon.protocol.request_id(second.wid, daemon.journal_id)
    paid = daemon.sender.send(custody.functions.withdraw(rid2, user.address, usdc.address, 50 * USDC))
    daemon.stop()
    restarted = open_daemon(confirmations=1)
    restarted.poster.step()

    assert chain.balance("USDC", user.address) == wallet_before + 170 * USDC
    assert restarted.service.read(lambda e: engine_module(e, "treasury").owed) == {}
    assert journaled(restarted, "withdrawal_paid")[-1]["tx"] == "0x" + bytes(paid["transactionHash"]).hex()
    for request in (rid, rid2):
        logs = custody.events.Withdrawn.get_logs(argument_filters={"request_id": request}, from_block=0)
        assert len(logs) == 1


def test_a_signed_api_withdrawal_is_paid_on_chain_exactly_once(open_daemon, chain):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette asks for httpx2 over httpx; both work
        from starlette.testclient import TestClient

    daemon = open_daemon(confirmations=1)
    daemon.start()  # the watcher credits, the poster pays, the clock ticks: as `python -m offchain daemon`
    depositor = chain.wallet()
    head = chain.w3.eth.block_number
    app = daemon.build_api()
    try:
        with TestClient(app) as http:
            user = Client("http://testserver", depositor.account.key, http=http)  # domain from /eip712
            depositor.deposit("USDC", 300 * USDC)
            wait_until(lambda: user.account()["balances"].get("USDC", {}).get("free") == "300", what="credit")
            wallet_before = chain.balance("USDC", depositor.address)

            body = user.signed_withdraw("USDC", "120.5")
            requested = http.post("/withdrawals", json=body).json()["withdrawal"]
            assert (requested["status"], requested["amount"]) == ("requested", "120.5")
            paid = wait_until(
                lambda: [w for w in user.withdrawals() if w["status"] == "paid"], what="payment"
            )

            resent = http.post("/withdrawals", json=body)
            assert (resent.status_code, resent.json()["code"]) == (409, "nonce_reused")
            with pytest.raises(ApiError) as refused:
                user.withdraw("USDC", "180")  # a fresh request for more than is left
            assert refused.value.code == "insufficient_balance"
    finally:
        app.state.close()
        app.state.nonces.close()
    daemon.stop()  # the poster finishes its round; the restart looks at what is owed again

    restarted = open_daemon(confirmations=1)
    restarted.poster.step()
    again = restarted.build_api()
    try:
        with TestClient(again) as http:
            resent = http.post("/withdrawals", json=body)
            assert (resent.status_code, resent.json()["code"]) == (409, "nonce_reused")
            listed = Client("http://testserver", depositor.account.key, http=http).withdrawals()
    finally:
        again.state.close()
        again.state.nonces.close()

    assert [(w["wid"], w["status"], w["tx"]) for w in listed] == [(requested["wid"], "paid", paid[0]["tx"])]
    assert chain.balance("USDC", depositor.address) == wallet_before + 120_500_000
    payments = chain.contract("Custody").events.Withdrawn.get_logs(
        argument_filters={"user": depositor.address}, from_block=head + 1
    )
    assert ["0x" + bytes(p["transactionHash"]).hex() for p in payments] == [paid[0]["tx"]]
    assert restarted.service.read(lambda e: e.balance(depositor.address, "USDC")) == 179_500_000


def test_bad_debt_produces_one_insurance_cover_into_custody(open_daemon, chain):
    fund, custody, usdc = chain.contract("InsuranceFund"), chain.contract("Custody"), chain.contract("USDC")
    daemon = open_daemon(confirmations=1)
    trader, maker = chain.wallet(), chain.wallet()
    trader.deposit("USDC", 100 * USDC)
    maker.deposit("USDE", 1_000 * USDE)
    maker.deposit("USDC", 1_000 * USDC)
    daemon.watcher.scan_deposits(chain.w3.eth.block_number)

    # A spot-margin long liquidated into a bid far below its bankruptcy price (breaker off).
    for wire in (
        {"cmd": "breaker", "symbol": "USDE-USDC", "set": {"enabled": False}},
        {"cmd": "index", "symbol": "USDE-USDC", "source": "pool", "price": "1"},
        {"cmd": "margin", "account": trader.address},
        {
            "cmd": "order",
            "account": maker.address,
            "symbol": "USDE-USDC",
            "side": "sell",
            "type": "limit",
            "price": "1",
            "qty": "500",
            "id": "m",
        },
        {
            "cmd": "order",
            "account": trader.address,
            "symbol": "USDE-USDC",
            "side": "buy",
            "type": "limit",
            "price": "1",
            "qty": "500",
            "id": "t",
        },
        {"cmd": "index", "symbol": "USDE-USDC", "source": "pool", "price": "0.5"},
        {
            "cmd": "order",
            "account": maker.address,
            "symbol": "USDE-USDC",
            "side": "buy",
            "type": "limit",
            "price": "0.499",
            "qty": "600",
            "id": "b",
        },
        {"cmd": "tick", "t": 0},
    ):
        daemon.service.submit(parse_command({"t": 0, **wire}, daemon.service.engine))
    treasury = daemon.service.read(lambda e: engine_module(e, "treasury"))
    owed = daemon.service.read(lambda e: treasury.bad_debt_owed("USDC"))
    assert owed > 0
    custody_before = usdc.functions.balanceOf(custody.address).call()
    head = chain.w3.eth.block_number

    daemon.poster.step()
    daemon.poster.step()

    covers = fund.events.Covered.get_logs(
        argument_filters={"caller": daemon.sender.address}, from_block=head + 1
    )
    assert [(c["args"]["receiver"], c["args"]["amount"]) for c in covers] == [(custody.address, owed)]
    assert usdc.functions.balanceOf(custody.address).call() == custody_before + owed
    assert daemon.service.read(lambda e: treasury.bad_debt_owed("USDC")) == 0


# -- the breaker -----------------------------------------------------------------------------------


def test_protocol_pause_stops_withdrawals_and_new_risk_and_drops_the_pool_price(open_daemon, chain, isolated):
    daemon = open_daemon(confirmations=1)
    user = chain.wallet()
    user.deposit("USDC", 50 * USDC)
    daemon.watcher.poll()
    breaker = chain.contract("CircuitBreaker")
    weight = lambda: daemon.service.read(  # noqa: E731
        lambda e: (
            engine_module(e, "risk").markets["USDE-USDC"].pricing.source_config.get("pool", (1, None))[0]
        )
    )

    chain.send(chain.governor, breaker.functions.pause_all())
    daemon.watcher.poll()

    (refused,) = daemon.service.submit(C.Withdraw(0, user.address, "USDC", 10 * USDC))
    assert refused.code == "withdrawals_paused"
    order = C.PlaceOrder(
        0, user.address, "USDE-USDC", "buy", "limit", 10 * USDE, price=990_000, client_id="x"
    )
    assert daemon.service.submit(order)[0].code == "protocol_paused"
    assert weight() == 0

    chain.send(chain.governor, breaker.functions.unpause_all())
    daemon.watcher.poll()

    assert (
        daemon.service.submit(C.Withdraw(0, user.address, "USDC", 10 * USDC))[0].EVENT
        == "withdrawal_requested"
    )
    assert weight() == 1


def test_engine_breaker_halt_trips_the_pool_on_chain_when_keeper_is_on(open_daemon, chain, isolated):
    daemon = open_daemon(confirmations=1, keeper_trip=True)
    daemon.watcher.poll()
    breaker, pool = chain.contract("CircuitBreaker"), chain.contract("Pool")
    assert not breaker.functions.is_halted(pool.address).call()

    daemon.poster.on_events(
        [
            {
                "event": "breaker",
                "symbol": "USDE-USDC",
                "to_state": "halted",
                "reason": "cvd_depth",
                "metrics": {"cvd": 45_000},
            }
        ]
    )
    daemon.poster.step()

    assert breaker.functions.is_halted(pool.address).call()
    assert breaker.functions.last_reason(pool.address).call() == 1000
    daemon.watcher.poll()
    assert any(a["kind"] == "pool_source" for a in daemon.service.alerts)


def test_large_transfer_of_a_token_raises_an_alert(open_daemon, chain):
    daemon = open_daemon(confirmations=1)
    daemon.watcher.poll()
    whale, receiver = chain.wallet(), chain.wallet()
    whale.faucet("USDC", 300_000 * USDC)
    chain.send(whale.account, chain.contract("USDC").functions.transfer(receiver.address, 300_000 * USDC))
    daemon.watcher.poll()

    (alert,) = [
        a
        for a in daemon.service.alerts
        if a["kind"] == "large_transfer" and a["receiver"] == receiver.address
    ]
    assert alert["amount"] == str(300_000 * USDC) and alert["asset"] == "USDC"


# -- refunds ----------------------------------------------------------------------------------------

CUSTODY_WINDOW = 86_400  # scripts/deploy.py: Custody's rolling outflow window on a devnet


def usdc_earned_by_trading(daemon: Daemon, chain: Chain, usde: int):
    """A trader who deposited USDE and sold it to a market maker: USDC it never deposited, so its
    USDC outflow limit has no deposit credit (deposits buy outflow room back)."""
    trader, market_maker = chain.wallet(), chain.wallet()
    trader.deposit("USDE", usde * USDE)
    market_maker.deposit("USDC", 2 * usde * USDC)  # the bid holds its fee too
    daemon.watcher.scan_deposits(chain.w3.eth.block_number)
    for wire in (
        {"cmd": "breaker", "symbol": "USDE-USDC", "set": {"enabled": False}},
        {"cmd": "index", "symbol": "USDE-USDC", "source": "pool", "price": "1"},
        {"cmd": "order", "account": market_maker.address, "side": "buy", "price": "1", "id": "bid"},
        {"cmd": "order", "account": trader.address, "side": "sell", "price": "1", "id": "ask"},
    ):
        if wire["cmd"] == "order":
            wire.update(symbol="USDE-USDC", type="limit", qty=str(usde))
        events = daemon.service.submit(parse_command({"t": 0, **wire}, daemon.service.engine))
        assert events[0].EVENT != "rejected", events
    assert balance(daemon, trader.address, "USDC") > 0
    return trader


def set_user_cap(chain: Chain, whole_usdc: int) -> None:
    """The governor sets Custody's per-user USDC outflow cap (global cap and window as deployed)."""
    custody, usdc = chain.contract("Custody"), chain.contract("USDC")
    _, _, global_cap, window = custody.functions.tokens(usdc.address).call()
    chain.send(
        chain.governor,
        custody.functions.set_token(usdc.address, True, whole_usdc * USDC, global_cap, window),
    )


def request(daemon: Daemon, account: str, amount: int) -> int:
    (requested,) = [
        e
        for e in daemon.service.submit(C.Withdraw(0, account, "USDC", amount))
        if e.EVENT == "withdrawal_requested"
    ]
    return requested.wid


def payments(chain: Chain, daemon: Daemon, wid: int) -> list:
    rid = daemon.protocol.request_id(wid, daemon.journal_id)
    return chain.contract("Custody").events.Withdrawn.get_logs(
        argument_filters={"request_id": rid}, from_block=0
    )


def test_a_withdrawal_custody_refuses_for_good_is_refunded_once_and_never_paid(open_daemon, chain, isolated):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette asks for httpx2 over httpx; both work
        from starlette.testclient import TestClient

    daemon = open_daemon(confirmations=1)
    trader = usdc_earned_by_trading(daemon, chain, 300)
    set_user_cap(chain, 100)
    wallet_before = chain.balance("USDC", trader.address)
    held = balance(daemon, trader.address, "USDC")

    wid = request(daemon, trader.address, 120 * USDC)  # above the cap: no window makes room for it
    assert balance(daemon, trader.address, "USDC") == held - 120 * USDC
    daemon.poster.step()

    assert balance(daemon, trader.address, "USDC") == held
    assert daemon.service.read(lambda e: engine_module(e, "treasury").owed) == {}
    (alert,) = [a for a in daemon.service.alerts if a["kind"] == "withdrawal_refunded"]
    assert (alert["wid"], alert["account"], alert["amount"]) == (wid, trader.address, str(120 * USDC))
    assert "per-user outflow cap of 100 USDC" in alert["reason"]
    app = daemon.build_api()
    try:
        with TestClient(app) as http:
            (listed,) = Client("http://testserver", trader.account.key, http=http).withdrawals()
    finally:
        app.state.close()
        app.state.nonces.close()
    assert (listed["wid"], listed["status"], listed["amount"]) == (wid, "refunded", "120")
    assert listed["reason"] == alert["reason"] and listed["tx"] == ""

    # The cap is lifted and the daemon restarts: the refunded withdrawal is never paid, nor refunded again.
    set_user_cap(chain, 100_000)
    daemon.poster.step()
    daemon.stop()
    restarted = open_daemon(confirmations=1)
    restarted.poster.step()

    assert balance(restarted, trader.address, "USDC") == held
    assert [r["wid"] for r in journaled(restarted, "withdrawal_refunded")] == [wid]
    assert journaled(restarted, "withdrawal_paid") == []
    assert payments(chain, restarted, wid) == []
    assert chain.balance("USDC", trader.address) == wallet_before


def test_a_withdrawal_over_the_rolling_limit_waits_then_is_refunded_and_one_paid_first_is_not(
    open_daemon, chain, isolated
):
    daemon = open_daemon(confirmations=1)
    trader = usdc_earned_by_trading(daemon, chain, 300)
    set_user_cap(chain, 100)
    held = balance(daemon, trader.address, "USDC")

    paid = request(daemon, trader.address, 80 * USDC)
    waiting = request(daemon, trader.address, 50 * USDC)  # within the cap, not within what is left of it
    daemon.poster.step()

    assert len(payments(chain, daemon, paid)) == 1
    assert daemon.service.read(lambda e: set(engine_module(e, "treasury").owed)) == {waiting}
    (alert,) = [a for a in daemon.service.alerts if a["kind"] == "withdrawal_failed"]
    assert "user outflow limit" in alert["message"] and "refunded in" in alert["message"]

    # Paid on-chain meanwhile (by an earlier round whose receipt was lost): journaled paid, not refunded.
    custody, usdc = chain.contract("Custody"), chain.contract("USDC")
    raced = request(daemon, trader.address, 150 * USDC)
    set_user_cap(chain, 100_000)
    rid = daemon.protocol.request_id(raced, daemon.journal_id)
    daemon.sender.send(custody.functions.withdraw(rid, trader.address, usdc.address, 150 * USDC))
    set_user_cap(chain, 100)
    daemon.stop()

    # The operator shortens the hold; the restart measures it from the journaled request time.
    time.sleep(1.0)
    restarted = open_daemon(confirmations=1, withdrawal_refund_after_s=1)
    restarted.poster.step()

    assert restarted.service.read(lambda e: engine_module(e, "treasury").owed) == {}
    assert [r["wid"] for r in journaled(restarted, "withdrawal_paid")] == [paid, raced]
    (refund,) = journaled(restarted, "withdrawal_refunded")
    assert (
        refund["wid"] == waiting
        and "still refused after 1 s: custody: user outflow limit" in refund["reason"]
    )
    assert balance(restarted, trader.address, "USDC") == held - 80 * USDC - 150 * USDC
    assert payments(chain, restarted, waiting) == []


def test_a_withdrawal_refused_while_custody_is_halted_stays_owed_past_the_hold_and_is_paid_after(
    open_daemon, chain, isolated
):
    daemon = open_daemon(confirmations=1, withdrawal_refund_after_s=0.001)
    user = chain.wallet()
    user.deposit("USDC", 50 * USDC)
    daemon.watcher.scan_deposits(chain.w3.eth.block_number)
    breaker = chain.contract("CircuitBreaker")
    wid = request(daemon, user.address, 20 * USDC)
    chain.send(chain.governor, breaker.functions.pause_all())  # before the watcher tells the engine

    daemon.poster.step()

    assert daemon.service.read(lambda e: set(engine_module(e, "treasury").owed)) == {wid}
    (alert,) = [a for a in daemon.service.alerts if a["kind"] == "withdrawal_failed"]
    assert "custody: halted" in alert["message"]
    assert not [a for a in daemon.service.alerts if a["kind"] == "withdrawal_refunded"]

    chain.send(chain.governor, breaker.functions.unpause_all())
    daemon.stop()
    restarted = open_daemon(confirmations=1, withdrawal_refund_after_s=0.001)
    restarted.poster.step()

    assert len(payments(chain, restarted, wid)) == 1
    assert journaled(restarted, "withdrawal_refunded") == []
    assert balance(restarted, user.address, "USDC") == 30 * USDC
