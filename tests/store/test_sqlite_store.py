"""SQLite specifics: the URL forms, WAL mode and the fsync setting each `sync` option gives."""

from __future__ import annotations

import sqlite3

import pytest

from offchain.store import StoreError, open_store
from offchain.store.sqlite import SqliteStore


def test_absolute_url_opens_that_file_in_wal_mode(tmp_path):
    path = tmp_path / "deep" / "dir" / "journal.db"
    with open_store(f"sqlite://{path}") as store:
        store.append(1, {"cmd": "tick", "ts": 1})
        assert isinstance(store, SqliteStore)
        assert store.url == f"sqlite://{path}"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT seq, record FROM journal").fetchall() == [(1, '{"cmd":"tick","ts":1}')]


def test_relative_url_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite://var/journal.db") as store:
        store.append(1, {"cmd": "tick", "ts": 1})
    assert (tmp_path / "var" / "journal.db").exists()


@pytest.mark.parametrize(("sync", "pragma"), [(None, 2), ("full", 2), ("normal", 1), ("off", 0)])
def test_sync_option_sets_sqlite_synchronous_level(tmp_path, sync, pragma):
    url = f"sqlite://{tmp_path}/j.db" + (f"?sync={sync}" if sync else "")
    with open_store(url) as store:
        assert store.sync == (sync or "full")
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == pragma


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("sqlite://", "no database file path"),
        ("sqlite:///tmp/x.db?sync=sometimes", "sync must be one of"),
        ("sqlite:///tmp/x.db?fsync=full", "unknown sqlite option"),
        ("sqlite:///tmp/x.db?keep_snapshots=many", "keep_snapshots must be an integer"),
        ("sqlite:///tmp/x.db?keep_snapshots=0", "at least 1"),
        ("mysql://db/exchange", "unsupported store URL 'mysql'"),
        ("journal.db", "unsupported store URL"),
    ],
)
def test_bad_store_url_is_refused_with_its_reason(url, reason):
    with pytest.raises(StoreError, match=reason):
        open_store(url)


def test_keep_snapshots_from_the_url(tmp_path):
    with open_store(f"sqlite://{tmp_path}/j.db?keep_snapshots=1") as store:
        store.append_many([(1, {"cmd": "tick"}), (2, {"cmd": "tick"})])
        store.save(1, b"one", "h1")
        store.save(2, b"two", "h2")
        assert store._db.execute("SELECT seq FROM snapshots").fetchall() == [(2,)]
