"""The spot risk policy: orders hold what they can spend, checked against free balance.

A buy holds quote (its notional at its limit price plus the most fees it can be charged, see
`fees.buy_hold`); a sell holds the base it offers. Fees come out of the quote leg. The risk engine
replaces this policy (cross margin lets balances go negative and adds perpetuals); the engine calls
it only through these four methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from offchain.core.codes import RejectCode as R
from offchain.core.model.fees import buy_hold
from offchain.core.model.states import SPOT
from offchain.core.ports import Veto

if TYPE_CHECKING:
    from offchain.core.model.accounts import Account
    from offchain.core.model.markets import Market
    from offchain.core.model.orders import OpenOrder
    from offchain.core.ports import EngineContext


def free_balance_veto(acct: Account, asset: str, extra: int) -> Veto:
    """Refuse an order unless `extra` more atoms of `asset` are free (the balance not held).

    `CrossMarginPolicy.check_order` inlines the test and calls this to word the refusal; the two are
    proved equal by tests/core/test_units.py.
    """
    free = acct.balance.get(asset, 0) - acct.held.get(asset, 0)  # `acct.free(asset)`: every order asks
    if free < extra:
        return R.INSUFFICIENT_BALANCE, f"needs {extra} {asset} atoms free, has {free}"
    return None


class SpotRisk:
    """Free-balance pre-trade check and atomic spot settlement."""

    name = "spot"

    def hold(self, market: Market, order: OpenOrder, price: int, qty: int) -> tuple[str, int]:
        """Return `(asset, amount)` the order must hold to trade `qty` more at up to `price`.

        `CrossMarginPolicy.hold` inlines this for accounts without margin (tests/core/test_units.py).
        """
        if order.is_buy:
            return market.quote, buy_hold(
                price, qty, market.unit, order.fee_acc, order.fee_paid, order.max_ppm
            )
        return market.base, qty

    def check_order(
        self,
        engine: EngineContext,
        market: Market,
        acct: Account,
        order: OpenOrder,
        price: int,
        qty: int,
        asset: str,
        extra: int,
    ) -> Veto:
        """Let the order (or its amendment to `price`/`qty`) through if `extra` more can be held."""
        if market.kind != SPOT:
            return (
                R.UNSUPPORTED_MARKET_KIND,
                f"{market.symbol} is a {market.kind} market; perps are not enabled",
            )
        if order.reduce_only:
            return R.REDUCE_ONLY_SPOT, "reduce-only applies to perpetual positions, not spot"
        return free_balance_veto(acct, asset, extra) if extra > 0 else None

    def check_withdraw(self, engine: EngineContext, acct: Account, asset: str, amount: int) -> Veto:
        """Let a withdrawal through if the free balance covers it."""
        free = acct.free(asset)
        if free < amount:
            return R.INSUFFICIENT_BALANCE, f"withdrawing {amount} {asset} atoms, {free} free"
        return None

    def settle(
        self,
        engine: EngineContext,
        market: Market,
        buy: OpenOrder,
        sell: OpenOrder,
        qty: int,
        notional: int,
        buy_fee: int,
        sell_fee: int,
    ) -> None:
        """Settle one spot trade for both sides out of their holds."""
        cost = notional + buy_fee
        engine.accounts.settle_spot(
            buy.acct, sell.acct, market.base, market.quote, qty, notional, buy_fee, sell_fee, cost, qty
        )
        buy.hold -= cost
        sell.hold -= qty

    def to_state(self) -> None:
        return None

    def load_state(self, state: None) -> None:
        pass
