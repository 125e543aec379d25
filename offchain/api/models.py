"""Request and response bodies of the API (they make the OpenAPI schema).

Signed bodies carry the EIP-712 message exactly as the wallet signed it (`signing.ORDER_TYPES`,
`CANCEL_TYPES`, `WITHDRAW_TYPES`): amounts are decimal strings, never floats; the nonce and the expiry (unix seconds)
are integers.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Address = Annotated[
    str, Field(pattern=r"^0x[0-9a-fA-F]{40}$", examples=["0x70997970C51812dc3A010C7d01b50e0d17dc79C8"])
]
Decimal = Annotated[str, Field(pattern=r"^[0-9]{1,40}(\.[0-9]{1,36})?$", examples=["0.9990"])]
Uint256 = Annotated[int, Field(ge=0, lt=2**256)]
Expiry = Annotated[int, Field(ge=0, le=2**53, description="unix seconds after which the request is refused")]
Signature = Annotated[
    str, Field(pattern=r"^0x[0-9a-fA-F]{0,260}$", description="65-byte EIP-712 signature, 0x-hex")
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrderMessage(_Strict):
    """The EIP-712 `Order` a wallet signs."""

    account: Address
    symbol: Annotated[str, Field(min_length=1, max_length=32)]
    side: Literal["buy", "sell"]
    type: Literal["limit", "market"] = "limit"
    price: Decimal | Literal[""] = Field("", description='limit price in quote units; "" for a market order')
    qty: Decimal
    tif: Literal["GTC", "IOC", "FOK"] = "GTC"
    client_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]
    post_only: bool = False
    reduce_only: bool = False
    stp: Literal["cancel_maker", "cancel_taker", "cancel_both", "decrement"] = "cancel_maker"
    nonce: Uint256
    expiry: Expiry


class SignedOrder(_Strict):
    order: OrderMessage
    signature: Signature


class CancelMessage(_Strict):
    """The EIP-712 `Cancel` a wallet signs: by engine id (`oid`, client_id "") or by client id (oid 0)."""

    account: Address
    oid: Uint256 = 0
    client_id: Annotated[str, Field(max_length=64)] = ""
    nonce: Uint256
    expiry: Expiry


class SignedCancel(_Strict):
    cancel: CancelMessage
    signature: Signature


class WithdrawMessage(_Strict):
    """The EIP-712 `Withdraw` a wallet signs: `amount` of `asset`, paid on-chain to `account` itself."""

    account: Address
    asset: Annotated[str, Field(min_length=1, max_length=32, examples=["USDC"])]
    amount: Decimal
    nonce: Uint256
    expiry: Expiry


class SignedWithdraw(_Strict):
    withdraw: WithdrawMessage
    signature: Signature


class OrderResult(BaseModel):
    """What happened to a new order: its id, whether it rests, and every event it caused."""

    oid: int
    client_id: str
    status: Literal["open", "filled", "cancelled"]
    order: dict[str, Any] | None
    events: list[dict[str, Any]]


class CancelResult(BaseModel):
    oid: int
    client_id: str | None
    cancelled_qty: str
    events: list[dict[str, Any]]


class Withdrawal(BaseModel):
    """One withdrawal: `requested` (debited, owed on-chain) until Custody pays it (`paid`, with `tx`)
    or refuses it for good (`refunded`: the amount is back in the balance, `reason` says why);
    `queued` while Custody holds it for its outflow window (`tx` queued it; it pays later)."""

    wid: int
    account: str
    asset: str
    amount: str
    status: Literal["requested", "queued", "paid", "refunded"]
    requested_ts: int = Field(description="ms since the epoch")
    paid_ts: int | None = Field(description="ms since the epoch; null unless paid")
    tx: str = Field(description='the Custody transaction that paid (or, queued, held) it; "" otherwise')
    refunded_ts: int | None = Field(default=None, description="ms since the epoch; null unless refunded")
    reason: str = Field(default="", description='why Custody could not pay it, "" unless refunded')


class WithdrawalResult(BaseModel):
    """An accepted withdrawal request, and every event it caused (the account's own)."""

    withdrawal: Withdrawal
    events: list[dict[str, Any]]


class ProofResult(BaseModel):
    """The owner's salt and inclusion proof (`offchain.por.Proof` JSON) in the latest epoch."""

    epoch: dict[str, Any]
    proof: dict[str, Any]


# -- batches (`POST /orders/batch`, `POST /orders/cancel-batch`): one signature, one nonce ---------
MAX_BATCH_ITEMS = 100


class BatchOrder(_Strict):
    """One order of an `OrderBatch`: an `Order` without the account, nonce and expiry."""

    symbol: Annotated[str, Field(min_length=1, max_length=32)]
    side: Literal["buy", "sell"]
    type: Literal["limit", "market"] = "limit"
    price: Decimal | Literal[""] = Field("", description='limit price in quote units; "" for a market order')
    qty: Decimal
    tif: Literal["GTC", "IOC", "FOK"] = "GTC"
    client_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]
    post_only: bool = False
    reduce_only: bool = False
    stp: Literal["cancel_maker", "cancel_taker", "cancel_both", "decrement"] = "cancel_maker"


class OrderBatchMessage(_Strict):
    """The EIP-712 `OrderBatch` a wallet signs: up to 100 orders under one nonce and expiry."""

    account: Address
    orders: Annotated[list[BatchOrder], Field(min_length=1, max_length=MAX_BATCH_ITEMS)]
    nonce: Uint256
    expiry: Expiry


class SignedOrderBatch(_Strict):
    batch: OrderBatchMessage
    signature: Signature


class BatchCancel(_Strict):
    """One cancel of a `CancelBatch`: by engine id (`oid`, client_id "") or by client id (oid 0)."""

    oid: Uint256 = 0
    client_id: Annotated[str, Field(max_length=64)] = ""


class CancelBatchMessage(_Strict):
    """The EIP-712 `CancelBatch` a wallet signs: up to 100 cancels under one nonce and expiry."""

    account: Address
    cancels: Annotated[list[BatchCancel], Field(min_length=1, max_length=MAX_BATCH_ITEMS)]
    nonce: Uint256
    expiry: Expiry


class SignedCancelBatch(_Strict):
    batch: CancelBatchMessage
    signature: Signature


class BatchItemResult(BaseModel):
    """One item of a batch: `ok` with the order's `oid` and `status` (or the cancel's `cancelled_qty`),
    or refused by itself with the `code` and `message` a single request would get."""

    ok: bool
    client_id: str
    oid: int | None = None
    status: Literal["open", "filled", "cancelled"] | None = None
    cancelled_qty: str | None = None
    code: str | None = None
    message: str | None = None


class BatchResult(BaseModel):
    """Every item's result, in the order of the signed list."""

    results: list[BatchItemResult]
