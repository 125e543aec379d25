"""Figure: replay 1M scenario commands through the engine (target < 60 s).

The file is generated on the fly into a temporary directory by the seeded ``busy_market``
generator (re-quotes, cancels, crossing market orders, index posts, one tick per second), then
run by the replay tool exactly as ``python -m offchain replay`` runs it: parse each line, apply
it, collect the report (tape included). Generation time is reported apart from replay time.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from offchain.replay import build_report, replay
from offchain.sim.scenarios import busy_market, write_jsonl

N_LINES = 1_000_000


def measure(n_lines: int = N_LINES) -> dict:
    """Generate ``n_lines`` commands, replay them with the breaker on, return the figures."""
    with tempfile.TemporaryDirectory(prefix="breakwater-replay-") as tmp:
        path = Path(tmp) / "busy.jsonl"
        t0 = time.perf_counter()
        write_jsonl(busy_market(n_lines), path)
        generated = time.perf_counter() - t0
        size = path.stat().st_size
        t0 = time.perf_counter()
        recorder = replay(path, breaker=True)
        report = build_report(recorder, path, breaker=True)
        elapsed = time.perf_counter() - t0
    return {
        "figure": "replay_1m_commands",
        "lines": n_lines,
        "file_mb": round(size / 1e6, 1),
        "generate_s": round(generated, 2),
        "replay_s": round(elapsed, 2),
        "commands_per_s": round(n_lines / elapsed),
        "target_s": 60,
        "trades": report["trades"],
        "rejections": report["rejections"],
        "breaker_transitions": len(report["breaker"]),
        "cpu_count": os.cpu_count(),
    }


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else N_LINES
    print(measure(n))
