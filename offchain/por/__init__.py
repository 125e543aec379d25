"""Proof of reserves: the Merkle-sum tree of SPEC §5 (build, prove, verify). Pure: no I/O, no clock."""

from offchain.por.hashing import Node, PorFormatError, commitment, depth_for, derive_salt, split_balance
from offchain.por.proof import Proof, verify_proof
from offchain.por.tree import Leaf, Tree, build_account_tree, build_tree

__all__ = [
    "Leaf",
    "Node",
    "PorFormatError",
    "Proof",
    "Tree",
    "build_account_tree",
    "build_tree",
    "commitment",
    "depth_for",
    "derive_salt",
    "split_balance",
    "verify_proof",
]
