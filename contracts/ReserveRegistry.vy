# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title Proof-of-reserves registry
@custom:contract-name ReserveRegistry
@license GNU Affero General Public License v3.0 only
@notice The exchange proves its reserves here. An attester posts, per
        epoch, the root of the Merkle-sum tree of user liabilities (SPEC §5),
        the total equity and total debt per asset and the leaf count; epochs
        strictly increase, by at most `MAX_EPOCH_STEP` per attestation, so
        that no attester (a compromised key included) can post an epoch that
        leaves no room for the next one (epoch 2**256 - 1 would brick every
        later `attest`). Reserves are not claimed: they are read live from
        `balanceOf` of the registered reserve addresses (Custody and the cold
        wallets), so `reserve_ratio_bps` is computed on-chain.

        The debtors' register (docs/por.md): with every attestation the
        attester also posts the root of the Merkle-sum tree over the leaves
        that owe anything (same leaf and node format, leaves in index order),
        the epoch's price and haircut per asset. The register's debt sums
        are the epoch's `total_debt` by construction (its root is kept as
        H(register root ‖ register equity ‖ total_debt)), so a debt that is
        not published cannot be counted. Anyone may `challenge_debtor` with a
        register entry and its proof: a debtor whose collateral at the
        attested prices and haircuts does not cover its debt trips the
        breaker. `gross_ratio_bps` (reserves / total equity) stands beside
        the net `reserve_ratio_bps` (reserves / (equity - debt)).

        Paid withdrawals (issue 14.5): the registry records Custody's
        `paid_out` per asset at attest time; the liabilities it checks are
        the attested ones minus what Custody paid since, so a withdrawal
        paid after the epoch never looks like a shortfall.

        Anyone may verify an inclusion proof (`verify_inclusion`) and call
        `check_solvency`, which trips the CircuitBreaker for `halt_target`
        (Custody: withdrawals stop, and the InsuranceFund freezes unstaking)
        when an asset's reserves are below its net liabilities or the latest
        attestation is older than the heartbeat. The registry must hold the
        breaker's sentinel role to trip a target other than itself.

        Roles (snekmate access control; the governor administers both):
        - governor: heartbeat, reserve addresses, halt target, Custody, roles, and
          `rotate_attester` (revoke one attester and grant the next in one
          evented call);
        - attester: posts attestations (the exchange's chain poster).
"""

from ethereum.ercs import IERC165

implements: IERC165

from ethereum.ercs import IERC20

from snekmate.auth.interfaces import IAccessControl

implements: IAccessControl

from interfaces import ICircuitBreaker


# @dev What the registry reads of Custody (its cumulative payouts).
interface ICustodyPayouts:
    def paid_out(token: address) -> uint256: view

from snekmate.auth import access_control

initializes: access_control

from lib import merkle_sum
from lib import roles
from lib import trip_reasons

exports: access_control.__interface__


GOVERNOR_ROLE: public(constant(bytes32)) = roles.GOVERNOR_ROLE
ATTESTER_ROLE: public(constant(bytes32)) = roles.ATTESTER_ROLE

MAX_ASSETS: public(constant(uint256)) = merkle_sum.MAX_ASSETS
MAX_DEPTH: public(constant(uint256)) = merkle_sum.MAX_DEPTH
MAX_SIBLING_SUMS: public(constant(uint256)) = merkle_sum.MAX_SIBLING_SUMS
MAX_LEAVES: public(constant(uint256)) = 2**32
# @dev The largest step from the latest epoch to the next one: room for
# skipped epochs (a failed post), never a jump to the end of uint256.
MAX_EPOCH_STEP: public(constant(uint256)) = 1_000
MAX_RESERVE_ADDRESSES: public(constant(uint256)) = 16
DEFAULT_HEARTBEAT: public(constant(uint256)) = 3600
MIN_HEARTBEAT: public(constant(uint256)) = 60
MAX_HEARTBEAT: public(constant(uint256)) = 7 * 86400
# @dev Reserves at 100 % of net liabilities.
FULL_RESERVE_BPS: public(constant(uint256)) = 10_000
# @dev A haircut of 10000 bps: the asset counts for nothing as collateral.
MAX_HAIRCUT_BPS: public(constant(uint256)) = 10_000
# @dev `Attestation.meta` packs leaf_count above a 64-bit timestamp.
_TIME_BITS: constant(uint256) = 64
_TIME_MASK: constant(uint256) = 2**64 - 1


# @dev What every epoch keeps on-chain (its asset list and sums are in its
# `Attested` event; the latest epoch's are also in storage below).
struct Attestation:
    root: bytes32
    # H(root ‖ total_equity ‖ total_debt): one slot for `verify_inclusion` to read
    root_digest: bytes32
    # leaf_count << 64 | timestamp of the attestation
    meta: uint256
    # the debtors' register: its root hash (0 when nobody owes anything)
    register_root: bytes32
    # H(register root ‖ register equity ‖ total_debt)
    register_digest: bytes32
    # the number of debtors (leaves of the register)
    debtor_count: uint256


breaker: public(immutable(ICircuitBreaker))

# @dev The contract `check_solvency` trips (Custody).
halt_target: public(address)

# @dev An attestation older than this many seconds is stale.
heartbeat: public(uint256)

# @dev The last attested epoch (0 before the first attestation).
latest_epoch: public(uint256)

# @dev Addresses whose balances count as reserves (Custody, cold wallets).
reserve_addresses: public(DynArray[address, MAX_RESERVE_ADDRESSES])

_attestations: HashMap[uint256, Attestation]

# @dev The latest epoch's asset list and root sums (overwritten by each epoch).
_latest_assets: DynArray[address, MAX_ASSETS]
_latest_equity: DynArray[uint256, MAX_ASSETS]
_latest_debt: DynArray[uint256, MAX_ASSETS]
# @dev The latest epoch's price (per atom, one unit of account for all
# assets) and collateral haircut (bps) per asset.
_latest_prices: DynArray[uint256, MAX_ASSETS]
_latest_haircuts: DynArray[uint256, MAX_ASSETS]
# @dev Custody's `paid_out` per asset of the latest epoch, read at attest,
# and the Custody it was read from (a new `custody` counts from the next epoch).
_latest_paid: DynArray[uint256, MAX_ASSETS]
_latest_paid_custody: address

# @dev The Custody whose `paid_out` reduces the attested liabilities (zero:
# none, the attested liabilities are used as they are).
custody: public(address)


# @dev An epoch's liabilities were posted (the record of every epoch's sums).
event Attested:
    epoch: indexed(uint256)
    root: bytes32
    leaf_count: uint256
    attester: indexed(address)
    assets: DynArray[address, MAX_ASSETS]
    total_equity: DynArray[uint256, MAX_ASSETS]
    total_debt: DynArray[uint256, MAX_ASSETS]


# @dev The epoch's debtors' register and valuation (docs/por.md): posted
# with every `Attested`.
event RegisterPosted:
    epoch: indexed(uint256)
    register_root: bytes32
    debtor_count: uint256
    register_equity: DynArray[uint256, MAX_ASSETS]
    prices: DynArray[uint256, MAX_ASSETS]
    haircuts_bps: DynArray[uint256, MAX_ASSETS]


# @dev A register entry was shown not to cover its debt; Custody is halted.
event DebtorUncovered:
    epoch: indexed(uint256)
    index: uint256
    commitment: bytes32
    collateral_value: uint256
    debt_value: uint256


# @dev `check_solvency` tripped the breaker for `halt_target`.
event SolvencyTripped:
    epoch: indexed(uint256)
    reason: uint256
    asset: address
    metric: uint256


event ReserveAddressSet:
    account: indexed(address)
    counted: bool


event HeartbeatSet:
    heartbeat: uint256


event HaltTargetSet:
    target: indexed(address)


event CustodySet:
    custody: indexed(address)


# @dev The governor replaced attester `previous` by `attester`.
event AttesterRotated:
    previous: indexed(address)
    attester: indexed(address)


@deploy
def __init__(breaker_: ICircuitBreaker, governor: address, attester: address):
    """
    @dev Give the roles; the deployer keeps none unless it is one of them.
    @param breaker_ The protocol's CircuitBreaker.
    @param governor The governor (required).
    @param attester The first attester, or the zero address.
    """
    assert governor != empty(address), "registry: governor is the zero address"
    breaker = breaker_
    access_control.__init__()
    access_control._set_role_admin(GOVERNOR_ROLE, GOVERNOR_ROLE)
    access_control._set_role_admin(ATTESTER_ROLE, GOVERNOR_ROLE)
    access_control._grant_role(GOVERNOR_ROLE, governor)
    if attester != empty(address):
        access_control._grant_role(ATTESTER_ROLE, attester)
    access_control._revoke_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)
    self.heartbeat = DEFAULT_HEARTBEAT


@external
def attest(
    epoch: uint256,
    root: bytes32,
    assets: DynArray[address, MAX_ASSETS],
    total_equity: DynArray[uint256, MAX_ASSETS],
    total_debt: DynArray[uint256, MAX_ASSETS],
    leaf_count: uint256,
    register_root: bytes32 = empty(bytes32),
    register_equity: DynArray[uint256, MAX_ASSETS] = [],
    debtor_count: uint256 = 0,
    prices: DynArray[uint256, MAX_ASSETS] = [],
    haircuts_bps: DynArray[uint256, MAX_ASSETS] = [],
):
    """
    @dev Post the liabilities of `epoch`: the tree root and its sums, and
         its debtors' register with the prices and haircuts it is valued at.
    @notice Attester only. Arrays longer than 8 do not decode (revert).
            Records Custody's `paid_out` of every asset. The short form
            (the first six arguments) posts an empty register and no
            valuation: only for an epoch in which nobody owes anything.
    @param epoch The epoch: above the latest one by 1 .. MAX_EPOCH_STEP.
    @param root The Merkle-sum root hash (SPEC §5).
    @param assets The epoch's ordered asset list (1..8 distinct tokens).
    @param total_equity The root equity sum per asset.
    @param total_debt The root debt sum per asset.
    @param leaf_count The number of leaves (accounts), 1 .. 2**32.
    @param register_root The root hash of the debtors' register (zero with
           no debtors); its debt sums are `total_debt`.
    @param register_equity The register root's equity sum per asset (the
           debtors' collateral), at most `total_equity` (empty: all zero).
    @param debtor_count The register's leaf count, 0 .. leaf_count (0 only
           when `total_debt` is all zero).
    @param prices The price of one atom of each asset, > 0, in one unit of
           account for all assets (empty: no valuation, no debtors).
    @param haircuts_bps The collateral haircut per asset, 0 .. 10000
           (empty with `prices`).
    """
    access_control._check_role(ATTESTER_ROLE, msg.sender)
    latest: uint256 = self.latest_epoch
    assert epoch > latest, "registry: epoch must increase"
    assert epoch - latest <= MAX_EPOCH_STEP, "registry: epoch step above MAX_EPOCH_STEP"
    n: uint256 = len(assets)
    assert n > 0, "registry: no assets"
    assert len(total_equity) == n and len(total_debt) == n, "registry: array lengths differ"
    valued: bool = len(prices) > 0
    if valued:
        assert len(prices) == n and len(haircuts_bps) == n, "registry: array lengths differ"
    else:
        assert len(haircuts_bps) == 0 and debtor_count == 0, "registry: a register needs prices and haircuts"
    collateral: DynArray[uint256, MAX_ASSETS] = register_equity
    if len(collateral) == 0:
        for i: uint256 in range(n, bound=MAX_ASSETS):
            collateral.append(0)
    assert len(collateral) == n, "registry: array lengths differ"
    assert leaf_count > 0, "registry: leaf count must be at least 1"
    assert leaf_count <= MAX_LEAVES, "registry: more than 2**32 leaves"
    assert debtor_count <= leaf_count, "registry: more debtors than leaves"
    owed: bool = False
    custody_: address = self.custody
    paid: DynArray[uint256, MAX_ASSETS] = []
    for i: uint256 in range(n, bound=MAX_ASSETS):
        assert assets[i] != empty(address), "registry: zero asset address"
        for j: uint256 in range(i + 1, n, bound=MAX_ASSETS):
            assert assets[j] != assets[i], "registry: duplicate asset"
        if valued:
            assert prices[i] > 0, "registry: zero price"
            assert haircuts_bps[i] <= MAX_HAIRCUT_BPS, "registry: haircut above 10000 bps"
        assert collateral[i] <= total_equity[i], "registry: debtors' equity above total equity"
        owed = owed or total_debt[i] > 0
        if custody_ != empty(address):
            paid.append(staticcall ICustodyPayouts(custody_).paid_out(assets[i]))
        else:
            paid.append(0)
    if debtor_count == 0:
        assert not owed, "registry: debt without debtors"
        assert register_root == empty(bytes32), "registry: empty register has root 0"
    else:
        assert owed, "registry: debtors without debt"
    self._attestations[epoch] = Attestation(
        root=root,
        root_digest=merkle_sum._root_digest(root, total_equity, total_debt),
        meta=leaf_count << _TIME_BITS | block.timestamp,
        register_root=register_root,
        register_digest=merkle_sum._root_digest(register_root, collateral, total_debt),
        debtor_count=debtor_count,
    )
    self.latest_epoch = epoch
    # Rewriting an unchanged word costs no more than reading it (EIP-2200).
    self._latest_assets = assets
    self._latest_equity = total_equity
    self._latest_debt = total_debt
    self._latest_prices = prices
    self._latest_haircuts = haircuts_bps
    self._latest_paid = paid
    self._latest_paid_custody = custody_
    log Attested(
        epoch=epoch,
        root=root,
        leaf_count=leaf_count,
        attester=msg.sender,
        assets=assets,
        total_equity=total_equity,
        total_debt=total_debt,
    )
    log RegisterPosted(
        epoch=epoch,
        register_root=register_root,
        debtor_count=debtor_count,
        register_equity=collateral,
        prices=prices,
        haircuts_bps=haircuts_bps,
    )


@external
@view
def verify_inclusion(
    epoch: uint256,
    account_commitment: bytes32,
    equity: DynArray[uint256, MAX_ASSETS],
    debt: DynArray[uint256, MAX_ASSETS],
    index: uint256,
    sibling_hashes: DynArray[bytes32, MAX_DEPTH],
    sibling_equity: DynArray[uint256, MAX_SIBLING_SUMS],
    sibling_debt: DynArray[uint256, MAX_SIBLING_SUMS],
) -> bool:
    """
    @dev Return whether an account's leaf is in the tree attested for
         `epoch` with exactly the attested root hash and root sums.
    @notice Shapes (N = the epoch's asset count, in its asset order;
            D = ceil(log2(leaf_count))): `equity` and `debt` hold N values;
            `sibling_hashes` holds D hashes from the leaf level up;
            `sibling_equity` and `sibling_debt` are flat, D x N values level
            by level (level k, asset i at k * N + i). An unknown epoch or a
            proof of the wrong shape is invalid (False).
    @param epoch The attested epoch.
    @param account_commitment H(address as 32 bytes ‖ salt).
    @param equity The account's equity per asset.
    @param debt The account's debt per asset.
    @param index The leaf's position in the epoch's tree.
    @param sibling_hashes The sibling hash at each level.
    @param sibling_equity The siblings' equity sums, level by level.
    @param sibling_debt The siblings' debt sums, level by level.
    @return bool True if the proof is valid for the attested epoch.
    """
    leaf_count: uint256 = self._attestations[epoch].meta >> _TIME_BITS
    if leaf_count == 0:
        return False
    return merkle_sum._verify(
        self._attestations[epoch].root_digest,
        leaf_count,
        account_commitment,
        equity,
        debt,
        index,
        sibling_hashes,
        sibling_equity,
        sibling_debt,
    )


@external
@view
def verify_debtor(
    epoch: uint256,
    account_commitment: bytes32,
    equity: DynArray[uint256, MAX_ASSETS],
    debt: DynArray[uint256, MAX_ASSETS],
    index: uint256,
    sibling_hashes: DynArray[bytes32, MAX_DEPTH],
    sibling_equity: DynArray[uint256, MAX_SIBLING_SUMS],
    sibling_debt: DynArray[uint256, MAX_SIBLING_SUMS],
) -> bool:
    """
    @dev Return whether an entry is leaf `index` of the debtors' register
         attested for `epoch` (same shapes as `verify_inclusion`, with the
         register's leaf count `debtor_count`).
    @param epoch The attested epoch.
    @param account_commitment The debtor's commitment.
    @param equity The debtor's equity per asset.
    @param debt The debtor's debt per asset.
    @param index The entry's position in the register.
    @param sibling_hashes The sibling hash at each level of the register.
    @param sibling_equity The siblings' equity sums, level by level.
    @param sibling_debt The siblings' debt sums, level by level.
    @return bool True if the entry is in the register.
    """
    return self._in_register(
        epoch, account_commitment, equity, debt, index, sibling_hashes, sibling_equity, sibling_debt
    )


@external
def challenge_debtor(
    account_commitment: bytes32,
    equity: DynArray[uint256, MAX_ASSETS],
    debt: DynArray[uint256, MAX_ASSETS],
    index: uint256,
    sibling_hashes: DynArray[bytes32, MAX_DEPTH],
    sibling_equity: DynArray[uint256, MAX_SIBLING_SUMS],
    sibling_debt: DynArray[uint256, MAX_SIBLING_SUMS],
) -> bool:
    """
    @dev Trip the breaker for `halt_target` if the given entry of the
         latest epoch's debtors' register does not cover its debt:
         sum(equity[i] * price[i] * (10000 - haircut[i])) <
         sum(debt[i] * price[i] * 10000) at the attested prices and haircuts.
    @notice Anyone may call it. Reverts unless the entry is in the latest
            register (`verify_debtor`); a value whose product overflows
            uint256 reverts (docs/por.md: verifiers compute exactly).
    @param account_commitment The debtor's commitment.
    @param equity The debtor's equity per asset.
    @param debt The debtor's debt per asset.
    @param index The entry's position in the register.
    @param sibling_hashes The sibling hash at each level of the register.
    @param sibling_equity The siblings' equity sums, level by level.
    @param sibling_debt The siblings' debt sums, level by level.
    @return bool True if it tripped the breaker (the debtor is uncovered).
    """
    epoch: uint256 = self.latest_epoch
    assert self._in_register(
        epoch, account_commitment, equity, debt, index, sibling_hashes, sibling_equity, sibling_debt
    ), "registry: not in the latest debtors' register"
    collateral: uint256 = 0
    owed: uint256 = 0
    for i: uint256 in range(len(equity), bound=MAX_ASSETS):
        price: uint256 = self._latest_prices[i]
        collateral += equity[i] * price * (MAX_HAIRCUT_BPS - self._latest_haircuts[i])
        owed += debt[i] * price * MAX_HAIRCUT_BPS
    if collateral >= owed:
        return False
    target: address = self.halt_target
    assert target != empty(address), "registry: no halt target"
    extcall breaker.trip(target, trip_reasons.RESERVES_UNCOVERED_DEBT, index)
    log SolvencyTripped(epoch=epoch, reason=trip_reasons.RESERVES_UNCOVERED_DEBT, asset=empty(address), metric=index)
    log DebtorUncovered(
        epoch=epoch, index=index, commitment=account_commitment, collateral_value=collateral, debt_value=owed
    )
    return True


@external
def check_solvency() -> bool:
    """
    @dev Trip the breaker for `halt_target` if the latest attestation is
         stale or an asset's reserves are below its net liabilities less
         what Custody paid out since the attestation.
    @notice Anyone may call it. Before the first attestation there is
            nothing to check (returns False).
    @return bool True if it tripped the breaker.
    """
    epoch: uint256 = self.latest_epoch
    if epoch == 0:
        return False
    target: address = self.halt_target
    assert target != empty(address), "registry: no halt target"
    age: uint256 = self._age(epoch)
    if age > self.heartbeat:
        extcall breaker.trip(target, trip_reasons.RESERVES_STALE, age)
        log SolvencyTripped(epoch=epoch, reason=trip_reasons.RESERVES_STALE, asset=empty(address), metric=age)
        return True
    assets: DynArray[address, MAX_ASSETS] = self._latest_assets
    for i: uint256 in range(len(assets), bound=MAX_ASSETS):
        ratio: uint256 = self._ratio_bps(assets[i], self._less_paid(assets[i], i, self._net(i)))
        if ratio < FULL_RESERVE_BPS:
            extcall breaker.trip(target, trip_reasons.RESERVES_SHORTFALL, ratio)
            log SolvencyTripped(epoch=epoch, reason=trip_reasons.RESERVES_SHORTFALL, asset=assets[i], metric=ratio)
            return True
    return False


@external
def set_reserve_address(account: address, counted: bool):
    """
    @dev Count (or stop counting) `account`'s balances as reserves.
    @notice Governor only.
    @param account A custody contract or cold wallet.
    @param counted True to add, False to remove.
    """
    access_control._check_role(GOVERNOR_ROLE, msg.sender)
    assert account != empty(address), "registry: zero address"
    found: bool = account in self.reserve_addresses
    if counted:
        assert not found, "registry: already a reserve address"
        assert len(self.reserve_addresses) < MAX_RESERVE_ADDRESSES, "registry: too many reserve addresses"
        self.reserve_addresses.append(account)
    else:
        assert found, "registry: not a reserve address"
        kept: DynArray[address, MAX_RESERVE_ADDRESSES] = []
        for a: address in self.reserve_addresses:
            if a != account:
                kept.append(a)
        self.reserve_addresses = kept
    log ReserveAddressSet(account=account, counted=counted)


@external
def set_heartbeat(heartbeat: uint256):
    """
    @dev Set how old an attestation may be before it is stale.
    @notice Governor only; 60 s .. 7 days.
    @param heartbeat The heartbeat in seconds.
    """
    access_control._check_role(GOVERNOR_ROLE, msg.sender)
    assert heartbeat >= MIN_HEARTBEAT and heartbeat <= MAX_HEARTBEAT, "registry: heartbeat out of range"
    self.heartbeat = heartbeat
    log HeartbeatSet(heartbeat=heartbeat)


@external
def set_halt_target(target: address):
    """
    @dev Set the contract `check_solvency` trips (it must be protected by
         the breaker).
    @notice Governor only.
    @param target The contract to halt on a breach (Custody).
    """
    access_control._check_role(GOVERNOR_ROLE, msg.sender)
    assert target != empty(address), "registry: zero address"
    self.halt_target = target
    log HaltTargetSet(target=target)


@external
def set_custody(custody_: address):
    """
    @dev Set the Custody whose `paid_out` reduces the attested liabilities
         (read at the next `attest`; zero: none).
    @notice Governor only. Takes effect from the next attestation (which
            records its payouts): until then the latest epoch is adjusted by
            the Custody recorded with it, if any.
    @param custody_ Custody (it exposes `paid_out(token)`).
    """
    access_control._check_role(GOVERNOR_ROLE, msg.sender)
    self.custody = custody_
    log CustodySet(custody=custody_)


@external
def rotate_attester(previous: address, attester: address):
    """
    @dev Revoke the attester role of `previous` and grant it to `attester`.
    @notice Governor only. `previous` must hold the role (a typo cannot
            leave the old key in place); `attester` must not be zero.
    @param previous The attester to remove.
    @param attester The new attester.
    """
    access_control._check_role(GOVERNOR_ROLE, msg.sender)
    assert attester != empty(address), "registry: zero address"
    assert access_control.hasRole[ATTESTER_ROLE][previous], "registry: previous is not an attester"
    access_control._revoke_role(ATTESTER_ROLE, previous)
    access_control._grant_role(ATTESTER_ROLE, attester)
    log AttesterRotated(previous=previous, attester=attester)


@external
@view
def is_fresh() -> bool:
    """
    @dev Return whether the latest attestation is at most `heartbeat` old.
    @return bool False before the first attestation.
    """
    epoch: uint256 = self.latest_epoch
    if epoch == 0:
        return False
    return self._age(epoch) <= self.heartbeat


@external
@view
def reserves(asset: address) -> uint256:
    """
    @dev Return the live reserves of `asset`: its balance summed over the
         reserve addresses.
    @param asset The token.
    @return uint256 The reserves in token units.
    """
    return self._reserves(asset)


@external
@view
def liabilities(asset: address) -> uint256:
    """
    @dev Return the net liabilities of `asset` now: the latest epoch's
         total equity minus total debt, less what Custody paid out since;
         0 if negative or not listed.
    @param asset The token.
    @return uint256 The net liabilities in token units.
    """
    i: uint256 = self._asset_index(asset)
    if i == MAX_ASSETS:
        return 0
    return self._less_paid(asset, i, self._net(i))


@external
@view
def reserve_ratio_bps(asset: address) -> uint256:
    """
    @dev Return the net ratio: reserves x 10000 / net liabilities
         (`liabilities`: equity - debt, less payouts since the epoch).
    @param asset The token.
    @return uint256 The ratio in basis points; max uint256 when the net
            liabilities are zero (or the asset is not listed).
    """
    i: uint256 = self._asset_index(asset)
    if i == MAX_ASSETS:
        return max_value(uint256)
    return self._ratio_bps(asset, self._less_paid(asset, i, self._net(i)))


@external
@view
def gross_ratio_bps(asset: address) -> uint256:
    """
    @dev Return the gross ratio: reserves x 10000 / total equity (less
         payouts since the epoch), which counts no receivable from debtors.
    @param asset The token.
    @return uint256 The ratio in basis points; max uint256 when the equity
            is zero (or the asset is not listed).
    """
    i: uint256 = self._asset_index(asset)
    if i == MAX_ASSETS:
        return max_value(uint256)
    return self._ratio_bps(asset, self._less_paid(asset, i, self._latest_equity[i]))


@external
@view
def paid_since(asset: address) -> uint256:
    """
    @dev Return what Custody paid out of `asset` since the latest epoch
         was attested (0 without Custody or if not listed).
    @param asset The token.
    @return uint256 The amount in token units.
    """
    i: uint256 = self._asset_index(asset)
    if i == MAX_ASSETS:
        return 0
    return self._paid_since(asset, i)


@external
@view
def register(epoch: uint256) -> (bytes32, uint256):
    """
    @dev Return an epoch's debtors' register root and debtor count (its
         equity sums, prices and haircuts are in its `RegisterPosted` event).
    @param epoch The epoch.
    @return bytes32 The register's root hash.
    @return uint256 The number of debtors.
    """
    return self._attestations[epoch].register_root, self._attestations[epoch].debtor_count


@external
@view
def latest_valuation() -> (DynArray[uint256, MAX_ASSETS], DynArray[uint256, MAX_ASSETS]):
    """
    @dev Return the latest epoch's prices and haircuts per asset.
    @return DynArray The price of one atom per asset.
    @return DynArray The collateral haircut per asset in bps.
    """
    return self._latest_prices, self._latest_haircuts


@external
@view
def attestation(epoch: uint256) -> (bytes32, uint256, uint256):
    """
    @dev Return an epoch's root, leaf count and posting time (zeros if the
         epoch was never attested).
    @param epoch The epoch.
    @return bytes32 The root hash.
    @return uint256 The leaf count.
    @return uint256 The block timestamp of the attestation.
    """
    meta: uint256 = self._attestations[epoch].meta
    return self._attestations[epoch].root, meta >> _TIME_BITS, meta & _TIME_MASK


@external
@view
def latest_assets() -> DynArray[address, MAX_ASSETS]:
    """
    @dev Return the latest epoch's ordered asset list (earlier epochs'
         are in their `Attested` events).
    @return DynArray The assets, in tree order.
    """
    return self._latest_assets


@external
@view
def latest_totals() -> (DynArray[uint256, MAX_ASSETS], DynArray[uint256, MAX_ASSETS]):
    """
    @dev Return the latest epoch's root sums (earlier epochs' are in their
         `Attested` events).
    @return DynArray The total equity per asset.
    @return DynArray The total debt per asset.
    """
    return self._latest_equity, self._latest_debt


@external
@view
def reserve_addresses_count() -> uint256:
    """
    @dev Return how many addresses count as reserves (`reserve_addresses(i)`).
    @return uint256 The count.
    """
    return len(self.reserve_addresses)


@internal
@view
def _reserves(asset: address) -> uint256:
    total: uint256 = 0
    for account: address in self.reserve_addresses:
        total += staticcall IERC20(asset).balanceOf(account)
    return total


@internal
@view
def _age(epoch: uint256) -> uint256:
    return block.timestamp - (self._attestations[epoch].meta & _TIME_MASK)


@internal
@view
def _net(i: uint256) -> uint256:
    # The latest epoch's net liabilities of its asset i.
    equity: uint256 = self._latest_equity[i]
    debt: uint256 = self._latest_debt[i]
    if debt >= equity:
        return 0
    return equity - debt


@internal
@view
def _paid_since(asset: address, i: uint256) -> uint256:
    # The payouts since the latest attestation of the Custody it recorded
    # them from (a Custody set since then counts from the next epoch).
    custody_: address = self._latest_paid_custody
    if custody_ == empty(address):
        return 0
    now: uint256 = staticcall ICustodyPayouts(custody_).paid_out(asset)
    then: uint256 = self._latest_paid[i]
    if now <= then:
        return 0
    return now - then


@internal
@view
def _less_paid(asset: address, i: uint256, amount: uint256) -> uint256:
    paid: uint256 = self._paid_since(asset, i)
    if paid >= amount:
        return 0
    return amount - paid


@internal
@view
def _in_register(
    epoch: uint256,
    account_commitment: bytes32,
    equity: DynArray[uint256, MAX_ASSETS],
    debt: DynArray[uint256, MAX_ASSETS],
    index: uint256,
    sibling_hashes: DynArray[bytes32, MAX_DEPTH],
    sibling_equity: DynArray[uint256, MAX_SIBLING_SUMS],
    sibling_debt: DynArray[uint256, MAX_SIBLING_SUMS],
) -> bool:
    count: uint256 = self._attestations[epoch].debtor_count
    if count == 0:
        return False
    return merkle_sum._verify(
        self._attestations[epoch].register_digest,
        count,
        account_commitment,
        equity,
        debt,
        index,
        sibling_hashes,
        sibling_equity,
        sibling_debt,
    )


@internal
@view
def _ratio_bps(asset: address, net_liabilities: uint256) -> uint256:
    if net_liabilities == 0:
        return max_value(uint256)
    reserves: uint256 = self._reserves(asset)
    # Above max_value / 10000 the ratio is far beyond any threshold anyway.
    if reserves > max_value(uint256) // FULL_RESERVE_BPS:
        return max_value(uint256)
    return reserves * FULL_RESERVE_BPS // net_liabilities


@internal
@view
def _asset_index(asset: address) -> uint256:
    # MAX_ASSETS stands for "not listed" in the latest epoch (or no epoch yet).
    assets: DynArray[address, MAX_ASSETS] = self._latest_assets
    for i: uint256 in range(len(assets), bound=MAX_ASSETS):
        if assets[i] == asset:
            return i
    return MAX_ASSETS
