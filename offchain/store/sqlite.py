"""The default store: one SQLite file in WAL mode.

Fsync policy (the `sync` option, `sqlite:///path/file.db?sync=full`):

- `full` (default): `PRAGMA synchronous=FULL`. Every `append` / `append_many` is one transaction
  whose commit fsyncs the write-ahead log before returning, so an acknowledged command survives a
  process kill, an OS crash and a power cut. A batch (`append_many`) pays one fsync for the batch.
- `normal`: `PRAGMA synchronous=NORMAL`. The commit writes the WAL (into the OS page cache) but
  fsyncs only at checkpoints: it survives a process kill (SIGKILL), not an OS crash or power cut.
- `off`: no fsync at all; for benchmarks and throw-away runs only.

`bench/journal_fsync.py` measures what each policy costs on this machine.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from offchain.store.base import NONCE_DDL, NONCE_TABLE, NonceRow, Snapshot, Store, StoreError

SYNC_MODES = {"full": "FULL", "normal": "NORMAL", "off": "OFF"}

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, record TEXT NOT NULL, hash TEXT)",
    "CREATE TABLE IF NOT EXISTS snapshots ("
    " seq INTEGER PRIMARY KEY, state_hash TEXT NOT NULL, blob BLOB NOT NULL)",
    *NONCE_DDL,
)
_INSERT = "INSERT INTO journal (seq, record, hash) VALUES (?, ?, ?)"
_INSERT_NONCE = f"INSERT INTO {NONCE_TABLE} (account, nonce, expiry) VALUES (?, ?, ?)"


class SqliteStore(Store):
    """Journal and snapshots in one SQLite database file (WAL mode)."""

    def __init__(self, path: str | Path, *, sync: str = "full", keep_snapshots: int = 3) -> None:
        super().__init__(keep_snapshots=keep_snapshots)
        if sync not in SYNC_MODES:
            raise StoreError(f"sqlite sync must be one of {sorted(SYNC_MODES)}, got {sync!r}")
        self.path = Path(path)
        self.sync = sync
        self.url = f"sqlite://{self.path}?sync={sync}" if sync != "full" else f"sqlite://{self.path}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per call.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise StoreError(f"{self.path}: could not switch SQLite to WAL mode (got {mode!r})")
        self._db.execute(f"PRAGMA synchronous={SYNC_MODES[sync]}")
        for ddl in _SCHEMA:
            self._db.execute(ddl)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(journal)")}
        if "hash" not in columns:  # a journal written before the hash chain
            self._db.execute("ALTER TABLE journal ADD COLUMN hash TEXT")
        self._init_chain()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _insert_journal(self, rows: list[tuple[int, str, str]], nonce_rows: list[NonceRow] = ()) -> None:
        db = self._db
        try:
            if len(rows) + len(nonce_rows) == 1:
                # One statement outside BEGIN is its own transaction: same commit, two round trips fewer.
                db.execute(*((_INSERT, rows[0]) if rows else (_INSERT_NONCE, nonce_rows[0])))
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                if rows:
                    db.executemany(_INSERT, rows)
                if nonce_rows:
                    db.executemany(_INSERT_NONCE, nonce_rows)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.IntegrityError as exc:
            what = f"journal seq {rows[0][0]}..{rows[-1][0]}" if rows else f"nonce {nonce_rows[0][:2]}"
            raise StoreError(f"{what} already journaled: {exc}") from exc

    def _select_nonces(self, now_s: int) -> list[NonceRow]:
        return self._db.execute(
            f"SELECT account, nonce, expiry FROM {NONCE_TABLE} WHERE expiry >= ?", (now_s,)
        ).fetchall()

    def _delete_nonces(self, now_s: int) -> None:
        self._db.execute(f"DELETE FROM {NONCE_TABLE} WHERE expiry < ?", (now_s,))

    def _select_journal(self, start: int, limit: int) -> list[tuple[int, str]]:
        return self._db.execute(
            "SELECT seq, record FROM journal WHERE seq >= ? ORDER BY seq LIMIT ?", (start, limit)
        ).fetchall()

    def _select_chain(self, start: int, limit: int) -> list[tuple[int, str, str | None]]:
        return self._db.execute(
            "SELECT seq, record, hash FROM journal WHERE seq >= ? ORDER BY seq LIMIT ?", (start, limit)
        ).fetchall()

    def _select_hash(self, seq: int) -> str | None:
        row = self._db.execute("SELECT hash FROM journal WHERE seq = ?", (seq,)).fetchone()
        return row[0] if row else None

    def _select_first_unhashed(self) -> int | None:
        return self._db.execute("SELECT MIN(seq) FROM journal WHERE hash IS NULL").fetchone()[0]

    def _update_hashes(self, rows: list[tuple[str, int]]) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("UPDATE journal SET hash = ? WHERE seq = ?", rows)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _select_last_seq(self) -> int:
        return self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM journal").fetchone()[0]

    def _upsert_snapshot(self, seq: int, blob: bytes, state_hash: str) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "INSERT OR REPLACE INTO snapshots (seq, state_hash, blob) VALUES (?, ?, ?)",
                (seq, state_hash, blob),
            )
            db.execute(
                "DELETE FROM snapshots WHERE seq NOT IN (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT ?)",
                (self.keep_snapshots,),
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _select_latest_snapshot(self) -> Snapshot | None:
        row = self._db.execute(
            "SELECT seq, blob, state_hash FROM snapshots ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return Snapshot(row[0], bytes(row[1]), row[2]) if row else None
