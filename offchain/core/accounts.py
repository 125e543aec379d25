"""Unified accounts: one per user, a balance in every asset, holds for open orders.

`balance` is what the account owns; `held` is the part of it reserved for open orders; `free` is the
difference. Spot trades settle both sides at once in `settle_spot`. Every change marks the
`(account, asset)` pair as touched so that the engine emits one balance event per pair per command.
The risk engine (cross margin, lending) lets balances go negative; the spot rules here never do.
"""

from __future__ import annotations

from .fees import VolumeWindow


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
        self.touched: dict[tuple[str, str], None] = {}  # (account, asset) changed by this command

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
        self.touched[(acct.name, asset)] = None

    def debit(self, acct: Account, asset: str, amount: int) -> None:
        bal = acct.balance
        bal[asset] = bal.get(asset, 0) - amount
        self.touched[(acct.name, asset)] = None

    def hold(self, acct: Account, asset: str, amount: int) -> None:
        held = acct.held
        held[asset] = held.get(asset, 0) + amount
        self.touched[(acct.name, asset)] = None

    def release(self, acct: Account, asset: str, amount: int) -> None:
        if amount:
            held = acct.held
            held[asset] -= amount
            self.touched[(acct.name, asset)] = None

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
    ) -> None:
        """Move `qty` base from seller to buyer and `notional` quote back, both out of their holds.

        The buyer pays `notional + buyer_fee` quote, the seller receives `notional - seller_fee`; fees
        (negative: rebates) go to the exchange's fee balance. Both legs happen here or neither does.
        """
        touched = self.touched
        bb, bh, sb, sh = buyer.balance, buyer.held, seller.balance, seller.held
        cost = notional + buyer_fee
        bb[quote] -= cost
        bh[quote] -= cost
        bb[base] = bb.get(base, 0) + qty
        sb[base] -= qty
        sh[base] -= qty
        sb[quote] = sb.get(quote, 0) + notional - seller_fee
        fees = self.fees
        fees[quote] = fees.get(quote, 0) + buyer_fee + seller_fee
        bn, sn = buyer.name, seller.name
        touched[(bn, quote)] = None
        touched[(bn, base)] = None
        touched[(sn, base)] = None
        touched[(sn, quote)] = None

    def take_touched(self) -> list[tuple[str, str]]:
        """Return and clear the pairs changed since the last call, in the order they changed."""
        touched = self.touched
        if not touched:
            return []
        out = list(touched)
        touched.clear()
        return out
