"""Crash recovery: a real engine process killed with SIGKILL at random points loses no acknowledged
command, and snapshot + tail replay, full replay and a second recovery all end at the same state."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from itertools import islice
from pathlib import Path

from crash_child import command_stream

from offchain.core.build import build_engine
from offchain.core.messages.codec import command_from_dict
from offchain.paths import PROJECT_ROOT
from offchain.store import open_store
from offchain.store.journaled import JournaledEngine

CHILD = Path(__file__).with_name("crash_child.py")
SEED = 20251010
SNAPSHOT_EVERY = 40  # small, so that kills also land inside snapshot writes and recovery uses them


def run_and_kill(url: str, kill_after_ack: int) -> int:
    """Run the engine child until it acknowledges seq `kill_after_ack`, SIGKILL it, return the last ack."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), url, str(SEED), str(SNAPSHOT_EVERY)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    last_ack = 0
    try:
        deadline = time.monotonic() + 20
        while last_ack < kill_after_ack and time.monotonic() < deadline:
            line = child.stdout.readline()
            assert line, f"engine child exited early with {child.wait()}"
            last_ack = int(line.split()[1])
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        for line in child.stdout:  # acks written before the kill landed count as acknowledged
            last_ack = int(line.split()[1])
        child.stdout.close()
    assert last_ack >= kill_after_ack, "the child did not reach the kill point in time"
    return last_ack


def recovered_hash(url: str, **kwargs) -> str:
    with JournaledEngine.open(url, snapshot_every=SNAPSHOT_EVERY, **kwargs) as runner:
        return runner.state_hash()


def test_sigkilled_engine_recovers_every_acknowledged_command(store_url):
    url = store_url
    rng = random.Random(7)
    acked = 0
    for _ in range(4):
        acked = run_and_kill(url, acked + rng.randrange(25, 300))

        with open_store(url) as store:
            journal = list(store.read_from(1))
            snapshot = store.latest()
        # Every acknowledged seq is journaled, without gaps; at most the command in flight is extra.
        assert [seq for seq, _ in journal] == list(range(1, len(journal) + 1))
        assert acked <= len(journal) <= acked + 1
        # The journal holds exactly the commands the child submitted, in order.
        submitted = list(islice(command_stream(SEED), len(journal)))
        assert [command_from_dict(record) for _, record in journal] == submitted

        # An engine fed the submitted commands directly is the state recovery must reach.
        reference = build_engine()
        for cmd in submitted:
            reference.apply(cmd)
        assert snapshot is not None and snapshot.seq > 0
        first = recovered_hash(url)
        assert first == reference.state_hash()
        assert recovered_hash(url) == first  # recovering twice changes nothing
        assert recovered_hash(url, use_snapshot=False) == first  # snapshot + tail == full replay
        acked = len(journal)  # the next child resumes after everything journaled
    assert acked >= 100
