"""The outer ASGI layer: the per-IP rate limit and request counting (pure ASGI: no per-request task)."""

from __future__ import annotations

from typing import Any

from offchain.api.context import ApiContext
from offchain.api.errors import error_response


def guard(ctx: ApiContext, wrapped: Any) -> Any:
    """Wrap the app: refuse over-budget clients (429, or a 1008 close for WebSockets), count requests."""
    telemetry = ctx.telemetry

    async def app(scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await wrapped(scope, receive, send)
        client = scope.get("client")
        wait = ctx.ip_buckets.take(client[0] if client else "unknown")
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
        status = [0]

        async def counting_send(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await wrapped(scope, receive, counting_send)
        finally:
            route = getattr(scope.get("route"), "path", "other")
            telemetry.inc("breakwater_api_requests_total", scope["method"], route, str(status[0]))

    return app
