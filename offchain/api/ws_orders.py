"""Order entry over the WebSocket (`/ws`): signed orders, cancels and batches, answered on the same
connection. For market makers: no HTTP request per order, many in flight on one connection.

    -> {"op": "order", "id": "q1", "order": {...signed Order...}, "signature": "0x..."}
    -> {"op": "cancel", "id": "q2", "cancel": {...signed Cancel...}, "signature": "0x..."}
    -> {"op": "order_batch", "id": "q3", "batch": {...signed OrderBatch...}, "signature": "0x..."}
    -> {"op": "cancel_batch", "id": "q4", "batch": {...signed CancelBatch...}, "signature": "0x..."}
    <- {"channel": "orders", "type": "result", "data": {"id": "q1", "ok": true, "client_id", "oid", "status"}}
    <- {"channel": "orders", "type": "error", "data": {"id": "q2", "ok": false, "code", "message"}}

The messages and their checks are those of the REST routes (`POST /orders`, `DELETE /orders/{oid}`
or `/by-client-id/{client_id}`, `POST /orders/batch`, `POST /orders/cancel-batch`): the same EIP-712
types, the same durable nonces, the same codes and words. The answers are lean, as a batch item's
(an order: `client_id, oid, status`; a cancel: `client_id, oid, cancelled_qty`; a batch: `results`):
the events are on the account channel, which the same connection may subscribe to.
`id` (any string up to 64 characters, echoed back) matches an answer to its request. Each message
spends one token of the connection's IP budget and, once its signature is checked, one of the
account's. A message is checked and queued for group commit as soon as it is read, so the sequencer
receives one connection's requests in the order they were sent; answers come back as each commit
completes (in that order for one connection, since its requests share or follow each other's
commits), and nothing is answered before it is durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from pydantic import BaseModel, ValidationError

from offchain.api import messages, order_entry
from offchain.api.errors import ApiError
from offchain.api.models import SignedCancel, SignedCancelBatch, SignedOrder, SignedOrderBatch

log = logging.getLogger("offchain.api.ws_orders")
CHANNEL = "orders"
MAX_ID = 64


def _order(ctx: Any, body: SignedOrder) -> tuple[Future, Callable[[Any], dict]]:
    return order_entry.submit_order_ack(ctx, body.order.model_dump(), body.signature), _item


def _cancel(ctx: Any, body: SignedCancel) -> tuple[Future, Callable[[Any], dict]]:
    msg = body.cancel.model_dump()
    if bool(msg["oid"]) == bool(msg["client_id"]):
        raise ApiError("bad_request", "a cancel names an oid or a client_id, exactly one")
    return order_entry.submit_cancel_ack(ctx, msg, body.signature), _item


def _order_batch(ctx: Any, body: SignedOrderBatch) -> tuple[Future, Callable[[Any], dict]]:
    return order_entry.submit_order_batch(ctx, body.batch.model_dump(), body.signature), _results


def _cancel_batch(ctx: Any, body: SignedCancelBatch) -> tuple[Future, Callable[[Any], dict]]:
    return order_entry.submit_cancel_batch(ctx, body.batch.model_dump(), body.signature), _results


def _item(value: dict) -> dict:
    return {k: v for k, v in value.items() if k != "ok"}


def _results(value: list[dict]) -> dict:
    return {"results": value}


# op -> (the body's key, its model, the submit function)
OPS: dict[str, tuple[str, type[BaseModel], Callable]] = {
    "order": ("order", SignedOrder, _order),
    "cancel": ("cancel", SignedCancel, _cancel),
    "order_batch": ("batch", SignedOrderBatch, _order_batch),
    "cancel_batch": ("batch", SignedCancelBatch, _cancel_batch),
}


def _error(rid: str, code: str, message: str) -> dict:
    return {
        "channel": CHANNEL,
        "type": "error",
        "data": {"id": rid, "ok": False, "code": code, "message": message},
    }


def handle(ctx: Any, conn: Any, request: dict, ip: str) -> None:
    """Check one order-entry message and queue it; its answer is put on `conn` when it is durable.

    Runs on the event loop, synchronously up to the queueing, so requests keep the connection's order.
    """
    op = request["op"]
    rid = request.get("id", "")
    if not isinstance(rid, str) or len(rid) > MAX_ID:
        conn.put(_error("", "bad_request", f"id: a string of at most {MAX_ID} characters"))
        return
    key, model, submit = OPS[op]
    try:
        if ctx.ip_buckets.take(ip):
            raise ApiError("rate_limited", "too many requests from this address")
        if op.endswith("batch"):
            order_entry.check_batch_size(request, "orders" if op == "order_batch" else "cancels")
        try:
            body = model.model_validate({key: request.get(key), "signature": request.get("signature")})
        except ValidationError as exc:
            errors = exc.errors()
            raise ApiError("bad_request", messages.invalid(errors[0] if errors else {})) from None
        future, shape = submit(ctx, body)
    except ApiError as exc:
        if exc.code in order_entry.COUNTED:
            ctx.telemetry.inc("breakwater_api_refusals_total", exc.code)
        conn.put(_error(rid, exc.code, exc.message))
        return
    loop = asyncio.get_running_loop()

    def deliver(done: Future) -> None:
        exc = done.exception()
        if exc is None:
            value = done.result()
            if isinstance(value, dict) and value.get("ok") is False:  # one order or cancel, refused
                exc = ApiError(value["code"], value["message"])
            else:
                data = {"id": rid, "ok": True, **shape(value)}
                conn.put({"channel": CHANNEL, "type": "result", "data": data})
                return
        if isinstance(exc, ApiError):
            if exc.code in order_entry.COUNTED:
                ctx.telemetry.inc("breakwater_api_refusals_total", exc.code)
            conn.put(_error(rid, exc.code, exc.message))
        else:
            log.error("order entry over /ws failed", exc_info=exc)
            conn.put(
                _error(rid, "internal", "the exchange could not answer this request (an internal error)")
            )

    future.add_done_callback(lambda done: loop.call_soon_threadsafe(deliver, done))
