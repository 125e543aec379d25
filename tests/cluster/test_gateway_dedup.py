"""The same signed order sent to two gateways is one command: executed once, the same answer twice."""

from __future__ import annotations

import asyncio

import httpx
from cluster_orders import Signer
from conftest import markets


def test_same_signed_order_to_two_gateways_executes_once(cluster):
    cluster.engine("e1")
    _, gw1 = cluster.gateway("g1")
    _, gw2 = cluster.gateway("g2")
    signer = Signer(markets(gw1)[0])
    body = signer.order()

    async def both():
        async with httpx.AsyncClient(timeout=20) as client:
            return await asyncio.gather(
                client.post(f"{gw1}/orders", json=body), client.post(f"{gw2}/orders", json=body)
            )

    r1, r2 = asyncio.run(both())
    assert r1.status_code == r2.status_code == 200, (r1.text, r2.text)
    a, b = r1.json(), r2.json()
    assert a["seq"] == b["seq"] and a["oid"] == b["oid"]
    assert sorted([a["duplicate"], b["duplicate"]]) == [False, True]
    # a third send, later and to either gateway, is the same command again
    r3 = httpx.post(f"{gw2}/orders", json=body, timeout=20)
    assert r3.status_code == 200 and r3.json()["oid"] == a["oid"] and r3.json()["duplicate"]
    # one order in the stream with that id, one accepted event in the results
    counts = cluster.result_counts()
    assert counts[a["seq"]] == 1
    accepted = [e for e in a["events"] if e["event"] == "accepted"]
    assert len(accepted) == 1
    # the next order gets the next oid: the duplicate consumed none
    r4 = httpx.post(f"{gw1}/orders", json=signer.order(), timeout=20)
    assert r4.status_code == 200 and r4.json()["oid"] == a["oid"] + 1, r4.text
