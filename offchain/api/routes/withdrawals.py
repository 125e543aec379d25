"""Withdrawals: request one (signed EIP-712 `Withdraw`) and list an account's history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials

from offchain.api import auth, order_entry, views
from offchain.api.context import ACCOUNT_PATTERN, SIGNED, ApiContext, named
from offchain.api.errors import responses
from offchain.api.models import SignedWithdraw, Withdrawal, WithdrawalResult

# what the engine may answer a withdrawal with (core, risk and treasury checks)
WITHDRAW_REFUSALS = (
    "unknown_account",
    "unknown_asset",
    "bad_amount",
    "insufficient_balance",
    "insufficient_margin",
    "insufficient_liquidity",
    "negative_equity",
    "withdrawals_paused",
)


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(tags=["withdrawals"])
    service = ctx.service

    @api.post(
        "/withdrawals",
        response_model=WithdrawalResult,
        responses=responses(*SIGNED, *WITHDRAW_REFUSALS),
        summary="Withdraw to the account's own address (signed Withdraw)",
    )
    async def request_withdrawal(body: SignedWithdraw) -> WithdrawalResult:
        """Debit the free balance now; the daemon pays it through `Custody.withdraw`, once.

        Refused with the engine's code when the balance, the margin (`insufficient_margin`,
        `negative_equity`) or a protocol pause (`withdrawals_paused`) forbids it.
        """
        # group commit: the withdrawal and its nonce in one transaction (order_entry)
        return await order_entry.withdraw_async(ctx, body.withdraw.model_dump(), body.signature)

    @api.get(
        "/withdrawals",
        response_model=list[Withdrawal],
        responses=responses("bad_request", *auth.PRIVATE),
        summary="An account's withdrawals, newest first: requested, paid with the transaction, or refunded "
        "(the account's read session)",
    )
    def withdrawals(
        request: Request,
        account: Annotated[
            str | None, Query(pattern=ACCOUNT_PATTERN, description="default: the session's")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        _: Annotated[HTTPAuthorizationCredentials | None, Depends(auth.bearer)] = None,
    ) -> list[Withdrawal]:
        name = auth.reader(ctx, request, None if account is None else named(account))
        return [
            Withdrawal(**w) for w in service.read(lambda engine: views.withdrawals_view(engine, name, limit))
        ]

    return api
