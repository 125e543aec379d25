"""An account's inclusion proof: what the exchange hands out, its JSON form, and its verification.

JSON form (`Proof.to_json()`; amounts are decimal strings so that no JSON reader rounds them,
bytes are 0x-hex):

    {
      "format": "breakwater-por-proof/1",
      "epoch": 7,
      "assets": ["0x…USDC", "0x…WETH", "0x…USDE"],
      "leaf_count": 1000,
      "index": 5,
      "account": "0x…" | null,          # known to the account itself
      "salt": "0x…32 bytes" | null,     # given only to that account
      "commitment": "0x…32 bytes",
      "equity": ["1500000", "0", "0"],
      "debt": ["0", "0", "20000000000000000"],
      "siblings": [{"hash": "0x…", "equity": […], "debt": […]}, …],   # from the bottom
      "root": {"hash": "0x…", "equity": […], "debt": […]}
    }

`verify_proof` recomputes the path; by default it compares against the root inside the proof,
and a careful verifier passes the root and totals read from `ReserveRegistry` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from offchain.por.hashing import (
    Node,
    PorFormatError,
    check_hash,
    check_sums,
    commitment,
    depth_for,
    leaf,
    parent,
)

FORMAT = "breakwater-por-proof/1"


@dataclass(frozen=True, slots=True)
class Proof:
    """Leaf `index` of an epoch's tree, its siblings from the bottom, and the root they lead to."""

    epoch: int
    assets: tuple[str, ...]
    leaf_count: int
    index: int
    commitment: bytes
    equity: tuple[int, ...]
    debt: tuple[int, ...]
    siblings: tuple[Node, ...]
    root: Node
    account: str | None = None
    salt: bytes | None = None

    def contract_args(self) -> tuple:
        """Return the arguments of `ReserveRegistry.verify_inclusion` in order.

        The siblings' sums go flat, level by level: level k's value of asset i at `k * N + i`.
        """
        return (
            self.epoch,
            self.commitment,
            list(self.equity),
            list(self.debt),
            self.index,
            [s.hash for s in self.siblings],
            [v for s in self.siblings for v in s.equity],
            [v for s in self.siblings for v in s.debt],
        )

    def to_json(self) -> dict:
        """Return the JSON-able form described in the module docstring."""
        return {
            "format": FORMAT,
            "epoch": self.epoch,
            "assets": list(self.assets),
            "leaf_count": self.leaf_count,
            "index": self.index,
            "account": self.account,
            "salt": None if self.salt is None else _hex(self.salt),
            "commitment": _hex(self.commitment),
            "equity": [str(v) for v in self.equity],
            "debt": [str(v) for v in self.debt],
            "siblings": [_node_json(s) for s in self.siblings],
            "root": _node_json(self.root),
        }

    @classmethod
    def from_json(cls, doc: dict) -> Proof:
        """Parse the JSON form; raise `PorFormatError` naming the first bad field."""
        if not isinstance(doc, dict):
            raise PorFormatError("a proof is a JSON object")
        if doc.get("format") != FORMAT:
            raise PorFormatError(f"format: expected {FORMAT!r}, got {doc.get('format')!r}")
        salt = doc.get("salt")
        return cls(
            epoch=_int(doc, "epoch"),
            assets=tuple(_str_list(doc, "assets")),
            leaf_count=_int(doc, "leaf_count"),
            index=_int(doc, "index"),
            commitment=_bytes32(doc.get("commitment"), "commitment"),
            equity=_amounts(doc.get("equity"), "equity"),
            debt=_amounts(doc.get("debt"), "debt"),
            siblings=tuple(_node(s, f"siblings[{k}]") for k, s in enumerate(_list(doc, "siblings"))),
            root=_node(doc.get("root"), "root"),
            account=doc.get("account"),
            salt=None if salt is None else _bytes32(salt, "salt"),
        )


def verify_proof(
    proof: Proof,
    root_hash: bytes | None = None,
    total_equity: Sequence[int] | None = None,
    total_debt: Sequence[int] | None = None,
) -> bool:
    """Return True when the proof leads to the expected root hash and root sums (SPEC §5).

    The expected values default to the proof's own root; pass the attested ones to check
    against the chain. When the proof carries the account and its salt, the commitment must
    also be `H(address ‖ salt)`. A malformed proof is invalid, never an exception.
    """
    expected_hash = proof.root.hash if root_hash is None else root_hash
    expected_equity = tuple(proof.root.equity if total_equity is None else total_equity)
    expected_debt = tuple(proof.root.debt if total_debt is None else total_debt)
    try:
        n = len(proof.assets)
        check_sums(proof.equity, proof.debt, n)
        if not 0 <= proof.index < proof.leaf_count or len(proof.siblings) != depth_for(proof.leaf_count):
            return False
        if proof.account is not None and proof.salt is not None:
            if commitment(proof.account, proof.salt) != proof.commitment:
                return False
        node = leaf(proof.commitment, proof.equity, proof.debt)
        for k, sibling in enumerate(proof.siblings):
            check_sums(sibling.equity, sibling.debt, n)
            check_hash(sibling.hash, "sibling hash")
            node = parent(sibling, node) if (proof.index >> k) & 1 else parent(node, sibling)
    except PorFormatError:
        return False
    return node.hash == expected_hash and node.equity == expected_equity and node.debt == expected_debt


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _node_json(node: Node) -> dict:
    return {
        "hash": _hex(node.hash),
        "equity": [str(v) for v in node.equity],
        "debt": [str(v) for v in node.debt],
    }


def _node(doc: object, where: str) -> Node:
    if not isinstance(doc, dict):
        raise PorFormatError(f"{where}: expected an object with hash, equity and debt")
    return Node(
        _bytes32(doc.get("hash"), f"{where}.hash"),
        _amounts(doc.get("equity"), f"{where}.equity"),
        _amounts(doc.get("debt"), f"{where}.debt"),
    )


def _int(doc: dict, name: str) -> int:
    value = doc.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise PorFormatError(f"{name}: expected a non-negative integer, got {value!r}")
    return value


def _list(doc: dict, name: str) -> list:
    value = doc.get(name)
    if not isinstance(value, list):
        raise PorFormatError(f"{name}: expected a list")
    return value


def _str_list(doc: dict, name: str) -> list[str]:
    value = _list(doc, name)
    if not all(isinstance(v, str) for v in value):
        raise PorFormatError(f"{name}: expected a list of strings")
    return value


def _amounts(value: object, where: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise PorFormatError(f"{where}: expected a list of decimal strings")
    out = []
    for k, v in enumerate(value):
        if not isinstance(v, str) or not v.isdecimal() or not v.isascii():
            raise PorFormatError(f"{where}[{k}]: expected a decimal string, got {v!r}")
        out.append(int(v))
    return tuple(out)


def _bytes32(value: object, where: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) != 66:
        raise PorFormatError(f"{where}: expected 0x and 64 hex digits")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise PorFormatError(f"{where}: not hex") from None
