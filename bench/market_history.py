"""What the trading terminal's market history costs (`offchain/api/tape.py`, `routes/candles.py`):
`GET /ticker`, `GET /candles` and `GET /overlays` over a market with `n` trades spread over the last
six hours, and what keeping the tape adds to the sequencer per taker order (its subscriber runs under
the lock): the same orders on a service with a subscriber that does nothing (the service formats the
events for any subscriber, as it does for the API's) and with only the tape subscribed.

    python -m bench.market_history
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from offchain.api.app import create_app
from offchain.api.ratelimit import RateLimit
from offchain.api.signing import Domain
from offchain.api.tape import PersistentTape
from offchain.chain.devnet import free_port
from offchain.core.messages.codec import event_to_dict, parse_command
from offchain.service import ExchangeService
from offchain.store.journaled import JournaledEngine

SYMBOL = "USDE-USDC"
MM, TAKER = "0x" + "11" * 20, "0x" + "22" * 20
GENESIS = [
    {"cmd": "asset", "symbol": "USDC", "decimals": 6, "collateral_weight": "1"},
    {"cmd": "asset", "symbol": "USDE", "decimals": 18, "collateral_weight": "0.9"},
    {
        "cmd": "market",
        "symbol": SYMBOL,
        "kind": "spot",
        "base": "USDE",
        "quote": "USDC",
        "tick": "0.0001",
        "lot": "1",
    },
    {"cmd": "deposit", "account": MM, "asset": "USDC", "amount": "1000000000"},
    {"cmd": "deposit", "account": MM, "asset": "USDE", "amount": "1000000000"},
    {"cmd": "deposit", "account": TAKER, "asset": "USDC", "amount": "1000000000"},
    {"cmd": "index", "symbol": SYMBOL, "source": "curve", "price": "1"},
]
FREE = RateLimit(ip_per_s=10**6, ip_burst=10**6, account_per_s=10**6, account_burst=10**6)


class Clock:
    def __init__(self, start_ms: int) -> None:
        self.now = start_ms

    def __call__(self) -> int:
        return self.now


def _submit(service, **wire) -> list:
    return service.submit(parse_command({"ts": 0, **wire}, service.engine))


def _trades(service, clock: Clock, n: int, span_ms: int) -> float:
    """`n` maker/taker pairs over `span_ms`; return the seconds the taker orders took."""
    step = span_ms // n
    spent = 0.0
    for i in range(n):
        px = f"{1 + (i % 20 - 10) / 10_000:.4f}"
        _submit(service, cmd="order", account=MM, symbol=SYMBOL, side="sell", price=px, qty="10")
        t0 = time.perf_counter()
        _submit(service, cmd="order", account=TAKER, symbol=SYMBOL, side="buy", price=px, qty="10", tif="IOC")
        spent += time.perf_counter() - t0
        clock.now += step
    return spent


def _median_ms(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _observe_us(path: Path, rounds: int) -> float:
    """The tape's subscriber alone, on the events of one taker order that trades (formatted once)."""
    clock = Clock(int(time.time() * 1000))
    service = ExchangeService(JournaledEngine.open(f"sqlite://{path}?sync=off"), clock_ms=clock)
    for wire in GENESIS:
        _submit(service, **wire)
    tape = PersistentTape(service)
    tape.wait_ready()
    _submit(service, cmd="order", account=MM, symbol=SYMBOL, side="sell", price="1", qty="10")
    order = {"cmd": "order", "account": TAKER, "symbol": SYMBOL, "side": "buy", "price": "1", "qty": "10"}
    events = [event_to_dict(e) for e in _submit(service, **order, tif="IOC")]
    trade = next(e for e in events if e["event"] == "trade")
    times = []
    for r in range(rounds):
        t0 = time.perf_counter()
        for i in range(5_000):
            trade["tid"] = 10**9 + r * 5_000 + i
            tape.observe(events)
        times.append((time.perf_counter() - t0) / 5_000 * 1e6)
    tape.close()
    service.runner.close()
    return statistics.median(times)


def measure(n: int = 20_000, rounds: int = 7) -> dict:
    hours = 6
    with tempfile.TemporaryDirectory() as tmp:
        start = int(time.time() * 1000) - hours * 3_600_000
        # the sequencer's cost per taker order with a subscriber that does nothing, then with the tape
        bare_clock = Clock(start)
        bare = ExchangeService(
            JournaledEngine.open(f"sqlite://{Path(tmp) / 'bare.db'}?sync=off"), clock_ms=bare_clock
        )
        for wire in GENESIS:
            _submit(bare, **wire)
        bare.subscribe(
            lambda events: None
        )  # the service formats events for any subscriber: not the tape's cost
        bare_s = _trades(bare, bare_clock, n, hours * 3_600_000)
        bare.runner.close()

        clock = Clock(start)
        service = ExchangeService(
            JournaledEngine.open(f"sqlite://{Path(tmp) / 'j.db'}?sync=off"), clock_ms=clock
        )
        for wire in GENESIS:
            _submit(service, **wire)
        tape = PersistentTape(service)
        detach = service.subscribe(tape.observe)
        taped_s = _trades(service, clock, n, hours * 3_600_000)
        detach()
        tape.close()
        app = create_app(
            service, domain=Domain(31337, "0x" + "00" * 19 + "01"), rate_limit=FREE, static_dir=None
        )
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            while not server.started:
                time.sleep(0.05)
            app.state.ctx.tape.wait_ready()
            now = clock.now
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:

                def get(path: str, **params) -> None:
                    r = http.get(path, params=params)
                    assert r.status_code == 200, r.text

                get("/candles", symbol=SYMBOL, interval="1s", start=now - 1_500_000)  # warm up
                out = {
                    "trades": n,
                    "sequencer_us_per_trade_bare": bare_s / n * 1e6,
                    "sequencer_us_per_trade_with_tape": taped_s / n * 1e6,
                    "tape_observe_us": _observe_us(Path(tmp) / "observe.db", rounds),
                    "ticker_ms": _median_ms(lambda: get("/ticker", symbol=SYMBOL), rounds),
                    "candles_1m_ms": _median_ms(
                        lambda: get("/candles", symbol=SYMBOL, interval="1m", start=now - 300 * 60_000),
                        rounds,
                    ),
                    "candles_1s_ms": _median_ms(
                        lambda: get("/candles", symbol=SYMBOL, interval="1s", start=now - 1_500_000), rounds
                    ),
                    "overlays_ms": _median_ms(
                        lambda: get("/overlays", symbol=SYMBOL, start=now - 300 * 60_000), rounds
                    ),
                }
        finally:
            server.should_exit = True
            thread.join(10)
            app.state.close()
            app.state.nonces.close()
            service.runner.close()
    return out


if __name__ == "__main__":
    for key, value in measure().items():
        print(f"{key:36s} {value:10.2f}" if isinstance(value, float) else f"{key:36s} {value}")
