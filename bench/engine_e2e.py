"""Engine end to end: orders per second through `Engine.apply`, bare and behind the journal.

The commands are the exchange-core stream of `bench.book_stream` as engine commands (GTC/IOC limit
orders, cancels, price amends), over funded accounts, with holds, the free-balance check, fees,
settlement and every event (`bench.book_core` builds them). Four ways to run them:

- `engine`: `Engine.apply` of the core alone (no I/O). Target: >= 100k orders/s on one core.
- `engine_default`, `engine_default_new_orders`: the default engine (risk, breaker and treasury
  modules, cross-margin policy: what the daemon and the replay tool run), on the mix and on the
  stream's new orders only (each checked, held, about a quarter trading).
- `journaled_fsync_each`: `JournaledEngine.submit`, SQLite `sync=full`: one fsync per command,
  each command acknowledged on its own. Bounded by the disk's fsync latency.
- `journaled_fsync_batch_64`: `JournaledEngine.submit_many` of 64 commands, SQLite `sync=full`:
  group commit, one fsync per 64 commands, the same guarantee (no command is acknowledged before
  its batch is durable).
- `journaled_sync_normal`: `submit`, SQLite `sync=normal`: durable against a process crash, not
  a power cut.

Journaled runs snapshot every `SNAPSHOT_EVERY` commands inside the timed loop, as in production.
The setup (assets, market, deposits, prefill) is applied before the journal is attached: it is not
timed, and these journals are throw-away.

    .venv/bin/python -m bench.engine_e2e
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable

from bench.book_core import _engine_resting, _fresh_engine, measure_engine, measure_engine_new_orders
from bench.book_stream import Stream, generate
from offchain.store import open_store
from offchain.store.journaled import JournaledEngine

TARGET_ORDERS_PER_S = 100_000
SNAPSHOT_EVERY = 10_000
BATCH = 64


def _submit_each(runner: JournaledEngine, cmds: list) -> None:
    submit = runner.submit
    for cmd in cmds:
        submit(cmd)


def _submit_batches(runner: JournaledEngine, cmds: list) -> None:
    submit_many = runner.submit_many
    for i in range(0, len(cmds), BATCH):
        submit_many(cmds[i : i + BATCH])


def _journaled_rate(stream: Stream, sync: str, drive: Callable, tmp: str, tag: str) -> float:
    eng, cmds = _fresh_engine(stream)
    runner = JournaledEngine(
        open_store(f"sqlite://{tmp}/{tag}.db?sync={sync}"), eng, 0, snapshot_every=SNAPSHOT_EVERY
    )
    gc.collect()
    gc.freeze()
    try:
        start = time.perf_counter()
        drive(runner, cmds)
        elapsed = time.perf_counter() - start
    finally:
        gc.unfreeze()
    if _engine_resting(eng) != stream.expected:
        raise AssertionError(f"journaled engine ({tag}) ended in a different book state")
    if runner.store.last_seq() != len(cmds):
        raise AssertionError(f"journal ({tag}) holds {runner.store.last_seq()} of {len(cmds)} commands")
    runner.close()
    return len(cmds) / elapsed


def measure(messages: int = 50_000, fsync_messages: int = 5_000, runs: int = 3, seed: int = 1) -> dict:
    """Return orders/s for the bare engine and for each journaling mode."""
    stream = generate(messages, seed)
    short = generate(fsync_messages, seed)  # fsync per command is ~100x slower: a shorter stream
    result: dict = {
        "python": sys.version.split()[0],
        "stream": stream.stats,
        "target_orders_per_s": TARGET_ORDERS_PER_S,
        "snapshot_every": SNAPSHOT_EVERY,
        "engine": measure_engine(stream, runs),
        "engine_default": measure_engine(stream, runs, full=True),
        "engine_default_new_orders": measure_engine_new_orders(stream, runs, full=True),
    }
    modes = {
        "journaled_fsync_each": (short, "full", _submit_each),
        f"journaled_fsync_batch_{BATCH}": (stream, "full", _submit_batches),
        "journaled_sync_normal": (stream, "normal", _submit_each),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, (s, sync, drive) in modes.items():
            rates = [_journaled_rate(s, sync, drive, tmp, f"{name}-{run}") for run in range(runs)]
            result[name] = {
                "orders_per_s": round(statistics.median(rates)),
                "runs_orders_per_s": [round(r) for r in rates],
                "messages": len(s.messages),
                "sqlite_sync": sync,
            }
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--fsync-messages", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.messages, args.fsync_messages, args.runs, args.seed), indent=2))


if __name__ == "__main__":
    main()
