"""Replay protection for signed requests: every (account, nonce) is accepted once, durably.

Design. A signed order, cancel or proof request carries a nonce and an expiry. The API claims
the nonce in a table *before* it submits the command: `claim` inserts `(account, nonce, expiry)`
under a primary key and commits durably (SQLite `synchronous=FULL`, PostgreSQL
`synchronous_commit=on`), so a second request with the same nonce is refused with
`nonce_reused` -- also after a restart, because the table lives in the same database as the
engine's journal (`nonces_for(store)`).

Ordering. Claim first, then journal the command. A crash between the two burns the nonce without
placing the order; the client never received an acknowledgement and signs again with a new nonce.
The other order (journal first) could execute one signed order twice after a crash; burning a
nonce is the safe side.

Group commit (orders, batches, WebSocket entry). `JournalNonceBook` keeps the live nonces in memory
(loaded from the journal's table at start-up) and `reserve` checks and marks one there in O(1);
the row is then written by the sequencer in the same transaction as the journal entries of the
request (`ExchangeService.submit_group`), so there is no separate commit and no window at all:
after a crash either the order and its nonce are both durable or neither is. `release` undoes a
reservation whose transaction failed.

Why not in the engine state: nonces are an edge concern (authentication) and not part of the
exchange's deterministic state; keeping them out of `Engine.to_state` keeps replays and state
hashes independent of which transport delivered a command.

Size. A row is needed only until its request expires (an expired request is refused as `expired`
before the nonce is looked at), so rows past their expiry are pruned; the API caps expiries at a
day ahead, which bounds the table to a day of signed requests.
"""

from __future__ import annotations

import heapq
import sqlite3
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from offchain.api.signing import SignatureError

PRUNE_EVERY_S = 60
TABLE = "api_nonces"
_DDL = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " account TEXT NOT NULL, nonce TEXT NOT NULL, expiry BIGINT NOT NULL, PRIMARY KEY (account, nonce))"
)


class NonceBook(ABC):
    """The used nonces of every account, until their requests expire."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_prune = 0

    def claim(self, account: str, nonce: int, expiry_s: int, now_s: int) -> None:
        """Record `nonce` as used by `account`; raise `SignatureError(nonce_reused)` if it was."""
        with self._lock:
            if now_s >= self._next_prune:
                self._prune(now_s)
                self._next_prune = now_s + PRUNE_EVERY_S
            if not self._insert(account.lower(), str(nonce), expiry_s):
                raise SignatureError("nonce_reused", f"nonce {nonce} of {account} was already used")

    def reserve(self, account: str, nonce: int, expiry_s: int, now_s: int) -> tuple[str, str, int] | None:
        """Claim `nonce` for a request the sequencer will journal; return the row it must write in
        the journal's transaction, or None when this book already made the claim durable itself."""
        self.claim(account, nonce, expiry_s, now_s)
        return None

    def release(self, row: tuple[str, str, int] | None) -> None:  # noqa: B027 - durable books keep it
        """Forget a reservation whose transaction failed (nothing was journaled)."""

    @abstractmethod
    def _insert(self, account: str, nonce: str, expiry_s: int) -> bool:
        """Insert durably; return False when the pair already exists."""

    @abstractmethod
    def _prune(self, now_s: int) -> None:
        """Forget nonces whose requests have expired."""

    def close(self) -> None:  # noqa: B027 - the memory book holds nothing to release
        """Release the connection."""


class MemoryNonceBook(NonceBook):
    """Nonces in memory: for tests and throw-away runs only (a restart forgets them)."""

    def __init__(self) -> None:
        super().__init__()
        self._used: dict[tuple[str, str], int] = {}

    def _insert(self, account: str, nonce: str, expiry_s: int) -> bool:
        if (account, nonce) in self._used:
            return False
        self._used[(account, nonce)] = expiry_s
        return True

    def _prune(self, now_s: int) -> None:
        self._used = {k: e for k, e in self._used.items() if e >= now_s}


class SqliteNonceBook(NonceBook):
    """The nonce table in a SQLite file (the journal's file: one database to back up)."""

    def __init__(self, path: str | Path, sync: str = "full") -> None:
        super().__init__()
        mode = {"full": "FULL", "normal": "NORMAL", "off": "OFF"}[sync]
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={mode}")
        self._db.execute(_DDL)

    def _insert(self, account: str, nonce: str, expiry_s: int) -> bool:
        try:
            self._db.execute(f"INSERT INTO {TABLE} VALUES (?, ?, ?)", (account, nonce, expiry_s))
        except sqlite3.IntegrityError:
            return False
        return True

    def _prune(self, now_s: int) -> None:
        self._db.execute(f"DELETE FROM {TABLE} WHERE expiry < ?", (now_s,))

    def close(self) -> None:
        with self._lock:
            self._db.close()


class PostgresNonceBook(NonceBook):
    """The nonce table in the journal's PostgreSQL database."""

    def __init__(self, url: str) -> None:
        super().__init__()
        import psycopg

        self._errors = psycopg.errors
        self._db = psycopg.connect(url, autocommit=True)
        self._db.execute("SET synchronous_commit = on")
        self._db.execute(_DDL)

    def _insert(self, account: str, nonce: str, expiry_s: int) -> bool:
        try:
            self._db.execute(f"INSERT INTO {TABLE} VALUES (%s, %s, %s)", (account, nonce, expiry_s))
        except self._errors.UniqueViolation:
            return False
        return True

    def _prune(self, now_s: int) -> None:
        self._db.execute(f"DELETE FROM {TABLE} WHERE expiry < %s", (now_s,))

    def close(self) -> None:
        with self._lock:
            self._db.close()


class JournalNonceBook(NonceBook):
    """The nonce table of the journal's own store, with the live nonces in memory.

    `claim` (cancels, withdrawals, proofs) writes its row at once through the store's connection;
    `reserve` (orders through group commit) only marks it in memory and hands the row to the
    sequencer, which journals it with the order. Memory holds a day of requests at most (the API
    caps expiries); expired ones leave through a heap ordered by expiry, O(log n) per request.
    """

    def __init__(self, store: Any, now_s: int | None = None) -> None:
        super().__init__()
        import time

        self._store = store
        now = int(time.time()) if now_s is None else now_s
        self._used: dict[tuple[str, str], int] = {}
        self._by_expiry: list[tuple[int, str, str]] = []
        for account, nonce, expiry in store.live_nonces(now):
            self._used[(account, nonce)] = expiry
            self._by_expiry.append((expiry, account, nonce))
        heapq.heapify(self._by_expiry)

    def reserve(self, account: str, nonce: int, expiry_s: int, now_s: int) -> tuple[str, str, int]:
        key = (account.lower(), str(nonce))
        with self._lock:
            self._forget_expired(now_s)
            if key in self._used:
                raise SignatureError("nonce_reused", f"nonce {nonce} of {account} was already used")
            self._used[key] = expiry_s
            heapq.heappush(self._by_expiry, (expiry_s, *key))
        return (key[0], key[1], expiry_s)

    def release(self, row: tuple[str, str, int] | None) -> None:
        if row is not None:
            with self._lock:
                self._used.pop((row[0], row[1]), None)

    def _forget_expired(self, now_s: int) -> None:
        heap = self._by_expiry
        while heap and heap[0][0] < now_s:
            expiry, account, nonce = heapq.heappop(heap)
            if self._used.get((account, nonce)) == expiry:
                del self._used[(account, nonce)]
        if now_s >= self._next_prune:
            self._next_prune = now_s + PRUNE_EVERY_S
            self._store.prune_nonces(now_s)

    def _insert(self, account: str, nonce: str, expiry_s: int) -> bool:
        if (account, nonce) in self._used or not self._store.insert_nonce((account, nonce, expiry_s)):
            return False
        self._used[(account, nonce)] = expiry_s
        heapq.heappush(self._by_expiry, (expiry_s, account, nonce))
        return True

    def _prune(self, now_s: int) -> None:
        self._forget_expired(now_s)


def nonces_for(store: Any) -> NonceBook:
    """Return a nonce book in the same database as `store` (a journal store from `open_store`)."""
    if hasattr(store, "live_nonces"):
        return JournalNonceBook(store)
    raise TypeError(
        f"no durable nonce table for {type(store).__name__}; pass nonces=MemoryNonceBook() explicitly"
    )
