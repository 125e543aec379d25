"""A journal writer killed with SIGKILL loses nothing it acknowledged (a real child process)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from offchain.paths import PROJECT_ROOT
from offchain.store import open_store

WRITER = Path(__file__).with_name("journal_writer.py")


def run_and_kill(url: str, kill_after_acks: int) -> int:
    """Start a writer, SIGKILL it once it has acknowledged `kill_after_acks` records; return the last ack."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(WRITER), url, "1000000"], stdout=subprocess.PIPE, text=True, env=env
    )
    last_ack = 0
    try:
        deadline = time.monotonic() + 20
        while last_ack < kill_after_acks and time.monotonic() < deadline:
            line = child.stdout.readline()
            assert line, f"writer exited early with {child.wait()}"
            last_ack = int(line.split()[1])
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        # Acks already written to the pipe before the kill count too: the writer acknowledged them.
        for line in child.stdout:
            last_ack = int(line.split()[1])
        child.stdout.close()
    return last_ack


def test_every_acknowledged_record_survives_sigkill_and_writing_resumes(store_url):
    rng = random.Random(5)
    acked = 0
    for _ in range(3):
        acked = run_and_kill(store_url, acked + rng.randrange(20, 200))
        with open_store(store_url) as store:
            journaled = [seq for seq, _ in store.read_from(1)]
            # Nothing acknowledged is lost; at most the one in flight was written but not acknowledged.
            assert journaled[:acked] == list(range(1, acked + 1))
            assert len(journaled) - acked in (0, 1)
            acked = len(journaled)
    assert acked >= 60
