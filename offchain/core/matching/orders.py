"""The order flow: place (limit, market, IOC, FOK, post-only), amend, cancel, take, fill, STP, and the
seams risk and the breaker use (`submit_ioc`, `cancel_orders`, `cross`, `uncross`).

`OrderFlow` is one part of `Engine` (engine.py composes it): its methods read and change the
engine's state (`markets`, `accounts`, `risk`, the id counters) and call the modules' hooks the engine
bound. The book (`book.py`) moves orders; this file moves money around the moves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from offchain.core.codes import RejectCode as R
from offchain.core.matching.book import REDUCE_ONLY_CANCEL
from offchain.core.matching.validation import check_price, check_size
from offchain.core.messages import commands as C
from offchain.core.messages.events import Accepted, Amended, Cancelled, Rejected, Trade
from offchain.core.model.accounts import Account
from offchain.core.model.fees import to_volume
from offchain.core.model.orders import OpenOrder
from offchain.core.model.states import (
    BUY,
    CANCEL_MAKER,
    CANCEL_TAKER,
    CONTINUOUS,
    DECREMENT,
    FOK,
    GTC,
    IOC,
    LIMIT,
    MARKET,
    PERP,
    SELL,
    STP_MODES,
    TIFS,
)
from offchain.core.units import PPM, impact_limit

if TYPE_CHECKING:
    from offchain.core.matching.book import Book
    from offchain.core.model.markets import Market


class OrderFlow:
    """The order handlers and the matching seams of `Engine` (see the module docstring)."""

    # -- orders ------------------------------------------------------------------------------------
    def _on_order(self, cmd: C.PlaceOrder) -> list:
        market = self.markets.get(cmd.symbol)
        if market is None:
            return [self.reject(cmd, R.UNKNOWN_MARKET, f"no market {cmd.symbol!r}", cmd.symbol)]
        acct = self.accounts.by_name.get(cmd.account)
        if acct is None:
            return [self.reject(cmd, R.UNKNOWN_ACCOUNT, f"no account {cmd.account!r}", cmd.client_id)]
        ref = cmd.client_id
        side = cmd.side
        if side == BUY:
            is_buy = True
        elif side == SELL:
            is_buy = False
        else:
            return [self.reject(cmd, R.BAD_SIDE, "side must be buy or sell", ref)]
        typ = cmd.type
        tif = cmd.tif
        if typ != LIMIT and typ != MARKET:
            return [self.reject(cmd, R.BAD_TYPE, "type must be limit or market", ref)]
        if tif not in TIFS:
            return [self.reject(cmd, R.BAD_TIF, "time in force must be GTC, IOC or FOK", ref)]
        if cmd.stp not in STP_MODES:
            return [self.reject(cmd, R.BAD_STP, f"self-trade prevention must be one of {STP_MODES}", ref)]
        qty = cmd.qty
        if type(qty) is not int or qty <= 0 or qty % market.lot or qty < market.min_qty:
            veto = check_size(market, qty)  # the tests above are `check_size`'s (tests/core/test_units.py)
            return [self.reject(cmd, veto[0], veto[1], ref)]
        price = cmd.price
        book = market.book
        continuous = market.state == CONTINUOUS
        if typ == LIMIT:
            veto = check_price(market, price)
            if veto is not None:
                return [self.reject(cmd, veto[0], veto[1], ref)]
            if cmd.post_only:
                if tif != GTC:
                    return [self.reject(cmd, R.BAD_TIF, "a post-only order is GTC", ref)]
                if continuous and book.crosses(is_buy, price):
                    return [self.reject(cmd, R.POST_ONLY_WOULD_CROSS, "a post-only order would take", ref)]
        else:
            if price is not None:
                return [self.reject(cmd, R.BAD_PRICE, "a market order takes no price", ref)]
            if tif == GTC:
                return [self.reject(cmd, R.BAD_TIF, "a market order is IOC or FOK", ref)]
            if cmd.post_only:
                return [self.reject(cmd, R.BAD_TYPE, "a post-only order is a limit order", ref)]
        client_id = cmd.client_id
        if client_id is not None and client_id in acct.client_ids:
            return [
                self.reject(cmd, R.DUPLICATE_CLIENT_ID, f"an open order already has id {client_id!r}", ref)
            ]
        if not continuous and (typ == MARKET or tif != GTC):
            return [
                self.reject(cmd, R.NOT_CONTINUOUS, f"{market.symbol} is {market.state}: only GTC limits", ref)
            ]
        # what the order will hold: its size at its limit, or for a market order, what it can take
        hold_qty = qty
        if typ == MARKET:
            ref_price = market.reference_price()
            if ref_price is None:
                ref_price = book.best_ask() if is_buy else book.best_bid()
                if ref_price is None:
                    return [self.reject(cmd, R.NO_LIQUIDITY, "the book is empty on the other side", ref)]
            price = impact_limit(ref_price, market.impact_bps, is_buy)
        if typ == MARKET or tif == FOK:
            limit = price
            if self._limit_hooks:  # preview the walk the taker will be allowed (a module may cap it)
                probe = OpenOrder(0, acct, market.symbol, is_buy, typ, price, qty, tif, False, False,
                                  cmd.stp, None, False, cmd.ts, 0, 0)  # fmt: skip
                limit = self._match_limit(market, probe)
            can, worst = book.fillable(is_buy, limit, qty, acct.name, cmd.stp)
            if tif == FOK and can < qty:
                return [self.reject(cmd, R.FOK_UNFILLABLE, f"only {can} of {qty} can fill now", ref)]
            if typ == MARKET:
                if can == 0:
                    return [self.reject(cmd, R.NO_LIQUIDITY, "nothing to take within the impact band", ref)]
                price, hold_qty = worst, can
        maker_ppm, taker_ppm = self.fee_schedule.rates(acct.volume.volume(cmd.ts), cmd.api)
        order = OpenOrder(
            0,
            acct,
            market.symbol,
            is_buy,
            typ,
            price,
            qty,
            tif,
            cmd.post_only,
            cmd.reduce_only,
            cmd.stp,
            client_id,
            cmd.api,
            cmd.ts,
            maker_ppm,
            taker_ppm,
        )
        asset, amount = self.risk.hold(market, order, price, hold_qty)
        veto = self.risk.check_order(self, market, acct, order, price, qty, asset, amount)
        if veto is None and self._veto is not None:
            veto = self._veto(self, market, acct, order)
        if veto is not None:
            return [self.reject(cmd, veto[0], veto[1], ref)]
        # -- accepted: from here on, state changes --
        oid = self.next_oid
        self.next_oid = oid + 1
        order.oid = oid
        out: list = [
            Accepted(cmd.ts, oid, acct.name, market.symbol, side, typ, cmd.price, qty, tif, client_id)
        ]
        order.hold_asset = asset
        order.hold = amount
        self.accounts.hold(acct, asset, amount)
        if continuous and book.crosses(is_buy, price):
            self._take(market, order, out, False)
        elif tif == GTC:  # `_rest` inlined: most new orders rest
            book.add(order)
            acct.orders[oid] = order
            if client_id is not None:
                acct.client_ids[client_id] = oid
        else:
            self._close(market, order, cmd.ts, out, "ioc")
        return out

    def _rest(self, order: OpenOrder, book: Book | None = None) -> None:
        """Put an order on its market's book (`book`, when the caller has it) and register it with its
        account."""
        if book is None:
            book = self.markets[order.symbol].book
        book.add(order)
        acct = order.acct
        acct.orders[order.oid] = order
        if order.client_id is not None:
            acct.client_ids[order.client_id] = order.oid

    def _finish(self, order: OpenOrder) -> None:
        """Forget an order that has left the book (filled or cancelled) and release what it still holds."""
        acct = order.acct
        if acct.orders.pop(order.oid, None) is not None and order.client_id is not None:
            del acct.client_ids[order.client_id]
        if order.hold:
            self.accounts.release(acct, order.hold_asset, order.hold)
            order.hold = 0

    def _close(self, market: Market, order: OpenOrder, ts: int, out: list, reason: str) -> None:
        """Cancel the open remainder of an order that is not on the book, and finish it."""
        if order.qty:
            out.append(
                Cancelled(ts, order.oid, order.owner, market.symbol, order.client_id, order.qty, 0, reason)
            )
            order.qty = 0
        self._finish(order)

    def _trim_hold(self, market: Market, order: OpenOrder) -> None:
        """Release what an order holds beyond what its open quantity at its price needs."""
        _, need = self.risk.hold(market, order, order.price, order.qty)
        excess = order.hold - need
        if excess > 0:
            self.accounts.release(order.acct, order.hold_asset, excess)
            order.hold = need

    def _take(self, market: Market, order: OpenOrder, out: list, registered: bool) -> None:
        """Match `order` as the taker (it is not on the book), then rest, or cancel, what is left."""
        book = market.book
        steps = self._steps
        before = order.qty
        limit = self._match_limit(market, order) if self._limit_hooks else order.price
        room = None
        if market.kind == PERP and hasattr(self.risk, "position"):
            room = _reduce_room(self.risk, market.symbol, makers_sell=order.is_buy)
        rem = book.match(order.is_buy, limit, before, order.owner, order.stp, steps, room)
        taker_cancelled = book.taker_cancelled
        ts = out[0].ts
        filled = 0
        for mk, price, q in steps:
            if price is None:
                self._maker_stp(market, mk, q, ts, out)
            elif price == REDUCE_ONLY_CANCEL:
                out.append(Cancelled(ts, mk.oid, mk.owner, market.symbol, mk.client_id, q, 0, "reduce_only"))
                self._finish(mk)
            else:
                filled += q
                self._fill(market, mk, order, price, q, ts, out)
        steps.clear()
        order.qty = rem
        decremented = before - filled - rem
        symbol = market.symbol
        if decremented:
            out.append(
                Cancelled(ts, order.oid, order.owner, symbol, order.client_id, decremented, rem, "stp")
            )
        if rem and limit != order.price and not taker_cancelled and book.crosses(order.is_buy, order.price):
            for hook in self._stopped_hooks:  # a module's limit stopped the walk (the breaker halts here)
                hook(self, market, order, out)
        if rem and not taker_cancelled and order.tif == GTC and order.type == LIMIT:
            self._trim_hold(market, order)
            if not registered:
                self._rest(order, book)
            else:
                book.add(order)
            return
        if rem:
            if taker_cancelled:
                reason = "stp"
            elif market.state != CONTINUOUS:
                reason = "halt"
            else:
                reason = "market" if order.type == MARKET else "ioc"
            out.append(Cancelled(ts, order.oid, order.owner, symbol, order.client_id, rem, 0, reason))
            order.qty = 0
        self._finish(order)

    def _match_limit(self, market: Market, order: OpenOrder) -> int:
        """Return the taker's limit tightened by any module's `match_limit`."""
        limit = order.price
        for hook in self._limit_hooks:
            cap = hook(self, market, order)
            if cap is not None and ((cap < limit) if order.is_buy else (cap > limit)):
                limit = cap
        return limit

    def _fill(
        self, market: Market, maker: OpenOrder, taker: OpenOrder, price: int, qty: int, ts: int, out: list
    ) -> None:
        """Settle one execution at the maker's price and report it."""
        notional = price * qty // market.unit
        acc = taker.fee_acc + notional * taker.taker_ppm
        paid = -((-acc) // PPM)  # units.ceil_div inlined (every fill)
        taker_fee = paid - taker.fee_paid
        taker.fee_acc = acc
        taker.fee_paid = paid
        acc = maker.fee_acc + notional * maker.maker_ppm
        paid = -((-acc) // PPM)  # units.ceil_div inlined (every fill)
        maker_fee = paid - maker.fee_paid
        maker.fee_acc = acc
        maker.fee_paid = paid
        if taker.is_buy:
            self.risk.settle(self, market, taker, maker, qty, notional, taker_fee, maker_fee)
        else:
            self.risk.settle(self, market, maker, taker, qty, notional, maker_fee, taker_fee)
        taker.filled += qty
        maker.filled += qty
        tid = self.next_tid
        self.next_tid = tid + 1
        trade = Trade(
            ts,
            tid,
            market.symbol,
            price,
            qty,
            BUY if taker.is_buy else SELL,
            maker.owner,
            taker.owner,
            maker.oid,
            taker.oid,
            maker_fee,
            taker_fee,
        )
        out.append(trade)
        self._trades.append((market, trade))
        market.last_price = price
        volume = to_volume(notional, market.quote_unit)
        if volume:
            maker.acct.volume.add(ts, volume)
            taker.acct.volume.add(ts, volume)
        if maker.qty == 0:
            self._finish(maker)

    def _maker_stp(self, market: Market, maker: OpenOrder, qty: int, ts: int, out: list) -> None:
        """Report a resting order that self-trade prevention cancelled (or decremented by `qty`)."""
        out.append(
            Cancelled(ts, maker.oid, maker.owner, market.symbol, maker.client_id, qty, maker.qty, "stp")
        )
        if maker.qty == 0:
            self._finish(maker)
        else:
            self._trim_hold(market, maker)

    def _find(self, cmd: Any) -> tuple[Account | None, OpenOrder | None, Rejected | None]:
        acct = self.accounts.by_name.get(cmd.account)
        if acct is None:
            return None, None, self.reject(cmd, R.UNKNOWN_ACCOUNT, f"no account {cmd.account!r}")
        client_id = cmd.client_id
        oid = acct.client_ids.get(client_id) if client_id is not None else cmd.oid
        order = acct.orders.get(oid) if oid is not None else None
        if order is None:
            ref = client_id if client_id is not None else str(cmd.oid)
            return acct, None, self.reject(cmd, R.UNKNOWN_ORDER, f"no open order {ref!r}", ref)
        return acct, order, None

    def _on_cancel(self, cmd: C.Cancel) -> list:
        acct, order, rejected = self._find(cmd)
        if rejected is not None:
            return [rejected]
        market = self.markets[order.symbol]
        market.book.remove(order)
        out: list = []
        q = order.qty
        order.qty = 0
        out.append(Cancelled(cmd.ts, order.oid, order.owner, market.symbol, order.client_id, q, 0, "user"))
        self._finish(order)
        return out

    def _on_cancel_all(self, cmd: C.CancelAll) -> list:
        acct = self.accounts.by_name.get(cmd.account)
        if acct is None:
            return [self.reject(cmd, R.UNKNOWN_ACCOUNT, f"no account {cmd.account!r}")]
        if cmd.symbol is not None and cmd.symbol not in self.markets:
            return [self.reject(cmd, R.UNKNOWN_MARKET, f"no market {cmd.symbol!r}", cmd.symbol)]
        return self.cancel_orders(acct, cmd.symbol, cmd.ts, "cancel_all")

    def submit_ioc(
        self, market: Market, acct: Account, is_buy: bool, qty: int, price: int, ts: int, out: list
    ) -> OpenOrder:
        """Match an engine-originated IOC limit order (a liquidation) and return it (see `filled`).

        The risk seam: it takes no hold and skips the pre-trade check and the modules' vetoes (the
        caller has decided), pays taker fees like any order, and its trades reach `on_trade` after the
        current command's handler. The caller checks that the market trades continuously.
        """
        maker_ppm, taker_ppm = self.fee_schedule.rates(acct.volume.volume(ts), False)
        oid = self.next_oid
        self.next_oid = oid + 1
        order = OpenOrder(
            oid, acct, market.symbol, is_buy, LIMIT, price, qty, IOC, False, False,
            "cancel_taker", None, False, ts, maker_ppm, taker_ppm,
        )  # fmt: skip
        order.hold_asset = market.quote if is_buy else market.base
        side = BUY if is_buy else SELL
        out.append(Accepted(ts, oid, acct.name, market.symbol, side, LIMIT, price, qty, IOC, None))
        if market.state == CONTINUOUS and market.book.crosses(is_buy, price):
            self._take(market, order, out, False)
        else:
            self._close(market, order, ts, out, "ioc")
        return order

    def cancel_orders(self, acct: Account, symbol: str | None, ts: int, reason: str) -> list:
        """Cancel an account's open orders (one market or all) in order-id order; return the events.

        A seam for risk (liquidation cancels the account's orders) and the breaker.
        """
        out: list = []
        for oid in sorted(acct.orders):
            order = acct.orders[oid]
            if symbol is not None and order.symbol != symbol:
                continue
            market = self.markets[order.symbol]
            market.book.remove(order)
            q = order.qty
            order.qty = 0
            out.append(Cancelled(ts, oid, order.owner, order.symbol, order.client_id, q, 0, reason))
            self._finish(order)
        return out

    def _on_amend(self, cmd: C.Amend) -> list:
        acct, order, rejected = self._find(cmd)
        if rejected is not None:
            return [rejected]
        market = self.markets[order.symbol]
        price = order.price if cmd.price is None else cmd.price
        qty = order.qty if cmd.qty is None else cmd.qty
        veto = None if cmd.qty is None else check_size(market, qty)
        if veto is None and price != order.price:
            veto = check_price(market, price)
        if veto is not None:
            return [self.reject(cmd, veto[0], veto[1], order.client_id or str(order.oid))]
        book = market.book
        continuous = market.state == CONTINUOUS
        if order.post_only and continuous and price != order.price and book.crosses(order.is_buy, price):
            ref = order.client_id or str(order.oid)
            return [self.reject(cmd, R.POST_ONLY_WOULD_CROSS, "a post-only order would take", ref)]
        if price == order.price and qty <= order.qty:
            # a size decrease (or nothing) keeps time priority
            if qty < order.qty:
                order.qty = qty
                self._trim_hold(market, order)
            return [Amended(cmd.ts, order.oid, order.owner, market.symbol, order.client_id, price, qty, True)]
        asset, need = self.risk.hold(market, order, price, qty)
        extra = need - order.hold
        veto = self.risk.check_order(self, market, acct, order, price, qty, asset, extra)
        if veto is None and self._veto is not None:
            veto = self._veto(self, market, acct, order)
        if veto is not None:
            return [self.reject(cmd, veto[0], veto[1], order.client_id or str(order.oid))]
        # a price change or a size increase goes to the back of the queue (and may take liquidity)
        book.remove(order)
        order.price = price
        order.qty = qty
        if extra > 0:
            self.accounts.hold(acct, asset, extra)
        else:
            self.accounts.release(acct, asset, -extra)
        order.hold = need
        out: list = [
            Amended(cmd.ts, order.oid, order.owner, market.symbol, order.client_id, price, qty, False)
        ]
        if continuous and book.crosses(order.is_buy, price):
            self._take(market, order, out, True)
        else:
            book.add(order)
        return out

    def uncross(self, market: Market, out: list) -> None:
        """Match a crossed book in continuous trading: the later of the two front orders takes."""
        book = market.book
        while book.is_crossed():
            bid = book.level(True, book.best_bid())[0]
            ask = book.level(False, book.best_ask())[0]
            taker = bid if bid.oid > ask.oid else ask
            book.remove(taker)
            self._take(market, taker, out, True)

    def cross(
        self, market: Market, buy: OpenOrder, sell: OpenOrder, price: int, qty: int, ts: int, out: list
    ) -> int:
        """Execute `qty` between two orders resting on the book at `price` (the call auction's seam).

        The older order (lower oid) is the maker for fees. Both orders shrink in place, leave the book
        when filled, and release what they held beyond their open size at their limit (a fill better
        than the limit); the trade settles, is reported and reaches the `on_trade` hooks like any other.
        Returns the quantity traded.

        Two orders of one account never trade: the newer one's `stp` applies as if it had arrived as
        the taker (`cancel_maker` cancels the older, `cancel_taker` the newer, `cancel_both` both,
        `decrement` shrinks both by `qty`), with `cancelled` events of reason `stp`, and nothing
        trades (returns 0). An order that is no longer open (such a cancel took it) is skipped.
        """
        if not buy.qty or not sell.qty:
            return 0
        maker, taker = (buy, sell) if buy.oid < sell.oid else (sell, buy)
        if buy.acct is sell.acct:
            mode = taker.stp
            if mode == DECREMENT:
                self._stp_resting(market, maker, qty, ts, out)
                self._stp_resting(market, taker, qty, ts, out)
            else:
                if mode != CANCEL_TAKER:
                    self._stp_resting(market, maker, maker.qty, ts, out)
                if mode != CANCEL_MAKER:
                    self._stp_resting(market, taker, taker.qty, ts, out)
            return 0
        book = market.book
        for order in (maker, taker):
            if order.qty == qty:
                book.remove(order)
            order.qty -= qty
        self._fill(market, maker, taker, price, qty, ts, out)
        if taker.qty == 0:
            self._finish(taker)
        else:
            self._trim_hold(market, taker)
        if maker.qty:
            self._trim_hold(market, maker)
        return qty

    def _stp_resting(self, market: Market, order: OpenOrder, qty: int, ts: int, out: list) -> None:
        """Cancel `qty` of a resting order for self-trade prevention (all of it: it leaves the book)."""
        if qty >= order.qty:
            qty = order.qty
            market.book.remove(order)
        order.qty -= qty
        self._maker_stp(market, order, qty, ts, out)


def _reduce_room(risk: Any, symbol: str, makers_sell: bool):
    """How much a resting reduce-only order of an owner may fill: its long (sell makers) or short (buy
    makers) position as the walk starts (`Book.match` subtracts the owner's fills as they happen)."""

    def room(owner: str) -> int:
        qty = risk.position(owner, symbol).qty
        return (qty if qty > 0 else 0) if makers_sell else (-qty if qty < 0 else 0)

    return room
