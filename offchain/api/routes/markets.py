"""Market data: markets, the aggregated book and the public trade tape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParam

from offchain.api import views
from offchain.api.context import ApiContext, market_or_404
from offchain.api.errors import responses
from offchain.api.stream import public_trade


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(tags=["markets"])
    service = ctx.service

    @api.get("/markets", summary="Every market: parameters, state, prices")
    def markets() -> list[dict]:
        return service.read(
            lambda engine: [views.market_view(engine, m) for _, m in sorted(engine.markets.items())]
        )

    @api.get("/book/{symbol}", responses=responses("unknown_market"), summary="Aggregated order book")
    async def book(
        symbol: Annotated[str, PathParam(max_length=32)], depth: Annotated[int, Query(ge=1, le=500)] = 20
    ) -> dict:
        # on the event loop, like the stream's deltas: `seq` and the levels belong to one instant
        return service.read(lambda engine: ctx.hub.book_at_seq(market_or_404(engine, symbol), depth))

    @api.get("/trades", responses=responses("unknown_market"), summary="Recent trades, newest first")
    def trades(
        symbol: Annotated[str | None, Query(max_length=32)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict]:
        def read(engine):
            if symbol is not None:
                market_or_404(engine, symbol)
            return [views.format_event(engine, t) for t in ctx.tape.recent(symbol, limit)]

        return [public_trade(t) for t in service.read(read)]

    return api
