"""Proof of reserves: the owner's salt and inclusion proof, given only to a signed `ProofRequest`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParam

from offchain.api import views
from offchain.api.context import SIGNED, ApiContext
from offchain.api.errors import ApiError, responses
from offchain.api.models import ProofResult
from offchain.api.signing import account_name


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

    return api
