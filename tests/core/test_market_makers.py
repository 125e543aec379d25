"""Designated market makers (issue 20, seed 001): obligations measured per period, rebate tier paid only
to compliant makers, designated makers are the breaker's DLPs, deterministic replay."""

from __future__ import annotations

import pytest

from offchain.core.build import build_engine, makers_module, restore_engine
from offchain.core.codes import RejectCode as R
from offchain.core.config import EngineConfig
from offchain.core.messages.codec import parse_command
from offchain.core.messages.events import Rejected
from offchain.core.messages.makers import MakerDesignated, MakerPeriod

CONFIG = EngineConfig(makers=True)
USDC = 10**6
HOUR = 3600


class Venue:
    def __init__(self, config: EngineConfig = CONFIG) -> None:
        self.config = config
        self.engine = build_engine(config)
        self.log: list[dict] = []

    def do(self, t: float, cmd: str, **fields) -> list:
        d = {"t": str(t), "cmd": cmd, **fields}
        self.log.append(d)
        return self.engine.apply(parse_command(d, self.engine))

    def ok(self, t: float, cmd: str, **fields) -> list:
        events = self.do(t, cmd, **fields)
        assert not any(isinstance(e, Rejected) for e in events), events
        return events


def venue(config: EngineConfig = CONFIG) -> Venue:
    v = Venue(config)
    v.ok(0, "asset", symbol="USDC", decimals=6, collateral_weight="1")
    v.ok(0, "asset", symbol="BTC", decimals=8, collateral_weight="0.9")
    v.ok(0, "market", symbol="BTC-USDC", kind="spot", base="BTC", quote="USDC", tick="0.01", lot="0.001")
    for account in ("mm", "trader", "other"):
        v.ok(0, "deposit", account=account, asset="USDC", amount="10000000")
        v.ok(0, "deposit", account=account, asset="BTC", amount="1000")
    return v


def quote(v: Venue, t: float, account: str = "mm", qty: str = "1") -> None:
    """Five levels a side, 0.1 % apart around 50,000 (each level ~USD 50,000)."""
    for i in range(1, 6):
        v.ok(t, "order", account=account, symbol="BTC-USDC", side="buy", qty=qty, price=str(50000 - 50 * i))
        v.ok(t, "order", account=account, symbol="BTC-USDC", side="sell", qty=qty, price=str(50000 + 50 * i))


def designate(v: Venue, t: float, account: str = "mm", **obligations) -> list:
    fields = {"min_notional": "10000", "levels": 5, "max_spread": "0.003", "share": "0.9", "period": HOUR}
    fields.update(obligations)
    return v.ok(t, "maker", account=account, symbol="BTC-USDC", **fields)


def periods(events: list) -> list[MakerPeriod]:
    return [e for e in events if isinstance(e, MakerPeriod)]


def test_compliance_is_measured_across_a_period_boundary():
    v = venue()
    quote(v, 1000)
    events = designate(v, 1800)
    assert [e.designated for e in events if isinstance(e, MakerDesignated)] == [True]
    v.ok(3000, "cancel_all", account="mm")  # pulls at 3000 s: 1200 s of 1800 s quoted in period 0
    quote(v, 3300)  # back at 3300 s, through the boundary at 3600 s
    closed = periods(v.ok(3600, "tick"))
    assert [(p.start, p.end, p.measured_ms, p.quoted_ms, p.compliant) for p in closed] == [
        (1_800_000, 3_600_000, 1_800_000, 1_500_000, False)
    ]
    assert closed[0].share_ppm == 833_333
    # the next period [3600, 7200) is quoted throughout, closed by the first command after its end
    closed = periods(v.ok(7300, "tick"))
    assert [(p.start, p.end, p.measured_ms, p.quoted_ms, p.compliant) for p in closed] == [
        (3_600_000, 7_200_000, 3_600_000, 3_600_000, True)
    ]
    (row,) = makers_module(v.engine).compliance("mm", v.engine.now)
    assert row["period"]["start"] == 7_200_000 and row["period"]["measured_ms"] == 100_000
    assert [h["compliant"] for h in row["history"]] == [False, True]


def _hour_with_fill(pull_seconds: int) -> tuple[Venue, list[MakerPeriod], int, int]:
    v = venue()
    quote(v, 0)
    designate(v, 0)
    fees_before = v.engine.accounts.fees.get("USDC", 0)
    v.ok(100, "order", account="trader", symbol="BTC-USDC", side="buy", qty="0.1", type="market")
    if pull_seconds:
        v.ok(1000, "cancel_all", account="mm")
        quote(v, 1000 + pull_seconds)
    usdc_before = v.engine.balance("mm", "USDC")
    closed = periods(v.ok(HOUR, "tick"))
    return v, closed, v.engine.balance("mm", "USDC") - usdc_before, fees_before


def test_a_maker_that_pulls_quotes_for_30_percent_of_the_period_loses_the_rebate():
    v, closed, paid, _ = _hour_with_fill(int(0.3 * HOUR))
    (p,) = closed
    assert p.quoted_ms == int(0.7 * HOUR * 1000) and p.share_ppm == 700_000
    assert not p.compliant and p.rebate == 0 and paid == 0
    assert p.maker_notional == 5005 * USDC  # 0.1 BTC at 50,050: it keeps only its own tier's rebate
    # a maker off for 5 % of the period is still compliant (90 % required) and is paid
    _, closed, paid, _ = _hour_with_fill(int(0.05 * HOUR))
    assert closed[0].compliant and paid == closed[0].rebate > 0


def test_the_rebate_paid_is_the_tier_difference():
    v, closed, paid, fees_before = _hour_with_fill(0)
    (p,) = closed
    assert p.compliant and p.share_ppm == 1_000_000
    tiers = v.engine.fee_schedule.tiers
    own, best = tiers[0][1], min(t[1] for t in tiers)  # -200 ppm (tier 0) and -500 ppm (tier 6)
    notional = 5005 * USDC
    assert p.rebate == paid == notional * (own - best) // 1_000_000 == 1_501_500  # 0.03 % of 5,005 USDC
    # paid out of the fees the exchange collected: money is conserved
    taker_fee = notional * 2000 // 1_000_000
    assert v.engine.accounts.fees["USDC"] - fees_before == taker_fee - notional * 200 // 1_000_000 - paid


def test_replay_gives_the_same_state_hash_and_a_snapshot_resumes_it():
    v = venue()
    quote(v, 0)
    designate(v, 10)
    v.ok(100, "order", account="trader", symbol="BTC-USDC", side="buy", qty="0.1", type="market")
    v.ok(1000, "cancel_all", account="mm")
    mid = v.engine.snapshot()
    mid_at = len(v.log)
    quote(v, 1500)
    v.ok(HOUR + 5, "tick")
    v.ok(2 * HOUR + 5, "tick")
    again = Venue()
    for d in v.log:
        again.engine.apply(parse_command(d, again.engine))
    assert again.engine.state_hash() == v.engine.state_hash()
    resumed = restore_engine(mid, CONFIG)
    for d in v.log[mid_at:]:
        resumed.apply(parse_command(d, resumed))
    assert resumed.state_hash() == v.engine.state_hash()


def test_off_by_default_the_default_engine_has_no_maker_module():
    engine = build_engine(EngineConfig())
    assert makers_module(engine) is None
    assert "makers" not in engine.to_state()["modules"]


def test_a_designated_maker_is_a_dlp_during_a_halt():
    v = venue()
    events = designate(v, 10)
    assert any(e.EVENT == "dlp" and e.designated for e in events)
    v.ok(20, "halt", symbol="BTC-USDC")
    v.ok(30, "order", account="mm", symbol="BTC-USDC", side="buy", qty="1", price="49000")
    refused = v.do(30, "order", account="other", symbol="BTC-USDC", side="buy", qty="1", price="49000")
    assert refused[0].code == R.HALTED_DLP_ONLY
    events = v.ok(40, "maker", account="mm", symbol="BTC-USDC", designated=False)
    assert any(e.EVENT == "dlp" and not e.designated for e in events)


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"levels": 0}, R.BAD_PARAM),
        ({"share": "1.5"}, R.BAD_PARAM),
        ({"max_spread": "0"}, R.BAD_PARAM),
        ({"period": 10}, R.BAD_PARAM),
        ({"min_notional": "0"}, R.BAD_PARAM),
        ({"symbol": "ETH-USDC"}, R.UNKNOWN_MARKET),
        ({"designated": False}, R.NOT_DESIGNATED),
    ],
)
def test_bad_designations_are_refused_and_change_nothing(fields, code):
    v = venue()
    before = v.engine.state_hash()
    d = {"account": "mm", "symbol": "BTC-USDC", **fields}
    (e,) = v.do(5, "maker", **d)
    assert isinstance(e, Rejected) and e.code == code
    assert v.engine.state_hash() == before


def test_a_reprice_away_that_keeps_the_same_hold_is_measured():
    """A sell amended far away holds the same base: the amend itself re-tests the maker."""
    v = venue()
    quote(v, 0)
    designate(v, 0, max_spread="0.0025")  # its touch is 0.2 % wide
    asks = sorted((o for o in v.engine.open_orders("mm") if not o.is_buy), key=lambda o: o.price)
    v.ok(600, "amend", account="mm", oid=asks[0].oid, price="50400")  # the touch is now 0.3 % wide
    (p,) = periods(v.ok(HOUR, "tick"))
    assert p.quoted_ms == 600_000 and not p.compliant
