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
