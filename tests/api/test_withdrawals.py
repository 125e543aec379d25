"""Withdrawals through the API: a signed `Withdraw` debits the account once and is listed until the
daemon pays it; forgeries, expired and replayed requests and what the engine forbids change nothing.
(The on-chain payment is tested against a real anvil in tests/integration/test_daemon_chain.py.)"""

from __future__ import annotations

import time

import pytest
from api_venue import DOMAIN, IMPOSTOR, TRADER, submit

from offchain.api.client import ApiError
from offchain.api.signing import sign
from offchain.core.treasury.module import HISTORY_KEEP, WithdrawalPaid, WithdrawalRefunded


def refused(call, code: str, status: int) -> None:
    with pytest.raises(ApiError) as err:
        call()
    assert (err.value.code, err.value.status) == (code, status), err.value


def unchanged(service):
    before = (service.runner.state_hash(), service.runner.seq)
    return lambda: (service.runner.state_hash(), service.runner.seq) == before


def usdc(client) -> str:
    return client.account()["balances"]["USDC"]["balance"]


def test_a_signed_withdrawal_is_debited_and_listed_until_it_is_paid(trader, service):
    answer = trader.withdraw("USDC", "250.5")

    withdrawal = answer["withdrawal"]
    assert (withdrawal["status"], withdrawal["asset"], withdrawal["amount"]) == ("requested", "USDC", "250.5")
    assert withdrawal["account"] == TRADER.address and withdrawal["tx"] == ""
    assert [e["event"] for e in answer["events"]] == ["withdrawal_requested", "balance"]
    assert usdc(trader) == "99749.5"
    assert trader.withdrawals() == [withdrawal]

    # what the daemon's poster journals once Custody paid it
    service.submit(WithdrawalPaid(0, withdrawal["wid"], "0x" + "ab" * 32))

    (paid,) = trader.withdrawals()
    assert (paid["wid"], paid["status"], paid["tx"]) == (withdrawal["wid"], "paid", "0x" + "ab" * 32)
    assert paid["paid_ts"] >= paid["requested_ts"]
    assert usdc(trader) == "99749.5"


def test_a_withdrawal_custody_refused_for_good_is_listed_refunded_with_its_reason(trader, service):
    withdrawal = trader.withdraw("USDC", "300")["withdrawal"]
    assert usdc(trader) == "99700"

    # what the daemon's poster journals when Custody can never pay it
    reason = "custody: above the per-user outflow cap of 100 USDC per 86400 s"
    service.submit(WithdrawalRefunded(0, withdrawal["wid"], reason))

    (refunded,) = trader.withdrawals()
    assert (refunded["wid"], refunded["status"], refunded["reason"]) == (
        withdrawal["wid"],
        "refunded",
        reason,
    )
    assert (refunded["paid_ts"], refunded["tx"]) == (None, "")
    assert refunded["refunded_ts"] >= refunded["requested_ts"]
    assert usdc(trader) == "100000"
    assert trader.account()["balances"]["USDC"]["free"] == "100000"  # spendable again at once


def test_withdrawals_are_listed_newest_first_per_account(trader, impostor):
    first = trader.withdraw("USDC", "1")["withdrawal"]
    second = trader.withdraw("USDE", "2")["withdrawal"]
    impostor.withdraw("USDC", "3")

    assert [w["wid"] for w in trader.withdrawals()] == [second["wid"], first["wid"]]
    assert [w["amount"] for w in impostor.withdrawals()] == ["3"]
    assert [w["wid"] for w in trader.withdrawals(limit=1)] == [second["wid"]]


def test_a_withdrawal_signed_by_another_key_is_refused_as_bad_signature(impostor, http, service):
    body = impostor.signed_withdraw("USDC", "1000")
    body["withdraw"]["account"] = TRADER.address
    body["signature"] = sign(DOMAIN, "Withdraw", body["withdraw"], IMPOSTOR.key)
    same = unchanged(service)

    response = http.post("/withdrawals", json=body)

    assert (response.status_code, response.json()["code"]) == (401, "bad_signature")
    assert same()


def test_a_withdrawal_whose_amount_was_changed_is_refused_as_bad_signature(trader, http, service):
    body = trader.signed_withdraw("USDC", "1")
    body["withdraw"]["amount"] = "90000"
    same = unchanged(service)

    assert http.post("/withdrawals", json=body).json()["code"] == "bad_signature"
    assert same()


def test_an_expired_withdrawal_is_refused_as_expired(http, service):
    message = {
        "account": TRADER.address,
        "asset": "USDC",
        "amount": "5",
        "nonce": 1,
        "expiry": int(time.time()) - 1,
    }
    same = unchanged(service)

    response = http.post(
        "/withdrawals", json={"withdraw": message, "signature": sign(DOMAIN, "Withdraw", message, TRADER.key)}
    )

    assert (response.status_code, response.json()["code"]) == (401, "expired")
    assert same()


def test_a_replayed_withdrawal_is_refused_as_nonce_reused_and_debited_once(trader, http):
    body = trader.signed_withdraw("USDC", "100")
    assert http.post("/withdrawals", json=body).status_code == 200

    again = http.post("/withdrawals", json=body)

    assert (again.status_code, again.json()["code"]) == (409, "nonce_reused")
    assert usdc(trader) == "99900"
    assert len(trader.withdrawals()) == 1


def test_the_engines_refusal_of_a_withdrawal_comes_back_with_its_code(trader, impostor, service):
    state = service.runner.state_hash()
    refused(lambda: trader.withdraw("USDC", "100000.000001"), "insufficient_balance", 400)
    refused(lambda: trader.withdraw("BTC", "1"), "unknown_asset", 404)
    refused(lambda: trader.withdraw("USDC", "0.0000001"), "bad_amount", 400)
    assert service.runner.state_hash() == state  # journaled as rejections, nothing changed

    # spot margin on: withdrawing more than it holds would borrow past its margin
    submit(service, cmd="margin", account=IMPOSTOR.address)
    refused(lambda: impostor.withdraw("USDC", "1500"), "insufficient_margin", 400)

    # the chain watcher mirrored an on-chain pause_all
    submit(service, cmd="protocol", withdrawals_paused=True, risk_paused=True, reason="pause_all")
    refused(lambda: trader.withdraw("USDC", "1"), "withdrawals_paused", 400)
    assert trader.withdrawals() == [] and impostor.withdrawals() == []
    assert usdc(trader) == "100000"


def test_paid_withdrawals_beyond_the_history_kept_are_forgotten_oldest_first(service, trader):
    treasury = next(m for m in service.engine.modules if m.name == "treasury")
    wids = []
    for _ in range(HISTORY_KEEP + 2):
        (requested,) = [
            e
            for e in submit(service, cmd="withdraw", account=TRADER.address, asset="USDC", amount="1")
            if e.EVENT == "withdrawal_requested"
        ]
        wids.append(requested.wid)
    for wid in wids[1:]:
        service.submit(WithdrawalPaid(0, wid, "0x01"))

    listed = [w["wid"] for w in trader.withdrawals(limit=500)]

    assert listed[-1] == wids[0], "the owed withdrawal is kept whatever its age"
    assert listed[:-1] == list(reversed(wids[2:])) and len(listed) == HISTORY_KEEP + 1
    assert treasury.owed == {wids[0]: (TRADER.address, "USDC", 10**6)}


def test_floats_are_refused_as_withdrawal_amounts(trader, http):
    body = trader.signed_withdraw("USDC", "1")
    body["withdraw"]["amount"] = 1.0
    assert http.post("/withdrawals", json=body).json()["code"] == "bad_request"
    with pytest.raises(TypeError):
        trader.withdraw("USDC", 1.0)
