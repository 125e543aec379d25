"""The HTTP and WebSocket API, and the dashboard it serves.

    app = create_app(service, domain=Domain(chain_id, custody_address))
    uvicorn.run(app, host="127.0.0.1", port=8000)

Writes (`POST /orders`, `DELETE /orders/...`, `POST /withdrawals`) and the proof of reserves are
EIP-712 requests signed by the account's key (`signing.py`); each carries a nonce, accepted once
(`nonces.py`: durable, in the journal's database), and an expiry at most `max_expiry_s` ahead. A wallet's
engine account is its checksummed address (`signing.account_name`). Market data is public; an
account's own data (balances, orders, withdrawals, its WebSocket channel) only to a read session the
account signed (`auth.py`).

Errors are `{"code", "message"}` (`errors.py`), worded in decimal units (`messages.py`); amounts are
decimal strings (`views.py`). Rate
limits: a token bucket per client IP for every request, and one per account for signed requests
(checked after the signature, so that nobody can spend another account's budget).

`service.chain_status` (filled by the daemon's chain watcher) is served as is under `chain` in
`/status`; the dashboard reads these keys when present:
`pool: {symbol, price, reserves}`, `reserves: {ASSET: {ratio_bps, reserves, liabilities}}`,
`attestation: {epoch, age_s, fresh, heartbeat_s}`, `insurance_fund: {ASSET: amount}`, `paused`, `block`.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from offchain.api import middleware, order_entry
from offchain.api.context import MAX_EXPIRY_S, ApiContext
from offchain.api.errors import install_handlers
from offchain.api.nonces import NonceBook, nonces_for
from offchain.api.prometheus import Telemetry
from offchain.api.ratelimit import RateLimit
from offchain.api.routes import (
    accounts,
    amend,
    candles,
    dashboard,
    lending,
    makers,
    markets,
    ops,
    orders,
    por,
    stream,
    terminal,
    withdrawals,
)
from offchain.api.signing import Domain
from offchain.api.stream import BreakerLog, Hub, StatusCache
from offchain.api.tape import PersistentTape

STATIC_DIR = Path(__file__).resolve().parent / "static"
# every router, in the order their routes are matched and listed in the OpenAPI schema
ROUTERS = (
    orders,
    amend,
    withdrawals,
    por,
    markets,
    candles,
    accounts,
    makers,
    lending,
    ops,
    stream,
    terminal,
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
    dlp_desk: Any = None,
) -> FastAPI:
    """Build the API over a running `ExchangeService`.

    `nonces` defaults to a table in the journal's own database (durable across restarts).
    `static_dir=None` serves no dashboard. `dlp_desk` (`offchain.chain.dlp.DlpDesk`) serves the
    operator's designations (`/ops/designations`).
    """
    telemetry = Telemetry()
    breaker_log = BreakerLog()
    status_cache = StatusCache(service, breaker_log, ttl_ms=min(status_ms, 1000))
    ctx = ApiContext(
        service=service,
        domain=domain,
        limits=rate_limit or RateLimit(),
        nonce_book=nonces if nonces is not None else nonces_for(service.runner.store),
        telemetry=telemetry,
        tape=PersistentTape(service),  # the public tape, kept in the journal's database
        breaker_log=breaker_log,
        status_cache=status_cache,
        hub=Hub(service, flush_ms=flush_ms, status_ms=status_ms, telemetry=telemetry, status=status_cache),
        max_expiry_s=max_expiry_s,
        dlp_desk=dlp_desk,
    )
    detach = [
        service.subscribe(fn)
        for fn in (telemetry.observe, ctx.tape.observe, breaker_log.observe, status_cache.observe)
    ]

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await ctx.hub.start()
        try:
            yield
        finally:
            await ctx.hub.stop()

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
    app.state.ctx = ctx
    app.state.service = service
    app.state.hub = ctx.hub
    app.state.telemetry = telemetry
    app.state.nonces = ctx.nonce_book
    app.state.tape = ctx.tape

    def close() -> None:
        """Stop feeding this app from the service (tests that build many apps over one service)."""
        for unsubscribe in detach:
            unsubscribe()
        ctx.tape.close()

    app.state.close = close

    install_handlers(app, telemetry)
    inner = app.build_middleware_stack
    app.build_middleware_stack = lambda: middleware.guard(ctx, order_entry.fast_path(ctx, inner()))

    for module in ROUTERS:
        app.include_router(module.router(ctx))
    if static_dir is not None:
        dashboard.mount(app, Path(static_dir))
        terminal.mount(app, Path(static_dir))
    return app
