"""The HTTP and WebSocket API, and the dashboard it serves.

    app = create_app(service, domain=Domain(chain_id, custody_address))
    uvicorn.run(app, host="127.0.0.1", port=8000)

Writes (`POST /orders`, `DELETE /orders/...`, `POST /withdrawals`) and the proof of reserves are
EIP-712 requests signed by the account's key (`signing.py`); each carries a nonce, accepted once
(`nonces.py`: durable, in the journal's database), and an expiry at most `max_expiry_s` ahead. A wallet's
engine account is its checksummed address (`signing.account_name`). Reads are public.

Errors are `{"code", "message"}` (`errors.py`); amounts are decimal strings (`views.py`). Rate
limits: a token bucket per client IP for every request, and one per account for signed requests
(checked after the signature, so that nobody can spend another account's budget).

`service.chain_status` (filled by the daemon's chain watcher) is served as is under `chain` in
`/status`; the dashboard reads these keys when present:
`pool: {symbol, price, reserves}`, `reserves: {ASSET: {ratio_bps, reserves, liabilities}}`,
`attestation: {epoch, age_s, fresh, heartbeat_s}`, `insurance_fund: {ASSET: amount}`, `paused`, `block`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI, Query, Request, WebSocket, WebSocketDisconnect
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from offchain.api import views
from offchain.api.errors import ApiError, responses
from offchain.api.models import (
    CancelResult,
    OrderResult,
    ProofResult,
    SignedCancel,
    SignedOrder,
    SignedWithdraw,
    Withdrawal,
    WithdrawalResult,
)
from offchain.api.nonces import NonceBook, nonces_for
from offchain.api.prometheus import CONTENT_TYPE, Telemetry
from offchain.api.ratelimit import RateLimit, TokenBuckets
from offchain.api.signing import (
    CANCEL_TYPES,
    ORDER_TYPES,
    PROOF_REQUEST_TYPES,
    WITHDRAW_TYPES,
    Domain,
    SignatureError,
    account_name,
    typed_data,
    verify,
)
from offchain.api.stream import PUBLIC_CHANNELS, BreakerLog, Hub, StatusCache, TradeTape, public_trade
from offchain.core import commands as C
from offchain.core.codec import CommandFormatError, event_to_dict, parse_command
from offchain.core.events import Rejected

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_EXPIRY_S = 86_400
ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
NAME_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
ACCOUNT_PATTERN = r"^(0x[0-9a-fA-F]{40}|[A-Za-z0-9_.:-]{1,64})$"  # a wallet address or a plain account name
SIGNED = ("bad_signature", "expired", "expiry_too_far", "nonce_reused", "rate_limited", "bad_request")
# what the engine may answer a withdrawal with (core, risk and treasury checks)
WITHDRAW_REFUSALS = (
    "unknown_account",
    "unknown_asset",
    "bad_amount",
    "insufficient_balance",
    "insufficient_margin",
    "insufficient_liquidity",
    "negative_equity",
    "withdrawals_paused",
)


def create_app(
    service: Any,
    *,
    domain: Domain,
    rate_limit: RateLimit | None = None,
    static_dir: Path | str | None = STATIC_DIR,
    nonces: NonceBook | None = None,
    max_expiry_s: int = MAX_EXPIRY_S,
    flush_ms: int = 200,
    status_ms: int = 1000,
) -> FastAPI:
    """Build the API over a running `ExchangeService`.

    `nonces` defaults to a table in the journal's own database (durable across restarts).
    `static_dir=None` serves no dashboard.
    """
    limits = rate_limit or RateLimit()
    ip_buckets = TokenBuckets(limits.ip_per_s, limits.ip_burst)
    account_buckets = TokenBuckets(limits.account_per_s, limits.account_burst)
    nonce_book = nonces if nonces is not None else nonces_for(service.runner.store)
    telemetry = Telemetry()
    tape = TradeTape()
    rates = views.PoolRates()
    breaker_log = BreakerLog()
    status_cache = StatusCache(service, breaker_log, ttl_ms=min(status_ms, 1000))
    hub = Hub(service, flush_ms=flush_ms, status_ms=status_ms, telemetry=telemetry, status=status_cache)
    detach = [
        service.subscribe(fn)
        for fn in (telemetry.observe, tape.observe, breaker_log.observe, status_cache.observe)
    ]

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()

    app = FastAPI(
        title="Breakwater exchange API",
        version="1",
        description=(
            "Orders and cancels are EIP-712 typed data signed by the account's key, with a nonce and "
            "an expiry (GET /eip712 gives the domain and types). Amounts are decimal strings. Errors "
            'are {"code", "message"}. WebSocket streams: /ws.'
        ),
        lifespan=lifespan,
        docs_url=None,  # the Swagger and ReDoc pages load their scripts from a CDN; /openapi.json stays
        redoc_url=None,
    )
    app.state.service = service
    app.state.hub = hub
    app.state.telemetry = telemetry
    app.state.nonces = nonce_book
    app.state.tape = tape

    def close() -> None:
        """Stop feeding this app from the service (tests that build many apps over one service)."""
        for unsubscribe in detach:
            unsubscribe()

    app.state.close = close

    # -- errors ---------------------------------------------------------------------------------
    def error_response(code: str, message: str, status: int, headers: dict | None = None) -> JSONResponse:
        return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        if exc.code in SIGNED or exc.code in ("not_owner", "no_proof"):
            telemetry.inc("breakwater_api_refusals_total", exc.code)
        return error_response(exc.code, exc.message, exc.status, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
        telemetry.inc("breakwater_api_refusals_total", "bad_request")
        return error_response("bad_request", f"{where}: {first.get('msg', 'invalid')}", 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette lists the methods of the first route that matched the path only
            allowed = set()
            for route in app.routes:
                regex, methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
                if regex is not None and methods and regex.match(request.url.path):
                    allowed |= methods
            headers = {"Allow": ", ".join(sorted(allowed))}
        return error_response(code, str(exc.detail), exc.status_code, headers)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response("internal", "internal error", 500)

    # -- the IP rate limit and request counting (pure ASGI: no per-request task) ----------------
    inner = app.build_middleware_stack

    def build_middleware_stack():
        wrapped = inner()

        async def guard(scope, receive, send):
            if scope["type"] not in ("http", "websocket"):
                return await wrapped(scope, receive, send)
            client = scope.get("client")
            wait = ip_buckets.take(client[0] if client else "unknown")
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

        return guard

    app.build_middleware_stack = build_middleware_stack

    # -- helpers ------------------------------------------------------------------------------------
    def now_s() -> int:
        return max(service.clock_ms(), service.engine.now) // 1000

    def authorise(primary_type: str, message: dict, signature: str) -> str:
        """Check signature, expiry, the account's rate limit and the nonce; return the account."""
        now = now_s()
        try:
            signer = verify(domain, primary_type, message, signature, now)
        except SignatureError as err:
            raise ApiError(err.code, err.message) from None
        if message["expiry"] > now + max_expiry_s:
            raise ApiError("expiry_too_far", f"expiry may be at most {max_expiry_s}s ahead (now {now})")
        account = account_name(signer)
        wait = account_buckets.take(account)
        if wait:
            raise ApiError(
                "rate_limited",
                f"too many signed requests from {account}",
                headers={"Retry-After": str(int(wait) + 1)},
            )
        try:
            nonce_book.claim(account, message["nonce"], message["expiry"], now)
        except SignatureError as err:
            raise ApiError(err.code, err.message) from None
        return account

    def refused(events: list, cmd: str, account: str) -> None:
        """Raise the engine's rejection of our command (timers due before it may have run too)."""
        for e in events:
            if isinstance(e, Rejected) and e.cmd == cmd and e.account == account:
                raise ApiError(e.code, e.message)

    def submit_wire(wire: dict, account: str) -> list:
        """Parse `wire` (decimal strings), submit it and raise the engine's refusal; hold `service.lock`."""
        try:
            cmd = parse_command(wire, service.engine)
        except CommandFormatError as exc:
            raise ApiError("bad_request", str(exc)) from None
        events = service.submit(cmd)
        refused(events, wire["cmd"], account)
        return events

    def named(account: str) -> str:
        """An account path parameter: a wallet address (any case) or a plain account name."""
        if ADDRESS_RE.match(account):
            return account_name(account)
        if NAME_RE.match(account):
            return account
        raise ApiError("bad_request", f"account: {account!r} is neither an address nor an account name")

    def market_or_404(engine, symbol: str):
        market = engine.markets.get(symbol)
        if market is None:
            raise ApiError("unknown_market", f"no market {symbol!r}")
        return market

    def formatted(engine, events: list, account: str) -> list[dict]:
        return views.events_for(engine, [event_to_dict(e) for e in events], account)

    # -- signed writes --------------------------------------------------------------------------------
    @app.post(
        "/orders",
        response_model=OrderResult,
        responses=responses(*SIGNED, "insufficient_balance", "unknown_market"),
        summary="Place an order signed by its account",
        tags=["orders"],
    )
    def place_order(body: SignedOrder) -> OrderResult:
        msg = body.order.model_dump()
        account = authorise("Order", msg, body.signature)
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
        with service.lock:
            engine = service.engine
            events = submit_wire(wire, account)
            oid = next(
                e.oid
                for e in events
                if e.EVENT == "accepted" and e.account == account and e.client_id == msg["client_id"]
            )
            order = engine.order_by_client_id(account, msg["client_id"])
            open_view = views.order_view(engine, order) if order is not None and order.oid == oid else None
            filled = any(e.EVENT == "trade" and oid in (e.maker_oid, e.taker_oid) for e in events)
            status = "open" if open_view else ("filled" if filled else "cancelled")
            return OrderResult(
                oid=oid,
                client_id=msg["client_id"],
                status=status,
                order=open_view,
                events=formatted(engine, events, account),
            )

    def cancel(body: SignedCancel, *, oid: int | None, client_id: str | None) -> CancelResult:
        msg = body.cancel.model_dump()
        if oid is not None and (msg["oid"] != oid or msg["client_id"]):
            raise ApiError("bad_request", "the signed cancel must name this oid and no client_id")
        if client_id is not None and (msg["client_id"] != client_id or msg["oid"]):
            raise ApiError("bad_request", "the signed cancel must name this client_id and oid 0")
        account = authorise("Cancel", msg, body.signature)
        with service.lock:
            engine = service.engine
            if oid is not None:
                order = views.find_order(engine, oid)
                if order is not None and order.owner != account:
                    raise ApiError("not_owner", f"order {oid} belongs to another account")
            events = service.submit(C.Cancel(0, account, client_id, oid))
            refused(events, "cancel", account)
            done = next(e for e in events if e.EVENT == "cancelled" and e.account == account)
            return CancelResult(
                oid=done.oid,
                client_id=done.client_id,
                cancelled_qty=views.qty(engine, done.symbol, done.qty),
                events=formatted(engine, events, account),
            )

    @app.delete(
        "/orders/{oid}",
        response_model=CancelResult,
        responses=responses(*SIGNED, "not_owner", "unknown_order"),
        summary="Cancel an order by its engine id (signed Cancel)",
        tags=["orders"],
    )
    def cancel_by_oid(
        oid: Annotated[int, PathParam(ge=1, lt=2**63)], body: Annotated[SignedCancel, Body()]
    ) -> CancelResult:
        return cancel(body, oid=oid, client_id=None)

    @app.delete(
        "/orders/by-client-id/{client_id}",
        response_model=CancelResult,
        responses=responses(*SIGNED, "unknown_order"),
        summary="Cancel an order by its client id (signed Cancel)",
        tags=["orders"],
    )
    def cancel_by_client_id(
        client_id: Annotated[str, PathParam(min_length=1, max_length=64)],
        body: Annotated[SignedCancel, Body()],
    ) -> CancelResult:
        return cancel(body, oid=None, client_id=client_id)

    @app.post(
        "/withdrawals",
        response_model=WithdrawalResult,
        responses=responses(*SIGNED, *WITHDRAW_REFUSALS),
        summary="Withdraw to the account's own address (signed Withdraw)",
        tags=["withdrawals"],
    )
    def request_withdrawal(body: SignedWithdraw) -> WithdrawalResult:
        """Debit the free balance now; the daemon pays it through `Custody.withdraw`, once.

        Refused with the engine's code when the balance, the margin (`insufficient_margin`,
        `negative_equity`) or a protocol pause (`withdrawals_paused`) forbids it.
        """
        msg = body.withdraw.model_dump()
        account = authorise("Withdraw", msg, body.signature)
        wire = {
            "cmd": "withdraw",
            "ts": 0,
            "account": account,
            "asset": msg["asset"],
            "amount": msg["amount"],
        }
        with service.lock:
            engine = service.engine
            events = submit_wire(wire, account)
            wid = next(e.wid for e in events if e.EVENT == "withdrawal_requested" and e.account == account)
            (record,) = [w for w in views.withdrawals_view(engine, account) if w["wid"] == wid]
            return WithdrawalResult(
                withdrawal=Withdrawal(**record), events=formatted(engine, events, account)
            )

    @app.get(
        "/por/proof/{address}",
        response_model=ProofResult,
        responses=responses(*SIGNED, "not_owner", "no_proof"),
        summary="The owner's salt and inclusion proof (signed ProofRequest)",
        tags=["proof of reserves"],
    )
    def por_proof(
        address: Annotated[str, PathParam(pattern=r"^0x[0-9a-fA-F]{40}$")],
        nonce: Annotated[int, Query(ge=0, lt=2**256)],
        expiry: Annotated[int, Query(ge=0, le=2**53)],
        signature: Annotated[str, Query(pattern=r"^0x[0-9a-fA-F]{0,260}$")],
        account: Annotated[
            str | None, Query(pattern=r"^0x[0-9a-fA-F]{40}$", description="the requester")
        ] = None,
    ) -> ProofResult:
        requester = account or address
        who = authorise("ProofRequest", {"account": requester, "nonce": nonce, "expiry": expiry}, signature)
        owner = account_name(address)
        if who != owner:
            raise ApiError("not_owner", "a proof is given only to its own account")
        epoch = service.por_epoch()
        proof = service.por_proof(owner)
        if epoch is None or proof is None:
            raise ApiError("no_proof", f"no attested epoch includes {owner} yet")
        return ProofResult(epoch=views.json_safe(epoch), proof=views.json_safe(proof))

    # -- public reads ---------------------------------------------------------------------------------
    @app.get("/eip712", summary="The EIP-712 domain and types requests are signed with", tags=["orders"])
    def eip712() -> dict:
        return {
            "domain": typed_data(domain, "Order", {})["domain"],
            "types": {**ORDER_TYPES, **CANCEL_TYPES, **WITHDRAW_TYPES, **PROOF_REQUEST_TYPES},
            "max_expiry_s": max_expiry_s,
        }

    @app.get(
        "/orders", responses=responses("bad_request"), summary="An account's open orders", tags=["orders"]
    )
    def open_orders(account: Annotated[str, Query(pattern=ACCOUNT_PATTERN)]) -> list[dict]:
        name = named(account)
        return service.read(lambda engine: [views.order_view(engine, o) for o in engine.open_orders(name)])

    @app.get(
        "/withdrawals",
        response_model=list[Withdrawal],
        responses=responses("bad_request"),
        summary="An account's withdrawals, newest first: requested, paid with the transaction, or refunded",
        tags=["withdrawals"],
    )
    def withdrawals(
        account: Annotated[str, Query(pattern=ACCOUNT_PATTERN)],
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[Withdrawal]:
        name = named(account)
        return [
            Withdrawal(**w) for w in service.read(lambda engine: views.withdrawals_view(engine, name, limit))
        ]

    @app.get(
        "/accounts/{account}",
        responses=responses("bad_request"),
        summary="Balances, lending, borrows, positions, margin and open orders",
        tags=["accounts"],
    )
    def get_account(account: Annotated[str, PathParam(pattern=ACCOUNT_PATTERN)]) -> dict:
        name = named(account)
        return service.read(
            lambda engine: views.account_view(engine, name, rates.get(engine, service.clock_ms()))
        )

    @app.get("/markets", summary="Every market: parameters, state, prices", tags=["markets"])
    def markets() -> list[dict]:
        return service.read(
            lambda engine: [views.market_view(engine, m) for _, m in sorted(engine.markets.items())]
        )

    @app.get(
        "/book/{symbol}",
        responses=responses("unknown_market"),
        summary="Aggregated order book",
        tags=["markets"],
    )
    def book(
        symbol: Annotated[str, PathParam(max_length=32)], depth: Annotated[int, Query(ge=1, le=500)] = 20
    ) -> dict:
        def read(engine):
            return views.book_view(engine, market_or_404(engine, symbol), depth)

        return service.read(read)

    @app.get(
        "/trades",
        responses=responses("unknown_market"),
        summary="Recent trades, newest first",
        tags=["markets"],
    )
    def trades(
        symbol: Annotated[str | None, Query(max_length=32)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict]:
        def read(engine):
            if symbol is not None:
                market_or_404(engine, symbol)
            return [views.format_event(engine, t) for t in tape.recent(symbol, limit)]

        return [public_trade(t) for t in service.read(read)]

    @app.get(
        "/status",
        summary="Breaker state and metrics per market, reserves and freshness, insurance fund, alerts",
        tags=["status"],
    )
    def status() -> dict:
        return status_cache.get()

    @app.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics", tags=["status"])
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(telemetry.render(service), media_type=CONTENT_TYPE)

    # -- the stream -----------------------------------------------------------------------------------
    @app.websocket("/ws")
    async def stream(websocket: WebSocket, channels: str | None = None, account: str | None = None) -> None:
        """Subscribe with `?channels=book,trades&account=0x..` or messages
        `{"op": "subscribe"|"unsubscribe", "channels": [...]}`; default: every public channel."""
        await websocket.accept()
        await hub.ensure_started()
        wanted = _channels(channels.split(",") if channels else list(PUBLIC_CHANNELS), account)
        conn = await hub.connect(wanted)

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
                except (ValueError, KeyError):
                    conn.put(
                        {"channel": "error", "type": "bad_request", "data": {"message": "send JSON objects"}}
                    )
                    continue
                op = request.get("op") if isinstance(request, dict) else None
                asked = request.get("channels", []) if isinstance(request, dict) else []
                if op in ("subscribe", "unsubscribe") and isinstance(asked, list):
                    change = _channels([str(c) for c in asked], request.get("account"))
                    if op == "subscribe":
                        conn.channels |= change
                        await hub.greet(conn, change)
                    else:
                        conn.channels -= change
                    conn.put({"channel": "control", "type": "subscribed", "data": sorted(conn.channels)})
                elif op == "ping":
                    conn.put({"channel": "control", "type": "pong", "data": {}})
                else:
                    conn.put(
                        {"channel": "error", "type": "bad_request", "data": {"message": f"unknown op {op!r}"}}
                    )
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client left, or the pump closed the socket under a lagging client
        finally:
            hub.disconnect(conn)
            sender.cancel()

    # -- the dashboard --------------------------------------------------------------------------------
    if static_dir is not None:
        static_path = Path(static_dir)
        app.mount("/static", StaticFiles(directory=static_path), name="static")

        @app.get("/", include_in_schema=False)
        def dashboard() -> FileResponse:
            return FileResponse(static_path / "index.html")

    return app


def _channels(names: list[str], account: str | None) -> set[str]:
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
