"""Figure: gas of the cold wallet and the audit trail on a real anvil.

* `safe_exec_transfer`: `execTransaction` of the cold wallet — a Safe 1.4.1 proxy (npm artifacts),
  2-of-3 — sending an ERC-20 transfer back to Custody with two owners' EIP-712 signatures (what a
  cold -> hot rebalancing move costs whoever executes it);
* `custody_to_cold`: `Custody.to_cold` into the registered Safe (a hot -> cold move);
* `anchor_first` / `anchor_next`: `JournalAnchor.anchor` of a journal's first head and of a later one
  (what the daemon pays every epoch).

Every figure is `eth_estimateGas` of the real transaction (21,000 intrinsic gas, calldata and
execution). Vyper contracts come from ape's build manifest (`ape compile` first, as `make bench` does).
"""

from __future__ import annotations

import json

from web3 import Web3

from offchain.chain.devnet import Anvil
from offchain.chain.safe import artifact, initializer, pack_signatures, sign, token_transfer
from offchain.paths import BUILD_MANIFEST
from offchain.settings import devnet_account

OWNERS = (6, 7, 8)
DAY = 86400


def measure() -> dict:
    with Anvil() as node:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 30}))
        me = w3.eth.accounts[0]
        types = json.loads(BUILD_MANIFEST.read_text())["contractTypes"]

        def wait(tx):
            receipt = w3.eth.wait_for_transaction_receipt(tx)
            assert receipt.status == 1, receipt
            return receipt

        def deploy(abi, bytecode, *args):
            receipt = wait(
                w3.eth.contract(abi=abi, bytecode=bytecode).constructor(*args).transact({"from": me})
            )
            return w3.eth.contract(address=receipt.contractAddress, abi=abi)

        def vyper(name, *args):
            return deploy(types[name]["abi"], types[name]["deploymentBytecode"]["bytecode"], *args)

        def safe_part(name, *args):
            built = artifact(name)
            return deploy(built["abi"], built["bytecode"], *args)

        def send(call) -> int:
            gas = call.estimate_gas({"from": me})
            wait(call.transact({"from": me, "gas": gas + 50_000}))
            return gas

        usdc = vyper("DevToken", "USD Coin (devnet)", "USDC", 6)
        breaker = vyper("CircuitBreaker", me, me, me)
        custody = vyper("Custody", breaker.address, me, me)
        send(breaker.functions.protect(custody.address, 3600))
        send(custody.functions.set_token(usdc.address, True, 10**15, 10**16, DAY))
        singleton, factory = safe_part("Safe"), safe_part("SafeProxyFactory")
        handler = safe_part("CompatibilityFallbackHandler")
        owners = [devnet_account(i) for i in OWNERS]
        init = initializer([o.address for o in owners], 2, handler.address)
        address = factory.functions.createProxyWithNonce(singleton.address, init, 0).call()
        send(factory.functions.createProxyWithNonce(singleton.address, init, 0))
        safe = w3.eth.contract(address=address, abi=artifact("Safe")["abi"])
        send(custody.functions.set_cold_wallet(safe.address, True))

        figures: dict = {}
        send(usdc.functions.mint(custody.address, 10**12))
        figures["custody_to_cold"] = send(custody.functions.to_cold(usdc.address, 5 * 10**11, safe.address))
        chain_id = w3.eth.chain_id
        for run in ("first", "next"):  # the second execution finds warm nonce and balances
            tx = token_transfer(usdc.address, custody.address, 10**10, safe.functions.nonce().call())
            signatures = pack_signatures([sign(tx, chain_id, safe.address, o) for o in owners[:2]])
            figures[f"safe_exec_transfer_{run}"] = send(
                safe.functions.execTransaction(*tx.exec_args(signatures))
            )

        anchor = vyper("JournalAnchor", me, me)
        journal = 1_733_000_000_000
        figures["anchor_first"] = send(anchor.functions.anchor(journal, 1_000, b"\x11" * 32))
        figures["anchor_next"] = send(anchor.functions.anchor(journal, 2_000, b"\x22" * 32))
        return figures


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
