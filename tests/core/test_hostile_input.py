"""Hostile input (issue 15.1): arbitrary JSON values in every field of every command are refused
cleanly or accepted, never raise out of the codec or the engine, and a refusal leaves the state hash
exactly as it was; the engine stays snapshottable whatever it accepted. Plus the issue's own lines."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offchain.core.build import build_engine, restore_engine
from offchain.core.config import EngineConfig
from offchain.core.messages.codec import CommandFormatError, parse_command
from offchain.core.messages.events import Rejected
from offchain.core.messages.wire import WIRE_PARSERS
from offchain.core.units import MAX_ATOMS, MAX_PRICE, MAX_TS

SPOT, PERP = "USDE-USDC", "BTC-PERP"
GENESIS = [
    {"cmd": "asset", "symbol": "USDC", "decimals": 6, "collateral_weight": "1"},
    {"cmd": "asset", "symbol": "USDE", "decimals": 18, "collateral_weight": "0.9"},
    {"cmd": "asset", "symbol": "BTC", "decimals": 8, "collateral_weight": "0"},
    {"cmd": "market", "symbol": SPOT, "kind": "spot", "base": "USDE", "quote": "USDC", "tick": "0.0001",
     "lot": "1"},
    {"cmd": "market", "symbol": PERP, "kind": "perp", "base": "BTC", "quote": "USDC", "tick": "0.5",
     "lot": "0.001"},
    {"cmd": "deposit", "account": "a", "asset": "USDC", "amount": "100000"},
    {"cmd": "deposit", "account": "a", "asset": "USDE", "amount": "100000"},
    {"cmd": "deposit", "account": "b", "asset": "USDC", "amount": "100000"},
    {"cmd": "index", "symbol": SPOT, "source": "curve", "price": "1.0000"},
    {"cmd": "index", "symbol": PERP, "source": "cex", "price": "50000"},
    {"cmd": "order", "account": "a", "symbol": SPOT, "side": "sell", "type": "limit", "price": "1.0010",
     "qty": "1000", "id": "ask"},
    {"cmd": "order", "account": "b", "symbol": SPOT, "side": "buy", "type": "limit", "price": "0.9990",
     "qty": "1000", "id": "bid"},
    {"cmd": "withdraw", "account": "b", "asset": "USDC", "amount": "10"},
    {"cmd": "dlp", "account": "a"},
]  # fmt: skip

# one valid wire form of every command; hypothesis replaces one field at a time
TEMPLATES = {
    "asset": {"symbol": "XYZ", "decimals": 6, "collateral_weight": "0.5"},
    "market": {"symbol": "XYZ-USDC", "kind": "spot", "base": "USDE", "quote": "USDC", "tick": "0.01", "lot": "1"},
    "deposit": {"account": "c", "asset": "USDC", "amount": "5", "ref": "r1"},
    "withdraw": {"account": "a", "asset": "USDC", "amount": "5"},
    "order": {"account": "b", "symbol": SPOT, "side": "buy", "type": "limit", "price": "1.0000", "qty": "10",
              "tif": "GTC", "id": "x"},
    "cancel": {"account": "a", "id": "ask"},
    "cancel_all": {"account": "a", "symbol": SPOT},
    "amend": {"account": "a", "id": "ask", "price": "1.0020", "qty": "900"},
    "index": {"symbol": SPOT, "source": "curve", "price": "1.0001"},
    "halt": {"symbol": SPOT, "reason": "manual"},
    "resume": {"symbol": SPOT},
    "tick": {},
    "margin": {"account": "a", "enabled": True},
    "lend": {"account": "a", "asset": "USDC", "enabled": False},
    "risk_asset": {"symbol": "USDE", "collateral_weight": "0.8"},
    "risk_market": {"symbol": PERP, "max_leverage": 20},
    "risk_params": {"liquidation_fee": "0.01"},
    "index_source": {"symbol": SPOT, "source": "curve", "weight": 2, "max_age": "30"},
    "protocol": {"withdrawals_paused": True, "risk_paused": False, "reason": "test"},
    "withdrawal_paid": {"wid": 1, "tx": "0x01"},
    "withdrawal_refunded": {"wid": 1, "reason": "test"},
    "cover_paid": {"asset": "USDC", "amount": "1", "tx": "0x02"},
    "dlp": {"account": "b", "designated": True},
    "dlp_deposit": {"account": "a", "symbol": SPOT, "asset": "USDC", "amount": "5", "ref": "p1"},
    "dlp_reverse": {"account": "a", "asset": "USDC", "amount": "5", "ref": "p1"},
    "authorise": {"account": "b", "authorised": True},
    "withdrawal_queued": {"wid": 1, "tx": "0x03"},
    "maker": {"account": "a", "symbol": SPOT, "designated": True, "min_notional": "1000", "levels": 2,
              "max_spread": "0.01", "share": "0.5", "period": "60"},
    "breaker": {"symbol": SPOT, "set": {"t_buffer_ms": 1000}},
}  # fmt: skip

HOSTILE_NUMBERS = ["1e999999999", "-1e999999999", "9" * 5000, "0." + "1" * 4400, "1" * 4400, "NaN", "Infinity",
                   "1e400", "1e20", "-0", "0", "0x10", "", " 1", "1_000", str(2**64), str(MAX_ATOMS + 1)]  # fmt: skip

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.sampled_from([2**63, -(2**63), 10**5000 if False else 10**400, MAX_TS + 1, MAX_PRICE + 1])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(HOSTILE_NUMBERS)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def venue():
    engine = build_engine(EngineConfig())
    for i, wire in enumerate(GENESIS, start=1):
        events = engine.apply(parse_command({"ts": i * 1000, **wire}, engine))
        assert not [e for e in events if isinstance(e, Rejected)], (wire, events)
    return engine


def assert_clean(engine, wire: dict) -> None:
    """Parse and apply `wire`: a clean refusal (state unchanged) or an acceptance, never an exception."""
    before = engine.state_hash()
    try:
        cmd = parse_command(wire, engine)
    except CommandFormatError:
        assert engine.state_hash() == before
        return
    events = engine.apply(cmd)  # must not raise
    if len(events) == 1 and isinstance(events[0], Rejected):
        assert engine.state_hash() == before, (wire, events)
    restore_engine(engine.snapshot())  # whatever it accepted, the engine can still be snapshotted


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    name=st.sampled_from(sorted(TEMPLATES)),
    data=st.data(),
)
def test_any_json_value_in_any_field_of_any_command_is_refused_cleanly_or_accepted(name, data):
    engine = venue()
    wire = {"cmd": name, "ts": 100_000, **TEMPLATES[name]}
    fields = sorted(set(wire) - {"cmd"}) + ["t", "extra"]
    field = data.draw(st.sampled_from(fields))
    value = data.draw(json_values)
    if field == "t":
        del wire["ts"]
    wire[field] = value
    assert_clean(engine, wire)


def test_every_command_has_a_template():
    assert set(WIRE_PARSERS) <= set(TEMPLATES)


@pytest.mark.parametrize(
    "wire",
    [
        {"cmd": "deposit", "ts": 100_000, "account": "c", "asset": "USDC", "amount": "1e300"},
        {"cmd": "deposit", "ts": 100_000, "account": "c", "asset": "USDC", "amount": "1e999999999"},
        {"cmd": "deposit", "ts": 100_000, "account": "c", "asset": "USDC", "amount": "9" * 4400},
        {"cmd": "index", "ts": 100_000, "symbol": SPOT, "source": "curve", "price": "1e300"},
        {"cmd": "tick", "t": "1e80"},
        {"cmd": "tick", "t": "1" * 4400},
        {"cmd": "order", "ts": 100_000, "account": "b", "symbol": PERP, "side": "buy", "type": "limit",
         "price": "50000", "qty": "1" * 4400},
        {"cmd": "order", "ts": 100_000, "account": "b", "symbol": SPOT, "side": "buy", "type": "limit",
         "price": "1e20", "qty": "1"},
    ],
)  # fmt: skip
def test_the_issues_hostile_lines_are_refused(wire):
    engine = venue()
    before = engine.state_hash()
    with pytest.raises(CommandFormatError):
        parse_command(wire, engine)
    assert engine.state_hash() == before


def test_a_deposit_adapters_build_directly_is_bounded_by_the_engine():
    from offchain.core.messages import commands as C

    engine = venue()
    before = engine.state_hash()
    events = engine.apply(C.Deposit(200_000, "c", "USDC", 10**300, "chain:1"))
    assert events[0].code == "bad_amount" and engine.state_hash() == before
    events = engine.apply(C.Index(200_000, SPOT, "curve", 10**300))
    assert isinstance(events[0], Rejected) and engine.state_hash() == before
