"""Commands and events as JSON-able dicts, and the wire parser for scenario and API commands.

Two forms:
- the *journal* form (`command_to_dict`/`command_from_dict`, `event_to_dict`/`event_from_dict`): the
  dataclass fields as they are (integers), plus `"cmd"` or `"event"`. Lossless and engine-independent.
- the *wire* form (`parse_command(d, engine)`): what scenario files and the API send — `t` in seconds,
  amounts and prices as decimal strings, `id` for the client order id (SPEC §4), scaled with the
  engine's asset and market registry (see `wire.py`).

This module knows every message of every part: it imports the core's and each module's message
file below, so `parse_command({"cmd": "dlp", ...})` and `command_from_dict` work whatever else has
been imported. A new command: its dataclass and wire parser in `messages/<part>.py`, listed here.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from typing import Any

# every message file, listed once: importing them fills COMMANDS, EVENTS and WIRE_PARSERS
from offchain.core.messages import breaker as _breaker_messages  # noqa: F401
from offchain.core.messages import makers as _makers_messages  # noqa: F401
from offchain.core.messages import risk as _risk_messages  # noqa: F401
from offchain.core.messages import treasury as _treasury_messages  # noqa: F401
from offchain.core.messages.commands import COMMANDS
from offchain.core.messages.events import EVENTS
from offchain.core.messages.wire import (  # noqa: F401  (the codec's public names)
    WIRE_PARSERS,
    CommandFormatError,
    _Reader,
    format_price,
    format_qty,
    format_units,
    parse_ts,
    scale,
    to_decimal,
)

MESSAGE_FILES = ("commands", "events", "wire", "risk", "breaker", "treasury", "makers")


# -- journal form ----------------------------------------------------------------------------------
def command_to_dict(cmd: Any) -> dict:
    """Return a command as a JSON-able dict: `{"cmd": name, field: value, ...}`."""
    return _to_dict(cmd, "cmd", cmd.CMD)


def command_from_dict(d: dict) -> Any:
    """Rebuild a command from `command_to_dict` output."""
    return _from_dict(d, "cmd", "command", COMMANDS, CommandFormatError)


def event_to_dict(event: Any) -> dict:
    """Return an event as a JSON-able dict: `{"event": name, field: value, ...}`."""
    return _to_dict(event, "event", event.EVENT)


def event_from_dict(d: dict) -> Any:
    """Rebuild an event from `event_to_dict` output."""
    return _from_dict(d, "event", "event", EVENTS, ValueError)


# field names per class: `dataclasses.fields` rebuilds its tuple on every call, and every command
# journaled and every event published goes through here
_FIELD_NAMES: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple]]] = {}


def _to_dict(obj: Any, key: str, name: str) -> dict:
    known = _FIELD_NAMES.get(obj.__class__)
    if known is None:
        names = tuple(f.name for f in dataclasses.fields(obj))
        read = (
            operator.attrgetter(*names)
            if len(names) > 1
            else (lambda o, n=names: tuple(getattr(o, f) for f in n))
        )
        known = _FIELD_NAMES[obj.__class__] = (names, read)
    d = {key: name}
    d.update(zip(known[0], known[1](obj), strict=True))
    return d


def _from_dict(d: dict, key: str, what: str, registry: dict, error: type[Exception]) -> Any:
    """Rebuild a known dataclass from its dict (every module's messages are imported above)."""
    d = dict(d)
    name = d.pop(key, None)
    cls = registry.get(name)
    if cls is None:
        raise error(f"unknown {what} {name!r}")
    return cls(**d)


# -- wire form -----------------------------------------------------------------------------------
def parse_command(d: dict, engine: Any) -> Any:
    """Turn a scenario/API dict into a command, scaling decimal strings with `engine`'s registry."""
    if not isinstance(d, dict):
        raise CommandFormatError(f"a command is a JSON object, got {type(d).__name__}")
    name = d.get("cmd")
    parser = WIRE_PARSERS.get(name) if isinstance(name, str) else None
    if parser is None:
        raise CommandFormatError(f"unknown command {name!r}")
    ts = parse_ts(d)
    r = _Reader(d)
    cmd = parser(r, ts, engine)
    r.done()
    return cmd
