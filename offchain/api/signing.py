"""EIP-712 typed data for user actions: what a wallet signs, and how the API checks it.

An order, a cancel, a withdrawal or a proof request is signed by the account's own key (eth-account, MetaMask, any EIP-712 wallet).
The signature binds the chain, the exchange (verifying contract = Custody), a per-account nonce and
an expiry, so a captured request can be neither replayed nor used after it expires.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import to_checksum_address

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
PRIMARY_TYPES = {
    "Order": ORDER_TYPES,
    "Cancel": CANCEL_TYPES,
    "Withdraw": WITHDRAW_TYPES,
    "ProofRequest": PROOF_REQUEST_TYPES,
}


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


def sign(domain: Domain, primary_type: str, message: dict, private_key) -> str:
    """Sign `message` as `primary_type` (used by clients, the simulation and the tests)."""
    signable = encode_typed_data(full_message=typed_data(domain, primary_type, message))
    return "0x" + Account.sign_message(signable, private_key).signature.hex().removeprefix("0x")


def recover(domain: Domain, primary_type: str, message: dict, signature: str) -> str:
    """Return the address that signed `message`, or raise `SignatureError(bad_signature)`."""
    try:
        signable = encode_typed_data(full_message=typed_data(domain, primary_type, message))
        return Account.recover_message(signable, signature=signature)
    except Exception as exc:  # malformed signature, wrong field types
        raise SignatureError("bad_signature", f"signature does not decode: {exc}") from exc


def verify(domain: Domain, primary_type: str, message: dict, signature: str, now_s: int) -> str:
    """Check signer == message.account and expiry; return the checksummed account.

    Nonce replay is checked by the caller against its durable nonce store (see `NonceBook`).
    """
    signer = recover(domain, primary_type, message, signature)
    claimed = to_checksum_address(message["account"])
    if signer != claimed:
        raise SignatureError("bad_signature", f"signed by {signer}, not by {claimed}")
    if int(message["expiry"]) <= now_s:
        raise SignatureError("expired", f"request expired at {message['expiry']} (now {now_s})")
    return claimed
