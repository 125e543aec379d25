"""Operations: `/status` (breaker, reserves, alerts) and `/metrics` (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from offchain.api.context import ApiContext
from offchain.api.prometheus import CONTENT_TYPE


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(tags=["status"])

    @api.get(
        "/status",
        summary="Breaker state and metrics per market, reserves and freshness, insurance fund, alerts",
    )
    def status() -> dict:
        return ctx.status_cache.get()

    @api.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(ctx.telemetry.render(ctx.service), media_type=CONTENT_TYPE)

    return api
