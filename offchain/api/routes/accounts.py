"""Accounts: one account's balances, lending, borrows, positions, margin and open orders (private:
only to a read session the account signed, see `offchain/api/auth.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.security import HTTPAuthorizationCredentials

from offchain.api import auth, views
from offchain.api.context import ACCOUNT_PATTERN, ApiContext, named
from offchain.api.errors import responses

Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(auth.bearer)]


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(tags=["accounts"])
    service = ctx.service

    @api.get(
        "/accounts/{account}",
        responses=responses("bad_request", *auth.PRIVATE),
        summary="Balances, lending, borrows, positions, margin and open orders (the account's read session)",
    )
    def get_account(
        request: Request, account: Annotated[str, PathParam(pattern=ACCOUNT_PATTERN)], _: Bearer = None
    ) -> dict:
        name = named(account)
        auth.owner(ctx, request, name)
        return service.read(
            lambda engine: views.account_view(engine, name, ctx.rates.get(engine, service.clock_ms()))
        )

    @api.get(
        "/session",
        responses=responses(*auth.PRIVATE[:-1]),
        summary="The read session this request carries: its account and expiry",
    )
    def get_session(request: Request, _: Bearer = None) -> dict:
        session = ctx.sessions.verify(auth.bearer_of(request), ctx.now_s())
        return {"account": session.account, "nonce": str(session.nonce), "expiry": session.expiry}

    return api
