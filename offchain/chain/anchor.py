"""The journal's on-chain audit trail: anchor its hash-chain head every epoch, and audit a journal.

* `JournalAnchorer` (a daemon thread): every `anchor_interval_s` it reads the journal's head
  `(seq, h(seq))` (`Store.head`, `offchain/store/hashchain.py`) and, when the journal grew since
  the last anchor, sends `JournalAnchor.anchor(journal_id, seq, head)`.
* `python -m offchain audit-journal --journal URL --rpc URL [--deployment F | --anchor 0x…]`:
  recomputes the chain from entry 1, checks each entry against its stored hash and each anchored
  head against the recomputed one, and names the first entry that was changed or removed.

Exit status of the audit: 0 the journal matches every anchor, 1 it does not (the first failure
named), 2 bad input (no store, no anchor contract, an RPC that does not answer).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web3 import Web3

from offchain.paths import deployment_file
from offchain.store import Store, StoreError, open_store
from offchain.store.hashchain import GENESIS, link

log = logging.getLogger(__name__)

_ANCHOR_TUPLE = {
    "name": "",
    "type": "tuple",
    "components": [
        {"name": "seq", "type": "uint256"},
        {"name": "head", "type": "bytes32"},
    ],
}
# What the anchorer and the audit call of `contracts/JournalAnchor.vy` (no build manifest needed).
ANCHOR_ABI = [
    {
        "type": "function",
        "name": "anchor",
        "stateMutability": "nonpayable",
        "inputs": [
            {"name": "journal_id", "type": "uint256"},
            {"name": "seq", "type": "uint256"},
            {"name": "head", "type": "bytes32"},
        ],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "type": "function",
        "name": "anchor_count",
        "stateMutability": "view",
        "inputs": [{"name": "arg0", "type": "uint256"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "type": "function",
        "name": "anchors",
        "stateMutability": "view",
        "inputs": [{"name": "arg0", "type": "uint256"}, {"name": "arg1", "type": "uint256"}],
        "outputs": [_ANCHOR_TUPLE],
    },
]


def anchor_contract(w3: Web3, address: str):
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=ANCHOR_ABI)


def journal_id_of(store: Store) -> int:
    """The journal's id: the ts of its first command (as the daemon's withdrawals use it), 0 if empty."""
    for _, record in store.read_from(1):
        return int(record["ts"])
    return 0


class JournalAnchorer:
    """Anchor the journal's head on-chain every `interval_s` (a daemon thread's `run`)."""

    def __init__(
        self, store: Store, contract: Any, sender: Any, journal_id: int, interval_s: float, on_anchor=None
    ):
        self.store = store
        self.contract = contract
        self.sender = sender
        self.journal_id = journal_id
        self.interval_s = interval_s
        self.on_anchor = on_anchor  # called with a dict per anchor (the dashboard's line)
        self.last_seq = self._anchored_seq()

    def _anchored_seq(self) -> int:
        try:
            count = self.contract.functions.anchor_count(self.journal_id).call()
            return int(self.contract.functions.anchors(self.journal_id, count - 1).call()[0]) if count else 0
        except Exception as exc:  # the chain may be away at start-up: the first step anchors anyway
            log.warning("cannot read the last anchor: %s", exc)
            return 0

    def step(self) -> dict | None:
        """Anchor the head if the journal grew since the last anchor; return what was anchored."""
        seq, head = self.store.head()
        if seq <= self.last_seq:
            return None
        receipt = self.sender.send(self.contract.functions.anchor(self.journal_id, seq, bytes.fromhex(head)))
        self.last_seq = seq
        done = {
            "journal_id": self.journal_id,
            "seq": seq,
            "head": head,
            "tx": receipt["transactionHash"].hex(),
        }
        log.info("anchored journal %d at seq %d head %s", self.journal_id, seq, head)
        if self.on_anchor is not None:
            self.on_anchor(done)
        return done

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval_s):
            try:
                self.step()
            except Exception:
                log.exception("anchoring the journal failed (retried next epoch)")


# -- the audit ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchored:
    index: int
    seq: int
    head: str


@dataclass
class JournalAudit:
    journal_id: int
    anchors: list[Anchored]
    last_seq: int = 0
    checked_anchors: int = 0
    failure: str | None = None
    failed_seq: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failure is None


def read_anchors(contract: Any, journal_id: int) -> list[Anchored]:
    count = contract.functions.anchor_count(journal_id).call()
    out = []
    for i in range(count):
        seq, head = contract.functions.anchors(journal_id, i).call()
        out.append(Anchored(i, int(seq), bytes(head).hex()))
    return out


def audit_journal(store: Store, anchors: list[Anchored], journal_id: int) -> JournalAudit:
    """Walk the journal's chain against its stored hashes and the anchored heads (module docstring)."""
    report = JournalAudit(journal_id, anchors)
    if not anchors:
        report.failure = f"no anchor on-chain for journal {journal_id}: nothing proves this journal"
        return report
    pending = iter(anchors)
    target = next(pending)
    previous_anchor_seq = 0
    expected, head = 1, GENESIS
    for seq, text, stored in store.read_chain(1):
        if seq != expected:
            report.failure, report.failed_seq = (
                f"entry {expected} was removed (the next entry is {seq})",
                expected,
            )
            return report
        head = link(head, seq, text)
        if stored != head:
            report.failure = f"entry {seq} was changed after it was journaled (its hash does not match)"
            report.failed_seq = seq
            return report
        while target is not None and seq == target.seq:
            if head != target.head:
                report.failure = (
                    f"anchor {target.index} (seq {target.seq}) does not match: an entry in "
                    f"{previous_anchor_seq + 1}..{target.seq} was changed and its hashes rewritten"
                )
                report.failed_seq = previous_anchor_seq + 1
                return report
            report.checked_anchors += 1
            previous_anchor_seq = target.seq
            target = next(pending, None)
        report.last_seq = seq
        expected += 1
    if target is not None:
        report.failure = (
            f"anchor {target.index} covers seq {target.seq} but the journal ends at {report.last_seq}: "
            f"entries {report.last_seq + 1}..{target.seq} were removed"
        )
        report.failed_seq = report.last_seq + 1
        return report
    unanchored = report.last_seq - previous_anchor_seq
    if unanchored:
        report.notes.append(
            f"{unanchored} entries after the last anchor (seq {previous_anchor_seq}) are not anchored yet"
        )
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--journal", required=True, help="journal URL (sqlite:///path.db or postgresql://...)"
    )
    parser.add_argument("--rpc", required=True, help="JSON-RPC URL of the chain")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--deployment", type=Path, help="deployment file (default: deployments/<chain id>.json)"
    )
    where.add_argument("--anchor", help="the JournalAnchor address")
    parser.add_argument(
        "--journal-id", type=int, help="the journal's id (default: the ts of its first entry)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        w3 = Web3(Web3.HTTPProvider(args.rpc, request_kwargs={"timeout": 10}))
        address = args.anchor or _anchor_address(args.deployment, int(w3.eth.chain_id))
        contract = anchor_contract(w3, address)
        store = open_store(args.journal)
    except (OSError, ValueError, KeyError, StoreError, Exception) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with store:
        try:
            journal_id = args.journal_id if args.journal_id is not None else journal_id_of(store)
            anchors = read_anchors(contract, journal_id)
        except Exception as exc:
            print(f"error: cannot read the anchors: {exc}", file=sys.stderr)
            return 2
        report = audit_journal(store, anchors, journal_id)
    print(
        f"journal {args.journal} (id {journal_id}): {report.last_seq} entries walked, {len(anchors)} anchors"
    )
    if report.ok:
        last = anchors[-1]
        print(
            f"OK: every entry matches its hash; {report.checked_anchors} anchors match (last: seq {last.seq})"
        )
    else:
        print(f"FAIL at entry {report.failed_seq}: {report.failure}")
    for note in report.notes:
        print(f"note: {note}")
    return 0 if report.ok else 1


def _anchor_address(deployment: Path | None, chain_id: int) -> str:
    path = deployment or deployment_file(chain_id)
    contracts = json.loads(Path(path).read_text())["contracts"]
    if "JournalAnchor" not in contracts:
        raise KeyError(f"{path} has no JournalAnchor: deploy it (ape run deploy) or give --anchor")
    return contracts["JournalAnchor"]
