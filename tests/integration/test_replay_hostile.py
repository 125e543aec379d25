"""The replay refuses every hostile line cleanly (issue 15.1): exit 2 naming the line, never a
traceback, whatever the line holds."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from offchain import replay

GENESIS = [
    {"t": 0, "cmd": "asset", "symbol": "USDC", "decimals": 6, "collateral_weight": "1"},
    {"t": 0, "cmd": "asset", "symbol": "USDE", "decimals": 18, "collateral_weight": "0.9"},
    {"t": 0, "cmd": "market", "symbol": "USDE-USDC", "kind": "spot", "base": "USDE", "quote": "USDC",
     "tick": "0.0001", "lot": "1"},
]  # fmt: skip

HOSTILE = [
    "[" * 100_000,
    "9" * 5_000,
    '{"t": 1, "cmd": "deposit", "account": "a", "asset": "USDC", "amount": "1e999999999"}',
    '{"t": "' + "1" * 4_400 + '", "cmd": "tick"}',
    '{"t": 1, "cmd": "deposit", "account": "a", "asset": "USDC", "amount": "' + "1" * 4_400 + '"}',
    '{"t": 1, "cmd": "deposit", "account": "a", "asset": "USDC", "amount": "1e400"}',
    '{"t": 1, "cmd": "index", "symbol": "USDE-USDC", "source": "x", "price": "1e300"}',
    '{"t": 1e80, "cmd": "tick"}',
    '{"t": 1, "cmd": "order", "account": "a", "symbol": "USDE-USDC", "side": "buy", "type": "limit", '
    '"price": "1e20", "qty": "1"}',
]


@pytest.mark.parametrize("line", HOSTILE, ids=range(len(HOSTILE)))
def test_a_hostile_line_stops_the_replay_with_exit_2_naming_it(tmp_path, line):
    scenario = tmp_path / "hostile.jsonl"
    scenario.write_text("\n".join([json.dumps(g) for g in GENESIS] + [line]) + "\n")
    with pytest.raises(replay.ScenarioError) as err:
        replay.replay(scenario)
    assert err.value.line_no == len(GENESIS) + 1


def test_the_program_exits_2_with_the_line_number_and_no_traceback(tmp_path):
    scenario = tmp_path / "hostile.jsonl"
    scenario.write_text("\n".join([json.dumps(g) for g in GENESIS] + ["[" * 100_000]) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "offchain", "replay", str(scenario), "--report", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert f"hostile.jsonl:{len(GENESIS) + 1}:" in done.stderr and "Traceback" not in done.stderr
