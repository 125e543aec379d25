"""The venue the API tests trade on: a USDE-USDC market, three wallets (a market maker, a trader, an
impostor) that sign with their own keys, and a service clock a test can move."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from eth_account import Account

from offchain.api.ratelimit import RateLimit
from offchain.api.signing import Domain
from offchain.core.messages.codec import parse_command
from offchain.service import ExchangeService, wall_clock_ms
from offchain.store.journaled import JournaledEngine

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette asks for httpx2 over httpx; both work for tests
    from starlette.testclient import TestClient

__all__ = ["TestClient"]

DOMAIN = Domain(chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3")
GENEROUS = RateLimit(ip_per_s=10_000, ip_burst=10_000, account_per_s=10_000, account_burst=10_000)
SYMBOL = "USDE-USDC"

MARKET_MAKER = Account.from_key("0x" + "11" * 32)
TRADER = Account.from_key("0x" + "22" * 32)
IMPOSTOR = Account.from_key("0x" + "33" * 32)

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
    {"cmd": "deposit", "account": MARKET_MAKER.address, "asset": "USDC", "amount": "10000000"},
    {"cmd": "deposit", "account": MARKET_MAKER.address, "asset": "USDE", "amount": "10000000"},
    {"cmd": "deposit", "account": TRADER.address, "asset": "USDC", "amount": "100000"},
    {"cmd": "deposit", "account": TRADER.address, "asset": "USDE", "amount": "2000000"},
    {"cmd": "deposit", "account": IMPOSTOR.address, "asset": "USDC", "amount": "1000"},
    {"cmd": "index", "symbol": SYMBOL, "source": "curve", "price": "0.9990"},
]


class Clock:
    """The service clock: wall time, which a test may move forward."""

    def __init__(self) -> None:
        self.offset_ms = 0

    def __call__(self) -> int:
        return wall_clock_ms() + self.offset_ms

    def advance(self, ms: int) -> None:
        self.offset_ms += ms


def submit(service: ExchangeService, **wire) -> list:
    """Submit a scenario-style command (decimal strings) to the service."""
    return service.submit(parse_command({"ts": 0, **wire}, service.engine))


def open_service(path, clock) -> ExchangeService:
    return ExchangeService(JournaledEngine.open(f"sqlite:///{path}"), clock_ms=clock)


def rejected(events: list) -> list:
    return [e for e in events if e.EVENT == "rejected"]


def script_crash(service: ExchangeService, clock: Clock) -> list:
    """Script the 10 October pattern on USDE-USDC and return the events of the crashing order.

    The market maker quotes a ladder for five minutes of ticks (the breaker's depth benchmark),
    the trader trades a little, then the market maker pulls every bid near the price and the trader
    dumps 300k USDE into the hole. The breaker's guard halts the market (CVD and R_L) before the
    order prints at 0.96.
    """
    mm = MARKET_MAKER.address
    for i in range(10):
        for side, px in (("buy", 9985 - 5 * i), ("sell", 9995 + 5 * i)):
            wire = {"cmd": "order", "account": mm, "symbol": SYMBOL, "side": side, "type": "limit"}
            assert not rejected(
                submit(service, **wire, price=str(Decimal(px).scaleb(-4)), qty="100000", id=f"{side}-{i}")
            )
    assert not rejected(
        submit(
            service, cmd="order", account=mm, symbol=SYMBOL, side="buy", price="0.96", qty="5000", id="deep"
        )
    )
    for i in range(32):
        clock.advance(10_000)
        # the index source keeps posting (a stale index is no index, and losing it halts the market)
        submit(service, cmd="index", symbol=SYMBOL, source="curve", price="0.9990")
        submit(service, cmd="tick")
        if i % 8 == 0:
            taker = {"cmd": "order", "account": TRADER.address, "symbol": SYMBOL, "tif": "IOC"}
            assert not rejected(submit(service, **taker, side="buy", price="0.9995", qty="1500"))
    for i in range(10):
        assert not rejected(submit(service, cmd="cancel", account=mm, id=f"buy-{i}"))
    clock.advance(1_000)
    return submit(
        service,
        cmd="order",
        account=TRADER.address,
        symbol=SYMBOL,
        side="sell",
        price="0.9500",
        qty="300000",
        tif="IOC",
    )


@contextmanager
def served(app) -> Iterator[str]:
    """Serve `app` with uvicorn on a free 127.0.0.1 port in a thread (as the daemon runs it), yield
    its base URL once it accepts connections, stop it on exit. The app's own resources stay the
    caller's to close."""
    import uvicorn

    from offchain.chain.devnet import free_port

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)
