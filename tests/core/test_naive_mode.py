"""Issue 15.9: the naive exchange (``replay --no-breaker``) is a real naive exchange.

It values collateral at its own local spot price (which is what makes it fail), but its price bands
measure from its own index, as every exchange's do: market makers quoting near the index while
the local book has crashed are accepted, not refused as out of band.
"""

from __future__ import annotations

import pytest
from risk_venue import SPOT, listed, px

from offchain.core.build import build_engine
from offchain.core.config import EngineConfig
from offchain.core.messages.events import Rejected


def crashed(mark_source: str):
    """The local USDE book trades down to 0.70 while the index holds 0.999."""
    v = listed(mark_source)
    v.ok("deposit", account="seller", asset="USDE", amount="100000")
    v.ok("deposit", account="dipbuyer", asset="USDC", amount="100000")
    v.ok("order", account="dipbuyer", symbol=SPOT, side="buy", type="limit", price="0.7000", qty="1000")
    v.ok("order", account="seller", symbol=SPOT, side="sell", type="limit", price="0.7000", qty="1000")
    v.ok("index", symbol=SPOT, source="curve", price="0.9990")
    v.ok("tick")
    assert v.engine.markets[SPOT].last_price == px("0.70")
    return v


def test_naive_bands_measure_from_the_index_and_collateral_from_the_local_book():
    v = crashed("local")
    market = v.engine.markets[SPOT]
    assert market.index_price == px("0.999")
    assert market.reference_price() == market.mark_price
    assert abs(market.mark_price - px("0.999")) <= px("0.001")  # the index-based mark, not 0.70
    # a market maker quoting near the index is accepted (band 50 % around the index) ...
    v.ok("deposit", account="mm", asset="USDC", amount="100000")
    events = v.order("mm", SPOT, "buy", "1000", "0.9980")
    assert not any(isinstance(e, Rejected) for e in events), events
    # ... while collateral is still valued at the crashed local price
    assert v.module.valuation().asset_price["USDE"] == px("0.70")


def test_naive_band_refuses_a_quote_far_from_the_index():
    v = crashed("local")
    v.ok("deposit", account="mm", asset="USDC", amount="100000")
    v.ok("risk_market", symbol=SPOT, band="0.2")
    [refused] = v.order("mm", SPOT, "buy", "1000", "0.7000")  # 30 % under the index
    assert refused.code == "price_out_of_band"


def test_the_guarded_exchange_is_unchanged():
    v = crashed("mark")
    assert v.module.valuation().asset_price["USDE"] == v.engine.markets[SPOT].mark_price
    assert abs(v.engine.markets[SPOT].mark_price - px("0.999")) <= px("0.001")


def test_the_replay_naive_config_is_the_local_collateral_one():
    engine = build_engine(EngineConfig.naive())
    assert engine.risk.module.config.collateral_mark_source == "local"


def test_book_bands_follow_the_local_book_as_before():
    """`--naive-bands book`: the model before 15.9, kept for comparison (bands from its own book)."""
    v = crashed("book")
    assert v.engine.markets[SPOT].mark_price == px("0.70")
    v.ok("deposit", account="mm", asset="USDC", amount="100000")
    v.ok("risk_market", symbol=SPOT, band="0.2")
    [refused] = v.order("mm", SPOT, "buy", "1000", "0.9980")  # 43 % over its own book
    assert refused.code == "price_out_of_band"
    assert v.module.valuation().asset_price["USDE"] == px("0.70")


def test_naive_bands_are_index_or_book():
    assert build_engine(EngineConfig.naive("book")).risk.module.config.collateral_mark_source == "book"
    with pytest.raises(ValueError, match="naive bands"):
        EngineConfig.naive("local")
