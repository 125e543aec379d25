"""Leader kill under load: a standby takes the lease, publishes what the old leader had not, and no
acknowledged order is lost or answered twice; replicas agree on the state hash at every mark."""

from __future__ import annotations

import os
import random
import time

from cluster_orders import Load, Signer
from conftest import markets

KILLS = int(
    os.environ.get("BREAKWATER_CLUSTER_KILLS", "20" if os.environ.get("BREAKWATER_CLUSTER_SOAK") else "2")
)


def test_leader_kill_under_load_loses_no_acknowledged_order(cluster):
    engines = {name: cluster.engine(name, "--snapshot-every", "50") for name in ("e1", "e2")}
    _, gw1 = cluster.gateway("g1")
    _, gw2 = cluster.gateway("g2")
    load = Load([gw1, gw2], Signer(markets(gw1)[0]), concurrency=4).start()
    failovers = []
    spare = 3
    try:
        for _ in range(KILLS):
            load.wait_acked(len(load.acked) + random.randint(20, 80))
            leader = cluster.wait_leader()
            killed_at = time.monotonic()
            engines[leader].kill()
            # the killed replica comes back as a standby (from the snapshot), so there is always one
            name = f"e{spare}"
            spare += 1
            engines[name] = cluster.engine(name, "--snapshot-every", "50")
            new = cluster.wait_leader(not_=leader)
            seen = len(load.acked)
            load.wait_acked(seen + 10)
            first_after = next(t for _, _, t in load.acked[seen:] if t > killed_at)
            failovers.append(first_after - killed_at)
            assert new != leader
        load.wait_acked(len(load.acked) + 20)
    finally:
        load.stop()
    leader = cluster.wait_leader()
    acked = [seq for seq, _, _ in load.acked]
    assert len(set(acked)) == len(acked), "two acknowledged orders share a sequence"
    state = cluster.wait_applied(leader, max(acked))
    counts = cluster.result_counts()
    missing = [s for s in acked if s not in counts]
    twice = {s: n for s, n in counts.items() if n != 1}
    assert not missing, f"acknowledged orders with no result: {missing[:10]}"
    assert not twice, f"results published more than once: {list(twice.items())[:10]}"
    assert state["seq"] >= max(acked)
    # every replica alive applied everything and agrees
    last = state["seq"]
    alive = [n for n, p in engines.items() if p.proc.poll() is None]
    for n in alive:
        cluster.wait_applied(n, last)
    time.sleep(1.0)
    hashes = {n: cluster.replicas()[n]["hash"] for n in alive}
    assert len(set(hashes.values())) == 1, hashes
    assert cluster.alerts() == 0
    every = cluster.replicas()  # the killed ones' last statuses too
    assert all(st["mismatches"] == 0 for st in every.values())
    assert sum(st["checks"] for st in every.values()) > 0
    assert max(failovers) < 10, failovers
    print(f"failover s: {sorted(round(f, 2) for f in failovers)}")
