"""The committed debtors' register vector (tests/por/register_vector.json) against an independent
reading of docs/por.md and against ours.

The independent reading uses only eth_utils.keccak, byte concatenation and integers, as a verifier
who has only docs/por.md would write it: which leaves must be listed, the register's root, its sums
against the attested totals, each entry's path to the attested root, and each debtor's coverage.
"""

import json
from pathlib import Path

from eth_utils import keccak

from offchain.por import Attested, Leaf, Register, audit, build_register, build_tree, split_balance

HERE = Path(__file__).parent
VECTOR = json.loads((HERE / "vector.json").read_text())
REGISTER = json.loads((HERE / "register_vector.json").read_text())
DOC = REGISTER["register"]
EXPECTED = REGISTER["expected"]
BPS = 10_000


def _w(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _record(h: bytes, equity: list[int], debt: list[int]) -> bytes:
    return h + b"".join(map(_w, equity)) + b"".join(map(_w, debt))


def _leaf(entry: dict) -> tuple[bytes, list[int], list[int]]:
    equity, debt = [int(v) for v in entry["equity"]], [int(v) for v in entry["debt"]]
    return keccak(_record(bytes.fromhex(entry["commitment"][2:]), equity, debt)), equity, debt


def _root(level: list[tuple[bytes, list[int], list[int]]], n: int) -> tuple[bytes, list[int], list[int]]:
    if not level:
        return b"\x00" * 32, [0] * n, [0] * n
    while len(level) > 1:
        if len(level) % 2:
            level = [*level, (b"\x00" * 32, [0] * n, [0] * n)]
        level = [
            (
                keccak(_record(*left) + _record(*right)),
                [a + b for a, b in zip(left[1], right[1], strict=True)],
                [a + b for a, b in zip(left[2], right[2], strict=True)],
            )
            for left, right in zip(level[0::2], level[1::2], strict=True)
        ]
    return level[0]


def _path_root(entry: dict) -> tuple[bytes, list[int], list[int]]:
    node = _leaf(entry)
    for k, s in enumerate(entry["siblings"]):
        sib = (bytes.fromhex(s["hash"][2:]), [int(v) for v in s["equity"]], [int(v) for v in s["debt"]])
        left, right = (sib, node) if (entry["index"] >> k) & 1 else (node, sib)
        node = (
            keccak(_record(*left) + _record(*right)),
            [a + b for a, b in zip(left[1], right[1], strict=True)],
            [a + b for a, b in zip(left[2], right[2], strict=True)],
        )
    return node


def test_the_register_lists_exactly_the_vectors_accounts_with_debt():
    owing = [i for i, a in enumerate(VECTOR["accounts"]) if any(int(b) < 0 for b in a["balances"])]
    assert [d["index"] for d in DOC["debtors"]] == owing == EXPECTED["debtor_indices"] == [1, 3, 4]
    for d in DOC["debtors"]:
        account = VECTOR["accounts"][d["index"]]
        assert d["commitment"] == account["commitment"]
        assert [int(v) - int(w) for v, w in zip(d["equity"], d["debt"], strict=True)] == [
            int(b) for b in account["balances"]
        ]


def test_an_independent_verifier_accepts_the_register():
    n = len(DOC["assets"])
    root = VECTOR["root"]
    attested_root = (
        bytes.fromhex(root["hash"][2:]),
        [int(v) for v in root["equity"]],
        [int(v) for v in root["debt"]],
    )
    # 1. every entry is a leaf of the attested tree (its path leads to the attested root and totals)
    assert all(_path_root(d) == attested_root for d in DOC["debtors"])
    # 2. the register is a Merkle-sum tree over its entries in index order; its debts are total_debt
    reg_hash, reg_equity, reg_debt = _root([_leaf(d) for d in DOC["debtors"]], n)
    assert "0x" + reg_hash.hex() == EXPECTED["register_root"] == DOC["register_root"]["hash"]
    assert reg_debt == attested_root[2] == [int(v) for v in EXPECTED["register_debt"]]
    assert [str(v) for v in reg_equity] == EXPECTED["register_equity"]
    # 3. every debtor's haircut collateral covers its debt
    prices, haircuts = [int(p) for p in DOC["prices"]], DOC["haircuts_bps"]
    for d, want in zip(DOC["debtors"], EXPECTED["valuations"], strict=True):
        collateral = sum(
            int(e) * p * (BPS - h) for e, p, h in zip(d["equity"], prices, haircuts, strict=True)
        )
        owed = sum(int(x) * p * BPS for x, p in zip(d["debt"], prices, strict=True))
        assert (str(collateral), str(owed), collateral >= owed) == (
            want["collateral"],
            want["debt"],
            want["covered"],
        )


def test_our_builder_reproduces_the_register_and_its_register_proofs():
    leaves = []
    for account in VECTOR["accounts"]:
        split = [split_balance(int(b)) for b in account["balances"]]
        leaves.append(
            Leaf(bytes.fromhex(account["commitment"][2:]), [e for e, _ in split], [d for _, d in split])
        )
    tree = build_tree(VECTOR["assets"], leaves, epoch=VECTOR["epoch"])
    ours = build_register(tree, [int(p) for p in DOC["prices"]], DOC["haircuts_bps"])
    assert ours.to_json() == DOC
    for doc in EXPECTED["register_proofs"]:
        proof = ours.tree.proof(doc["index"]).to_json()
        assert proof["siblings"] == doc["siblings"]


def test_our_audit_accepts_the_vector_register():
    register = Register.from_json(DOC)
    root = VECTOR["root"]
    attested = Attested(
        epoch=VECTOR["epoch"],
        assets=tuple(VECTOR["assets"]),
        root=bytes.fromhex(root["hash"][2:]),
        leaf_count=VECTOR["leaf_count"],
        total_equity=tuple(int(v) for v in root["equity"]),
        total_debt=tuple(int(v) for v in root["debt"]),
        register_root=bytes.fromhex(EXPECTED["register_root"][2:]),
        debtor_count=len(EXPECTED["debtor_indices"]),
        register_equity=tuple(int(v) for v in EXPECTED["register_equity"]),
        prices=tuple(int(p) for p in DOC["prices"]),
        haircuts_bps=tuple(DOC["haircuts_bps"]),
    )
    report = audit(register, attested)
    assert report.ok, report.failures
    assert [v.covered for v in report.valuations] == [True, True, True]
