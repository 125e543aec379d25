"""The market-making agent (issue 20, seed 001's LiquidityOptimizer): a VWAP-anchored ladder of five
levels a side, 0.1 % apart, each worth the level notional; it hedges its inventory on the pool."""

from __future__ import annotations

from decimal import Decimal

from offchain.core.build import build_engine
from offchain.core.config import EngineConfig
from offchain.core.makers.obligation import Obligation, meets
from offchain.core.messages.codec import parse_command
from offchain.sim.market_maker import MakerProgram, MarketMakerAgent, hedge_order, ladder, vwap

TRADES = [("1.0000", "100"), ("0.9980", "300"), ("1.0010", "100")]  # VWAP 0.9990


def test_vwap_weights_by_volume():
    assert vwap(TRADES) == Decimal("0.999")
    assert vwap([]) is None


def test_the_ladder_has_five_levels_a_side_0_1_percent_apart_around_vwap():
    program = MakerProgram(level_notional=Decimal("500000"), tick=Decimal("0.0001"), lot=Decimal("1"))
    anchor = vwap(TRADES)
    rungs = ladder(anchor, program)
    bids = [p for s, p, _ in rungs if s == "buy"]
    asks = [p for s, p, _ in rungs if s == "sell"]
    assert len(bids) == len(asks) == 5
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    for k, (bid, ask) in enumerate(zip(bids, asks, strict=True), start=1):
        # k steps of 0.1 % from the VWAP, rounded outward to the tick (never nearer than k steps)
        assert bid <= anchor * (1 - Decimal("0.001") * k) < bid + program.tick
        assert ask - program.tick < anchor * (1 + Decimal("0.001") * k) <= ask
    for _side, price, qty in rungs:
        assert price * qty >= Decimal("500000")  # the article's USD 500,000 a level
        assert price * (qty - 1) < Decimal("500000")  # the smallest lot multiple that is
    # neighbours are one step apart (0.1 % of the VWAP, to the tick)
    for side in (bids, asks):
        for a, b in zip(side, side[1:], strict=False):
            assert abs(abs(a - b) - anchor * Decimal("0.001")) <= program.tick


def test_the_ladder_meets_the_engines_obligation():
    """What the agent quotes is what the engine's obligation test (default 0.3 % spread) accepts."""
    engine = build_engine(EngineConfig.core())
    for d in [
        {"cmd": "asset", "symbol": "USDC", "decimals": 6},
        {"cmd": "asset", "symbol": "USDE", "decimals": 18},
        {"cmd": "market", "symbol": "USDE-USDC", "kind": "spot", "base": "USDE", "quote": "USDC",
         "tick": "0.0001", "lot": "1"},
        {"cmd": "deposit", "account": "dmm", "asset": "USDC", "amount": "5000000"},
        {"cmd": "deposit", "account": "dmm", "asset": "USDE", "amount": "5000000"},
    ]:  # fmt: skip
        engine.apply(parse_command({"t": 0, **d}, engine))
    for side, price, qty in ladder(Decimal("0.999"), MakerProgram()):
        engine.apply(parse_command({"t": 1, "cmd": "order", "account": "dmm", "symbol": "USDE-USDC",
                                    "side": side, "price": str(price), "qty": str(qty)}, engine))  # fmt: skip
    ob = Obligation(500_000 * 10**6, 5, 3_000, 900_000, 3_600_000)
    acct = engine.accounts.get("dmm")
    assert len(acct.orders) == 10
    assert meets(acct.orders.values(), "USDE-USDC", 10**18, ob)


class FakeClient:
    def __init__(self):
        self.placed: list[tuple] = []
        self.cancelled: list[str] = []
        self.base = "1000000"

    def place_order(self, symbol, side, qty, price, **options):
        self.placed.append((side, price, qty))
        return {"status": "open", "client_id": f"c{len(self.placed)}"}

    def cancel(self, client_id=None, oid=None):
        self.cancelled.append(client_id)

    def account(self):
        return {"balances": {"USDE": {"balance": self.base}}}


class FakeHedger:
    def __init__(self):
        self.swaps: list[tuple] = []

    def swap(self, side, qty, price):
        self.swaps.append((side, qty))


def test_the_agent_quotes_from_trades_and_hedges_its_fills_on_the_pool():
    client, hedger = FakeClient(), FakeHedger()
    agent = MarketMakerAgent(client, MakerProgram(level_notional=Decimal("1000")), hedger)
    trades = [{"price": p, "qty": q} for p, q in TRADES]
    agent.step({"index_price": "1.0"}, trades)  # anchored at the trades' VWAP, not the index
    assert len(client.placed) == 10 and agent.anchor == Decimal("0.999")
    client.base = "1005000"  # its bids were hit: 5,000 USDE long
    agent.step({"index_price": "1.0"}, trades)
    assert hedger.swaps == [("sell", Decimal("5000"))]
    agent.step({"index_price": "1.0"}, trades)  # hedged: nothing more to do
    assert len(hedger.swaps) == 1
    assert hedge_order(Decimal("-2000"), Decimal("1000")) == ("buy", Decimal("2000"))
    assert hedge_order(Decimal("500"), Decimal("1000")) is None


def test_in_a_fast_market_the_agent_steps_back_and_in_a_halt_it_quotes_the_index():
    client = FakeClient()
    agent = MarketMakerAgent(client, MakerProgram(level_notional=Decimal("1000")))
    agent.step({"index_price": "1.0", "last_price": "0.999"}, [])
    assert len(agent.live) == 10
    agent.step({"index_price": "1.0", "last_price": "0.97", "state": "continuous"}, [])  # 3 % off
    assert agent.live == [] and len(client.cancelled) == 10
    agent.step(
        {"index_price": "1.0", "last_price": "0.97", "state": "halted"}, [{"price": "0.9", "qty": "1"}]
    )
    assert len(agent.live) == 10 and agent.anchor == Decimal("1.0")
