"""A gateway killed mid-request, and a gateway cut off from NATS."""

from __future__ import annotations

import threading
import time

import httpx
from cluster_orders import Signer
from conftest import markets
from tcp_cut import Proxy


def test_client_of_a_killed_gateway_retries_on_another_and_gets_the_same_result(cluster):
    cluster.engine("e1")
    p1, gw1 = cluster.gateway("g1")
    _, gw2 = cluster.gateway("g2")
    signer = Signer(markets(gw1)[0])
    first = httpx.post(f"{gw1}/orders", json=signer.order(), timeout=20).json()
    # killed while the request is in flight: the client never hears from g1
    body = signer.order()
    answers = []
    t = threading.Thread(target=lambda: answers.append(_post(gw1, body)))
    t.start()
    time.sleep(0.01)
    p1.kill()
    t.join(30)
    retry = httpx.post(f"{gw2}/orders", json=body, timeout=20)
    assert retry.status_code == 200, retry.text
    again = httpx.post(f"{gw2}/orders", json=body, timeout=20).json()
    assert again["duplicate"] and again["oid"] == retry.json()["oid"] == first["oid"] + 1
    nxt = httpx.post(f"{gw2}/orders", json=signer.order(), timeout=20).json()
    assert nxt["oid"] == first["oid"] + 2  # executed once: the retry consumed no second oid


def _post(url, body):
    try:
        return httpx.post(f"{url}/orders", json=body, timeout=20).status_code
    except httpx.HTTPError as exc:
        return repr(exc)


def test_gateway_cut_from_nats_answers_503_then_recovers(cluster):
    cluster.engine("e1")
    _, gw_direct = cluster.gateway("g0")
    proxy = Proxy(("127.0.0.1", cluster.nats.nodes[0].client_port))
    try:
        _, gw = cluster.gateway("g1", proxy.url)
        signer = Signer(markets(gw_direct)[0])
        assert httpx.post(f"{gw}/orders", json=signer.order(), timeout=20).status_code == 200
        proxy.cut.set()
        started = time.monotonic()
        r = httpx.post(f"{gw}/orders", json=signer.order(), timeout=20)
        took = time.monotonic() - started
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "log_unavailable" and r.json()["message"]
        assert took < 5, took  # an answer with a reason, not a hang
        # once the client noticed, refusals are immediate
        time.sleep(3.5)
        r = httpx.post(f"{gw}/orders", json=signer.order(), timeout=20)
        assert r.status_code == 503 and "unreachable" in r.json()["message"], r.text
        proxy.cut.clear()
        deadline = time.monotonic() + 20
        while True:
            r = httpx.post(f"{gw}/orders", json=signer.order(), timeout=20)
            if r.status_code == 200:
                break
            assert time.monotonic() < deadline, r.text
            time.sleep(0.3)
    finally:
        proxy.close()
