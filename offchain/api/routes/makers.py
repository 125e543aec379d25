"""Market makers: a designated maker reads its own compliance (private: only to a read session the
account signed, see `offchain/api/auth.py`) — its obligations, the running period so far and its
closed periods with the rebate each paid (amounts in quote units, shares as fractions)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.security import HTTPAuthorizationCredentials

from offchain.api import auth
from offchain.api.context import ACCOUNT_PATTERN, ApiContext, named
from offchain.api.errors import responses
from offchain.core.build import makers_module
from offchain.core.messages.codec import format_units

Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(auth.bearer)]
PPM = 1_000_000


def _fraction(ppm: int) -> str:
    return format_units(ppm, 6)


def compliance_view(engine: Any, account: str) -> dict:
    """What `GET /accounts/{account}/maker` answers (read-only)."""
    module = makers_module(engine)
    rows = module.compliance(account, engine.now) if module is not None else []
    markets = []
    for row in rows:
        market = engine.markets[row["symbol"]]
        decimals = engine.assets[market.quote].decimals
        ob, period = row["obligation"], row["period"]

        def money(atoms: int, decimals: int = decimals) -> str:
            return format_units(atoms, decimals)

        markets.append({
            "symbol": row["symbol"],
            "obligation": {"min_notional": money(ob["min_notional"]), "levels": ob["levels"],
                           "max_spread": _fraction(ob["max_spread_ppm"]), "share": _fraction(ob["share_ppm"]),
                           "period_s": ob["period_ms"] // 1000},
            "quoting": row["quoting"],
            "period": {"start_ms": period["start"], "end_ms": period["end"], "measured_ms": period["measured_ms"],
                       "quoted_ms": period["quoted_ms"], "share": _fraction(period["share_ppm"]),
                       "on_track": period["share_ppm"] >= ob["share_ppm"],
                       "maker_volume": money(period["maker_notional"])},
            "history": [{"start_ms": h["start"], "end_ms": h["end"], "measured_ms": h["measured_ms"],
                         "quoted_ms": h["quoted_ms"], "share": _fraction(h["share_ppm"]),
                         "compliant": h["compliant"], "maker_volume": money(h["maker_notional"]),
                         "rebate": money(h["rebate"])} for h in row["history"]],
        })  # fmt: skip
    return {"account": account, "designated": bool(markets), "markets": markets}


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(tags=["accounts"])
    service = ctx.service

    @api.get(
        "/accounts/{account}/maker",
        responses=responses("bad_request", *auth.PRIVATE),
        summary="A designated market maker's own compliance: obligations, this period, closed periods, rebates",
    )
    def get_compliance(
        request: Request, account: Annotated[str, PathParam(pattern=ACCOUNT_PATTERN)], _: Bearer = None
    ) -> dict:
        name = named(account)
        auth.owner(ctx, request, name)
        return service.read(lambda engine: compliance_view(engine, name))

    return api
