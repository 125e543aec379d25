"""Signed orders for the cluster tests: the load-test keys (funded by the paper genesis)."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal

from offchain.api.signing import Domain, sign_fast
from offchain.loadtest import address, key, order_message

DOMAIN = Domain(31337, "0x" + "00" * 19 + "01")
_counter = itertools.count(time.time_ns() // 1000)


class Signer:
    """Signs load-test style orders (bids and asks around the index, half of them trading)."""

    def __init__(self, market: dict, keys: int = 8) -> None:
        self.symbol = market["symbol"]
        self.index = Decimal(market["index_price"] or "1")
        self.tick = Decimal(market["tick"])
        self.accounts = [address(k) for k in range(keys)]
        self.secrets = [key(k) for k in range(keys)]
        self.i = 0

    def order(self) -> dict:
        i, self.i = self.i, self.i + 1
        k = i % len(self.accounts)
        nonce = next(_counter)
        msg = order_message(i, self.accounts[k], self.symbol, self.index, self.tick, f"c{nonce:x}")
        msg.update(nonce=nonce, expiry=int(time.time()) + 3600)
        return {"order": msg, "signature": sign_fast(DOMAIN, "Order", msg, self.secrets[k])}


class Load:
    """Signed orders sent by a background thread (round robin over gateways) until `stop()`.

    Every answer is kept: `acked` has (seq, client_id, time) of each 200, `errors` the others. A
    refused request is retried with the same signed body on the next gateway (what a client does).
    """

    def __init__(self, urls: list[str], signer: Signer, concurrency: int = 4, retries: int = 5) -> None:
        import threading

        self.urls, self.signer, self.concurrency, self.retries = urls, signer, concurrency, retries
        self.acked: list[tuple[int, str, float]] = []
        self.errors: list[tuple[int, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Load:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)

    def wait_acked(self, n: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < n:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"only {len(self.acked)} of {n} orders acknowledged; errors {self.errors[-5:]}"
                )
            time.sleep(0.05)

    def _run(self) -> None:
        import asyncio

        asyncio.run(self._main())

    async def _main(self) -> None:
        import asyncio

        import httpx

        async with httpx.AsyncClient(timeout=30) as client:

            async def worker(w: int) -> None:
                g = w
                while not self._stop.is_set():
                    body = self.signer.order()
                    for _ in range(self.retries):
                        url = self.urls[g % len(self.urls)]
                        try:
                            r = await client.post(f"{url}/orders", json=body)
                        except httpx.HTTPError as exc:
                            self.errors.append((0, repr(exc)))
                            g += 1
                            await asyncio.sleep(0.1)
                            continue
                        if r.status_code == 200:
                            self.acked.append((r.json()["seq"], body["order"]["client_id"], time.monotonic()))
                            break
                        self.errors.append((r.status_code, r.text[:200]))
                        if r.status_code < 500:
                            break
                        g += 1
                        await asyncio.sleep(0.1)

            await asyncio.gather(*(worker(w) for w in range(self.concurrency)))
