"""Kill one of the three NATS servers under load: publishing continues on the quorum, no
acknowledged command is lost, and the node rejoins and catches up."""

from __future__ import annotations

import time

import nats.js.errors
from cluster_orders import Load, Signer
from conftest import markets

from offchain.cluster import log as L


def test_one_nats_node_dies_the_stream_keeps_accepting(cluster):
    cluster.engine("e1")
    cluster.engine("e2")
    # each gateway prefers a different node; both know all three
    urls = cluster.nats.urls
    _, gw1 = cluster.gateway("g1", ",".join(urls))
    _, gw2 = cluster.gateway("g2", ",".join(urls[1:] + urls[:1]))
    load = Load([gw1, gw2], Signer(markets(gw1)[0]), concurrency=4).start()
    try:
        load.wait_acked(100)
        cluster.nats.kill(0)
        killed = len(load.acked)
        load.wait_acked(killed + 200)  # accepted with one of three servers dead
        cluster.nats.start_node(0)
        cluster.nats.wait_ready(nodes=[0])
        load.wait_acked(len(load.acked) + 100)
    finally:
        load.stop()
    acked = {seq: cid for seq, cid, _ in load.acked}

    async def check(js):
        lost = []
        for seq, cid in acked.items():
            try:
                msg = await js.get_msg(L.CMD_STREAM, seq)
            except nats.js.errors.NotFoundError:
                lost.append(seq)
                continue
            if cid.encode() not in msg.data:
                lost.append(seq)
        return lost

    assert cluster.query(check) == []

    async def replicas_current(js):
        info = await js.stream_info(L.CMD_STREAM)
        peers = info.cluster.replicas or []
        return len(peers) == 2 and all(p.current for p in peers), info.cluster

    deadline = time.monotonic() + 20
    while True:
        ok, where = cluster.query(replicas_current)
        if ok:
            break
        assert time.monotonic() < deadline, f"the restarted node did not catch up: {where}"
        time.sleep(0.5)
    assert cluster.alerts() == 0
