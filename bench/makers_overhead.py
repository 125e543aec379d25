"""What the market-maker program costs the order path (issue 20).

One deterministic stream (a designated maker re-quoting a five-level ladder a side, 0.1 % apart, and
takers hitting it with IOC orders), applied through the default engine (`EngineConfig()`: no
program) and through `EngineConfig(makers=True)` with the maker designated (every one of its
commands re-tests its obligation; every fill and timer tick too). Median of `runs` passes each.

    .venv/bin/python -m bench.makers_overhead [--rounds N] [--runs R]      # prints JSON
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time

from offchain.core.build import build_engine
from offchain.core.config import EngineConfig
from offchain.core.messages.codec import parse_command

SETUP = [
    {"cmd": "asset", "symbol": "USDC", "decimals": 6},
    {"cmd": "asset", "symbol": "BTC", "decimals": 8},
    {"cmd": "market", "symbol": "BTC-USDC", "kind": "spot", "base": "BTC", "quote": "USDC", "tick": "0.01",
     "lot": "0.001"},
    {"cmd": "deposit", "account": "mm", "asset": "USDC", "amount": "1000000000"},
    {"cmd": "deposit", "account": "mm", "asset": "BTC", "amount": "100000"},
    {"cmd": "deposit", "account": "taker", "asset": "USDC", "amount": "1000000000"},
    {"cmd": "deposit", "account": "taker", "asset": "BTC", "amount": "100000"},
]  # fmt: skip
DESIGNATE = {"cmd": "maker", "account": "mm", "symbol": "BTC-USDC", "min_notional": "10000", "period": 60}


def stream(rounds: int) -> list[dict]:
    """`rounds` times: cancel the ladder, place 10 levels, two IOC takers (one each side)."""
    out = []
    for r in range(rounds):
        ts = r * 500  # a re-quote every half second: periods of 60 s close now and then
        mid = 50_000 + (r % 20) * 5
        out.append({"ts": ts, "cmd": "cancel_all", "account": "mm", "symbol": "BTC-USDC"})
        for k in range(1, 6):
            step = mid * k // 1000
            out.append({"ts": ts, "cmd": "order", "account": "mm", "symbol": "BTC-USDC", "side": "buy",
                        "qty": "1", "price": str(mid - step)})  # fmt: skip
            out.append({"ts": ts, "cmd": "order", "account": "mm", "symbol": "BTC-USDC", "side": "sell",
                        "qty": "1", "price": str(mid + step)})  # fmt: skip
        for side in ("buy", "sell"):
            out.append({"ts": ts, "cmd": "order", "account": "taker", "symbol": "BTC-USDC", "side": side,
                        "qty": "0.1", "type": "market"})  # fmt: skip
    return out


def _run(config: EngineConfig, designate: bool, wire: list[dict]) -> float:
    engine = build_engine(config)
    for d in SETUP + ([DESIGNATE] if designate else []):
        engine.apply(parse_command({"ts": 0, **d}, engine))
    commands = [parse_command(d, engine) for d in wire]
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for cmd in commands:
            engine.apply(cmd)
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return len(commands) / elapsed


def measure(rounds: int = 2_000, runs: int = 5) -> dict:
    wire = stream(rounds)
    plain, program = [], []
    for _ in range(runs):  # interleaved, so both see the same machine
        plain.append(_run(EngineConfig(), False, wire))
        program.append(_run(EngineConfig(makers=True), True, wire))
    off, on = statistics.median(plain), statistics.median(program)
    return {
        "commands": len(wire),
        "default_cmds_per_s": round(off),
        "makers_cmds_per_s": round(on),
        "overhead_pct": round(100 * (off - on) / off, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(measure(args.rounds, args.runs)))


if __name__ == "__main__":
    main()
