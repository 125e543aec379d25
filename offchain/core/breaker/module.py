"""The circuit breaker inside the engine: per-market state machine, halts, DLP deposits, auctions.

Wiring (``hooks.Module``):

* **every taker order** asks :meth:`BreakerModule.match_limit` how far it may walk: the levels
  are checked *before* they print, and the first one whose price would trip the market (SPEC §3
  rule, see ``breaker.py``) stops the walk. A limit order stopped there makes the engine call
  :meth:`on_match_stopped`, which halts the market (its remainder rests if GTC, else is cancelled
  with reason ``halt``); a market order is only ever sized to the allowed walk (the core previews
  it) and the post-trade judgement at the touch halts the market in the same command. So a halt
  lands *before* the trade that would have broken the price, not after it;
* **every command that traded** feeds the 5-minute price range and the mid's TWAP and is judged
  at the last trade and at the touch;
* **every tick** samples depth for the benchmark (continuous trading only), evaluates the trip
  rule or the recovery test, runs the timed phases, publishes the indicative auction price during
  cool-down and call phase, and at the end of the call phase uncrosses the book at one price
  (``auction.py``) through ``EngineContext.cross``. Like risk, the breaker keeps no wake timer: it works on
  ``tick`` commands only, so a rejected command never changes state (the phases still keep their
  scheduled lengths);
* commands: ``halt`` and ``resume`` (replacing the core's), ``dlp`` (designate a liquidity
  provider), ``dlp_deposit`` (the priority channel: credited at once, only while the market is not
  trading continuously), ``breaker`` (set a market's parameters).

Seams with risk: liquidations and margin calls read ``market.state`` and stay suspended outside
``continuous``; on a trip the collateral mark of the market's base asset is frozen at the last
valid reference price taken before the trip (``freeze_collateral`` on the risk policy when it has
one) and released when continuous trading resumes.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from offchain.core.breaker.readmodel import BookView
from offchain.core.breaker.rule import (
    Breaker,
    MarketMonitor,
    Metrics,
    Transition,
)
from offchain.core.codes import RejectCode as R
from offchain.core.matching.auction import OrderColumns, indicative, uncross
from offchain.core.messages import commands as C
from offchain.core.messages.breaker import (
    AuctionUncrossed,
    Authorise,
    BreakerParamsSet,
    BreakerTransition,
    DesignateDlp,
    DlpBond,
    DlpDeposit,
    DlpDesignated,
    DlpReverse,
    DlpReversed,
    IndicativePrice,
    ParticipantAuthorised,
    SetBreaker,
)
from offchain.core.model.breaker_params import BreakerError, BreakerParams
from offchain.core.model.states import AUCTION, CONTINUOUS, COOLDOWN, HALTED
from offchain.core.ports import Module
from offchain.core.units import PPM

if TYPE_CHECKING:
    from offchain.core.messages.events import Trade
    from offchain.core.model.accounts import Account
    from offchain.core.model.markets import Market
    from offchain.core.model.orders import OpenOrder
    from offchain.core.ports import CollateralSeams, EngineContext


# -- the module -----------------------------------------------------------------------------------


class BreakerModule(Module):
    """Runs one :class:`~offchain.core.breaker.rule.Breaker` per market inside the engine."""

    name = "breaker"

    def __init__(
        self,
        params: BreakerParams | None = None,
        enabled: bool = True,
        collateral: CollateralSeams | None = None,
    ) -> None:
        """`collateral`: the risk policy's collateral seams (freeze/unfreeze a mark, the liquidation
        cluster for LCE); the composition root passes the cross-margin policy, or None without risk."""
        self.collateral = collateral
        base = params or BreakerParams()
        self.default_params = base if enabled else base.updated(enabled=False)
        self.breakers: dict[str, Breaker] = {}
        self.monitors: dict[str, MarketMonitor] = {}
        self.dlps: set[str] = set()
        self.bonds: dict[str, tuple[str, int]] = {}  # designated account -> (asset, atoms held)
        self.shortfall: dict[str, dict[str, int]] = {}  # account -> asset -> reversed credit uncovered
        self.authorised: set[str] = set()  # may add orders during a halt (no priority channel)
        self.priority: dict[str, tuple[str, str, int]] = {}  # dlp_deposit ref -> (account, asset, atoms)
        self.frozen: dict[str, int] = {}  # symbol -> collateral mark frozen at the trip
        self.published: dict[str, tuple] = {}  # symbol -> last indicative (price, volume, surplus)
        self.engine: EngineContext | None = None
        # the last command judged after its trades: its market and the engine's next trade id then
        self._judged_symbol = ""
        self._judged_tid = 0

    def lce_source(self, engine: EngineContext, market: Market):
        """The liquidation-cluster function LCE reads for this market (None without collateral seams)."""
        seams = self.collateral
        if seams is None:
            return None
        fn = seams.liquidation_cluster_ppm
        return lambda price, reach_ppm: fn(engine, market, price, reach_ppm)

    # -- registration --------------------------------------------------------------------------

    def handlers(self, engine: EngineContext) -> dict[type, Any]:
        self.engine = engine
        return {
            C.Halt: self._on_halt,
            C.Resume: self._on_resume,
            DesignateDlp: self._on_designate,
            DlpDeposit: self._on_dlp_deposit,
            DlpReverse: self._on_dlp_reverse,
            Authorise: self._on_authorise,
            SetBreaker: self._on_set,
        }

    def _ensure(self, market: Market) -> tuple[Breaker, MarketMonitor]:
        sym = market.symbol
        breaker = self.breakers.get(sym)
        if breaker is None:
            breaker = self.breakers[sym] = Breaker(self.default_params)
            self.monitors[sym] = MarketMonitor(breaker.params, market.unit, market.quote_unit)
        return breaker, self.monitors[sym]

    def state_of(self, symbol: str) -> str:
        """The breaker's view of a market's trading state (``continuous`` before it is seen)."""
        breaker = self.breakers.get(symbol)
        return breaker.state if breaker else CONTINUOUS

    # -- metric probes --------------------------------------------------------------------------

    def _probe(self, engine: EngineContext, market: Market, ts: int, price: int | None, book=None):
        monitor = self._ensure(market)[1]
        book = book or BookView(market.book)
        return monitor.probe(
            ts,
            price,
            market.index_price,
            book.bid_levels,
            book.ask_levels,
            book.mid(),
            self.lce_source(engine, market),
        )

    def _detached_probe(self, engine: EngineContext, market: Market, ts: int, price: int | None, book):
        """A probe on a detached copy of the windows: for questions asked before an order is accepted
        (the guard's preview), which must leave no trace if the order is then refused (15.3)."""
        monitor = self._ensure(market)[1].detached()
        return monitor.probe(
            ts,
            price,
            market.index_price,
            book.bid_levels,
            book.ask_levels,
            book.mid(),
            self.lce_source(engine, market),
        )

    def local_price(self, market: Market, state: str) -> int | None:
        """The price judged against the index: last trade in continuous trading; while halted, the
        price the book would uncross at (else its mid, else the last trade)."""
        book = market.book
        if state != CONTINUOUS:
            if book.is_crossed():
                ind = _indicative(market, self._reference(market))
                if ind.price is not None:
                    return ind.price
            mid = BookView(book).mid()
            if mid is not None:
                return mid
        return market.last_price if market.last_price is not None else BookView(book).mid()

    def _reference(self, market: Market) -> int | None:
        """The auction's reference price: the index, else the frozen mark, else the last trade."""
        if market.index_price is not None:
            return market.index_price
        if market.symbol in self.frozen:
            return self.frozen[market.symbol]
        return market.last_price

    # -- the taker guard ----------------------------------------------------------------------

    def match_limit(self, engine: EngineContext, market: Market, order: OpenOrder) -> int | None:
        """Return the limit price that stops a taker before the first level that would trip."""
        sym = market.symbol
        breaker = self.breakers.get(sym)
        if breaker is None:
            breaker = self._ensure(market)[0]
        if breaker.state != CONTINUOUS or not breaker.params.enabled:
            return None
        ts = order.ts
        lo, hi = self._cold_band(market, breaker, self.monitors[sym], ts)
        # every level priced inside [lo, hi] is cold for CVD and V_P, the two cheap partners of
        # the trip rule; a walk that cannot leave the band needs no further look
        is_buy = order.is_buy
        if (order.price <= hi) if is_buy else (order.price >= lo):
            return None
        remaining = order.qty
        for i, (price, qty) in enumerate(BookView(market.book)._levels(not is_buy)):
            if (price > order.price) if is_buy else (price < order.price):
                return None  # the walk ends at the order's own limit without tripping
            if price < lo or price > hi:
                view = BookView(market.book, consumed_side=not is_buy, consumed_levels=i)
                probe = self._detached_probe(engine, market, ts, price, view)
                if _would_trip(breaker, ts, probe):
                    # stop short of this level: bids >= price + 1 (sell) / asks <= price - 1 (buy)
                    return price - 1 if is_buy else price + 1
            remaining -= qty
            if remaining <= 0:
                return None
        return None

    @staticmethod
    def _cold_band(market: Market, breaker: Breaker, monitor: MarketMonitor, ts: int) -> tuple[int, float]:
        """A price range over which neither CVD nor V_P is beyond its trip threshold (every price in
        it is cold; a price outside may be cold too), read from the V_P window as of ``ts`` without
        trimming it (the guard runs before an order may still be refused)."""
        extremes = monitor.range.extremes(ts)  # read, never trimmed: a refused taker changes nothing
        if extremes is not None:
            return _band(market.index_price, breaker.params, extremes[0], extremes[1])
        return _band(market.index_price, breaker.params, None, None)

    def _cheap_hot(
        self, market: Market, breaker: Breaker, monitor: MarketMonitor, ts: int, price: int
    ) -> bool:
        """Is CVD or V_P beyond its trip threshold at ``price``? (the gate before any book walk)"""
        lo, hi = self._cold_band(market, breaker, monitor, ts)
        return price < lo or price > hi

    def on_match_stopped(self, engine: EngineContext, market: Market, order: OpenOrder, out: list) -> None:
        """The guard stopped a taker: halt the market on the metrics of the level it would hit."""
        breaker, _ = self._ensure(market)
        if breaker.state != CONTINUOUS:
            return
        book = market.book
        touch = book.best_ask() if order.is_buy else book.best_bid()
        ts = out[0].ts if out else engine.now
        probe = self._probe(engine, market, ts, touch)
        # the guard judged this very book state, so the rule trips; if it somehow does not, the
        # market stays continuous and the next taker is judged again
        self._apply(engine, market, breaker.observe(ts, probe), ts, out)

    # -- trades and time ----------------------------------------------------------------------

    def on_trade(self, engine: EngineContext, market: Market, trade: Trade, out: list) -> None:
        """Feed the price range with every trade; judge the market once per command (the hooks run
        after the command matched, so every trade of it sees the same book)."""
        sym = market.symbol
        monitor = self.monitors.get(sym)
        if monitor is None:
            monitor = self._ensure(market)[1]
        ts = trade.ts
        monitor.range.add(ts, trade.price)  # the V_P window hears every trade
        tid = engine.next_tid  # the same for every trade of one command
        if tid == self._judged_tid and sym == self._judged_symbol:
            return
        self._judged_tid = tid
        self._judged_symbol = sym
        bid, ask = market.book.touch()
        if bid is not None and ask is not None:
            monitor.twap.add(ts, (bid + ask) // 2)  # `monitor.on_mid`
        breaker = self.breakers[sym]
        if breaker.state == CONTINUOUS and breaker.params.enabled:
            self._evaluate(engine, market, breaker, monitor, ts, market.last_price, None, out, bid, ask)

    def on_tick(self, engine: EngineContext, ts: int, out: list) -> None:
        for market in engine.markets.values():
            breaker, monitor = self._ensure(market)
            view = BookView(market.book)
            state = breaker.state
            if state == CONTINUOUS and market.index_sources and market.index_price is None:
                # the market had an index and has none now (every source stale or weighted out)
                lost = breaker.lose_index(
                    ts, self._probe(engine, market, ts, self.local_price(market, state), view)
                )
                if lost is not None:
                    self._apply(engine, market, [lost], ts, out)
                    continue
            if state == CONTINUOUS:
                monitor.on_mid(ts, view.mid())
                if monitor.benchmark.due(ts):
                    probe = self._probe(engine, market, ts, self.local_price(market, state), view)
                    monitor.maybe_sample(ts, probe)
                    breaker.note(ts, Metrics(rl_ppm=probe.rl_ppm))
                if breaker.params.enabled:
                    local = self.local_price(market, state)
                    self._evaluate(engine, market, breaker, monitor, ts, local, view, out)
                continue
            probe = self._probe(engine, market, ts, self.local_price(market, state), view)
            self._apply(engine, market, breaker.observe(ts, probe), ts, out)
            if breaker.state in (COOLDOWN, AUCTION):
                self._publish(market, breaker.state, ts, out)

    def _evaluate(
        self,
        engine,
        market,
        breaker,
        monitor,
        ts: int,
        local: int | None,
        view: BookView | None,
        out: list,
        bid: int | None = None,
        ask: int | None = None,
    ) -> None:
        """The trip rule in continuous trading, judged at the last trade and at the touch.

        The touch is the price the next taker will print at: a best bid 3.5 % under the index in
        an empty book is as much a vacuum as a trade there, and judging it halts the market
        before that trade (a market order the guard left nothing to fill never reaches matching).
        ``bid``, ``ask``: the touch, when the caller has just read it.
        """
        if bid is None and ask is None:
            bid, ask = market.book.touch()
        window = monitor.range
        extremes = window.extremes(ts)  # the cold band, leaving the V_P window as it is
        if extremes is None:
            lo, hi = _band(market.index_price, breaker.params, None, None)
        else:
            lo, hi = _band(market.index_price, breaker.params, extremes[0], extremes[1])
        last_over = breaker.last_over
        cold = local is not None and lo <= local <= hi
        if cold and last_over:
            recent = ts - breaker.params.coincidence_ms
            cold = (
                last_over.get("cvd_ppm", recent - 1) < recent and last_over.get("vp_ppm", recent - 1) < recent
            )
        if cold:
            # the common case, decided without a probe: CVD and V_P are cold at `local` and were not
            # hot within the coincidence window, so neither trip pair can form (observe would read
            # V_P, trimming its window, and find nothing)
            window._expire(ts)
            for touch in (bid, ask):
                if touch is not None and touch != local and (touch < lo or touch > hi):
                    transitions = breaker.observe(ts, self._probe(engine, market, ts, touch, view))
                    if transitions:
                        self._apply(engine, market, transitions, ts, out)
                        return
            return
        transitions = breaker.observe(ts, self._probe(engine, market, ts, local, view))
        if not transitions:
            for touch in (bid, ask):
                if (
                    touch is not None
                    and touch != local
                    and self._cheap_hot(market, breaker, monitor, ts, touch)
                ):
                    transitions = breaker.observe(ts, self._probe(engine, market, ts, touch, view))
                    if transitions:
                        break
        self._apply(engine, market, transitions, ts, out)

    # -- transitions --------------------------------------------------------------------------

    def _apply(
        self, engine: EngineContext, market: Market, transitions: list[Transition], ts: int, out: list
    ) -> None:
        """Carry out transitions inside the current command (events carry the command's ``ts``;
        the breaker keeps the scheduled times for its phases)."""
        for tr in transitions:
            if tr.to_state == CONTINUOUS:
                self._run_auction(engine, market, ts, out)
            engine.set_trading_state(market, tr.to_state, ts, tr.reason, out)
            out.append(
                BreakerTransition(
                    ts, market.symbol, tr.from_state, tr.to_state, tr.reason, tr.metrics.as_dict()
                )
            )
            if tr.to_state == HALTED and tr.from_state == CONTINUOUS:
                self._freeze(engine, market)
            elif tr.to_state == CONTINUOUS:
                self._unfreeze(engine, market)
                self.published.pop(market.symbol, None)
            if tr.to_state in (COOLDOWN, AUCTION):
                self._publish(market, tr.to_state, ts, out)

    def _freeze(self, engine: EngineContext, market: Market) -> None:
        seams = self.collateral
        price = seams.freeze_collateral(market.symbol) if seams is not None else None
        if price is None:
            price = market.mark_price or market.index_price or market.last_price
        if price is not None:
            self.frozen[market.symbol] = price

    def _unfreeze(self, engine: EngineContext, market: Market) -> None:
        if self.collateral is not None:
            self.collateral.unfreeze_collateral(market.symbol)
        self.frozen.pop(market.symbol, None)

    def _publish(self, market: Market, state: str, ts: int, out: list) -> None:
        ind = _indicative(market, self._reference(market))
        key = (state, ind.price, ind.volume, ind.surplus)
        if self.published.get(market.symbol) == key:
            return
        self.published[market.symbol] = key
        view = BookView(market.book)
        bid_depth = sum(q for _, q in view.bid_levels())
        ask_depth = sum(q for _, q in view.ask_levels())
        out.append(
            IndicativePrice(
                ts, market.symbol, state, ind.price, ind.volume, ind.surplus, bid_depth, ask_depth
            )
        )

    def _run_auction(self, engine: EngineContext, market: Market, ts: int, out: list) -> None:
        """Uncross the collected book at one price (maximum volume, least surplus, pressure, reference).

        Two orders of one account never trade: when the allocation pairs such orders, self-trade
        prevention (``EngineContext.cross``, the newer order's mode) resolves those pairs first and the
        auction is computed again over what is left, so every trade prints at the final price.
        """
        book = market.book
        reference = self._reference(market)
        lot = market.lot
        while True:
            bids = list(book.iter_orders(True))
            asks = list(book.iter_orders(False))
            result = uncross(_columns(bids, lot), _columns(asks, lot), market.tick, reference)
            fills = [(bids[bi], asks[ai], q * lot) for bi, ai, q in result.trades]
            own = [(buy, sell, q) for buy, sell, q in fills if buy.acct is sell.acct]
            if not own:
                break
            for buy, sell, q in own:
                engine.cross(market, buy, sell, result.price, q, ts, out)
        for buy, sell, q in fills:
            engine.cross(market, buy, sell, result.price, q, ts, out)
        out.append(
            AuctionUncrossed(
                ts,
                market.symbol,
                result.price,
                result.volume * lot,
                result.surplus * lot,
                len(result.trades),
                reference,
            )
        )

    # -- commands -------------------------------------------------------------------------------

    def _market_or_reject(self, engine: EngineContext, cmd: Any):
        market = engine.markets.get(cmd.symbol)
        if market is None:
            return None, [engine.reject(cmd, R.UNKNOWN_MARKET, f"no market {cmd.symbol!r}", cmd.symbol)]
        return market, None

    def _on_halt(self, cmd: C.Halt) -> list:
        def halt(breaker: Breaker, probe) -> Transition:
            transition = breaker.halt(cmd.ts, probe)
            return _with_reason(transition, cmd.reason or transition.reason)

        return self._operator(cmd, halt)

    def _on_resume(self, cmd: C.Resume) -> list:
        return self._operator(cmd, lambda breaker, probe: breaker.resume(cmd.ts, probe))

    def _operator(self, cmd: Any, move) -> list:
        """Carry out an operator's ``halt``/``resume``: ``move(breaker, probe)`` returns the transition
        or raises ``BreakerError`` (already halted, not halted), which rejects the command."""
        engine = self.engine
        market, rejected = self._market_or_reject(engine, cmd)
        if rejected:
            return rejected
        breaker, _ = self._ensure(market)
        probe = self._probe(engine, market, cmd.ts, self.local_price(market, breaker.state))
        try:
            transition = move(breaker, probe)
        except BreakerError as err:
            return [engine.reject(cmd, err.code, err.message, cmd.symbol)]
        out: list = []
        self._apply(engine, market, [transition], cmd.ts, out)
        return out

    def _on_designate(self, cmd: DesignateDlp) -> list:
        """Designate (holding the bond in the account) or revoke (releasing it). A bond the account's
        free balance cannot hold refuses the designation and changes nothing."""
        engine = self.engine
        if not isinstance(cmd.account, str) or not cmd.account:
            return [engine.reject(cmd, R.BAD_ACCOUNT, "designate an account by name")]
        accounts = engine.accounts
        old = self.bonds.get(cmd.account)
        if not cmd.designated:
            self.dlps.discard(cmd.account)
            if old is not None:
                del self.bonds[cmd.account]
                accounts.release(accounts.open(cmd.account), old[0], old[1])
                return [DlpDesignated(cmd.ts, cmd.account, False), DlpBond(cmd.ts, cmd.account, old[0], 0)]
            return [DlpDesignated(cmd.ts, cmd.account, False)]
        if cmd.bond:
            asset, bond = cmd.bond_asset, cmd.bond
            if asset not in engine.assets:
                return [engine.reject(cmd, R.UNKNOWN_ASSET, f"no asset {asset!r}", asset)]
            if type(bond) is not int or bond <= 0:
                return [engine.reject(cmd, R.BAD_AMOUNT, "the bond must be a positive amount", asset)]
            acct = accounts.get(cmd.account)
            free = acct.free(asset) if acct is not None else 0
            if old is not None and old[0] == asset:
                free += old[1]  # a re-designation replaces the bond it holds
            if free < bond:
                return [
                    engine.reject(
                        cmd,
                        R.INSUFFICIENT_BALANCE,
                        f"the bond is {bond} {asset} atoms, {cmd.account} has {max(free, 0)} free to hold",
                        asset,
                    )
                ]
            if old is not None:
                accounts.release(acct, old[0], old[1])
            accounts.hold(acct, asset, bond)
            self.bonds[cmd.account] = (asset, bond)
        self.dlps.add(cmd.account)
        out: list = [DlpDesignated(cmd.ts, cmd.account, True)]
        if cmd.bond:
            out.append(DlpBond(cmd.ts, cmd.account, cmd.bond_asset, cmd.bond))
        return out

    def bond_of(self, account: str) -> tuple[str, int] | None:
        """The bond `account` holds while designated: (asset, atoms), or None."""
        return self.bonds.get(account)

    def _on_dlp_deposit(self, cmd: DlpDeposit) -> list:
        engine = self.engine
        if cmd.account not in self.dlps:
            return [
                engine.reject(
                    cmd, R.NOT_DESIGNATED, f"{cmd.account!r} is not a designated liquidity provider"
                )
            ]
        market, rejected = self._market_or_reject(engine, cmd)
        if rejected:
            return rejected
        if self.state_of(market.symbol) == CONTINUOUS:
            return [
                engine.reject(
                    cmd,
                    R.NOT_HALTED,
                    f"{market.symbol} is trading: the priority channel opens on a halt",
                    cmd.symbol,
                )
            ]
        out = engine.credit_deposit(cmd, cmd.ref or f"dlp:{market.symbol}")
        if cmd.ref and out and out[0].EVENT == "deposited":
            self.priority[cmd.ref] = (cmd.account, cmd.asset, cmd.amount)
        return out

    def _on_dlp_reverse(self, cmd: DlpReverse) -> list:
        """Debit back a priority credit whose deposit left the chain; its ref may be credited again."""
        engine = self.engine
        credited = self.priority.get(cmd.ref)
        if credited is None:
            return [engine.reject(cmd, R.UNKNOWN_DEPOSIT, f"no priority credit {cmd.ref!r}", cmd.ref)]
        if credited != (cmd.account, cmd.asset, cmd.amount):
            return [
                engine.reject(
                    cmd,
                    R.BAD_AMOUNT,
                    f"{cmd.ref} credited {credited[2]} {credited[1]} to {credited[0]}",
                    cmd.ref,
                )  # fmt: skip
            ]
        del self.priority[cmd.ref]
        engine.deposit_refs.discard(cmd.ref)
        accounts = engine.accounts
        acct = accounts.open(cmd.account)
        asset, amount = cmd.asset, cmd.amount
        # the held bond first, then the free balance, never below zero; the rest stays owed
        bond = self.bonds.get(cmd.account)
        from_bond = 0
        if bond is not None and bond[0] == asset:
            from_bond = min(amount, bond[1], max(acct.balance.get(asset, 0), 0))
            if from_bond:
                accounts.release(acct, asset, from_bond)
                self.bonds[cmd.account] = (asset, bond[1] - from_bond)
        rest = amount - from_bond
        from_free = min(rest, max(acct.balance.get(asset, 0) - from_bond - acct.held.get(asset, 0), 0))
        taken = from_bond + from_free
        if taken:
            accounts.debit(acct, asset, taken)
        shortfall = amount - taken
        if shortfall:
            owed = self.shortfall.setdefault(cmd.account, {})
            owed[asset] = owed.get(asset, 0) + shortfall
        return [DlpReversed(cmd.ts, cmd.account, asset, amount, cmd.ref, from_bond, shortfall)]

    def _on_authorise(self, cmd: Authorise) -> list:
        engine = self.engine
        if not isinstance(cmd.account, str) or not cmd.account:
            return [engine.reject(cmd, R.BAD_ACCOUNT, "authorise an account by name")]
        if cmd.authorised:
            self.authorised.add(cmd.account)
        else:
            self.authorised.discard(cmd.account)
        return [ParticipantAuthorised(cmd.ts, cmd.account, cmd.authorised)]

    # -- who may add orders during a halt (seed 004 §4.2) -----------------------------------------

    def check_order(self, engine: EngineContext, market: Market, acct: Account, order: OpenOrder):
        """While a market is halted only designated liquidity providers and authorised participants
        add (or reprice, or enlarge) orders; everyone else waits for the cool-down."""
        breaker = self.breakers.get(market.symbol)
        if breaker is None or breaker.state != HALTED:
            return None
        name = acct.name
        if name in self.dlps or name in self.authorised:
            return None
        return (
            R.HALTED_DLP_ONLY,
            f"{market.symbol} is halted: only designated liquidity providers and authorised "
            "participants add orders until the cool-down",
        )

    def _on_set(self, cmd: SetBreaker) -> list:
        engine = self.engine
        market, rejected = self._market_or_reject(engine, cmd)
        if rejected:
            return rejected
        breaker, monitor = self._ensure(market)
        try:
            params = breaker.params.updated(**cmd.changes)
        except (BreakerError, TypeError) as err:
            code = getattr(err, "code", "bad_param")
            return [engine.reject(cmd, code, str(getattr(err, "message", err)), cmd.symbol)]
        breaker.params = params
        monitor.reconfigure(params)
        return [BreakerParamsSet(cmd.ts, market.symbol, dict(sorted(cmd.changes.items())))]

    # -- state ----------------------------------------------------------------------------------

    def to_state(self) -> dict:
        return {
            "default": _params_state(self.default_params),
            "markets": {
                sym: entry
                for sym in sorted(self.breakers)
                if (
                    entry := {
                        "breaker": self.breakers[sym].to_state(),
                        "monitor": self.monitors[sym].to_state(),
                    }
                )
                != self._pristine(sym)
            },
            "dlps": sorted(self.dlps),
            "frozen": dict(sorted(self.frozen.items())),
            "published": {sym: list(v) for sym, v in sorted(self.published.items())},
            # only when used, so that a journal without them keeps its state hash
            **({"authorised": sorted(self.authorised)} if self.authorised else {}),
            **({"priority": {r: list(v) for r, v in sorted(self.priority.items())}} if self.priority else {}),
            **({"bonds": {a: list(v) for a, v in sorted(self.bonds.items())}} if self.bonds else {}),
            **(
                {"dlp_shortfall": {a: dict(sorted(v.items())) for a, v in sorted(self.shortfall.items())}}
                if self.shortfall
                else {}
            ),
        }

    def _pristine(self, symbol: str) -> dict:
        """A market's entry before anything happened to it: left out of the state, so that merely
        looking at a market (even for a rejected command) does not change the state hash."""
        monitor = self.monitors[symbol]
        fresh = MarketMonitor(self.default_params, monitor.base_unit, monitor.quote_unit)
        return {"breaker": Breaker(self.default_params).to_state(), "monitor": fresh.to_state()}

    def load_state(self, state: Any) -> None:
        if not state:
            return
        self.default_params = BreakerParams(**state["default"])
        engine = self.engine
        for sym, entry in state["markets"].items():
            breaker = Breaker.from_state(entry["breaker"])
            self.breakers[sym] = breaker
            market = engine.markets[sym] if engine is not None and sym in engine.markets else None
            unit = market.unit if market else 1
            quote_unit = market.quote_unit if market else 1
            self.monitors[sym] = MarketMonitor.from_state(breaker.params, unit, quote_unit, entry["monitor"])
        self.dlps = set(state["dlps"])
        self.frozen = dict(state["frozen"])
        self.published = {sym: tuple(v) for sym, v in state["published"].items()}
        self.authorised = set(state.get("authorised", ()))
        self.priority = {r: tuple(v) for r, v in state.get("priority", {}).items()}
        self.bonds = {a: tuple(v) for a, v in state.get("bonds", {}).items()}
        self.shortfall = {a: dict(v) for a, v in state.get("dlp_shortfall", {}).items()}


# -- helpers --------------------------------------------------------------------------------------


def _band(index: int | None, params: BreakerParams, high: int | None, low: int | None) -> tuple[int, float]:
    """The cold band ``[lo, hi]`` around an index (None: no CVD bound) and the V_P window's highest
    and lowest price (None: an empty window)."""
    # judged before every taker and after every trading command: plain comparisons, no `max`
    if index:
        width = index * params.cvd_trip_ppm
        lo = -(-(index * PPM - width) // PPM)  # lo <= price <= hi  =>  CVD <= trip
        hi = (index * PPM + width) // PPM
    else:
        lo, hi = 0, _INF
    if high is not None:
        vp = params.vp_trip_ppm
        edge = -(-(high * (PPM - vp)) // PPM)
        if edge > lo:
            lo = edge
        edge = low * (PPM + vp) // PPM
        if edge < hi:
            hi = edge
    return lo, hi


_INF = float("inf")


def _columns(orders: list, lot: int) -> OrderColumns:
    return OrderColumns([o.price for o in orders], [o.qty // lot for o in orders], [o.oid for o in orders])


def _indicative(market: Market, reference: int | None):
    book = market.book
    lot = market.lot
    bids = list(book.iter_orders(True))
    asks = list(book.iter_orders(False))
    ind = indicative(_columns(bids, lot), _columns(asks, lot), market.tick, reference)
    return type(ind)(ind.price, ind.volume * lot, ind.surplus * lot)


def _would_trip(breaker: Breaker, ts: int, probe) -> bool:
    """Ask the trip rule without letting a hypothetical level leave marks in the coincidence window."""
    saved = dict(breaker.last_over)
    tripped = breaker.would_trip(ts, probe)
    breaker.last_over = saved
    return tripped


def _with_reason(tr: Transition, reason: str) -> Transition:
    return Transition(tr.ts, tr.from_state, tr.to_state, reason, tr.metrics)


def _params_state(params: BreakerParams) -> dict:
    return {f.name: getattr(params, f.name) for f in fields(params)}
