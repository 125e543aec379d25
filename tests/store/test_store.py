"""The journal and snapshot contract, checked on every backend (see conftest.store_url)."""

from __future__ import annotations

import pytest

import offchain.store.base as store_base
from offchain.store import Snapshot, StoreError, open_store


def order_record(seq: int) -> dict:
    return {"cmd": "order", "ts": 1_700_000_000_000 + seq, "account": "trader", "price": 999_000, "qty": seq}


@pytest.fixture
def store(store_url):
    with open_store(store_url) as opened:
        yield opened


def test_empty_store_has_no_journal_and_no_snapshot(store):
    assert store.last_seq() == 0
    assert list(store.read_from(1)) == []
    assert store.latest() is None


def test_appended_commands_read_back_in_order_from_any_seq(store):
    for seq in range(1, 6):
        store.append(seq, order_record(seq))
    assert store.last_seq() == 5
    assert list(store.read_from(1)) == [(seq, order_record(seq)) for seq in range(1, 6)]
    assert [seq for seq, _ in store.read_from(4)] == [4, 5]
    assert list(store.read_from(6)) == []


def test_journal_survives_closing_and_reopening(store_url):
    with open_store(store_url) as writer:
        writer.append_many([(seq, order_record(seq)) for seq in range(1, 4)])
    with open_store(store_url) as reopened:
        assert reopened.last_seq() == 3
        reopened.append(4, order_record(4))
        assert [seq for seq, _ in reopened.read_from(1)] == [1, 2, 3, 4]


@pytest.mark.parametrize("bad_seq", [1, 3, 0, -1])
def test_append_with_a_gap_or_duplicate_seq_is_refused_and_changes_nothing(store, bad_seq):
    store.append(1, order_record(1))
    with pytest.raises(StoreError, match="out of order: next is 2"):
        store.append(bad_seq, order_record(9))
    assert store.last_seq() == 1
    assert list(store.read_from(1)) == [(1, order_record(1))]


def test_batch_with_a_gap_is_refused_whole(store):
    with pytest.raises(StoreError, match="out of order"):
        store.append_many([(1, order_record(1)), (2, order_record(2)), (4, order_record(4))])
    assert store.last_seq() == 0
    assert list(store.read_from(1)) == []


def test_second_writer_cannot_journal_a_seq_the_first_already_wrote(store_url):
    with open_store(store_url) as first, open_store(store_url) as second:
        first.append(1, order_record(1))
        with pytest.raises(StoreError, match="already journaled"):
            second.append(1, {"cmd": "deposit"})
        assert list(second.read_from(1)) == [(1, order_record(1))]


def test_record_that_is_not_json_is_refused_and_changes_nothing(store):
    with pytest.raises(StoreError, match="not JSON-able"):
        store.append(1, {"cmd": "order", "price": 1.5 + float("nan")})
    with pytest.raises(StoreError, match="not JSON-able"):
        store.append(1, {"cmd": "order", "raw": b"bytes"})
    with pytest.raises(StoreError, match="must be a dict"):
        store.append(1, ["cmd", "order"])
    assert store.last_seq() == 0


def test_amounts_beyond_64_bits_round_trip_exactly(store):
    record = {"cmd": "deposit", "amount": 10**40 + 7, "fee": -(2**70)}
    store.append(1, record)
    assert list(store.read_from(1)) == [(1, record)]


def test_read_from_pages_through_a_journal_longer_than_one_page(store, monkeypatch):
    monkeypatch.setattr(store_base, "READ_PAGE", 7)
    store.append_many([(seq, order_record(seq)) for seq in range(1, 31)])
    assert [seq for seq, _ in store.read_from(1)] == list(range(1, 31))
    assert [seq for seq, _ in store.read_from(14)] == list(range(14, 31))


def test_latest_snapshot_is_the_newest_and_only_the_newest_few_are_kept(store_url):
    with open_store(store_url, keep_snapshots=2) as store:
        store.append_many([(seq, order_record(seq)) for seq in range(1, 31)])
        for seq in (10, 20, 30):
            store.save(seq, f"state@{seq}".encode(), f"hash{seq}")
        assert store.latest() == Snapshot(30, b"state@30", "hash30")
        # Older snapshots are pruned; the journal is kept whole for replay.
        store.save(30, b"again", "hash30b")
        assert store.latest() == Snapshot(30, b"again", "hash30b")
        assert store.last_seq() == 30


def test_snapshot_ahead_of_the_journal_is_refused(store):
    store.append(1, order_record(1))
    with pytest.raises(StoreError, match="beyond the journal"):
        store.save(2, b"state", "h")
    with pytest.raises(StoreError, match="must be bytes"):
        store.save(1, "state", "h")
    assert store.latest() is None


def test_snapshot_before_any_command_is_allowed(store):
    store.save(0, b"genesis", "h0")
    assert store.latest() == Snapshot(0, b"genesis", "h0")
