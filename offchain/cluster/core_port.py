"""The engine core as the cluster layer sees it: every import of offchain.core lives here.

A move of the core's modules is re-pointed by editing this file alone.
"""

from __future__ import annotations

from offchain.core.build import build_engine, restore_engine
from offchain.core.engine import Engine
from offchain.core.messages import commands as C
from offchain.core.messages.codec import (
    CommandFormatError,
    event_to_dict,
    format_price,
    format_qty,
    format_units,
    parse_command,
)

__all__ = [
    "C",
    "CommandFormatError",
    "Engine",
    "build_engine",
    "restore_engine",
    "event_to_dict",
    "format_price",
    "format_qty",
    "format_units",
    "parse_command",
]
