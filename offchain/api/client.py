"""A small Python client of the API that signs with an eth-account key.

    client = Client("http://127.0.0.1:8000", private_key)
    placed = client.place_order("USDE-USDC", "buy", qty="100", price="0.9990")
    client.cancel(oid=placed["oid"])
    client.account()                       # balances, lending, borrows, positions, margin, orders
                                           # (private reads carry a signed ReadSession, see session())
    client.withdraw("USDC", "120")         # paid on-chain to this key's address by the daemon
    client.withdrawals()                   # requested, paid (with the tx hash) or refunded (with the reason)
    proof = client.proof()                 # the salt and inclusion proof, for `python -m offchain por verify`

Amounts are decimal strings (or `Decimal`/`int`); floats are refused. The EIP-712 domain comes from
the server's `/eip712` unless given. Nonces are microseconds since the epoch, bumped per request,
so a restarted client never repeats one the server still remembers.

Private reads (`account`, `open_orders`, `withdrawals`, the WebSocket's account channel) carry a read
session: the client signs one EIP-712 `ReadSession` for `session_s` seconds (an hour) and sends it as
`Authorization: Bearer <account>.<nonce>.<expiry>.<signature>`; it signs a new one a minute before
the old one ends (`session()`, `auth_headers()`).
"""

from __future__ import annotations

import itertools
import time
from decimal import Decimal
from typing import Any

import httpx
from eth_account import Account

from offchain.api.signing import Domain, sign

SESSION_S = 3600  # how long a read session this client signs lasts
SESSION_RENEW_S = 60  # sign a new one when the current one has less than this left


class ApiError(Exception):
    """The server refused a request: `code` is its stable error code, `status` the HTTP status."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def amount(value: Any, field: str) -> str:
    """Return a decimal string for `value` (str, int or Decimal; never a float)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{field}: pass a decimal string, not {value!r}")
    if isinstance(value, int | Decimal):
        return format(Decimal(value), "f")
    if isinstance(value, str):
        return value
    raise TypeError(f"{field}: expected a decimal string, got {type(value).__name__}")


_decimal = amount  # for methods whose parameter is called `amount`


class Client:
    """Signed writes and public reads against one Breakwater API."""

    def __init__(
        self,
        base_url: str,
        private_key: Any = None,
        *,
        domain: Domain | None = None,
        expiry_s: int = 60,
        session_s: int = SESSION_S,
        timeout: float = 10.0,
        http: httpx.Client | None = None,
    ) -> None:
        # `http`: an existing client (e.g. Starlette's TestClient over the app, in-process)
        self.http = http if http is not None else httpx.Client(base_url=base_url, timeout=timeout)
        self.wallet = Account.from_key(private_key) if private_key is not None else None
        self._domain = domain
        self.expiry_s = expiry_s
        self.session_s = session_s
        self._session: tuple[str, int] | None = None  # (token, expiry)
        self._nonces = itertools.count(time.time_ns() // 1000)
        self._ids = itertools.count(1)

    @property
    def address(self) -> str:
        if self.wallet is None:
            raise ValueError("this client has no key: give private_key to sign")
        return self.wallet.address

    @property
    def domain(self) -> Domain:
        if self._domain is None:
            d = self._get("/eip712")["domain"]
            self._domain = Domain(int(d["chainId"]), d["verifyingContract"])
        return self._domain

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- signing -----------------------------------------------------------------------------------
    def _stamp(self, message: dict) -> dict:
        return {**message, "nonce": next(self._nonces), "expiry": int(time.time()) + self.expiry_s}

    def _sign(self, primary_type: str, message: dict) -> str:
        if self.wallet is None:
            raise ValueError("this client has no key: give private_key to sign")
        return sign(self.domain, primary_type, message, self.wallet.key)

    def signed_order(self, symbol: str, side: str, qty: Any, price: Any = None, **options: Any) -> dict:
        """Return the body of `POST /orders` (useful to send it yourself, or twice)."""
        typ = options.pop("type", "limit" if price is not None else "market")
        message = self._stamp(
            {
                "account": self.address,
                "symbol": symbol,
                "side": side,
                "type": typ,
                "price": "" if price is None else amount(price, "price"),
                "qty": amount(qty, "qty"),
                "tif": options.pop("tif", "GTC" if typ == "limit" else "IOC"),
                "client_id": options.pop("client_id", None)
                or f"{self.address[2:10].lower()}-{next(self._ids)}",
                "post_only": bool(options.pop("post_only", False)),
                "reduce_only": bool(options.pop("reduce_only", False)),
                "stp": options.pop("stp", "cancel_maker"),
            }
        )
        if options:
            raise TypeError(f"unknown order option(s): {', '.join(sorted(options))}")
        return {"order": message, "signature": self._sign("Order", message)}

    def signed_cancel(self, oid: int | None = None, client_id: str | None = None) -> dict:
        """Return the body of a cancel (by engine id or by client id)."""
        if (oid is None) == (client_id is None):
            raise ValueError("give exactly one of oid and client_id")
        message = self._stamp({"account": self.address, "oid": oid or 0, "client_id": client_id or ""})
        return {"cancel": message, "signature": self._sign("Cancel", message)}

    def signed_withdraw(self, asset: str, amount: Any) -> dict:
        """Return the body of `POST /withdrawals` (useful to send it yourself, or twice)."""
        message = self._stamp({"account": self.address, "asset": asset, "amount": _decimal(amount, "amount")})
        return {"withdraw": message, "signature": self._sign("Withdraw", message)}

    def signed_session(self, expiry: int | None = None, nonce: int | None = None) -> str:
        """Sign a `ReadSession` and return its bearer token `<account>.<nonce>.<expiry>.<signature>`."""
        expiry = int(time.time()) + self.session_s if expiry is None else expiry
        nonce = next(self._nonces) if nonce is None else nonce
        message = {"account": self.address, "nonce": nonce, "expiry": expiry}
        return f"{self.address}.{nonce}.{expiry}.{self._sign('ReadSession', message)}"

    def session(self) -> str:
        """This client's current read-session token (signed again shortly before it expires)."""
        now = int(time.time())
        if self._session is None or self._session[1] - now < SESSION_RENEW_S:
            expiry = now + self.session_s
            self._session = (self.signed_session(expiry), expiry)
        return self._session[0]

    def auth_headers(self) -> dict:
        """The header of a private read: `Authorization: Bearer <read session>`."""
        return {"Authorization": f"Bearer {self.session()}"}

    # -- writes -----------------------------------------------------------------------------------
    def place_order(self, symbol: str, side: str, qty: Any, price: Any = None, **options: Any) -> dict:
        """Place an order (limit when `price` is given, else market); return the server's result."""
        return self._send("POST", "/orders", json=self.signed_order(symbol, side, qty, price, **options))

    def cancel(self, oid: int | None = None, client_id: str | None = None) -> dict:
        """Cancel one of this account's orders by engine id or client id."""
        body = self.signed_cancel(oid, client_id)
        path = f"/orders/{oid}" if oid is not None else f"/orders/by-client-id/{client_id}"
        return self._send("DELETE", path, json=body)

    def withdraw(self, asset: str, amount: Any) -> dict:
        """Withdraw `amount` of `asset` to this key's address; return `{"withdrawal", "events"}`."""
        return self._send("POST", "/withdrawals", json=self.signed_withdraw(asset, amount))

    def proof(self, address: str | None = None) -> dict:
        """Fetch this account's salt and inclusion proof (`{"epoch", "proof"}`)."""
        message = self._stamp({"account": self.address})
        params = {
            "nonce": message["nonce"],
            "expiry": message["expiry"],
            "signature": self._sign("ProofRequest", message),
            "account": self.address,
        }
        return self._send("GET", f"/por/proof/{address or self.address}", params=params)

    # -- reads ------------------------------------------------------------------------------------
    # private: signed with this client's read session (another address's data is refused, 403)
    def account(self, address: str | None = None) -> dict:
        """This account's balances, lending, borrows, positions, margin and open orders."""
        return self._get(f"/accounts/{address or self.address}", headers=self.auth_headers())

    def open_orders(self, address: str | None = None) -> list:
        return self._get("/orders", params={"account": address or self.address}, headers=self.auth_headers())

    def withdrawals(self, address: str | None = None, limit: int = 100) -> list:
        """This account's withdrawals, newest first: requested, paid (`tx`) or refunded (`reason`)."""
        params = {"account": address or self.address, "limit": limit}
        return self._get("/withdrawals", params=params, headers=self.auth_headers())

    def ws_url(self, channels: str = "account") -> str:
        """The query of a `/ws` connection to `channels` with this account's read session."""
        return f"/ws?channels={channels}&account={self.address}&session={self.session()}"

    def markets(self) -> list:
        return self._get("/markets")

    def book(self, symbol: str, depth: int = 20) -> dict:
        return self._get(f"/book/{symbol}", params={"depth": depth})

    def trades(self, symbol: str | None = None, limit: int = 100) -> list:
        params: dict = {"limit": limit}
        if symbol:
            params["symbol"] = symbol
        return self._get("/trades", params=params)

    def status(self) -> dict:
        return self._get("/status")

    # -- transport --------------------------------------------------------------------------------
    def _get(self, path: str, **kwargs: Any) -> Any:
        return self._send("GET", path, **kwargs)

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
                code, message = body.get("code", "http_error"), body.get("message", response.text)
            except ValueError:
                code, message = "http_error", response.text
            raise ApiError(response.status_code, code, message)
        return response.json()
