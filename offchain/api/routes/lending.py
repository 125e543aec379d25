"""Lending as a choice (seed 002: no customer's funds lent behind their back; seed 003: lending is a
feature): per account and asset, auto-lend on or off.

The default is **on** (the engine's: a positive balance is supplied to its asset's lending pool and
earns the supply rate), shown as `default: true` beside each asset's `enabled`. `POST /accounts/{account}/lending` (signed EIP-712 `Lend`: asset, enabled) switches one
asset; the engine's `lend` command takes the balance out of (or back into) the pool from that
instant, so an opted-out balance earns nothing and cannot be borrowed by anyone. `GET` shows, per
listed asset: `enabled`, what the account supplies now and the supply APR (private, like
every account read: the account's read session, `offchain/api/auth.py`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from fastapi import Path as PathParam
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field

from offchain.api import auth, views
from offchain.api.context import ACCOUNT_PATTERN, SIGNED, ApiContext, named
from offchain.api.errors import ApiError, responses
from offchain.api.models import Address, Expiry, Signature, Uint256

Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(auth.bearer)]


class LendMessage(BaseModel):
    """The EIP-712 `Lend` a wallet signs: auto-lend of `asset` on or off for `account`."""

    model_config = ConfigDict(extra="forbid")

    account: Address
    asset: Annotated[str, Field(min_length=1, max_length=32, examples=["USDC"])]
    enabled: bool
    nonce: Uint256
    expiry: Expiry


class SignedLend(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lend: LendMessage
    signature: Signature


def lending_view(engine: Any, name: str, rates: dict[str, dict] | None = None) -> dict:
    """Per asset with a lending pool: the account's choice, what it supplies and the supply APR."""
    risk = views.module(engine, "risk")
    out: dict[str, Any] = {"account": name, "default": True, "assets": {}}
    if risk is None:
        return out
    acct = engine.accounts.get(name)
    for asset in sorted(risk.pools):
        pool = risk.pools[asset]
        balance = acct.balance.get(asset, 0) if acct is not None else 0
        enabled = name not in pool.opted_out
        entry = {
            "enabled": enabled,
            "supplied": views.units(engine, asset, pool.supplies(name, balance)),
            "not_lent": views.units(engine, asset, balance if balance > 0 and not enabled else 0),
        }
        rate = (rates or {}).get(asset)
        if rate:
            entry["supply_apr_ppm"] = rate["supply_apr_ppm"] if enabled else 0
        out["assets"][asset] = entry
    return out


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(tags=["accounts"])
    service = ctx.service

    @api.get(
        "/accounts/{account}/lending",
        responses=responses("bad_request", *auth.PRIVATE),
        summary="Auto-lend per asset: on or off, what is supplied, the supply APR (the account's read session)",
    )
    def get_lending(
        request: Request, account: Annotated[str, PathParam(pattern=ACCOUNT_PATTERN)], _: Bearer = None
    ) -> dict:
        name = named(account)
        auth.owner(ctx, request, name)
        return service.read(
            lambda engine: lending_view(engine, name, ctx.rates.get(engine, service.clock_ms()))
        )

    @api.post(
        "/accounts/{account}/lending",
        responses=responses(*SIGNED, "unknown_asset", "unknown_account"),
        summary="Turn auto-lend of one asset on or off (signed Lend)",
    )
    def set_lending(
        account: Annotated[str, PathParam(pattern=ACCOUNT_PATTERN)], body: Annotated[SignedLend, Body()]
    ) -> dict:
        msg = body.lend.model_dump()
        if named(account) != named(msg["account"]):
            raise ApiError("bad_request", "the signed Lend must name the account of the path")
        signer = ctx.authorise("Lend", msg, body.signature)
        with service.lock:
            engine = service.engine
            wire = {
                "cmd": "lend",
                "ts": 0,
                "account": signer,
                "asset": msg["asset"],
                "enabled": msg["enabled"],
            }
            events = ctx.submit_wire(wire, signer)
            ctx.rates = views.PoolRates(ctx.rates.ttl_ms)  # supplied totals changed: recompute the rates
            view = lending_view(engine, signer, ctx.rates.get(engine, service.clock_ms()))
            view["events"] = ctx.formatted(engine, events, signer)
            return view

    return api
