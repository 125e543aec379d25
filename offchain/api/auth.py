"""Private reads: an account's data is given only to a read session the account signed.

An account's balances, lending, borrows, positions, margin, open orders, withdrawals and its
WebSocket channel (`account:<address>`) are private. To read them a client signs, once, the EIP-712
typed data

    ReadSession {address account, uint256 nonce, uint256 expiry}

in the exchange's domain (`signing.py`, the same as orders and proof requests) with the account's
key, and sends the signed session as a bearer token on every private read:

    Authorization: Bearer <account>.<nonce>.<expiry>.<signature>

(`account` 0x-hex, `nonce` and `expiry` decimal, `signature` the 65-byte 0x-hex signature). On the
WebSocket the same token goes in `?session=` or in the `session` field of a subscribe message.

The token is the credential itself: the server keeps no session state, so a session survives a
restart and works on every API process, and it is valid for whoever holds it until `expiry` (at most
`max_expiry_s` ahead, a day; clients sign an hour). Checks, in order: a token is present
(`unauthenticated` 401), it parses and its signature recovers `account` (`bad_signature` 401), it has
not expired (`expired` 401), its expiry is within `max_expiry_s` of now (`expiry_too_far` 400), and it
names the account whose data is asked for (`not_owner` 403). Market data stays public.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock
from typing import Any

from fastapi import Request
from fastapi.security import HTTPBearer

from offchain.api.errors import ApiError
from offchain.api.signing import Domain, SignatureError, recover

PRIMARY_TYPE = "ReadSession"
# <account>.<nonce>.<expiry>.<signature>
TOKEN_RE = re.compile(r"^(0x[0-9a-fA-F]{40})\.([0-9]{1,78})\.([0-9]{1,16})\.(0x[0-9a-fA-F]{130})$")
WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="breakwater", scope="ReadSession"'}
# the codes a private read may answer with (its OpenAPI `responses=`)
PRIVATE = ("unauthenticated", "bad_signature", "expired", "expiry_too_far", "not_owner")

# the OpenAPI security scheme of private routes (documents the header; the check is `Sessions`)
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ReadSession",
    description="A signed EIP-712 ReadSession: `<account>.<nonce>.<expiry>.<signature>` (docs/api.md).",
)


@dataclass(frozen=True)
class ReadSession:
    """A verified session: `account` (checksummed) may read its own data until `expiry`."""

    account: str
    nonce: int
    expiry: int


def token(account: str, nonce: int, expiry: int, signature: str) -> str:
    """The bearer token of a signed session."""
    return f"{account}.{nonce}.{expiry}.{signature}"


def message(account: str, nonce: int, expiry: int) -> dict:
    """The EIP-712 message of a session (primary type `ReadSession`)."""
    return {"account": account, "nonce": nonce, "expiry": expiry}


class Sessions:
    """Checks bearer tokens; remembers the signer of the last `cache_size` tokens it verified."""

    def __init__(self, domain: Domain, max_expiry_s: int, cache_size: int = 4096) -> None:
        self.domain = domain
        self.max_expiry_s = max_expiry_s
        self.cache_size = cache_size
        self._signers: OrderedDict[str, ReadSession] = OrderedDict()
        self._lock = Lock()

    def verify(self, raw: str | None, now_s: int) -> ReadSession:
        """Return the session `raw` carries, or raise the `ApiError` that refuses it."""
        if not raw:
            raise ApiError(
                "unauthenticated",
                "this is an account's private data: send a read session the account signed "
                "(Authorization: Bearer <account>.<nonce>.<expiry>.<signature>, see docs/api.md)",
                headers=WWW_AUTHENTICATE,
            )
        session = self._recovered(raw)
        if session.expiry <= now_s:
            raise ApiError(
                "expired",
                f"the read session expired {now_s - session.expiry} s ago: sign a new one",
                headers=WWW_AUTHENTICATE,
            )
        if session.expiry > now_s + self.max_expiry_s:
            raise ApiError(
                "expiry_too_far",
                f"a read session may last at most {self.max_expiry_s} s; this one ends in "
                f"{session.expiry - now_s} s",
            )
        return session

    def _recovered(self, raw: str) -> ReadSession:
        with self._lock:
            known = self._signers.get(raw)
            if known is not None:
                self._signers.move_to_end(raw)
                return known
        match = TOKEN_RE.match(raw.strip())
        if match is None:
            raise ApiError(
                "bad_signature",
                "the read session does not parse: expected <account>.<nonce>.<expiry>.<signature> "
                "(0x address, decimal nonce, decimal unix seconds, 65-byte 0x signature)",
                headers=WWW_AUTHENTICATE,
            )
        account, nonce, expiry, signature = match.groups()
        nonce_i, expiry_i = int(nonce), int(expiry)
        if nonce_i >= 2**256:
            raise ApiError(
                "bad_signature", "the read session's nonce is not a uint256", headers=WWW_AUTHENTICATE
            )
        try:
            signer = recover(self.domain, PRIMARY_TYPE, message(account, nonce_i, expiry_i), signature)
        except SignatureError as err:
            raise ApiError(err.code, err.message, headers=WWW_AUTHENTICATE) from None
        if signer.lower() != account.lower():
            raise ApiError(
                "bad_signature",
                f"the read session names {account} but was signed by another key ({signer}), or for "
                "another exchange or chain",
                headers=WWW_AUTHENTICATE,
            )
        session = ReadSession(signer, nonce_i, expiry_i)
        with self._lock:
            self._signers[raw] = session
            while len(self._signers) > self.cache_size:
                self._signers.popitem(last=False)
        return session


def bearer_of(request: Request) -> str | None:
    """The token of an `Authorization: Bearer ...` header, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def owner(ctx: Any, request: Request, account: str) -> ReadSession:
    """Refuse unless the request carries a valid session of `account` (checksummed)."""
    session = ctx.sessions.verify(bearer_of(request), ctx.now_s())
    if session.account != account:
        raise ApiError(
            "not_owner",
            f"this read session belongs to {session.account}; it cannot read {account}'s data",
        )
    return session


def reader(ctx: Any, request: Request, account: str | None) -> str:
    """The account a private read is for: `account` if given (and the session's), else the session's."""
    if account is not None:
        return owner(ctx, request, account).account
    return ctx.sessions.verify(bearer_of(request), ctx.now_s()).account


class StreamGuard:
    """The read session of one WebSocket connection: which `account:<address>` channels it may have.

    A connection gives its session in `?session=` or in the `session` field of a subscribe message;
    the last valid one counts. An account channel is granted only to that account's session; when the
    session expires, the connection loses its account channels and is told so (`expired`).
    """

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.session: ReadSession | None = None
        self._timer: Any = None

    def allowed(self, channels: set[str], raw: str | None) -> tuple[set[str], list[dict]]:
        """Split `channels` into those granted and the error messages of those refused."""
        private = {c for c in channels if c.startswith("account:")}
        if not private:
            return channels, []
        errors: list[dict] = []
        if raw:
            try:
                self.session = self.ctx.sessions.verify(raw, self.ctx.now_s())
            except ApiError as err:
                self.session = None
                errors.append(refusal(err.code, err.message, err.status))
        elif self.session is not None and self.session.expiry <= self.ctx.now_s():
            self.session = None
        granted = set(channels) - private
        for channel in sorted(private):
            account = channel[len("account:") :]
            if self.session is not None and self.session.account == account:
                granted.add(channel)
            elif self.session is not None:
                errors.append(
                    refusal(
                        "not_owner",
                        f"this read session belongs to {self.session.account}; "
                        f"it cannot read {account}'s channel",
                        403,
                    )
                )
            elif not errors:
                errors.append(
                    refusal(
                        "unauthenticated",
                        f"{channel} is private: give the account's signed read session in ?session= "
                        'or in the subscribe message\'s "session" field (docs/api.md)',
                        401,
                    )
                )
        return granted, errors

    def arm(self, conn: Any) -> None:
        """Drop `conn`'s account channels when its session expires (on the running event loop)."""
        import asyncio

        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        session = self.session
        if session is None or not any(c.startswith("account:") for c in conn.channels):
            return

        def expire() -> None:
            if self.session is not session:
                return
            self.session = None
            dropped = {c for c in conn.channels if c.startswith("account:")}
            conn.channels -= dropped
            if dropped:
                conn.put(
                    refusal(
                        "expired",
                        "the read session expired: sign a new one and subscribe again to "
                        + ", ".join(sorted(dropped)),
                        401,
                    )
                )

        delay = max(0.0, session.expiry - self.ctx.now_s())
        self._timer = asyncio.get_running_loop().call_later(delay, expire)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def refusal(code: str, message: str, status: int) -> dict:
    """A WebSocket error message: `{"channel": "error", "type": code, "data": {message, status}}`."""
    return {"channel": "error", "type": code, "data": {"code": code, "message": message, "status": status}}
