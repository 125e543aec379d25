"""Orders: the EIP-712 domain, place and cancel (signed `Order` / `Cancel`), an account's open orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.security import HTTPAuthorizationCredentials

from offchain.api import auth, order_entry, views
from offchain.api.context import ACCOUNT_PATTERN, SIGNED, ApiContext, named
from offchain.api.errors import ApiError, responses
from offchain.api.models import (
    BatchResult,
    CancelResult,
    OrderResult,
    SignedCancel,
    SignedCancelBatch,
    SignedOrder,
    SignedOrderBatch,
)
from offchain.api.signing import (
    CANCEL_BATCH_TYPES,
    CANCEL_TYPES,
    ORDER_BATCH_TYPES,
    ORDER_TYPES,
    PROOF_REQUEST_TYPES,
    READ_SESSION_TYPES,
    WITHDRAW_TYPES,
    typed_data,
)


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(tags=["orders"])
    service = ctx.service

    @api.get("/eip712", summary="The EIP-712 domain and types requests are signed with")
    def eip712() -> dict:
        return {
            "domain": typed_data(ctx.domain, "Order", {})["domain"],
            "types": {
                **ORDER_TYPES,
                **CANCEL_TYPES,
                **WITHDRAW_TYPES,
                **PROOF_REQUEST_TYPES,
                **READ_SESSION_TYPES,
                **ORDER_BATCH_TYPES,
                **CANCEL_BATCH_TYPES,
            },
            "max_expiry_s": ctx.max_expiry_s,
        }

    @api.post(
        "/orders",
        response_model=OrderResult,
        responses=responses(*SIGNED, "insufficient_balance", "unknown_market"),
        summary="Place an order signed by its account",
    )
    async def place_order(body: SignedOrder) -> OrderResult:
        # on the event loop (no worker thread): the signature check is ~0.1 ms of libsecp256k1, then
        # group commit journals it with its nonce in a transaction shared with concurrent requests
        return await order_entry.place_async(ctx, body.order.model_dump(), body.signature)

    async def cancel(body: SignedCancel, *, oid: int | None, client_id: str | None) -> CancelResult:
        msg = body.cancel.model_dump()
        if oid is not None and (msg["oid"] != oid or msg["client_id"]):
            raise ApiError("bad_request", "the signed cancel must name this oid and no client_id")
        if client_id is not None and (msg["client_id"] != client_id or msg["oid"]):
            raise ApiError("bad_request", "the signed cancel must name this client_id and oid 0")
        # group commit: the cancel and its nonce in one transaction shared with concurrent requests
        return await order_entry.cancel_async(ctx, msg, body.signature, oid, client_id)

    @api.post(
        "/orders/batch",
        response_model=BatchResult,
        response_model_exclude_none=True,
        responses=responses(*SIGNED, "batch_too_large"),
        summary="Place up to 100 orders under one signature (signed OrderBatch); a result per order",
    )
    async def place_batch(body: SignedOrderBatch) -> dict:
        """Served by `order_entry`'s fast path; an order the engine refuses is refused by itself."""
        return {"results": await order_entry.order_batch_async(ctx, body.batch.model_dump(), body.signature)}

    @api.post(
        "/orders/cancel-batch",
        response_model=BatchResult,
        response_model_exclude_none=True,
        responses=responses(*SIGNED, "batch_too_large"),
        summary="Cancel up to 100 orders under one signature (signed CancelBatch); a result per cancel",
    )
    async def cancel_batch(body: SignedCancelBatch) -> dict:
        """Served by `order_entry`'s fast path; a cancel the engine refuses is refused by itself."""
        return {"results": await order_entry.cancel_batch_async(ctx, body.batch.model_dump(), body.signature)}

    @api.delete(
        "/orders/{oid}",
        response_model=CancelResult,
        responses=responses(*SIGNED, "not_owner", "unknown_order"),
        summary="Cancel an order by its engine id (signed Cancel)",
    )
    async def cancel_by_oid(
        oid: Annotated[int, PathParam(ge=1, lt=2**63)], body: Annotated[SignedCancel, Body()]
    ) -> CancelResult:
        return await cancel(body, oid=oid, client_id=None)

    @api.delete(
        "/orders/by-client-id/{client_id}",
        response_model=CancelResult,
        responses=responses(*SIGNED, "unknown_order"),
        summary="Cancel an order by its client id (signed Cancel)",
    )
    async def cancel_by_client_id(
        client_id: Annotated[str, PathParam(min_length=1, max_length=64)],
        body: Annotated[SignedCancel, Body()],
    ) -> CancelResult:
        return await cancel(body, oid=None, client_id=client_id)

    @api.get(
        "/orders",
        responses=responses("bad_request", *auth.PRIVATE),
        summary="An account's open orders (the account's read session)",
    )
    def open_orders(
        request: Request,
        account: Annotated[
            str | None, Query(pattern=ACCOUNT_PATTERN, description="default: the session's")
        ] = None,
        _: Annotated[HTTPAuthorizationCredentials | None, Depends(auth.bearer)] = None,
    ) -> list[dict]:
        name = auth.reader(ctx, request, None if account is None else named(account))
        return service.read(lambda engine: [views.order_view(engine, o) for o in engine.open_orders(name)])

    return api
