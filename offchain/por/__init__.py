"""Proof of reserves: the Merkle-sum tree of SPEC §5 (build, prove, verify) and its debtors' register
(build, audit). Pure: no I/O, no clock."""

from offchain.por.hashing import Node, PorFormatError, commitment, depth_for, derive_salt, split_balance
from offchain.por.proof import Proof, verify_proof
from offchain.por.register import Attested, AuditReport, Debtor, Register, attest_args, audit, build_register
from offchain.por.tree import Leaf, Tree, build_account_tree, build_tree

__all__ = [
    "Attested",
    "AuditReport",
    "Debtor",
    "Register",
    "attest_args",
    "audit",
    "build_register",
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
