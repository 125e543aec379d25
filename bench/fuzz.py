"""Fuzzing rate of the contract state machines, and `make fuzz` for long runs.

Each suite is a hypothesis state machine over titanoboa (tests/contracts/*_stateful.py). A run of N
sequences minus a run of one sequence (compile, deploy, hypothesis start-up) gives the time the
sequences themselves take, so the rate is sequences per second of fuzzing, start-up excluded.

    python -m bench.fuzz                      # rate, 40 sequences per suite
    python -m bench.fuzz --examples 10000     # `make fuzz`: 10k sequences per contract
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITES = {
    "Pool+CircuitBreaker": "tests/contracts/test_pool_stateful.py::test_pool_state_machine",
    "InsuranceFund": "tests/contracts/test_insurance_fund_stateful.py",
    "Custody": "tests/contracts/test_custody_stateful.py",
}


def _run(node: str, examples: int) -> float:
    env = {**os.environ, "BREAKWATER_FUZZ_EXAMPLES": str(examples)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "--timeout", "0", node]
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{node} failed with {examples} sequences:\n{done.stdout[-3000:]}")
    return elapsed


def measure(examples: int = 40) -> dict:
    """Return sequences/s per suite (start-up excluded) and the wall time of each run."""
    suites = {}
    for name, node in SUITES.items():
        baseline = _run(node, 1)
        full = _run(node, examples)
        fuzzing = max(full - baseline, 1e-9)
        suites[name] = {
            "sequences": examples,
            "wall_s": round(full, 2),
            "startup_s": round(baseline, 2),
            "sequences_per_s": round((examples - 1) / fuzzing, 2),
        }
    return {"figure": "fuzz_rate", "suites": suites}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=40, help="sequences per suite")
    args = parser.parse_args()
    print(json.dumps(measure(args.examples), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
