"""Every rejection code the engine answers with: `Rejected.code`, the API's 400/404 bodies, the docs.

`RejectCode` is a `StrEnum`: a member *is* its string (`RejectCode.BAD_TICK == "bad_tick"`), so the
events, the journal and the wire carry exactly the strings they always did. Add a code here, nowhere
else; tests/core/test_units.py fails on a code literal the engine emits that is not listed.
"""

from __future__ import annotations

from enum import StrEnum


class RejectCode(StrEnum):
    """Why a command was refused (stable snake_case strings)."""

    ALREADY_HALTED = "already_halted"
    ALREADY_PAID = "already_paid"
    ALREADY_QUEUED = "already_queued"
    ALREADY_REFUNDED = "already_refunded"
    BAD_ACCOUNT = "bad_account"
    BAD_AMOUNT = "bad_amount"
    BAD_BAND = "bad_band"
    BAD_COLLATERAL_WEIGHT = "bad_collateral_weight"
    BAD_DECIMALS = "bad_decimals"
    BAD_FLAG = "bad_flag"
    BAD_KIND = "bad_kind"
    BAD_LOT = "bad_lot"
    BAD_MARKET = "bad_market"
    BAD_MIN_QTY = "bad_min_qty"
    BAD_PARAM = "bad_param"
    BAD_PRICE = "bad_price"
    BAD_QTY = "bad_qty"
    BAD_REASON = "bad_reason"
    BAD_SIDE = "bad_side"
    BAD_SOURCE = "bad_source"
    BAD_STP = "bad_stp"
    BAD_SYMBOL = "bad_symbol"
    BAD_TICK = "bad_tick"
    BAD_TIF = "bad_tif"
    BAD_TX = "bad_tx"
    BAD_TYPE = "bad_type"
    BELOW_MIN_QTY = "below_min_qty"
    COVER_EXCEEDS_BAD_DEBT = "cover_exceeds_bad_debt"
    DUPLICATE_ASSET = "duplicate_asset"
    DUPLICATE_CLIENT_ID = "duplicate_client_id"
    DUPLICATE_DEPOSIT = "duplicate_deposit"
    DUPLICATE_MARKET = "duplicate_market"
    FOK_UNFILLABLE = "fok_unfillable"
    HALTED_DLP_ONLY = "halted_dlp_only"
    INSANE_BAND = "insane_band"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    INSUFFICIENT_LIQUIDITY = "insufficient_liquidity"
    INSUFFICIENT_MARGIN = "insufficient_margin"
    LEVERAGE_TOO_HIGH = "leverage_too_high"
    NEGATIVE_EQUITY = "negative_equity"
    NEGATIVE_RATE = "negative_rate"
    NO_LIQUIDITY = "no_liquidity"
    NOT_CONTINUOUS = "not_continuous"
    NOT_DESIGNATED = "not_designated"
    NOT_HALTED = "not_halted"
    OWN_TOKEN_COLLATERAL = "own_token_collateral"
    POST_ONLY_WOULD_CROSS = "post_only_would_cross"
    PRICE_OUT_OF_BAND = "price_out_of_band"
    PROTOCOL_PAUSED = "protocol_paused"
    PROTOCOL_UNCHANGED = "protocol_unchanged"
    REDUCE_ONLY_SPOT = "reduce_only_spot"
    REDUCE_ONLY_WOULD_INCREASE = "reduce_only_would_increase"
    TS_BACKWARDS = "ts_backwards"
    UNKNOWN_ACCOUNT = "unknown_account"
    UNKNOWN_ASSET = "unknown_asset"
    UNKNOWN_COMMAND = "unknown_command"
    UNKNOWN_DEPOSIT = "unknown_deposit"
    UNKNOWN_MARKET = "unknown_market"
    UNKNOWN_ORDER = "unknown_order"
    UNKNOWN_WITHDRAWAL = "unknown_withdrawal"
    UNSUPPORTED_MARKET_KIND = "unsupported_market_kind"
    WITHDRAWALS_PAUSED = "withdrawals_paused"


def is_not_found(code: str) -> bool:
    """Is this a refusal of something that does not exist (`unknown_*`: HTTP 404 at the API)?"""
    return code.startswith("unknown_")
