# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title JournalAnchor: the exchange journal's hash-chain heads, on-chain
@custom:contract-name JournalAnchor
@license GNU Affero General Public License v3.0 only
@notice Every journal entry of the exchange is stored with a hash that
        covers the previous entry's hash (`offchain/store/hashchain.py`:
        h(n) = sha256(h(n-1) || n || record n)). Every epoch the daemon
        anchors the head, `(seq, h(seq))`, here under its journal's id
        (the timestamp of the journal's first command). From then on
        nobody, the operator included, can change or remove an entry at or
        before `seq` without the recomputed chain missing the anchor:
        `python -m offchain audit-journal` proves it for a journal file.

        Anchors of one journal strictly advance: each names a later
        position than the last. Re-sending the last anchor (a retry after a
        crash) is a no-op; the same position with another head reverts,
        since it could only mean a rewritten journal.

        Roles (snekmate access control; the governor administers both):
        - governor: grants and revokes the roles;
        - anchor: posts anchors (the exchange's daemon).
"""

from ethereum.ercs import IERC165

implements: IERC165

from snekmate.auth.interfaces import IAccessControl

implements: IAccessControl

from snekmate.auth import access_control

initializes: access_control

from lib import roles

exports: access_control.__interface__


GOVERNOR_ROLE: public(constant(bytes32)) = roles.GOVERNOR_ROLE
ANCHOR_ROLE: public(constant(bytes32)) = roles.ANCHOR_ROLE


# @dev One anchored head: the journal position and its chain hash (when: the `Anchored` event's block).
struct Anchor:
    seq: uint256
    head: bytes32


# @dev journal id -> anchor index (from 0) -> anchor.
anchors: public(HashMap[uint256, HashMap[uint256, Anchor]])

# @dev journal id -> how many anchors it has.
anchor_count: public(HashMap[uint256, uint256])


# @dev The head `head` of journal `journal_id` at position `seq` is anchored as anchor `index`.
event Anchored:
    journal_id: indexed(uint256)
    index: indexed(uint256)
    anchorer: indexed(address)
    seq: uint256
    head: bytes32


@deploy
def __init__(governor: address, anchorer: address):
    """
    @dev Give the roles; the deployer keeps none unless it is one of them.
    @param governor The governor (required).
    @param anchorer The first anchorer (the daemon), or the zero address.
    """
    assert governor != empty(address), "anchor: governor is the zero address"
    access_control.__init__()
    access_control._set_role_admin(GOVERNOR_ROLE, GOVERNOR_ROLE)
    access_control._set_role_admin(ANCHOR_ROLE, GOVERNOR_ROLE)
    access_control._grant_role(GOVERNOR_ROLE, governor)
    if anchorer != empty(address):
        access_control._grant_role(ANCHOR_ROLE, anchorer)
    access_control._revoke_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)


@external
def anchor(journal_id: uint256, seq: uint256, head: bytes32) -> uint256:
    """
    @dev Anchor the chain hash `head` of entry `seq` of journal `journal_id`.
    @notice Anchor role only. `seq` must be after the journal's last
            anchor; the last anchor again is a no-op (returns its index),
            its position with another head reverts.
    @param journal_id The journal's id (not zero).
    @param seq The journal position (the last entry covered, not zero).
    @param head The chain hash of entry `seq` (not zero).
    @return uint256 The anchor's index.
    """
    access_control._check_role(ANCHOR_ROLE, msg.sender)
    assert journal_id != 0, "anchor: zero journal id"
    assert seq != 0, "anchor: zero position"
    assert head != empty(bytes32), "anchor: zero head"
    count: uint256 = self.anchor_count[journal_id]
    if count > 0:
        last: Anchor = self.anchors[journal_id][count - 1]
        if seq == last.seq:
            assert head == last.head, "anchor: another head at the anchored position"
            return count - 1
        assert seq > last.seq, "anchor: position before the last anchor"
    self.anchors[journal_id][count] = Anchor(seq=seq, head=head)
    self.anchor_count[journal_id] = count + 1
    log Anchored(journal_id=journal_id, index=count, anchorer=msg.sender, seq=seq, head=head)
    return count


@external
@view
def latest(journal_id: uint256) -> Anchor:
    """
    @dev Return the last anchor of journal `journal_id`.
    @notice Reverts when the journal has no anchor.
    @param journal_id The journal's id.
    @return Anchor The last anchor.
    """
    count: uint256 = self.anchor_count[journal_id]
    assert count > 0, "anchor: journal has no anchor"
    return self.anchors[journal_id][count - 1]
