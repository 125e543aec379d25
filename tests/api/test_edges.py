"""The parts under the API: the nonce table, the token buckets and the stream's slow-client rule."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from offchain.api.nonces import MemoryNonceBook, SqliteNonceBook
from offchain.api.ratelimit import TokenBuckets
from offchain.api.signing import SignatureError
from offchain.api.stream import Connection

NOW = 1_700_000_000


def test_a_nonce_is_accepted_once_per_account(tmp_path):
    book = SqliteNonceBook(tmp_path / "n.db")
    book.claim("0xTrader", 5, NOW + 60, NOW)
    book.claim("0xMarketMaker", 5, NOW + 60, NOW)  # another account's nonces are its own
    with pytest.raises(SignatureError) as err:
        book.claim("0xtrader", 5, NOW + 60, NOW)  # any case of the same address
    assert err.value.code == "nonce_reused"
    book.close()


def test_used_nonces_survive_reopening_the_database(tmp_path):
    SqliteNonceBook(tmp_path / "n.db").claim("0xTrader", 2**255, NOW + 60, NOW)
    reopened = SqliteNonceBook(tmp_path / "n.db")
    with pytest.raises(SignatureError):
        reopened.claim("0xTrader", 2**255, NOW + 60, NOW)
    reopened.close()


def test_nonces_are_forgotten_once_their_requests_expired(tmp_path):
    book = SqliteNonceBook(tmp_path / "n.db")
    for n in range(5):
        book.claim("0xTrader", n, NOW + 10, NOW)
    book.claim("0xTrader", 99, NOW + 10_000, NOW + 100)  # a minute later: the expired rows go
    rows = sqlite3.connect(tmp_path / "n.db").execute("SELECT nonce FROM api_nonces").fetchall()
    assert rows == [("99",)]
    book.close()


def test_the_memory_book_refuses_replays_too():
    book = MemoryNonceBook()
    book.claim("0xTrader", 1, NOW + 60, NOW)
    with pytest.raises(SignatureError):
        book.claim("0xTrader", 1, NOW + 60, NOW)


def test_a_bucket_allows_its_burst_then_refills_at_its_rate():
    now = [0.0]
    buckets = TokenBuckets(rate=2, burst=3, clock=lambda: now[0])
    assert [buckets.take("1.2.3.4") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("1.2.3.4") == pytest.approx(0.5)
    assert buckets.take("5.6.7.8") == 0.0  # keys do not share a budget
    now[0] += 0.5
    assert buckets.take("1.2.3.4") == 0.0


def test_a_client_that_falls_a_whole_queue_behind_is_cut_off():
    async def scenario():
        conn = Connection({"trades"}, queue_size=3)
        for i in range(5):
            conn.put({"n": i})
        return conn.lagged, [conn.queue.get_nowait() for _ in range(conn.queue.qsize())]

    lagged, queued = asyncio.run(scenario())
    assert lagged is True
    assert queued == [None]  # the sender closes the socket (1013) instead of skipping messages
