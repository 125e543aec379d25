"""The WebSocket stream and the read views: trades, book deltas, breaker transitions, account updates;
amounts as decimal strings; and looking never changes the engine."""

from __future__ import annotations

import json

from api_venue import MARKET_MAKER, SYMBOL, TRADER, script_crash, submit


def receive_until(ws, want, limit: int = 500, seen: list | None = None) -> dict:
    """Read messages until one satisfies `want`; return it (and keep every message in `seen`)."""
    for _ in range(limit):
        message = ws.receive_json()
        if seen is not None:
            seen.append(message)
        if want(message):
            return message
    raise AssertionError("the stream never sent the expected message")


def test_the_stream_sends_trades_and_book_deltas(http, market_maker, trader):
    market_maker.place_order(SYMBOL, "sell", "1000", "0.9995")
    with http.websocket_connect("/ws?channels=book,trades") as ws:
        snapshot = receive_until(ws, lambda m: m["channel"] == "book" and m["type"] == "snapshot")
        assert snapshot["data"]["asks"] == [["0.9995", "1000"]]
        trader.place_order(SYMBOL, "buy", "400", "0.9995", tif="IOC")
        trade = receive_until(ws, lambda m: m["channel"] == "trades")
        assert trade["data"] == {
            "ts": trade["data"]["ts"],
            "tid": 1,
            "symbol": SYMBOL,
            "price": "0.9995",
            "qty": "400",
            "taker_side": "buy",
        }
        delta = receive_until(ws, lambda m: m["channel"] == "book" and m["type"] == "delta")
        assert delta["data"]["asks"] == [["0.9995", "600"]]
        (order,) = market_maker.open_orders()  # cancelled, the level leaves the book: qty "0"
        market_maker.cancel(oid=order["oid"])
        gone = receive_until(ws, lambda m: m["channel"] == "book" and m["type"] == "delta")
        assert gone["data"]["asks"] == [["0.9995", "0"]]


def test_an_account_stream_carries_its_fills_and_balances_only(http, market_maker, trader):
    seen: list = []
    with http.websocket_connect(f"/ws?channels=account:{TRADER.address}&session={trader.session()}") as ws:
        market_maker.place_order(SYMBOL, "sell", "10", "0.9995")
        trader.place_order(SYMBOL, "buy", "10", "0.9995", tif="IOC")
        fill = receive_until(ws, lambda m: m["type"] == "trade", seen=seen)
        assert fill["channel"] == f"account:{TRADER.address}"
        assert (fill["data"]["role"], fill["data"]["qty"], fill["data"]["price"]) == ("taker", "10", "0.9995")
        assert "maker" not in fill["data"]  # the counterparty stays anonymous
        balance = receive_until(
            ws, lambda m: m["type"] == "balance" and m["data"]["asset"] == "USDE", seen=seen
        )
        assert balance["data"]["balance"] == "2000010"
        ws.send_json({"op": "ping"})
        receive_until(ws, lambda m: m["type"] == "pong", seen=seen)
    # the market maker's order and balances never reached the trader's stream
    assert {m["channel"] for m in seen} == {f"account:{TRADER.address}", "control"}
    assert not [m for m in seen if m["data"].get("account") == MARKET_MAKER.address]


def test_a_crash_halts_the_market_and_the_stream_says_why(http, service, clock):
    with http.websocket_connect("/ws?channels=breaker,status") as ws:
        events = script_crash(service, clock)
        assert [e.to_state for e in events if e.EVENT == "breaker"] == ["halted"]
        halted = receive_until(ws, lambda m: m["channel"] == "breaker" and m["type"] == "breaker")
        assert halted["data"]["to_state"] == "halted"
        assert halted["data"]["reason"] == "cvd_and_depth"
        assert halted["data"]["metrics"]["cvd_ppm"] > 30_000
        status = receive_until(
            ws, lambda m: m["channel"] == "status" and m["data"]["markets"][SYMBOL]["state"] == "halted"
        )
    breaker = status["data"]["markets"][SYMBOL]["breaker"]
    assert breaker["reason"] == "cvd_and_depth"
    assert breaker["metrics"]["rl"]["beyond_trip"] is True
    assert breaker["halt_until"] == breaker["since"] + breaker["halt_window_ms"]
    metrics = http.get("/metrics").text
    assert f'breakwater_breaker_transitions_total{{symbol="{SYMBOL}",to="halted"}} 1.0' in metrics
    assert f'breakwater_market_state{{state="halted",symbol="{SYMBOL}"}} 1.0' in metrics


def test_an_operator_halt_reaches_the_stream(http, service):
    with http.websocket_connect("/ws?channels=breaker") as ws:
        submit(service, cmd="halt", symbol=SYMBOL, reason="manual")
        message = receive_until(ws, lambda m: m["type"] == "breaker")
    assert (message["data"]["from_state"], message["data"]["to_state"]) == ("continuous", "halted")


def test_looking_at_status_and_accounts_never_changes_the_engine(http, service, clock, market_maker, trader):
    script_crash(service, clock)
    before = service.runner.state_hash()
    for path in (
        "/status",
        f"/accounts/{TRADER.address}",
        "/markets",
        f"/book/{SYMBOL}",
        "/trades",
        "/metrics",
    ):
        assert http.get(path, headers=trader.auth_headers()).status_code == 200
    assert service.runner.state_hash() == before


def walk(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)
    else:
        yield value


def test_every_amount_is_a_decimal_string_never_a_float(http, market_maker, trader):
    market_maker.place_order(SYMBOL, "sell", "1000", "0.9995")
    trader.place_order(SYMBOL, "buy", "333", "0.9995")
    for path in ("/status", f"/accounts/{TRADER.address}", "/markets", f"/book/{SYMBOL}", "/trades"):
        body = json.loads(http.get(path, headers=trader.auth_headers()).text)
        assert not [v for v in walk(body) if isinstance(v, float)], path
    account = trader.account()
    assert account["balances"]["USDE"] == {"balance": "2000333", "held": "0", "free": "2000333"}
    assert account["margin"]["asset"] == "USDC"


def test_metrics_count_orders_trades_and_rejections(http, market_maker, trader):
    market_maker.place_order(SYMBOL, "sell", "10", "0.9995")
    trader.place_order(SYMBOL, "buy", "10", "0.9995")
    http.post("/orders", json=trader.signed_order(SYMBOL, "buy", "1000000", "0.9985"))
    text = http.get("/metrics").text
    assert f'breakwater_orders_accepted_total{{symbol="{SYMBOL}"}} 2.0' in text
    assert f'breakwater_trades_total{{symbol="{SYMBOL}"}} 1.0' in text
    assert 'breakwater_rejections_total{cmd="order",code="insufficient_balance"} 1.0' in text
    assert 'breakwater_api_requests_total{method="POST",route="/orders",status="200"} 2.0' in text


def test_alerts_and_chain_readings_reach_the_stream_status_and_metrics(http, service):
    with http.websocket_connect("/ws?channels=alerts,chain") as ws:
        service.update_chain_status(
            reserves={"USDC": {"ratio_bps": 9_800}}, attestation={"epoch": 4, "age_s": 30}
        )
        chain = receive_until(ws, lambda m: m["channel"] == "chain")
        service.alert("bank_run", "withdrawals at 40 % of hot reserves in 10 min", asset="USDC")
        alert = receive_until(ws, lambda m: m["channel"] == "alerts")
    assert chain["data"]["reserves"] == {"USDC": {"ratio_bps": 9_800}}
    assert (alert["data"]["kind"], alert["data"]["asset"]) == ("bank_run", "USDC")
    status = http.get("/status").json()
    assert status["chain"]["attestation"] == {"epoch": 4, "age_s": 30}
    assert status["alerts"][-1]["message"] == "withdrawals at 40 % of hot reserves in 10 min"
    metrics = http.get("/metrics").text
    assert 'breakwater_alerts_total{kind="bank_run"} 1.0' in metrics
    assert 'breakwater_reserve_ratio_bps{asset="USDC"} 9800.0' in metrics
