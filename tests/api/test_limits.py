"""Request bodies above 64 KiB are refused with 413 before they are parsed; a batch-sized body passes
the limit; a malformed address anywhere is a 4xx with a reason."""

from __future__ import annotations

import pytest
from api_venue import DOMAIN, TRADER, TestClient

from offchain.api.app import create_app
from offchain.api.middleware import MAX_BODY_BYTES
from offchain.api.ratelimit import RateLimit


@pytest.mark.parametrize("size", [1_000_000, 10_000_000])
def test_a_huge_body_is_refused_with_413_before_parsing(http, size):
    response = http.post(
        "/orders", content=b"{" + b" " * size + b"}", headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert "65536 bytes" in response.json()["message"]


def test_a_streamed_body_without_length_is_cut_at_the_limit(http):
    def chunks():
        for _ in range(200):  # 200 x 8 KiB = 1.6 MB, no Content-Length
            yield b" " * 8192

    response = http.post("/orders", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


def test_a_body_under_the_limit_is_parsed(http):
    body = b'{"junk": "' + b"x" * (MAX_BODY_BYTES - 100) + b'"}'
    response = http.post("/orders", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422  # parsed, and refused for what it says
    assert response.json()["code"] == "bad_request"


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/notanaddress",
        "/accounts/0x1234",
        "/orders?account=notanaddress",
        "/withdrawals?account=0xZZ97970C51812dc3A010C7d01b50e0d17dc79C8",
        f"/por/proof/0x1234?nonce=1&expiry=1&signature=0x&account={TRADER.address}",
    ],
)
def test_a_malformed_address_is_a_4xx_with_a_reason(http, path):
    response = http.get(path)
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    assert body["code"] == "bad_request"
    assert "account" in body["message"] or "address" in body["message"]


def test_a_well_formed_address_still_reads(http, trader):
    assert http.get(f"/accounts/{TRADER.address}", headers=trader.auth_headers()).status_code == 200


def test_successful_responses_carry_the_rate_limit_headers(service):
    app = create_app(service, domain=DOMAIN, rate_limit=RateLimit(ip_per_s=1, ip_burst=5), static_dir=None)
    try:
        with TestClient(app) as http:
            first, second = http.get("/markets"), http.get("/markets")
            assert first.status_code == second.status_code == 200
            assert first.headers["X-RateLimit-Limit"] == "5"
            assert first.headers["X-RateLimit-Remaining"] == "4"
            assert second.headers["X-RateLimit-Remaining"] == "3"
            assert 1 <= int(second.headers["X-RateLimit-Reset"]) <= 3
            assert "X-RateLimit-Limit" not in http.get("/book/NOPE").headers  # errors do not carry them
    finally:
        app.state.close()
        app.state.nonces.close()
