"""An exchange behind the API: a journaled engine in a temporary SQLite file (see `api_venue`)."""

from __future__ import annotations

import pytest
from api_venue import (
    DOMAIN,
    GENEROUS,
    GENESIS,
    IMPOSTOR,
    MARKET_MAKER,
    TRADER,
    Clock,
    TestClient,
    open_service,
    submit,
)

from offchain.api.app import create_app
from offchain.api.client import Client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def journal_path(tmp_path):
    return tmp_path / "journal.db"


@pytest.fixture
def service(journal_path, clock):
    svc = open_service(journal_path, clock)
    for wire in GENESIS:
        events = submit(svc, **wire)
        assert not [e for e in events if e.EVENT == "rejected"], (wire, events)
    yield svc
    svc.runner.close()


@pytest.fixture
def app(service):
    application = create_app(service, domain=DOMAIN, rate_limit=GENEROUS, flush_ms=20, status_ms=100)
    yield application
    application.state.close()
    application.state.nonces.close()


@pytest.fixture
def http(app):
    with TestClient(app) as client:
        yield client


@pytest.fixture
def market_maker(http) -> Client:
    return Client("http://testserver", MARKET_MAKER.key, domain=DOMAIN, http=http)


@pytest.fixture
def trader(http) -> Client:
    return Client("http://testserver", TRADER.key, domain=DOMAIN, http=http)


@pytest.fixture
def impostor(http) -> Client:
    return Client("http://testserver", IMPOSTOR.key, domain=DOMAIN, http=http)
