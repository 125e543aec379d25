"""The journaled engine: journal before apply, periodic snapshots, recovery, and failure handling."""

from __future__ import annotations

from itertools import islice

import pytest
from crash_child import command_stream

from offchain.core.build import restore_engine
from offchain.core.messages import commands as C
from offchain.core.messages.codec import command_to_dict
from offchain.store import StoreError, open_store
from offchain.store.journaled import JournaledEngine, RecoveryError

SEED = 42


@pytest.fixture
def url(tmp_path):
    return f"sqlite://{tmp_path}/journal.db"


def submit_all(runner: JournaledEngine, count: int) -> list:
    return [runner.submit(cmd) for cmd in islice(command_stream(SEED), runner.seq, count)]


def test_submit_journals_the_command_under_the_next_seq_and_returns_its_events(url):
    with JournaledEngine.open(url) as runner:
        events = runner.submit(C.AddAsset(1, "USDC", 6))
        assert [type(e).__name__ for e in events] == ["AssetAdded"]
        rejected = runner.submit(C.Deposit(2, "trader", "DOGE", 5))
        assert [e.code for e in rejected] == ["unknown_asset"]
        assert runner.seq == 2
        # Rejected commands are inputs too: journaled, and rejected again on replay.
        assert list(runner.store.read_from(1)) == [
            (1, command_to_dict(C.AddAsset(1, "USDC", 6))),
            (2, command_to_dict(C.Deposit(2, "trader", "DOGE", 5))),
        ]


def test_command_the_journal_refuses_is_not_applied(url, monkeypatch):
    with JournaledEngine.open(url) as runner:
        submit_all(runner, 20)
        before = runner.state_hash()

        def disk_full(seq, record):
            raise StoreError("disk full")

        monkeypatch.setattr(runner.store, "append", disk_full)
        with pytest.raises(StoreError, match="disk full"):
            runner.submit(C.Deposit(10**13, "trader-0", "USDC", 10**6))
        assert runner.state_hash() == before
        assert runner.seq == 20


def test_snapshot_is_taken_every_n_commands(url):
    with JournaledEngine.open(url, snapshot_every=25) as runner:
        submit_all(runner, 60)
        snap = runner.store.latest()
        assert snap.seq == 50
        assert restore_engine(snap.blob).state_hash() == snap.state_hash


def test_reopening_resumes_at_the_same_state_and_seq(store_url):
    """On each backend (the daemon takes a PostgreSQL journal URL too): snapshot + tail recovery."""
    url = store_url
    with JournaledEngine.open(url, snapshot_every=25) as runner:
        submit_all(runner, 70)
        expected = runner.state_hash()
    with JournaledEngine.open(url, snapshot_every=25) as reopened:
        assert (reopened.seq, reopened.state_hash()) == (70, expected)
        submit_all(reopened, 90)
        assert reopened.seq == 90


def test_batch_is_journaled_in_one_commit_and_recovers_like_single_submits(tmp_path):
    cmds = list(islice(command_stream(SEED), 80))
    with JournaledEngine.open(f"sqlite://{tmp_path}/one.db") as single:
        singles = [single.submit(cmd) for cmd in cmds]
    with JournaledEngine.open(f"sqlite://{tmp_path}/batch.db", snapshot_every=30) as batched:
        batches = batched.submit_many(cmds[:50]) + batched.submit_many(cmds[50:])
        assert batched.store.latest().seq == 80
    assert batches == singles
    assert (
        JournaledEngine.open(f"sqlite://{tmp_path}/batch.db").state_hash()
        == JournaledEngine.open(f"sqlite://{tmp_path}/one.db").state_hash()
    )


def test_long_replayed_tail_is_snapshotted_on_recovery(url):
    with JournaledEngine.open(url, snapshot_every=1_000) as runner:
        submit_all(runner, 120)
    with JournaledEngine.open(url, snapshot_every=100) as recovered:
        assert recovered.store.latest().seq == 120


def test_snapshot_that_does_not_match_its_hash_stops_recovery(url):
    with JournaledEngine.open(url, snapshot_every=30) as runner:
        submit_all(runner, 40)
        expected = runner.state_hash()
    with open_store(url) as store:
        good = store.latest()
        store.save(good.seq, good.blob.replace(b'"now":', b'"now":1', 1), good.state_hash)
    with pytest.raises(RecoveryError, match="recover with use_snapshot=False"):
        JournaledEngine.open(url)
    with JournaledEngine.open(url, use_snapshot=False) as replayed:
        assert replayed.state_hash() == expected


def test_engine_failure_mid_command_stops_the_runner_until_reopened(url, monkeypatch):
    with JournaledEngine.open(url) as runner:
        submit_all(runner, 15)

        def crash(cmd):
            raise ZeroDivisionError("bug")

        monkeypatch.setattr(runner.engine, "apply", crash)
        with pytest.raises(ZeroDivisionError):
            runner.submit(C.Tick(1_760_000_000_000))
        with pytest.raises(RuntimeError, match="reopen the store to recover"):
            runner.submit(C.Tick(1_760_000_000_001))
        assert runner.seq == 16  # the failing command was journaled before it was applied
