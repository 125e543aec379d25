"""The breaker fails safe and keeps its promises (issues 16 and 15.3, 15.7): an unmeasurable metric
never counts as recovered, losing the index halts a market, a stale index is no index, only DLPs and
authorised participants add orders during a halt, a priority credit a reorg removed is taken back,
and a refused order leaves the state exactly as it was."""

from __future__ import annotations

from decimal import Decimal

from test_breaker_engine import SYMBOL, USDC, Exchange, deep_book, of, tripped, vacuum  # noqa: F401

from offchain.core.breaker.readmodel import BreakerReadModel
from offchain.core.build import build_engine
from offchain.core.config import EngineConfig
from offchain.core.messages.codec import parse_command
from offchain.core.messages.events import Rejected


def rejected_code(events: list) -> str | None:
    found = [e for e in events if isinstance(e, Rejected)]
    return found[0].code if found else None


# -- 16: fail safe ---------------------------------------------------------------------------------


def test_a_halted_market_without_an_index_stays_halted_and_says_why():
    x = Exchange()
    tripped(x)
    assert x.state == "halted"
    # the index goes away (its only source leaves) while the book recovers
    x.engine.markets[SYMBOL].index_price = None  # a core-only engine has no staleness: take it away
    x.ok("dlp", account="market_maker")  # only a DLP may quote during the halt
    for i in range(10):
        x.limit("market_maker", "buy", str(Decimal("0.9995") - Decimal(i) / 10_000), "1000000", f"rb{i}")
        x.limit("market_maker", "sell", str(Decimal("1.0005") + Decimal(i) / 10_000), "1000000", f"ra{i}")
    x.tick_for(x.breaker.params.halt_window_ms // 1000 + 60)
    assert x.state == "halted", "no index: CVD cannot be measured, so the market may not reopen"
    metrics = BreakerReadModel(x.engine.modules[0], x.engine).live_metrics(SYMBOL, x.ts)
    assert "cvd_ppm:unmeasurable" in x.breaker.recovery_blockers(metrics)
    x.ok("index", symbol=SYMBOL, source="curve", price="1.0001")  # measurable again, and close
    x.tick_for(5)
    metrics = BreakerReadModel(x.engine.modules[0], x.engine).live_metrics(SYMBOL, x.ts)
    assert x.state != "halted", (x.breaker.recovery_blockers(metrics), metrics)


def test_losing_every_index_source_halts_a_continuous_market():
    engine = build_engine(EngineConfig())
    ts = [0]

    def do(cmd, **f):
        ts[0] += 1000
        return engine.apply(parse_command({"ts": ts[0], "cmd": cmd, **f}, engine))

    for wire in (
        dict(cmd="asset", symbol="USDC", decimals=6, collateral_weight="1"),
        dict(cmd="asset", symbol="USDE", decimals=18, collateral_weight="0.9"),
        dict(cmd="market", symbol=SYMBOL, kind="spot", base="USDE", quote="USDC", tick="0.0001", lot="1"),
    ):
        assert rejected_code(do(**wire)) is None
    assert rejected_code(do("index", symbol=SYMBOL, source="curve", price="1.0000")) is None
    do("tick")
    assert engine.markets[SYMBOL].state == "continuous"
    for _ in range(70):  # the only source goes silent: older than its 60 s max age
        do("tick")
    assert engine.markets[SYMBOL].index_price is None, "a stale index is no index (15.7)"
    assert engine.markets[SYMBOL].state == "halted"
    assert engine.modules[1].breakers[SYMBOL].reason == "index_lost"


# -- 16: who may add orders during a halt -----------------------------------------------------------


def test_during_a_halt_only_dlps_and_authorised_participants_add_orders():
    x = Exchange()
    x.ok("dlp", account="dlp")
    x.ok("authorise", account="buyer")
    x.ok("halt", symbol=SYMBOL)
    refused = x.limit("retail", "buy", "0.9900", "10")
    assert rejected_code(refused) == "halted_dlp_only"
    assert rejected_code(x.limit("dlp", "buy", "0.9900", "10")) is None
    assert rejected_code(x.limit("buyer", "sell", "1.0100", "10")) is None
    x.ok("authorise", account="buyer", authorised=False)
    assert rejected_code(x.limit("buyer", "sell", "1.0200", "10")) == "halted_dlp_only"
    x.ok("resume", symbol=SYMBOL)  # the cool-down: everyone may queue orders again
    assert rejected_code(x.limit("retail", "buy", "0.9900", "10")) is None


def test_a_reorged_priority_credit_is_taken_back_once_and_its_ref_may_be_credited_again():
    x = Exchange()
    x.ok("dlp", account="dlp")
    x.ok("halt", symbol=SYMBOL)
    before = x.engine.balance("dlp", "USDC")
    ref = "deposit:0xabc:0"
    x.ok("dlp_deposit", account="dlp", symbol=SYMBOL, asset="USDC", amount="5000", ref=ref)
    assert x.engine.balance("dlp", "USDC") == before + 5000 * USDC
    assert (
        rejected_code(x.do("dlp_reverse", account="dlp", asset="USDC", amount="4000", ref=ref))
        == "bad_amount"
    )
    events = x.ok("dlp_reverse", account="dlp", asset="USDC", amount="5000", ref=ref)
    assert [e.EVENT for e in events][0] == "dlp_reversed"
    assert x.engine.balance("dlp", "USDC") == before
    assert (
        rejected_code(x.do("dlp_reverse", account="dlp", asset="USDC", amount="5000", ref=ref))
        == "unknown_deposit"
    )
    x.ok("deposit", account="dlp", asset="USDC", amount="5000", ref=ref)  # mined again: credited once
    assert x.engine.balance("dlp", "USDC") == before + 5000 * USDC


# -- 15.3: a rejected order changes nothing ----------------------------------------------------------


def test_a_refused_market_or_fok_order_leaves_the_state_hash_unchanged():
    x = Exchange()
    deep_book(x)
    x.ok("order", account="buyer", symbol=SYMBOL, side="buy", type="market", qty="1000")  # a trade
    x.ok("deposit", account="pauper", asset="USDC", amount="1")
    for order in (
        dict(account="pauper", side="buy", type="market", qty="100000"),  # insufficient_balance
        dict(account="buyer", side="buy", type="limit", price="1.0005", qty="99000000", tif="FOK"),
    ):
        before = x.engine.state_hash()
        # 6 minutes on, without a tick: the trade has left the 5-minute window but is not trimmed
        events = x.do("order", dt_ms=360_000, symbol=SYMBOL, **order)
        assert rejected_code(events) is not None, events
        assert x.engine.state_hash() == before, order
