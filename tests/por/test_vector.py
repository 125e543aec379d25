"""The committed test vector (tests/por/vector.json) against an independent reading of SPEC §5 and ours.

The independent reading below uses only eth_utils.keccak and byte concatenation, not offchain.por,
so a change to our format that the vector does not expect fails here.
"""

import json
from pathlib import Path

import pytest
from eth_utils import keccak

from offchain.por import Leaf, Proof, build_tree, commitment, split_balance, verify_proof

VECTOR = json.loads((Path(__file__).parent / "vector.json").read_text())


def _w(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _independent_root(accounts: list[dict], n_assets: int) -> tuple[bytes, list[int], list[int], int]:
    level = []
    for acct in accounts:
        balances = [int(b) for b in acct["balances"]]
        equity = [max(b, 0) for b in balances]
        debt = [max(-b, 0) for b in balances]
        c = keccak(b"\x00" * 12 + bytes.fromhex(acct["address"][2:]) + bytes.fromhex(acct["salt"][2:]))
        h = keccak(c + b"".join(map(_w, equity)) + b"".join(map(_w, debt)))
        level.append((h, equity, debt))
    depth = 0
    while len(level) > 1:
        if len(level) % 2:
            level.append((b"\x00" * 32, [0] * n_assets, [0] * n_assets))
        nxt = []
        for (lh, le, ld), (rh, re, rd) in zip(level[0::2], level[1::2], strict=True):
            pre = lh + b"".join(map(_w, le)) + b"".join(map(_w, ld)) + rh + b"".join(map(_w, re))
            pre += b"".join(map(_w, rd))
            nxt.append(
                (
                    keccak(pre),
                    [a + b for a, b in zip(le, re, strict=True)],
                    [a + b for a, b in zip(ld, rd, strict=True)],
                )
            )
        level = nxt
        depth += 1
    return level[0][0], level[0][1], level[0][2], depth


def test_vector_root_matches_an_independent_reading_of_the_spec():
    root_hash, equity, debt, depth = _independent_root(VECTOR["accounts"], len(VECTOR["assets"]))
    assert "0x" + root_hash.hex() == VECTOR["root"]["hash"]
    assert [str(v) for v in equity] == VECTOR["root"]["equity"]
    assert [str(v) for v in debt] == VECTOR["root"]["debt"]
    assert depth == VECTOR["depth"] == 3


def test_our_tree_reproduces_the_vector():
    leaves = []
    for acct in VECTOR["accounts"]:
        split = [split_balance(int(b)) for b in acct["balances"]]
        c = commitment(acct["address"], bytes.fromhex(acct["salt"][2:]))
        assert "0x" + c.hex() == acct["commitment"]
        leaves.append(Leaf(c, [e for e, _ in split], [d for _, d in split]))
    tree = build_tree(VECTOR["assets"], leaves, epoch=VECTOR["epoch"])
    for i, acct in enumerate(VECTOR["accounts"]):
        assert "0x" + tree.leaf(i).hash.hex() == acct["leaf_hash"]
    assert "0x" + tree.root.hash.hex() == VECTOR["root"]["hash"]
    for doc in VECTOR["proofs"]:
        ours = tree.proof(doc["index"]).to_json()
        assert {k: v for k, v in ours.items() if k not in ("account", "salt")} == {
            k: v for k, v in doc.items() if k not in ("account", "salt")
        }


@pytest.mark.parametrize("doc", VECTOR["proofs"], ids=lambda d: f"index{d['index']}")
def test_vector_proofs_verify_against_the_attested_root(doc):
    proof = Proof.from_json(doc)
    root = VECTOR["root"]
    assert verify_proof(
        proof,
        root_hash=bytes.fromhex(root["hash"][2:]),
        total_equity=[int(v) for v in root["equity"]],
        total_debt=[int(v) for v in root["debt"]],
    )


def test_vector_covers_padding_debt_and_wide_values():
    # What an implementation must get right, present in the vector: an odd leaf count (padding at
    # two levels), debt in every asset column, a value above 2**64, and a proof next to padding.
    assert VECTOR["leaf_count"] == 5
    balances = [int(b) for acct in VECTOR["accounts"] for b in acct["balances"]]
    assert any(b < 0 for b in balances) and any(b >= 2**64 for b in balances)
    last = next(p for p in VECTOR["proofs"] if p["index"] == 4)
    assert last["siblings"][0]["hash"] == "0x" + "00" * 32
