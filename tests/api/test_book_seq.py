"""Every book message carries a per-market seq (snapshots the current one, deltas +1, GET /book the
stream's at that instant), so a client can detect a missed delta and resync."""

from __future__ import annotations

from api_venue import SYMBOL
from test_stream import receive_until

from offchain.api.bookcopy import BookCopy


def is_book(kind):
    return lambda m: m["channel"] == "book" and m["type"] == kind and m["data"]["symbol"] == SYMBOL


def test_deltas_count_up_from_the_snapshot_and_get_book_shares_the_seq(http, market_maker):
    with http.websocket_connect("/ws?channels=book") as ws:
        snapshot = receive_until(ws, is_book("snapshot"))
        start = snapshot["data"]["seq"]
        seqs = []
        for i in range(3):
            market_maker.place_order(SYMBOL, "sell", "10", f"1.00{i + 1}")
            seqs.append(receive_until(ws, is_book("delta"))["data"]["seq"])
        assert seqs == [start + 1, start + 2, start + 3]
        market_maker.place_order(SYMBOL, "sell", "10", "1.005")
        rest = http.get(f"/book/{SYMBOL}", params={"depth": 50}).json()
        # the move is published as the next delta before GET /book answers, with the same seq
        published = receive_until(ws, is_book("delta"))
        assert rest["seq"] == published["data"]["seq"] == start + 4
        assert ["1.005", "10"] in rest["asks"]


def test_a_client_detects_a_missed_delta_and_resyncs_from_get_book(http, market_maker):
    copy = BookCopy()
    with http.websocket_connect("/ws?channels=book") as ws:
        copy.apply(receive_until(ws, is_book("snapshot"))["data"], "snapshot")
        market_maker.place_order(SYMBOL, "sell", "10", "1.001")
        assert copy.apply(receive_until(ws, is_book("delta"))["data"])
        market_maker.place_order(SYMBOL, "sell", "20", "1.002")
        receive_until(ws, is_book("delta"))  # lost on the way
        market_maker.place_order(SYMBOL, "sell", "30", "1.003")
        assert not copy.apply(receive_until(ws, is_book("delta"))["data"])  # the gap is seen
        assert copy.seq is None
        copy.reset(http.get(f"/book/{SYMBOL}", params={"depth": 50}).json())
        market_maker.place_order(SYMBOL, "sell", "40", "1.004")
        assert copy.apply(receive_until(ws, is_book("delta"))["data"])
        assert {p: copy.asks[p] for p in ("1.001", "1.002", "1.003", "1.004")} == {
            "1.001": "10",
            "1.002": "20",
            "1.003": "30",
            "1.004": "40",
        }
