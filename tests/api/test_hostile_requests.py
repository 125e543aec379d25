"""Hostile requests (issue 15.1, the API half): arbitrary JSON values in any field of the body of every
write route (found in the app's OpenAPI schema, so a new route is covered or this file fails), and
hostile path and query parameters on every read route, are answered 2xx or 4xx, never 5xx; a 4xx says
why in words with no Python exception text, and leaves the engine's `state_hash` exactly as it was;
the server answers a valid request afterwards.

The hostile value is signed again when it lands inside the signed message (so that it reaches the
route's own checks and the engine, not only the signature check), or sent under the old signature."""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import queue
import re
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from api_venue import DOMAIN, GENEROUS, MARKET_MAKER, SYMBOL, TRADER
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from offchain.api.app import create_app
from offchain.api.client import Client
from offchain.api.middleware import MAX_BODY_BYTES
from offchain.api.signing import sign
from offchain.chain.dlp import DlpDesk
from offchain.settings import DaemonSettings

_spec = importlib.util.spec_from_file_location(
    "_hostile_input", Path(__file__).resolve().parents[1] / "core" / "test_hostile_input.py"
)
_hostile_input = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_hostile_input)
json_values = _hostile_input.json_values  # the replay half's strategy: one JSON value, any shape

EXAMPLES = int(os.environ.get("HOSTILE_API_EXAMPLES", "400"))  # more for a longer hunt
_nonces = itertools.count(time.time_ns() // 1000 + 7_000_000_000)

DEEP = "[" * 20_000 + "]" * 20_000  # deep nesting, under the 64 KiB limit
# raw JSON text that json.dumps cannot write (or that a test would not build as an object)
RAW_TOKENS = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1" * 5000,  # a bare 5,000-digit number (past Python's int-digits limit)
    "-" + "9" * 4400,
    "1e999999999",
    "1e400",
    str(10**400),
    DEEP,
    '{"a":' * 9_000 + "1" + "}" * 9_000,
    "[" * (MAX_BODY_BYTES // 2 + 10) + "]" * (MAX_BODY_BYTES // 2 + 10),  # past the body limit: 413
    '"' + "9" * 5000 + '"',
    '"\\ud800"',  # a lone surrogate
]
RAW = "\x00raw\x00"  # a placeholder string in the body, replaced by a RAW_TOKENS entry in the text
DUP = "\x00dup\x00"  # a placeholder key, replaced by the name of a key already in that object

hostile_values = (
    json_values
    | st.sampled_from(
        [10**400, -(10**400), 2**256, 2**53 + 1, -1, "1e999999999", "9" * 5000, "0x" + "f" * 300]
    )
    | st.sampled_from(RAW_TOKENS).map(lambda token: (RAW, token))
)

# values of the right JSON type that pass the models' patterns and bounds, to reach the engine
DECIMALS = ["9" * 40, "9" * 40 + "." + "9" * 36, "0." + "0" * 35 + "1", "0", "00", "0.0", "1" + "0" * 39,
            "0.00001", "1.00000000000000000000000000000000001", "100000000000000000000"]  # fmt: skip
typed_values = {
    str: st.sampled_from(DECIMALS)
    | st.text(max_size=40)
    | st.sampled_from(
        ["", "USDC", "USDE", SYMBOL, "BTC-PERP", MARKET_MAKER.address, TRADER.address, "0x" + "0" * 40]
    ),
    int: st.sampled_from([0, 1, 2**256 - 1, 2**53, 2**53 - 1, 2**63, 10**40, 30 * 86_400, 51])
    | st.integers(min_value=0, max_value=2**256 - 1),
    bool: st.booleans(),
}


def value_for(original):
    """A hostile value for a place holding `original`: any JSON value, or one of its own type."""
    typed = typed_values.get(type(original))
    return hostile_values if typed is None else (hostile_values | typed | typed)


SKIP_READS = {"/metrics"}  # plain text, no parameters


@pytest.fixture
def app(service):
    """The API with an operator desk (the market maker is its operator), so `/ops/*` reach the engine."""
    desk = DlpDesk(service, DaemonSettings(operators=[MARKET_MAKER.address], dlp_min_bond={"USDC": "100"}))
    application = create_app(
        service, domain=DOMAIN, rate_limit=GENEROUS, flush_ms=20, status_ms=100, dlp_desk=desk
    )
    yield application
    application.state.close()
    application.state.nonces.close()


def stamp(message: dict) -> dict:
    return {**message, "nonce": next(_nonces), "expiry": int(time.time()) + 600}


def resting_order(market_maker: Client) -> dict:
    """A bid of the market maker's that rests, for the routes that name an order."""
    return market_maker.place_order(SYMBOL, "buy", "10", "0.9900")


def order_message(wallet) -> dict:
    return stamp(
        {
            "account": wallet.address,
            "symbol": SYMBOL,
            "side": "buy",
            "type": "limit",
            "price": "0.9901",
            "qty": "10",
            "tif": "GTC",
            "client_id": f"h-{next(_nonces)}",
            "post_only": False,
            "reduce_only": False,
            "stp": "cancel_maker",
        }
    )


def batch_item() -> dict:
    msg = order_message(TRADER)
    return {k: msg[k] for k in ("symbol", "side", "type", "price", "qty", "tif", "client_id", "post_only",
                                "reduce_only", "stp")}  # fmt: skip


# (method, route) -> build(market_maker) -> (path, wrapper key, EIP-712 primary type, message)
def _cancel(by: str):
    def build(mm):
        placed = resting_order(mm)
        if by == "oid":
            path, msg = f"/orders/{placed['oid']}", {"oid": placed["oid"], "client_id": ""}
        else:
            path, msg = (
                f"/orders/by-client-id/{placed['client_id']}",
                {"oid": 0, "client_id": placed["client_id"]},
            )
        return path, "cancel", "Cancel", stamp({"account": MARKET_MAKER.address, **msg})

    return build


def _amend(by: str):
    def build(mm):
        path, _, _, msg = _cancel(by)(mm)
        return path, "amend", "Amend", {**msg, "price": "0.9902", "qty": "9"}

    return build


TEMPLATES = {
    ("POST", "/orders"): lambda mm: ("/orders", "order", "Order", order_message(TRADER)),
    ("POST", "/orders/batch"): lambda mm: (
        "/orders/batch",
        "batch",
        "OrderBatch",
        stamp({"account": TRADER.address, "orders": [batch_item(), batch_item()]}),
    ),
    ("POST", "/orders/cancel-batch"): lambda mm: (
        "/orders/cancel-batch",
        "batch",
        "CancelBatch",
        stamp(
            {
                "account": MARKET_MAKER.address,
                "cancels": [
                    {"oid": resting_order(mm)["oid"], "client_id": ""},
                    {"oid": 0, "client_id": "nope"},
                ],
            }
        ),
    ),
    ("DELETE", "/orders/{oid}"): _cancel("oid"),
    ("DELETE", "/orders/by-client-id/{client_id}"): _cancel("client_id"),
    ("PATCH", "/orders/{oid}"): _amend("oid"),
    ("PATCH", "/orders/by-client-id/{client_id}"): _amend("client_id"),
    ("POST", "/withdrawals"): lambda mm: (
        "/withdrawals",
        "withdraw",
        "Withdraw",
        stamp({"account": TRADER.address, "asset": "USDC", "amount": "1"}),
    ),
    ("POST", "/accounts/{account}/lending"): lambda mm: (
        f"/accounts/{TRADER.address}/lending",
        "lend",
        "Lend",
        stamp({"account": TRADER.address, "asset": "USDC", "enabled": False}),
    ),
    ("POST", "/ops/designations"): lambda mm: (
        "/ops/designations",
        "designation",
        "Designation",
        stamp(
            {
                "account": MARKET_MAKER.address,
                "participant": TRADER.address,
                "role": "dlp",
                "designated": True,
                "bond_asset": "USDC",
                "bond": "100",
            }
        ),
    ),
    ("POST", "/ops/makers"): lambda mm: (
        "/ops/makers",
        "designation",
        "MakerDesignation",
        stamp(
            {
                "account": MARKET_MAKER.address,
                "participant": TRADER.address,
                "symbol": SYMBOL,
                "designated": True,
                "min_notional": "1000",
                "levels": 2,
                "max_spread": "0.01",
                "share": "0.5",
                "period": 60,
            }
        ),
    ),
}
KEYS = {MARKET_MAKER.address: MARKET_MAKER.key, TRADER.address: TRADER.key}


def routes(app, writes: bool) -> list[tuple[str, str, dict]]:
    out = []
    for path, ops in sorted(app.openapi()["paths"].items()):
        for method, op in sorted(ops.items()):
            if (method.upper() in ("POST", "PATCH", "DELETE", "PUT")) == writes:
                out.append((method.upper(), path, op))
    return out


def paths_of(obj, prefix=()):
    """Every place in `obj` a value can go: the whole of it, each member, and a new key in each object."""
    yield prefix
    if isinstance(obj, dict):
        yield (*prefix, "extra")
        yield (*prefix, DUP)
        for key, value in obj.items():
            yield from paths_of(value, (*prefix, key))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from paths_of(value, (*prefix, i))


def get(obj, path):
    for step in path:
        try:
            obj = obj[step]
        except (KeyError, IndexError, TypeError):
            return None
    return obj


def put(obj, path, value):
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(obj, dict):
        out = dict(obj)
        out[head] = put(obj.get(head), rest, value) if rest else value
        return out
    out = list(obj)
    out[head] = put(obj[head], rest, value)
    return out


def encode(body, dup_of: str) -> bytes:
    """The body's JSON text, with the placeholders replaced: raw tokens, and a duplicated key."""
    raw = []

    def swap(value):
        if isinstance(value, tuple) and len(value) == 2 and value[0] == RAW:
            raw.append(value[1])
            return RAW
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    text = json.dumps(swap(body), allow_nan=True)
    for token in raw:
        text = text.replace(json.dumps(RAW), token, 1)
    text = text.replace(json.dumps(DUP), json.dumps(dup_of))
    return text.encode("utf-8", "surrogatepass")


TRACEBACK = re.compile(r"Traceback|File \"|\b[A-Z]\w*(Error|Exception)\b|<class |object at 0x")


def assert_clean_answer(response, before_hash: str, service, what) -> None:
    status = response.status_code
    assert status < 500, (what, status, response.text[:500])
    if 400 <= status < 500:
        body = response.json()
        assert isinstance(body.get("code"), str) and body["code"], (what, body)
        message = body.get("message")
        assert isinstance(message, str) and re.search(r"[a-z]{3}", message), (what, body)
        assert not TRACEBACK.search(message), (what, body)
        assert service.runner.state_hash() == before_hash, (what, status, body)
    else:
        service.engine.snapshot()  # whatever it accepted, the engine can still be snapshotted


def still_answers(http) -> None:
    assert http.get(f"/book/{SYMBOL}").status_code == 200
    assert http.get("/status").status_code == 200


# -- the tests -------------------------------------------------------------------------------------


def test_every_write_route_has_a_valid_request(app):
    assert {(m, p) for m, p, _ in routes(app, writes=True)} <= set(TEMPLATES)


def test_every_write_routes_valid_request_is_accepted(app, http, market_maker):
    for method, route, _ in routes(app, writes=True):
        path, key, primary, msg = TEMPLATES[(method, route)](market_maker)
        body = {key: msg, "signature": sign(DOMAIN, primary, msg, KEYS[msg["account"]])}
        response = http.request(method, path, json=body)
        if route == "/ops/makers" and response.status_code == 404:  # the test venue has no maker module
            assert response.json()["code"] == "unknown_command", response.text
            continue
        assert response.status_code == 200, (method, path, response.text)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
# found by this test: 20,000 nested brackets made the fast path's json.loads raise RecursionError (a 500)
@example(route=("POST", "/orders"), where=("order", "price"), value=(RAW, DEEP), resign=False, data=None)
@example(route=("POST", "/orders/batch"), where=(), value=(RAW, DEEP), resign=False, data=None)
@given(
    route=st.sampled_from(sorted(TEMPLATES)),
    where=st.integers(min_value=0, max_value=10**6),
    value=st.none(),
    resign=st.booleans(),
    data=st.data(),
)
def test_any_json_value_in_any_field_of_any_write_is_refused_cleanly_or_accepted(
    app, http, service, market_maker, route, where, value, resign, data
):
    """`where`: a place in the valid body (an index into `paths_of`, or the path itself); `resign`: sign
    the hostile message again so that it gets past the signature check."""
    method = route[0]
    path, key, primary, msg = TEMPLATES[route](market_maker)
    body = {key: msg, "signature": sign(DOMAIN, primary, msg, KEYS[msg["account"]])}
    if isinstance(where, int):
        places = list(paths_of(body)) + ([("@path",)] if "{" in route else [])
        # the signed message's own fields, twice as often: what gets past the models reaches the engine
        places += [p for p in places if len(p) >= 2 and p[0] == key and p[-1] not in ("extra", DUP)] * 2
        where = places[where % len(places)]
    if where == ("@path",):  # the order (or account) the path names, with the valid body
        if value is None:
            value = data.draw(hostile_params, label="value")
        head = route.split("{")[0]
        path, hostile = head + quote(str(value), safe=""), body
    else:
        if value is None:
            value = data.draw(value_for(get(body, where)), label="value")
        hostile = put(body, where, value)
    parent = body if len(where) == 1 else (body.get(where[0]) if len(where) == 2 else None)
    dup_of = next((k for k in parent if k != where[-1]), "signature") if isinstance(parent, dict) else "x"
    if resign and len(where) >= 2 and where[0] == key and isinstance(hostile.get(key), dict):
        try:
            hostile["signature"] = sign(DOMAIN, primary, hostile[key], KEYS[msg["account"]])
        except Exception:
            pass  # not signable: it goes with the old signature
    before = service.runner.state_hash()
    content = encode(hostile, dup_of)
    response = http.request(method, path, content=content, headers={"content-type": "application/json"})
    assert_clean_answer(response, before, service, (method, path, where, value))
    still_answers(http)


hostile_params = (
    st.text(max_size=30)
    | st.sampled_from(["1e999999999", "9" * 5000, "-1", "0", str(10**400), "NaN", "Infinity", "..", "../..",
                       "%00", "\x00", "0x" + "f" * 40, TRADER.address, SYMBOL, "1m", "-" + "9" * 30])
    | st.integers(min_value=-(10**40), max_value=10**40).map(str)
)  # fmt: skip


@settings(
    max_examples=EXAMPLES * 3 // 4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_hostile_path_and_query_parameters_on_every_read_are_refused_cleanly(
    app, http, service, trader, data
):
    reads = [(m, p, op) for m, p, op in routes(app, writes=False) if p not in SKIP_READS]
    method, route, op = data.draw(st.sampled_from(reads))
    path, params = route, {}
    for param in op.get("parameters", []):
        if param["in"] == "path":
            path = path.replace("{" + param["name"] + "}", quote(data.draw(hostile_params), safe=""))
        elif param["in"] == "query" and data.draw(st.booleans()):
            params[param["name"]] = data.draw(hostile_params)
    if data.draw(st.booleans()):
        params[data.draw(st.text(min_size=1, max_size=8))] = data.draw(hostile_params)
    headers = data.draw(
        st.sampled_from([{}, trader.auth_headers()])
        | hostile_params.map(lambda token: {"Authorization": f"Bearer {token}".encode()})
        | st.tuples(hostile_params, hostile_params, hostile_params).map(
            lambda t: {"Authorization": f"Bearer {TRADER.address}.{t[0]}.{t[1]}.0x{t[2]}".encode()}
        )
    )
    before = service.runner.state_hash()
    response = http.request(method, path, params=params, headers=headers)
    if response.status_code == 404 and not response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        pytest.fail(f"{path}: a 404 that is not an error body: {response.text[:200]}")
    assert_clean_answer(response, before, service, (method, path, params))
    still_answers(http)


def test_a_valid_order_is_placed_after_the_hostile_ones(http, trader):
    assert trader.place_order(SYMBOL, "buy", "10", "0.9901")["status"] == "open"


# -- order entry over the WebSocket: the same messages, and hostile frames ---------------------------
WS_OPS = {"order": ("POST", "/orders"), "cancel": ("DELETE", "/orders/{oid}"),
          "order_batch": ("POST", "/orders/batch"), "cancel_batch": ("POST", "/orders/cancel-batch")}  # fmt: skip


def probe(op_id: str) -> dict:
    """A valid signed cancel of an order that does not exist: through the sequencer, refused, no change."""
    msg = stamp({"account": TRADER.address, "oid": 0, "client_id": "no-such-order"})
    return {"op": "cancel", "id": op_id, "cancel": msg, "signature": sign(DOMAIN, "Cancel", msg, TRADER.key)}


def receive(ws, timeout_s: float = 20.0) -> dict:
    """The next frame; a connection whose handler died answers nothing, which fails here, not hangs."""
    box: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: box.put(ws.receive_json()), daemon=True).start()
    try:
        return box.get(timeout=timeout_s)
    except queue.Empty:
        pytest.fail(f"the /ws connection stopped answering for {timeout_s}s (its handler raised?)")


def answered(ws, op_id: str) -> list[dict]:
    """Every frame up to and including the answer to `op_id`."""
    frames = []
    while True:
        frame = receive(ws)
        frames.append(frame)
        if frame.get("channel") == "orders" and frame.get("data", {}).get("id") == op_id:
            return frames


@settings(
    max_examples=EXAMPLES // 4,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(
    op=st.sampled_from(sorted(WS_OPS)),
    where=st.integers(min_value=0, max_value=10**6),
    value=st.none(),
    resign=st.booleans(),
    data=st.data(),
)
def test_any_json_value_in_any_field_of_a_websocket_order_entry_message_is_answered_cleanly(
    http, service, market_maker, op, where, value, resign, data
):
    path, key, primary, msg = TEMPLATES[WS_OPS[op]](market_maker)
    frame = {
        "op": op,
        "id": "hostile",
        key: msg,
        "signature": sign(DOMAIN, primary, msg, KEYS[msg["account"]]),
    }
    if isinstance(where, int):
        places = list(paths_of(frame))
        places += [p for p in places if len(p) >= 2 and p[0] == key and p[-1] not in ("extra", DUP)] * 2
        where = places[where % len(places)]
    if value is None:
        value = data.draw(value_for(get(frame, where)), label="value")
    hostile = put(frame, where, value)
    if resign and len(where) >= 2 and where[0] == key and isinstance(hostile.get(key), dict):
        try:
            hostile["signature"] = sign(DOMAIN, primary, hostile[key], KEYS[msg["account"]])
        except Exception:
            pass
    text = encode(hostile, "op").decode("utf-8", "surrogatepass")
    with http.websocket_connect("/ws?channels=none") as ws:
        before = service.runner.state_hash()
        ws.send_text(text)
        ws.send_json(probe("probe"))
        frames = answered(ws, "probe")
        assert frames[-1]["data"]["code"] == "unknown_order", frames[-1]
        mine = [f for f in frames[:-1] if f.get("channel") in ("orders", "error")]
        for f in mine:
            words = f["data"].get("message", "")
            assert f["data"].get("code") != "internal", (where, value, f)
            assert not TRACEBACK.search(words), (where, value, f)
        if mine and all(f.get("type") in ("error", "bad_request") for f in mine):
            assert service.runner.state_hash() == before, (where, value, mine)


@settings(max_examples=EXAMPLES // 4, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
# found by this test: an op that is a list or an object (unhashable), an account that is not a string
# and nesting past the parser raised out of the /ws handler and killed the connection
@example(value=["order"], op="ping", shape=1)
@example(value=1, op="subscribe", shape=3)
@example(value=(RAW, DEEP), op="ping", shape=0)
@given(
    value=hostile_values,
    op=st.sampled_from(["subscribe", "unsubscribe", "ping", "order", "nope"]),
    shape=st.integers(min_value=0, max_value=5),
)
def test_hostile_websocket_frames_leave_the_connection_answering(http, service, value, op, shape):
    frame = [
        value,
        {"op": value},
        {"op": op, "channels": value},
        {"op": op, "channels": ["account"], "account": value},
        {"op": op, "channels": ["account"], "account": TRADER.address, "session": value},
        {"op": op, "id": value},
    ][shape]
    with http.websocket_connect("/ws?channels=none") as ws:
        before = service.runner.state_hash()
        ws.send_text(encode(frame, "op").decode("utf-8", "surrogatepass"))
        ws.send_json(probe("probe"))
        frames = answered(ws, "probe")
        for f in frames:
            assert (f.get("data") or {}).get("code") != "internal", (frame, f)
        assert service.runner.state_hash() == before, (frame, frames)


@settings(max_examples=EXAMPLES // 8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    channels=st.none() | hostile_params,
    account=st.none() | hostile_params,
    session=st.none()
    | hostile_params
    | st.tuples(hostile_params, hostile_params).map(lambda t: f"{TRADER.address}.{t[0]}.{t[1]}.0x00"),
)
def test_hostile_websocket_query_parameters_leave_the_connection_answering(
    http, service, channels, account, session
):
    params = {
        k: v for k, v in (("channels", channels), ("account", account), ("session", session)) if v is not None
    }
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    before = service.runner.state_hash()
    with http.websocket_connect(f"/ws?{query}") as ws:
        ws.send_json(probe("probe"))
        frames = answered(ws, "probe")
        for f in frames:
            assert (f.get("data") or {}).get("code") != "internal", (params, f)
    assert service.runner.state_hash() == before, params


@settings(max_examples=EXAMPLES // 8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    route=st.sampled_from(sorted(TEMPLATES)),
    size=st.sampled_from([0, 1, 1000, MAX_BODY_BYTES - 1, MAX_BODY_BYTES + 1, 4 * MAX_BODY_BYTES]),
    chunked=st.booleans(),
    content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]),
)
def test_odd_bodies_sizes_and_content_types_on_every_write_are_refused_cleanly(
    http, service, market_maker, route, size, chunked, content_type
):
    method = route[0]
    path, key, primary, msg = TEMPLATES[route](market_maker)
    text = json.dumps({key: msg, "signature": sign(DOMAIN, primary, msg, KEYS[msg["account"]]), "pad": ""})
    content = (text[:-2] + "x" * max(0, size - len(text)) + '"}').encode() if size else b""
    body = iter([content[i : i + 8192] for i in range(0, len(content), 8192)]) if chunked else content
    headers = {"content-type": content_type} if content_type else {}
    before = service.runner.state_hash()
    response = http.request(method, path, content=body, headers=headers)
    assert_clean_answer(response, before, service, (method, path, size, chunked, content_type))
    if size > MAX_BODY_BYTES:
        assert response.status_code == 413, response.text
    still_answers(http)
