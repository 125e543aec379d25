"""The published proof-of-reserves format (SPEC §5): commitments, leaves, nodes, depth.

Every rule of the format lives here once; the fast tree builder and the verifier use these
definitions, and `tests/por/vector.json` pins them for independent implementations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

try:  # safe-pysha3's C keccak is ~3x faster than pycryptodome's, which matters at 1M accounts.
    from sha3 import keccak_256 as _keccak_256
except ImportError:  # pragma: no cover - fallback when the wheel is missing
    from Crypto.Hash import keccak as _pycryptodome_keccak

    def _keccak_256(data=b""):
        return _pycryptodome_keccak.new(digest_bits=256, data=bytes(data))


WORD = 32
MAX_ASSETS = 8
MAX_UINT256 = 2**256 - 1
EMPTY_HASH = bytes(WORD)
# Domain tag of our salt derivation; salts are not part of the published format, only their use.
SALT_DOMAIN = b"breakwater.por.salt.v1"


class PorFormatError(ValueError):
    """An input that the published format cannot represent (names the field)."""


def keccak(data: bytes | bytearray | memoryview) -> bytes:
    """Return keccak256 of `data` (Ethereum's hash, not NIST SHA3-256)."""
    return _keccak_256(data).digest()


def word(value: int, field: str = "value") -> bytes:
    """Encode a uint256 as 32 big-endian bytes."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_UINT256:
        raise PorFormatError(f"{field} must be an integer in [0, 2**256), got {value!r}")
    return value.to_bytes(WORD, "big")


def address_bytes(address: str | bytes) -> bytes:
    """Return the 20 bytes of an address given as 0x-hex or raw bytes."""
    if isinstance(address, bytes | bytearray):
        raw = bytes(address)
    else:
        text = address[2:] if address[:2] in ("0x", "0X") else address
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise PorFormatError(f"account address is not hex: {address!r}") from None
    if len(raw) != 20:
        raise PorFormatError(f"account address must be 20 bytes, got {len(raw)}: {address!r}")
    return raw


def check_hash(value: bytes, field: str) -> bytes:
    """Return `value` if it is 32 bytes (a hash, a salt or a commitment)."""
    if not isinstance(value, bytes | bytearray) or len(value) != WORD:
        raise PorFormatError(f"{field} must be 32 bytes")
    return bytes(value)


def commitment(address: str | bytes, salt: bytes) -> bytes:
    """Return `c = H(address as 32 bytes, left-padded ‖ salt)`."""
    return keccak(bytes(12) + address_bytes(address) + check_hash(salt, "salt"))


def derive_salt(secret: bytes, epoch: int, address: str | bytes) -> bytes:
    """Return the per-account, per-epoch salt `H(tag ‖ secret ‖ epoch ‖ address)`.

    Derived rather than drawn so that the core stays deterministic and the exchange can hand a
    user their salt again without storing it; the secret never leaves the exchange.
    """
    if len(secret) < 16:
        raise PorFormatError("salt secret must be at least 16 bytes")
    return keccak(SALT_DOMAIN + bytes(secret) + word(epoch, "epoch") + bytes(12) + address_bytes(address))


def split_balance(net: int) -> tuple[int, int]:
    """Return `(equity, debt)` for a signed net balance: one of the two is zero."""
    return (net, 0) if net >= 0 else (0, -net)


@dataclass(frozen=True, slots=True)
class Node:
    """A tree node (or a leaf): its hash and the per-asset sums of equity and debt below it."""

    hash: bytes
    equity: tuple[int, ...]
    debt: tuple[int, ...]

    @classmethod
    def empty(cls, n_assets: int) -> Node:
        """Return the padding node: hash 0x00…00 and all sums 0."""
        return cls(EMPTY_HASH, (0,) * n_assets, (0,) * n_assets)

    def encode(self) -> bytes:
        """Return `hash ‖ equity[0..N) ‖ debt[0..N)`: how a node enters its parent's hash."""
        parts = [self.hash]
        parts += [word(v, "equity") for v in self.equity]
        parts += [word(v, "debt") for v in self.debt]
        return b"".join(parts)


def check_sums(equity: Sequence[int], debt: Sequence[int], n_assets: int | None = None) -> None:
    """Raise `PorFormatError` unless equity and debt are N uint256 each with 1 <= N <= 8."""
    n = len(equity)
    if not 1 <= n <= MAX_ASSETS:
        raise PorFormatError(f"a leaf needs 1..{MAX_ASSETS} assets, got {n}")
    if len(debt) != n or (n_assets is not None and n != n_assets):
        raise PorFormatError(f"equity and debt must both have {n_assets or n} entries")
    for v in (*equity, *debt):
        word(v, "balance")


def leaf(commitment_: bytes, equity: Sequence[int], debt: Sequence[int]) -> Node:
    """Return the leaf node `H(c ‖ equity[0..N) ‖ debt[0..N))` with its own balances as sums."""
    check_sums(equity, debt)
    node = Node(check_hash(commitment_, "commitment"), tuple(equity), tuple(debt))
    return Node(keccak(node.encode()), node.equity, node.debt)


def parent(left: Node, right: Node) -> Node:
    """Return `H(L.hash ‖ L.equity ‖ L.debt ‖ R.hash ‖ R.equity ‖ R.debt)` with summed balances."""
    equity = tuple(a + b for a, b in zip(left.equity, right.equity, strict=True))
    debt = tuple(a + b for a, b in zip(left.debt, right.debt, strict=True))
    if any(v > MAX_UINT256 for v in (*equity, *debt)):
        raise PorFormatError("a node sum does not fit in uint256")
    return Node(keccak(left.encode() + right.encode()), equity, debt)


def depth_for(leaf_count: int) -> int:
    """Return `ceil(log2(leaf_count))`: the number of siblings in every proof."""
    if leaf_count < 1:
        raise PorFormatError("a tree needs at least one leaf")
    return (leaf_count - 1).bit_length()
