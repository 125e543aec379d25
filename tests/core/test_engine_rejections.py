"""Bad input is refused with a stable code and a message, and changes nothing."""

from __future__ import annotations

import pytest
from core_venue import listed_venue, rejection

from offchain.core.messages import commands as C
from offchain.core.messages.codec import parse_command

ORDER = {"account": "trader", "symbol": "BTC-USDC", "side": "buy", "price": "50000", "qty": "1"}


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"symbol": "DOGE-USDC"}, "unknown_market"),
        ({"account": "nobody"}, "unknown_account"),
        ({"price": "50000.005"}, "bad_tick"),  # finer than the tick 0.01
        ({"price": "50000.0000001"}, "bad_tick"),  # finer than a USDC atom
        ({"qty": "0.0015"}, "bad_lot"),  # lot 0.001
        ({"qty": "0"}, "bad_qty"),
        ({"qty": "-1"}, "bad_qty"),
        ({"price": "-5"}, "bad_price"),
        ({"side": "hold"}, "bad_side"),
        ({"type": "stop"}, "bad_type"),
        ({"tif": "GTD"}, "bad_tif"),
        ({"stp": "none"}, "bad_stp"),
        ({"qty": "100"}, "insufficient_balance"),  # 5M USDC needed, 1M deposited
        ({"price": "60000"}, "price_out_of_band"),  # 20 % above the index
        ({"reduce_only": True}, "reduce_only_spot"),
        ({"type": "market", "price": None, "tif": "GTC"}, "bad_tif"),
        ({"post_only": True, "tif": "IOC"}, "bad_tif"),
        ({"id": "taken"}, "duplicate_client_id"),
    ],
)
def test_bad_order_is_rejected_with_its_code_and_changes_nothing(fields, code):
    venue = listed_venue()
    venue.ok("index", symbol="BTC-USDC", source="pool", price="50000")
    venue.order("trader", "sell", "1", "50500", id="taken")
    before = venue.engine.state_hash()
    wire = {**ORDER, **fields}
    wire = {k: v for k, v in wire.items() if v is not None}
    found = rejection(venue.do("order", **wire))
    assert found.code == code
    assert found.message
    assert venue.engine.state_hash() == before


@pytest.mark.parametrize(
    ("cmd", "fields", "code"),
    [
        ("deposit", {"account": "trader", "asset": "DOGE", "amount": "1"}, "unknown_asset"),
        ("deposit", {"account": "trader", "asset": "USDC", "amount": "0"}, "bad_amount"),
        ("deposit", {"account": "trader", "asset": "USDC", "amount": "0.0000001"}, "bad_amount"),
        ("withdraw", {"account": "trader", "asset": "USDC", "amount": "2000000"}, "insufficient_balance"),
        ("withdraw", {"account": "nobody", "asset": "USDC", "amount": "1"}, "unknown_account"),
        ("cancel", {"account": "trader", "id": "missing"}, "unknown_order"),
        ("cancel", {"account": "nobody", "id": "missing"}, "unknown_account"),
        ("amend", {"account": "trader", "id": "missing", "qty": "1"}, "unknown_order"),
        ("amend", {"account": "trader", "id": "open", "qty": "0"}, "bad_qty"),
        ("amend", {"account": "trader", "id": "open", "price": "40000.001"}, "bad_tick"),
        ("cancel_all", {"account": "trader", "symbol": "DOGE-USDC"}, "unknown_market"),
        ("asset", {"symbol": "USDC", "decimals": 6}, "duplicate_asset"),
        ("asset", {"symbol": "HUGE", "decimals": 40}, "bad_decimals"),
        ("asset", {"symbol": "HEAVY", "decimals": 6, "collateral_weight": "1.5"}, "bad_collateral_weight"),
        (
            "market",
            {"symbol": "BTC-USDC", "base": "BTC", "quote": "USDC", "tick": "1", "lot": "1"},
            "duplicate_market",
        ),
        (
            "market",
            {"symbol": "X-USDC", "base": "X", "quote": "USDC", "tick": "1", "lot": "1"},
            "unknown_asset",
        ),
        ("market", {"symbol": "B-B", "base": "BTC", "quote": "BTC", "tick": "1", "lot": "1"}, "bad_market"),
        (
            "market",
            {"symbol": "B2", "kind": "option", "base": "BTC", "quote": "USDC", "tick": "1", "lot": "1"},
            "bad_kind",
        ),
        ("market", {"symbol": "B3", "base": "BTC", "quote": "USDC", "tick": "0", "lot": "1"}, "bad_tick"),
        ("index", {"symbol": "DOGE-USDC", "source": "pool", "price": "1"}, "unknown_market"),
        ("index", {"symbol": "BTC-USDC", "source": "pool", "price": "0"}, "bad_price"),
        ("resume", {"symbol": "BTC-USDC"}, "not_halted"),
    ],
)
def test_bad_command_is_rejected_with_its_code_and_changes_nothing(cmd, fields, code):
    venue = listed_venue()
    venue.order("trader", "buy", "1", "40000", id="open")
    before = venue.engine.state_hash()
    found = rejection(venue.do(cmd, **fields))
    assert (found.code, found.cmd) == (code, cmd)
    assert venue.engine.state_hash() == before


def test_command_from_the_past_is_rejected():
    venue = listed_venue()
    venue.do("tick")
    before = venue.engine.state_hash()
    found = rejection(venue.engine.apply(C.Tick(venue.engine.now - 1)))
    assert found.code == "ts_backwards"
    assert venue.engine.state_hash() == before


def test_duplicate_chain_deposit_is_credited_once():
    venue = listed_venue()
    venue.ok("deposit", account="trader", asset="USDC", amount="5", ref="0xabc:0")
    before = venue.engine.state_hash()
    assert rejection(venue.do("deposit", account="trader", asset="USDC", amount="5", ref="0xabc:0")).code == (
        "duplicate_deposit"
    )
    assert venue.engine.state_hash() == before


def test_perp_market_orders_wait_for_the_risk_engine():
    venue = listed_venue()
    venue.ok("market", symbol="BTC-PERP", kind="perp", base="BTC", quote="USDC", tick="0.1", lot="0.001")
    events = venue.engine.apply(
        parse_command(
            {"t": 99, "cmd": "order", **ORDER, "symbol": "BTC-PERP", "reduce_only": True}, venue.engine
        )
    )
    assert rejection(events).code == "unsupported_market_kind"
