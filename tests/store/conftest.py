"""Store fixtures: every contract test runs on SQLite and on PostgreSQL.

PostgreSQL is the session's `pg_url` (tests/conftest.py): a throwaway cluster of the installed
server, or the server BREAKWATER_TEST_PG_URL names. Each test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A URL for an empty store of each backend."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path}/journal.db"
        return
    base = request.getfixturevalue("pg_url")  # only now: SQLite runs never start a server
    import psycopg

    schema = f"bw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield _pg_schema_url(base, schema)
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
