"""Golden replays: the shipped scenarios and seeded random streams give byte-identical results.

The fixture freezes, per case, the final state hash, the sha256 of the canonical event stream, the
event counts by type and the rejection codes. A refactoring of the engine must leave every one of
them unchanged; a deliberate behaviour change regenerates the fixture (``python
tests/golden/replays.py --write``) in the commit that makes it, and says why.
"""

from __future__ import annotations

import json

import pytest
from replays import FIXTURE, cases, run_case

EXPECTED = json.loads(FIXTURE.read_text())
CASES = cases()


def test_fixture_covers_every_case():
    assert sorted(EXPECTED) == sorted(CASES)


def test_streams_exercise_liquidations_auctions_and_funding():
    """The seeded streams are only useful if they reach the engine's hard paths."""
    totals: dict[str, int] = {}
    for name, result in EXPECTED.items():
        if name.startswith("stream:"):
            for event, n in result["event_counts"].items():
                totals[event] = totals.get(event, 0) + n
    for event in ("trade", "liquidation", "funding", "auction", "breaker", "interest", "pnl_settled"):
        assert totals.get(event, 0) > 0, event


@pytest.mark.parametrize("name", sorted(CASES))
def test_replay_is_byte_identical_to_the_golden_fixture(name):
    result = run_case(CASES[name])
    expected = EXPECTED[name]
    assert result["event_counts"] == expected["event_counts"]
    assert result["rejection_codes"] == expected["rejection_codes"]
    assert result["events_sha256"] == expected["events_sha256"]
    assert result["final_state_hash"] == expected["final_state_hash"]
    assert result["restored_state_hash"] == expected["final_state_hash"]
    assert result == expected
