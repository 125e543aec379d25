"""Fixtures for the engine core tests (helpers live in core_venue.py)."""

from __future__ import annotations

import pytest
from core_venue import Venue, listed_venue


@pytest.fixture
def venue() -> Venue:
    """A listed BTC-USDC spot market with funded traders."""
    return listed_venue()
