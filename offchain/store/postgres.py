"""The PostgreSQL store (psycopg 3), for a journal that lives on a database server.

Fsync policy: every `append` / `append_many` / `save` is one transaction, and the session sets
`synchronous_commit = on`, so COMMIT returns only after the server has flushed its WAL to disk
(with the server's `fsync` and `wal_sync_method`). A lax server default (`synchronous_commit =
off`) therefore cannot silently weaken the journal. Durability beyond the server's disk
(replicas) is the server's configuration (`synchronous_standby_names`), not ours.

Tables `journal` and `snapshots` are created in the connection's current schema: to keep several
engines (or test runs) apart in one database, give each its own schema through the URL, e.g.
`postgresql://user@host/db?options=-csearch_path%3Dmy_engine`.
"""

from __future__ import annotations

from offchain.store.base import NONCE_DDL, NONCE_TABLE, NonceRow, Snapshot, Store, StoreError

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS journal (seq BIGINT PRIMARY KEY, record TEXT NOT NULL, hash TEXT)",
    "CREATE TABLE IF NOT EXISTS snapshots (seq BIGINT PRIMARY KEY, state_hash TEXT NOT NULL, blob BYTEA NOT NULL)",
    *NONCE_DDL,
    "ALTER TABLE journal ADD COLUMN IF NOT EXISTS hash TEXT",  # a journal written before the hash chain
)


class PostgresStore(Store):
    """Journal and snapshots in two PostgreSQL tables."""

    def __init__(self, url: str, *, keep_snapshots: int = 3, connect_timeout: int = 10) -> None:
        super().__init__(keep_snapshots=keep_snapshots)
        import psycopg  # imported here so that SQLite users never need libpq

        self._errors = psycopg.errors
        self.url = url
        try:
            # autocommit: reads hold no transaction open; writes use explicit transaction blocks.
            self._db = psycopg.connect(url, connect_timeout=connect_timeout, autocommit=True)
        except psycopg.OperationalError as exc:
            raise StoreError(f"cannot connect to PostgreSQL store: {exc}") from exc
        self._db.execute("SET synchronous_commit TO on")
        with self._db.transaction():
            for ddl in _SCHEMA:
                self._db.execute(ddl)
        self._init_chain()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _insert_journal(self, rows: list[tuple[int, str, str]], nonce_rows: list[NonceRow] = ()) -> None:
        try:
            with self._db.transaction(), self._db.cursor() as cur:
                if rows:
                    cur.executemany("INSERT INTO journal (seq, record, hash) VALUES (%s, %s, %s)", rows)
                if nonce_rows:
                    cur.executemany(
                        f"INSERT INTO {NONCE_TABLE} (account, nonce, expiry) VALUES (%s, %s, %s)", nonce_rows
                    )
        except self._errors.UniqueViolation as exc:
            what = f"journal seq {rows[0][0]}..{rows[-1][0]}" if rows else f"nonce {nonce_rows[0][:2]}"
            raise StoreError(f"{what} already journaled: {exc}") from exc

    def _select_nonces(self, now_s: int) -> list[NonceRow]:
        return [
            (a, n, int(e))
            for a, n, e in self._db.execute(
                f"SELECT account, nonce, expiry FROM {NONCE_TABLE} WHERE expiry >= %s", (now_s,)
            ).fetchall()
        ]

    def _delete_nonces(self, now_s: int) -> None:
        self._db.execute(f"DELETE FROM {NONCE_TABLE} WHERE expiry < %s", (now_s,))

    def _select_journal(self, start: int, limit: int) -> list[tuple[int, str]]:
        rows = self._db.execute(
            "SELECT seq, record FROM journal WHERE seq >= %s ORDER BY seq LIMIT %s", (start, limit)
        ).fetchall()
        return rows

    def _select_chain(self, start: int, limit: int) -> list[tuple[int, str, str | None]]:
        rows = self._db.execute(
            "SELECT seq, record, hash FROM journal WHERE seq >= %s ORDER BY seq LIMIT %s", (start, limit)
        ).fetchall()
        return [(int(seq), record, h) for seq, record, h in rows]

    def _select_hash(self, seq: int) -> str | None:
        row = self._db.execute("SELECT hash FROM journal WHERE seq = %s", (seq,)).fetchone()
        return row[0] if row else None

    def _select_first_unhashed(self) -> int | None:
        row = self._db.execute("SELECT MIN(seq) FROM journal WHERE hash IS NULL").fetchone()
        return None if row[0] is None else int(row[0])

    def _update_hashes(self, rows: list[tuple[str, int]]) -> None:
        with self._db.transaction(), self._db.cursor() as cur:
            cur.executemany("UPDATE journal SET hash = %s WHERE seq = %s", rows)

    def _select_last_seq(self) -> int:
        row = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM journal").fetchone()
        return int(row[0])

    def _upsert_snapshot(self, seq: int, blob: bytes, state_hash: str) -> None:
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO snapshots (seq, state_hash, blob) VALUES (%s, %s, %s)"
                " ON CONFLICT (seq) DO UPDATE SET state_hash = EXCLUDED.state_hash, blob = EXCLUDED.blob",
                (seq, state_hash, blob),
            )
            self._db.execute(
                "DELETE FROM snapshots WHERE seq NOT IN"
                " (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT %s)",
                (self.keep_snapshots,),
            )

    def _select_latest_snapshot(self) -> Snapshot | None:
        row = self._db.execute(
            "SELECT seq, blob, state_hash FROM snapshots ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return Snapshot(int(row[0]), bytes(row[1]), row[2]) if row else None
