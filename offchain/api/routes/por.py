"""Proof of reserves: the owner's salt and inclusion proof (signed `ProofRequest`), the epoch's public
debtors' register, and the summary the dashboard shows (gross and net ratio, the debtors' totals)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi import Path as PathParam

from offchain.api import views
from offchain.api.context import SIGNED, ApiContext
from offchain.api.errors import ApiError, responses
from offchain.api.models import ProofResult
from offchain.api.signing import account_name
from offchain.core.messages.codec import format_units

BPS = 10_000


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(tags=["proof of reserves"])
    service = ctx.service

    @api.get(
        "/por/proof/{address}",
        response_model=ProofResult,
        responses=responses(*SIGNED, "not_owner", "no_proof"),
        summary="The owner's salt and inclusion proof (signed ProofRequest)",
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
        who = ctx.authorise(
            "ProofRequest", {"account": requester, "nonce": nonce, "expiry": expiry}, signature
        )
        owner = account_name(address)
        if who != owner:
            raise ApiError("not_owner", "a proof is given only to its own account")
        epoch = service.por_epoch()
        proof = service.por_proof(owner)
        if epoch is None or proof is None:
            raise ApiError("no_proof", f"no attested epoch includes {owner} yet")
        return ProofResult(epoch=views.json_safe(epoch), proof=views.json_safe(proof))

    @api.get(
        "/por/register/{epoch}",
        response_model=dict[str, Any],
        responses=responses("not_found"),
        summary="The epoch's debtors' register: every account with debt, in full (docs/por.md)",
    )
    def por_register(epoch: Annotated[int, PathParam(ge=0, lt=2**256)]) -> dict[str, Any]:
        register = service.por_register(epoch)
        if register is None:
            latest = (service.por_epoch() or {}).get("epoch")
            served = (
                "no epoch is attested yet" if latest is None else f"the latest attested epoch is {latest}"
            )
            raise ApiError("not_found", f"no register of epoch {epoch} is served: {served}")
        return register

    @api.get(
        "/por",
        response_model=dict[str, Any],
        summary="Reserves per asset: gross ratio (of equity) and net ratio (of equity - debt), debtors' totals",
    )
    def por_summary() -> dict[str, Any]:
        return summary(service.por_epoch(), dict(service.chain_status).get("reserves") or {})

    return api


def summary(epoch: dict | None, reserves: dict) -> dict[str, Any]:
    """The PoR summary: per asset the live reserves, the registry's net liabilities (after payouts
    since the epoch), the attested totals, and both ratios; the debtors' totals of the register.

    The gross ratio is reserves / (net liabilities + total debt), i.e. reserves over the attested
    equity less what Custody paid out since (the registry's `gross_ratio_bps`); ratios are
    basis points, None when nothing is owed or the chain has not been read.
    """
    if not epoch:
        return {"epoch": None, "assets": {}, "debtors": None}
    symbols = epoch.get("assets") or []
    decimals = epoch.get("decimals") or [0] * len(symbols)
    assets: dict[str, Any] = {}
    for k, symbol in enumerate(symbols):
        dec = decimals[k]
        equity = int(epoch["total_equity"][k])
        debt = int(epoch["total_debt"][k])
        live = reserves.get(symbol) if isinstance(reserves.get(symbol), dict) else {}
        held, net = _decimal(live.get("reserves")), _decimal(live.get("liabilities"))
        entry: dict[str, Any] = {
            "total_equity": format_units(equity, dec),
            "total_debt": format_units(debt, dec),
            "reserves": live.get("reserves"),
            "net_liabilities": live.get("liabilities"),
            "net_ratio_bps": live.get("ratio_bps"),
            "gross_ratio_bps": None,
        }
        if held is not None and net is not None:
            gross = net + Decimal(debt).scaleb(-dec)
            entry["gross_ratio_bps"] = None if gross <= 0 else int(held * BPS / gross)
        assets[symbol] = entry
    return {"epoch": epoch.get("epoch"), "assets": assets, "debtors": epoch.get("debtors")}


def _decimal(value: Any) -> Decimal | None:
    if not isinstance(value, str):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None
