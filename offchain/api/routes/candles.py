"""Market history for charts: candles of the local trades, 24 h tickers, and the chart's overlays
(index, mark and on-chain pool price lines, the halt / cool-down / auction periods, indicative
uncross prices). Read from the tape the API keeps in the journal's database (`tape.py`), so they
survive restarts. Times are unix milliseconds, like every `ts` of the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse  # the documents are plain JSON already: no re-encoding

from offchain.api import views
from offchain.api.context import ApiContext, market_or_404
from offchain.api.errors import ApiError, responses
from offchain.api.tape import MINUTE_MS, STOPPED_STATES
from offchain.core.messages.codec import format_units

INTERVALS = {
    "1s": 1_000,
    "5s": 5_000,
    "15s": 15_000,
    "1m": 60_000,
    "5m": 300_000,
    "15m": 900_000,
    "1h": 3_600_000,
    "4h": 14_400_000,
    "1d": 86_400_000,
}
MAX_CANDLES = 1_500
DEFAULT_CANDLES = 300
MAX_TRADES_SCANNED = 500_000  # a window with more trades than this: ask for a narrower one
MAX_POINTS = 5_000
DAY_MS = 86_400_000
Ms = Annotated[int | None, Query(ge=0, le=2**53, description="unix milliseconds")]


def aggregate(trades: list[dict], interval_ms: int) -> list[dict]:
    """OHLCV buckets of integer trades (oldest first), bucket start = ts rounded down to the interval."""
    out: list[dict] = []
    for t in trades:
        bucket = t["ts"] - t["ts"] % interval_ms
        p, q = t["price"], t["qty"]
        if out and out[-1]["t"] == bucket:
            c = out[-1]
            c["high"] = max(c["high"], p)
            c["low"] = min(c["low"], p)
            c["close"] = p
            c["volume"] += q
            c["notional"] += p * q
            c["trades"] += 1
        else:
            out.append(
                {
                    "t": bucket,
                    "open": p,
                    "high": p,
                    "low": p,
                    "close": p,
                    "volume": q,
                    "notional": p * q,
                    "trades": 1,
                }
            )
    return out


def merge(minutes: list[dict], interval_ms: int) -> list[dict]:
    """Minute buckets (oldest first) merged into buckets of `interval_ms` (a multiple of a minute)."""
    out: list[dict] = []
    for m in minutes:
        bucket = m["t"] - m["t"] % interval_ms
        if out and out[-1]["t"] == bucket:
            c = out[-1]
            c["high"], c["low"], c["close"] = max(c["high"], m["high"]), min(c["low"], m["low"]), m["close"]
            c["volume"] += m["volume"]
            c["notional"] += m["notional"]
            c["trades"] += m["trades"]
        else:
            out.append(
                {k: m[k] for k in ("open", "high", "low", "close", "volume", "notional", "trades")}
                | {"t": bucket}
            )
    return out


def window(ctx: ApiContext, interval_ms: int, start: int | None, end: int | None) -> tuple[int, int]:
    now = ctx.service.clock_ms()
    end = now + 1 if end is None else end
    start = end - DEFAULT_CANDLES * interval_ms if start is None else start
    if start >= end:
        raise ApiError("bad_request", f"start ({start}) must be before end ({end})")
    return start, end


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(tags=["markets"])
    service = ctx.service
    tape: Any = ctx.tape

    def quote_units(engine: Any, symbol: str, notional: int) -> str:
        market = engine.markets[symbol]
        base = engine.assets[market.base].decimals
        return format_units(notional // 10**base, engine.assets[market.quote].decimals)

    @api.get(
        "/candles",
        responses=responses("unknown_market", "bad_request"),
        summary="OHLCV candles of the local trades (from the journal's tape: they survive restarts)",
    )
    def candles(
        symbol: Annotated[str, Query(max_length=32)],
        interval: Annotated[str, Query(description="one of " + ", ".join(INTERVALS))] = "1m",
        start: Ms = None,
        end: Ms = None,
    ) -> JSONResponse:
        if interval not in INTERVALS:
            raise ApiError("bad_request", f"interval must be one of {', '.join(INTERVALS)}, got {interval!r}")
        step = INTERVALS[interval]
        service.read(lambda engine: market_or_404(engine, symbol))
        start, end = window(ctx, step, start, end)
        start -= start % step
        if (end - start) // step > MAX_CANDLES:
            raise ApiError(
                "bad_request",
                f"{(end - start) // step} candles of {interval} asked for; at most {MAX_CANDLES} per request",
            )
        tape.wait_ready()
        if step % MINUTE_MS == 0 and tape.minutes.covers(start):
            # the recent past: from the minute buckets kept in memory
            buckets = merge(tape.minutes.between(symbol, start, end), step)
        else:
            trades = tape.trades_between(symbol, start, end, MAX_TRADES_SCANNED + 1)
            if len(trades) > MAX_TRADES_SCANNED:
                raise ApiError(
                    "bad_request", f"more than {MAX_TRADES_SCANNED} trades in the window: narrow it"
                )
            buckets = aggregate(trades, step)

        def fmt(engine: Any) -> list[dict]:
            return [
                {
                    "t": c["t"],
                    "open": views.price(engine, symbol, c["open"]),
                    "high": views.price(engine, symbol, c["high"]),
                    "low": views.price(engine, symbol, c["low"]),
                    "close": views.price(engine, symbol, c["close"]),
                    "volume": views.qty(engine, symbol, c["volume"]),
                    "quote_volume": quote_units(engine, symbol, c["notional"]),
                    "trades": c["trades"],
                }
                for c in buckets
            ]

        return JSONResponse(
            {
                "symbol": symbol,
                "interval": interval,
                "interval_ms": step,
                "start": start,
                "end": end,
                "candles": service.read(fmt),
            }
        )

    @api.get(
        "/ticker",
        responses=responses("unknown_market"),
        summary="24 h statistics per market: last, open, high, low, volume, change",
    )
    def ticker(symbol: Annotated[str | None, Query(max_length=32)] = None) -> JSONResponse:
        now = service.clock_ms()
        since = now - DAY_MS
        since -= since % MINUTE_MS  # the window starts on a minute: 24 h and under a minute more
        symbols = service.read(
            lambda engine: [market_or_404(engine, symbol).symbol] if symbol else sorted(engine.markets)
        )
        tape.wait_ready()
        stats = {}
        for s in symbols:
            if tape.minutes.covers(since):
                buckets = tape.minutes.between(s, since, now + MINUTE_MS)
                before = tape.minutes.last_before(s, since)
                ref = before["close"] if before else None
                if ref is None and buckets:
                    old = tape.last_trade_before(s, since)
                    ref = old["price"] if old else None
            else:
                trades = tape.trades_between(s, since, now + 1, MAX_TRADES_SCANNED)
                buckets = aggregate(trades, MINUTE_MS)
                old = tape.last_trade_before(s, since)
                ref = old["price"] if old else None
            stats[s] = (buckets, ref)

        def fmt(engine: Any) -> list[dict]:
            out = []
            for s in symbols:
                buckets, ref = stats[s]
                market = engine.markets[s]
                live = views.market_view(engine, market)
                row = {
                    "symbol": s,
                    "window_start": since,
                    "ts": now,
                    "state": market.state,
                    "trades": sum(b["trades"] for b in buckets),
                    "last": views.price(engine, s, buckets[-1]["close"]) if buckets else live["last_price"],
                    "open": None,
                    "high": None,
                    "low": None,
                    "volume": "0",
                    "quote_volume": "0",
                    "change": None,
                    "change_bps": None,
                    **{k: live[k] for k in ("best_bid", "best_ask", "mid", "index_price", "mark_price")},
                }
                if buckets:
                    ref = buckets[0]["open"] if ref is None else ref
                    last = buckets[-1]["close"]
                    row.update(
                        open=views.price(engine, s, ref),
                        high=views.price(engine, s, max(b["high"] for b in buckets)),
                        low=views.price(engine, s, min(b["low"] for b in buckets)),
                        volume=views.qty(engine, s, sum(b["volume"] for b in buckets)),
                        quote_volume=quote_units(engine, s, sum(b["notional"] for b in buckets)),
                        change=views.price(engine, s, last - ref),
                        change_bps=(last - ref) * 10_000 // ref if ref else None,
                    )
                out.append(row)
            return out

        return JSONResponse(service.read(fmt))

    @api.get(
        "/overlays",
        responses=responses("unknown_market", "bad_request"),
        summary="What the chart draws over the candles: index, mark and pool lines, stopped periods",
    )
    def overlays(
        symbol: Annotated[str, Query(max_length=32)], start: Ms = None, end: Ms = None
    ) -> JSONResponse:
        service.read(lambda engine: market_or_404(engine, symbol))
        start, end = window(ctx, 60_000, start, end)
        series = {k: tape.marks_between(symbol, k, start, end, MAX_POINTS) for k in ("index", "mark", "pool")}
        states = tape.marks_between(symbol, "state", start, end, MAX_POINTS)
        indicative = tape.marks_between(symbol, "indicative", start, end, MAX_POINTS)
        periods = []
        for i, (ts, state, reason) in enumerate(states):
            if state not in STOPPED_STATES:
                continue
            until = states[i + 1][0] if i + 1 < len(states) else None
            periods.append({"state": state, "reason": reason, "start": max(ts, start), "end": until})

        def fmt(engine: Any) -> dict:
            def line(points: list[tuple]) -> list[list]:
                return [[max(ts, start), views.price(engine, symbol, int(v))] for ts, v, _ in points]

            return {
                "symbol": symbol,
                "start": start,
                "end": end,
                **{k: line(v) for k, v in series.items()},
                "periods": periods,
                "indicative": [
                    {
                        "ts": ts,
                        "price": views.price(engine, symbol, int(v)),
                        "volume": views.qty(engine, symbol, int(d or 0)),
                    }
                    for ts, v, d in indicative
                    if ts >= start
                ],
            }

        return JSONResponse(service.read(fmt))

    return api
