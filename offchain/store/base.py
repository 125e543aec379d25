"""The journal and snapshot interface every store implements, and the rules they share.

A store holds two things for one engine:

- the **journal**: every command, in sequence order, as a JSON-able dict (`offchain.core.messages.codec`
  produces them). Sequence numbers start at 1 and have no gaps; `append` returns only once the
  record is durable, so a caller may acknowledge the command as soon as `append` returns.
- **snapshots**: `(seq, blob, state_hash)` = the engine state after applying command `seq`.
  Recovery is the latest snapshot plus a replay of the journal after it.

- the **hash chain** (`offchain.store.hashchain`): each entry is stored with a hash that covers
  the previous entry's hash, computed by `append_many` in the entry's own transaction; `head()`
  is `(last seq, its hash)`, what the daemon anchors on-chain, and `read_chain` what an audit walks.
- the **nonce table** (`api_nonces`): the signed requests' used `(account, nonce, expiry)`. It is
  an edge concern, not engine state, but it lives here so that a nonce claim can share the journal
  append's transaction (`append_many(..., nonces=...)`): after a crash either both the order and
  its nonce are durable or neither is, so a nonce executes at most once and nothing acknowledged
  is lost.

A store has one writer (the sequencer). Readers (replay, API) may open the same URL elsewhere.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from offchain.store.hashchain import GENESIS, chain_rows

# Rows fetched per round trip by `read_from`: bounds memory when replaying a long journal.
READ_PAGE = 2_000
NONCE_TABLE = "api_nonces"
NONCE_DDL = (
    f"CREATE TABLE IF NOT EXISTS {NONCE_TABLE} ("
    " account TEXT NOT NULL, nonce TEXT NOT NULL, expiry BIGINT NOT NULL, PRIMARY KEY (account, nonce))",
    f"CREATE INDEX IF NOT EXISTS {NONCE_TABLE}_expiry ON {NONCE_TABLE} (expiry)",
)
NonceRow = tuple[str, str, int]  # (account lower-case, nonce as decimal text, expiry unix seconds)


class StoreError(Exception):
    """A journal or snapshot operation broke a store rule (gap, duplicate, bad URL...)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The engine state after applying journal entry `seq` (0 = before any command)."""

    seq: int
    blob: bytes
    state_hash: str


# Built once: `json.dumps` with options builds a new encoder on every call.
_ENCODE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), allow_nan=False).encode


def encode_record(record: dict[str, Any]) -> str:
    """Return the canonical JSON text of a journal record (sorted keys, no spaces)."""
    if not isinstance(record, dict):
        raise StoreError(f"journal record must be a dict, got {type(record).__name__}")
    try:
        return _ENCODE(record)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"journal record is not JSON-able: {exc}") from exc


def decode_record(text: str) -> dict[str, Any]:
    """Return the dict a journal row holds."""
    return json.loads(text)


class Store(ABC):
    """Journal + snapshots behind one small interface; `open_store(url)` picks the backend."""

    url: str

    def __init__(self, keep_snapshots: int = 3) -> None:
        if keep_snapshots < 1:
            raise StoreError("keep_snapshots must be at least 1")
        self.keep_snapshots = keep_snapshots
        # One connection serves every thread of the process; the lock serialises its use.
        self._lock = threading.Lock()
        self._last_seq = 0
        self._head_hash = GENESIS

    # -- journal ---------------------------------------------------------------------------

    def append(self, seq: int, record: dict[str, Any]) -> None:
        """Journal `record` as entry `seq` (= `last_seq() + 1`); durable when this returns."""
        self.append_many([(seq, record)])

    def append_many(
        self, entries: Iterable[tuple[int, dict[str, Any]]], nonces: Iterable[NonceRow] = ()
    ) -> None:
        """Journal consecutive entries in one transaction: one durable commit for the whole batch.

        `nonces` rows go into the nonce table in the same transaction (group commit of signed
        requests); a row already present fails the whole transaction with StoreError.
        """
        rows = [(seq, encode_record(record)) for seq, record in entries]
        nonce_rows = list(nonces)
        if not rows and not nonce_rows:
            return
        with self._lock:
            expected = self._last_seq + 1
            for seq, _ in rows:
                if type(seq) is not int or seq != expected:
                    raise StoreError(
                        f"journal seq {seq!r} out of order: next is {expected} (no gaps, no duplicates)"
                    )
                expected += 1
            chained = chain_rows(self._head_hash, rows)
            self._insert_journal(chained, nonce_rows)
            if chained:
                self._last_seq, _, self._head_hash = chained[-1]

    # -- nonces ------------------------------------------------------------------------------

    def insert_nonce(self, row: NonceRow) -> bool:
        """Record one used nonce durably on its own; False when it was already there."""
        with self._lock:
            try:
                self._insert_journal([], [row])
            except StoreError:
                return False
            return True

    def live_nonces(self, now_s: int) -> list[NonceRow]:
        """Every used nonce whose request has not expired yet (read once at start-up)."""
        with self._lock:
            return self._select_nonces(now_s)

    def prune_nonces(self, now_s: int) -> None:
        """Forget nonces whose requests expired before `now_s` (they are refused as `expired`)."""
        with self._lock:
            self._delete_nonces(now_s)

    def read_from(self, seq: int = 1) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield `(seq, record)` for every journal entry from `seq` on, in order, page by page."""
        start = max(seq, 1)
        while True:
            with self._lock:
                page = self._select_journal(start, READ_PAGE)
            for row_seq, text in page:
                yield row_seq, decode_record(text)
            if len(page) < READ_PAGE:
                return
            start = page[-1][0] + 1

    def last_seq(self) -> int:
        """Return the highest journaled seq, 0 for an empty journal."""
        with self._lock:
            seq = self._select_last_seq()
            if seq != self._last_seq:
                self._last_seq = seq
                self._head_hash = (self._select_hash(seq) or GENESIS) if seq else GENESIS
            return self._last_seq

    # -- hash chain ------------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        """Return `(last seq, its chain hash)`; `(0, GENESIS)` for an empty journal."""
        with self._lock:
            return self._last_seq, self._head_hash

    def hash_at(self, seq: int) -> str | None:
        """Return the stored chain hash of entry `seq` (GENESIS for 0), None when there is none."""
        if seq == 0:
            return GENESIS
        with self._lock:
            return self._select_hash(seq)

    def read_chain(self, seq: int = 1) -> Iterator[tuple[int, str, str | None]]:
        """Yield `(seq, canonical record text, stored hash)` from `seq` on, as stored (audits)."""
        start = max(seq, 1)
        while True:
            with self._lock:
                page = self._select_chain(start, READ_PAGE)
            yield from page
            if len(page) < READ_PAGE:
                return
            start = page[-1][0] + 1

    def _init_chain(self) -> None:
        """Load the head (backends call it once their schema exists); hash legacy unhashed entries."""
        self._last_seq = self._select_last_seq()
        first = self._select_first_unhashed()
        if first is not None:
            prev = (self._select_hash(first - 1) or GENESIS) if first > 1 else GENESIS
            start = first
            while page := self._select_journal(start, READ_PAGE):
                chained = chain_rows(prev, page)
                self._update_hashes([(h, seq) for seq, _, h in chained])
                prev, start = chained[-1][2], chained[-1][0] + 1
        self._head_hash = (self._select_hash(self._last_seq) or GENESIS) if self._last_seq else GENESIS

    # -- snapshots -------------------------------------------------------------------------

    def save(self, seq: int, blob: bytes, state_hash: str) -> None:
        """Store the state after entry `seq` durably; keep only the newest `keep_snapshots`."""
        if type(seq) is not int or seq < 0:
            raise StoreError(f"snapshot seq must be an int >= 0, got {seq!r}")
        if not isinstance(blob, bytes | bytearray | memoryview):
            raise StoreError(f"snapshot blob must be bytes, got {type(blob).__name__}")
        with self._lock:
            if seq > self._last_seq:
                # A snapshot ahead of the journal could never be checked by a replay.
                raise StoreError(f"snapshot seq {seq} is beyond the journal (last seq {self._last_seq})")
            self._upsert_snapshot(seq, bytes(blob), state_hash)

    def latest(self) -> Snapshot | None:
        """Return the newest snapshot, or None when there is none."""
        with self._lock:
            return self._select_latest_snapshot()

    # -- lifecycle -------------------------------------------------------------------------

    @abstractmethod
    def close(self) -> None:
        """Release the connection; the store is unusable afterwards."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    # -- backend primitives (called with the lock held) -----------------------------------

    @abstractmethod
    def _insert_journal(self, rows: list[tuple[int, str, str]], nonce_rows: list[NonceRow] = ()) -> None:
        """Insert the `(seq, record, hash)` rows (and nonce rows) in one transaction and commit
        durably; raise StoreError if a seq or a nonce already exists (nothing is written then)."""

    @abstractmethod
    def _select_chain(self, start: int, limit: int) -> list[tuple[int, str, str | None]]:
        """Return up to `limit` `(seq, record, hash)` rows with seq >= start, ascending."""

    @abstractmethod
    def _select_hash(self, seq: int) -> str | None:
        """Return the hash stored with entry `seq`, None if there is no such entry or hash."""

    @abstractmethod
    def _select_first_unhashed(self) -> int | None:
        """Return the lowest seq without a hash (a journal written before the chain), or None."""

    @abstractmethod
    def _update_hashes(self, rows: list[tuple[str, int]]) -> None:
        """Set `hash` of each `(hash, seq)` row in one transaction and commit."""

    @abstractmethod
    def _select_nonces(self, now_s: int) -> list[NonceRow]:
        """Return the nonce rows with expiry >= now_s."""

    @abstractmethod
    def _delete_nonces(self, now_s: int) -> None:
        """Delete the nonce rows with expiry < now_s and commit."""

    @abstractmethod
    def _select_journal(self, start: int, limit: int) -> list[tuple[int, str]]:
        """Return up to `limit` rows with seq >= start, ascending."""

    @abstractmethod
    def _select_last_seq(self) -> int:
        """Return the highest seq in the journal table, 0 if empty."""

    @abstractmethod
    def _upsert_snapshot(self, seq: int, blob: bytes, state_hash: str) -> None:
        """Write the snapshot, prune all but the newest `keep_snapshots`, commit durably."""

    @abstractmethod
    def _select_latest_snapshot(self) -> Snapshot | None:
        """Return the snapshot with the highest seq."""
