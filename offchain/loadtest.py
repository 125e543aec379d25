"""`python -m offchain loadtest --url URL --keys N --orders M --clients C [--batch K] [--ws] [--rate R]`.

Posts EIP-712 orders signed in advance to a running API (yours, or `python -m offchain serve`) from
C keep-alive connections and prints the accepted orders/s and the latency p50/p99/p999. It funds
nothing itself: the keys are `key(0) .. key(N-1)` (deterministic, `keccak("breakwater-loadtest:i")`)
and the genesis deposits their balances (`scenarios/paper_genesis.jsonl` funds 64 of them).

Modes: one order per `POST /orders` (default), `--batch K` orders per `POST /orders/batch` under one
signature, or `--ws`: signed orders as messages on `/ws` (one in flight per connection at a time
unless `--ws-window` allows more). `--rate R` offers R orders/s in total (open loop: a request's
latency counts from when it was due, so a server that falls behind shows it); without it every
connection sends as fast as answers come back.

The API's rate limits apply (start `serve` with `--ip-rate 1000000 --account-rate 1000000` to measure
the exchange, not the limits); refusals are counted by code.

The orders repeat in fours: a bid and an ask resting 1-3 ticks from the index price, then an IOC sell
and an IOC buy crossing 5 ticks, each taking one resting order, so half the orders trade and the
book stays small however long the run. Nonces and client ids start
from the wall clock, so runs never collide with the durable nonces of earlier runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from sha3 import keccak_256

from offchain.api.signing import Domain, sign_fast

DEFAULT_KEYS = 16


def key(i: int) -> bytes:
    """The i-th load-test private key."""
    return keccak_256(f"breakwater-loadtest:{i}".encode()).digest()


def address(i: int) -> str:
    """The checksummed address of `key(i)`."""
    from eth_account import Account

    return Account.from_key(key(i)).address


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="the API, e.g. http://127.0.0.1:8080")
    parser.add_argument("--keys", type=int, default=DEFAULT_KEYS, help="signing keys (funded by the genesis)")
    parser.add_argument("--orders", type=int, default=5000, help="orders to send")
    parser.add_argument("--clients", type=int, default=16, help="concurrent connections")
    parser.add_argument("--batch", type=int, default=0, help="orders per POST /orders/batch (0: single)")
    parser.add_argument("--ws", action="store_true", help="send orders over the /ws WebSocket")
    parser.add_argument("--ws-window", type=int, default=1, help="orders in flight per WS connection")
    parser.add_argument("--rate", type=float, default=0.0, help="offered orders/s in total (0: flat out)")
    parser.add_argument("--symbol", help="market (default: the first one)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


# -- a minimal HTTP/1.1 keep-alive client (the load generator must cost the machine little) ------


class Http:
    """One keep-alive connection: `await request(raw_bytes) -> (status, body)`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, host: str, port: int) -> Http:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    def close(self) -> None:
        self.writer.close()


def http_request(method: str, host: str, path: str, body: Any | None = None) -> bytes:
    data = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
    return (head + f"Content-Length: {len(data)}\r\n\r\n").encode() + data


async def get_json(host: str, port: int, path: str) -> Any:
    conn = await Http.connect(host, port)
    try:
        status, body = await conn.request(http_request("GET", f"{host}:{port}", path))
    finally:
        conn.close()
    if status != 200:
        raise RuntimeError(f"GET {path}: {status} {body[:200]!r}")
    return json.loads(body)


# -- the orders ---------------------------------------------------------------------------------


@dataclass
class Plan:
    """What to send: `requests[i]` carries `sizes[i]` orders; `ids[i]` are (account, client_id)."""

    path: str
    bodies: list[dict]
    sizes: list[int]
    ids: list[list[tuple[str, str]]] = field(default_factory=list)


def order_message(i: int, account: str, symbol: str, index: Decimal, tick: Decimal, tag: str) -> dict:
    """Order i of a repeating four: a bid and an ask resting 1-3 ticks from the index, then an IOC
    sell and an IOC buy crossing 5 ticks, each taking one resting order (the book stays small)."""
    phase, away = i % 4, 1 + (i // 4) % 3
    side = ("buy", "sell", "sell", "buy")[phase]
    taker = phase >= 2
    if taker:
        px = index + 5 * tick if side == "buy" else index - 5 * tick
    else:
        px = index - away * tick if side == "buy" else index + away * tick
    return {
        "account": account,
        "symbol": symbol,
        "side": side,
        "type": "limit",
        "price": str(px),
        "qty": "10",
        "tif": "IOC" if taker else "GTC",
        "client_id": f"{tag}-{i}",
        "post_only": False,
        "reduce_only": False,
        "stp": "cancel_maker",  # a taker meeting its own account's order cancels that order
    }


def plan(
    domain: Domain, *, keys: int, orders: int, batch: int, symbol: str, index: Decimal, tick: Decimal
) -> Plan:
    """Sign every request in advance (unique nonces and client ids from the wall clock)."""
    accounts = [address(k) for k in range(keys)]
    secrets = [key(k) for k in range(keys)]
    base = time.time_ns() // 1000
    tag = f"lt{base:x}"
    expiry = int(time.time()) + 3600
    bodies, sizes, ids = [], [], []
    if batch <= 0:
        for i in range(orders):
            k = i % keys
            msg = order_message(i, accounts[k], symbol, index, tick, tag)
            msg.update(nonce=base + i, expiry=expiry)
            bodies.append({"order": msg, "signature": sign_fast(domain, "Order", msg, secrets[k])})
            sizes.append(1)
            ids.append([(accounts[k], msg["client_id"])])
        return Plan("/orders", bodies, sizes, ids)
    for n, start in enumerate(range(0, orders, batch)):
        k = n % keys
        items = []
        for i in range(start, min(start + batch, orders)):
            msg = order_message(i, accounts[k], symbol, index, tick, tag)
            del msg["account"]
            items.append(msg)
        signed = {"account": accounts[k], "orders": items, "nonce": base + n, "expiry": expiry}
        bodies.append({"batch": signed, "signature": sign_fast(domain, "OrderBatch", signed, secrets[k])})
        sizes.append(len(items))
        ids.append([(accounts[k], m["client_id"]) for m in items])
    return Plan("/orders/batch", bodies, sizes, ids)


# -- the run --------------------------------------------------------------------------------------


@dataclass
class Result:
    orders: int = 0
    accepted: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    codes: Counter = field(default_factory=Counter)
    acknowledged: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> dict:
        lat = sorted(self.latencies_ms)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))], 2) if lat else None

        return {
            "orders": self.orders,
            "accepted": self.accepted,
            "seconds": round(self.seconds, 3),
            "orders_per_s": round(self.accepted / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": pct(0.50),
            "p99_ms": pct(0.99),
            "p999_ms": pct(0.999),
            "statuses": dict(self.statuses),
            "codes": dict(self.codes),
        }


def _count(result: Result, status: int, body: bytes, ids: list[tuple[str, str]], batch: bool) -> None:
    result.statuses[status] += 1
    if status != 200:
        try:
            result.codes[json.loads(body).get("code", "?")] += len(ids)
        except ValueError:
            result.codes["?"] += len(ids)
        return
    if not batch:
        result.accepted += 1
        result.acknowledged.append(ids[0])
        return
    for item, ident in zip(json.loads(body)["results"], ids, strict=False):
        if item.get("ok"):
            result.accepted += 1
            result.acknowledged.append(ident)
        else:
            result.codes[item.get("code", "?")] += 1


async def _run_http(host: str, port: int, p: Plan, clients: int, rate: float, bar: Any) -> Result:
    result = Result(orders=sum(p.sizes))
    raws = [http_request("POST", f"{host}:{port}", p.path, body) for body in p.bodies]
    conns = [await Http.connect(host, port) for _ in range(clients)]
    next_i = 0
    batch = p.path != "/orders"
    per_request_s = (sum(p.sizes) / len(p.sizes)) / rate if rate else 0.0
    t0 = time.perf_counter()

    async def worker(conn: Http) -> None:
        nonlocal next_i
        while next_i < len(raws):
            i = next_i
            next_i += 1
            due = t0 + i * per_request_s
            now = time.perf_counter()
            if due > now:
                await asyncio.sleep(due - now)
            start = due if rate else time.perf_counter()
            status, body = await conn.request(raws[i])
            result.latencies_ms.append((time.perf_counter() - start) * 1000)
            _count(result, status, body, p.ids[i], batch)
            if bar is not None:
                bar.update(p.sizes[i])

    try:
        await asyncio.gather(*(worker(c) for c in conns))
    finally:
        result.seconds = time.perf_counter() - t0
        for c in conns:
            c.close()
    return result


async def _run_ws(host: str, port: int, p: Plan, clients: int, window: int, rate: float, bar: Any) -> Result:
    import websockets

    result = Result(orders=sum(p.sizes))
    kind = "order" if p.path == "/orders" else "order_batch"
    per_request_s = (sum(p.sizes) / len(p.sizes)) / rate if rate else 0.0
    socks = [
        await websockets.connect(f"ws://{host}:{port}/ws?channels=orders", max_queue=None, compression=None)
        for _ in range(clients)
    ]
    next_i = 0
    t0 = time.perf_counter()

    async def worker(ws: Any) -> None:
        nonlocal next_i
        sent: dict[str, tuple[int, float]] = {}
        slots = asyncio.Semaphore(window)
        done = asyncio.Event()
        outstanding = 0
        finished = False

        async def reader() -> None:
            nonlocal outstanding
            async for text in ws:
                msg = json.loads(text)
                if msg.get("channel") != "orders":
                    continue
                i, start = sent.pop(msg["data"]["id"])
                result.latencies_ms.append((time.perf_counter() - start) * 1000)
                data = msg["data"]
                if kind == "order":
                    ok = data.get("ok")
                    result.statuses[200 if ok else 400] += 1
                    if ok:
                        result.accepted += 1
                        result.acknowledged.append(p.ids[i][0])
                    else:
                        result.codes[data.get("code", "?")] += 1
                else:
                    _count(result, 200 if data.get("ok") else 400, json.dumps(data).encode(), p.ids[i], True)
                if bar is not None:
                    bar.update(p.sizes[i])
                outstanding -= 1
                slots.release()
                if finished and outstanding == 0:
                    done.set()
                    return

        task = asyncio.create_task(reader())
        while next_i < len(p.bodies):
            i = next_i
            next_i += 1
            due = t0 + i * per_request_s
            now = time.perf_counter()
            if due > now:
                await asyncio.sleep(due - now)
            await slots.acquire()
            rid = str(i)
            sent[rid] = (i, due if rate else time.perf_counter())
            outstanding += 1
            await ws.send(json.dumps({"op": kind, "id": rid, **p.bodies[i]}, separators=(",", ":")))
        finished = True
        if outstanding:
            await asyncio.wait([task, asyncio.create_task(done.wait())], return_when=asyncio.FIRST_COMPLETED)
        task.cancel()

    try:
        await asyncio.gather(*(worker(s) for s in socks))
    finally:
        result.seconds = time.perf_counter() - t0
        for s in socks:
            await s.close()
    return result


async def run_async(
    url: str,
    *,
    keys: int = DEFAULT_KEYS,
    orders: int = 5000,
    clients: int = 16,
    batch: int = 0,
    ws: bool = False,
    ws_window: int = 1,
    rate: float = 0.0,
    symbol: str | None = None,
    progress: bool = False,
) -> Result:
    """Sign, send and measure; return the result (with every acknowledged (account, client_id))."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    eip = await get_json(host, port, "/eip712")
    domain = Domain(eip["domain"]["chainId"], eip["domain"]["verifyingContract"])
    markets = await get_json(host, port, "/markets")
    market = next((m for m in markets if m["symbol"] == symbol), None) if symbol else markets[0]
    if market is None:
        raise RuntimeError(f"no market {symbol!r} at {url}")
    index = Decimal(market["index_price"] or market["mid"] or market["last_price"] or "1")
    p = plan(
        domain,
        keys=keys,
        orders=orders,
        batch=batch,
        symbol=market["symbol"],
        index=index,
        tick=Decimal(market["tick"]),
    )
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=orders, unit="order", file=sys.stderr)
    try:
        if ws:
            return await _run_ws(host, port, p, clients, ws_window, rate, bar)
        return await _run_http(host, port, p, clients, rate, bar)
    finally:
        if bar is not None:
            bar.close()


def loop_runner():
    try:
        import uvloop

        return uvloop.run
    except ImportError:
        return asyncio.run


def run(args: argparse.Namespace) -> int:
    result = loop_runner()(
        run_async(
            args.url,
            keys=args.keys,
            orders=args.orders,
            clients=args.clients,
            batch=args.batch,
            ws=args.ws,
            ws_window=args.ws_window,
            rate=args.rate,
            symbol=args.symbol,
            progress=not args.no_progress and sys.stderr.isatty(),
        )
    )
    s = result.summary()
    if args.json:
        print(json.dumps(s))
    else:
        print(
            f"{s['accepted']}/{s['orders']} orders accepted in {s['seconds']} s: {s['orders_per_s']:,} orders/s, "
            f"latency p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, p999 {s['p999_ms']} ms"
        )
        if s["codes"]:
            print(f"refused: {s['codes']}")
    return 0 if s["accepted"] else 1
