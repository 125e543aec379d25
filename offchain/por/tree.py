"""Build the Merkle-sum tree of SPEC §5 for an epoch and cut inclusion proofs from it.

The format rules live in `hashing`; this module only makes them fast enough for a million
accounts: balances sit in numpy arrays of 32-bit limbs, a node's record `hash ‖ equity ‖ debt` is
laid out so that a parent's preimage is two adjacent records, and each level costs one keccak call
per node plus a few vectorised additions. `tests/por` checks it against a plain node-by-node build
with `hashing.leaf` and `hashing.parent`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from offchain.por.hashing import (
    MAX_ASSETS,
    MAX_UINT256,
    SALT_DOMAIN,
    WORD,
    Node,
    PorFormatError,
    _keccak_256,
    address_bytes,
    check_hash,
    word,
)
from offchain.por.proof import Proof

LIMB_BITS = 32
LIMB_MASK = (1 << LIMB_BITS) - 1
_MASK64 = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class Leaf:
    """What the tree needs of one account: its commitment and its balances per asset."""

    commitment: bytes
    equity: Sequence[int]
    debt: Sequence[int]


@dataclass(frozen=True, slots=True)
class Level:
    """One level of the tree: hashes (M x 32 uint8) and sums (M x 2N x K uint32 limbs, big-endian)."""

    hashes: np.ndarray
    sums: np.ndarray


@dataclass(eq=False)
class Tree:
    """A built tree: its levels from the leaves (level 0) up to the root, and who owns each leaf.

    `accounts` and `salts` are known when the tree was built from accounts
    (`build_account_tree`); a tree built from bare commitments cuts proofs without them.
    """

    assets: tuple[str, ...]
    leaf_count: int
    levels: list[Level]
    commitments: list[bytes]
    epoch: int = 0
    accounts: list[bytes] | None = None
    salts: list[bytes] | None = None
    _index: dict[bytes, int] | None = field(default=None, repr=False)

    @property
    def depth(self) -> int:
        """Return the number of siblings in every proof: ceil(log2(leaf_count))."""
        return len(self.levels) - 1

    @property
    def root(self) -> Node:
        """Return the root: its hash and the total equity and total debt per asset."""
        return self._node(self.depth, 0)

    def leaf(self, index: int) -> Node:
        """Return leaf `index`: its hash and the account's own balances."""
        self._check_index(index)
        return self._node(0, index)

    def proof(self, index: int) -> Proof:
        """Return the inclusion proof of leaf `index`: its sibling at every level from the bottom."""
        self._check_index(index)
        siblings = []
        position = index
        for level in range(self.depth):
            siblings.append(self._node(level, position ^ 1))
            position >>= 1
        own = self._node(0, index)
        return Proof(
            epoch=self.epoch,
            assets=self.assets,
            leaf_count=self.leaf_count,
            index=index,
            commitment=self.commitments[index],
            equity=own.equity,
            debt=own.debt,
            siblings=tuple(siblings),
            root=self.root,
            account=None if self.accounts is None else "0x" + self.accounts[index].hex(),
            salt=None if self.salts is None else self.salts[index],
        )

    def proof_for(self, address: str | bytes) -> Proof:
        """Return the proof of the leaf that belongs to `address`, with its salt."""
        if self.accounts is None:
            raise KeyError("this tree was built from commitments and does not know account addresses")
        if self._index is None:
            self._index = {a: i for i, a in enumerate(self.accounts)}
        index = self._index.get(address_bytes(address))
        if index is None:
            raise KeyError(f"account {address!r} is not in epoch {self.epoch}")
        return self.proof(index)

    def node(self, level: int, position: int) -> Node:
        """Return the node at `position` of `level` (0: the leaves; a padded level's last node is empty)."""
        if not 0 <= level <= self.depth or not 0 <= position < len(self.levels[level].hashes):
            raise IndexError(f"no node {position} at level {level}")
        return self._node(level, position)

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.leaf_count:
            raise IndexError(f"leaf index {index} outside [0, {self.leaf_count})")

    def _node(self, level: int, position: int) -> Node:
        lv = self.levels[level]
        values = [_limbs_to_int(limbs) for limbs in lv.sums[position]]
        n = len(self.assets)
        return Node(bytes(lv.hashes[position]), tuple(values[:n]), tuple(values[n:]))


def build_tree(assets: Sequence[str], leaves: Sequence[Leaf], *, epoch: int = 0) -> Tree:
    """Build the tree over `leaves` in attestation order (SPEC §5).

    Raises `PorFormatError` naming the offending field when a leaf or a sum cannot be encoded.
    """
    n = _check_assets(assets)
    if not leaves:
        raise PorFormatError("a tree needs at least one leaf")
    commitments = [check_hash(leaf.commitment, f"leaf {i} commitment") for i, leaf in enumerate(leaves)]
    columns = []
    for i, leaf in enumerate(leaves):
        if len(leaf.equity) != n or len(leaf.debt) != n:
            raise PorFormatError(f"leaf {i}: equity and debt must have {n} entries (one per asset)")
    for j in range(n):
        columns.append([leaf.equity[j] for leaf in leaves])
    for j in range(n):
        columns.append([leaf.debt[j] for leaf in leaves])
    with _gc_paused():
        return _build(tuple(assets), commitments, columns, epoch)


def build_account_tree(
    epoch: int, assets: Sequence[str], accounts: Sequence[tuple[str | bytes, Sequence[int]]], secret: bytes
) -> Tree:
    """Build the epoch's tree from `(address, net balance per asset)` pairs.

    A negative net balance is debt. The leaves are the accounts that owe something (in the given
    order), then all the others (in the given order): the debtors' register (`register`) publishes
    exactly the first leaves. Each account gets its salt `derive_salt(secret, epoch, address)`
    (the same value `hashing.derive_salt` returns) and its commitment; both stay in the tree so
    that `proof_for(address)` hands the account everything it needs to verify.
    """
    n = _check_assets(assets)
    if not accounts:
        raise PorFormatError("a tree needs at least one account")
    if len(secret) < 16:
        raise PorFormatError("salt secret must be at least 16 bytes")
    try:
        owes = [min(b) < 0 for _, b in accounts]
    except (TypeError, ValueError):  # a non-integer, or no balances at all
        raise PorFormatError("account balances must be integers, one per asset") from None
    if any(owes):
        accounts = [a for a, o in zip(accounts, owes, strict=True) if o] + [
            a for a, o in zip(accounts, owes, strict=True) if not o
        ]
    with _gc_paused():
        return _account_tree(epoch, tuple(assets), n, accounts, secret)


def _account_tree(
    epoch: int,
    assets: tuple[str, ...],
    n: int,
    accounts: Sequence[tuple[str | bytes, Sequence[int]]],
    secret: bytes,
) -> Tree:
    addresses = [a if type(a) is bytes and len(a) == 20 else address_bytes(a) for a, _ in accounts]
    if len(set(addresses)) != len(addresses):
        raise PorFormatError("an account appears twice in the epoch")
    # Same bytes as hashing.derive_salt / hashing.commitment, with the constant prefix built once.
    salt_prefix = SALT_DOMAIN + bytes(secret) + word(epoch, "epoch") + bytes(12)
    salts = [_keccak_256(salt_prefix + a).digest() for a in addresses]
    pad = bytes(12)
    commitments = [_keccak_256(pad + a + s).digest() for a, s in zip(addresses, salts, strict=True)]
    balances = [b for _, b in accounts]
    if set(map(len, balances)) != {n}:
        i = next(i for i, b in enumerate(balances) if len(b) != n)
        raise PorFormatError(f"account {i}: {len(balances[i])} balances for {n} assets")
    nets = list(zip(*balances, strict=True))
    # split_balance, one column at a time: a net balance is equity if positive, else debt.
    try:
        columns = [[v if v > 0 else 0 for v in col] for col in nets]
        columns += [[-v if v < 0 else 0 for v in col] for col in nets]
    except TypeError:
        raise PorFormatError("account balances must be integers") from None
    tree = _build(assets, commitments, columns, epoch)
    tree.accounts = addresses
    tree.salts = salts
    return tree


@contextmanager
def _gc_paused() -> Iterator[None]:
    # A build allocates millions of small objects and frees none of them: cyclic collection
    # would walk them again and again for nothing (about 10 % of the time at 1M accounts).
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _check_assets(assets: Sequence[str]) -> int:
    n = len(assets)
    if not 1 <= n <= MAX_ASSETS:
        raise PorFormatError(f"an epoch lists 1..{MAX_ASSETS} assets, got {n}")
    if len(set(assets)) != n:
        raise PorFormatError("an asset appears twice in the epoch's asset list")
    return n


def _build(assets: tuple[str, ...], commitments: list[bytes], columns: list[list[int]], epoch: int) -> Tree:
    leaf_count = len(commitments)
    counts = _limb_counts(columns)
    width = max(counts)
    sums = np.stack(
        [_column_limbs(col, limbs, width) for col, limbs in zip(columns, counts, strict=True)], axis=1
    )
    record = _records(np.frombuffer(b"".join(commitments), dtype=np.uint8).reshape(leaf_count, WORD), sums)
    levels = [Level(_hash_rows(record, 1), sums)]
    while len(levels[-1].hashes) > 1:
        level = _pad_even(levels[-1])
        levels[-1] = level
        parent_sums = _add_pairs(level.sums)
        levels.append(Level(_hash_rows(_records(level.hashes, level.sums), 2), parent_sums))
    return Tree(assets, leaf_count, levels, commitments, epoch)


def _limb_counts(columns: list[list[int]]) -> list[int]:
    """Return how many 32-bit limbs each column needs: enough for its total, which bounds every node sum."""
    counts = []
    for j, col in enumerate(columns):
        if not set(map(type, col)) <= {int}:
            raise PorFormatError(f"balance column {j} holds a non-integer value")
        if col and min(col) < 0:
            raise PorFormatError(f"balance column {j} holds a negative value (debt is given as positive)")
        total = sum(col)
        if total > MAX_UINT256:
            raise PorFormatError(f"the total of balance column {j} does not fit in uint256")
        counts.append(max(1, -(-total.bit_length() // LIMB_BITS)))
    return counts


def _column_limbs(col: list[int], limbs: int, width: int) -> np.ndarray:
    """Return an (M, width) uint32 array of the column's values, most significant limb first.

    Only the low `limbs` limbs can be non-zero (the column's total fits them).
    """
    out = np.zeros((len(col), width), dtype=np.uint32)
    if limbs <= 2:  # numpy converts Python ints below 2**64 in C
        chunks = [np.array(col, dtype=np.uint64)]
    else:  # wider: split in C over an object array, 64 bits at a time
        wide = np.array(col, dtype=object)
        chunks = [((wide >> (64 * c)) & _MASK64).astype(np.uint64) for c in range(-(-limbs // 2))]
    for c, part in enumerate(chunks):
        low = width - 1 - 2 * c
        out[:, low] = part & LIMB_MASK
        if low > 0:
            out[:, low - 1] = part >> LIMB_BITS
    return out


def _records(hashes: np.ndarray, sums: np.ndarray) -> np.ndarray:
    """Return the M x (32 + 64N) byte records `hash ‖ equity ‖ debt` of a level."""
    m, values, limbs = sums.shape
    record = np.zeros((m, WORD * (1 + values)), dtype=np.uint8)
    record[:, :WORD] = hashes
    words = record[:, WORD:].reshape(m, values, WORD)
    words[:, :, WORD - 4 * limbs :] = sums.astype(">u4").view(np.uint8).reshape(m, values, 4 * limbs)
    return record


def _hash_rows(record: np.ndarray, per_hash: int) -> np.ndarray:
    """Hash every `per_hash` consecutive records (1 for leaves, 2 for a parent's children)."""
    data = memoryview(np.ascontiguousarray(record)).cast("B")
    step = record.shape[1] * per_hash
    digests = b"".join([_keccak_256(data[i : i + step]).digest() for i in range(0, len(data), step)])
    return np.frombuffer(digests, dtype=np.uint8).reshape(-1, WORD)


def _pad_even(level: Level) -> Level:
    """Append the empty node (hash 0, sums 0) to a level with an odd count."""
    if len(level.hashes) % 2 == 0:
        return level
    hashes = np.concatenate([level.hashes, np.zeros((1, WORD), dtype=np.uint8)])
    sums = np.concatenate([level.sums, np.zeros((1, *level.sums.shape[1:]), dtype=np.uint32)])
    return Level(hashes, sums)


def _add_pairs(sums: np.ndarray) -> np.ndarray:
    """Return left + right for each pair of siblings, carrying between limbs."""
    total = sums[0::2].astype(np.uint64) + sums[1::2]
    for k in range(total.shape[2] - 1, 0, -1):
        total[:, :, k - 1] += total[:, :, k] >> LIMB_BITS
        total[:, :, k] &= LIMB_MASK
    if (total[:, :, 0] >> LIMB_BITS).any():  # impossible while every column total fits the limbs
        raise PorFormatError("a node sum overflowed")
    return total.astype(np.uint32)


def _limbs_to_int(limbs: np.ndarray) -> int:
    return int.from_bytes(limbs.astype(">u4").tobytes(), "big")
