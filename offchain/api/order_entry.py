"""Signed orders through group commit: checked in the request's thread, journaled with their nonce.

`place(ctx, msg, signature)` checks the signature, the expiry, the account's budget and reserves the
nonce (O(1), in memory), then hands the order to `ExchangeService.submit_group`: the sequencer
journals it and its nonce row in one transaction shared with every request queued meanwhile, applies
it and builds the answer under the lock. The caller waits on the future, so nothing is acknowledged
before it is durable, and a nonce is durable exactly when its order is.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from offchain.api import messages, views
from offchain.api.errors import ApiError, error_response, internal_error
from offchain.api.models import (
    MAX_BATCH_ITEMS,
    CancelResult,
    OrderResult,
    SignedCancelBatch,
    SignedOrder,
    SignedOrderBatch,
    Withdrawal,
    WithdrawalResult,
)
from offchain.api.signing import SignatureError, account_name, verify
from offchain.core.messages import commands as C
from offchain.core.messages.codec import CommandFormatError, parse_command
from offchain.core.messages.events import Rejected


def check(ctx: Any, primary_type: str, message: dict, signature: str) -> tuple[str, Any]:
    """Signature, expiry, budget and nonce; return the account and the nonce row to journal."""
    now = ctx.now_s()
    try:
        signer = verify(ctx.domain, primary_type, message, signature, now)
    except SignatureError as err:
        raise ApiError(err.code, err.message) from None
    if message["expiry"] > now + ctx.max_expiry_s:
        raise ApiError("expiry_too_far", f"expiry may be at most {ctx.max_expiry_s}s ahead (now {now})")
    account = account_name(signer)
    ctx.spend(account)
    try:
        row = ctx.nonce_book.reserve(account, message["nonce"], message["expiry"], now)
    except SignatureError as err:
        raise ApiError(err.code, err.message) from None
    return account, row


def order_wire(account: str, msg: dict) -> dict:
    """The engine command (decimal strings) of a signed order message."""
    wire = {
        "cmd": "order",
        "ts": 0,
        "account": account,
        "symbol": msg["symbol"],
        "side": msg["side"],
        "type": msg["type"],
        "qty": msg["qty"],
        "tif": msg["tif"],
        "post_only": msg["post_only"],
        "reduce_only": msg["reduce_only"],
        "stp": msg["stp"],
        "id": msg["client_id"],
        "api": True,
    }
    if msg["price"]:
        wire["price"] = msg["price"]
    return wire


def build(wire: dict):
    """engine -> command, refusing a wire that does not parse as `bad_request`."""

    def make(engine: Any) -> Any:
        try:
            return parse_command(wire, engine)
        except CommandFormatError as exc:
            raise ApiError("bad_request", str(exc)) from None

    return make


def order_result(
    ctx: Any, engine: Any, events: list | Exception, account: str, client_id: str, msg: dict | None = None
) -> OrderResult:
    """The answer to one order, built under the lock right after it was applied."""
    if isinstance(events, Exception):
        raise events
    for e in events:
        if isinstance(e, Rejected) and e.cmd == "order" and e.account == account:
            raise ApiError(e.code, messages.explain(engine, e.code, e.message, msg, account))
    oid = next(
        e.oid for e in events if e.EVENT == "accepted" and e.account == account and e.client_id == client_id
    )
    order = engine.order_by_client_id(account, client_id)
    open_view = views.order_view(engine, order) if order is not None and order.oid == oid else None
    filled = any(e.EVENT == "trade" and oid in (e.maker_oid, e.taker_oid) for e in events)
    status = "open" if open_view else ("filled" if filled else "cancelled")
    return OrderResult(
        oid=oid,
        client_id=client_id,
        status=status,
        order=open_view,
        events=ctx.formatted(engine, events, account),
    )


def submit_order(ctx: Any, msg: dict, signature: str) -> Future:
    """Check one signed order and queue it for the next group commit; return the future answer."""
    account, row = check(ctx, "Order", msg, signature)
    client_id = msg["client_id"]
    try:
        return ctx.service.submit_group(
            [build(order_wire(account, msg))],
            lambda engine, results: order_result(ctx, engine, results[0], account, client_id, msg),
            nonce=row,
        )
    except BaseException:
        ctx.nonce_book.release(row)
        raise


def place(ctx: Any, msg: dict, signature: str) -> OrderResult:
    """Place one signed order through group commit and wait (this thread) for its durable answer."""
    return submit_order(ctx, msg, signature).result()


async def place_async(ctx: Any, msg: dict, signature: str) -> OrderResult:
    """`place` on the event loop: no worker thread, the loop awaits the sequencer's future."""
    return await asyncio.wrap_future(submit_order(ctx, msg, signature))


def _submit(ctx: Any, row: Any, builds: list, finish: Callable[[Any, list], Any]) -> Future:
    try:
        return ctx.service.submit_group(builds, finish, nonce=row)
    except BaseException:
        ctx.nonce_book.release(row)
        raise


# -- cancels ---------------------------------------------------------------------------------------


def cancel_build(account: str, oid: int | None, client_id: str | None):
    """engine -> the Cancel command, refusing another account's order (`not_owner`) under the lock."""

    def make(engine: Any) -> Any:
        if oid:
            order = views.find_order(engine, oid)
            if order is not None and order.owner != account:
                raise ApiError("not_owner", f"order {oid} belongs to another account")
        return C.Cancel(0, account, client_id or None, oid or None)

    return make


def _cancelled(engine: Any, events: list | Exception, account: str, msg: dict) -> Any:
    """The `cancelled` event of our cancel, or raise its refusal."""
    if isinstance(events, Exception):
        raise events
    for e in events:
        if isinstance(e, Rejected) and e.cmd == "cancel" and e.account == account:
            asked = {"ref": e.ref, **msg}
            raise ApiError(e.code, messages.explain(engine, e.code, e.message, asked, account))
    return next(e for e in events if e.EVENT == "cancelled" and e.account == account)


def submit_cancel(ctx: Any, msg: dict, signature: str, oid: int | None, client_id: str | None) -> Future:
    """A signed `Cancel` through group commit (its nonce in the same transaction)."""
    account, row = check(ctx, "Cancel", msg, signature)

    def finish(engine: Any, results: list) -> CancelResult:
        done = _cancelled(engine, results[0], account, msg)
        return CancelResult(
            oid=done.oid,
            client_id=done.client_id,
            cancelled_qty=views.qty(engine, done.symbol, done.qty),
            events=ctx.formatted(engine, results[0], account),
        )

    return _submit(ctx, row, [cancel_build(account, oid, client_id)], finish)


async def cancel_async(ctx: Any, msg: dict, signature: str, oid: int | None, client_id: str | None):
    return await asyncio.wrap_future(submit_cancel(ctx, msg, signature, oid, client_id))


# -- withdrawals -----------------------------------------------------------------------------------


def submit_withdraw(ctx: Any, msg: dict, signature: str) -> Future:
    """A signed `Withdraw` through group commit (its nonce in the same transaction)."""
    account, row = check(ctx, "Withdraw", msg, signature)
    wire = {"cmd": "withdraw", "ts": 0, "account": account, "asset": msg["asset"], "amount": msg["amount"]}

    def finish(engine: Any, results: list) -> WithdrawalResult:
        events = results[0]
        if isinstance(events, Exception):
            raise events
        for e in events:
            if isinstance(e, Rejected) and e.cmd == "withdraw" and e.account == account:
                asked = {"ref": e.ref, **msg}
                raise ApiError(e.code, messages.explain(engine, e.code, e.message, asked, account))
        wid = next(e.wid for e in events if e.EVENT == "withdrawal_requested" and e.account == account)
        (record,) = [w for w in views.withdrawals_view(engine, account) if w["wid"] == wid]
        return WithdrawalResult(
            withdrawal=Withdrawal(**record), events=ctx.formatted(engine, events, account)
        )

    return _submit(ctx, row, [build(wire)], finish)


async def withdraw_async(ctx: Any, msg: dict, signature: str) -> WithdrawalResult:
    return await asyncio.wrap_future(submit_withdraw(ctx, msg, signature))


# -- batches ---------------------------------------------------------------------------------------
# One signature, one nonce, one expiry and one rate-limit token for up to MAX_BATCH items. The
# items are journaled together with the nonce in one group commit and applied in the signed order;
# each gets its own result. An item the engine refuses, or that does not parse against its market
# (a bad tick, an unknown market...), is refused by itself with the code and words a single
# request would get, and the other items are processed; a batch whose signature, expiry, nonce or
# shape is wrong is refused as a whole, before anything is journaled.


def _refused(client_id: str, exc: ApiError) -> dict:
    return {"ok": False, "client_id": client_id, "code": exc.code, "message": exc.message}


def check_batch_size(obj: Any, key: str) -> None:
    items = (
        obj.get("batch", {}).get(key)
        if isinstance(obj, dict) and isinstance(obj.get("batch"), dict)
        else None
    )
    if isinstance(items, list) and len(items) > MAX_BATCH_ITEMS:
        raise ApiError(
            "batch_too_large", f"a batch carries at most {MAX_BATCH_ITEMS} {key}, this one {len(items)}"
        )


def _order_item(engine: Any, events: list | Exception, account: str, msg: dict) -> dict:
    client_id = msg["client_id"]
    if isinstance(events, ApiError):
        return _refused(client_id, events)
    if isinstance(events, Exception):
        raise events
    for e in events:
        if isinstance(e, Rejected) and e.cmd == "order" and e.account == account:
            return _refused(
                client_id, ApiError(e.code, messages.explain(engine, e.code, e.message, msg, account))
            )
    oid = next(
        e.oid for e in events if e.EVENT == "accepted" and e.account == account and e.client_id == client_id
    )
    order = engine.order_by_client_id(account, client_id)
    if order is not None and order.oid == oid:
        status = "open"
    elif any(e.EVENT == "trade" and oid in (e.maker_oid, e.taker_oid) for e in events):
        status = "filled"
    else:
        status = "cancelled"
    return {"ok": True, "client_id": client_id, "oid": oid, "status": status}


def submit_order_batch(ctx: Any, batch: dict, signature: str) -> Future:
    """A signed `OrderBatch` through one group commit; the future's value is the results list."""
    account, row = check(ctx, "OrderBatch", batch, signature)
    items = batch["orders"]

    def finish(engine: Any, results: list) -> list[dict]:
        return [_order_item(engine, r, account, m) for r, m in zip(results, items, strict=True)]

    return _submit(ctx, row, [build(order_wire(account, m)) for m in items], finish)


def _cancel_item(engine: Any, events: list | Exception, account: str, msg: dict) -> dict:
    client_id = msg["client_id"]
    try:
        done = _cancelled(engine, events, account, msg)
    except ApiError as exc:
        return _refused(client_id, exc)
    return {
        "ok": True,
        "client_id": done.client_id or client_id,
        "oid": done.oid,
        "cancelled_qty": views.qty(engine, done.symbol, done.qty),
    }


def _bad_cancel(client_id: str, message: str):
    def make(engine: Any) -> Any:
        raise ApiError("bad_request", message)

    return make


def submit_order_ack(ctx: Any, msg: dict, signature: str) -> Future:
    """One signed order answered as a batch item is (`{ok, client_id, oid, status}` or the refusal),
    without the events: WebSocket order entry (the account channel carries the events)."""
    account, row = check(ctx, "Order", msg, signature)
    return _submit(
        ctx, row, [build(order_wire(account, msg))], lambda engine, r: _order_item(engine, r[0], account, msg)
    )


def submit_cancel_ack(ctx: Any, msg: dict, signature: str) -> Future:
    """One signed cancel answered as a cancel-batch item is (`{ok, client_id, oid, cancelled_qty}`)."""
    account, row = check(ctx, "Cancel", msg, signature)
    oid, client_id = msg["oid"] or None, msg["client_id"] or None
    return _submit(
        ctx,
        row,
        [cancel_build(account, oid, client_id)],
        lambda engine, r: _cancel_item(engine, r[0], account, msg),
    )


def submit_cancel_batch(ctx: Any, batch: dict, signature: str) -> Future:
    """A signed `CancelBatch` through one group commit; the future's value is the results list."""
    account, row = check(ctx, "CancelBatch", batch, signature)
    items = batch["cancels"]
    builds = []
    for m in items:
        if bool(m["oid"]) == bool(m["client_id"]):
            builds.append(_bad_cancel(m["client_id"], "a cancel names an oid or a client_id, exactly one"))
        else:
            builds.append(cancel_build(account, m["oid"] or None, m["client_id"] or None))

    def finish(engine: Any, results: list) -> list[dict]:
        return [_cancel_item(engine, r, account, m) for r, m in zip(results, items, strict=True)]

    return _submit(ctx, row, builds, finish)


async def order_batch_async(ctx: Any, batch: dict, signature: str) -> list[dict]:
    return await asyncio.wrap_future(submit_order_batch(ctx, batch, signature))


async def cancel_batch_async(ctx: Any, batch: dict, signature: str) -> list[dict]:
    return await asyncio.wrap_future(submit_cancel_batch(ctx, batch, signature))


# -- the fast path: signed writes straight from the ASGI layer ------------------------------------
# POST /orders (and the batch routes) are served here, under the outer guard (IP rate limit, body
# limit, request counting) but without FastAPI's routing, dependency and response-model layers,
# which the profile showed cost more per order than the signature check and the engine together.
# The body is parsed and validated exactly as FastAPI does (json.loads, then the same pydantic
# model), refusals carry the same codes and words, and the FastAPI routes stay declared for the
# OpenAPI schema (and answer any request this layer does not take, e.g. a trailing slash).

Handler = Callable[[Any, Any], Awaitable[bytes]]
# the codes the API's exception handler counts as refusals (errors.install_handlers)
COUNTED = frozenset(
    {"bad_signature", "expired", "expiry_too_far", "nonce_reused", "rate_limited", "bad_request"}
    | {"not_owner", "no_proof", "unauthenticated"}
)
_JSON_HEADERS = [(b"content-type", b"application/json")]


@dataclass(frozen=True, slots=True)
class _Route:
    path: str  # what the guard's request counter reads from scope["route"]


async def _place_route(ctx: Any, obj: Any) -> bytes:
    body = SignedOrder.model_validate(obj)
    result = await place_async(ctx, body.order.model_dump(), body.signature)
    return result.model_dump_json().encode()


async def _order_batch_route(ctx: Any, obj: Any) -> bytes:
    check_batch_size(obj, "orders")
    body = SignedOrderBatch.model_validate(obj)
    results = await order_batch_async(ctx, body.batch.model_dump(), body.signature)
    return _dumps({"results": results}).encode()


async def _cancel_batch_route(ctx: Any, obj: Any) -> bytes:
    check_batch_size(obj, "cancels")
    body = SignedCancelBatch.model_validate(obj)
    results = await cancel_batch_async(ctx, body.batch.model_dump(), body.signature)
    return _dumps({"results": results}).encode()


_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
FAST_ROUTES: dict[str, Handler] = {
    "/orders": _place_route,
    "/orders/batch": _order_batch_route,
    "/orders/cancel-batch": _cancel_batch_route,
}


def _is_json(scope: dict) -> bool:
    for name, value in scope.get("headers") or ():
        if name == b"content-type":
            kind = value.split(b";", 1)[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return True  # FastAPI reads a body without a content type as JSON too


async def _read_body(receive: Callable) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _validation_error(error: dict) -> ApiError:
    return ApiError("bad_request", messages.invalid(error))


async def _serve(ctx: Any, handler: Handler, scope: dict, receive: Callable, send: Callable) -> None:
    body = await _read_body(receive)
    try:
        try:
            if not body:
                raise _validation_error({"type": "missing", "loc": ("body",)})
            if not _is_json(scope):
                raise _validation_error({"type": "model_attributes_type", "loc": ("body",)})
            try:
                obj = json.loads(body)
            except (ValueError, RecursionError):  # bad JSON, a 5,000-digit number, deep nesting
                raise _validation_error({"type": "json_invalid", "loc": ("body",)}) from None
            payload = await handler(ctx, obj)
        except ValidationError as exc:
            errors = exc.errors()
            raise _validation_error(errors[0] if errors else {}) from None
    except ApiError as exc:
        if exc.code in COUNTED:
            ctx.telemetry.inc("breakwater_api_refusals_total", exc.code)
        response = error_response(exc.code, exc.message, exc.status, exc.headers)
        return await response(scope, receive, send)
    except Exception as exc:
        return await internal_error(scope["method"], scope["path"], exc)(scope, receive, send)
    headers = [*_JSON_HEADERS, (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


POST_ONLY = frozenset({"/orders/batch", "/orders/cancel-batch"})


def fast_path(ctx: Any, app: Callable) -> Callable:
    """Wrap the FastAPI app: POST to a `FAST_ROUTES` path is answered here, the rest by `app`."""
    routes = {path: (handler, _Route(path)) for path, handler in FAST_ROUTES.items()}

    async def asgi(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http":
            found = routes.get(scope["path"])
            if found is not None:
                scope["route"] = found[1]
                if scope["method"] == "POST":
                    return await _serve(ctx, found[0], scope, receive, send)
                if scope["path"] in POST_ONLY:  # else /orders/{oid} would take "batch" for an oid
                    message = f"{scope['path']} answers POST only"
                    response = error_response("method_not_allowed", message, 405, {"Allow": "POST"})
                    return await response(scope, receive, send)
                del scope["route"]
        return await app(scope, receive, send)

    return asgi
