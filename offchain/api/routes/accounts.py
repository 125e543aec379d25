"""Accounts: one account's balances, lending, borrows, positions, margin and open orders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam

from offchain.api import views
from offchain.api.context import ACCOUNT_PATTERN, ApiContext, named
from offchain.api.errors import responses


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(tags=["accounts"])
    service = ctx.service

    @api.get(
        "/accounts/{account}",
        responses=responses("bad_request"),
        summary="Balances, lending, borrows, positions, margin and open orders",
    )
    def get_account(account: Annotated[str, PathParam(pattern=ACCOUNT_PATTERN)]) -> dict:
        name = named(account)
        return service.read(
            lambda engine: views.account_view(engine, name, ctx.rates.get(engine, service.clock_ms()))
        )

    return api
