"""Why Custody refused a withdrawal, and whether the exchange should keep trying or give the money back.

A failed `Custody.withdraw` says little by itself (a revert string, a node error, a reverted receipt),
so the poster reads Custody's state after the failure and sorts the refusal into one of three kinds:

* ``PERMANENT`` — waiting cannot make Custody pay it: the request id was used for other terms, the
  token has no outflow limits (not allowlisted for withdrawals), the amount is above the user's
  outflow cap or the token's global cap for a whole window, the governor cancelled it while Custody
  held it, or the withdrawal has no on-chain form. Refund now.
* ``WAIT`` — it may clear by itself: the user's rolling outflow limit relaxes over its window, and a
  revert nobody explains (a token refusing the transfer) may be temporary. Keep retrying; refund once
  the withdrawal is `refund_after` old and still refused (a bounded wait, as an exchange puts a
  withdrawal on hold and returns it after review).
* ``TRANSIENT`` — the exchange's or the chain's problem, not the user's: Custody halted (a pause,
  a reserve shortfall), the daemon's key without the operator
  role, too little in the hot wallet, the RPC away, out of gas, a stuck nonce. Keep owing and retry
  for as long as it takes: the alert tells the operator what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_utils import keccak

from offchain.core.messages.codec import format_units

PERMANENT = "permanent"
WAIT = "wait"
TRANSIENT = "transient"
NO_TERMS = b"\x00" * 32
REUSED = "custody: request id reused with other terms (this withdrawal was never paid)"
CANCELLED = "custody: the governor cancelled this withdrawal while Custody held it"
# Custody.withdrawal_state answers (contracts/Custody.vy STATE_*).
STATE_UNKNOWN, STATE_QUEUED, STATE_PAID, STATE_CANCELLED = 0, 1, 2, 3


@dataclass(frozen=True)
class Refusal:
    """A diagnosed refusal: its `kind` (module docstring) and a reason a user can read."""

    kind: str
    reason: str


def terms(user: str, token: str, amount: int) -> bytes:
    """Return Custody's record of a payment: keccak256(abi_encode(user, token, amount))."""
    return keccak(encode(["address", "address", "uint256"], [user, token, amount]))


def reused(custody: Any, request_id: bytes, user: str, token: str, amount: int) -> Refusal | None:
    """A `PERMANENT` refusal if Custody paid `request_id` with terms other than these, else None."""
    seen = bytes(custody.functions.paid_requests(request_id).call())
    if seen in (NO_TERMS, terms(user, token, amount)):
        return None
    return Refusal(PERMANENT, REUSED)


def diagnose(
    custody: Any,
    breaker: Any,
    token: Any,
    operator: str,
    request_id: bytes,
    user: str,
    amount: int,
    error: str,
) -> Refusal:
    """Sort a refused `Custody.withdraw(request_id, user, token, amount)` from Custody's state now.

    `token` is the deployment `Token` (symbol, address, decimals); `operator` is the daemon's key;
    `error` is what the sender reported (a revert reason, a node error).
    """
    found = reused(custody, request_id, user, token.address, amount)
    if found is not None:
        return found
    f = custody.functions
    if not f.hasRole(f.OPERATOR_ROLE().call(), operator).call():
        return Refusal(TRANSIENT, "the daemon's key lacks Custody.OPERATOR_ROLE")
    if int(f.withdrawal_state(request_id).call()) == STATE_CANCELLED:
        return Refusal(PERMANENT, CANCELLED)
    _, account_cap, global_cap, window = f.tokens(token.address).call()
    if int(window) == 0:
        return Refusal(PERMANENT, f"custody: {token.symbol} is not allowlisted for withdrawals")
    if amount > int(global_cap):
        cap = format_units(int(global_cap), token.decimals)
        return Refusal(
            PERMANENT, f"custody: above the global outflow cap of {cap} {token.symbol} per {window} s"
        )
    if breaker is not None and breaker.functions.is_halted(custody.address).call():
        return Refusal(TRANSIENT, "custody: halted (paused, or the reserves check tripped it)")
    if int(f.user_headroom(user, token.address).call()) < amount:
        cap = format_units(int(account_cap), token.decimals)
        if amount > int(account_cap):
            return Refusal(
                PERMANENT, f"custody: above the per-user outflow cap of {cap} {token.symbol} per {window} s"
            )
        return Refusal(WAIT, f"custody: user outflow limit ({cap} {token.symbol} per {window} s)")
    if int(f.global_headroom(token.address).call()) < amount:
        return Refusal(TRANSIENT, "custody: global outflow limit")
    hot = token_balance(custody, token)
    if hot is not None and hot < amount:
        return Refusal(
            TRANSIENT, f"custody: hot wallet holds {format_units(hot, token.decimals)} {token.symbol}"
        )
    if "execution reverted" in error.lower():
        return Refusal(WAIT, _short(error))
    return Refusal(TRANSIENT, _short(error))


def token_balance(custody: Any, token: Any) -> int | None:
    """Custody's balance of `token` (None if the token does not answer `balanceOf`)."""
    erc20 = custody.w3.eth.contract(address=token.address, abi=_BALANCE_OF)
    try:
        return int(erc20.functions.balanceOf(custody.address).call())
    except Exception:  # a token that cannot say: let the revert reason decide
        return None


def _short(error: str, limit: int = 160) -> str:
    text = " ".join(error.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_BALANCE_OF = [
    {
        "name": "balanceOf",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    }
]
