"""Stateful property test: random command streams keep money conserved and the book honest.

After every command: per asset, balances plus collected fees equal deposits minus withdrawals;
holds equal what open orders hold and never exceed balances; the book is never crossed at rest in
continuous trading. Per command: a rejected command leaves `state_hash` unchanged; fills follow
price-time priority (a taker never skips a better or earlier order it was allowed to trade with);
FOK is all or nothing; self-trade prevention does what its mode says; nobody trades with themselves.
"""

from __future__ import annotations

from core_venue import core_engine, restore_core
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from offchain.core.matching.book import CANCEL_BOTH, CANCEL_MAKER, CANCEL_TAKER, DECREMENT, STP_MODES
from offchain.core.messages import commands as C
from offchain.core.messages.events import Cancelled, Rejected, Trade
from offchain.core.model.fees import buy_hold
from offchain.core.model.states import CONTINUOUS

SYMBOL = "BASE-QUOTE"
ACCOUNTS = ("market_maker", "trader", "whale")
ASSETS = ("QUOTE", "BASE")
CLIENT_IDS = ("a", "b", "c", "d")
UNIT = 100  # BASE has 2 decimals: one whole BASE is 100 atoms; prices are QUOTE atoms (2 dp) per BASE

prices = st.integers(min_value=985, max_value=1015)  # 9.85 .. 10.15, tick 1; the band is 3 %
quantities = st.integers(min_value=-1, max_value=40)  # lot 1 (0.01 BASE); 0 and -1 must be rejected
accounts = st.sampled_from(ACCOUNTS + ("stranger",))


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = core_engine()
        self.ts = 0
        self.net = dict.fromkeys(ASSETS, 0)  # deposits minus withdrawals, per asset
        self.arrival: dict[int, int] = {}  # oid -> when it last joined the back of its queue
        self.clock = 0
        for cmd in (
            C.AddAsset(0, "QUOTE", 2),
            C.AddAsset(0, "BASE", 2, 500_000),
            C.AddMarket(0, SYMBOL, "spot", "BASE", "QUOTE", 1, 1, 0, 300, 200),
        ):
            self.engine.apply(cmd)
        for account in ACCOUNTS:
            self.apply(C.Deposit(0, account, "QUOTE", 200_000))
            self.apply(C.Deposit(0, account, "BASE", 2_000))

    # -- driving -------------------------------------------------------------------------------------
    def apply(self, cmd) -> list:
        before = self.engine.state_hash()
        opposite = self._priority_snapshot(cmd)
        events = self.engine.apply(cmd)
        rejected = [e for e in events if isinstance(e, Rejected)]
        event(f"{cmd.CMD}: {rejected[0].code if rejected else 'ok'}")
        if any(isinstance(e, Trade) for e in events):
            event(f"{cmd.CMD}: traded")
        if rejected:
            assert len(events) == 1, events
            assert self.engine.state_hash() == before, (
                f"{cmd} was rejected ({rejected[0].code}) but changed state"
            )
            return events
        if isinstance(cmd, C.Deposit):
            self.net[cmd.asset] += cmd.amount
        if isinstance(cmd, C.Withdraw):
            self.net[cmd.asset] -= cmd.amount
        self._check_command(cmd, events, opposite)
        for e in events:
            if e.EVENT == "accepted" or (e.EVENT == "amended" and not e.kept_priority):
                self.clock += 1
                self.arrival[e.oid] = self.clock
        return events

    def next_ts(self, advance: int) -> int:
        self.ts += advance
        return self.ts

    def _taker_oid(self, cmd, events) -> int | None:
        if isinstance(cmd, C.PlaceOrder):
            return next((e.oid for e in events if e.EVENT == "accepted"), None)
        if isinstance(cmd, C.Amend):
            return next((e.oid for e in events if e.EVENT == "amended"), None)
        return None

    def _priority_snapshot(self, cmd) -> list | None:
        """The resting orders a taker would meet, in priority order, as (oid, owner)."""
        if isinstance(cmd, C.PlaceOrder):
            is_buy = cmd.side == C.BUY
        elif isinstance(cmd, C.Amend):
            order = self._find(cmd.account, cmd.client_id)
            if order is None:
                return None
            is_buy = order.is_buy
        else:
            return None
        # the queue as this test knows it: best price first, then arrival (an amend that loses
        # priority arrives again), independent of how the book orders its levels
        makers = self.engine.book(SYMBOL).orders.values()
        queue = sorted(
            (o for o in makers if o.is_buy != is_buy),
            key=lambda o: (-o.price if o.is_buy else o.price, self.arrival[o.oid]),
        )
        return [(o.oid, o.owner) for o in queue]

    def _find(self, account, client_id):
        return self.engine.order_by_client_id(account, client_id) if client_id else None

    def _check_command(self, cmd, events, opposite) -> None:
        trades = [e for e in events if isinstance(e, Trade)]
        for t in trades:
            assert t.maker != t.taker, "self-trade"
        taker = self._taker_oid(cmd, events)
        if taker is None or opposite is None:
            return
        stp_cancels = [e for e in events if isinstance(e, Cancelled) and e.reason == "stp"]
        maker_stp = [e for e in stp_cancels if e.oid != taker]
        taker_stp = [e for e in stp_cancels if e.oid == taker]
        # price-time priority: makers met are a prefix of the queue, skipping only own orders
        met = [t.maker_oid for t in trades] + [e.oid for e in maker_stp]
        if met:
            last = max(i for i, (oid, _) in enumerate(opposite) if oid in met)
            owner = getattr(cmd, "account", None)
            for oid, who in opposite[: last + 1]:
                assert oid in met or who == owner, f"taker skipped order {oid} of {who}"
        if isinstance(cmd, C.PlaceOrder) and cmd.tif == C.FOK:
            assert sum(t.qty for t in trades) == cmd.qty, "FOK filled partly"
        stp = cmd.stp if isinstance(cmd, C.PlaceOrder) else self._amend_stp
        if stp == CANCEL_TAKER:
            assert not maker_stp, "cancel_taker cancelled a maker"
        elif stp == CANCEL_MAKER:
            assert not taker_stp, "cancel_maker cancelled the taker"
        elif stp == CANCEL_BOTH:
            assert len(maker_stp) <= 1 and (not maker_stp or taker_stp), "cancel_both did not cancel both"
        elif stp == DECREMENT:
            assert sum(e.qty for e in maker_stp) == sum(e.qty for e in taker_stp), (
                "decrement is not symmetric"
            )

    _amend_stp: str | None = None

    # -- rules -------------------------------------------------------------------------------------
    @rule(account=accounts, asset=st.sampled_from(ASSETS), amount=st.integers(-5, 50_000))
    def deposit(self, account, asset, amount):
        self.apply(C.Deposit(self.next_ts(1), account, asset, amount))

    @rule(account=accounts, asset=st.sampled_from(ASSETS), amount=st.integers(-5, 50_000))
    def withdraw(self, account, asset, amount):
        self.apply(C.Withdraw(self.next_ts(1), account, asset, amount))

    @rule(
        account=accounts,
        side=st.sampled_from((C.BUY, C.SELL)),
        price=prices,
        qty=quantities,
        tif=st.sampled_from((C.GTC, C.GTC, C.IOC, C.FOK)),
        post_only=st.booleans(),
        stp=st.sampled_from(STP_MODES),
        client_id=st.sampled_from(CLIENT_IDS + (None,)),
        api=st.booleans(),
    )
    def limit(self, account, side, price, qty, tif, post_only, stp, client_id, api):
        cmd = C.PlaceOrder(
            self.next_ts(1000),
            account,
            SYMBOL,
            side,
            C.LIMIT,
            qty,
            price,
            tif,
            post_only,
            False,
            stp,
            client_id,
            api,
        )
        self.apply(cmd)

    @rule(
        account=accounts,
        side=st.sampled_from((C.BUY, C.SELL)),
        qty=quantities,
        tif=st.sampled_from((C.IOC, C.FOK)),
        stp=st.sampled_from(STP_MODES),
    )
    def market(self, account, side, qty, tif, stp):
        self.apply(C.PlaceOrder(self.next_ts(1000), account, SYMBOL, side, C.MARKET, qty, None, tif, stp=stp))

    @rule(account=accounts, client_id=st.sampled_from(CLIENT_IDS))
    def cancel(self, account, client_id):
        self.apply(C.Cancel(self.next_ts(1), account, client_id=client_id))

    @rule(account=accounts)
    def cancel_all(self, account):
        self.apply(C.CancelAll(self.next_ts(1), account, SYMBOL))

    @rule(
        account=accounts,
        client_id=st.sampled_from(CLIENT_IDS),
        price=st.none() | prices,
        qty=st.none() | quantities,
    )
    def amend(self, account, client_id, price, qty):
        order = self._find(account, client_id)
        self._amend_stp = order.stp if order is not None else None
        self.apply(C.Amend(self.next_ts(1), account, client_id, None, price, qty))

    @rule(price=prices, source=st.sampled_from(("pool", "venue")))
    def index(self, price, source):
        self.apply(C.Index(self.next_ts(1), SYMBOL, source, price))

    @rule(dice=st.integers(0, 5))
    def halt(self, dice):
        if dice == 0:  # rarely: a halted market matches nothing until it resumes
            self.apply(C.Halt(self.next_ts(1), SYMBOL, "test"))

    @rule()
    def resume(self):
        self.apply(C.Resume(self.next_ts(1), SYMBOL))

    @rule(days=st.integers(0, 40))
    def tick(self, days):
        self.apply(C.Tick(self.next_ts(days * 86_400_000)))

    @rule()
    def stale_command_is_rejected(self):
        if self.engine.now:
            events = self.apply(C.Tick(self.engine.now - 1))
            assert events[0].code == "ts_backwards"

    # -- invariants -------------------------------------------------------------------------------
    @invariant()
    def money_is_conserved(self):
        fees = self.engine.accounts.fees
        for asset in ASSETS:
            total = sum(a.balance.get(asset, 0) for a in self.engine.accounts.by_name.values())
            assert total + fees.get(asset, 0) == self.net[asset], asset

    @invariant()
    def holds_match_open_orders_and_balances(self):
        market = self.engine.markets[SYMBOL]
        for acct in self.engine.accounts.by_name.values():
            expected = dict.fromkeys(ASSETS, 0)
            for order in acct.orders.values():
                assert order.qty > 0
                assert market.book.get(order.oid) is order
                expected[order.hold_asset] += order.hold
                if order.is_buy:  # the hold still covers the worst the order can cost
                    need = buy_hold(
                        order.price, order.qty, UNIT, order.fee_acc, order.fee_paid, order.max_ppm
                    )
                    assert order.hold >= need, (order.hold, need)
                else:
                    assert order.hold >= order.qty
            for asset in ASSETS:
                held = acct.held.get(asset, 0)
                assert held == expected[asset], (acct.name, asset)
                assert 0 <= held <= acct.balance.get(asset, 0), (acct.name, asset)

    @invariant()
    def book_is_not_crossed_in_continuous_trading(self):
        market = self.engine.markets[SYMBOL]
        if market.state == CONTINUOUS:
            assert not market.book.is_crossed()
        assert len(market.book) == sum(len(a.orders) for a in self.engine.accounts.by_name.values())

    @invariant()
    def snapshot_restores_the_same_state(self):
        if self.ts % 7 == 0:  # not every step: restoring is the slow part
            assert restore_core(self.engine.snapshot()).state_hash() == self.engine.state_hash()


EngineMachine.TestCase.settings = settings(max_examples=250, stateful_step_count=80, deadline=None)
TestEngineMachine = EngineMachine.TestCase
