"""Store fixtures: every contract test runs on SQLite, and on PostgreSQL when a server is given.

Set BREAKWATER_TEST_PG_URL (e.g. `postgresql://postgres@127.0.0.1/postgres`) to include
PostgreSQL; each test then gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import quote

import pytest

PG_URL_ENV = "BREAKWATER_TEST_PG_URL"


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A URL for an empty store of each backend."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path}/journal.db"
        return
    base = os.environ.get(PG_URL_ENV)
    if not base:
        pytest.skip(f"PostgreSQL store tests need a server: set {PG_URL_ENV}=postgresql://...")
    import psycopg

    schema = f"bw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield _pg_schema_url(base, schema)
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
