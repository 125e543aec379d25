"""The journal's hash chain: each entry's hash covers the previous entry's hash.

    h(0) = GENESIS (32 zero bytes)
    h(n) = sha256(h(n-1) || n as 8 bytes big-endian || canonical record text of entry n)

The stores keep `h(n)` beside entry `n` (column `hash`, hex) and compute it inside `append_many`, in
the same transaction as the entry (group commit included). The daemon anchors `(n, h(n))` on-chain
(`contracts/JournalAnchor.vy`); an auditor recomputes the chain from entry 1 and compares it with
the stored hashes and with every anchored head (`offchain/chain/anchor.py`, `audit-journal`). An entry
changed or removed before an anchor changes every later hash, so the anchor no longer matches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

GENESIS = "00" * 32


def link(prev_hash: str, seq: int, text: str) -> str:
    """Return the hash of entry `seq` whose canonical text is `text`, after `prev_hash` (hex)."""
    h = hashlib.sha256(bytes.fromhex(prev_hash))
    h.update(seq.to_bytes(8, "big"))
    h.update(text.encode())
    return h.hexdigest()


def chain_rows(prev_hash: str, rows: Iterable[tuple[int, str]]) -> list[tuple[int, str, str]]:
    """Return `(seq, text, hash)` for consecutive rows following the entry whose hash is `prev_hash`."""
    out = []
    for seq, text in rows:
        prev_hash = link(prev_hash, seq, text)
        out.append((seq, text, prev_hash))
    return out


@dataclass(frozen=True)
class ChainBreak:
    """The first place where a journal does not match its own chain."""

    seq: int
    reason: str


def first_break(entries: Iterable[tuple[int, str, str | None]]) -> tuple[ChainBreak | None, int, str]:
    """Walk `(seq, text, stored_hash)` from entry 1; return (first break or None, last seq, head hash).

    A break is a gap (an entry removed), an entry whose stored hash is not the recomputed one (the
    entry or its hash was changed), or a missing hash.
    """
    expected, head = 1, GENESIS
    for seq, text, stored in entries:
        if seq != expected:
            return (
                ChainBreak(expected, f"entry {expected} is missing (next entry is {seq})"),
                expected - 1,
                head,
            )
        head = link(head, seq, text)
        if stored != head:
            return (
                ChainBreak(seq, f"entry {seq} does not match its hash (changed after it was journaled)"),
                seq,
                head,
            )
        expected += 1
    return None, expected - 1, head


def walk(entries: Iterable[tuple[int, str, str | None]]) -> Iterator[tuple[int, str, str | None]]:
    """Yield `(seq, recomputed_hash, stored_hash)` for each entry, recomputing from GENESIS."""
    head = GENESIS
    for seq, text, stored in entries:
        head = link(head, seq, text)
        yield seq, head, stored
