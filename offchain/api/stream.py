"""The WebSocket fan-out: engine events to per-connection queues, without ever blocking the sequencer.

The service calls `Hub.on_events` on the sequencer thread, under its lock, after every command. All
it does there is hand the event list to the event loop (`call_soon_threadsafe`); routing,
formatting and sending happen on the loop, and each connection has its own bounded queue. A client
that falls a whole queue behind is disconnected (close code 1013) rather than slowing anyone else.

Channels (a message is `{"channel", "type", "data"}`):
- `book`: `snapshot` of the top levels on subscription, then `delta`s of the levels that changed
  (`[price, qty]`, qty "0" = level gone), conflated to one per market per `flush_ms`. Every book
  message carries the market's `seq`: a snapshot the current one, each delta the previous + 1
  (`GET /book` too). A client that sees a delta whose seq is not its last + 1 has missed one: it
  drops its copy and takes a new snapshot (resubscribe, or `GET /book`);
- `trades`: the public tape (no account names);
- `breaker`: `breaker` transitions with their metrics and `state` changes;
- `market`: index updates, indicative auction prices, auction results, collateral freezes;
- `status`: the `/status` document every `status_ms` (metrics against thresholds, reserves...);
- `chain`: chain readings (`chain_status`) and proof-of-reserves epochs;
- `alerts`: early-warning alerts;
- `account:<address>`: that account's orders, fills, balances, positions and rejections.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from typing import Any

from offchain.api import views

PUBLIC_CHANNELS = ("book", "trades", "breaker", "market", "status", "chain", "alerts")
ACCOUNT_EVENTS = {
    "accepted",
    "cancelled",
    "amended",
    "balance",
    "deposited",
    "withdrawal_requested",
    "rejected",
    "position",
    "liquidation",
    "liquidation_started",
    "liquidation_fee",
    "bad_debt",
}
BOOK_EVENTS = {"accepted", "cancelled", "amended", "trade", "state", "breaker", "auction"}
MARKET_EVENTS = {"index", "indicative", "auction", "collateral_frozen", "collateral_unfrozen", "funding"}
BOOK_LEVELS = 50
TAPE_SIZE = 500


class TradeTape:
    """The last trades per market, for `GET /trades` (fed on the sequencer: appends only)."""

    def __init__(self, size: int = TAPE_SIZE) -> None:
        self.size = size
        self.by_symbol: dict[str, deque] = {}

    def observe(self, events: list[dict]) -> None:
        for e in events:
            if e.get("event") == "trade":
                tape = self.by_symbol.get(e["symbol"])
                if tape is None:
                    tape = self.by_symbol[e["symbol"]] = deque(maxlen=self.size)
                tape.append(e)

    def recent(self, symbol: str | None, limit: int) -> list[dict]:
        """The newest `limit` trades (of one market, or of all), newest first."""
        if symbol is not None:
            items = list(self.by_symbol.get(symbol, ()))
        else:
            items = sorted(
                (e for t in list(self.by_symbol.values()) for e in list(t)), key=lambda e: e["tid"]
            )
        return items[::-1][:limit]


class BreakerLog:
    """Each market's last breaker transition with the metrics that justified it (fed on the sequencer).

    The engine keeps the breaker's state, not the metrics of its last move; the dashboard shows them
    next to the live values ("at the trip"). Kept since this process started.
    """

    def __init__(self) -> None:
        self.last: dict[str, dict] = {}

    def observe(self, events: list[dict]) -> None:
        for e in events:
            if e.get("event") == "breaker":
                self.last[e["symbol"]] = e


class StatusCache:
    """The `/status` document, computed at most once per `ttl_ms`.

    It reads every market's breaker metrics under the sequencer lock, so however many clients ask,
    the sequencer pays for it once per period. Rare events that change what it says (breaker moves,
    chain readings, alerts, reserve epochs) invalidate it at once.
    """

    RARE = {"breaker", "state", "chain_status", "alert", "por_epoch", "auction"}

    def __init__(self, service: Any, breaker_log: BreakerLog, ttl_ms: int) -> None:
        self.service = service
        self.breaker_log = breaker_log
        self.ttl_s = ttl_ms / 1000
        self._lock = threading.Lock()
        self._doc: dict | None = None
        self._at = 0.0

    def observe(self, events: list[dict]) -> None:
        """Service subscriber: forget the cached document when something rare happened."""
        if any(e.get("event") in self.RARE for e in events):
            self._doc = None

    def get(self) -> dict:
        with self._lock:
            doc = self._doc
            if doc is not None and time.monotonic() - self._at < self.ttl_s:
                return doc
            service = self.service
            with service.lock:  # stored under it: an invalidation cannot slip in between
                now = max(service.clock_ms(), service.engine.now)
                doc = views.status_view(service, now, self.breaker_log.last)
                self._doc, self._at = doc, time.monotonic()
            return doc


def public_trade(trade: dict) -> dict:
    """A trade as the public tape shows it (no account names)."""
    return {k: trade[k] for k in views.TRADE_FIELDS}


class Connection:
    """One WebSocket client: its subscriptions and its outgoing queue."""

    def __init__(self, channels: set[str], queue_size: int) -> None:
        self.channels = channels
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=queue_size)
        self.lagged = False

    def wants(self, channel: str) -> bool:
        return channel in self.channels

    def put(self, message: dict) -> None:
        if self.lagged:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.lagged = True  # the sender closes the socket; nothing more is queued
            with contextlib.suppress(asyncio.QueueEmpty):
                while True:
                    self.queue.get_nowait()
            self.queue.put_nowait(None)


class Hub:
    """Routes events to connections; keeps the book baseline that deltas are taken against."""

    def __init__(
        self,
        service: Any,
        *,
        flush_ms: int = 200,
        status_ms: int = 1000,
        queue_size: int = 2000,
        telemetry: Any = None,
        status: StatusCache | None = None,
    ) -> None:
        self.service = service
        self.status = status or StatusCache(service, BreakerLog(), status_ms)
        self.flush_s = flush_ms / 1000
        self.status_s = status_ms / 1000
        self.queue_size = queue_size
        self.telemetry = telemetry
        self.connections: set[Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dirty: set[str] = set()
        self._baseline: dict[str, tuple[dict[int, int], dict[int, int]]] = {}
        self._seq: dict[str, int] = {}  # per market: the seq of the last book message published
        self._tasks: list[asyncio.Task] = []
        self._unsubscribe = None

    # -- lifecycle (on the event loop) ----------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._unsubscribe = self.service.subscribe(self.on_events)
        self._tasks = [
            asyncio.create_task(self._every(self.flush_s, self._flush_books)),
            asyncio.create_task(self._every(self.status_s, self._push_status)),
        ]

    async def ensure_started(self) -> None:
        """Start on the running loop if not started there (an app served without its lifespan)."""
        if self._loop is not asyncio.get_running_loop():
            if self._unsubscribe is not None:
                await self.stop()
            await self.start()

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for conn in list(self.connections):
            conn.put(None)

    # -- the sequencer side ------------------------------------------------------------------------
    def on_events(self, events: list[dict]) -> None:
        """Service subscriber: hand the events to the loop (runs on the sequencer; must not block)."""
        loop = self._loop
        if loop is not None and self.connections and not loop.is_closed():
            loop.call_soon_threadsafe(self._route, events)

    # -- connections ---------------------------------------------------------------------------
    async def connect(self, channels: set[str]) -> Connection:
        conn = Connection(channels, self.queue_size)
        self.connections.add(conn)
        if self.telemetry is not None:
            self.telemetry.ws_clients = len(self.connections)
        await self.greet(conn, channels)
        return conn

    def disconnect(self, conn: Connection) -> None:
        self.connections.discard(conn)
        if self.telemetry is not None:
            self.telemetry.ws_clients = len(self.connections)

    async def greet(self, conn: Connection, channels: set[str]) -> None:
        """Send what a new subscriber starts from: book snapshots and the current status."""
        if "book" in channels:
            # on the loop, like the deltas: a snapshot and the deltas after it stay in order
            for message in self._book_snapshots():
                conn.put(message)
        if "status" in channels:
            conn.put(
                {"channel": "status", "type": "status", "data": await asyncio.to_thread(self.status.get)}
            )

    # -- routing (on the loop) -----------------------------------------------------------------------
    def _route(self, events: list[dict]) -> None:
        engine = self.service.engine
        for e in events:
            kind = e.get("event")
            symbol = e.get("symbol")
            if kind in BOOK_EVENTS and isinstance(symbol, str):
                self._dirty.add(symbol)
            formatted = None
            targets: list[tuple[str, dict]] = []
            if kind == "trade":
                formatted = views.format_event(engine, e)
                targets.append(("trades", public_trade(formatted)))
                for who in {e["maker"], e["taker"]}:
                    targets.append((f"account:{who}", views.trade_for(formatted, who)))
            elif kind in ("breaker", "state"):
                targets.append(("breaker", e))
            elif kind in MARKET_EVENTS:
                targets.append(("market", views.format_event(engine, e)))
            elif kind == "chain_status":
                targets.append(("chain", views.chain_view(engine, e)))
            elif kind == "por_epoch":
                targets.append(("chain", views.json_safe(e)))
            elif kind == "alert":
                targets.append(("alerts", views.json_safe(e)))
            if kind in ACCOUNT_EVENTS and e.get("account"):
                formatted = formatted or views.format_event(engine, e)
                targets.append((f"account:{e['account']}", formatted))
            for channel, data in targets:
                message = {"channel": channel, "type": kind, "data": data}
                for conn in self.connections:
                    if conn.wants(channel):
                        conn.put(message)

    # -- periodic work ---------------------------------------------------------------------------------
    async def _every(self, period_s: float, fn) -> None:
        while True:
            await asyncio.sleep(period_s)
            if self.connections:
                await fn()

    async def _flush_books(self) -> None:
        if not self._dirty or not any(c.wants("book") for c in self.connections):
            return
        dirty, self._dirty = self._dirty, set()
        for message in self._book_deltas(dirty):
            for conn in list(self.connections):
                if conn.wants("book"):
                    conn.put(message)

    async def _push_status(self) -> None:
        if not any(c.wants("status") for c in self.connections):
            return
        message = {"channel": "status", "type": "status", "data": await asyncio.to_thread(self.status.get)}
        for conn in list(self.connections):
            if conn.wants("status"):
                conn.put(message)

    # -- book baselines (read under the service lock, on the loop: they are ordered) ------------------------------
    def _top(self, market: Any) -> tuple[dict[int, int], dict[int, int]]:
        book = market.book
        return dict(book.depth(True, BOOK_LEVELS)), dict(book.depth(False, BOOK_LEVELS))

    def _book_snapshots(self) -> list[dict]:
        def read(engine):
            out = []
            for symbol, market in sorted(engine.markets.items()):
                base = self._baseline.get(symbol)
                if base is None:
                    base = self._baseline[symbol] = self._top(market)
                message = self._book_message(engine, market, "snapshot", base[0], base[1])
                message["data"]["seq"] = self._seq.get(symbol, 0)
                out.append(message)
            return out

        return self.service.read(read)

    def _book_deltas(self, symbols: set[str]) -> list[dict]:
        def read(engine):
            out = []
            for symbol in sorted(symbols):
                market = engine.markets.get(symbol)
                if market is None:
                    continue
                out.append(self._delta(engine, market))
            return out

        return self.service.read(read)

    def _delta(self, engine: Any, market: Any) -> dict:
        """The next delta of `market` against its baseline (call under the service lock, on the loop)."""
        symbol = market.symbol
        new = self._top(market)
        old = self._baseline.get(symbol, ({}, {}))
        self._baseline[symbol] = new
        bids, asks = _diff(old[0], new[0]), _diff(old[1], new[1])
        message = self._book_message(engine, market, "delta", bids, asks)
        message["data"]["seq"] = self._seq[symbol] = self._seq.get(symbol, 0) + 1
        return message

    def book_at_seq(self, market: Any, depth: int) -> dict:
        """`GET /book`: the live book with the seq of the stream at that instant.

        Under the service lock (the caller's `service.read`), on the loop: if the book moved since the
        last delta, that delta is published now, so that the answer is exactly the stream's state at
        its `seq` and the next delta is seq + 1.
        """
        engine = self.service.engine
        if market.symbol in self._baseline and self._top(market) != self._baseline[market.symbol]:
            message = self._delta(engine, market)
            for conn in list(self.connections):
                if conn.wants("book"):
                    conn.put(message)
        elif market.symbol not in self._baseline:
            self._baseline[market.symbol] = self._top(market)
        return {**views.book_view(engine, market, depth), "seq": self._seq.get(market.symbol, 0)}

    @staticmethod
    def _book_message(engine: Any, market: Any, kind: str, bids: dict, asks: dict) -> dict:
        s = market.symbol
        return {
            "channel": "book",
            "type": kind,
            "data": {
                "symbol": s,
                "state": market.state,
                "bids": views.levels(engine, s, sorted(bids.items(), reverse=True)),
                "asks": views.levels(engine, s, sorted(asks.items())),
                "mid": views.price(engine, s, views.mid_of(market.book)),
                "last_price": views.price(engine, s, market.last_price),
            },
        }


def _diff(old: dict[int, int], new: dict[int, int]) -> dict[int, int]:
    """Levels that changed between two views of one side: new quantity, 0 for a level gone."""
    out = {p: q for p, q in new.items() if old.get(p) != q}
    out.update({p: 0 for p in old if p not in new})
    return out
