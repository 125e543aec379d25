# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Role identifiers shared by every Breakwater contract
@custom:contract-name roles
@license GNU Affero General Public License v3.0 only
@notice One place for the snekmate `access_control` role ids, so that the
        deployables, the deploy script and the off-chain adapters name
        one table. Constants only: import it, nothing to initialise. A
        contract re-exports the ids it uses as `public(constant(...))`.
"""

# @dev Parameters, unpause, registrations: the protocol's governance.
GOVERNOR_ROLE: constant(bytes32) = keccak256("GOVERNOR_ROLE")
# @dev CircuitBreaker: may pause one or all targets at once, never unpause.
GUARDIAN_ROLE: constant(bytes32) = keccak256("GUARDIAN_ROLE")
# @dev CircuitBreaker: protected contracts and the off-chain keeper; may trip.
SENTINEL_ROLE: constant(bytes32) = keccak256("SENTINEL_ROLE")
# @dev Custody: the engine's operator that pays withdrawals.
OPERATOR_ROLE: constant(bytes32) = keccak256("OPERATOR_ROLE")
# @dev InsuranceFund: may pay a shortfall into Custody under the rolling cap.
COVER_ROLE: constant(bytes32) = keccak256("COVER_ROLE")
# @dev ReserveRegistry: posts the per-epoch proof-of-reserves attestation.
ATTESTER_ROLE: constant(bytes32) = keccak256("ATTESTER_ROLE")
# @dev JournalAnchor: anchors the journal's hash-chain head (the exchange's daemon).
ANCHOR_ROLE: constant(bytes32) = keccak256("ANCHOR_ROLE")
