"""Journal and snapshots for the engine: SQLite (WAL) by default, PostgreSQL by URL.

    store = open_store("sqlite:///var/lib/breakwater/journal.db")    # absolute path
    store = open_store("sqlite://var/journal.db?sync=normal")        # relative to the cwd
    store = open_store("postgresql://breakwater@db.internal/exchange")

See `base.Store` for the interface and each backend's module for its fsync policy.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from offchain.store.base import Snapshot, Store, StoreError

__all__ = ["Snapshot", "Store", "StoreError", "open_store"]

_SQLITE_OPTIONS = {"sync", "keep_snapshots"}


def open_store(url: str, *, keep_snapshots: int | None = None) -> Store:
    """Open (creating if needed) the store a URL names.

    `sqlite://<path>[?sync=full|normal|off][&keep_snapshots=N]`: everything between `sqlite://`
    and `?` is the file path, so `sqlite:///abs/file.db` is absolute and `sqlite://rel/file.db`
    is relative to the working directory. `postgresql://...` / `postgres://...`: a libpq URL,
    passed to psycopg as is.
    """
    if url.startswith("sqlite://"):
        from offchain.store.sqlite import SqliteStore

        path, _, query = url[len("sqlite://") :].partition("?")
        if not path:
            raise StoreError(f"{url!r}: no database file path after 'sqlite://'")
        options = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
        unknown = set(options) - _SQLITE_OPTIONS
        if unknown:
            raise StoreError(
                f"{url!r}: unknown sqlite option(s) {sorted(unknown)}; known: {sorted(_SQLITE_OPTIONS)}"
            )
        keep = keep_snapshots or _int_option(url, options, "keep_snapshots", 3)
        return SqliteStore(path, sync=options.get("sync", "full"), keep_snapshots=keep)
    if url.startswith(("postgresql://", "postgres://")):
        from offchain.store.postgres import PostgresStore

        return PostgresStore(url, keep_snapshots=keep_snapshots or 3)
    scheme = url.partition("://")[0] if "://" in url else url
    raise StoreError(f"unsupported store URL {scheme!r}: use sqlite://<path> or postgresql://...")


def _int_option(url: str, options: dict[str, str], name: str, default: int) -> int:
    if name not in options:
        return default
    try:
        return int(options[name])
    except ValueError:
        raise StoreError(f"{url!r}: option {name} must be an integer, got {options[name]!r}") from None
