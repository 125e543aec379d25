"""Wire parsing (scenario/API form) and the lossless journal form of commands and events."""

from __future__ import annotations

import json

import pytest
from core_venue import PRICE, core_engine, listed_venue

from offchain.core.messages import commands as C
from offchain.core.messages.codec import (
    CommandFormatError,
    command_from_dict,
    command_to_dict,
    event_from_dict,
    event_to_dict,
    format_price,
    format_units,
    parse_command,
)


@pytest.fixture
def engine():
    return listed_venue().engine


def test_scenario_order_line_scales_decimal_strings(engine):
    line = {
        "t": 1.5,
        "cmd": "order",
        "account": "mm1",
        "symbol": "BTC-USDC",
        "side": "buy",
        "type": "limit",
        "price": "50000.25",
        "qty": "0.125",
        "tif": "GTC",
        "id": "mm1-1",
    }
    cmd = parse_command(line, engine)
    assert cmd == C.PlaceOrder(
        1500, "mm1", "BTC-USDC", "buy", "limit", 12_500_000, 50_000 * PRICE + 250_000, client_id="mm1-1"
    )


def test_spec_example_lines_parse():
    engine = core_engine()
    lines = [
        {"t": 0, "cmd": "asset", "symbol": "USDC", "decimals": 6, "collateral_weight": "1"},
        {"t": 0, "cmd": "asset", "symbol": "USDE", "decimals": 18, "collateral_weight": "0.9"},
        {
            "t": 0,
            "cmd": "market",
            "symbol": "USDE-USDC",
            "kind": "spot",
            "base": "USDE",
            "quote": "USDC",
            "tick": "0.0001",
            "lot": "1",
        },
        {"t": 2, "cmd": "index", "symbol": "USDE-USDC", "source": "curve", "price": "0.9990"},
        {"t": 3, "cmd": "halt", "symbol": "USDE-USDC", "reason": "manual"},
        {"t": 300, "cmd": "resume", "symbol": "USDE-USDC"},
        {"t": 900, "cmd": "tick"},
    ]
    parsed = []
    for line in lines:
        cmd = parse_command(line, engine)
        parsed.append(cmd)
        engine.apply(cmd)
    assert parsed[1] == C.AddAsset(0, "USDE", 18, 900_000)
    assert parsed[2] == C.AddMarket(0, "USDE-USDC", "spot", "USDE", "USDC", 100, 10**18)
    assert parsed[3] == C.Index(2000, "USDE-USDC", "curve", 999_000)
    assert parsed[-1] == C.Tick(900_000)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ({"t": 1, "cmd": "teleport"}, "unknown command"),
        ({"cmd": "tick"}, "missing field 't'"),
        ({"t": "soon", "cmd": "tick"}, "not a decimal"),
        ({"t": 0.0001, "cmd": "tick"}, "at most 3 decimals"),
        ({"t": 1, "cmd": "deposit", "account": "a", "asset": "USDC"}, "missing field 'amount'"),
        ({"t": 1, "cmd": "deposit", "account": "a", "asset": "USDC", "amount": 1.5}, "decimal string"),
        (
            {"t": 1, "cmd": "deposit", "account": "a", "asset": "USDC", "amount": "1", "memo": "x"},
            r"unknown field\(s\) memo",
        ),
        (
            {"t": 1, "cmd": "order", "account": "a", "symbol": "BTC-USDC", "side": "buy", "qty": "1"},
            "missing field 'price'",
        ),
        (
            {
                "t": 1,
                "cmd": "order",
                "account": "a",
                "symbol": "BTC-USDC",
                "side": "buy",
                "price": "1",
                "qty": "1",
                "post_only": "yes",
            },
            "true or false",
        ),
        ({"t": 1, "cmd": "cancel", "account": "a"}, "'id'"),
        ({"t": 1, "cmd": "amend", "account": "a", "id": "x"}, "new 'price'"),
        (["not", "a", "dict"], "JSON object"),
    ],
)
def test_malformed_wire_command_names_its_problem(engine, line, reason):
    with pytest.raises(CommandFormatError, match=reason):
        parse_command(line, engine)


def test_unknown_market_parses_to_a_command_the_engine_rejects(engine):
    cmd = parse_command(
        {
            "t": 100,
            "cmd": "order",
            "account": "trader",
            "symbol": "NOPE",
            "side": "buy",
            "price": "1",
            "qty": "1",
        },
        engine,
    )
    assert isinstance(cmd, C.Invalid) and cmd.code == "unknown_market"
    before = engine.state_hash()
    (event,) = engine.apply(cmd)
    assert (event.code, event.cmd, event.account) == ("unknown_market", "order", "trader")
    assert engine.state_hash() == before


def test_amend_scales_with_the_market_of_the_order(engine):
    engine.apply(
        parse_command(
            {
                "t": 100,
                "cmd": "order",
                "account": "trader",
                "symbol": "BTC-USDC",
                "side": "buy",
                "price": "100",
                "qty": "1",
                "id": "x",
            },
            engine,
        )
    )
    cmd = parse_command({"t": 101, "cmd": "amend", "account": "trader", "id": "x", "price": "101.5"}, engine)
    assert cmd == C.Amend(101_000, "trader", "x", None, 101_500_000, None)


def test_journal_form_round_trips_every_command_and_event(engine):
    venue_cmds = [
        C.Deposit(5, "trader", "USDC", 10, "0x1:2"),
        C.PlaceOrder(5, "trader", "BTC-USDC", "sell", "limit", 10**5, 40_000 * PRICE, client_id="s"),
        C.PlaceOrder(
            6, "market_maker", "BTC-USDC", "buy", "market", 10**5, None, "IOC", stp="decrement", api=True
        ),
        C.Amend(7, "trader", None, 3, None, 5),
        C.CancelAll(8, "trader"),
    ]
    for cmd in venue_cmds:
        wire = json.loads(json.dumps(command_to_dict(cmd)))
        assert command_from_dict(wire) == cmd
        for event in engine.apply(cmd):
            assert event_from_dict(json.loads(json.dumps(event_to_dict(event)))) == event


def test_format_units_writes_plain_decimals(engine):
    assert format_units(1_500_000, 6) == "1.5"
    assert format_units(-5, 2) == "-0.05"
    assert format_units(7 * 10**18, 18) == "7"
    assert format_price(engine, "BTC-USDC", 50_000 * PRICE + 10_000) == "50000.01"
