"""`/ws`: the WebSocket stream (public channels and an account's own channel)."""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from offchain.api import ws_orders
from offchain.api.auth import StreamGuard
from offchain.api.context import ADDRESS_RE, ApiContext
from offchain.api.signing import account_name
from offchain.api.stream import PUBLIC_CHANNELS


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter()
    hub = ctx.hub

    @api.websocket("/ws")
    async def stream(
        websocket: WebSocket,
        channels: str | None = None,
        account: str | None = None,
        session: str | None = None,
    ) -> None:
        """Subscribe with `?channels=book,trades&account=0x..&session=<read session>` or messages
        `{"op": "subscribe"|"unsubscribe", "channels": [...], "session": ...}`; default: every public
        channel. An account's channel needs that account's signed read session (`auth.py`)."""
        await websocket.accept()
        await hub.ensure_started()
        guard = StreamGuard(ctx)
        wanted = channels_named(channels.split(",") if channels else list(PUBLIC_CHANNELS), account)
        wanted, refused = guard.allowed(wanted, session)
        conn = await hub.connect(wanted)
        for message in refused:
            conn.put(message)
        guard.arm(conn)

        async def pump() -> None:
            while True:
                message = await conn.queue.get()
                if message is None:
                    await websocket.close(code=1013 if conn.lagged else 1000)
                    return
                await websocket.send_text(json.dumps(message, separators=(",", ":")))

        sender = asyncio.create_task(pump())
        try:
            while True:
                try:
                    request = await websocket.receive_json()
                except (ValueError, KeyError, RecursionError):  # not JSON, or nested past the parser
                    conn.put(
                        {"channel": "error", "type": "bad_request", "data": {"message": "send JSON objects"}}
                    )
                    continue
                op = request.get("op") if isinstance(request, dict) else None
                op = op if isinstance(op, str | None) else repr(op)  # a list or an object: an unknown op
                asked = request.get("channels", []) if isinstance(request, dict) else []
                if op in ("subscribe", "unsubscribe") and isinstance(asked, list):
                    named = request.get("account")
                    change = channels_named(
                        [str(c) for c in asked], named if isinstance(named, str) else None
                    )
                    if op == "subscribe":
                        raw = request.get("session")
                        change, refused = guard.allowed(change, raw if isinstance(raw, str) else None)
                        for message in refused:
                            conn.put(message)
                        conn.channels |= change
                        guard.arm(conn)
                        await hub.greet(conn, change)
                    else:
                        conn.channels -= change
                    conn.put({"channel": "control", "type": "subscribed", "data": sorted(conn.channels)})
                elif op == "ping":
                    conn.put({"channel": "control", "type": "pong", "data": {}})
                elif op in ws_orders.OPS:  # signed order entry, answered on this connection
                    ws_orders.handle(ctx, conn, request, websocket.client.host if websocket.client else "")
                else:
                    conn.put(
                        {"channel": "error", "type": "bad_request", "data": {"message": f"unknown op {op!r}"}}
                    )
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client left, or the pump closed the socket under a lagging client
        finally:
            guard.close()
            hub.disconnect(conn)
            sender.cancel()

    return api


def channels_named(names: list[str], account: str | None) -> set[str]:
    out = set()
    for name in names:
        name = name.strip()
        if name in PUBLIC_CHANNELS:
            out.add(name)
        elif name.startswith("account:") and ADDRESS_RE.match(name[8:]):
            out.add("account:" + account_name(name[8:]))
        elif name == "account" and account and ADDRESS_RE.match(account):
            out.add("account:" + account_name(account))
    if account and ADDRESS_RE.match(account):
        out.add("account:" + account_name(account))
    return out
