"""Unified accounts: one per user, a balance in every asset, holds for open orders.

`balance` is what the account owns; `held` is the part of it reserved for open orders; `free` is the
difference. Spot trades settle both sides at once in `settle_spot`. Every change marks the
`(account, asset)` pair as touched so that the engine emits one balance event per pair per command.
The risk engine (cross margin, lending) lets balances go negative; the spot rules here never do.
"""

from __future__ import annotations

from offchain.core.model.fees import VolumeWindow


class Account:
    """One user's account."""

    __slots__ = ("name", "balance", "held", "orders", "client_ids", "volume")

    def __init__(self, name: str) -> None:
        self.name = name
        self.balance: dict[str, int] = {}
        self.held: dict[str, int] = {}
        self.orders: dict[int, object] = {}  # oid -> open order, every market
        self.client_ids: dict[str, int] = {}  # client order id -> oid, open orders only
        self.volume = VolumeWindow()

    def free(self, asset: str) -> int:
        """Return the balance not held for open orders."""
        return self.balance.get(asset, 0) - self.held.get(asset, 0)


class Accounts:
    """Every account, plus the fees the exchange has collected per asset."""

    __slots__ = ("by_name", "fees", "touched")

    def __init__(self) -> None:
        self.by_name: dict[str, Account] = {}
        self.fees: dict[str, int] = {}  # asset -> fees collected net of rebates paid
        self.touched: dict[tuple[Account, str], None] = {}  # (account, asset) changed by this command

    def get(self, name: str) -> Account | None:
        return self.by_name.get(name)

    def open(self, name: str) -> Account:
        """Return the account, creating it on first use (a deposit opens an account)."""
        acct = self.by_name.get(name)
        if acct is None:
            acct = self.by_name[name] = Account(name)
        return acct

    def credit(self, acct: Account, asset: str, amount: int) -> None:
        bal = acct.balance
        bal[asset] = bal.get(asset, 0) + amount
        self.touched[(acct, asset)] = None

    def debit(self, acct: Account, asset: str, amount: int) -> None:
        bal = acct.balance
        bal[asset] = bal.get(asset, 0) - amount
        self.touched[(acct, asset)] = None

    def hold(self, acct: Account, asset: str, amount: int) -> None:
        held = acct.held
        held[asset] = held.get(asset, 0) + amount
        self.touched[(acct, asset)] = None

    def release(self, acct: Account, asset: str, amount: int) -> None:
        if amount:
            held = acct.held
            held[asset] -= amount
            self.touched[(acct, asset)] = None

    def settle_spot(
        self,
        buyer: Account,
        seller: Account,
        base: str,
        quote: str,
        qty: int,
        notional: int,
        buyer_fee: int,
        seller_fee: int,
        buyer_release: int,
        seller_release: int,
    ) -> None:
        """Move `qty` base from seller to buyer and `notional` quote back, releasing what their orders held.

        The buyer pays `notional + buyer_fee` quote, the seller receives `notional - seller_fee`; fees
        (negative: rebates) go to the exchange's fee balance. `buyer_release` quote and
        `seller_release` base leave the holds (what each order held for this fill: 0 for an order that
        holds nothing, like a margin or liquidation order). Both legs happen here or neither does; the
        pairs are reported base legs first (buyer, seller), then quote legs.
        """
        bb, sb = buyer.balance, seller.balance
        bb[base] = bb.get(base, 0) + qty
        sb[base] = sb.get(base, 0) - qty
        bb[quote] = bb.get(quote, 0) - notional - buyer_fee
        sb[quote] = sb.get(quote, 0) + notional - seller_fee
        if buyer_release:
            buyer.held[quote] -= buyer_release
        if seller_release:
            seller.held[base] -= seller_release
        fees = self.fees
        fees[quote] = fees.get(quote, 0) + buyer_fee + seller_fee
        touched = self.touched
        touched[(buyer, base)] = None
        touched[(seller, base)] = None
        touched[(buyer, quote)] = None
        touched[(seller, quote)] = None
