"""`python -m offchain gateway --log nats://... [--port P]`: a stateless order-entry gateway (run N).

A signed order is checked here with the API's own code (the `SignedOrder` model, `signing.verify`,
the expiry limit, per-account token buckets), published to the command stream with
`Nats-Msg-Id: account:nonce`, and answered once two things happened: the publish acknowledgement
(the command is stored on a quorum of the stream's replicas: durable, and its sequence is its
place in the journal) and the leader engine's result for that sequence (on `bw.res.<seq>`).

The same signed order sent to two gateways (or twice to one) is one command: the stream's
duplicate window acknowledges the second publish with the first one's sequence, and the engine's
own request-id check answers a later repeat with the first result (`dup`); both callers get the
same answer, the second with `"duplicate": true`.

When the log cannot be reached the gateway answers 503 `log_unavailable` with the reason at once
(never a hang); when the result does not come within `--result-timeout-s` (no leader), 504
`result_pending`: the command is durable, and sending the same signed request again returns its
result. Reads (`/markets`, `/status`, `/results/{seq}`) come from what the engines publish.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import sys
import time
from collections import OrderedDict
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from offchain.api.errors import ApiError
from offchain.api.models import SignedOrder
from offchain.api.order_entry import order_wire
from offchain.api.ratelimit import RateLimit, TokenBuckets
from offchain.api.signing import (
    CANCEL_TYPES,
    ORDER_TYPES,
    Domain,
    SignatureError,
    account_name,
    typed_data,
    verify,
)
from offchain.cluster import log as L
from offchain.cluster.replica import result_status

log = logging.getLogger("offchain.cluster.gateway")
MAX_EXPIRY_S = 86_400
CACHE_RESULTS = 50_000
DEFAULT_CHAIN_ID = 31337
DEFAULT_CUSTODY = "0x" + "00" * 19 + "01"
# JetStream's err_code for a publish whose Nats-Msg-Id another publish is still storing.
DUPLICATE_IN_PROCESS = 10158


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log", required=True, help="NATS servers: nats://h1:4222,nats://h2:4222,...")
    parser.add_argument("--host", default="127.0.0.1", help="listen address (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument("--id", default=f"gw-{os.getpid()}", help="gateway id")
    parser.add_argument("--replicas", type=int, default=3, help="stream replicas if it creates them (3)")
    parser.add_argument("--chain-id", type=int, default=DEFAULT_CHAIN_ID, help="EIP-712 chainId (31337)")
    parser.add_argument("--custody", default=DEFAULT_CUSTODY, help="EIP-712 verifyingContract")
    parser.add_argument("--account-rate", type=int, default=20, help="per-account signed requests/s (20)")
    parser.add_argument("--publish-timeout-s", type=float, default=2.0, help="wait for the quorum ack (2 s)")
    parser.add_argument("--result-timeout-s", type=float, default=10.0, help="wait for the result (10 s)")
    parser.add_argument("--ops-token", default="", help="enables POST /deposits with X-Ops-Token (tests)")


class Gateway:
    def __init__(
        self,
        url: str,
        ident: str,
        domain: Domain,
        limits: RateLimit | None = None,
        *,
        replicas: int = 3,
        publish_timeout_s: float = 2.0,
        result_timeout_s: float = 10.0,
        ops_token: str = "",
    ) -> None:
        self.url, self.id, self.domain, self.replicas = url, ident, domain, replicas
        self.publish_timeout_s, self.result_timeout_s, self.ops_token = (
            publish_timeout_s,
            result_timeout_s,
            ops_token,
        )
        limits = limits or RateLimit()
        self.buckets = TokenBuckets(limits.account_per_s, limits.account_burst)
        self.cache: OrderedDict[int, bytes] = OrderedDict()
        self.waiters: dict[int, asyncio.Future] = {}
        self.connected = False
        self.last_error = ""
        self._markets: tuple[float, Any] = (0.0, None)
        self.published = 0
        self.duplicates = 0

    async def start(self) -> None:
        async def disconnected() -> None:
            self.connected = False
            self.last_error = "disconnected from NATS"

        async def reconnected() -> None:
            self.connected = True

        async def error(exc: Exception) -> None:
            self.last_error = f"{type(exc).__name__}: {exc}"

        self.nc = await L.connect(
            self.url,
            f"gateway-{self.id}",
            disconnected_cb=disconnected,
            reconnected_cb=reconnected,
            error_cb=error,
            ping_interval=1,
            max_outstanding_pings=2,
        )
        self.connected = True
        self.js = self.nc.jetstream(timeout=self.publish_timeout_s)
        await L.ensure(self.js, self.replicas)
        self.kv_state = await self.js.key_value(L.STATE_BUCKET)
        self.kv_lease = await self.js.key_value(L.LEASE_BUCKET)
        await self.nc.subscribe(
            "bw.res.>", cb=self._on_result, pending_msgs_limit=1_000_000, pending_bytes_limit=1 << 30
        )

    async def close(self) -> None:
        try:
            await self.nc.close()
        except Exception:
            pass

    async def _on_result(self, msg: Any) -> None:
        seq = int(msg.subject[7:])
        fut = self.waiters.pop(seq, None)
        if fut is not None and not fut.done():
            fut.set_result(msg.data)
            return
        self.cache[seq] = msg.data
        if len(self.cache) > CACHE_RESULTS:
            self.cache.popitem(last=False)

    async def result(self, seq: int, timeout: float | None = None) -> dict:
        """The engine's result for command `seq`: from the live feed, else from the events stream."""
        data = self.cache.get(seq)
        if data is not None:
            return json.loads(data)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.result_timeout_s if timeout is None else timeout)
        fut = self.waiters.get(seq)
        if fut is None:
            fut = self.waiters[seq] = loop.create_future()
        wait = 0.5
        try:
            while True:
                left = deadline - loop.time()
                if left <= 0:
                    raise ApiError(
                        "result_pending",
                        f"command {seq} is in the log (durable) but no engine answered within "
                        f"{self.result_timeout_s:g} s (a leader change?): send the same signed request again",
                        status=504,
                    )
                try:
                    return json.loads(await asyncio.wait_for(asyncio.shield(fut), min(wait, left)))
                except TimeoutError:
                    pass
                try:  # missed on the live feed (reconnect): read it from the stream
                    msg = await self.js.get_last_msg(L.EVT_STREAM, L.res_subject(seq))
                    return json.loads(msg.data)
                except Exception:
                    wait = 1.0
        finally:
            if self.waiters.get(seq) is fut:
                del self.waiters[seq]

    async def _publish_once(self, subject: str, env: bytes, req_id: str) -> Any:
        """Publish with `Nats-Msg-Id = req_id`; return the stream's ack.

        When another gateway's publish of the same id is still being stored, JetStream answers
        409 "duplicate message id is in process" (err_code 10158) instead of an ack. That request
        is the same signed one, so wait for the first publish to settle and publish again: the
        duplicate window then acknowledges it with the first one's sequence.
        """
        import nats.js.errors

        deadline = time.monotonic() + self.publish_timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            try:
                return await self.js.publish(subject, env, timeout=remaining, headers={"Nats-Msg-Id": req_id})
            except nats.js.errors.APIError as exc:
                if exc.err_code != DUPLICATE_IN_PROCESS:
                    raise
            await asyncio.sleep(0.02)

    async def submit(
        self, subject: str, wire: dict, req_id: str, expiry_s: int = 0
    ) -> tuple[int, bool, dict]:
        """Publish, await the quorum ack, await the result; return (seq, duplicate, result)."""
        import nats.errors
        import nats.js.errors

        if not self.connected or not self.nc.is_connected:
            raise ApiError("log_unavailable", f"the log (NATS) is unreachable: {self.last_error}", status=503)
        env = L.envelope(wire, time.time_ns() // 1_000_000, req_id, expiry_s)
        try:
            ack = await self._publish_once(subject, env, req_id)
        except (TimeoutError, nats.errors.TimeoutError):
            raise ApiError(
                "log_unavailable",
                f"no quorum acknowledgement within {self.publish_timeout_s:g} s: the order may or may not "
                "be in the log; sending the same signed request again is safe",
                status=503,
            ) from None
        except (nats.errors.Error, nats.js.errors.Error, OSError) as exc:
            raise ApiError("log_unavailable", f"the log refused the publish: {exc}", status=503) from None
        self.published += 1
        duplicate = bool(ack.duplicate)
        res = await self.result(ack.seq)
        if "dup" in res:
            duplicate = True
            res = await self.result(res["dup"])
        if duplicate:
            self.duplicates += 1
        return ack.seq, duplicate, res

    # -- requests -------------------------------------------------------------------------------
    async def place_order(self, body: bytes) -> dict:
        from pydantic import ValidationError

        try:
            signed = SignedOrder.model_validate_json(body)
        except ValidationError as exc:
            raise ApiError("bad_request", _first_error(exc)) from None
        msg = signed.order.model_dump()
        now = int(time.time())
        try:
            account = account_name(verify(self.domain, "Order", msg, signed.signature, now))
        except SignatureError as err:
            raise ApiError(err.code, err.message) from None
        if msg["expiry"] > now + MAX_EXPIRY_S:
            raise ApiError("expiry_too_far", f"expiry may be at most {MAX_EXPIRY_S}s ahead (now {now})")
        wait = self.buckets.take(account)
        if wait:
            raise ApiError("rate_limited", f"account {account} is over its budget: retry in {wait:.2f} s")
        wire = order_wire(account, msg)
        seq, duplicate, res = await self.submit(
            L.cmd_subject(msg["symbol"]), wire, f"{account}:{msg['nonce']}", int(msg["expiry"])
        )
        answer = result_status(res)
        if not answer.pop("ok"):
            raise ApiError(answer["code"], answer["message"])
        return {
            "seq": seq,
            "duplicate": duplicate,
            "client_id": msg["client_id"],
            **answer,
            "events": res["events"],
        }

    async def deposit(self, body: bytes, token: str) -> dict:
        if not self.ops_token or token != self.ops_token:
            raise ApiError(
                "unauthenticated", "deposits come from the chain watcher (X-Ops-Token)", status=401
            )
        try:
            d = json.loads(body)
            wire = {"cmd": "deposit", "account": account_name(d["account"]), "asset": str(d["asset"])}
            wire.update(amount=str(d["amount"]), ref=str(d["ref"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ApiError("bad_request", f"a deposit is account, asset, amount, ref: {exc}") from None
        if not wire["ref"]:
            raise ApiError("bad_request", "a deposit needs its chain ref")
        seq, duplicate, res = await self.submit(L.cmd_subject(None), wire, f"deposit:{wire['ref']}")
        answer = result_status(res)
        if not answer.pop("ok"):
            raise ApiError(answer["code"], answer["message"])
        return {"seq": seq, "duplicate": duplicate, "events": res["events"]}

    async def markets(self) -> Any:
        at, value = self._markets
        if value is None or time.monotonic() - at > 0.5:
            try:
                value = json.loads((await self.kv_state.get("markets")).value)
            except Exception as exc:
                if value is None:
                    raise ApiError(
                        "log_unavailable", f"no markets published yet: {exc}", status=503
                    ) from None
            self._markets = (time.monotonic(), value)
        return value

    async def status(self) -> dict:
        out: dict[str, Any] = {"gateway": self.id, "connected": self.connected and self.nc.is_connected}
        out.update(published=self.published, duplicates=self.duplicates, last_error=self.last_error)
        try:
            out["leader"] = (await self.kv_lease.get(L.LEASE_KEY)).value.decode()
        except Exception:
            out["leader"] = None
        replicas = []
        try:
            for key in await self.kv_state.keys():
                if key.startswith("replica."):
                    replicas.append(json.loads((await self.kv_state.get(key)).value))
        except Exception:
            pass
        out["replicas"] = replicas
        return out

    def eip712(self) -> dict:
        return {
            "domain": typed_data(self.domain, "Order", {})["domain"],
            "types": {**ORDER_TYPES, **CANCEL_TYPES},
            "max_expiry_s": MAX_EXPIRY_S,
        }


def _first_error(exc: Any) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid"))


def create_app(gw: Gateway) -> Any:
    """A small ASGI app (FastAPI): order entry and the reads the engines publish."""

    @asynccontextmanager
    async def lifespan(app):
        await gw.start()
        yield
        await gw.close()

    app = FastAPI(
        title="Breakwater gateway", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )

    def ok(value: Any) -> Response:
        return Response(json.dumps(value, separators=(",", ":")), media_type="application/json")

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"code": exc.code, "message": exc.message}, status_code=exc.status)

    @app.post("/orders")
    async def orders(request: Request) -> Response:
        return ok(await gw.place_order(await request.body()))

    @app.post("/deposits")
    async def deposits(request: Request) -> Response:
        return ok(await gw.deposit(await request.body(), request.headers.get("x-ops-token", "")))

    @app.get("/markets")
    async def markets() -> Response:
        return ok(await gw.markets())

    @app.get("/eip712")
    async def eip712() -> Response:
        return ok(gw.eip712())

    @app.get("/status")
    async def status() -> Response:
        return ok(await gw.status())

    @app.get("/results/{seq}")
    async def results(seq: int) -> Response:
        return ok(await gw.result(seq, timeout=1.0))

    return app


def run(args: argparse.Namespace) -> int:
    import uvicorn

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    limits = RateLimit(account_per_s=args.account_rate, account_burst=max(args.account_rate * 3, 1))
    gw = Gateway(
        args.log,
        args.id,
        Domain(args.chain_id, args.custody),
        limits,
        replicas=args.replicas,
        publish_timeout_s=args.publish_timeout_s,
        result_timeout_s=args.result_timeout_s,
        ops_token=args.ops_token,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(2048)
    host, port = sock.getsockname()[:2]
    import importlib.util

    config = uvicorn.Config(
        create_app(gw),
        log_level="warning",
        access_log=False,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    started = server.startup

    async def startup(sockets=None):
        await started(sockets=sockets)
        print(f"gateway http://{host}:{port}", flush=True)

    server.startup = startup
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(0)
