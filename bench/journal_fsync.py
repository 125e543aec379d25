"""What durability costs: journal appends per second under each fsync policy, one by one and batched.

One append per command is what "acknowledge only once durable" costs when every command is
acknowledged on its own; a batch (`append_many`, one commit) is what a sequencer pays when it
acknowledges a group of commands after one fsync. PostgreSQL is measured too when
BREAKWATER_BENCH_PG_URL names a server (its tables go into a throw-away schema).

    .venv/bin/python -m bench.journal_fsync
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import uuid
from urllib.parse import quote

from offchain.store import open_store

PG_URL_ENV = "BREAKWATER_BENCH_PG_URL"
# A typical journaled order command (the size of what the codec writes).
RECORD = {
    "cmd": "order",
    "ts": 1_760_000_000_000,
    "account": "market_maker-17",
    "market": "WETH-USDC",
    "side": "buy",
    "type": "limit",
    "tif": "gtc",
    "price": 3_000_120_000,
    "qty": 250_000_000_000_000_000,
    "client_id": "mm-17-000123",
}


def _rate(url: str, appends: int, batch: int) -> float:
    with open_store(url) as store:
        seq = store.last_seq()
        start = time.perf_counter()
        for _ in range(appends // batch):
            store.append_many([(seq + i + 1, RECORD) for i in range(batch)])
            seq += batch
        return (appends // batch * batch) / (time.perf_counter() - start)


def _figures(url_for: callable, appends: int, runs: int) -> dict:
    out = {}
    for batch in (1, 64):
        rates = [
            _rate(url_for(f"{batch}-{run}"), appends if batch == 1 else appends * 16, batch)
            for run in range(runs)
        ]
        median = statistics.median(rates)
        out[f"batch_{batch}"] = {
            "appends_per_s": round(median),
            "us_per_commit": round(batch / median * 1e6, 1),
        }
    return out


def measure(appends: int = 2_000, runs: int = 3) -> dict:
    """Return appends/s and µs per commit for each policy, one record per commit and 64 per commit."""
    result: dict = {"record_bytes": len(json.dumps(RECORD, separators=(",", ":")))}
    with tempfile.TemporaryDirectory() as tmp:
        for sync in ("full", "normal", "off"):
            result[f"sqlite_sync_{sync}"] = _figures(
                lambda tag, sync=sync: f"sqlite://{tmp}/{sync}-{tag}.db?sync={sync}", appends, runs
            )
    pg = os.environ.get(PG_URL_ENV)
    if pg:
        import psycopg

        schema = f"bw_bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg, autocommit=True) as admin:
            admin.execute(f"CREATE SCHEMA {schema}")
        try:
            sep = "&" if "?" in pg else "?"
            url = f"{pg}{sep}options={quote(f'-csearch_path={schema}')}"

            def fresh(tag: str) -> str:
                with psycopg.connect(url, autocommit=True) as db:
                    db.execute("DROP TABLE IF EXISTS journal")
                return url

            result["postgresql_synchronous_commit_on"] = _figures(fresh, appends, runs)
        finally:
            with psycopg.connect(pg, autocommit=True) as admin:
                admin.execute(f"DROP SCHEMA {schema} CASCADE")
    else:
        result["postgresql_synchronous_commit_on"] = f"skipped: set {PG_URL_ENV}"
    return result


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
