"""The treasury module: the protocol pause, withdrawals owed on-chain, bad debt covered."""

from __future__ import annotations

from core_venue import USDC, Venue, rejection

from offchain.core.engine import Engine
from offchain.core.treasury import TreasuryModule


def treasury_venue() -> Venue:
    v = Venue(Engine())  # every default module, as the daemon runs it
    v.ok("asset", symbol="USDC", decimals=6, collateral_weight="1")
    v.ok("asset", symbol="USDE", decimals=18, collateral_weight="0.9")
    v.ok("market", symbol="USDE-USDC", kind="spot", base="USDE", quote="USDC", tick="0.0001", lot="1")
    v.ok("deposit", account="trader", asset="USDC", amount="1000")
    return v


def treasury(v: Venue) -> TreasuryModule:
    return next(m for m in v.engine.modules if m.name == "treasury")


def test_withdrawal_is_owed_until_paid_and_survives_a_snapshot():
    v = treasury_venue()
    (requested,) = [
        e
        for e in v.ok("withdraw", account="trader", asset="USDC", amount="250")
        if e.EVENT == "withdrawal_requested"
    ]

    assert treasury(v).owed == {requested.wid: ("trader", "USDC", 250 * USDC)}
    restored = Engine.restore(v.engine.snapshot())
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
    assert rejection(v.do("withdrawal_paid", wid=requested.wid)).code == "unknown_withdrawal"


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

    restored = Engine.restore(v.engine.snapshot())

    assert restored.state_hash() == v.engine.state_hash()
    (paid,) = next(m for m in restored.modules if m.name == "treasury").withdrawals_of("trader")
    assert (paid["wid"], paid["amount"], paid["status"], paid["tx"]) == (
        requested.wid,
        40 * USDC,
        "paid",
        "0xfeed",
    )
