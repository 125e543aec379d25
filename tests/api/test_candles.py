"""Candles, tickers, chart overlays and the trades tape, read from the journal's database: they are
the same after a restart as before it."""

from __future__ import annotations

import pytest
from api_venue import (
    DOMAIN,
    GENEROUS,
    GENESIS,
    MARKET_MAKER,
    SYMBOL,
    TRADER,
    Clock,
    TestClient,
    open_service,
    rejected,
    script_crash,
    submit,
)

from offchain.api.app import create_app
from offchain.api.routes.candles import aggregate
from offchain.api.tape import Minutes


def trade(service, price: str, qty: str, side: str = "buy") -> None:
    """A resting maker order and a taker that fills it whole at `price`."""
    maker = "sell" if side == "buy" else "buy"
    assert not rejected(
        submit(
            service,
            cmd="order",
            account=MARKET_MAKER.address,
            symbol=SYMBOL,
            side=maker,
            price=price,
            qty=qty,
        )
    )
    events = submit(
        service,
        cmd="order",
        account=TRADER.address,
        symbol=SYMBOL,
        side=side,
        price=price,
        qty=qty,
        tif="IOC",
    )
    assert [e for e in events if e.EVENT == "trade"], events


class Venue:
    """A service over a journal file, and an app over it that can be restarted."""

    def __init__(self, path, clock) -> None:
        self.path, self.clock = path, clock
        self.service = open_service(path, clock)
        for wire in GENESIS:
            submit(self.service, **wire)
        self._open_app()

    def _open_app(self) -> None:
        self.app = create_app(self.service, domain=DOMAIN, rate_limit=GENEROUS, static_dir=None)
        self.http = TestClient(self.app)

    def close(self) -> None:
        self.app.state.close()
        self.app.state.nonces.close()
        self.service.runner.close()

    def restart(self) -> None:
        self.close()
        self.service = open_service(self.path, self.clock)
        self._open_app()

    def get(self, url: str, **params):
        r = self.http.get(url, params=params)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def venue(tmp_path):
    v = Venue(tmp_path / "journal.db", Clock())
    yield v
    v.close()


def test_candles_group_the_trades_by_interval_with_open_high_low_close_and_volume(venue):
    clock = venue.clock
    clock.advance(60_000 - clock() % 60_000 + 100)  # just after the start of a minute
    minute = clock() - clock() % 60_000
    for px, qty in (("1.0001", "100"), ("1.0005", "50"), ("0.9990", "10"), ("1.0002", "40")):
        trade(venue.service, px, qty)
        clock.advance(1_000)
    clock.advance(60_000)
    trade(venue.service, "1.0010", "7", side="sell")

    doc = venue.get("/candles", symbol=SYMBOL, interval="1m", start=minute - 60_000, end=clock() + 1)
    assert doc["interval_ms"] == 60_000
    first, second = doc["candles"]
    assert first == {
        "t": minute,
        "open": "1.0001",
        "high": "1.0005",
        "low": "0.999",
        "close": "1.0002",
        "volume": "200",
        "quote_volume": "200.033",  # 1.0001*100 + 1.0005*50 + 0.999*10 + 1.0002*40
        "trades": 4,
    }
    assert second["t"] == minute + 60_000 and second["open"] == second["close"] == "1.001"
    assert second["volume"] == "7"
    # seconds: one candle per trade
    fine = venue.get("/candles", symbol=SYMBOL, interval="1s", start=minute, end=minute + 30_000)
    assert [c["close"] for c in fine["candles"]] == ["1.0001", "1.0005", "0.999", "1.0002"]


def test_the_tape_candles_and_ticker_survive_a_restart(venue):
    for px in ("1.0001", "1.0003", "0.9998"):
        trade(venue.service, px, "25")
        venue.clock.advance(500)
    before = {
        "trades": venue.get("/trades", symbol=SYMBOL),
        "candles": venue.get("/candles", symbol=SYMBOL, interval="1m")["candles"],
        "ticker": venue.get("/ticker", symbol=SYMBOL)[0],
    }
    assert len(before["trades"]) == 3 and before["trades"][0]["price"] == "0.9998"
    venue.restart()
    assert venue.get("/trades", symbol=SYMBOL) == before["trades"]
    assert venue.get("/trades") == before["trades"]
    assert venue.get("/candles", symbol=SYMBOL, interval="1m")["candles"] == before["candles"]
    after = venue.get("/ticker", symbol=SYMBOL)[0]
    for key in ("last", "open", "high", "low", "volume", "quote_volume", "trades", "change", "change_bps"):
        assert after[key] == before["ticker"][key], key
    # and the tape goes on from there
    trade(venue.service, "1.0004", "1")
    assert venue.get("/trades", symbol=SYMBOL)[0]["price"] == "1.0004"
    assert len(venue.get("/trades", symbol=SYMBOL)) == 4


def test_the_ticker_gives_24h_statistics_against_the_price_a_day_ago(venue):
    trade(venue.service, "0.9000", "10")  # a day and a bit ago: the reference price
    venue.clock.advance(86_400_000 + 60_000)
    trade(venue.service, "0.9900", "20")
    trade(venue.service, "0.9450", "30")
    (t,) = venue.get("/ticker", symbol=SYMBOL)
    assert t["symbol"] == SYMBOL and t["state"] == "continuous"
    assert (t["open"], t["high"], t["low"], t["last"]) == ("0.9", "0.99", "0.945", "0.945")
    assert t["trades"] == 2 and t["volume"] == "50"
    assert t["change"] == "0.045" and t["change_bps"] == 500
    assert [row["symbol"] for row in venue.get("/ticker")] == [SYMBOL]
    # a market that never traded
    venue.restart()
    empty = Venue(venue.path.with_name("other.db"), venue.clock)
    try:
        (e,) = empty.get("/ticker")
        assert e["trades"] == 0 and e["volume"] == "0" and e["open"] is None and e["change_bps"] is None
        assert empty.get("/candles", symbol=SYMBOL)["candles"] == []
    finally:
        empty.close()


def test_overlays_shade_the_halt_and_draw_index_mark_and_pool_after_a_restart(venue):
    start = venue.clock()
    venue.service.update_chain_status(pool={"market": SYMBOL, "index_price": 999_100})
    events = script_crash(venue.service, venue.clock)
    assert [e.to_state for e in events if e.EVENT == "breaker"] == ["halted"]
    venue.restart()
    doc = venue.get("/overlays", symbol=SYMBOL, start=start - 1, end=venue.clock() + 1)
    (halt,) = doc["periods"]
    assert halt["state"] == "halted" and halt["end"] is None and "cvd" in halt["reason"]
    assert doc["index"][-1][1] == "0.999"
    assert doc["pool"] == [[doc["pool"][0][0], "0.9991"]]
    assert doc["mark"], doc
    # the tape has the trades before the halt, none after it
    trades = venue.get("/candles", symbol=SYMBOL, interval="1m", start=start - 1)["candles"]
    assert sum(c["trades"] for c in trades) > 0


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"symbol": SYMBOL, "interval": "7m"}, "interval must be one of"),
        ({"symbol": SYMBOL, "interval": "1s", "start": 0, "end": 10_000_000}, "at most 1500"),
        ({"symbol": SYMBOL, "start": 5_000, "end": 5_000}, "must be before"),
    ],
)
def test_bad_candle_requests_are_refused_with_a_reason(venue, params, fragment):
    r = venue.http.get("/candles", params=params)
    assert r.status_code == 422 and r.json()["code"] == "bad_request"
    assert fragment in r.json()["message"]


def test_an_unknown_market_is_404(venue):
    for url in ("/candles", "/ticker", "/overlays"):
        r = venue.http.get(url, params={"symbol": "NOPE-USDC"})
        assert r.status_code == 404 and r.json()["code"] == "unknown_market"


def test_aggregate_keeps_first_and_last_in_trade_order():
    trades = [
        {"ts": 1_000, "price": 5, "qty": 1},
        {"ts": 1_500, "price": 9, "qty": 2},
        {"ts": 1_999, "price": 4, "qty": 3},
        {"ts": 2_000, "price": 6, "qty": 4},
    ]
    a, b = aggregate(trades, 1_000)
    assert (a["open"], a["high"], a["low"], a["close"], a["volume"], a["trades"]) == (5, 9, 4, 4, 6, 3)
    assert (b["t"], b["open"], b["close"]) == (2_000, 6, 6)


def test_trades_made_while_no_api_was_attached_are_caught_up_from_the_journal(tmp_path):
    clock = Clock()
    service = open_service(tmp_path / "journal.db", clock)
    for wire in GENESIS:
        submit(service, **wire)
    for px in ("1.0001", "1.0007"):
        trade(service, px, "30")  # no API yet: nobody watches these
    service.runner.close()
    venue = Venue.__new__(Venue)
    venue.path, venue.clock = tmp_path / "journal.db", clock
    venue.service = open_service(venue.path, clock)  # a restart: recovery replays nothing to anyone
    venue._open_app()
    try:
        venue.app.state.ctx.tape.wait_ready(30)
        assert [t["price"] for t in venue.get("/trades", symbol=SYMBOL)] == ["1.0007", "1.0001"]
        (candle,) = venue.get("/candles", symbol=SYMBOL, interval="1h")["candles"]
        assert (candle["open"], candle["close"], candle["volume"]) == ("1.0001", "1.0007", "60")
        assert venue.app.state.ctx.tape.stored_seq() == venue.service.runner.seq
    finally:
        venue.close()


def test_minute_buckets_follow_trade_ids_and_count_each_trade_once():
    m = Minutes()
    m.complete_from = 0
    for tid, ts, price, qty in (
        (5, 60_500, 10, 1),
        (3, 60_100, 7, 2),
        (5, 60_500, 10, 1),
        (9, 61_000, 12, 1),
    ):
        m.add(tid, "X", ts, price, qty)  # a replayed older trade, a duplicate
    (b,) = m.between("X", 0, 10**9)
    assert (b["t"], b["open"], b["high"], b["low"], b["close"]) == (60_000, 7, 12, 7, 12)
    assert (b["volume"], b["trades"]) == (4, 3)


def test_recent_candles_from_memory_equal_those_from_the_database(venue):
    for px in ("1.0003", "0.9996", "1.0001"):
        trade(venue.service, px, "12")
    now = venue.clock()
    recent = venue.get("/candles", symbol=SYMBOL, interval="1h", start=now - 3_600_000)["candles"]
    older = venue.get("/candles", symbol=SYMBOL, interval="1h", start=now - 48 * 3_600_000)["candles"]
    assert venue.app.state.ctx.tape.minutes.covers(now - 3_600_000)
    assert not venue.app.state.ctx.tape.minutes.covers(now - 48 * 3_600_000)
    assert recent[-1] == older[-1] and recent[-1]["trades"] == 3 and recent[-1]["volume"] == "36"


def test_rows_written_before_the_catch_up_ends_do_not_move_the_journal_position(venue):
    tape = venue.app.state.ctx.tape
    tape.wait_ready()
    trade(venue.service, "1.0002", "5")
    tape.flush()
    done = tape.stored_seq()
    assert done == venue.service.runner.seq
    tape.db.write([(10**9, SYMBOL, 0, "1", "1", "buy")], [], None)  # what a flush during the catch-up writes
    assert tape.stored_seq() == done
