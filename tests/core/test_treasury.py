"""The treasury module: the protocol pause, withdrawals owed on-chain, bad debt covered."""

from __future__ import annotations

from core_venue import USDC, Venue, rejection

from offchain.core.build import build_engine, restore_engine
from offchain.core.treasury.module import TreasuryModule, WithdrawalPaid


def treasury_venue() -> Venue:
    v = Venue(build_engine())  # every default module, as the daemon runs it
    v.ok("asset", symbol="USDC", decimals=6, collateral_weight="1")
    v.ok("asset", symbol="USDE", decimals=18, collateral_weight="0.9")
    v.ok("market", symbol="USDE-USDC", kind="spot", base="USDE", quote="USDC", tick="0.0001", lot="1")
    v.ok("deposit", account="trader", asset="USDC", amount="1000")
    return v


def treasury(v: Venue) -> TreasuryModule:
    return next(m for m in v.engine.modules if m.name == "treasury")


def withdraw(v: Venue, amount: str, asset: str = "USDC") -> int:
    """Request a withdrawal of the trader's; return its wid."""
    (requested,) = [
        e
        for e in v.ok("withdraw", account="trader", asset=asset, amount=amount)
        if e.EVENT == "withdrawal_requested"
    ]
    return requested.wid


def test_withdrawal_is_owed_until_paid_and_survives_a_snapshot():
    v = treasury_venue()
    (requested,) = [
        e
        for e in v.ok("withdraw", account="trader", asset="USDC", amount="250")
        if e.EVENT == "withdrawal_requested"
    ]

    assert treasury(v).owed == {requested.wid: ("trader", "USDC", 250 * USDC)}
    restored = restore_engine(v.engine.snapshot())
    assert restored.state_hash() == v.engine.state_hash()
    assert next(m for m in restored.modules if m.name == "treasury").owed == treasury(v).owed

    (paid,) = v.ok("withdrawal_paid", wid=requested.wid, tx="0xabc")
    assert (paid.EVENT, paid.account, paid.amount, paid.tx) == (
        "withdrawal_paid",
        "trader",
        250 * USDC,
        "0xabc",
    )
    assert treasury(v).owed == {}
    assert rejection(v.do("withdrawal_paid", wid=requested.wid)).code == "already_paid"
    assert rejection(v.do("withdrawal_paid", wid=requested.wid + 1)).code == "unknown_withdrawal"


def test_protocol_pause_refuses_withdrawals_and_new_orders_but_not_reduce_only_or_cancels():
    v = treasury_venue()
    v.ok(
        "order",
        account="trader",
        symbol="USDE-USDC",
        side="buy",
        type="limit",
        price="0.99",
        qty="10",
        id="bid",
    )
    v.ok("protocol", withdrawals_paused=True, risk_paused=True, reason="pause_all")
    before = v.engine.state_hash()

    assert (
        rejection(v.do("withdraw", account="trader", asset="USDC", amount="1")).code == "withdrawals_paused"
    )
    refused = v.do(
        "order",
        account="trader",
        symbol="USDE-USDC",
        side="buy",
        type="limit",
        price="0.99",
        qty="5",
        id="b2",
    )
    assert rejection(refused).code == "protocol_paused"
    assert v.engine.state_hash() == before
    v.ok("cancel", account="trader", id="bid")
    assert rejection(v.do("protocol", withdrawals_paused=True, risk_paused=True)).code == "protocol_unchanged"

    v.ok("protocol", withdrawals_paused=False, risk_paused=False, reason="resumed")
    v.ok("withdraw", account="trader", asset="USDC", amount="1")


def test_cover_cannot_exceed_the_written_off_bad_debt():
    v = treasury_venue()
    risk = next(m for m in v.engine.modules if m.name == "risk")
    assert rejection(v.do("cover_paid", asset="USDC", amount="1")).code == "cover_exceeds_bad_debt"

    risk.bad_debt["USDC"] = 40 * USDC  # what a liquidation wrote off (see the daemon test for the real path)
    assert treasury(v).bad_debt_owed("USDC") == 40 * USDC
    (covered,) = v.ok("cover_paid", asset="USDC", amount="30", tx="0x01")
    assert (covered.amount, covered.covered) == (30 * USDC, 30 * USDC)
    assert treasury(v).bad_debt_owed("USDC") == 10 * USDC
    assert rejection(v.do("cover_paid", asset="USDC", amount="11")).code == "cover_exceeds_bad_debt"


def test_withdrawal_history_survives_a_snapshot_and_is_left_out_of_the_state_while_empty():
    v = treasury_venue()
    assert "history" not in treasury(v).to_state()  # older snapshots restore to the same state hash
    (requested,) = [
        e
        for e in v.ok("withdraw", account="trader", asset="USDC", amount="40")
        if e.EVENT == "withdrawal_requested"
    ]
    v.ok("withdrawal_paid", wid=requested.wid, tx="0xfeed")

    restored = restore_engine(v.engine.snapshot())

    assert restored.state_hash() == v.engine.state_hash()
    (paid,) = next(m for m in restored.modules if m.name == "treasury").withdrawals_of("trader")
    assert (paid["wid"], paid["amount"], paid["status"], paid["tx"]) == (
        requested.wid,
        40 * USDC,
        "paid",
        "0xfeed",
    )


def test_refund_credits_the_withdrawal_back_exactly_once_and_records_the_reason():
    v = treasury_venue()
    wid = withdraw(v, "250")
    assert v.balance("trader", "USDC") == 750 * USDC

    events = v.ok("withdrawal_refunded", wid=wid, reason="custody: user outflow limit")

    (refunded,) = [e for e in events if e.EVENT == "withdrawal_refunded"]
    assert (refunded.wid, refunded.account, refunded.asset, refunded.amount, refunded.reason) == (
        wid,
        "trader",
        "USDC",
        250 * USDC,
        "custody: user outflow limit",
    )
    assert [(e.account, e.asset, e.balance) for e in events if e.EVENT == "balance"] == [
        ("trader", "USDC", 1000 * USDC)
    ]
    assert treasury(v).owed == {}
    (listed,) = treasury(v).withdrawals_of("trader")
    assert (listed["status"], listed["reason"], listed["paid_ts"], listed["tx"]) == (
        "refunded",
        "custody: user outflow limit",
        None,
        "",
    )
    assert listed["refunded_ts"] >= listed["requested_ts"]

    before = v.engine.state_hash()
    assert rejection(v.do("withdrawal_refunded", wid=wid, reason="again")).code == "already_refunded"
    assert v.balance("trader", "USDC") == 1000 * USDC
    assert v.engine.state_hash() == before


def test_a_paid_withdrawal_cannot_be_refunded():
    v = treasury_venue()
    wid = withdraw(v, "100")
    v.ok("withdrawal_paid", wid=wid, tx="0xpaid")
    before = v.engine.state_hash()

    assert rejection(v.do("withdrawal_refunded", wid=wid, reason="too late")).code == "already_paid"

    assert v.balance("trader", "USDC") == 900 * USDC
    assert v.engine.state_hash() == before
    assert treasury(v).withdrawals_of("trader")[0]["status"] == "paid"


def test_a_refunded_withdrawal_cannot_be_paid():
    v = treasury_venue()
    wid = withdraw(v, "100")
    v.ok("withdrawal_refunded", wid=wid, reason="custody: token has no limits")
    before = v.engine.state_hash()

    assert rejection(v.do("withdrawal_paid", wid=wid, tx="0xlate")).code == "already_refunded"

    assert v.engine.state_hash() == before
    assert treasury(v).withdrawals_of("trader")[0]["status"] == "refunded"


def test_a_refund_needs_an_owed_withdrawal_and_a_short_reason():
    v = treasury_venue()
    wid = withdraw(v, "10")
    before = v.engine.state_hash()

    assert rejection(v.do("withdrawal_refunded", wid=wid + 7, reason="x")).code == "unknown_withdrawal"
    assert rejection(v.do("withdrawal_refunded", wid=wid, reason="  ")).code == "bad_reason"
    assert rejection(v.do("withdrawal_refunded", wid=wid, reason="x" * 201)).code == "bad_reason"

    assert v.engine.state_hash() == before
    assert treasury(v).owed == {wid: ("trader", "USDC", 10 * USDC)}


def test_a_refund_survives_a_snapshot_and_replays_to_the_same_state():
    v = treasury_venue()
    refunded, owed = withdraw(v, "30"), withdraw(v, "40")
    v.ok("withdrawal_refunded", wid=refunded, reason="custody: request id reused with other terms")

    restored = restore_engine(v.engine.snapshot())

    assert restored.state_hash() == v.engine.state_hash()
    module = next(m for m in restored.modules if m.name == "treasury")
    assert module.owed == {owed: ("trader", "USDC", 40 * USDC)}
    assert [(w["wid"], w["status"], w["reason"]) for w in module.withdrawals_of("trader")] == [
        (owed, "requested", ""),
        (refunded, "refunded", "custody: request id reused with other terms"),
    ]
    assert restored.balance("trader", "USDC") == 960 * USDC
    # the restored engine still refuses to pay or refund it again
    paid = restored.apply(WithdrawalPaid(restored.now + 1, refunded, "0x01"))
    assert rejection(paid).code == "already_refunded"
    assert module.requested_ts(owed) is not None and module.requested_ts(refunded) is None
