"""`make bench`: run every benchmark and write bench/results.json and bench/results.md.

Each benchmark module exposes `measure() -> dict` (its own repeats, its own medians). This runner
calls each one `runs` times, extracts the figures below, keeps the median of the runs, and compares
it with its target and, where there is one, with a peer measured in the same run. A missed target
is written as missed.

    python -m bench                 # everything
    python -m bench --only book     # figures whose key starts with "book"
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Figure:
    """One row of the results table."""

    key: str
    label: str
    unit: str
    value: Callable[[dict], float]
    target: float | None = None
    better: str = "lower"  # or "higher"
    peer: Callable[[dict], tuple[str, float]] | None = None
    target_on: str = "value"  # or "ratio": the target applies to value / peer value


@dataclass(frozen=True)
class Bench:
    """One benchmark module, how often to run it, and the figures it yields."""

    module: str
    runs: int
    figures: tuple[Figure, ...]
    kwargs: dict | None = None


def _fastest_peer(r: dict) -> tuple[str, float]:
    name = r["fastest_peer"]
    return name, r["books"][name]["msgs_per_s"]


def _gas(r: dict, op: str) -> float:
    return r[op]["tx"]


BENCHES = (
    Bench(
        "bench.book_peers",
        1,  # the module itself runs 5 rounds of every book, interleaved, and reports medians
        (
            Figure(
                "book_throughput",
                "Book throughput, exchange-core mix (9% GTC, 3% IOC, 6% cancel, 82% move), vs the fastest "
                "pure-Python book on PyPI fed the same messages in the same run",
                "msgs/s",
                lambda r: r["books"][r["ours"]]["msgs_per_s"],
                target=1.5,
                better="higher",
                peer=_fastest_peer,
                target_on="ratio",
            ),
            Figure("book_p50", "Book latency p50", "ns", lambda r: r["books"][r["ours"]]["p50_ns"]),
            Figure(
                "book_p99", "Book latency p99", "ns", lambda r: r["books"][r["ours"]]["p99_ns"], target=10_000
            ),
        ),
    ),
    Bench(
        "bench.engine_e2e",
        1,
        (
            Figure(
                "engine_orders",
                "Engine end to end (holds, balance/margin checks, fees, events), one core",
                "orders/s",
                lambda r: r["engine"]["orders_per_s"],
                target=100_000,
                better="higher",
            ),
            Figure(
                "engine_default_orders",
                "Default engine (risk, breaker, treasury modules; cross-margin policy), same mix",
                "orders/s",
                lambda r: r["engine_default"]["orders_per_s"],
                target=100_000,
                better="higher",
            ),
            Figure(
                "engine_default_new_orders",
                "Default engine, new orders only (every one checked and held, a quarter trading)",
                "orders/s",
                lambda r: r["engine_default_new_orders"]["orders_per_s"],
                target=100_000,
                better="higher",
            ),
        ),
    ),
    Bench(
        "bench.risk_revalue",
        3,
        (
            Figure(
                "risk_revalue",
                "Revalue 100k accounts x 4 markets after a price move",
                "ms",
                lambda r: r["risk_revalue_ms_median"],
                target=20,
            ),
        ),
    ),
    Bench(
        "bench.auction_uncross",
        3,
        (
            Figure(
                "auction_uncross",
                "Uncross a call auction of 100k orders",
                "ms",
                lambda r: r["columns_median_ms"],
                50,
            ),
        ),
    ),
    Bench(
        "bench.por_build",
        3,
        (
            Figure(
                "por_build", "Proof-of-reserves tree, 1M accounts x 3 assets", "s", lambda r: r["build_s"], 10
            ),
        ),
    ),
    Bench(
        "bench.gas_reserves",
        1,  # gas is deterministic
        (
            Figure(
                "gas_verify_depth20",
                "verify_inclusion gas, depth 20, 3 assets (tx incl. calldata)",
                "gas",
                lambda r: r["verify_inclusion_depth_20"]["gas"],
                150_000,
            ),
            Figure(
                "gas_verify_depth10",
                "verify_inclusion gas, depth 10, 3 assets (tx incl. calldata)",
                "gas",
                lambda r: r["verify_inclusion_depth_10"]["gas"],
            ),
            Figure("gas_attest", "attest gas (later epoch, tx)", "gas", lambda r: r["attest_epoch_2"]),
            Figure("gas_deposit", "Custody.deposit gas (tx)", "gas", lambda r: r["custody_deposit"]),
            Figure("gas_withdraw", "Custody.withdraw gas (tx)", "gas", lambda r: r["custody_withdraw"]),
            Figure(
                "gas_withdraw_queued",
                "Custody.withdraw gas, held by the global window (tx)",
                "gas",
                lambda r: r["custody_withdraw_queued"],
            ),
            Figure(
                "gas_claim", "Custody.claim gas, a held withdrawal (tx)", "gas", lambda r: r["custody_claim"]
            ),
            Figure("gas_cover", "InsuranceFund.cover gas (tx)", "gas", lambda r: r["fund_cover"]),
            Figure(
                "gas_start_exit",
                "InsuranceFund.redeem gas, starts an exit (tx)",
                "gas",
                lambda r: r["fund_start_exit"],
            ),
            Figure(
                "gas_settle_exit",
                "InsuranceFund.settle_exit gas (tx)",
                "gas",
                lambda r: r["fund_settle_exit"],
            ),
            Figure("gas_trip", "CircuitBreaker.trip gas (sentinel, tx)", "gas", lambda r: r["breaker_trip"]),
        ),
    ),
    Bench(
        "bench.gas_custody",
        1,  # gas is deterministic
        (
            Figure(
                "gas_safe_exec",
                "cold wallet Safe 1.4.1 execTransaction, 2-of-3, ERC-20 transfer (tx)",
                "gas",
                lambda r: r["safe_exec_transfer_first"],
            ),
            Figure(
                "gas_to_cold", "Custody.to_cold into the Safe (tx)", "gas", lambda r: r["custody_to_cold"]
            ),
            Figure(
                "gas_anchor", "JournalAnchor.anchor, a later epoch (tx)", "gas", lambda r: r["anchor_next"]
            ),
        ),
    ),
    Bench(
        "bench.gas_pool",
        1,
        (
            Figure("gas_swap", "Pool.swap gas (cold, tx)", "gas", lambda r: _gas(r, "swap")),
            Figure("gas_add", "Pool.add_liquidity gas (cold, tx)", "gas", lambda r: _gas(r, "add_liquidity")),
            Figure(
                "gas_remove",
                "Pool.remove_liquidity gas (cold, tx)",
                "gas",
                lambda r: _gas(r, "remove_liquidity"),
            ),
            Figure(
                "gas_swap_exec",
                "Pool.swap execution gas, cold, with every check vs a bare constant-product swap",
                "gas",
                lambda r: r["swap"]["cold"],
                target=1.25,
                peer=lambda r: ("bare constant-product pool", r["bare_swap"]["cold"]),
                target_on="ratio",
            ),
        ),
    ),
    Bench(
        "bench.replay_1m",
        1,
        (Figure("replay_1m", "Replay 1M scenario commands", "s", lambda r: r["replay_s"], 60),),
    ),
    Bench(
        "bench.read_sessions",
        3,
        (
            Figure(
                "read_session_first",
                "Private read: first check of a read-session token (EIP-712 digest, libsecp256k1 recovery)",
                "us",
                lambda r: r["first_check_us"],
            ),
            Figure(
                "read_session_cached",
                "Private read: later checks of the same token (verified-token cache)",
                "us",
                lambda r: r["cached_check_us"],
            ),
        ),
    ),
    Bench(
        "bench.market_history",
        3,
        (
            Figure(
                "history_ticker", "GET /ticker, 20k trades in the last 6 h", "ms", lambda r: r["ticker_ms"]
            ),
            Figure(
                "history_candles_1m",
                "GET /candles 1m x 300 (minute buckets)",
                "ms",
                lambda r: r["candles_1m_ms"],
            ),
            Figure(
                "history_candles_1s",
                "GET /candles 1s x 1500 (trades table)",
                "ms",
                lambda r: r["candles_1s_ms"],
            ),
            Figure(
                "history_tape_observe",
                "Tape subscriber on the sequencer, per taker order that trades",
                "us",
                lambda r: r["tape_observe_us"],
            ),
        ),
    ),
    Bench(
        "bench.api_ingress",
        3,  # a server process per run (each mode against it); the median of three runs is kept
        (
            Figure(
                "api_single_orders",
                "Signed orders through the API, one per POST, 16 connections (serve + SQLite FULL, "
                "client in another process)",
                "orders/s",
                lambda r: r["single"]["orders_per_s"],
                target=1_500,
                better="higher",
            ),
            Figure(
                "api_500_p50",
                "API latency p50 at 500 orders/s offered",
                "ms",
                lambda r: r["at_500"]["p50_ms"],
                5,
            ),
            Figure(
                "api_500_p99",
                "API latency p99 at 500 orders/s offered",
                "ms",
                lambda r: r["at_500"]["p99_ms"],
                20,
            ),
            Figure(
                "api_batch_orders",
                "Signed batches of 100 orders (one signature each), 4 connections",
                "orders/s",
                lambda r: r["batch"]["orders_per_s"],
                target=20_000,
                better="higher",
            ),
            Figure(
                "api_ws_orders",
                "Signed orders over one WebSocket connection (64 in flight)",
                "orders/s",
                lambda r: r["ws"]["orders_per_s"],
                target=3_000,
                better="higher",
            ),
            Figure(
                "api_cpu_per_order",
                "Server CPU per accepted order, one per POST",
                "µs",
                lambda r: r["single"]["server_cpu_us_per_order"],
            ),
            Figure(
                "api_secp256k1",
                "Raw limit: secp256k1 signature recoveries per second, one core",
                "recoveries/s",
                lambda r: r["secp256k1_recoveries_per_s"],
            ),
            Figure(
                "api_bare_engine",
                "Raw limit: the bare engine on the same orders (no journal, no API)",
                "orders/s",
                lambda r: r["bare_engine_orders_per_s"],
            ),
        ),
    ),
    Bench(
        "bench.makers_overhead",
        1,  # the module interleaves its own 5 runs and reports medians
        (
            Figure(
                "makers_cmds",
                "Market-maker program on: a designated maker's re-quotes and the takers hitting it, "
                "every command re-testing its obligation (vs the default engine, program off)",
                "cmds/s",
                lambda r: r["makers_cmds_per_s"],
                better="higher",
                peer=lambda r: ("default engine", r["default_cmds_per_s"]),
            ),
        ),
    ),
    Bench(
        "bench.cluster_ingress",
        1,  # one topology (3 NATS nodes, 2 engines, 2 gateways); the module takes its own medians
        (
            Figure(
                "cluster_orders",
                "Cluster: signed orders through 2 gateways, acknowledged after the R=3 quorum",
                "orders/s",
                lambda r: r["flat_out"]["orders_per_s"],
                target=2_000,
                better="higher",
            ),
            Figure(
                "cluster_500_p99",
                "Cluster: latency p99 at 500 orders/s offered",
                "ms",
                lambda r: r["at_500"]["p99_ms"],
                50,
            ),
            Figure(
                "cluster_failover",
                "Cluster: failover, leader SIGKILL to the first accepted order (median)",
                "s",
                lambda r: r["failover_median_s"],
                3,
            ),
            Figure(
                "cluster_snapshot_catchup",
                "Cluster: a new replica from snapshot + tail",
                "s",
                lambda r: r["catchup"]["from_snapshot"]["seconds"],
            ),
            Figure(
                "cluster_full_replay",
                "Cluster: full replay without a snapshot (1M commands in <= 60 s needs >= 16,667/s)",
                "commands/s",
                lambda r: r["catchup"]["full_replay"]["commands_per_s"],
                target=16_667,
                better="higher",
            ),
        ),
    ),
    Bench("bench.fuzz", 1, ()),
)


def _met(fig: Figure, value: float) -> bool | None:
    if fig.target is None or value is None:
        return None
    return value >= fig.target if fig.better == "higher" else value <= fig.target


def _fmt(value: float) -> str:
    if isinstance(value, float) and value < 100:
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def run(only: str | None = None) -> dict:
    """Run the benchmarks and return the results document."""
    started = time.time()
    rows, raw = [], {}
    for bench in BENCHES:
        if only and not (
            bench.module.removeprefix("bench.").startswith(only)
            or any(f.key.startswith(only) for f in bench.figures)
        ):
            continue
        module = importlib.import_module(bench.module)
        print(f"running {bench.module} x{bench.runs} ...", file=sys.stderr, flush=True)
        results = [module.measure(**(bench.kwargs or {})) for _ in range(bench.runs)]
        raw[bench.module] = results
        for fig in bench.figures:
            values = [fig.value(r) for r in results]
            value = statistics.median(values)
            row = {"key": fig.key, "figure": fig.label, "unit": fig.unit, "median": value, "runs": values}
            if fig.peer:
                name, peer_value = fig.peer(results[len(results) // 2])
                row.update(
                    peer=name,
                    peer_value=peer_value,
                    ratio=round(value / peer_value, 3) if peer_value else None,
                )
            judged = row.get("ratio") if fig.target_on == "ratio" else value
            op = ">=" if fig.better == "higher" else "<="
            on = "ratio " if fig.target_on == "ratio" else ""
            row.update(
                target=fig.target,
                target_is=f"{on}{op} {fig.target}" if fig.target else None,
                met=_met(fig, judged),
            )
            rows.append(row)
        if bench.module == "bench.fuzz":
            for suite, s in results[0]["suites"].items():
                rows.append(
                    {
                        "key": f"fuzz_{suite}",
                        "figure": f"Fuzzing rate, {suite} state machine",
                        "unit": "sequences/s",
                        "median": s["sequences_per_s"],
                        "runs": [s["sequences_per_s"]],
                        "target": None,
                        "target_is": None,
                        "met": None,
                    }
                )
    return {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        },
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        "figures": rows,
        "raw": raw,
    }


def markdown(doc: dict) -> str:
    """Render the results table that the README links."""
    lines = [
        "# Benchmark results",
        "",
        f"Measured {doc['started']} on {doc['machine']['cpus']} cores, Python {doc['machine']['python']} "
        f"(load average at the end: {doc['machine']['load_avg_1m_at_end']}). `make bench` regenerates this file.",
        "",
        "| figure | median | unit | target | peer | ratio | met |",
        "|---|---:|---|---|---|---:|---|",
    ]
    for r in doc["figures"]:
        peer = f"{r['peer']}: {_fmt(r['peer_value'])}" if r.get("peer") else ""
        ratio = f"{r['ratio']:.2f}" if r.get("ratio") is not None else ""
        met = {True: "met", False: "**missed**", None: ""}[r["met"]]
        lines.append(
            f"| {r['figure']} | {_fmt(r['median'])} | {r['unit']} | {r['target_is'] or ''} | {peer} | {ratio} | {met} |"
        )
    # notes a benchmark writes under the table (profiles, raw limits): its `markdown` result
    for results in doc.get("raw", {}).values():
        notes = (
            results[len(results) // 2].get("markdown") if results and isinstance(results[0], dict) else None
        )
        if notes:
            lines += ["", notes.rstrip()]
    return "\n".join(lines) + "\n"


def merge(previous: dict, partial: dict) -> dict:
    """Return `previous` with the figures (and raw results) of a partial `--only` run replaced."""
    fresh = {row["key"]: row for row in partial["figures"]}
    rows = [fresh.pop(row["key"], row) for row in previous["figures"]] + list(fresh.values())
    return {
        **partial,
        "started": f"{previous['started']} (partly re-run {partial['started']}: {', '.join(partial['raw'])})",
        "figures": rows,
        "raw": {**previous.get("raw", {}), **partial["raw"]},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description="Run every Breakwater benchmark")
    parser.add_argument("--only", help="run only figures/modules whose key starts with this")
    parser.add_argument("--out", default=str(HERE), help="directory for results.json and results.md")
    args = parser.parse_args()
    doc = run(args.only)
    out = Path(args.out)
    if args.only and (out / "results.json").exists():
        doc = merge(json.loads((out / "results.json").read_text()), doc)
    (out / "results.json").write_text(json.dumps(doc, indent=2, default=str) + "\n")
    (out / "results.md").write_text(markdown(doc))
    print(markdown(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
