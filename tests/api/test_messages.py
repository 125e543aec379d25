"""Issue 14.11: what the API says when it refuses something is in plain words and in the decimal units
of the market or asset (never atoms, a tick of "100", a lot of 10^18 or a reference of 999000), and no
exception text ever reaches a client: an internal error is a generic 500 with a request id, the
detail in the log."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from api_venue import DOMAIN, GENEROUS, SYMBOL, TRADER, TestClient

from offchain.api import messages, views
from offchain.api.app import create_app
from offchain.api.client import ApiError, Client

CORE = Path(__file__).resolve().parents[2] / "offchain" / "core"


def core_rejection_codes() -> set[str]:
    """Every rejection code the core can emit: its `RejectCode` enum when it has one, else its source."""
    try:
        from offchain.core.codes import RejectCode  # the core's str-enum (same string values)
    except ImportError:
        RejectCode = None  # noqa: N806
    if RejectCode is not None:
        return {str(getattr(c, "value", c)) for c in RejectCode}
    codes = set()
    for path in CORE.rglob("*.py"):
        text = path.read_text()
        codes |= set(re.findall(r'reject\(\s*cmd,\s*"([a-z][a-z0-9_]+)"', text))
        codes |= set(re.findall(r'return \(?\s*"([a-z][a-z0-9_]+)",\s*f?"', text))
        codes |= set(re.findall(r'return \(\n\s*"([a-z][a-z0-9_]+)",\n', text))
        codes |= set(re.findall(r'Error\(\s*"([a-z][a-z0-9_]+)",', text))
    return codes


def test_every_rejection_code_of_the_core_has_a_message():
    codes = core_rejection_codes()
    assert {"bad_tick", "bad_lot", "insufficient_balance", "price_out_of_band"} <= codes
    missing = sorted(codes - set(messages.MESSAGES))
    assert not missing, f"no client message for {missing}"


# What the engine would say about a sample order, in atoms: every figure here is one a client must
# never see. The sample is the trader's buy of 10.5 USDE at 0.99905 on the test venue (tick 0.0001
# USDC = 100 atoms, lot 1 USDE = 10^18 atoms, reference 0.999 = 999000 atoms).
RAW = ["100", "1000000000000000000", "999000", "1000798200000", "100000000000", "2000000000000000000000000"]
ENGINE_SAYS = (
    "needs 1000798200000 USDC atoms free, has 100000000000; the tick 100, the lot 1000000000000000000, "
    "the reference 999000, position 2000000000000000000000000 (withdrawals are paused)"
)


def whole_numbers(text: str) -> set[str]:
    """The integers in `text` that are not part of a decimal number or an address."""
    text = re.sub(r"0x[0-9a-fA-F]+", "", text)
    return set(re.findall(r"(?<![\d.])\d+(?![\d.])", text))


@pytest.mark.parametrize("code", sorted(set(messages.MESSAGES) | core_rejection_codes()))
def test_every_message_is_in_decimal_units_for_a_sample_order(service, code):
    request = {
        "symbol": SYMBOL,
        "side": "buy",
        "price": "0.99905",
        "qty": "10.5",
        "client_id": "t-1",
        "asset": "USDC",
        "amount": "250.5",
    }
    text = messages.explain(service.engine, code, ENGINE_SAYS, request, TRADER.address)
    assert text
    assert not whole_numbers(text) & set(RAW), text
    assert "atoms" not in text and "Traceback" not in text and "Error" not in text
    # and the same without any context (the WebSocket's account channel knows only the code and ref)
    bare = messages.explain(service.engine, code, ENGINE_SAYS, {"ref": "t-1"}, TRADER.address)
    assert not whole_numbers(bare) & set(RAW), bare


def test_a_code_keyed_by_an_enum_member_reads_the_same(service):
    import enum

    class Code(enum.StrEnum):
        bad_tick = "bad_tick"

    request = {"symbol": SYMBOL, "price": "0.99905"}
    assert messages.explain(service.engine, Code.bad_tick, "", request) == messages.explain(
        service.engine, "bad_tick", "", request
    )


def test_an_unknown_code_is_worded_from_its_name_never_from_the_engines_atoms(service):
    text = messages.explain(service.engine, "brand_new_code", "needs 1000798200000 USDC atoms", {})
    assert text == "refused: brand new code"


# -- through the API -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order", "code", "says"),
    [
        (("buy", "10", "0.99905"), "bad_tick", "steps of 0.0001 USDC"),
        (("buy", "10.5", "0.9990"), "bad_lot", "steps of 1 USDE"),
        (("buy", "10", "1.5"), "price_out_of_band", "reference price 0.999 USDC"),
        (("buy", "1000000", "0.9990"), "insufficient_balance", "100000 USDC is free"),
        (("sell", "100000000", "0.9990"), "insufficient_balance", "needs 100000000 USDE"),
    ],
)
def test_an_order_refusal_speaks_decimal_units(trader, order, code, says):
    side, qty, price = order
    with pytest.raises(ApiError) as refused:
        trader.place_order(SYMBOL, side, qty, price)
    assert refused.value.code == code
    assert says in refused.value.message, refused.value.message
    assert not whole_numbers(refused.value.message) & set(RAW), refused.value.message
    assert "atoms" not in refused.value.message


def test_a_withdrawal_refusal_speaks_decimal_units(trader):
    with pytest.raises(ApiError) as refused:
        trader.withdraw("USDC", "1000000")
    assert refused.value.code == "insufficient_balance"
    assert "needs 1000000 USDC and 100000 USDC is free" in refused.value.message
    assert "atoms" not in refused.value.message


def test_the_account_channel_words_its_rejections_too(http, trader):
    url = f"/ws?channels=account:{TRADER.address}&session={trader.session()}"
    with http.websocket_connect(url) as ws:
        with pytest.raises(ApiError):
            trader.place_order(SYMBOL, "buy", "10", "0.99905")
        for _ in range(100):
            message = ws.receive_json()
            if message["type"] == "rejected":
                break
        assert message["data"]["code"] == "bad_tick"
        assert "100" not in whole_numbers(message["data"]["message"])
        assert "tick" in message["data"]["message"]


def test_a_request_that_does_not_parse_is_refused_in_plain_words(http):
    cases = {
        b"{not json": "not valid JSON",
        b"[1, 2]": "must be a JSON object",
    }
    for body, says in cases.items():
        response = http.post("/orders", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422 and says in response.json()["message"], response.text
    assert "is not an address" in http.get("/accounts/0x1234").json()["message"]


def test_an_undecodable_signature_is_refused_without_exception_text(http, trader):
    body = trader.signed_order(SYMBOL, "buy", "10", "0.9990")
    for signature in ("0x" + "zz" * 65, "0x1234", "0x" + "00" * 65):
        body["signature"] = signature
        response = http.post("/orders", json=body)
        assert response.status_code in (401, 422), response.text
        text = response.json()["message"]
        assert "fromhex" not in text and "out of range" not in text and "got " not in text, text


def test_a_provoked_internal_error_returns_no_exception_text(service, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise IndexError("list index out of range")

    monkeypatch.setattr(views, "account_view", broken)
    app = create_app(service, domain=DOMAIN, rate_limit=GENEROUS, static_dir=None)
    try:
        with TestClient(app, raise_server_exceptions=False) as http:
            trader = Client("http://testserver", TRADER.key, domain=DOMAIN, http=http)
            with caplog.at_level(logging.ERROR, logger="offchain.api.app"):
                response = http.get(f"/accounts/{TRADER.address}", headers=trader.auth_headers())
    finally:
        app.state.close()
        app.state.nonces.close()
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "internal"
    assert "index out of range" not in response.text and "IndexError" not in response.text
    assert "Traceback" not in response.text
    request_id = body["request_id"]
    assert response.headers["X-Request-ID"] == request_id and request_id in body["message"]
    # the detail is in the log, under the same id
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged and logged[0].exc_info and "index out of range" in str(logged[0].exc_info[1])
