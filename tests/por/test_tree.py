"""Building the Merkle-sum tree, cutting proofs and verifying them (offchain.por, SPEC §5)."""

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.por import (
    Leaf,
    Node,
    PorFormatError,
    Proof,
    attest_args,
    build_account_tree,
    build_tree,
    commitment,
    depth_for,
    derive_salt,
    verify_proof,
)
from offchain.por.hashing import MAX_UINT256, leaf, parent

ASSETS = ("0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "cc" * 20)
SECRET = b"exchange secret for tests, 32 b!"


def reference_root(assets, leaves) -> Node:
    """Build the root node by node with the format functions: slow, obviously SPEC §5."""
    level = [leaf(x.commitment, x.equity, x.debt) for x in leaves]
    while len(level) > 1:
        if len(level) % 2:
            level.append(Node.empty(len(assets)))
        level = [parent(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


amount = st.one_of(st.integers(0, 10**6), st.integers(0, 2**64 - 1), st.integers(0, 2**120))


@st.composite
def trees(draw, max_leaves=70):
    n = draw(st.integers(1, 4))
    count = draw(st.integers(1, max_leaves))
    leaves = [
        Leaf(
            draw(st.binary(min_size=32, max_size=32)),
            draw(st.lists(amount, min_size=n, max_size=n)),
            draw(st.lists(amount, min_size=n, max_size=n)),
        )
        for _ in range(count)
    ]
    return [f"asset{i}" for i in range(n)], leaves


@settings(max_examples=60, deadline=None)
@given(case=trees())
def test_fast_build_equals_the_node_by_node_reference(case):
    assets, leaves = case
    tree = build_tree(assets, leaves)
    assert tree.root == reference_root(assets, leaves)
    assert tree.depth == depth_for(len(leaves))
    for i in {0, len(leaves) // 2, len(leaves) - 1}:
        assert verify_proof(tree.proof(i))


def test_single_leaf_is_the_root_with_an_empty_proof():
    only = Leaf(b"\x01" * 32, [5, 0, 0], [0, 0, 7])
    tree = build_tree(ASSETS, [only])
    assert tree.depth == 0
    assert tree.root == leaf(only.commitment, only.equity, only.debt)
    proof = tree.proof(0)
    assert proof.siblings == ()
    assert verify_proof(proof)


def test_odd_level_is_padded_with_the_empty_node():
    leaves = [Leaf(bytes([i]) * 32, [i, 0, 0], [0, i, 0]) for i in range(1, 4)]
    tree = build_tree(ASSETS, leaves)
    a, b, c = (leaf(x.commitment, x.equity, x.debt) for x in leaves)
    assert tree.root == parent(parent(a, b), parent(c, Node.empty(3)))
    assert tree.proof(2).siblings[0] == Node.empty(3)


def test_root_sums_are_total_equity_and_total_debt():
    accounts = [("0x" + f"{i:040x}", [100 * i, -i, 0]) for i in range(1, 11)]
    tree = build_account_tree(1, ASSETS, accounts, SECRET)
    assert tree.root.equity == (sum(100 * i for i in range(1, 11)), 0, 0)
    assert tree.root.debt == (0, sum(range(1, 11)), 0)
    assert attest_args(tree)["total_debt"] == [0, 55, 0]


def test_account_tree_hands_each_account_its_salt_and_proof():
    accounts = [("0x" + f"{i:040x}", [i, -2 * i, 3]) for i in range(1, 8)]
    tree = build_account_tree(42, ASSETS, accounts, SECRET)
    for address, balances in accounts:
        proof = tree.proof_for(address)
        assert proof.account == address
        assert proof.salt == derive_salt(SECRET, 42, address)
        assert proof.commitment == commitment(address, proof.salt)
        assert proof.equity == (balances[0], 0, 3) and proof.debt == (0, -balances[1], 0)
        assert verify_proof(proof)


def test_salts_differ_per_account_and_per_epoch():
    address = "0x" + "12" * 20
    assert derive_salt(SECRET, 1, address) != derive_salt(SECRET, 2, address)
    assert derive_salt(SECRET, 1, address) != derive_salt(SECRET, 1, "0x" + "13" * 20)
    assert derive_salt(SECRET, 1, address) != derive_salt(SECRET[::-1], 1, address)


def test_proof_survives_its_json_form():
    tree = build_account_tree(3, ASSETS, [("0x" + f"{i:040x}", [i, 0, -i]) for i in range(1, 6)], SECRET)
    proof = tree.proof(3)
    doc = json.loads(json.dumps(proof.to_json()))
    assert doc["format"] == "breakwater-por-proof/1"
    assert all(isinstance(v, str) for v in doc["equity"] + doc["debt"])
    assert Proof.from_json(doc) == proof
    assert verify_proof(Proof.from_json(doc))


@pytest.fixture(scope="module")
def tree_and_proof():
    accounts = [("0x" + f"{i:040x}", [1000 + i, -i, 7 * i]) for i in range(1, 12)]
    tree = build_account_tree(9, ASSETS, accounts, SECRET)
    return tree, tree.proof(5)


def _tampered(proof: Proof, kind: str) -> Proof:
    s = list(proof.siblings)
    bump = lambda values, i=0: tuple(v + (k == i) for k, v in enumerate(values))  # noqa: E731
    if kind == "leaf_equity":
        return dataclasses.replace(proof, equity=bump(proof.equity))
    if kind == "leaf_debt":
        return dataclasses.replace(proof, debt=bump(proof.debt, 1))
    if kind == "commitment":
        return dataclasses.replace(proof, commitment=b"\x00" + proof.commitment[1:], account=None, salt=None)
    if kind == "salt":
        return dataclasses.replace(proof, salt=b"\x00" * 32)
    if kind == "index":
        return dataclasses.replace(proof, index=proof.index ^ 1)
    if kind == "sibling_hash":
        s[1] = dataclasses.replace(s[1], hash=b"\x01" + s[1].hash[1:])
    elif kind == "sibling_equity":
        s[2] = dataclasses.replace(s[2], equity=bump(s[2].equity, 2))
    elif kind == "sibling_debt":
        s[0] = dataclasses.replace(s[0], debt=bump(s[0].debt, 1))
    elif kind == "sibling_dropped":
        s = s[:-1]
    elif kind == "sibling_swapped":
        s[0], s[1] = s[1], s[0]
    return dataclasses.replace(proof, siblings=tuple(s))


TAMPERINGS = [
    "leaf_equity",
    "leaf_debt",
    "commitment",
    "salt",
    "index",
    "sibling_hash",
    "sibling_equity",
    "sibling_debt",
    "sibling_dropped",
    "sibling_swapped",
]


@pytest.mark.parametrize("kind", TAMPERINGS)
def test_a_changed_sum_hash_index_or_sibling_is_rejected(tree_and_proof, kind):
    _, proof = tree_and_proof
    assert verify_proof(proof)
    assert not verify_proof(_tampered(proof, kind))


def test_a_proof_against_another_root_or_total_is_rejected(tree_and_proof):
    tree, proof = tree_and_proof
    root = tree.root
    assert verify_proof(proof, root.hash, root.equity, root.debt)
    assert not verify_proof(proof, b"\x00" * 32, root.equity, root.debt)
    assert not verify_proof(proof, root.hash, (root.equity[0] - 1, *root.equity[1:]), root.debt)
    assert not verify_proof(proof, root.hash, root.equity, (root.debt[0] + 1, *root.debt[1:]))


def test_a_sibling_that_wraps_a_sum_past_uint256_is_rejected(tree_and_proof):
    _, proof = tree_and_proof
    s = list(proof.siblings)
    s[0] = dataclasses.replace(s[0], equity=(MAX_UINT256, *s[0].equity[1:]))
    assert not verify_proof(dataclasses.replace(proof, siblings=tuple(s)))


@pytest.mark.parametrize(
    ("assets", "leaves", "message"),
    [
        ((), [Leaf(b"\x01" * 32, [], [])], "1..8 assets"),
        (tuple(f"a{i}" for i in range(9)), [Leaf(b"\x01" * 32, [0] * 9, [0] * 9)], "1..8 assets"),
        (("a", "a"), [Leaf(b"\x01" * 32, [0, 0], [0, 0])], "twice"),
        (("a",), [], "at least one leaf"),
        (("a",), [Leaf(b"\x01" * 31, [0], [0])], "leaf 0 commitment"),
        (("a", "b"), [Leaf(b"\x01" * 32, [0], [0, 0])], "leaf 0"),
        (("a",), [Leaf(b"\x01" * 32, [-1], [0])], "negative"),
        (("a",), [Leaf(b"\x01" * 32, [1.5], [0])], "non-integer"),
        (("a",), [Leaf(b"\x01" * 32, [MAX_UINT256], [0]), Leaf(b"\x02" * 32, [1], [0])], "fit in uint256"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(assets, leaves, message):
    with pytest.raises(PorFormatError, match=message):
        build_tree(assets, leaves)


def test_bad_accounts_are_refused_with_the_reason():
    with pytest.raises(PorFormatError, match="twice"):
        build_account_tree(1, ASSETS, [("0x" + "11" * 20, [1, 2, 3])] * 2, SECRET)
    with pytest.raises(PorFormatError, match="account 0: 2 balances for 3 assets"):
        build_account_tree(1, ASSETS, [("0x" + "11" * 20, [1, 2])], SECRET)
    with pytest.raises(PorFormatError, match="20 bytes"):
        build_account_tree(1, ASSETS, [("0x1234", [1, 2, 3])], SECRET)
    with pytest.raises(PorFormatError, match="secret"):
        build_account_tree(1, ASSETS, [("0x" + "11" * 20, [1, 2, 3])], b"short")


def test_proof_for_an_unknown_account_or_index_says_so(tree_and_proof):
    tree, _ = tree_and_proof
    with pytest.raises(KeyError, match="not in epoch 9"):
        tree.proof_for("0x" + "ee" * 20)
    with pytest.raises(IndexError, match="outside"):
        tree.proof(tree.leaf_count)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("format", "other/1", "format"),
        ("epoch", -1, "epoch"),
        ("commitment", "0x1234", "commitment"),
        ("equity", ["1", "-2", "3"], r"equity\[1\]"),
        ("equity", [1, 2, 3], r"equity\[0\]"),
        ("siblings", "nope", "siblings"),
        ("root", None, "root"),
    ],
)
def test_json_proof_with_a_bad_field_names_it(tree_and_proof, field, value, message):
    _, proof = tree_and_proof
    doc = proof.to_json()
    doc[field] = value
    with pytest.raises(PorFormatError, match=message):
        Proof.from_json(doc)
