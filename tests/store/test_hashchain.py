"""The journal's hash chain on both stores: each entry's hash covers the previous one."""

from __future__ import annotations

import sqlite3

import pytest

from offchain.store import open_store
from offchain.store.base import encode_record
from offchain.store.hashchain import GENESIS, first_break, link


def _records(n: int, start: int = 1) -> list[tuple[int, dict]]:
    return [(seq, {"cmd": "tick", "ts": 1_000 + seq}) for seq in range(start, start + n)]


def _expected_head(records: list[tuple[int, dict]]) -> str:
    head = GENESIS
    for seq, record in records:
        head = link(head, seq, encode_record(record))
    return head


def _raw_execute(url: str, sql: str, params: tuple) -> None:
    """Change the journal behind the store's back (what an insider with database access could do)."""
    if url.startswith("sqlite://"):
        with sqlite3.connect(url[len("sqlite://") :]) as db:
            db.execute(sql.replace("%s", "?"), params)
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute(sql, params)


def test_each_hash_covers_the_previous_one(store_url):
    records = _records(5)
    with open_store(store_url) as store:
        assert store.head() == (0, GENESIS)
        store.append(*records[0])
        store.append_many(records[1:3])
        store.append_many(records[3:], nonces=[("0xabc", "7", 2_000_000_000)])  # group commit path
        assert store.head() == (5, _expected_head(records))
        assert store.hash_at(2) == _expected_head(records[:2])
        assert store.hash_at(0) == GENESIS
        assert store.hash_at(9) is None
        broken, last, head = first_break(store.read_chain())
        assert broken is None and last == 5 and head == store.head()[1]
    with open_store(store_url) as store:  # the head survives a reopen, and the chain goes on
        assert store.head() == (5, _expected_head(records))
        more = _records(2, start=6)
        store.append_many(more)
        assert store.head() == (7, _expected_head(records + more))


def test_a_changed_old_entry_breaks_the_chain_at_that_entry(store_url):
    with open_store(store_url) as store:
        store.append_many(_records(6))
    _raw_execute(store_url, "UPDATE journal SET record = %s WHERE seq = %s", ('{"cmd":"tick","ts":1}', 3))
    with open_store(store_url) as store:
        broken, _, _ = first_break(store.read_chain())
    assert broken is not None and broken.seq == 3 and "changed" in broken.reason


def test_a_removed_entry_breaks_the_chain_at_the_gap(store_url):
    with open_store(store_url) as store:
        store.append_many(_records(6))
    _raw_execute(store_url, "DELETE FROM journal WHERE seq = %s", (4,))
    with open_store(store_url) as store:
        broken, _, _ = first_break(store.read_chain())
    assert broken is not None and broken.seq == 4 and "missing" in broken.reason


def test_a_journal_from_before_the_chain_is_hashed_on_open(tmp_path):
    path = tmp_path / "legacy.db"
    records = _records(4)
    with sqlite3.connect(path) as db:  # the schema without a hash column
        db.execute("CREATE TABLE journal (seq INTEGER PRIMARY KEY, record TEXT NOT NULL)")
        db.executemany("INSERT INTO journal VALUES (?, ?)", [(s, encode_record(r)) for s, r in records])
    with open_store(f"sqlite://{path}") as store:
        assert store.head() == (4, _expected_head(records))
        assert first_break(store.read_chain())[0] is None
        store.append(5, {"cmd": "tick", "ts": 9})
        assert store.head()[0] == 5


def test_a_refused_append_leaves_the_head(store_url):
    with open_store(store_url) as store:
        store.append_many(_records(2))
        before = store.head()
        with pytest.raises(Exception, match="out of order"):
            store.append(5, {"cmd": "tick", "ts": 5})
        assert store.head() == before
