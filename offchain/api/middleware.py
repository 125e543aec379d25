"""The outer ASGI layer: the per-IP rate limit, the body size limit and request counting (pure ASGI).

Bodies: at most `MAX_BODY_BYTES` (64 KiB; a batch of about 100 signed orders is under 60 KiB). A larger
declared `Content-Length` is answered 413 before the body is read; a body without a length (chunked)
is read by this layer up to the limit and refused with 413 as soon as it passes it, so nothing larger
is ever buffered or parsed. (A body longer than its declared length is cut by the HTTP server.)
"""

from __future__ import annotations

from typing import Any

from offchain.api.context import ApiContext
from offchain.api.errors import error_response

MAX_BODY_BYTES = 64 * 1024


def _message(limit: int) -> str:
    return f"request bodies may be at most {limit} bytes ({limit // 1024} KiB)"


def too_large(limit: int):
    return error_response("body_too_large", _message(limit), 413)


async def read_capped(receive, limit: int) -> list[dict] | None:
    """Read a body of unknown length, at most `limit` bytes of it; None once it passes the limit."""
    messages, seen = [], 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages
        seen += len(message.get("body", b""))
        if seen > limit:
            return None
        if not message.get("more_body", False):
            return messages


def replay(messages: list[dict], receive):
    """A `receive` that hands out `messages` first, then the real one (for the disconnect)."""
    queue = list(messages)

    async def replayed():
        return queue.pop(0) if queue else await receive()

    return replayed


def guard(ctx: ApiContext, wrapped: Any, max_body: int = MAX_BODY_BYTES) -> Any:
    """Wrap the app: refuse over-budget clients (429, or a 1008 close for WebSockets), count requests."""
    telemetry = ctx.telemetry

    async def app(scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await wrapped(scope, receive, send)
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        wait = ctx.ip_buckets.take(ip)
        if wait:
            telemetry.inc("breakwater_api_refusals_total", "rate_limited")
            if scope["type"] == "websocket":  # closed before the handshake: the client sees 403
                return await send({"type": "websocket.close", "code": 1008, "reason": "rate_limited"})
            telemetry.inc("breakwater_api_requests_total", scope["method"], "limited", "429")
            response = error_response(
                "rate_limited",
                "too many requests from this address",
                429,
                {"Retry-After": str(int(wait) + 1)},
            )
            return await response(scope, receive, send)
        if scope["type"] == "websocket":
            return await wrapped(scope, receive, send)
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_body):
            telemetry.inc("breakwater_api_refusals_total", "body_too_large")
            telemetry.inc("breakwater_api_requests_total", scope["method"], "limited", "413")
            return await too_large(max_body)(scope, receive, send)
        if declared is None and scope["type"] == "http":
            # no length declared (chunked): read at most the limit before anything parses it
            messages = await read_capped(receive, max_body)
            if messages is None:
                telemetry.inc("breakwater_api_refusals_total", "body_too_large")
                telemetry.inc("breakwater_api_requests_total", scope["method"], "limited", "413")
                return await too_large(max_body)(scope, receive, send)
            receive = replay(messages, receive)
        status = [0]

        async def counting_send(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                if message["status"] < 400:
                    # the client's own IP budget: burst size, whole requests left, seconds to full
                    left, reset = ctx.ip_buckets.left(ip)
                    message = {
                        **message,
                        "headers": [
                            *message.get("headers", ()),
                            (b"x-ratelimit-limit", str(ctx.ip_buckets.burst).encode()),
                            (b"x-ratelimit-remaining", str(left).encode()),
                            (b"x-ratelimit-reset", str(reset).encode()),
                        ],
                    }
            await send(message)

        try:
            await wrapped(scope, receive, counting_send)
        finally:
            route = getattr(scope.get("route"), "path", "other")
            telemetry.inc("breakwater_api_requests_total", scope["method"], route, str(status[0]))

    return app
