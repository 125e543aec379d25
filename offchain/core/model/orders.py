"""Orders: what the book sees (`Order`) and what the engine keeps (`OpenOrder`: account, flags, hold,
fee state), with the snapshot row of an open order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from offchain.core.model.states import BUY, SELL

if TYPE_CHECKING:
    from offchain.core.model.accounts import Account


class Order:
    """A resting or incoming order as the book sees it; `OpenOrder` adds the money fields."""

    __slots__ = ("oid", "owner", "is_buy", "price", "qty")

    def __init__(self, oid: int, owner: str, is_buy: bool, price: int, qty: int) -> None:
        self.oid = oid
        self.owner = owner
        self.is_buy = is_buy
        self.price = price
        self.qty = qty  # open (leaves) quantity; 0 once filled or cancelled


class OpenOrder(Order):
    """An order as the engine keeps it: the book's fields plus account, flags, hold and fee state."""

    __slots__ = (
        "acct",
        "symbol",
        "type",
        "tif",
        "post_only",
        "reduce_only",
        "stp",
        "client_id",
        "api",
        "ts",
        "filled",
        "hold_asset",
        "hold",
        "fee_acc",
        "fee_paid",
        "maker_ppm",
        "taker_ppm",
        "max_ppm",
    )

    def __init__(
        self,
        oid: int,
        acct: Account,
        symbol: str,
        is_buy: bool,
        type_: str,
        price: int,
        qty: int,
        tif: str,
        post_only: bool,
        reduce_only: bool,
        stp: str,
        client_id: str | None,
        api: bool,
        ts: int,
        maker_ppm: int,
        taker_ppm: int,
    ) -> None:
        self.oid = oid
        self.owner = acct.name
        self.is_buy = is_buy
        self.price = price
        self.qty = qty
        self.acct = acct
        self.symbol = symbol
        self.type = type_
        self.tif = tif
        self.post_only = post_only
        self.reduce_only = reduce_only
        self.stp = stp
        self.client_id = client_id
        self.api = api
        self.ts = ts
        self.filled = 0
        self.hold_asset = ""
        self.hold = 0
        self.fee_acc = 0  # sum of notional * rate over fills (ppm units)
        self.fee_paid = 0  # ceil(fee_acc / 1e6): fees charged so far (negative: rebates received)
        self.maker_ppm = maker_ppm  # rates are fixed when the order is accepted
        self.taker_ppm = taker_ppm
        # the largest non-negative rate (a conditional is cheaper than `max` on every order)
        top = maker_ppm if maker_ppm > taker_ppm else taker_ppm
        self.max_ppm = top if top > 0 else 0

    @property
    def side(self) -> str:
        return BUY if self.is_buy else SELL

    def to_state(self) -> list:
        return [
            self.oid,
            self.owner,
            self.side,
            self.type,
            self.price,
            self.qty,
            self.tif,
            self.post_only,
            self.reduce_only,
            self.stp,
            self.client_id,
            self.api,
            self.ts,
            self.filled,
            self.hold_asset,
            self.hold,
            self.fee_acc,
            self.fee_paid,
            self.maker_ppm,
            self.taker_ppm,
        ]


def order_from_state(acct: Account, symbol: str, row: list) -> OpenOrder:
    """Rebuild an open order from its `OpenOrder.to_state()` row."""
    (oid, _, side, typ, price, qty, tif, post_only, reduce_only, stp, client_id, api, ts) = row[:13]
    (filled, hold_asset, hold, fee_acc, fee_paid, maker_ppm, taker_ppm) = row[13:]
    order = OpenOrder(
        oid,
        acct,
        symbol,
        side == BUY,
        typ,
        price,
        qty,
        tif,
        post_only,
        reduce_only,
        stp,
        client_id,
        api,
        ts,
        maker_ppm,
        taker_ppm,
    )
    order.filled = filled
    order.hold_asset = hold_asset
    order.hold = hold
    order.fee_acc = fee_acc
    order.fee_paid = fee_paid
    return order
