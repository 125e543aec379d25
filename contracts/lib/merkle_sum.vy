# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Merkle-sum tree inclusion proofs (SPEC §5, the published format)
@custom:contract-name merkle_sum
@license GNU Affero General Public License v3.0 only
@notice Recompute the root of a proof-of-reserves tree from one leaf and its
        siblings, and compare it with an attested root hash and root sums.
        Stateless: import it, nothing to initialise.

        The attested root is kept as one word, `_root_digest` =
        H(root hash ‖ total equity ‖ total debt), so that a verification
        reads one storage slot for it instead of 2N + 3.

        Format (every value a uint256 as 32 big-endian bytes, H = keccak256):
        - leaf:  H(commitment ‖ equity[0..N) ‖ debt[0..N))
        - node:  H(L.hash ‖ L.equity ‖ L.debt ‖ R.hash ‖ R.equity ‖ R.debt),
                 equity = L.equity + R.equity, debt = L.debt + R.debt;
        - a level with an odd count is padded with an empty node (hash 0,
          sums 0); depth = ceil(log2(leaf_count)), a single leaf is the root;
        - bit k of `index` set: the path node is the right child at level k.

        Calldata shapes (N = the epoch's number of assets, D = the depth):
        `equity` and `debt` are DynArray[uint256, 8] of exactly N entries;
        `sibling_hashes` is DynArray[bytes32, 32] of D entries from the
        bottom; `sibling_equity` and `sibling_debt` are flat
        DynArray[uint256, 256] of D x N entries, level by level (the level-k
        sibling's value of asset i at k * N + i). Flat arrays cost less
        calldata and decoding than nested ones.

        Sums are added with checked arithmetic: a proof whose sums overflow
        uint256 reverts instead of returning False.
"""


# @dev The most assets an epoch lists.
MAX_ASSETS: constant(uint256) = 8
# @dev The deepest tree (2**32 leaves).
MAX_DEPTH: constant(uint256) = 32
# @dev The most sibling sums of one kind in a proof (depth x assets).
MAX_SIBLING_SUMS: constant(uint256) = MAX_DEPTH * MAX_ASSETS
# @dev Bytes of one node record: hash, then N equity and N debt values.
_RECORD_BYTES: constant(uint256) = 32 * (1 + 2 * MAX_ASSETS)


@internal
@pure
def _depth(leaf_count: uint256) -> uint256:
    """
    @dev Return ceil(log2(leaf_count)), the number of siblings of every
         proof in a tree of `leaf_count` leaves.
    @param leaf_count The number of leaves, at least 1.
    @return uint256 The depth of the tree.
    """
    depth: uint256 = 0
    for _: uint256 in range(MAX_DEPTH + 1):
        if 1 << depth >= leaf_count:
            break
        depth += 1
    return depth


@internal
@pure
def _root_digest(
    root: bytes32, total_equity: DynArray[uint256, MAX_ASSETS], total_debt: DynArray[uint256, MAX_ASSETS]
) -> bytes32:
    """
    @dev Return H(root ‖ total_equity ‖ total_debt): the root's record,
         hashed, which pins the root hash and both root sums in one word.
    @notice `total_equity` and `total_debt` must have the same length.
    @param root The root hash.
    @param total_equity The root equity sums, N entries.
    @param total_debt The root debt sums, N entries.
    @return bytes32 The digest `_verify` compares against.
    """
    n: uint256 = len(total_equity)
    equity: uint256[MAX_ASSETS] = empty(uint256[MAX_ASSETS])
    debt: uint256[MAX_ASSETS] = empty(uint256[MAX_ASSETS])
    for i: uint256 in range(n, bound=MAX_ASSETS):
        equity[i] = total_equity[i]
        debt[i] = total_debt[i]
    return self._record_hash(root, equity, debt, unsafe_mul(32, n))


@internal
@pure
def _verify(
    root_digest: bytes32,
    leaf_count: uint256,
    commitment: bytes32,
    equity: DynArray[uint256, MAX_ASSETS],
    debt: DynArray[uint256, MAX_ASSETS],
    index: uint256,
    sibling_hashes: DynArray[bytes32, MAX_DEPTH],
    sibling_equity: DynArray[uint256, MAX_SIBLING_SUMS],
    sibling_debt: DynArray[uint256, MAX_SIBLING_SUMS],
) -> bool:
    """
    @dev Return whether the leaf (`commitment`, `equity`, `debt`) at `index`
         with the given siblings leads to the attested root hash and root
         sums (given as their `_root_digest`) in a tree of `leaf_count` leaves.
    @notice A proof of the wrong shape (lengths, index, depth) is invalid.
            N is the length of `equity`; a proof with a different N than the
            attested root's cannot match its digest.
    @param root_digest `_root_digest` of the attested root.
    @param leaf_count The attested number of leaves.
    @param commitment The account commitment H(address ‖ salt).
    @param equity The account's equity per asset.
    @param debt The account's debt per asset.
    @param index The leaf's position in attestation order.
    @param sibling_hashes The sibling hash at each level from the bottom.
    @param sibling_equity The siblings' equity sums, level by level: level
           k's N values at [k * N, (k + 1) * N).
    @param sibling_debt The siblings' debt sums, laid out the same way.
    @return bool True if the proof is valid.
    """
    n: uint256 = len(equity)
    depth: uint256 = len(sibling_hashes)
    if n == 0 or len(debt) != n:
        return False
    if index >= leaf_count or depth != self._depth(leaf_count):
        return False
    if len(sibling_equity) != depth * n or len(sibling_debt) != depth * n:
        return False

    # A record `hash ‖ equity ‖ debt` is built from fixed arrays of sums:
    # the first 32n bytes of their ABI encoding are the packed words.
    # Index arithmetic below is bounded (k < 32, i < n <= 8): unchecked.
    width: uint256 = unsafe_mul(32, n)
    sum_equity: uint256[MAX_ASSETS] = empty(uint256[MAX_ASSETS])
    sum_debt: uint256[MAX_ASSETS] = empty(uint256[MAX_ASSETS])
    sib_equity: uint256[MAX_ASSETS] = empty(uint256[MAX_ASSETS])
    sib_debt: uint256[MAX_ASSETS] = empty(uint256[MAX_ASSETS])
    for i: uint256 in range(n, bound=MAX_ASSETS):
        sum_equity[i] = equity[i]
        sum_debt[i] = debt[i]
    node_hash: bytes32 = self._record_hash(commitment, sum_equity, sum_debt, width)

    for k: uint256 in range(depth, bound=MAX_DEPTH):
        own: Bytes[_RECORD_BYTES] = concat(
            node_hash, slice(abi_encode(sum_equity), 0, width), slice(abi_encode(sum_debt), 0, width)
        )
        base: uint256 = unsafe_mul(k, n)
        for i: uint256 in range(n, bound=MAX_ASSETS):
            e: uint256 = sibling_equity[unsafe_add(base, i)]
            d: uint256 = sibling_debt[unsafe_add(base, i)]
            sib_equity[i] = e
            sib_debt[i] = d
            # Checked: a sibling may not wrap a sum around 2**256.
            sum_equity[i] += e
            sum_debt[i] += d
        other: Bytes[_RECORD_BYTES] = concat(
            sibling_hashes[k], slice(abi_encode(sib_equity), 0, width), slice(abi_encode(sib_debt), 0, width)
        )
        if (index >> k) & 1 == 1:
            node_hash = keccak256(concat(other, own))
        else:
            node_hash = keccak256(concat(own, other))

    return self._record_hash(node_hash, sum_equity, sum_debt, width) == root_digest


@internal
@pure
def _record_hash(
    node_hash: bytes32, equity: uint256[MAX_ASSETS], debt: uint256[MAX_ASSETS], width: uint256
) -> bytes32:
    # H(hash ‖ equity[0..n) ‖ debt[0..n)) with width = 32n: a leaf's hash
    # (from its commitment) or a root's digest.
    return keccak256(concat(node_hash, slice(abi_encode(equity), 0, width), slice(abi_encode(debt), 0, width)))
