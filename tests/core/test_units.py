"""One definition per rule: the `units` helpers, and every inlined hot-path copy proved equal to it.

Where the engine cannot afford a call it inlines a helper; each such copy is checked here against the
helper it mirrors (no "change both together" comment is needed: a drift fails these tests).
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.core.codes import RejectCode
from offchain.core.matching.book import Book
from offchain.core.matching.validation import check_size
from offchain.core.model.accounts import Account
from offchain.core.model.fees import buy_hold
from offchain.core.model.markets import Asset, Market
from offchain.core.model.orders import OpenOrder
from offchain.core.risk.module import RiskModule
from offchain.core.risk.spot import SpotRisk, free_balance_veto
from offchain.core.units import BPS, PPM, ceil_div, impact_limit, mid, mid_or_none, on_tick_inward

CORE = Path(__file__).resolve().parents[2] / "offchain" / "core"
prices = st.integers(1, 10**12)
bands = st.integers(1, BPS - 1)
ticks = st.integers(1, 10**6)


def _market(kind: str = "spot", lot: int = 10, min_qty: int = 20) -> Market:
    base, quote = Asset("ETH", 18, PPM), Asset("USDC", 6, PPM)
    return Market("ETH-USDC", kind, base, quote, 100, lot, min_qty, book=Book())


def _order(
    is_buy: bool, fee_acc: int = 0, fee_paid: int = 0, maker: int = -200, taker: int = 2000
) -> OpenOrder:
    o = OpenOrder(1, Account("a"), "ETH-USDC", is_buy, "limit", 100, 10, "GTC", False, False,
                  "cancel_maker", None, False, 0, maker, taker)  # fmt: skip
    o.fee_acc, o.fee_paid = fee_acc, fee_paid
    return o


@given(st.integers(-(10**30), 10**30), st.integers(1, 10**9))
def test_ceil_div_is_the_ceiling(a, b):
    q = ceil_div(a, b)
    assert q * b >= a > (q - 1) * b


@given(prices, prices)
def test_mid_rounds_down_and_needs_both_sides(bid, ask):
    assert mid(bid, ask) == (bid + ask) // 2 == mid_or_none(bid, ask)
    assert mid_or_none(None, ask) is None and mid_or_none(bid, None) is None


@settings(max_examples=500)
@given(prices, bands, ticks, st.booleans())
def test_the_impact_band_has_one_rounding_the_liquidator_only_snaps_it_to_the_tick(ref, impact, tick, is_buy):
    """The engine's market orders and the liquidator's IOCs share `impact_limit` (inward to the atom);
    the liquidator then snaps onto the tick. This is exactly the liquidator's old two-step formula,
    so the golden replays are unchanged."""
    limit = impact_limit(ref, impact, is_buy)
    exact_num = ref * ((BPS + impact) if is_buy else (BPS - impact))
    if is_buy:  # never outside the band: a buy's limit at most, a sell's at least the exact bound
        assert limit * BPS <= exact_num < (limit + 1) * BPS
    else:
        assert limit * BPS >= exact_num > (limit - 1) * BPS
    old_engine = ref * (BPS + impact) // BPS if is_buy else -(-ref * (BPS - impact) // BPS)
    assert limit == old_engine
    old_liquidator = (
        ref * (BPS + impact) // BPS // tick * tick
        if is_buy
        else ceil_div(ceil_div(ref * (BPS - impact), BPS), tick) * tick
    )
    assert on_tick_inward(limit, tick, is_buy) == old_liquidator


@given(ticks, st.lists(st.integers(1, 10**6), min_size=1, max_size=20), prices, st.booleans())
def test_snapping_a_limit_to_the_tick_matches_the_same_levels(tick, levels, limit, is_buy):
    """Book prices are tick multiples, so a taker limited at `limit` or at its tick-snapped value
    crosses exactly the same levels (why one band rounding serves both callers)."""
    snapped = on_tick_inward(limit, tick, is_buy)
    for n in levels:
        p = n * tick
        assert ((p <= limit) if is_buy else (p >= limit)) == ((p <= snapped) if is_buy else (p >= snapped))


@given(st.one_of(st.integers(-100, 10**6), st.none(), st.just("3")))
def test_the_order_flows_inline_size_test_is_check_size(qty):
    market = _market()
    inline_refuses = type(qty) is not int or qty <= 0 or qty % market.lot or qty < market.min_qty
    assert bool(inline_refuses) == (check_size(market, qty) is not None)


@given(prices, st.integers(1, 10**24), st.integers(0, 10**12), st.integers(0, 10**6), st.integers(0, 5000))
def test_buy_hold_inlines_ceil_div(price, qty, fee_acc, fee_paid, max_ppm):
    unit = 10**18
    notional = ceil_div(price * qty, unit)
    expected = notional + ceil_div(fee_acc + notional * max_ppm, PPM) - fee_paid
    assert buy_hold(price, qty, unit, fee_acc, fee_paid, max_ppm) == expected


@given(st.booleans(), prices, st.integers(1, 10**20), st.integers(0, 10**9), st.integers(-500, 3000))
def test_cross_margin_holds_like_spot_for_accounts_without_margin(is_buy, price, qty, fee_acc, taker):
    market = _market()
    order = _order(is_buy, fee_acc=fee_acc, fee_paid=fee_acc // PPM, taker=taker)
    cross = RiskModule().policy
    assert cross.hold(market, order, price, qty) == SpotRisk().hold(market, order, price, qty)


@given(st.integers(-(10**9), 10**9), st.integers(0, 10**9), st.integers(-(10**9), 10**9))
def test_cross_margins_inline_free_balance_test_is_free_balance_veto(balance, held, extra):
    acct = Account("a")
    acct.balance["USDC"], acct.held["USDC"] = balance, held
    inline_refuses = extra > 0 and acct.balance.get("USDC", 0) - acct.held.get("USDC", 0) < extra
    spot_refuses = extra > 0 and free_balance_veto(acct, "USDC", extra) is not None
    assert inline_refuses == spot_refuses


def _emitted_code_literals() -> set[str]:
    """String literals the core passes as a rejection code (`reject(cmd, "x", ...)`, `return "x", ...`)."""
    found: set[str] = set()
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
                "reject",
                "_invalid",
                "invalid",
                "ConfigError",
                "BreakerError",
            ):
                args = node.args[1:2] if getattr(node.func, "attr", "") == "reject" else node.args[:1]
                if getattr(node.func, "id", "") in ("_invalid", "invalid"):
                    args = node.args[2:3]
                found |= {a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    return found


def test_every_rejection_code_is_a_reject_code_member():
    known = {c.value for c in RejectCode}
    assert _emitted_code_literals() <= known
    assert RejectCode.BAD_TICK == "bad_tick" and f"{RejectCode.BAD_TICK}" == "bad_tick"
    assert inspect.getsource(RejectCode).count(" = ") == len(known)  # no two names for one code
