"""The daemon against a real anvil (issue 14.5): a withdrawal Custody holds for its global outflow window is
journaled `withdrawal_queued` and shown queued to the user, never paid twice, counted paid or refunded while
it waits; the poster claims it once the window has room; a held withdrawal the governor cancels is refunded."""

from __future__ import annotations

import pytest
from daemon_kit import KEY_ENV, Chain, daemon_settings, isolated_chain, mine, write_deployment_file

from offchain.chain.watcher import engine_module
from offchain.core.messages import commands as C
from offchain.daemon import Daemon

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("anvil")]

USDC = 10**6
DAY = 86_400


@pytest.fixture(scope="module")
def chain(w3, deployment) -> Chain:
    return Chain(w3, deployment)


@pytest.fixture
def open_daemon(anvil, chain, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, chain.daemon_key().key.hex())
    deployment_file = write_deployment_file(chain.deployment, tmp_path)
    daemons: list[Daemon] = []

    def make(**overrides) -> Daemon:
        daemon = Daemon(daemon_settings(tmp_path, anvil.url, deployment_file, **overrides)).open()
        daemons.append(daemon)
        return daemon

    yield make
    for daemon in daemons:
        daemon.stop()


@pytest.fixture
def isolated(w3):
    with isolated_chain(w3):
        yield


def journaled(daemon: Daemon, cmd: str) -> list[dict]:
    return [r for _, r in daemon.runner.store.read_from(1) if r["cmd"] == cmd]


def request(daemon: Daemon, account: str, amount: int) -> int:
    (requested,) = [
        e
        for e in daemon.service.submit(C.Withdraw(0, account, "USDC", amount))
        if e.EVENT == "withdrawal_requested"
    ]
    return requested.wid


def status(daemon: Daemon, account: str, wid: int) -> dict:
    listed = daemon.service.read(lambda e: engine_module(e, "treasury").withdrawals_of(account))
    return next(w for w in listed if w["wid"] == wid)


def wait_for_a_full_window(chain: Chain, token, cap: int, window: int) -> None:
    """Let the global limiter of `token` relax back to zero net outflow, whatever it holds now.

    Deposits buy outflow room (a credit) and payouts use it (a debit), and both relax towards zero at
    `cap / window` per second. The devnet is shared: other tests' deposits and payouts that stay on
    the chain are in the limiter too, so the wait is computed from the headroom found."""
    custody = chain.contract("Custody")
    for _ in range(10):
        headroom = int(custody.functions.global_headroom(token.address).call())
        if headroom == cap:
            return
        # headroom = cap - net; at 0 the net outflow is at least `cap`: a window takes `cap` off it.
        net = cap - headroom if headroom else cap
        chain.w3.provider.make_request("evm_increaseTime", [-(-abs(net) * window // cap)])
        mine(chain.w3)
    raise AssertionError(f"the global limiter never came back to its cap ({headroom} of {cap})")


def held_withdrawal(daemon: Daemon, chain: Chain):
    """Caps of 100 USDC (user and global) per day; A uses up the day's room, then B's withdrawal is held."""
    custody, usdc = chain.contract("Custody"), chain.contract("USDC")
    chain.send(chain.governor, custody.functions.set_token(usdc.address, True, 100 * USDC, 100 * USDC, DAY))
    a, b = chain.wallet(), chain.wallet()
    a.deposit("USDC", 100 * USDC)
    b.deposit("USDC", 60 * USDC)
    daemon.watcher.scan_deposits(chain.w3.eth.block_number)
    # Deposits buy outflow room back for a while; once that credit has relaxed, the window is at its cap.
    wait_for_a_full_window(chain, usdc, 100 * USDC, DAY)
    assert int(custody.functions.global_headroom(usdc.address).call()) == 100 * USDC
    paid = request(daemon, a.address, 100 * USDC)
    daemon.poster.step()
    assert status(daemon, a.address, paid)["status"] == "paid"
    assert int(custody.functions.global_headroom(usdc.address).call()) < 50 * USDC
    return b, request(daemon, b.address, 50 * USDC)


def test_a_held_withdrawal_reads_queued_then_the_poster_claims_it(open_daemon, chain, isolated):
    daemon = open_daemon(confirmations=1, withdrawal_refund_after_s=0.001)
    user, wid = held_withdrawal(daemon, chain)
    wallet_before = chain.balance("USDC", user.address)
    custody = chain.contract("Custody")

    daemon.poster.step()
    (queued,) = journaled(daemon, "withdrawal_queued")
    assert queued["wid"] == wid and queued["tx"].startswith("0x")
    listed = status(daemon, user.address, wid)
    assert (listed["status"], listed["tx"]) == ("queued", queued["tx"])
    assert any(a["kind"] == "withdrawal_queued" for a in daemon.service.alerts)
    rid = daemon.protocol.request_id(wid, daemon.journal_id)
    assert custody.functions.withdrawal_state(rid).call() == 1
    breaker = chain.contract("CircuitBreaker")
    assert not breaker.functions.is_halted(custody.address).call()  # a busy day halts nothing

    # While held, more rounds (and a restart) neither resend, refund nor count it paid.
    daemon.poster._retry_at.clear()
    daemon.poster.step()
    daemon.stop()
    daemon = open_daemon(confirmations=1, withdrawal_refund_after_s=0.001)
    daemon.poster.step()
    assert len(journaled(daemon, "withdrawal_queued")) == 1
    assert journaled(daemon, "withdrawal_refunded") == []
    assert wid not in {r["wid"] for r in journaled(daemon, "withdrawal_paid")}
    assert status(daemon, user.address, wid)["status"] == "queued"

    # A day later the window has room: the poster claims it, and it is journaled paid once.
    chain.w3.provider.make_request("evm_increaseTime", [DAY])
    mine(chain.w3)
    daemon.poster._retry_at.clear()
    daemon.poster.step()
    assert custody.functions.is_paid(rid).call()
    assert chain.balance("USDC", user.address) == wallet_before + 50 * USDC
    listed = status(daemon, user.address, wid)
    assert listed["status"] == "paid" and listed["tx"] != queued["tx"]
    assert [r["wid"] for r in journaled(daemon, "withdrawal_paid")].count(wid) == 1


def test_a_held_withdrawal_the_governor_cancels_is_refunded(open_daemon, chain, isolated):
    daemon = open_daemon(confirmations=1)
    user, wid = held_withdrawal(daemon, chain)
    before = daemon.service.read(lambda e: e.balance(user.address, "USDC"))
    daemon.poster.step()
    rid = daemon.protocol.request_id(wid, daemon.journal_id)
    chain.send(chain.governor, chain.contract("Custody").functions.cancel_queued(rid))

    daemon.poster._retry_at.clear()
    daemon.poster.step()
    (refund,) = journaled(daemon, "withdrawal_refunded")
    assert refund["wid"] == wid and "cancelled" in refund["reason"]
    assert daemon.service.read(lambda e: e.balance(user.address, "USDC")) == before + 50 * USDC
    assert status(daemon, user.address, wid)["status"] == "refunded"
