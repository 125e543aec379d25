"""The on-chain audit trail on a real anvil: anchor the journal's head, audit it, tamper, see it fail."""

from __future__ import annotations

import sqlite3
import time

import pytest
from daemon_kit import KEY_ENV, Chain, daemon_settings, wait_until, write_deployment_file

from offchain.__main__ import main
from offchain.chain.anchor import JournalAnchorer, anchor_contract, read_anchors
from offchain.chain.sender import TxSender
from offchain.daemon import Daemon
from offchain.settings import devnet_account
from offchain.store import open_store
from offchain.store.hashchain import chain_rows

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("anvil")]


@pytest.fixture(scope="module")
def chain(w3, deployment) -> Chain:
    return Chain(w3, deployment)


@pytest.fixture
def anchored(tmp_path, w3, chain):
    """A journal of 18 entries, anchored at 10 and 15 by the devnet poster (the deployer)."""
    path = tmp_path / "journal.db"
    journal_id = time.time_ns() // 1000  # unique per test on the session's shared deployment
    contract = anchor_contract(w3, chain.deployment.contracts["JournalAnchor"])
    with open_store(f"sqlite://{path}") as store:
        anchorer = JournalAnchorer(store, contract, TxSender(w3, devnet_account(0)), journal_id, 1.0)
        assert anchorer.step() is None  # an empty journal: nothing to anchor
        store.append_many([(s, {"cmd": "tick", "ts": journal_id + s - 1}) for s in range(1, 11)])
        assert anchorer.step()["seq"] == 10
        assert anchorer.step() is None  # nothing new
        store.append_many([(s, {"cmd": "tick", "ts": journal_id + s}) for s in range(11, 16)])
        assert anchorer.step()["seq"] == 15
        store.append_many([(s, {"cmd": "tick", "ts": journal_id + s}) for s in range(16, 19)])
    assert [(a.index, a.seq) for a in read_anchors(contract, journal_id)] == [(0, 10), (1, 15)]
    return path, journal_id


@pytest.fixture
def audit(anvil, chain, capsys):
    """Run `python -m offchain audit-journal` on a journal file; return (exit status, output)."""

    def run(path) -> tuple[int, str]:
        anchor = chain.deployment.contracts["JournalAnchor"]
        rc = main(["audit-journal", "--journal", f"sqlite://{path}", "--rpc", anvil.url, "--anchor", anchor])
        return rc, capsys.readouterr().out

    return run


def test_an_untouched_journal_matches_its_anchors(anchored, audit):
    rc, out = audit(anchored[0])
    assert rc == 0, out
    assert "OK" in out and "2 anchors match" in out
    assert "3 entries after the last anchor" in out


def test_one_edited_old_entry_fails_the_audit_at_that_entry(anchored, audit):
    path, _ = anchored
    with sqlite3.connect(path) as db:  # an insider rewrites entry 7 (before the first anchor)
        db.execute("UPDATE journal SET record = ? WHERE seq = 7", ('{"cmd":"tick","ts":1}',))
    rc, out = audit(path)
    assert rc == 1
    assert "FAIL at entry 7" in out and "changed" in out


def test_an_edit_with_rewritten_hashes_still_misses_the_anchor(anchored, audit):
    path, _ = anchored
    with sqlite3.connect(path) as db:  # the insider also recomputes every later hash
        db.execute("UPDATE journal SET record = ? WHERE seq = 12", ('{"cmd":"tick","ts":1}',))
        prev = db.execute("SELECT hash FROM journal WHERE seq = 11").fetchone()[0]
        rows = db.execute("SELECT seq, record FROM journal WHERE seq >= 12 ORDER BY seq").fetchall()
        db.executemany(
            "UPDATE journal SET hash = ? WHERE seq = ?", [(h, s) for s, _, h in chain_rows(prev, rows)]
        )
    rc, out = audit(path)
    assert rc == 1
    assert "FAIL at entry 11" in out and "anchor 1 (seq 15) does not match" in out


def test_removed_entries_fail_the_audit(anchored, audit):
    path, _ = anchored
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM journal WHERE seq = 5")
    rc, out = audit(path)
    assert rc == 1 and "FAIL at entry 5" in out and "removed" in out
    with sqlite3.connect(path) as db:  # the tail cut below the last anchor
        db.execute("DELETE FROM journal WHERE seq >= 4")
    rc, out = audit(path)
    assert rc == 1 and "FAIL at entry 4" in out and "entries 4..10 were removed" in out


def test_the_daemon_anchors_its_journal_every_epoch(anvil, w3, chain, tmp_path, monkeypatch, audit):
    key = chain.daemon_key()
    anchor = chain.contract("JournalAnchor")
    chain.send(chain.governor, anchor.functions.grantRole(anchor.functions.ANCHOR_ROLE().call(), key.address))
    monkeypatch.setenv(KEY_ENV, key.key.hex())
    settings = daemon_settings(
        tmp_path, anvil.url, write_deployment_file(chain.deployment, tmp_path), anchor_interval_s=0.3
    )
    daemon = Daemon(settings).open()
    try:
        daemon.start()
        contract = anchor_contract(w3, chain.deployment.contracts["JournalAnchor"])
        wait_until(lambda: contract.functions.anchor_count(daemon.journal_id).call() > 0, what="an anchor")
        assert any(a["kind"] == "journal_anchored" for a in daemon.service.alerts)
    finally:
        daemon.stop()
    rc, out = audit(tmp_path / "journal.db")
    assert rc == 0, out
