"""The replicated log: stream, bucket and subject names, the command envelope, connect and ensure.

- `BW_CMD` (subjects `bw.cmd.<group>`): the commands. Its stream sequence is the journal order; a
  command's `Nats-Msg-Id` is its request id (`account:nonce` for signed requests, the `ref` of a
  deposit), so the stream's duplicate window drops a second publish of the same request and
  answers it with the first one's sequence.
- `BW_EVT` (subjects `bw.res.<seq>`, `bw.alert.<replica>`): what the leader engine publishes, one
  result per command sequence, with `Nats-Msg-Id` `res:<seq>` (a new leader republishing a result
  the old one had already published is dropped as a duplicate).
- KV `bw_lease` (TTL = the lease): key `leader`, the leading replica's id.
- KV `bw_hash`: `s<seq>` -> the state hash the first replica reached at that snapshot mark.
- KV `bw_state`: `markets` (the markets view, for gateways), `status`, `replica.<id>`.
- Object store `bw_snap`: `latest`, the newest snapshot (sequence, hash, engine state, dedup ids).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

CMD_STREAM = "BW_CMD"
EVT_STREAM = "BW_EVT"
CMD_SUBJECTS = "bw.cmd.>"
LEASE_BUCKET = "bw_lease"
HASH_BUCKET = "bw_hash"
STATE_BUCKET = "bw_state"
SNAP_BUCKET = "bw_snap"
LEASE_KEY = "leader"
SNAP_NAME = "latest"
DUPLICATE_WINDOW_S = 120.0
DEFAULT_LEASE_S = 2.0
SYSTEM_GROUP = "sys"
_TOKEN = re.compile(r"[^A-Za-z0-9_-]")


def group_of(symbol: str | None) -> str:
    """The market group a command's subject names (one group per market here; sys: no market)."""
    return _TOKEN.sub("_", symbol) if symbol else SYSTEM_GROUP


def cmd_subject(symbol: str | None) -> str:
    return f"bw.cmd.{group_of(symbol)}"


def res_subject(seq: int) -> str:
    return f"bw.res.{seq}"


def envelope(wire: dict, ts: int, req_id: str = "", expiry_s: int = 0) -> bytes:
    """A command as published: the wire form (decimal strings), the publisher's clock, its id."""
    env: dict[str, Any] = {"w": wire, "ts": ts}
    if req_id:
        env["id"] = req_id
    if expiry_s:
        env["exp"] = expiry_s
    return json.dumps(env, separators=(",", ":"), default=str).encode()


def split_urls(url: str) -> list[str]:
    """`nats://a:1,nats://b:2` (or `nats://a:1,b:2`) -> the servers a client fails over between."""
    out = []
    for part in url.split(","):
        part = part.strip()
        if part:
            out.append(part if "://" in part else f"nats://{part}")
    return out


async def connect(url: str, name: str, **kwargs: Any):
    """A client that reconnects forever (a NATS node dying is routine in the cluster mode)."""
    import nats

    opts = {"max_reconnect_attempts": -1, "reconnect_time_wait": 0.2, "connect_timeout": 2}
    opts.update(kwargs)
    return await nats.connect(servers=split_urls(url), name=name, **opts)


async def ensure(js: Any, replicas: int, lease_s: float = DEFAULT_LEASE_S, timeout: float = 30.0) -> None:
    """Create the streams and buckets if missing (idempotent; every process calls it at start)."""
    from nats.js.api import KeyValueConfig, ObjectStoreConfig, StorageType, StreamConfig

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            await _ensure_once(
                js, replicas, lease_s, KeyValueConfig, ObjectStoreConfig, StorageType, StreamConfig
            )
            return
        except Exception:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.25)  # the meta leader is being elected


async def _ensure_once(js, replicas, lease_s, KeyValueConfig, ObjectStoreConfig, StorageType, StreamConfig):
    from nats.js.errors import NotFoundError

    async def stream(cfg):
        try:
            await js.stream_info(cfg.name)
        except NotFoundError:
            await js.add_stream(cfg)

    await stream(
        StreamConfig(
            name=CMD_STREAM,
            subjects=[CMD_SUBJECTS],
            num_replicas=replicas,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_S,
        )
    )
    await stream(
        StreamConfig(
            name=EVT_STREAM,
            subjects=["bw.res.>", "bw.alert.>"],
            num_replicas=replicas,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_S,
        )
    )
    for bucket, ttl, history in ((LEASE_BUCKET, lease_s, 1), (HASH_BUCKET, 0, 1), (STATE_BUCKET, 0, 1)):
        try:
            await js.key_value(bucket)
        except Exception:
            await js.create_key_value(
                KeyValueConfig(bucket=bucket, history=history, ttl=ttl or None, replicas=replicas)
            )
    try:
        await js.object_store(SNAP_BUCKET)
    except Exception:
        await js.create_object_store(
            SNAP_BUCKET, config=ObjectStoreConfig(bucket=SNAP_BUCKET, replicas=replicas)
        )
