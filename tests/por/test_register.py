"""The debtors' register (offchain.por.register, docs/por.md): built from a tree, audited against the
attested values, and every way of hiding a shortfall in it caught by the audit (issue 14.7)."""

import dataclasses
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.por import (
    Attested,
    Debtor,
    Leaf,
    PorFormatError,
    Register,
    attest_args,
    audit,
    build_account_tree,
    build_register,
    build_tree,
)
from offchain.por.register import boundary_positions, value

ASSETS = ("0x" + "aa" * 20, "0x" + "bb" * 20)  # USDC (6 decimals), WETH (18)
PRICES = (10**30, 2_000 * 10**18)  # per atom: 1.00 and 2,000.00 (10**-30 USDC atoms)
HAIRCUTS = (0, 2_000)
SECRET = b"register tests secret, 32 bytes!"
USDC, WETH = 10**6, 10**18


def addr(i: int) -> str:
    return "0x" + f"{i + 1:040x}"


def epoch_of(balances, prices=PRICES, haircuts=HAIRCUTS, epoch=3):
    tree = build_account_tree(epoch, ASSETS, [(addr(i), b) for i, b in enumerate(balances)], SECRET)
    register = build_register(tree, prices, haircuts)
    return tree, register, Attested.from_attest_args(attest_args(tree, register=register))


# A saver, a borrower (1,000 USDC against 1 WETH), a holder, and a small borrower who owes 10 USDC
# against 0.01 WETH (16 USDC after the haircut).
HONEST = [[500 * USDC, 0], [-1_000 * USDC, 1 * WETH], [0, 2 * WETH], [-10 * USDC, WETH // 100]]


def test_the_register_lists_every_leaf_with_debt_and_no_other():
    tree, register, attested = epoch_of(HONEST)
    # The debtors (accounts 1 and 3) are the tree's first leaves; the others follow, in order.
    assert [d.index for d in register.debtors] == [0, 1]
    assert [d.commitment for d in register.debtors] == [tree.proof_for(addr(i)).commitment for i in (1, 3)]
    assert [tree.proof_for(addr(i)).index for i in (0, 2)] == [2, 3]
    assert register.register_root.debt == tree.root.debt
    assert attested.debtor_count == 2 and attested.register_equity == (0, WETH + WETH // 100)
    report = audit(Register.from_json(register.to_json()), attested)
    assert report.ok, report.failures
    assert [v.covered for v in report.valuations] == [True, True]
    assert report.valuations[1].coverage_bps == 16_000  # 16 USDC of collateral for 10 owed


def test_the_fake_debtor_is_named():
    # Users owed 200 USDC, reserves 100: the exchange adds a leaf that "owes" 100.
    _, register, attested = epoch_of([[120 * USDC, 0], [80 * USDC, 0], [-100 * USDC, 0]])
    report = audit(register, attested)
    assert report.uncovered == [0]
    (failure,) = report.failures
    commitment = register.debtors[0].commitment.hex()
    assert failure == (
        f"debtor 0 (leaf 0, commitment 0x{commitment}): collateral does not cover its debt at the attested "
        "prices and haircuts (0.00 % of its debt)"
    )


def test_collateral_just_below_the_debt_is_uncovered_and_just_at_it_is_covered():
    # 100 USDC owed against WETH at 2,000 with a 20 % haircut: 0.0625 WETH covers it exactly.
    exact = 625 * 10**14
    _, register, attested = epoch_of([[1, 0], [-100 * USDC, exact]])
    assert audit(register, attested).ok
    _, register, attested = epoch_of([[1, 0], [-100 * USDC, exact - 1]])
    assert audit(register, attested).uncovered == [0]


def hide(register, **changes) -> Register:
    return dataclasses.replace(register, _tree=None, **changes)


def test_a_register_that_leaves_a_debtor_out_does_not_sum_to_the_attested_debt():
    _, register, attested = epoch_of(HONEST)
    report = audit(hide(register, debtors=register.debtors[1:]), attested)
    assert "the register has 1 debtors, the attestation 2" in report.failures
    assert any("a debtor is missing from the register" in f for f in report.failures)
    assert any("the register's root is" in f for f in report.failures)


def test_a_register_that_lists_a_debtor_twice_or_out_of_order_is_refused():
    _, register, attested = epoch_of(HONEST)
    twice = audit(hide(register, debtors=(register.debtors[1], register.debtors[1])), attested)
    assert any("entry 0 must be leaf 0" in f for f in twice.failures)
    assert any("do not lead to the attested root and totals" in f for f in twice.failures)
    swapped = audit(hide(register, debtors=register.debtors[::-1]), attested)
    assert any("do not lead to the attested root and totals" in f for f in swapped.failures)
    assert any("the register's root is" in f for f in swapped.failures)
    renumbered = tuple(dataclasses.replace(d, index=d.index + 2) for d in register.debtors)
    assert any(
        "entry 0 must be leaf 0" in f for f in audit(hide(register, debtors=renumbered), attested).failures
    )


def test_a_creditor_in_the_register_or_invented_collateral_is_refused():
    tree, register, attested = epoch_of(HONEST)
    saver = tree.leaf(2)
    creditor = Debtor(2, tree.commitments[2], saver.equity, saver.debt)
    report = audit(hide(register, debtors=(*register.debtors, creditor)), attested)
    assert any("owes nothing" in f for f in report.failures)
    rich = dataclasses.replace(register.debtors[1], equity=(0, 10 * WETH))
    report = audit(hide(register, debtors=(register.debtors[0], rich)), attested)
    assert any("do not lead to the attested root and totals" in f for f in report.failures)


def test_the_boundary_ties_the_debtors_to_the_root_and_shows_no_creditors_path():
    tree, register, attested = epoch_of([*HONEST, [7, 0], [8, 0], [9, 0]])  # 7 leaves, 2 debtors
    # The debtors are leaves 0-1: level 1 has one debtors' node, whose neighbour is node 1
    # (leaves 2-3); level 2 likewise node 1 (leaves 4-7).
    assert boundary_positions(2, 7) == [(1, 1), (2, 1)]
    assert register.boundary == (tree.node(1, 1), tree.node(2, 1))
    doc = register.to_json()
    assert [b["level"] for b in doc["boundary"]] == [1, 2]
    creditors = {c.hex() for c in tree.commitments[2:]}
    assert not any(c in str(doc) for c in creditors)  # no creditor's commitment is published
    first = register.boundary[0]
    forged = dataclasses.replace(first, equity=(first.equity[0] - 1, first.equity[1]))
    report = audit(hide(register, boundary=(forged, register.boundary[1])), attested)
    assert any("do not lead to the attested root and totals" in f for f in report.failures)
    report = audit(hide(register, boundary=register.boundary[:1]), attested)
    assert (
        "the debtors are not tied to the tree: the boundary proof needs 2 nodes, it has 1" in report.failures
    )


@pytest.mark.parametrize(
    ("debtors", "leaves"), [(1, 1), (1, 2), (3, 5), (5, 5), (4, 9), (6, 1000), (1000, 1000)]
)
def test_the_boundary_recomputes_the_root_from_any_prefix(debtors, leaves):
    rows = [[-1, 10**18]] * debtors + [[5, 0]] * (leaves - debtors)
    tree, register, attested = epoch_of(rows)
    assert register.tree_root() == tree.root
    assert len(register.boundary) <= tree.depth
    assert audit(Register.from_json(register.to_json()), attested).ok


def test_a_tree_whose_debtors_are_not_first_has_no_register():
    tree = build_tree(ASSETS, [Leaf(b"\x01" * 32, [1, 0], [0, 0]), Leaf(b"\x02" * 32, [0, 0], [1, 0])])
    with pytest.raises(PorFormatError, match="leaf 1 owes something after leaf 0, which does not"):
        build_register(tree, PRICES, HAIRCUTS)


def test_the_register_must_carry_the_attested_valuation_and_epoch():
    _, register, attested = epoch_of(HONEST)
    report = audit(hide(register, prices=(10**30, 10**30)), attested)
    assert "the register's prices differ from the attested prices" in report.failures
    report = audit(register, dataclasses.replace(attested, haircuts_bps=(0, 0)))
    assert "the register's haircuts differ from the attested haircuts" in report.failures
    report = audit(register, dataclasses.replace(attested, epoch=4))
    assert report.failures[0] == "the register is for epoch 3, the attestation for epoch 4"
    report = audit(register, dataclasses.replace(attested, prices=(0, 1), haircuts_bps=(0, 0)))
    assert any("price 0 is zero" in f for f in report.failures)


def test_a_register_root_or_collateral_sum_other_than_attested_is_refused():
    _, register, attested = epoch_of(HONEST)
    assert audit(register, dataclasses.replace(attested, register_root=b"\x01" * 32)).failures == [
        f"the register's root is 0x{register.register_root.hash.hex()}, the attested register root 0x{'01' * 32}"
    ]
    report = audit(register, dataclasses.replace(attested, register_equity=(0, 0)))
    assert any("the register's equity sums to" in f for f in report.failures)


def test_an_epoch_without_debt_has_an_empty_register_that_audits_clean():
    _, register, attested = epoch_of([[5, 0], [0, 7]])
    assert register.debtors == () and register.register_root.hash == b"\x00" * 32
    assert (attested.debtor_count, attested.register_root) == (0, b"\x00" * 32)
    assert audit(register, attested).ok
    with pytest.raises(IndexError):
        register.challenge_args(0)


@pytest.mark.parametrize(
    ("prices", "haircuts", "message"),
    [
        ((1,), (0, 0), "prices and haircuts must have 2 entries"),
        ((0, 1), (0, 0), "price 0 is zero"),
        ((1, 1), (0, 10_001), "haircut 1 must be an integer in [0, 10000] bps"),
        ((1, 2**256), (0, 0), "price 1 must be an integer in [0, 2**256)"),
    ],
)
def test_a_malformed_valuation_is_refused_with_its_field(prices, haircuts, message):
    tree = build_account_tree(1, ASSETS, [(addr(0), [1, -1])], SECRET)
    with pytest.raises(PorFormatError, match=re.escape(message)):
        build_register(tree, prices, haircuts)


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        ("format", "breakwater-por-register/0", "format: expected"),
        ("haircuts_bps", ["0", "1"], "haircuts_bps: expected a list of integers"),
        ("prices", [1, 2], r"prices\[0\]: expected a decimal string"),
        ("debtors", {}, "debtors: expected a list"),
    ],
)
def test_a_malformed_register_document_names_its_field(field, bad, message):
    _, register, _ = epoch_of(HONEST)
    doc = {**register.to_json(), field: bad}
    with pytest.raises(PorFormatError, match=message):
        Register.from_json(doc)


def test_a_debtors_entry_of_the_wrong_width_is_a_failure_not_a_crash():
    _, register, attested = epoch_of(HONEST)
    short = dataclasses.replace(register.debtors[0], equity=(0,), debt=(1,))
    report = audit(hide(register, debtors=(short, register.debtors[1])), attested)
    assert any("equity and debt must both have 2 entries" in f for f in report.failures)


balances = st.lists(
    st.lists(st.integers(-(10**24), 10**24), min_size=2, max_size=2), min_size=1, max_size=40
).filter(lambda rows: any(any(v) for v in rows))


@settings(max_examples=60, deadline=None)
@given(rows=balances, haircut=st.integers(0, 10_000))
def test_any_epochs_register_sums_to_its_debt_and_only_coverage_can_fail(rows, haircut):
    rows = [r for r in rows if any(r)] or [[1, 0]]
    _, register, attested = epoch_of(rows, haircuts=(0, haircut))
    assert register.register_root.debt == attested.total_debt
    report = audit(register, attested)
    expected = [
        k for k, d in enumerate(register.debtors) if not value(d.equity, d.debt, PRICES, (0, haircut)).covered
    ]
    assert report.uncovered == expected
    assert len(report.failures) == len(expected)  # nothing but the uncovered debtors fails
