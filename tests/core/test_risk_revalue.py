"""Vectorised screening never misses an account the exact integers find below maintenance."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.core.risk.liquidation import liquidation_price
from offchain.core.risk.margin import (
    AssetRisk,
    MarketRisk,
    Valuation,
    account_health,
    default_taper,
    default_tiers,
)
from offchain.core.risk.perps import Position
from offchain.core.risk.revalue import RiskMatrix

USDC = 10**6
BTC = 10**8
E18 = 10**18


def valuation() -> Valuation:
    return Valuation(
        assets={
            "USDC": AssetRisk("USDC", 6),
            "USDE": AssetRisk("USDE", 18, 950_000, default_taper(950_000, USDC)),
        },
        asset_price={"USDC": USDC, "USDE": 999_000},
        markets={
            "BTC-PERP": MarketRisk(default_tiers(50, USDC)),
            "ETH-PERP": MarketRisk(default_tiers(20, USDC)),
        },
        market_mark={"BTC-PERP": 60_000 * USDC, "ETH-PERP": 3_000 * USDC},
        market_unit={"BTC-PERP": BTC, "ETH-PERP": E18},
        vol_mult_ppm={"BTC-PERP": 1_500_000},
    )


account_strategy = st.fixed_dictionaries(
    {
        "usdc": st.integers(min_value=-(10**12), max_value=10**13),
        "usde": st.integers(min_value=0, max_value=3 * 10**7).map(lambda x: x * 10**15),
        "btc": st.integers(min_value=-(10**9), max_value=10**9),
        "btc_entry": st.integers(min_value=40_000, max_value=80_000),
        "eth": st.integers(min_value=-(10**5), max_value=10**5).map(lambda x: x * 10**15),
    }
)


@settings(max_examples=60, deadline=None)
@given(
    accounts=st.lists(account_strategy, min_size=1, max_size=25),
    btc_mark=st.integers(min_value=30_000, max_value=90_000),
    usde=st.integers(min_value=500_000, max_value=1_010_000),
)
def test_screening_catches_every_account_below_maintenance(accounts, btc_mark, usde):
    v = valuation()
    matrix = RiskMatrix()
    exact = {}
    for i, a in enumerate(accounts):
        balances = {"USDC": a["usdc"], "USDE": a["usde"]}
        positions = {
            "BTC-PERP": Position(a["btc"], -a["btc"] * a["btc_entry"] * USDC // BTC),
            "ETH-PERP": Position(a["eth"], -a["eth"] * 3_000 * USDC // E18),
        }
        matrix.update(f"trader{i}", balances, positions)
        exact[f"trader{i}"] = (balances, positions)
    v.market_mark["BTC-PERP"] = btc_mark * USDC
    v.asset_price["USDE"] = usde
    flagged = set(matrix.screen(v))
    values = matrix.revalue(v, initial=True)
    for name, (balances, positions) in exact.items():
        h = account_health(balances, positions, v)
        if h.below_maintenance:
            assert name in flagged
        r = matrix.row[name]
        assert abs(values["equity"][r] - h.equity) <= 1e-9 * values["scale"][r] + 10
        assert abs(values["initial"][r] - h.initial) <= 1e-9 * values["scale"][r] + 10


def test_linearised_liquidation_level_matches_the_exact_price_for_a_plain_perp():
    v = valuation()
    v.vol_mult_ppm = {}
    matrix = RiskMatrix()
    balances = {"USDC": 1_200 * USDC}
    positions = {"BTC-PERP": Position(BTC, -60_000 * USDC, 60_000 * USDC)}
    matrix.update("long_trader", balances, positions)
    matrix.update("flat_trader", {"USDC": 10 * USDC}, {})
    exposure, level = matrix.liquidation_levels(v, "BTC-PERP", None)
    exact = liquidation_price(balances, positions, v, "BTC-PERP", None, 60_000 * USDC)
    assert exposure[0] == BTC
    assert abs(level[0] - exact) <= 2
    assert exposure[1] == 0 and np.isnan(level[1])


def test_matrix_grows_past_its_first_capacity_and_keeps_rows():
    matrix = RiskMatrix()
    for i in range(3_000):
        matrix.update(f"trader{i}", {"USDC": i}, {})
    assert matrix.size == 3_000
    assert matrix.exact_inputs("trader2999")[0] == {"USDC": 2_999}
