"""The treasury's `withdrawal_queued` (issue 14.5): Custody holds a withdrawal for its outflow window. It
stays owed, the user sees it `queued`, and it is later paid (or, cancelled on-chain, refunded) once."""

from __future__ import annotations

from core_venue import USDC, Venue, rejection

from offchain.core.build import build_engine, restore_engine
from offchain.core.treasury.module import TreasuryModule


def treasury_venue() -> Venue:
    v = Venue(build_engine())  # every default module, as the daemon runs it
    v.ok("asset", symbol="USDC", decimals=6, collateral_weight="1")
    v.ok("deposit", account="trader", asset="USDC", amount="1000")
    return v


def treasury(v: Venue) -> TreasuryModule:
    return next(m for m in v.engine.modules if m.name == "treasury")


def withdraw(v: Venue, amount: str) -> int:
    """Request a withdrawal of the trader's; return its wid."""
    (requested,) = [
        e
        for e in v.ok("withdraw", account="trader", asset="USDC", amount=amount)
        if e.EVENT == "withdrawal_requested"
    ]
    return requested.wid


def test_a_held_withdrawal_reads_queued_stays_owed_and_is_paid_once():
    v = treasury_venue()
    wid = withdraw(v, "250")
    (held,) = v.ok("withdrawal_queued", wid=wid, tx="0xqueued")
    assert (held.EVENT, held.wid, held.account, held.amount, held.tx) == (
        "withdrawal_queued",
        wid,
        "trader",
        250 * USDC,
        "0xqueued",
    )
    assert treasury(v).owed == {wid: ("trader", "USDC", 250 * USDC)}  # neither paid nor failed
    (listed,) = treasury(v).withdrawals_of("trader")
    assert (listed["status"], listed["tx"], listed["paid_ts"]) == ("queued", "0xqueued", None)
    restored = restore_engine(v.engine.snapshot())
    assert restored.state_hash() == v.engine.state_hash()

    before = v.engine.state_hash()
    assert rejection(v.do("withdrawal_queued", wid=wid, tx="0xagain")).code == "already_queued"
    assert rejection(v.do("withdrawal_queued", wid=wid + 1, tx="0x1")).code == "unknown_withdrawal"
    assert v.engine.state_hash() == before

    v.ok("withdrawal_paid", wid=wid, tx="0xclaimed")
    (listed,) = treasury(v).withdrawals_of("trader")
    assert (listed["status"], listed["tx"]) == ("paid", "0xclaimed")
    assert rejection(v.do("withdrawal_queued", wid=wid, tx="0xlate")).code == "already_paid"
    assert v.balance("trader", "USDC") == 750 * USDC


def test_a_held_withdrawal_cancelled_on_chain_is_refunded():
    v = treasury_venue()
    wid = withdraw(v, "100")
    v.ok("withdrawal_queued", wid=wid, tx="0xqueued")
    v.ok("withdrawal_refunded", wid=wid, reason="custody: the governor cancelled this withdrawal")
    (listed,) = treasury(v).withdrawals_of("trader")
    assert (listed["status"], listed["tx"]) == ("refunded", "")
    assert v.balance("trader", "USDC") == 1000 * USDC


def test_queued_needs_the_queuing_transaction():
    v = treasury_venue()
    wid = withdraw(v, "10")
    assert rejection(v.do("withdrawal_queued", wid=wid)).code == "bad_tx"
    assert treasury(v).withdrawals_of("trader")[0]["status"] == "requested"
