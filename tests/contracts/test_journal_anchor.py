"""JournalAnchor: the journal's hash-chain heads, anchored by the daemon's role only."""

from __future__ import annotations

import boa
import pytest
from conftest import deploy

JOURNAL = 1_700_000_000_000
HEAD_A = b"\xaa" * 32
HEAD_B = b"\xbb" * 32


@pytest.fixture
def anchorer():
    return boa.env.generate_address("anchorer")


@pytest.fixture
def anchor(governor, anchorer):
    return deploy("JournalAnchor", governor, anchorer)


def test_anchors_advance_and_are_evented(anchor, anchorer):
    with boa.env.prank(anchorer):
        assert anchor.anchor(JOURNAL, 10, HEAD_A) == 0
        (event,) = [e for e in anchor.get_logs() if type(e).__name__ == "Anchored"]
        assert (event.journal_id, event.index, event.seq, event.head) == (JOURNAL, 0, 10, HEAD_A)
        assert anchor.anchor(JOURNAL, 25, HEAD_B) == 1
    assert anchor.anchor_count(JOURNAL) == 2
    first = anchor.anchors(JOURNAL, 0)
    assert (first.seq, first.head) == (10, HEAD_A)
    assert anchor.latest(JOURNAL).seq == 25
    assert anchor.anchor_count(JOURNAL + 1) == 0  # another journal has its own list


def test_resending_the_last_anchor_is_a_no_op(anchor, anchorer):
    with boa.env.prank(anchorer):
        anchor.anchor(JOURNAL, 10, HEAD_A)
        assert anchor.anchor(JOURNAL, 10, HEAD_A) == 0
    assert anchor.anchor_count(JOURNAL) == 1


def test_a_rewritten_head_or_a_step_back_is_refused(anchor, anchorer):
    with boa.env.prank(anchorer):
        anchor.anchor(JOURNAL, 10, HEAD_A)
        with boa.reverts("anchor: another head at the anchored position"):
            anchor.anchor(JOURNAL, 10, HEAD_B)
        with boa.reverts("anchor: position before the last anchor"):
            anchor.anchor(JOURNAL, 9, HEAD_B)
        with boa.reverts("anchor: zero head"):
            anchor.anchor(JOURNAL, 11, b"\x00" * 32)
        with boa.reverts("anchor: zero position"):
            anchor.anchor(JOURNAL, 0, HEAD_B)
        with boa.reverts("anchor: zero journal id"):
            anchor.anchor(0, 11, HEAD_B)
    assert anchor.anchor_count(JOURNAL) == 1


def test_only_the_anchor_role_anchors(anchor, governor, stranger):
    for who in (stranger, governor):
        with boa.env.prank(who), boa.reverts("access_control: account is missing role"):
            anchor.anchor(JOURNAL, 1, HEAD_A)
    with boa.env.prank(governor):
        anchor.grantRole(anchor.ANCHOR_ROLE(), stranger)
    with boa.env.prank(stranger):
        anchor.anchor(JOURNAL, 1, HEAD_A)


def test_latest_of_a_journal_without_anchors_reverts(anchor):
    with boa.reverts("anchor: journal has no anchor"):
        anchor.latest(JOURNAL)


def test_the_deployer_keeps_no_role(governor, anchorer):
    deployer = boa.env.generate_address("anchor-deployer")
    with boa.env.prank(deployer):
        contract = deploy("JournalAnchor", governor, anchorer)
    assert not contract.hasRole(contract.DEFAULT_ADMIN_ROLE(), deployer)
    assert contract.hasRole(contract.GOVERNOR_ROLE(), governor)
    with boa.reverts("anchor: governor is the zero address"):
        deploy("JournalAnchor", "0x" + "00" * 20, anchorer)
