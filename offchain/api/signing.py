"""EIP-712 typed data for user actions: what a wallet signs, and how the API checks it.

An order, a cancel, a withdrawal or a proof request is signed by the account's own key (eth-account, MetaMask, any EIP-712 wallet).
The signature binds the chain, the exchange (verifying contract = Custody), a per-account nonce and
an expiry, so a captured request can be neither replayed nor used after it expires.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import coincurve
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import to_checksum_address
from sha3 import keccak_256

DOMAIN_NAME = "Breakwater"
DOMAIN_VERSION = "1"

ORDER_TYPES = {
    "Order": [
        {"name": "account", "type": "address"},
        {"name": "symbol", "type": "string"},
        {"name": "side", "type": "string"},
        {"name": "type", "type": "string"},
        {"name": "price", "type": "string"},
        {"name": "qty", "type": "string"},
        {"name": "tif", "type": "string"},
        {"name": "client_id", "type": "string"},
        {"name": "post_only", "type": "bool"},
        {"name": "reduce_only", "type": "bool"},
        {"name": "stp", "type": "string"},
        {"name": "nonce", "type": "uint256"},
        {"name": "expiry", "type": "uint256"},
    ]
}
# A cancel names the order by the engine's id (`oid`, client_id "") or by its client id (oid 0).
CANCEL_TYPES = {
    "Cancel": [
        {"name": "account", "type": "address"},
        {"name": "oid", "type": "uint256"},
        {"name": "client_id", "type": "string"},
        {"name": "nonce", "type": "uint256"},
        {"name": "expiry", "type": "uint256"},
    ]
}
PROOF_REQUEST_TYPES = {
    "ProofRequest": [
        {"name": "account", "type": "address"},
        {"name": "nonce", "type": "uint256"},
        {"name": "expiry", "type": "uint256"},
    ]
}
# A read session: the account's permission to read its own private data (balances, orders, fills,
# withdrawals, its WebSocket channel) until `expiry`. Not a one-time request: the signed session is
# the bearer credential itself (`offchain/api/auth.py`), reused until it expires; `nonce` only tells
# two sessions of one account apart.
READ_SESSION_TYPES = {
    "ReadSession": [
        {"name": "account", "type": "address"},
        {"name": "nonce", "type": "uint256"},
        {"name": "expiry", "type": "uint256"},
    ]
}
# A withdrawal of `amount` (a decimal string in whole units, like every amount) of `asset` to the
# account's own address: Custody pays only the account that signed, so no recipient is signed.
WITHDRAW_TYPES = {
    "Withdraw": [
        {"name": "account", "type": "address"},
        {"name": "asset", "type": "string"},
        {"name": "amount", "type": "string"},
        {"name": "nonce", "type": "uint256"},
        {"name": "expiry", "type": "uint256"},
    ]
}
# An amend names the order like a cancel (`oid`, or `client_id` with oid 0); `price` and `qty` are
# decimal strings, "" for unchanged (the engine keeps time priority for a pure size decrease).
AMEND_TYPES = {
    "Amend": [
        {"name": "account", "type": "address"},
        {"name": "oid", "type": "uint256"},
        {"name": "client_id", "type": "string"},
        {"name": "price", "type": "string"},
        {"name": "qty", "type": "string"},
        {"name": "nonce", "type": "uint256"},
        {"name": "expiry", "type": "uint256"},
    ]
}
# Auto-lend of one asset on (the default) or off for the signing account.
LEND_TYPES = {
    "Lend": [
        {"name": "account", "type": "address"},
        {"name": "asset", "type": "string"},
        {"name": "enabled", "type": "bool"},
        {"name": "nonce", "type": "uint256"},
        {"name": "expiry", "type": "uint256"},
    ]
}
# Operator-only: designate (or revoke) `participant` as a designated liquidity provider (`role`
# "dlp", with a bond of `bond` `bond_asset` held in its account) or as an authorised participant
# (`role` "authorised": may add orders during a halt, no priority deposits). `account` is the
# operator that signs.
DESIGNATION_TYPES = {
    "Designation": [
        {"name": "account", "type": "address"},
        {"name": "participant", "type": "address"},
        {"name": "role", "type": "string"},
        {"name": "designated", "type": "bool"},
        {"name": "bond_asset", "type": "string"},
        {"name": "bond", "type": "string"},
        {"name": "nonce", "type": "uint256"},
        {"name": "expiry", "type": "uint256"},
    ]
}
# Operator-only: designate (or revoke) `participant` as a market maker of `symbol` with obligations:
# `min_notional` quote units a side on each of `levels` levels, within `max_spread` (a fraction) for
# `share` (a fraction) of every `period` seconds (the engine's `maker` command; empty: its default).
MAKER_DESIGNATION_TYPES = {
    "MakerDesignation": [
        {"name": "account", "type": "address"},
        {"name": "participant", "type": "address"},
        {"name": "symbol", "type": "string"},
        {"name": "designated", "type": "bool"},
        {"name": "min_notional", "type": "string"},
        {"name": "levels", "type": "uint256"},
        {"name": "max_spread", "type": "string"},
        {"name": "share", "type": "string"},
        {"name": "period", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "expiry", "type": "uint256"},
    ]
}
# A batch: up to MAX_BATCH orders (or cancels) under one signature, one nonce and one expiry. The
# signed message carries the whole list (as Hyperliquid's order action does); each item is an
# `Order` / `Cancel` without the account, nonce and expiry the batch carries once.
MAX_BATCH = 100
BATCH_ORDER_FIELDS = [f for f in ORDER_TYPES["Order"] if f["name"] not in ("account", "nonce", "expiry")]
ORDER_BATCH_TYPES = {
    "OrderBatch": [
        {"name": "account", "type": "address"},
        {"name": "orders", "type": "BatchOrder[]"},
        {"name": "nonce", "type": "uint256"},
        {"name": "expiry", "type": "uint256"},
    ],
    "BatchOrder": BATCH_ORDER_FIELDS,
}
CANCEL_BATCH_TYPES = {
    "CancelBatch": [
        {"name": "account", "type": "address"},
        {"name": "cancels", "type": "BatchCancel[]"},
        {"name": "nonce", "type": "uint256"},
        {"name": "expiry", "type": "uint256"},
    ],
    "BatchCancel": [{"name": "oid", "type": "uint256"}, {"name": "client_id", "type": "string"}],
}
PRIMARY_TYPES = {
    "Order": ORDER_TYPES,
    "Cancel": CANCEL_TYPES,
    "Withdraw": WITHDRAW_TYPES,
    "ProofRequest": PROOF_REQUEST_TYPES,
    "ReadSession": READ_SESSION_TYPES,
    "OrderBatch": ORDER_BATCH_TYPES,
    "CancelBatch": CANCEL_BATCH_TYPES,
    "Amend": AMEND_TYPES,
    "Lend": LEND_TYPES,
    "Designation": DESIGNATION_TYPES,
    "MakerDesignation": MAKER_DESIGNATION_TYPES,
}
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@lru_cache(maxsize=65_536)
def account_name(address: str) -> str:
    """Return the engine account name of a wallet: its EIP-55 checksummed address.

    Every adapter that names a wallet's account (API, chain watcher deposits, proofs) uses this form,
    so one wallet is one account whatever case a client writes its address in.
    """
    return to_checksum_address(address)


class SignatureError(Exception):
    """The signed request is refused; `code` is the stable error code the API returns."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Domain:
    """The EIP-712 domain of one Breakwater deployment."""

    chain_id: int
    verifying_contract: str
    # keccak(0x1901 || domainSeparator) is the prefix of every digest: computed once per domain.
    _prefix: bytes = field(default=b"", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_prefix", b"\x19\x01" + _domain_separator(self))

    def as_dict(self) -> dict:
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }


def typed_data(domain: Domain, primary_type: str, message: dict) -> dict:
    """Return the full EIP-712 document a wallet signs (`eth_signTypedData_v4`)."""
    types = PRIMARY_TYPES[primary_type]
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            **types,
        },
        "primaryType": primary_type,
        "domain": domain.as_dict(),
        "message": message,
    }


# -- the hashing, written out for the types above --------------------------------------------------
# The type hashes and the domain separator are computed once; a digest is then one keccak per string
# field plus one per struct, and recovery is one libsecp256k1 call (coincurve).


def _type_string(primary: str, types: dict) -> str:
    """EIP-712 `encodeType`: the primary type, then the types it references, sorted by name."""

    def one(name: str) -> str:
        return f"{name}(" + ",".join(f"{f['type']} {f['name']}" for f in types[name]) + ")"

    referenced = sorted({f["type"].removesuffix("[]") for f in types[primary]} & (set(types) - {primary}))
    return one(primary) + "".join(one(name) for name in referenced)


def _keccak(data: bytes) -> bytes:
    return keccak_256(data).digest()


_TYPE_HASH = {
    name: _keccak(_type_string(name, types).encode())
    for primary, types in PRIMARY_TYPES.items()
    for name in types
}
_DOMAIN_TYPE_HASH = _keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)


def _domain_separator(domain: Domain) -> bytes:
    return _keccak(
        _DOMAIN_TYPE_HASH
        + _keccak(DOMAIN_NAME.encode())
        + _keccak(DOMAIN_VERSION.encode())
        + domain.chain_id.to_bytes(32, "big")
        + bytes(12)
        + bytes.fromhex(domain.verifying_contract[2:])
    )


@lru_cache(maxsize=8192)
def _string_hash(value: str) -> bytes:
    """keccak of a string field: symbols, sides, types, prices and sizes repeat from order to order."""
    return _keccak(value.encode())


def _encode_value(kind: str, value, types: dict) -> bytes:
    if kind == "string":
        if not isinstance(value, str):
            raise TypeError(f"expected a string, got {type(value).__name__}")
        return _string_hash(value)
    if kind == "uint256":
        if type(value) is not int or not 0 <= value < 2**256:
            raise ValueError(f"expected a uint256, got {value!r}")
        return value.to_bytes(32, "big")
    if kind == "bool":
        if type(value) is not bool:
            raise TypeError(f"expected a bool, got {value!r}")
        return (1 if value else 0).to_bytes(32, "big")
    if kind == "address":
        raw = bytes.fromhex(value[2:]) if isinstance(value, str) and value[:2] in ("0x", "0X") else b""
        if len(raw) != 20:
            raise ValueError(f"expected an address, got {value!r}")
        return bytes(12) + raw
    if kind.endswith("[]"):
        # fed 32 bytes at a time: pysha3 releases the GIL for inputs of 2 KiB and more, and getting
        # it back behind the sequencer thread cost up to a switch interval (5 ms) per batch
        inner, h = kind[:-2], keccak_256()
        for item in value:
            h.update(_struct_hash(inner, item, types))
        return h.digest()
    raise TypeError(f"unsupported EIP-712 type {kind}")


def _struct_hash(name: str, message: dict, types: dict) -> bytes:
    parts = [_TYPE_HASH[name]]
    for f in types[name]:
        kind = f["type"]
        value = message[f["name"]]
        parts.append(_struct_hash(kind, value, types) if kind in types else _encode_value(kind, value, types))
    return _keccak(b"".join(parts))


def digest(domain: Domain, primary_type: str, message: dict) -> bytes:
    """The 32-byte EIP-712 digest a wallet signs for `message` (`eth_signTypedData_v4`)."""
    return _keccak(domain._prefix + _struct_hash(primary_type, message, PRIMARY_TYPES[primary_type]))


def sign(domain: Domain, primary_type: str, message: dict, private_key) -> str:
    """Sign `message` as `primary_type` (used by clients, the simulation and the tests)."""
    signable = encode_typed_data(full_message=typed_data(domain, primary_type, message))
    return "0x" + Account.sign_message(signable, private_key).signature.hex().removeprefix("0x")


def sign_fast(domain: Domain, primary_type: str, message: dict, private_key: bytes) -> str:
    """`sign` through libsecp256k1 directly: the same signature, ~50x cheaper (load generators)."""
    key = private_key if isinstance(private_key, bytes) else bytes(private_key)
    raw = coincurve.PrivateKey(key).sign_recoverable(digest(domain, primary_type, message), hasher=None)
    return "0x" + raw[:64].hex() + format(raw[64] + 27, "02x")


@lru_cache(maxsize=65_536)
def _checksummed(raw: bytes) -> str:
    return to_checksum_address(raw)


def recover(domain: Domain, primary_type: str, message: dict, signature: str) -> str:
    """Return the address that signed `message`, or raise `SignatureError(bad_signature)`."""
    try:
        sig = bytes.fromhex(signature[2:] if signature[:2] in ("0x", "0X") else signature)
        if len(sig) != 65:
            raise ValueError(f"a signature is 65 bytes, got {len(sig)}")
        v = sig[64] - 27 if sig[64] >= 27 else sig[64]
        r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big")
        if v not in (0, 1) or not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
            raise ValueError("v, r or s out of range")
        point = coincurve.PublicKey.from_signature_and_message(
            sig[:64] + bytes([v]), digest(domain, primary_type, message), hasher=None
        )
        return _checksummed(_keccak(point.format(compressed=False)[1:])[-20:])
    except Exception as exc:  # malformed signature, wrong field types: plain words, never the exception
        raise SignatureError(
            "bad_signature", "the signature is not a valid 65-byte EIP-712 signature of this request"
        ) from exc


def verify(domain: Domain, primary_type: str, message: dict, signature: str, now_s: int) -> str:
    """Check signer == message.account and expiry; return the checksummed account.

    Nonce replay is checked by the caller against its durable nonce store (see `NonceBook`).
    """
    signer = recover(domain, primary_type, message, signature)
    claimed = account_name(message["account"])
    if signer != claimed:
        raise SignatureError(
            "bad_signature",
            f"the signature is not {claimed}'s (it recovers {signer}): signed by another key, or for "
            "another exchange or chain (GET /eip712 has the domain)",
        )
    if int(message["expiry"]) <= now_s:
        raise SignatureError(
            "expired",
            f"the request expired {now_s - int(message['expiry'])} s ago (expiry {message['expiry']}, "
            f"now {now_s}, unix seconds): sign it again with a later expiry",
        )
    return claimed
