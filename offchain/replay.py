"""`python -m offchain replay SCENARIO.jsonl --report REPORT.json [--no-breaker] [--plot PNG]`.

Drives the engine with a scenario file (SPEC §4: one command per line) and writes the report:
breaker transitions, auctions, liquidations, the tape, counts, bad debt and the final state hash.
A line that is not JSON or not a valid command stops the run with exit status 2, naming its line
number; a command the engine rejects is counted in the report and the run goes on.

``--no-breaker`` runs the naive exchange the breaker exists to replace: no automatic halt, and
collateral valued at the local book's price instead of the index-based mark; its price bands
measure from its own index, as a real exchange's do (issue 15.9). ``--naive-bands book`` measures
them from its own book instead (the model before 15.9: the bands follow the crash down).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offchain.core.breaker.module import AuctionUncrossed, BreakerTransition
from offchain.core.build import build_engine as build
from offchain.core.config import NAIVE_BANDS, EngineConfig
from offchain.core.engine import Engine
from offchain.core.messages import codec
from offchain.core.messages.events import Rejected, Trade

EXIT_BAD_INPUT = 2
MAX_LINE_BYTES = 1_000_000  # a scenario line longer than this is refused unparsed
MAX_BRACKETS = 1_000  # a line with more brackets than this is refused unparsed (no deep recursion)
PROGRESS_MIN_BYTES = 2_000_000  # show a progress bar from about 10k lines up


class ScenarioError(Exception):
    """A scenario line that cannot be run: the message names the line."""

    def __init__(self, path: Path, line_no: int, reason: str) -> None:
        super().__init__(f"{path}:{line_no}: {reason}")
        self.line_no = line_no
        self.reason = reason


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", type=Path, help="scenario file (JSONL, SPEC §4)")
    parser.add_argument("--report", type=Path, required=True, help="where to write the JSON report")
    parser.add_argument(
        "--no-breaker",
        action="store_true",
        help="naive exchange: no automatic halt, collateral valued at the local book price",
    )
    parser.add_argument(
        "--naive-bands",
        choices=NAIVE_BANDS,
        default="index",
        help="with --no-breaker: price bands from the exchange's own index (default) or its own book",
    )
    parser.add_argument("--plot", type=Path, help="also draw prices, breaker states and liquidations (PNG)")
    parser.add_argument("--no-progress", action="store_true", help="never show a progress bar")


def build_engine(breaker: bool = True, naive_bands: str = "index") -> Engine:
    """The engine the replay drives: the default modules, with the breaker switched as asked.

    Without the breaker the exchange is the naive one of 10 October 2025: no automatic halt, and
    the risk engine values collateral at the local book price; its bands measure from its own index
    (``naive_bands="index"``) or its own book (``"book"``) (``EngineConfig.naive(naive_bands)``).
    """
    return build(EngineConfig() if breaker else EngineConfig.naive(naive_bands))


# -- the run --------------------------------------------------------------------------------------


@dataclass
class Recorder:
    """Collects what the report and the plot need from the event stream."""

    engine: Engine
    sample: bool = False
    breaker: list[dict] = field(default_factory=list)
    auctions: list[dict] = field(default_factory=list)
    liquidations: list[dict] = field(default_factory=list)
    tape: list[dict] = field(default_factory=list)
    trades: int = 0
    rejections: int = 0
    rejection_codes: dict[str, int] = field(default_factory=dict)
    bad_debt_by_asset: dict[str, int] = field(default_factory=dict)
    series: dict[str, dict[str, list]] = field(default_factory=dict)
    _last_sample: dict[str, int] = field(default_factory=dict)
    _plain: set = field(default_factory=set)  # event classes that matter to neither report nor plot

    def on_events(self, events: list) -> None:
        eng = self.engine
        for ev in events:
            cls = ev.__class__
            if cls is Trade:
                self.trades += 1
                self.tape.append(
                    {
                        "t": seconds(ev.ts),
                        "symbol": ev.symbol,
                        "price": codec.format_price(eng, ev.symbol, ev.price),
                        "qty": codec.format_qty(eng, ev.symbol, ev.qty),
                    }
                )
            elif cls is Rejected:
                self.rejections += 1
                self.rejection_codes[ev.code] = self.rejection_codes.get(ev.code, 0) + 1
            elif cls is BreakerTransition:
                self.breaker.append(
                    {
                        "t": seconds(ev.ts),
                        "symbol": ev.symbol,
                        "from": ev.from_state,
                        "to": ev.to_state,
                        "reason": ev.reason,
                        "metrics": {k: v for k, v in ev.metrics.items() if v is not None},
                    }
                )
            elif cls is AuctionUncrossed:
                self.auctions.append(
                    {
                        "t": seconds(ev.ts),
                        "symbol": ev.symbol,
                        "price": None if ev.price is None else codec.format_price(eng, ev.symbol, ev.price),
                        "volume": codec.format_qty(eng, ev.symbol, ev.volume),
                        "reference": None
                        if ev.reference is None
                        else codec.format_price(eng, ev.symbol, ev.reference),
                    }
                )
            elif cls not in self._plain:
                if not self._risk_event(ev):
                    self._plain.add(cls)

    def _risk_event(self, ev: Any) -> bool:
        """Record liquidations and bad debt (the risk engine's ``liquidation`` and ``bad_debt``
        events); False for any other kind of event, which is then never looked at again."""
        name = getattr(ev, "EVENT", "")
        if name == "liquidation":
            eng = self.engine
            self.liquidations.append(
                {
                    "t": seconds(ev.ts),
                    "account": ev.account,
                    "symbol": ev.symbol,
                    "qty": codec.format_qty(eng, ev.symbol, abs(ev.qty)),
                    "price": codec.format_price(eng, ev.symbol, ev.price),
                    "side": ev.side,
                    "via": ev.via,
                }
            )
            return True
        if name == "bad_debt":
            self.bad_debt_by_asset[ev.asset] = self.bad_debt_by_asset.get(ev.asset, 0) + ev.amount
            return True
        return False

    def sample_prices(self, ts: int) -> None:
        """One point per market per second of scenario time, for the plot."""
        for sym, m in self.engine.markets.items():
            if self._last_sample.get(sym, -1) + 1000 > ts:
                continue
            self._last_sample[sym] = ts
            s = self.series.setdefault(sym, {"t": [], "local": [], "index": [], "mark": [], "state": []})
            s["t"].append(ts / 1000)
            s["local"].append(m.last_price)
            s["index"].append(m.index_price)
            s["mark"].append(m.mark_price)
            s["state"].append(m.state)


def seconds(ts: int) -> int | float:
    """Milliseconds as scenario seconds (an integer when whole)."""
    return ts // 1000 if ts % 1000 == 0 else ts / 1000


def read_commands(
    path: Path,
    engine: Engine,
    on_bytes: Callable[[int], None] | None = None,
    where: list[int] | None = None,
) -> Iterator[Any]:
    """Yield the scenario's commands in order; raise ScenarioError naming a bad line.

    Every line is refused cleanly, whatever it holds (issue 15.1): too long or too deeply nested to
    parse safely, not JSON, a number beyond the codec's bounds, not a command. `where[0]` is kept at
    the line number of the command last yielded (so the caller can name it too).
    """
    with open(path, "rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if on_bytes is not None:
                on_bytes(len(raw))
            text = raw.strip()
            if not text:
                continue
            if len(text) > MAX_LINE_BYTES:
                raise ScenarioError(path, line_no, f"a line of {len(text)} bytes (at most {MAX_LINE_BYTES})")
            if text.count(b"[") + text.count(b"{") > MAX_BRACKETS:
                raise ScenarioError(path, line_no, f"more than {MAX_BRACKETS} brackets: not a command")
            try:
                d = json.loads(text)
            except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # JSONDecodeError, int digits
                raise ScenarioError(path, line_no, f"not valid JSON: {exc}") from None
            try:
                cmd = codec.parse_command(d, engine)
            except codec.CommandFormatError as exc:
                raise ScenarioError(path, line_no, str(exc)) from None
            except (TypeError, ValueError, KeyError, ArithmeticError, RecursionError) as exc:
                raise ScenarioError(
                    path, line_no, f"bad command: {exc}"
                ) from None  # no parser anticipated it
            if where is not None:
                where[0] = line_no
            yield cmd


def replay(
    path: Path, breaker: bool = True, sample: bool = False, progress: bool = False, naive_bands: str = "index"
) -> Recorder:
    """Run a scenario through a fresh engine and return what it recorded."""
    engine = build_engine(breaker, naive_bands)
    recorder = Recorder(engine, sample=sample)
    bar = None
    on_bytes = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=path.name, file=sys.stderr)
        on_bytes = bar.update
    try:
        apply = engine.apply
        record = recorder.on_events
        where = [0]
        for cmd in read_commands(path, engine, on_bytes, where):
            try:
                record(apply(cmd))
            except Exception as exc:  # never a traceback: exit 2 naming the line (issue 15.1)
                raise ScenarioError(
                    path, where[0], f"the engine failed on it: {type(exc).__name__}: {exc}"
                ) from exc
            if sample:
                recorder.sample_prices(cmd.ts)
    finally:
        if bar is not None:
            bar.close()
    return recorder


def build_report(recorder: Recorder, scenario: Path, breaker: bool, naive_bands: str = "index") -> dict:
    engine = recorder.engine
    quote = _settlement_asset(engine)
    decimals = engine.assets[quote].decimals if quote in engine.assets else 6
    bad_debt = recorder.bad_debt_by_asset
    return {
        "breaker": recorder.breaker,
        "auctions": recorder.auctions,
        "liquidations": recorder.liquidations,
        "tape": recorder.tape,
        "trades": recorder.trades,
        "bad_debt": codec.format_units(bad_debt.get(quote, 0), decimals),
        "rejections": recorder.rejections,
        "final_state_hash": engine.state_hash(),
        # beyond SPEC §4 (more fields may follow; the ones above keep their names)
        "scenario": scenario.name,
        "breaker_enabled": breaker,
        "collateral": "mark" if breaker else "local",
        "bands": "mark" if breaker else naive_bands,
        "rejection_codes": dict(sorted(recorder.rejection_codes.items())),
        "bad_debt_by_asset": {
            a: codec.format_units(v, engine.assets[a].decimals) for a, v in sorted(bad_debt.items())
        },
        "low_price": _low_prices(recorder, engine),
    }


def _settlement_asset(engine: Engine) -> str:
    """The asset bad debt is counted in: the risk engine's settlement asset (USDC by default)."""
    for module in engine.modules:
        config = getattr(module, "config", None)
        if config is not None and hasattr(config, "settlement_asset"):
            return config.settlement_asset
    return "USDC"


def _low_prices(recorder: Recorder, engine: Engine) -> dict[str, str]:
    lows: dict[str, int] = {}
    for ev in recorder.tape:
        price = codec.to_decimal(ev["price"], "price")
        sym = ev["symbol"]
        if sym not in lows or price < lows[sym]:
            lows[sym] = price
    return {sym: str(p) for sym, p in sorted(lows.items())}


def run(args: argparse.Namespace) -> int:
    scenario: Path = args.scenario
    if not scenario.is_file():
        print(f"replay: no scenario file {scenario}", file=sys.stderr)
        return EXIT_BAD_INPUT
    breaker = not args.no_breaker
    progress = not args.no_progress and scenario.stat().st_size >= PROGRESS_MIN_BYTES
    try:
        recorder = replay(
            scenario,
            breaker=breaker,
            sample=args.plot is not None,
            progress=progress,
            naive_bands=args.naive_bands,
        )
    except ScenarioError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    report = build_report(recorder, scenario, breaker, args.naive_bands)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.report.with_suffix(args.report.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=1) + "\n")
    os.replace(tmp, args.report)
    if args.plot is not None:
        from offchain.replay_plot import plot

        plot(recorder, report, args.plot)
    summary = (
        f"{scenario.name}: {report['trades']} trades, {len(report['breaker'])} breaker transitions, "
        f"{len(report['auctions'])} auctions, {len(report['liquidations'])} liquidations, "
        f"bad debt {report['bad_debt']}, {report['rejections']} rejections"
    )
    print(summary, file=sys.stderr)
    return 0
