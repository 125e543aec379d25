"""The cold wallet: a real Safe (1.4.1), not a multisig of our own.

The Safe contracts are the audited ones, deployed from the compiled artifacts of the npm package
`@safe-global/safe-contracts` 1.4.1 (`make install` runs `npm ci`): the singleton `Safe`, the
`SafeProxyFactory` and the `CompatibilityFallbackHandler`. `scripts/deploy.py` deploys them through
ape and creates the cold wallet as an M-of-N Safe proxy (devnet: `DEVNET_COLD_OWNERS`, 2-of-3).

A transfer out of the cold wallet is a SafeTx (EIP-712, domain = chain id + the Safe's address):
each owner signs its hash with eth-account (`sign_typed_data`, no safe-eth-py), the signatures are
sorted by owner address and concatenated (r ‖ s ‖ v, 65 bytes each), and anyone sends
`execTransaction` with them. `tests/integration/test_safe_cold_wallet.py` checks our hash against
the Safe's own `getTransactionHash`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from offchain.paths import PROJECT_ROOT

SAFE_VERSION = "1.4.1"
ARTIFACTS = (
    PROJECT_ROOT / "node_modules" / "@safe-global" / "safe-contracts" / "build" / "artifacts" / "contracts"
)
ARTIFACT_PATHS = {
    "Safe": "Safe.sol/Safe.json",
    "SafeProxyFactory": "proxies/SafeProxyFactory.sol/SafeProxyFactory.json",
    "CompatibilityFallbackHandler": "handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json",
}
# anvil test accounts that own the devnet's cold wallet (2 of them sign a transfer).
DEVNET_COLD_OWNERS = (6, 7, 8)
DEVNET_COLD_THRESHOLD = 2
ZERO = "0x" + "00" * 20
# An ERC-20 transfer's selector.
TRANSFER_SELECTOR = keccak(text="transfer(address,uint256)")[:4]


class SafeError(Exception):
    """A Safe artifact is missing, or a SafeTx cannot be signed or executed as asked."""


@cache
def artifact(name: str) -> dict:
    """Return `{"abi", "bytecode"}` of a Safe 1.4.1 contract from the npm package's artifacts."""
    path = ARTIFACTS / ARTIFACT_PATHS[name]
    if not path.is_file():
        raise SafeError(
            f"{path} is missing: run `npm ci` (package @safe-global/safe-contracts {SAFE_VERSION})"
        )
    doc = json.loads(path.read_text())
    return {"abi": doc["abi"], "bytecode": doc["bytecode"]}


def safe_contract(w3: Web3, address: str):
    """A web3 contract for the Safe (proxy) at `address`, with the singleton's ABI."""
    return w3.eth.contract(address=to_checksum_address(address), abi=artifact("Safe")["abi"])


@dataclass(frozen=True)
class SafeTx:
    """The fields of a Safe transaction, as EIP-712 `SafeTx` hashes them."""

    to: str
    value: int
    data: bytes
    operation: int = 0  # 0 = CALL (1 = DELEGATECALL: never used here)
    safeTxGas: int = 0
    baseGas: int = 0
    gasPrice: int = 0
    gasToken: str = ZERO
    refundReceiver: str = ZERO
    nonce: int = 0

    def typed_data(self, chain_id: int, safe: str) -> dict:
        """The EIP-712 document of this SafeTx for the Safe at `safe` (Safe >= 1.3 domain)."""
        message = asdict(self)
        message["to"] = to_checksum_address(self.to)
        message["gasToken"] = to_checksum_address(self.gasToken)
        message["refundReceiver"] = to_checksum_address(self.refundReceiver)
        return {
            "types": {
                "EIP712Domain": [
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "SafeTx": [
                    {"name": "to", "type": "address"},
                    {"name": "value", "type": "uint256"},
                    {"name": "data", "type": "bytes"},
                    {"name": "operation", "type": "uint8"},
                    {"name": "safeTxGas", "type": "uint256"},
                    {"name": "baseGas", "type": "uint256"},
                    {"name": "gasPrice", "type": "uint256"},
                    {"name": "gasToken", "type": "address"},
                    {"name": "refundReceiver", "type": "address"},
                    {"name": "nonce", "type": "uint256"},
                ],
            },
            "primaryType": "SafeTx",
            "domain": {"chainId": chain_id, "verifyingContract": to_checksum_address(safe)},
            "message": message,
        }

    def hash(self, chain_id: int, safe: str) -> bytes:
        """The SafeTx hash the owners sign (what the Safe's `getTransactionHash` returns)."""
        signable = encode_typed_data(full_message=self.typed_data(chain_id, safe))
        return keccak(b"\x19" + signable.version + signable.header + signable.body)

    def exec_args(self, signatures: bytes) -> tuple:
        """The arguments of `execTransaction` for this SafeTx and the packed signatures."""
        return (
            to_checksum_address(self.to),
            self.value,
            self.data,
            self.operation,
            self.safeTxGas,
            self.baseGas,
            self.gasPrice,
            to_checksum_address(self.gasToken),
            to_checksum_address(self.refundReceiver),
            signatures,
        )


def token_transfer(token: str, to: str, amount: int, nonce: int) -> SafeTx:
    """A SafeTx that makes the Safe transfer `amount` of ERC-20 `token` to `to`."""
    data = (
        TRANSFER_SELECTOR
        + bytes.fromhex(to_checksum_address(to)[2:]).rjust(32, b"\0")
        + amount.to_bytes(32, "big")
    )
    return SafeTx(to=token, value=0, data=data, nonce=nonce)


def sign(tx: SafeTx, chain_id: int, safe: str, key) -> tuple[str, bytes]:
    """One owner's EIP-712 signature of `tx`: (owner address, r ‖ s ‖ v with v in {27, 28})."""
    account = Account.from_key(key) if not hasattr(key, "address") else key
    signed = Account.sign_typed_data(account.key, full_message=tx.typed_data(chain_id, safe))
    return account.address, signed.r.to_bytes(32, "big") + signed.s.to_bytes(32, "big") + bytes([signed.v])


def pack_signatures(signatures: dict[str, bytes] | list[tuple[str, bytes]]) -> bytes:
    """Concatenate owner signatures sorted by owner address, as `checkSignatures` requires."""
    items = signatures.items() if isinstance(signatures, dict) else signatures
    return b"".join(sig for _, sig in sorted(items, key=lambda item: int(item[0], 16)))


SETUP_SIGNATURE = "setup(address[],uint256,address,bytes,address,address,uint256,address)"


def initializer(owners: list[str], threshold: int, fallback_handler: str) -> bytes:
    """The `setup` call a new Safe proxy runs (owners, threshold, fallback handler; no module, no payment)."""
    if not owners or not 1 <= threshold <= len(owners):
        raise SafeError(f"a Safe needs 1 <= threshold ({threshold}) <= owners ({len(owners)})")
    if len({o.lower() for o in owners}) != len(owners):
        raise SafeError("the cold wallet's owners must be distinct")
    args = (
        [to_checksum_address(o) for o in owners],
        threshold,
        ZERO,
        b"",
        to_checksum_address(fallback_handler),
        ZERO,
        0,
        ZERO,
    )
    types = SETUP_SIGNATURE[len("setup(") : -1].split(",")
    return keccak(text=SETUP_SIGNATURE)[:4] + abi_encode(types, args)


def cold_wallet_doc(path: Path) -> dict | None:
    """The deployment file's `cold_wallet` entry (Safe address, owners, threshold, Safe contracts)."""
    try:
        return json.loads(Path(path).read_text()).get("cold_wallet")
    except (OSError, ValueError):
        return None
