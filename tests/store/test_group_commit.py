"""Group commit: concurrent signed requests share one durable transaction with their nonces."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from api_venue import GENESIS, MARKET_MAKER, SYMBOL, Clock, open_service, submit  # noqa: E402

from offchain.api.nonces import JournalNonceBook  # noqa: E402
from offchain.api.signing import SignatureError  # noqa: E402
from offchain.core.messages.codec import parse_command  # noqa: E402
from offchain.store import open_store  # noqa: E402

NOW_S = 2_000_000_000


def order_build(i: int):
    wire = {
        "cmd": "order",
        "ts": 0,
        "account": MARKET_MAKER.address,
        "symbol": SYMBOL,
        "side": "sell",
        "type": "limit",
        "price": "1.0100",
        "qty": "1",
        "id": f"g-{i}",
    }
    return lambda engine: parse_command(wire, engine)


@pytest.fixture
def venue(tmp_path):
    path = tmp_path / "journal.db"
    svc = open_service(path, Clock())
    for wire in GENESIS:
        submit(svc, **wire)
    yield svc, path
    svc.runner.close()


def test_concurrent_requests_are_journaled_with_their_nonces_in_shared_commits(venue):
    svc, path = venue
    book = JournalNonceBook(svc.runner.store, now_s=NOW_S)
    futures, lock = [], threading.Lock()

    def client(k: int) -> None:
        for j in range(25):
            row = book.reserve(MARKET_MAKER.address, k * 100 + j, NOW_S + 60, NOW_S)
            fut = svc.submit_group([order_build(k * 100 + j)], lambda engine, res: res[0], nonce=row)
            with lock:
                futures.append(fut)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answers = [f.result(timeout=30) for f in futures]
    assert all(any(e.EVENT == "accepted" for e in events) for events in answers)
    assert sum(svc.group_sizes) == 200
    # every acknowledged order and every nonce is durable in the same file, read by a fresh store
    fresh = open_store(f"sqlite:///{path}")
    try:
        ids = {rec.get("client_id") for _, rec in fresh.read_from(1) if rec.get("cmd") == "order"}
        assert {f"g-{i}" for k in range(8) for i in range(k * 100, k * 100 + 25)} <= ids
        assert len(fresh.live_nonces(NOW_S)) == 200
    finally:
        fresh.close()


def test_a_nonce_used_through_group_commit_is_refused_after_a_restart(venue):
    svc, path = venue
    book = JournalNonceBook(svc.runner.store, now_s=NOW_S)
    row = book.reserve(MARKET_MAKER.address, 7, NOW_S + 60, NOW_S)
    svc.submit_group([order_build(7)], lambda engine, res: res[0], nonce=row).result(timeout=30)
    with pytest.raises(SignatureError) as err:
        book.reserve(MARKET_MAKER.address, 7, NOW_S + 60, NOW_S)
    assert err.value.code == "nonce_reused"
    reopened = JournalNonceBook(open_store(f"sqlite:///{path}"), now_s=NOW_S)
    with pytest.raises(SignatureError):
        reopened.reserve(MARKET_MAKER.address, 7, NOW_S + 60, NOW_S)


def test_a_command_that_does_not_parse_is_its_own_result_and_the_rest_commit(venue):
    svc, _ = venue

    def bad(engine):
        raise ValueError("no such market")

    res = svc.submit_group([order_build(1), bad, order_build(2)], lambda engine, res: res).result(timeout=30)
    assert isinstance(res[1], ValueError)
    assert any(e.EVENT == "accepted" for e in res[0]) and any(e.EVENT == "accepted" for e in res[2])
