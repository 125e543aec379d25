"""Amend: reprice or resize a resting order in place (signed EIP-712 `Amend`).

`PATCH /orders/{oid}` or `PATCH /orders/by-client-id/{client_id}`; `price` and `qty` are decimal
strings, "" for unchanged (at least one must change). The engine's priority rule (docs/engine.md):
a pure size decrease keeps the order's time priority (`kept_priority: true`); a new price or a
larger size sends it to the back of its level and, in continuous trading, may trade at once. A
post-only order that would cross is refused (`post_only_would_cross`). During a halt or the
cool-down an amend changes the resting order without trading, which is how a market maker reprices
its quotes for the reopening auction without cancelling them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from offchain.api import views
from offchain.api.context import SIGNED, ApiContext
from offchain.api.errors import ApiError, responses
from offchain.api.models import Address, Expiry, Signature, Uint256

Change = Annotated[str, Field(pattern=r"^([0-9]{1,40}(\.[0-9]{1,36})?)?$", description='"" for unchanged')]


class AmendMessage(BaseModel):
    """The EIP-712 `Amend` a wallet signs: the order by engine id (client_id "") or client id (oid 0)."""

    model_config = ConfigDict(extra="forbid")

    account: Address
    oid: Uint256 = 0
    client_id: Annotated[str, Field(max_length=64)] = ""
    price: Change = ""
    qty: Change = ""
    nonce: Uint256
    expiry: Expiry


class SignedAmend(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amend: AmendMessage
    signature: Signature


class AmendResult(BaseModel):
    """The order after the amend: `kept_priority` says whether it kept its place in the queue."""

    oid: int
    client_id: str | None
    price: str
    qty: str
    kept_priority: bool
    order: dict[str, Any] | None
    events: list[dict[str, Any]]


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(tags=["orders"])
    service = ctx.service

    def amend(body: SignedAmend, *, oid: int | None, client_id: str | None) -> AmendResult:
        msg = body.amend.model_dump()
        if oid is not None and (msg["oid"] != oid or msg["client_id"]):
            raise ApiError("bad_request", "the signed amend must name this oid and no client_id")
        if client_id is not None and (msg["client_id"] != client_id or msg["oid"]):
            raise ApiError("bad_request", "the signed amend must name this client_id and oid 0")
        if not msg["price"] and not msg["qty"]:
            raise ApiError("bad_request", "an amend changes the price, the qty or both")
        account = ctx.authorise("Amend", msg, body.signature)
        with service.lock:
            engine = service.engine
            wire: dict[str, Any] = {"cmd": "amend", "ts": 0, "account": account}
            if oid is not None:
                order = views.find_order(engine, oid)
                if order is None:
                    raise ApiError("unknown_order", f"no open order {oid}")
                if order.owner != account:
                    raise ApiError("not_owner", f"order {oid} belongs to another account")
                wire.update(oid=oid, symbol=order.symbol)
            else:
                wire["id"] = client_id
            if msg["price"]:
                wire["price"] = msg["price"]
            if msg["qty"]:
                wire["qty"] = msg["qty"]
            events = ctx.submit_wire(wire, account)
            done = next(e for e in events if e.EVENT == "amended" and e.account == account)
            order = views.find_order(engine, done.oid)
            return AmendResult(
                oid=done.oid,
                client_id=done.client_id,
                price=views.price(engine, done.symbol, done.price),
                qty=views.qty(engine, done.symbol, done.qty),
                kept_priority=done.kept_priority,
                order=views.order_view(engine, order) if order is not None else None,
                events=ctx.formatted(engine, events, account),
            )

    @api.patch(
        "/orders/{oid}",
        response_model=AmendResult,
        responses=responses(*SIGNED, "not_owner", "unknown_order", "post_only_would_cross"),
        summary="Amend an order's price and/or size by its engine id (signed Amend)",
    )
    def amend_by_oid(
        oid: Annotated[int, PathParam(ge=1, lt=2**63)], body: Annotated[SignedAmend, Body()]
    ) -> AmendResult:
        return amend(body, oid=oid, client_id=None)

    @api.patch(
        "/orders/by-client-id/{client_id}",
        response_model=AmendResult,
        responses=responses(*SIGNED, "unknown_order", "post_only_would_cross"),
        summary="Amend an order's price and/or size by its client id (signed Amend)",
    )
    def amend_by_client_id(
        client_id: Annotated[str, PathParam(min_length=1, max_length=64)],
        body: Annotated[SignedAmend, Body()],
    ) -> AmendResult:
        return amend(body, oid=None, client_id=client_id)

    return api
