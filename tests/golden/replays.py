"""The golden replays: each case run through a fresh engine, reduced to what must never change.

A case's result is its ``final_state_hash``, the sha256 of its canonical event stream (one line per
event: the journal form of ``codec.event_to_dict`` as JSON with sorted keys and no spaces), the number
of commands and the event counts by type (so a changed digest can be explained). Regenerate the
fixture after a deliberate behaviour change with ``python tests/golden/replays.py --write`` and say why
in the commit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from streams import stream  # noqa: E402

from offchain import replay  # noqa: E402
from offchain.core.messages import codec  # noqa: E402

FIXTURE = HERE / "fixtures.json"
SCENARIOS = ("calm.jsonl", "usde_2025_10_10.jsonl")
SEEDS = tuple(range(1, 13))
NAIVE_SEEDS = (101, 102, 103)
STREAM_STEPS = 600


def _scenario_lines(name: str) -> Iterable[dict]:
    with open(ROOT / "scenarios" / name, encoding="utf-8") as fh:
        for raw in fh:
            if raw.strip():
                yield json.loads(raw)


Case = tuple[bool, Callable[[], Iterable[dict]]]


def cases() -> dict[str, Case]:
    """Case name -> (breaker on, a function returning the wire command dicts)."""
    out: dict[str, Case] = {}
    for name in SCENARIOS:
        for breaker in (True, False):
            label = f"scenario:{name}" + ("" if breaker else ":no-breaker")
            out[label] = (breaker, lambda name=name: _scenario_lines(name))
    for seed in SEEDS:
        out[f"stream:{seed}"] = (True, lambda seed=seed: stream(seed, STREAM_STEPS))
    for seed in NAIVE_SEEDS:  # no breaker, collateral at the local price: more liquidations
        out[f"stream:{seed}:no-breaker"] = (False, lambda seed=seed: stream(seed, STREAM_STEPS))
    return out


def new_engine(breaker: bool):
    """The engine the replay tool builds (default modules; the naive exchange without the breaker)."""
    return replay.build_engine(breaker)


def run_case(case: Case) -> dict:
    breaker, make_lines = case
    engine, lines = new_engine(breaker), make_lines()
    digest = hashlib.sha256()
    counts: Counter[str] = Counter()
    rejections: Counter[str] = Counter()
    commands = 0
    dumps = json.dumps
    for d in lines:
        commands += 1
        for ev in engine.apply(codec.parse_command(d, engine)):
            counts[ev.EVENT] += 1
            if ev.EVENT == "rejected":
                rejections[ev.code] += 1
            digest.update(dumps(codec.event_to_dict(ev), sort_keys=True, separators=(",", ":")).encode())
            digest.update(b"\n")
    snapshot = engine.snapshot()
    fresh = new_engine(breaker)
    restored = type(engine).restore(snapshot, modules=fresh.modules, risk=fresh.risk)
    return {
        "restored_state_hash": restored.state_hash(),
        "commands": commands,
        "events_sha256": digest.hexdigest(),
        "final_state_hash": engine.state_hash(),
        "event_counts": dict(sorted(counts.items())),
        "rejection_codes": dict(sorted(rejections.items())),
    }


def run_all() -> dict[str, dict]:
    return {name: run_case(case) for name, case in cases().items()}


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the golden replays; --write stores the fixture.")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    results = run_all()
    text = json.dumps(results, indent=1, sort_keys=True) + "\n"
    if args.write:
        FIXTURE.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
