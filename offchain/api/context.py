"""What every router of the API works with: one `ApiContext` built by `create_app` and passed in.

A router module is `def router(ctx: ApiContext) -> APIRouter`; it reaches the service, the signature
checks, the rate limits and the stream only through this object, never through another router.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from offchain.api import messages, views
from offchain.api.auth import Sessions
from offchain.api.errors import ApiError
from offchain.api.nonces import NonceBook
from offchain.api.prometheus import Telemetry
from offchain.api.ratelimit import RateLimit, TokenBuckets
from offchain.api.signing import Domain, SignatureError, account_name, verify
from offchain.api.stream import BreakerLog, Hub, StatusCache, TradeTape
from offchain.core.messages.codec import CommandFormatError, event_to_dict, parse_command
from offchain.core.messages.events import Rejected

MAX_EXPIRY_S = 86_400
ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
# the API names accounts by wallet address only: "notanaddress" is a 422, not an empty account
ACCOUNT_PATTERN = r"^0x[0-9a-fA-F]{40}$"
SIGNED = ("bad_signature", "expired", "expiry_too_far", "nonce_reused", "rate_limited", "bad_request")


@dataclass
class ApiContext:
    """The API's dependencies: the service, the EIP-712 domain, budgets, nonces, stream and telemetry."""

    service: Any
    domain: Domain
    limits: RateLimit
    nonce_book: NonceBook
    telemetry: Telemetry
    tape: TradeTape
    breaker_log: BreakerLog
    status_cache: StatusCache
    hub: Hub
    max_expiry_s: int = MAX_EXPIRY_S
    rates: views.PoolRates = field(default_factory=views.PoolRates)
    dlp_desk: Any = None  # offchain.chain.dlp.DlpDesk: the operator's designations (the daemon's)
    ip_buckets: TokenBuckets = field(init=False)
    account_buckets: TokenBuckets = field(init=False)
    sessions: Sessions = field(init=False)  # read sessions: who may read an account's private data

    def __post_init__(self) -> None:
        self.sessions = Sessions(self.domain, self.max_expiry_s)
        self.ip_buckets = TokenBuckets(self.limits.ip_per_s, self.limits.ip_burst)
        self.account_buckets = TokenBuckets(self.limits.account_per_s, self.limits.account_burst)

    def now_s(self) -> int:
        return max(self.service.clock_ms(), self.service.engine.now) // 1000

    def authorise(self, primary_type: str, message: dict, signature: str) -> str:
        """Check signature, expiry, the account's rate limit and the nonce; return the account."""
        now = self.now_s()
        try:
            signer = verify(self.domain, primary_type, message, signature, now)
        except SignatureError as err:
            raise ApiError(err.code, err.message) from None
        if message["expiry"] > now + self.max_expiry_s:
            raise ApiError("expiry_too_far", f"expiry may be at most {self.max_expiry_s}s ahead (now {now})")
        account = account_name(signer)
        self.spend(account)
        try:
            self.nonce_book.claim(account, message["nonce"], message["expiry"], now)
        except SignatureError as err:
            raise ApiError(err.code, err.message) from None
        return account

    def spend(self, account: str) -> None:
        """Take one request from `account`'s budget or refuse with `rate_limited`."""
        wait = self.account_buckets.take(account)
        if wait:
            raise ApiError(
                "rate_limited",
                f"too many signed requests from {account}",
                headers={"Retry-After": str(int(wait) + 1)},
            )

    def refused(self, events: list, cmd: str, account: str, request: dict | None = None) -> None:
        """Raise the engine's rejection of our command (timers due before it may have run too), worded
        for the client in decimal units (`messages.py`) from the `request` it sent."""
        for e in events:
            if isinstance(e, Rejected) and e.cmd == cmd and e.account == account:
                asked = {"ref": e.ref, **(request or {})}
                engine = self.service.engine
                raise ApiError(e.code, messages.explain(engine, e.code, e.message, asked, account))

    def submit_wire(self, wire: dict, account: str) -> list:
        """Parse `wire` (decimal strings), submit it and raise the engine's refusal; hold `service.lock`."""
        try:
            cmd = parse_command(wire, self.service.engine)
        except CommandFormatError as exc:
            raise ApiError("bad_request", str(exc)) from None
        events = self.service.submit(cmd)
        self.refused(events, wire["cmd"], account, wire)
        return events

    def formatted(self, engine: Any, events: list, account: str) -> list[dict]:
        return views.events_for(engine, [event_to_dict(e) for e in events], account)


def named(account: str) -> str:
    """An account parameter: a wallet address (any case), as the engine names it (checksummed)."""
    if ADDRESS_RE.match(account):
        return account_name(account)
    raise ApiError("bad_request", f"account: {account!r} is not an address (0x and 40 hex digits)")


def market_or_404(engine: Any, symbol: str) -> Any:
    market = engine.markets.get(symbol)
    if market is None:
        raise ApiError("unknown_market", f"no market {symbol!r}")
    return market
