"""The committed debtors' register vector (tests/por/register_vector.json) against an independent
reading of docs/por.md and against ours.

The independent reading uses only eth_utils.keccak, byte concatenation and integers, as a verifier
who has only docs/por.md would write it: the tree's root from its accounts, which leaves the
register must list, the boundary proof that ties them to the root, the register's own root and
sums against the attested totals, and each debtor's coverage.
"""

import json
from pathlib import Path

from eth_utils import keccak

from offchain.por import Attested, Leaf, Register, audit, build_register, build_tree, split_balance

VECTOR = json.loads((Path(__file__).parent / "register_vector.json").read_text())
DOC = VECTOR["register"]
EXPECTED = VECTOR["expected"]
N = len(VECTOR["assets"])
EMPTY = (b"\x00" * 32, [0] * N, [0] * N)
BPS = 10_000


def _w(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _record(h: bytes, equity: list[int], debt: list[int]) -> bytes:
    return h + b"".join(map(_w, equity)) + b"".join(map(_w, debt))


def _leaf(commitment: str, equity: list[int], debt: list[int]) -> tuple[bytes, list[int], list[int]]:
    return keccak(_record(bytes.fromhex(commitment[2:]), equity, debt)), equity, debt


def _parent(left, right):
    return (
        keccak(_record(*left) + _record(*right)),
        [a + b for a, b in zip(left[1], right[1], strict=True)],
        [a + b for a, b in zip(left[2], right[2], strict=True)],
    )


def _root(level):
    if not level:
        return EMPTY
    while len(level) > 1:
        if len(level) % 2:
            level = [*level, EMPTY]
        level = [_parent(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def _node(doc: dict):
    return bytes.fromhex(doc["hash"][2:]), [int(v) for v in doc["equity"]], [int(v) for v in doc["debt"]]


def _account_leaves():
    out = []
    for a in VECTOR["accounts"]:
        c = keccak(b"\x00" * 12 + bytes.fromhex(a["address"][2:]) + bytes.fromhex(a["salt"][2:]))
        assert "0x" + c.hex() == a["commitment"]
        balances = [int(b) for b in a["balances"]]
        out.append(_leaf(a["commitment"], [max(b, 0) for b in balances], [max(-b, 0) for b in balances]))
    return out


def _prefix_root(entries, boundary, leaf_count):
    """docs/por.md: the debtors are leaves [0, k); at each level, when the known range [0, m) has
    an odd m, its right neighbour is the next boundary node (or the padding if the level ends)."""
    level, size, given = list(entries), leaf_count, iter(boundary)
    while size > 1:
        if len(level) % 2:
            level.append(next(given) if len(level) < size else EMPTY)
        level = [_parent(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        size = (size + 1) // 2
    assert next(given, None) is None, "boundary nodes left over"
    return level[0]


def test_the_tree_root_matches_an_independent_reading():
    assert _root(_account_leaves()) == _node(VECTOR["root"])


def test_the_register_lists_exactly_the_first_leaves_which_are_all_the_debtors():
    owing = [i for i, a in enumerate(VECTOR["accounts"]) if any(int(b) < 0 for b in a["balances"])]
    assert owing == list(range(EXPECTED["debtor_count"])) == [d["index"] for d in DOC["debtors"]] == [0, 1, 2]
    for d, a in zip(DOC["debtors"], VECTOR["accounts"], strict=False):
        assert d["commitment"] == a["commitment"]
        assert [int(e) - int(x) for e, x in zip(d["equity"], d["debt"], strict=True)] == [
            int(b) for b in a["balances"]
        ]
    creditors = {a["commitment"] for a in VECTOR["accounts"][3:]}
    assert not creditors & {d["commitment"] for d in DOC["debtors"]}


def test_an_independent_verifier_checks_the_register():
    entries = [
        _leaf(d["commitment"], [int(v) for v in d["equity"]], [int(v) for v in d["debt"]])
        for d in DOC["debtors"]
    ]
    # 1. the entries, as leaves 0..k-1, and the boundary nodes lead to the attested root and totals
    assert [[b["level"] for b in DOC["boundary"]]] == [[lv for lv, _ in EXPECTED["boundary_positions"]]]
    boundary = [_node(b) for b in DOC["boundary"]]
    assert _prefix_root(entries, boundary, VECTOR["leaf_count"]) == _node(VECTOR["root"])
    # the boundary's level-0 node is leaf 3 (the first creditor's leaf: its hash and sums, no commitment)
    assert boundary[0] == _account_leaves()[3]
    # 2. the register's own tree: its root, and its debts are the attested total_debt
    reg_hash, reg_equity, reg_debt = _root(entries)
    assert "0x" + reg_hash.hex() == EXPECTED["register_root"] == DOC["register_root"]["hash"]
    assert reg_debt == _node(VECTOR["root"])[2] == [int(v) for v in EXPECTED["register_debt"]]
    assert [str(v) for v in reg_equity] == EXPECTED["register_equity"]
    # 3. coverage, exactly in integers
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
    assert [v["covered"] for v in EXPECTED["valuations"]] == [True, True, False]


def _tree():
    leaves = []
    for a in VECTOR["accounts"]:
        split = [split_balance(int(b)) for b in a["balances"]]
        leaves.append(Leaf(bytes.fromhex(a["commitment"][2:]), [e for e, _ in split], [d for _, d in split]))
    return build_tree(VECTOR["assets"], leaves, epoch=VECTOR["epoch"])


def test_our_builder_reproduces_the_register_and_its_register_proofs():
    ours = build_register(_tree(), [int(p) for p in DOC["prices"]], DOC["haircuts_bps"])
    assert ours.to_json() == DOC
    for doc in EXPECTED["register_proofs"]:
        assert ours.tree.proof(doc["index"]).to_json()["siblings"] == doc["siblings"]


def test_our_audit_names_the_uncovered_debtor_of_the_vector():
    root = _node(VECTOR["root"])
    attested = Attested(
        epoch=VECTOR["epoch"],
        assets=tuple(VECTOR["assets"]),
        root=root[0],
        leaf_count=VECTOR["leaf_count"],
        total_equity=tuple(root[1]),
        total_debt=tuple(root[2]),
        register_root=bytes.fromhex(EXPECTED["register_root"][2:]),
        debtor_count=EXPECTED["debtor_count"],
        register_equity=tuple(int(v) for v in EXPECTED["register_equity"]),
        prices=tuple(int(p) for p in DOC["prices"]),
        haircuts_bps=tuple(DOC["haircuts_bps"]),
    )
    report = audit(Register.from_json(DOC), attested)
    assert report.uncovered == [2]
    assert len(report.failures) == 1 and report.failures[0].startswith("debtor 2 (leaf 2, commitment 0x")
