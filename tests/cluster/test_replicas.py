"""Determinism and catch-up: replicas fed the same log end at equal state hashes, and a replica
started from the latest snapshot plus the stream tail equals one that replayed everything."""

from __future__ import annotations

import time

from cluster_orders import Load, Signer
from conftest import markets


def test_new_replica_from_snapshot_and_tail_reaches_the_same_state(cluster):
    cluster.engine("e1", "--snapshot-every", "100")
    cluster.engine("e2", "--snapshot-every", "100", "--role", "standby")
    _, gw = cluster.gateway("g1")
    load = Load([gw], Signer(markets(gw)[0]), concurrency=4).start()
    try:
        load.wait_acked(350)
        # a replica joining while orders flow: the snapshot, then the tail, then live
        e3 = cluster.engine("e3", "--snapshot-every", "100", "--role", "standby")
        # and one that ignores the snapshot and replays the log from its first command
        e4 = cluster.engine("e4", "--snapshot-every", "100", "--role", "standby", "--no-snapshot")
        e3.wait_for("engine e3 ready")
        e4.wait_for("engine e4 ready")
        load.wait_acked(len(load.acked) + 250)
    finally:
        load.stop()
    last = max(seq for seq, _, _ in load.acked)
    for name in ("e1", "e2", "e3", "e4"):
        cluster.wait_applied(name, last)
    time.sleep(1.0)  # the statuses of the quiet state
    states = cluster.replicas()
    assert states["e3"]["started_seq"] >= 300, states["e3"]  # it did start from a snapshot
    assert states["e4"]["started_seq"] == 0
    assert len({states[n]["seq"] for n in ("e1", "e2", "e3", "e4")}) == 1, states
    assert len({states[n]["hash"] for n in ("e1", "e2", "e3", "e4")}) == 1, states
    # and at every mark after they joined they compared hashes with the first to get there
    assert states["e3"]["checks"] >= 2 and states["e4"]["checks"] >= 5
    assert all(states[n]["mismatches"] == 0 for n in states)
    assert cluster.alerts() == 0
