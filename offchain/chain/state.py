"""The daemon's own durable state, beside the journal: block cursors and proof-of-reserves epochs.

None of it is needed for correctness of credits (the engine refuses a deposit reference twice, and
owed withdrawals and covers are engine state): the cursor only saves rescanning from the deployment
block, and the epochs let the daemon serve the users' proofs of the latest attestation after a
restart. The proof-of-reserves salt secret lives here too (`secrets.token_bytes`, created once): the
salt of an account in an epoch is derived from it, so that salts survive restarts without a table.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS por_epochs (
    registry TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    status TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (registry, epoch)
);
"""


class DaemonState:
    """A small SQLite file (WAL, synchronous=FULL): key-value cursors and attested epochs."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    # -- key-value --------------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    def cursor(self, name: str, default: int) -> int:
        """Return the last processed block of the scan `name` (default when never saved)."""
        return int(self.get(f"cursor:{name}", default))

    def set_cursor(self, name: str, block: int) -> None:
        self.put(f"cursor:{name}", int(block))

    def por_secret(self) -> bytes:
        """Return the proof-of-reserves salt secret, creating it on first use."""
        with self._lock:
            row = self._db.execute("SELECT value FROM kv WHERE key = 'por_secret'").fetchone()
            if row is not None:
                return bytes.fromhex(json.loads(row[0]))
            secret = secrets.token_bytes(32)
            self._db.execute(
                "INSERT INTO kv (key, value) VALUES ('por_secret', ?)", (json.dumps(secret.hex()),)
            )
            return secret

    # -- proof-of-reserves epochs ---------------------------------------------------------------
    def save_epoch(self, registry: str, epoch: int, status: str, doc: dict) -> None:
        """Record an epoch's inputs (`pending` before the attest transaction, `attested` after)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO por_epochs (registry, epoch, status, doc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(registry, epoch) DO UPDATE SET status = excluded.status, doc = excluded.doc",
                (registry.lower(), epoch, status, json.dumps(doc)),
            )

    def epochs(self, registry: str, status: str | None = None) -> list[tuple[int, str, dict]]:
        """Return `(epoch, status, doc)` rows of `registry`, newest first."""
        query = "SELECT epoch, status, doc FROM por_epochs WHERE registry = ?"
        args: tuple = (registry.lower(),)
        if status is not None:
            query += " AND status = ?"
            args += (status,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY epoch DESC", args).fetchall()
        return [(e, s, json.loads(d)) for e, s, d in rows]

    def drop_epoch(self, registry: str, epoch: int) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM por_epochs WHERE registry = ? AND epoch = ?", (registry.lower(), epoch)
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
