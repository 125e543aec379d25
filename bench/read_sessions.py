"""What a private read pays for its read session (`offchain/api/auth.py`): the first check of a
token (parse, EIP-712 digest, libsecp256k1 recovery) and every later one (the verified-token cache).

    python -m bench.read_sessions
"""

from __future__ import annotations

import statistics
import time

import coincurve

from offchain.api.auth import Sessions
from offchain.api.signing import Domain, account_name, sign_fast

DOMAIN = Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
KEY = bytes.fromhex("22" * 32)


def _address(key: bytes) -> str:
    from sha3 import keccak_256

    public = coincurve.PrivateKey(key).public_key.format(compressed=False)[1:]
    return account_name("0x" + keccak_256(public).digest()[-20:].hex())


def measure(n: int = 2000, rounds: int = 5) -> dict:
    address = _address(KEY)
    expiry = int(time.time()) + 3600
    tokens = []
    for nonce in range(n):
        message = {"account": address, "nonce": nonce, "expiry": expiry}
        tokens.append(f"{address}.{nonce}.{expiry}.{sign_fast(DOMAIN, 'ReadSession', message, KEY)}")
    first, again = [], []
    now = int(time.time())
    for _ in range(rounds):
        sessions = Sessions(DOMAIN, 86_400, cache_size=n)
        t0 = time.perf_counter_ns()
        for token in tokens:
            sessions.verify(token, now)
        t1 = time.perf_counter_ns()
        for token in tokens:
            sessions.verify(token, now)
        t2 = time.perf_counter_ns()
        first.append((t1 - t0) / n / 1000)
        again.append((t2 - t1) / n / 1000)
    return {"first_check_us": statistics.median(first), "cached_check_us": statistics.median(again), "n": n}


if __name__ == "__main__":
    print(measure())
