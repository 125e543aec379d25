"""Send transactions from one key: one nonce manager, retries, receipt checks, stuck-tx replacement.

Every on-chain write of the daemon (attestations, withdrawals, covers, keeper trips) goes through one
`TxSender` per key, so two writers never race for a nonce.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError

log = logging.getLogger(__name__)

# Failures worth retrying: the endpoint is away, not the transaction wrong.
TRANSIENT = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, ConnectionError, TimeoutError)

# Replacement needs at least +10 % on both fee fields (geth/anvil rule); 1/8 keeps a margin.
FEE_BUMP_NUM, FEE_BUMP_DEN = 9, 8


class TxFailed(Exception):
    """A transaction was mined and reverted, or would revert (with the chain's reason)."""


class ChainUnavailable(Exception):
    """The RPC endpoint did not answer within the retry budget."""


@dataclass(frozen=True)
class SendPolicy:
    """How hard the sender tries before giving up."""

    receipt_timeout_s: float = 30.0
    """Wait this long for a receipt before replacing the transaction with higher fees."""
    max_replacements: int = 3
    """Replace a stuck transaction at most this many times."""
    rpc_retries: int = 5
    """Retry a failed RPC call this many times, with exponential backoff."""
    backoff_s: float = 0.2
    """First backoff; doubles on each retry."""
    poll_s: float = 0.1
    """How often to poll for a receipt."""


class TxSender:
    """Sign and send transactions from `account`, keeping the nonce locally."""

    def __init__(self, w3: Web3, account: LocalAccount, policy: SendPolicy | None = None):
        self.w3 = w3
        self.account = account
        self.policy = policy or SendPolicy()
        self._lock = threading.Lock()
        self._nonce: int | None = None

    @property
    def address(self) -> str:
        return self.account.address

    def _rpc(self, fn: Callable, *args, **kwargs):
        """Call `fn`, retrying only when the endpoint is unreachable; node refusals raise `TxFailed`."""
        delay = self.policy.backoff_s
        for attempt in range(self.policy.rpc_retries + 1):
            try:
                return fn(*args, **kwargs)
            except ContractLogicError as exc:
                raise TxFailed(str(exc)) from exc
            except TRANSIENT as exc:
                if attempt == self.policy.rpc_retries:
                    raise ChainUnavailable(f"RPC failed after {attempt + 1} attempts: {exc}") from exc
                log.warning("RPC call failed (%s), retrying in %.1fs", exc, delay)
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def _next_nonce(self) -> int:
        chain_nonce = self._rpc(self.w3.eth.get_transaction_count, self.account.address, "pending")
        # The chain may be ahead (another process used the key) or behind (we sent, it dropped them).
        self._nonce = chain_nonce if self._nonce is None else max(self._nonce, chain_nonce)
        return self._nonce

    def _fees(self) -> dict:
        block = self._rpc(self.w3.eth.get_block, "latest")
        base = block.get("baseFeePerGas")
        if base is None:
            return {"gasPrice": self._rpc(lambda: self.w3.eth.gas_price)}
        tip = max(1, self._rpc(lambda: self.w3.eth.max_priority_fee))
        return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}

    @staticmethod
    def _bump(fees: dict) -> dict:
        return {k: v * FEE_BUMP_NUM // FEE_BUMP_DEN + 1 for k, v in fees.items()}

    def send(self, call, value: int = 0, gas: int | None = None) -> dict:
        """Send a contract function call (`contract.functions.f(...)`) and return its receipt.

        Raises `TxFailed` when the call would revert or reverted, with the chain's reason.
        """
        with self._lock:
            tx = {
                "from": self.account.address,
                "value": value,
                "chainId": self._rpc(lambda: self.w3.eth.chain_id),
            }
            estimated = gas or self._rpc(call.estimate_gas, tx)
            tx = call.build_transaction(
                {**tx, "gas": estimated * 6 // 5 + 10_000, "nonce": self._next_nonce()}
            )
            return self._send_until_mined(tx)

    def send_raw(self, tx: dict) -> dict:
        """Send a plain transaction dict (`to`, `value`, `data`, optional `gas`) and return its receipt."""
        with self._lock:
            full = {"from": self.account.address, "value": 0, **tx}
            full["chainId"] = self._rpc(lambda: self.w3.eth.chain_id)
            full["nonce"] = self._next_nonce()
            if "gas" not in full:
                full["gas"] = self._estimate(full)
            return self._send_until_mined(full)

    def _estimate(self, tx: dict) -> int:
        try:
            return self._rpc(self.w3.eth.estimate_gas, tx) * 6 // 5 + 10_000
        except Web3RPCError as exc:
            raise TxFailed(str(exc)) from exc

    def _send_until_mined(self, tx: dict) -> dict:
        fees = self._fees()
        sent: list[bytes] = []
        for attempt in range(self.policy.max_replacements + 1):
            signed = self.account.sign_transaction({**tx, **fees})
            try:
                sent.append(self._rpc(self.w3.eth.send_raw_transaction, signed.raw_transaction))
            except Web3RPCError as exc:
                # "nonce too low": an earlier version of this tx was mined meanwhile.
                if "nonce" not in str(exc).lower():
                    raise TxFailed(str(exc)) from exc
            receipt = self._wait_any(sent)
            if receipt is not None:
                self._nonce = tx["nonce"] + 1
                if receipt["status"] != 1:
                    raise TxFailed(f"transaction {receipt['transactionHash'].hex()} reverted")
                return dict(receipt)
            log.warning(
                "tx nonce %s not mined in %.0fs (attempt %d): replacing with higher fees",
                tx["nonce"],
                self.policy.receipt_timeout_s,
                attempt + 1,
            )
            fees = self._bump(fees)
        raise TxFailed(
            f"nonce {tx['nonce']} still not mined after {self.policy.max_replacements} replacements"
        )

    def _wait_any(self, hashes: list[bytes]) -> dict | None:
        deadline = time.monotonic() + self.policy.receipt_timeout_s
        while time.monotonic() < deadline:
            for h in hashes:
                try:
                    receipt = self._rpc(self.w3.eth.get_transaction_receipt, h)
                except TransactionNotFound:
                    continue
                if receipt is not None:
                    return receipt
            time.sleep(self.policy.poll_s)
        return None
