"""Operations: `/status` (breaker, reserves, alerts), `/metrics` (Prometheus), and the operator's
designations of liquidity providers (`/ops/designations`).

A designation is an EIP-712 `Designation` signed by one of the daemon's `operators` addresses (an
operator-only API: any other signer is refused `not_operator`, 403). Criteria (`offchain/chain/dlp.py`):
a DLP holds a bond of at least `dlp_min_bond` of its bond asset, free in its account, and takes on the
quoting obligation during halts; an authorised participant needs no bond. The daemon routes it to the
engine as a journaled `dlp` (or `authorise`) command; `GET /ops/designations` lists them with the
pending priority credits and who meets the quoting obligation.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from offchain.api.context import SIGNED, ApiContext
from offchain.api.errors import ApiError, ErrorBody, responses
from offchain.api.models import Address, Expiry, Signature, Uint256
from offchain.api.prometheus import CONTENT_TYPE
from offchain.api.signing import account_name
from offchain.chain.dlp import DesignationError
from offchain.core.messages.codec import CommandFormatError, parse_command


class DesignationMessage(BaseModel):
    """The EIP-712 `Designation` an operator signs (`account` is the operator)."""

    model_config = ConfigDict(extra="forbid")

    account: Address
    participant: Address
    role: Annotated[str, Field(pattern=r"^(dlp|authorised)$")] = "dlp"
    designated: bool = True
    bond_asset: Annotated[str, Field(max_length=32)] = ""
    bond: Annotated[str, Field(pattern=r"^([0-9]{1,40}(\.[0-9]{1,36})?)?$")] = ""
    nonce: Uint256
    expiry: Expiry


class MakerDesignationMessage(BaseModel):
    """The EIP-712 `MakerDesignation` an operator signs (`account` is the operator; empty or 0 fields
    take the engine's defaults: the seed's USD 500,000 a side on five levels)."""

    model_config = ConfigDict(extra="forbid")

    account: Address
    participant: Address
    symbol: Annotated[str, Field(min_length=1, max_length=32)]
    designated: bool = True
    min_notional: Annotated[str, Field(pattern=r"^([0-9]{1,40}(\.[0-9]{1,36})?)?$")] = ""
    levels: Annotated[int, Field(ge=0, le=50)] = 0
    max_spread: Annotated[str, Field(pattern=r"^(0(\.[0-9]{1,6})?|1)?$")] = ""
    share: Annotated[str, Field(pattern=r"^(0(\.[0-9]{1,6})?|1)?$")] = ""
    period: Annotated[int, Field(ge=0, le=30 * 86_400)] = 0
    nonce: Uint256
    expiry: Expiry


class SignedMakerDesignation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    designation: MakerDesignationMessage
    signature: Signature


class SignedDesignation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    designation: DesignationMessage
    signature: Signature


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

    def desk() -> Any:
        if ctx.dlp_desk is None:
            raise ApiError("not_found", "this API has no operator desk (run it inside the daemon)")
        return ctx.dlp_desk

    @api.post(
        "/ops/designations",
        tags=["operator"],
        responses={
            **responses(*SIGNED, "not_found", "bond_not_held", "bond_too_small", "bad_bond"),
            403: {"model": ErrorBody, "description": "not_operator"},
        },
        summary="Operator: designate or revoke a liquidity provider or authorised participant",
    )
    def designate(body: Annotated[SignedDesignation, Body()]) -> dict:
        dlp_desk = desk()
        msg = body.designation.model_dump()
        if not dlp_desk.is_operator(msg["account"]):  # before the nonce: nobody else spends one
            raise ApiError("not_operator", f"{msg['account']} is not an operator", status=403)
        operator = ctx.authorise("Designation", msg, body.signature)
        try:
            record = dlp_desk.designate(
                operator,
                account_name(msg["participant"]),
                msg["role"],
                msg["designated"],
                msg["bond_asset"],
                msg["bond"],
            )
        except DesignationError as err:
            raise ApiError(
                err.code, err.message, status=403 if err.code == "not_operator" else None
            ) from None
        if "bond" in record:
            record["bond"] = str(record["bond"])
        return record

    @api.post(
        "/ops/makers",
        tags=["operator"],
        responses={
            **responses(*SIGNED, "not_found", "bad_param", "unknown_market", "not_designated"),
            403: {"model": ErrorBody, "description": "not_operator"},
        },
        summary="Operator: designate or revoke a market maker with its obligations (it is a DLP too)",
    )
    def designate_maker(body: Annotated[SignedMakerDesignation, Body()]) -> dict:
        dlp_desk = desk()
        msg = body.designation.model_dump()
        if not dlp_desk.is_operator(msg["account"]):  # before the nonce: nobody else spends one
            raise ApiError("not_operator", f"{msg['account']} is not an operator", status=403)
        operator = ctx.authorise("MakerDesignation", msg, body.signature)
        wire = {"ts": 0, "cmd": "maker", "account": account_name(msg["participant"]), "symbol": msg["symbol"],
                "designated": msg["designated"]}  # fmt: skip
        for key in ("min_notional", "levels", "max_spread", "share", "period"):
            if msg[key] not in ("", 0):
                wire[key] = msg[key]
        service = ctx.service
        with service.lock:
            try:
                cmd = parse_command(wire, service.engine)
            except CommandFormatError as exc:
                raise ApiError("bad_request", str(exc)) from None
            events = service.submit(cmd)
        for e in events:
            if e.EVENT == "rejected":
                raise ApiError(e.code, e.message)
        return {"account": wire["account"], "symbol": msg["symbol"], "designated": msg["designated"],
                "by": operator, "events": [e.EVENT for e in events]}  # fmt: skip

    @api.get(
        "/ops/designations",
        tags=["operator"],
        responses=responses("not_found"),
        summary="Designated liquidity providers, authorised participants, pending priority credits",
    )
    def designations() -> dict:
        return desk().status()

    return api
