"""The public tape and the market's history, kept in the journal's own database so they survive restarts.

`PersistentTape` replaces the in-memory `stream.TradeTape` behind `GET /trades` and feeds
`GET /candles`, `GET /ticker` and `GET /overlays` (`routes/candles.py`). It subscribes to the
service like every other observer: on the sequencer thread, under the lock, it only appends rows to
a pending list; a writer thread writes them every `flush_ms` (and `flush()` / `close()` write what
is left), so the sequencer never waits for this database work.

Tables, next to the journal (`journal`, `snapshots`, `api_nonces`) in the same SQLite file or
PostgreSQL database:

- `api_trades (tid, symbol, ts, price, qty, taker_side)`: every trade, no account names. Prices and
  quantities are integers in the market's atoms, stored as text (18-decimal quantities do not fit
  a 64-bit column);
- `api_marks (symbol, kind, ts, value, detail)`: the lines drawn over the candles (`index`, `mark`,
  the on-chain `pool` price, each recorded when it changes) and the market's trading `state` (value
  = the new state, detail = the reason), from which the halt, cool-down and auction periods are
  shaded; `indicative` uncross prices (detail = volume) during cool-down and auction;
- `api_tape_meta (name, value)`: `seq`, the last journal entry whose trades are written.

Restarts and gaps: a restart reads the newest `TAPE_SIZE` trades per market back into memory, then
catches up with the journal (the API was not attached, or crashed before a flush): it replays the
journal entries after `seq` on an engine of its own (from the latest snapshot when that is old enough)
and keeps what they produced only if the replay ends in the exchange's own state hash. History
readers wait for that catch-up; the journal itself is never written here.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections import deque
from typing import Any

from offchain.api.stream import TAPE_SIZE, TradeTape

log = logging.getLogger("offchain.api.tape")

FLUSH_MS = 200
# the breaker's states that are not continuous trading, shaded on the chart
STOPPED_STATES = ("halted", "cooldown", "auction")
MARK_KINDS = ("index", "mark", "pool", "state", "indicative")

_DDL = (
    "CREATE TABLE IF NOT EXISTS api_trades (tid BIGINT PRIMARY KEY, symbol TEXT NOT NULL, ts BIGINT NOT NULL,"
    " price TEXT NOT NULL, qty TEXT NOT NULL, taker_side TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS api_trades_symbol_ts ON api_trades (symbol, ts)",
    "CREATE TABLE IF NOT EXISTS api_marks (symbol TEXT NOT NULL, kind TEXT NOT NULL, ts BIGINT NOT NULL,"
    " value TEXT NOT NULL, detail TEXT NOT NULL, PRIMARY KEY (symbol, kind, ts))",
    "CREATE TABLE IF NOT EXISTS api_tape_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
_TRADE_INSERT = "INSERT INTO api_trades (tid, symbol, ts, price, qty, taker_side) VALUES (?, ?, ?, ?, ?, ?)"
_MARK_INSERT = "INSERT INTO api_marks (symbol, kind, ts, value, detail) VALUES (?, ?, ?, ?, ?)"


class _Db:
    """One connection of our own to the journal's database (SQLite file or PostgreSQL), or none."""

    def __init__(self, store: Any) -> None:
        self.lock = threading.Lock()
        self.kind = "none"
        self.conn: Any = None
        path = getattr(store, "path", None)
        url = getattr(store, "url", "") or ""
        try:
            if path is not None and url.startswith("sqlite://"):
                self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
                self.conn.execute("PRAGMA synchronous=NORMAL")
                self.kind = "sqlite"
            elif url.startswith(("postgresql://", "postgres://")):
                import psycopg

                self.conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
                self.kind = "postgres"
        except Exception as exc:  # the tape is a convenience: the exchange runs without it
            log.warning("tape: cannot open the journal's database (%s); the tape stays in memory", exc)
            self.conn, self.kind = None, "none"
        if self.conn is not None:
            with self.lock:
                for ddl in _DDL:
                    self.conn.execute(ddl)

    def sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.kind == "postgres" else text

    def rows(self, text: str, args: tuple = ()) -> list[tuple]:
        if self.conn is None:
            return []
        with self.lock:
            return list(self.conn.execute(self.sql(text), args).fetchall())

    def write(self, trades: list[tuple], marks: list[tuple], seq: int | None) -> None:
        """Insert the rows (a row already there is kept: several apps may feed one database)."""
        if self.conn is None:
            return
        with self.lock:
            conn = self.conn
            if self.kind == "postgres":
                with conn.transaction(), conn.cursor() as cur:
                    if trades:
                        cur.executemany(self.sql(_TRADE_INSERT) + " ON CONFLICT DO NOTHING", trades)
                    if marks:
                        cur.executemany(self.sql(_MARK_INSERT) + " ON CONFLICT DO NOTHING", marks)
                    if seq is not None:
                        cur.execute(
                            "INSERT INTO api_tape_meta (name, value) VALUES ('seq', %s)"
                            " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                            (str(seq),),
                        )
                return
            conn.execute("BEGIN")
            try:
                if trades:
                    conn.executemany(_TRADE_INSERT.replace("INSERT", "INSERT OR IGNORE", 1), trades)
                if marks:
                    conn.executemany(_MARK_INSERT.replace("INSERT", "INSERT OR IGNORE", 1), marks)
                if seq is not None:
                    conn.execute(
                        "INSERT OR REPLACE INTO api_tape_meta (name, value) VALUES ('seq', ?)", (str(seq),)
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        if self.conn is not None:
            with self.lock:
                self.conn.close()
                self.conn = None


def _trade_dict(row: tuple) -> dict:
    tid, symbol, ts, price, qty, side = row
    return {
        "event": "trade",
        "tid": int(tid),
        "symbol": symbol,
        "ts": int(ts),
        "price": int(price),
        "qty": int(qty),
        "taker_side": side,
    }


MINUTE_MS = 60_000
_WANTED = frozenset({"trade", "index", "state", "indicative", "chain_status"})
MINUTES_KEEP_MS = 25 * 3_600_000


class Minutes:
    """One-minute OHLCV buckets of each market's last `keep_ms`, in memory: tickers and minute-or-longer
    candles of the recent past read these instead of every trade. Trades may come in any order (a
    catch-up replays older ones): open and close follow the trade ids, a trade is counted once."""

    def __init__(self, keep_ms: int = MINUTES_KEEP_MS) -> None:
        self.keep_ms = keep_ms
        self.lock = threading.Lock()
        self.by_symbol: dict[str, dict[int, dict]] = {}
        self.newest = 0
        self.complete_from: int | None = None  # buckets from here on hold every trade

    def add(self, tid: int, symbol: str, ts: int, price: int, qty: int) -> None:
        t = ts - ts % MINUTE_MS
        with self.lock:
            if ts < self.newest - self.keep_ms:
                return
            buckets = self.by_symbol.setdefault(symbol, {})
            b = buckets.get(t)
            if b is None:
                buckets[t] = {
                    "t": t, "open": price, "high": price, "low": price, "close": price, "volume": qty,
                    "notional": price * qty, "trades": 1, "first": tid, "last": tid, "tids": {tid},
                }  # fmt: skip
            elif tid not in b["tids"]:
                b["tids"].add(tid)
                b["high"], b["low"] = max(b["high"], price), min(b["low"], price)
                b["volume"] += qty
                b["notional"] += price * qty
                b["trades"] += 1
                if tid < b["first"]:
                    b["open"], b["first"] = price, tid
                if tid > b["last"]:
                    b["close"], b["last"] = price, tid
            if ts > self.newest:
                self.newest = ts
                if len(buckets) > self.keep_ms // MINUTE_MS + 120:
                    self._prune()

    def _prune(self) -> None:
        cut = self.newest - self.keep_ms
        for buckets in self.by_symbol.values():
            for t in [t for t in buckets if t < cut - MINUTE_MS]:
                del buckets[t]
        if self.complete_from is not None:
            self.complete_from = max(self.complete_from, cut)

    def covers(self, start_ms: int) -> bool:
        """Whether every trade from `start_ms` on is in the buckets."""
        with self.lock:
            return self.complete_from is not None and start_ms >= max(
                self.complete_from, self.newest - self.keep_ms
            )

    def between(self, symbol: str, start_ms: int, end_ms: int) -> list[dict]:
        """Copies of the buckets with `start_ms <= t < end_ms`, oldest first."""
        with self.lock:
            buckets = self.by_symbol.get(symbol, {})
            return [dict(buckets[t]) for t in sorted(buckets) if start_ms <= t < end_ms]

    def last_before(self, symbol: str, ts_ms: int) -> dict | None:
        with self.lock:
            older = [t for t in self.by_symbol.get(symbol, {}) if t < ts_ms]
            return dict(self.by_symbol[symbol][max(older)]) if older else None


class PersistentTape(TradeTape):
    """`TradeTape` whose trades, prices and states are also written to the journal's database."""

    def __init__(self, service: Any, size: int = TAPE_SIZE, flush_ms: int = FLUSH_MS) -> None:
        super().__init__(size)
        self.service = service
        self.flush_ms = flush_ms
        self.db = _Db(getattr(getattr(service, "runner", None), "store", None))
        self._pending_trades: list[tuple] = []
        self._pending_marks: list[tuple] = []
        self._pending_seq = 0
        self._pending_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._last: dict[tuple[str, str], str] = {}  # (symbol, kind) -> last value recorded
        self.minutes = Minutes()
        self._last_int: dict[tuple[str, str], int] = {}  # the same for index and mark, unformatted
        self._load()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._caught_up = self.db.conn is None
        self._written_seq = 0
        self.ready = threading.Event()  # set once the tape has caught up with the journal
        if self.db.conn is None:
            self.ready.set()
        else:
            self._thread = threading.Thread(target=self._run, name="tape-writer", daemon=True)
            self._thread.start()

    # -- start-up ------------------------------------------------------------------------------
    def _load(self) -> None:
        symbols = [r[0] for r in self.db.rows("SELECT DISTINCT symbol FROM api_trades")]
        for symbol in symbols:
            rows = self.db.rows(
                "SELECT tid, symbol, ts, price, qty, taker_side FROM api_trades WHERE symbol = ?"
                " ORDER BY tid DESC LIMIT ?",
                (symbol, self.size),
            )
            self.by_symbol[symbol] = deque((_trade_dict(r) for r in reversed(rows)), maxlen=self.size)
        for symbol, kind, value in self.db.rows(
            "SELECT m.symbol, m.kind, m.value FROM api_marks m JOIN (SELECT symbol, kind, MAX(ts) AS ts"
            " FROM api_marks GROUP BY symbol, kind) l ON m.symbol = l.symbol AND m.kind = l.kind AND m.ts = l.ts"
        ):
            self._last[(symbol, kind)] = value

    def stored_seq(self) -> int:
        """The last journal entry whose trades are written (0: none yet)."""
        rows = self.db.rows("SELECT value FROM api_tape_meta WHERE name = 'seq'")
        return int(rows[0][0]) if rows and str(rows[0][0]).isdigit() else 0

    # -- the sequencer side (under the service lock: appends only) --------------------------------
    def observe(self, events: list[dict]) -> None:
        wanted = [e for e in events if e.get("event") in _WANTED]
        if not wanted:  # most commands: accepted, cancelled, balances
            return
        super().observe(wanted)
        service = self.service
        trades, marks = self._collect(wanted, getattr(service, "engine", None))
        self._add(trades, marks, getattr(getattr(service, "runner", None), "seq", 0))

    def _add(self, trades: list[tuple], marks: list[tuple], seq: int) -> None:
        for tid, symbol, ts, price, qty, _ in trades:
            self.minutes.add(tid, symbol, ts, int(price), int(qty))
        if trades or marks:
            with self._pending_lock:
                self._pending_trades.extend(trades)
                self._pending_marks.extend(marks)
                self._pending_seq = max(self._pending_seq, seq)

    def _collect(self, events: list[dict], engine: Any) -> tuple[list[tuple], list[tuple]]:
        """The rows of one command's events; `engine` is in the state right after it."""
        trades: list[tuple] = []
        marks: list[tuple] = []
        touched: dict[str, int] = {}
        for e in events:
            kind = e.get("event")
            if kind == "trade":
                trades.append(
                    (e["tid"], e["symbol"], e["ts"], str(e["price"]), str(e["qty"]), e["taker_side"])
                )
                touched[e["symbol"]] = e["ts"]
            elif kind == "index":
                touched[e["symbol"]] = e["ts"]
            elif kind == "state":
                self._mark(marks, e["symbol"], "state", e["ts"], e["state"], e.get("reason", ""), force=True)
            elif kind == "indicative" and e.get("price") is not None:
                self._mark(
                    marks, e["symbol"], "indicative", e["ts"], str(e["price"]), str(e.get("volume", 0))
                )
            elif kind == "chain_status":
                pool = e.get("pool")
                if isinstance(pool, dict) and isinstance(pool.get("index_price"), int):
                    market = pool.get("market")
                    if isinstance(market, str):
                        self._mark(marks, market, "pool", e["ts"], str(pool["index_price"]), "")
        if touched:
            markets = getattr(engine, "markets", {})
            for symbol, ts in touched.items():
                market = markets.get(symbol)
                if market is None:
                    continue
                for kind, value in (("index", market.index_price), ("mark", market.mark_price)):
                    if value is not None and self._last_int.get((symbol, kind)) != value:
                        self._last_int[(symbol, kind)] = value
                        self._mark(marks, symbol, kind, ts, str(value), "")
        return trades, marks

    # -- catching up with the journal ------------------------------------------------------------
    def _catch_up(self) -> None:
        """Replay the journal entries the tape has not seen (the API was not running, or crashed
        before a flush) on an engine of our own, and write their trades, prices and states."""
        try:
            self._load_minutes()
            self._replay()
            self.flush()
            self._reload()
        except Exception:
            log.exception("tape: catching up with the journal failed; the tape may miss older trades")
        finally:
            self._caught_up = True
            self.flush()
            self.ready.set()

    def _replay(self) -> None:
        runner = getattr(self.service, "runner", None)
        store = getattr(runner, "store", None)
        if runner is None or store is None:
            return
        done = self.stored_seq()
        with self.service.lock:
            head = runner.seq
            # the replay must end in this state, or it was not this exchange's engine
            want = runner.engine.state_hash() if done < head else None
        with self._pending_lock:
            self._pending_seq = max(self._pending_seq, head)
        if done >= head:
            return
        from offchain.core.build import build_engine
        from offchain.core.messages.codec import command_from_dict, event_to_dict
        from offchain.store import open_store

        reader = open_store(store.url)
        try:
            fresh = build_engine()
            engine, seq = fresh, 0
            snap = reader.latest()
            if snap is not None and snap.seq <= done:
                engine, seq = type(fresh).restore(snap.blob, modules=fresh.modules, risk=fresh.risk), snap.seq
            log.info("tape: replaying journal entries %d..%d for the tape", seq + 1, head)
            found: list = []
            for entry_seq, record in reader.read_from(seq + 1):
                if entry_seq > head or self._stop.is_set():
                    break
                events = engine.apply(command_from_dict(record))
                if entry_seq > done and events:
                    found.append(self._collect([event_to_dict(e) for e in events], engine))
                seq = entry_seq
        finally:
            reader.close()
        if self._stop.is_set():
            return
        if seq != head or engine.state_hash() != want:
            log.warning(
                "tape: the journal's replay did not reach the exchange's state; not used for the tape"
            )
            return
        for trades, marks in found:
            self._add(trades, marks, head)

    def _load_minutes(self) -> None:
        """The last day and an hour of trades from the database into the minute buckets."""
        since = self.service.clock_ms() - self.minutes.keep_ms
        since -= since % MINUTE_MS
        for tid, symbol, ts, price, qty, _ in self.db.rows(
            "SELECT tid, symbol, ts, price, qty, taker_side FROM api_trades WHERE ts >= ? ORDER BY tid",
            (since,),
        ):
            self.minutes.add(int(tid), symbol, int(ts), int(price), int(qty))
        with self.minutes.lock:
            self.minutes.complete_from = since

    def _reload(self) -> None:
        """Read the newest trades back into memory (after a catch-up added older ones)."""
        with self.service.lock:
            self.flush()
            fresh = PersistentTape.__new__(PersistentTape)
            fresh.size, fresh.by_symbol, fresh.db, fresh._last = self.size, {}, self.db, {}
            PersistentTape._load(fresh)
            for symbol, tape in fresh.by_symbol.items():
                newest = {t["tid"] for t in tape}
                live = [t for t in self.by_symbol.get(symbol, ()) if t["tid"] not in newest]
                tape.extend(live)
                self.by_symbol[symbol] = deque(sorted(tape, key=lambda t: t["tid"]), maxlen=self.size)

    def _mark(self, out: list, symbol: str, kind: str, ts: int, value: str, detail: str, force=False) -> None:
        key = (symbol, kind)
        if not force and self._last.get(key) == value:
            return
        self._last[key] = value
        out.append((symbol, kind, ts, value, detail))

    # -- the writer ----------------------------------------------------------------------------
    def _run(self) -> None:
        self._catch_up()
        while not self._stop.wait(self.flush_ms / 1000):
            try:
                self.flush()
            except Exception:  # keep the rows and try again at the next period
                log.exception("tape: writing the tape failed")

    def flush(self) -> None:
        """Write every pending row now (the readers call it first, so they see the latest trades)."""
        with self._flush_lock:
            with self._pending_lock:
                trades, self._pending_trades = self._pending_trades, []
                marks, self._pending_marks = self._pending_marks, []
                seq = self._pending_seq
            # the journal position is recorded only once the catch-up is done
            seq_now = seq if self._caught_up and seq > self._written_seq else None
            if not trades and not marks and seq_now is None:
                return
            try:
                self.db.write(trades, marks, seq_now)
                if seq_now is not None:
                    self._written_seq = seq_now
            except BaseException:
                with self._pending_lock:
                    self._pending_trades[:0] = trades
                    self._pending_marks[:0] = marks
                raise

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until the catch-up with the journal is done (readers of history call it)."""
        self.ready.wait(timeout)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        try:
            self.flush()
        finally:
            self.db.close()

    # -- reads ---------------------------------------------------------------------------------
    @property
    def persistent(self) -> bool:
        return self.db.conn is not None

    def trades_between(self, symbol: str, start_ms: int, end_ms: int, limit: int) -> list[dict]:
        """Trades of `symbol` with `start_ms <= ts < end_ms`, oldest first (at most `limit`)."""
        if not self.persistent:
            items = [t for t in self.by_symbol.get(symbol, ()) if start_ms <= t["ts"] < end_ms]
            return items[:limit]
        self.wait_ready()
        self.flush()
        rows = self.db.rows(
            "SELECT tid, symbol, ts, price, qty, taker_side FROM api_trades WHERE symbol = ? AND ts >= ?"
            " AND ts < ? ORDER BY tid LIMIT ?",
            (symbol, start_ms, end_ms, limit),
        )
        return [_trade_dict(r) for r in rows]

    def last_trade_before(self, symbol: str, ts_ms: int) -> dict | None:
        if not self.persistent:
            older = [t for t in self.by_symbol.get(symbol, ()) if t["ts"] < ts_ms]
            return older[-1] if older else None
        self.wait_ready()
        self.flush()
        rows = self.db.rows(
            "SELECT tid, symbol, ts, price, qty, taker_side FROM api_trades WHERE symbol = ? AND ts < ?"
            " ORDER BY tid DESC LIMIT 1",
            (symbol, ts_ms),
        )
        return _trade_dict(rows[0]) if rows else None

    def marks_between(self, symbol: str, kind: str, start_ms: int, end_ms: int, limit: int) -> list[tuple]:
        """`(ts, value, detail)` of one kind in the window, oldest first, with the last one before it."""
        if not self.persistent:
            return []
        self.wait_ready()
        self.flush()
        before = self.db.rows(
            "SELECT ts, value, detail FROM api_marks WHERE symbol = ? AND kind = ? AND ts < ?"
            " ORDER BY ts DESC LIMIT 1",
            (symbol, kind, start_ms),
        )
        inside = self.db.rows(
            "SELECT ts, value, detail FROM api_marks WHERE symbol = ? AND kind = ? AND ts >= ? AND ts < ?"
            " ORDER BY ts LIMIT ?",
            (symbol, kind, start_ms, end_ms, limit),
        )
        return [(int(t), v, d) for t, v, d in before + inside]


def detail_json(detail: str) -> Any:
    try:
        return json.loads(detail)
    except ValueError:
        return detail
