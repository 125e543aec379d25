"""The cold wallet is a real Safe 1.4.1 (npm artifacts, deployed by `ape run deploy`), 2-of-3 on a devnet."""

from __future__ import annotations

import pytest
from daemon_kit import Chain
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from offchain.chain.safe import DEVNET_COLD_OWNERS, pack_signatures, safe_contract, sign, token_transfer
from offchain.settings import devnet_account

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("anvil")]

USDC = 10**6


@pytest.fixture(scope="module")
def chain(w3, deployment) -> Chain:
    return Chain(w3, deployment)


@pytest.fixture
def isolated(w3):
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    yield
    w3.provider.make_request("evm_revert", [snapshot])


@pytest.fixture
def cold(chain, isolated):
    """The Safe, with 50,000 USDC moved into it from Custody by `to_cold`."""
    custody = chain.contract("Custody")
    safe = safe_contract(chain.w3, custody.functions.cold_wallets(0).call())
    usdc = chain.contract("USDC")
    chain.wallet().deposit("USDC", 200_000 * USDC)
    amount = min(50_000 * USDC, custody.functions.hot_surplus(usdc.address).call())
    assert amount > 0
    chain.send(chain.governor, custody.functions.to_cold(usdc.address, amount, safe.address))
    assert chain.balance("USDC", safe.address) == amount
    return safe, amount


def _transfer_back(chain, safe, amount, owners):
    usdc, custody = chain.contract("USDC").address, chain.contract("Custody").address
    tx = token_transfer(usdc, custody, amount, safe.functions.nonce().call())
    chain_id = chain.w3.eth.chain_id
    return tx, pack_signatures([sign(tx, chain_id, safe.address, devnet_account(i)) for i in owners])


def test_the_cold_wallet_is_a_2_of_3_safe_registered_as_reserve(chain):
    custody, registry = chain.contract("Custody"), chain.contract("ReserveRegistry")
    safe = safe_contract(chain.w3, custody.functions.cold_wallets(0).call())
    assert safe.functions.VERSION().call() == "1.4.1"
    assert safe.functions.getThreshold().call() == 2
    assert sorted(safe.functions.getOwners().call()) == sorted(
        devnet_account(i).address for i in DEVNET_COLD_OWNERS
    )
    count = registry.functions.reserve_addresses_count().call()
    assert safe.address in [registry.functions.reserve_addresses(i).call() for i in range(count)]
    assert chain.w3.eth.get_code(safe.address)  # a proxy, created by the factory


def test_two_owners_sign_a_safe_tx_and_anyone_executes_it(chain, cold):
    safe, amount = cold
    tx, signatures = _transfer_back(chain, safe, amount, [DEVNET_COLD_OWNERS[2], DEVNET_COLD_OWNERS[0]])
    # Our EIP-712 SafeTx hash is the Safe's own.
    onchain = safe.functions.getTransactionHash(*tx.exec_args(b"")[:-1], tx.nonce).call()
    assert onchain == tx.hash(chain.w3.eth.chain_id, safe.address)
    custody_before = chain.balance("USDC", chain.contract("Custody").address)
    receipt = chain.send(
        chain.new_key(), safe.functions.execTransaction(*tx.exec_args(signatures)), gas=300_000
    )
    assert chain.balance("USDC", safe.address) == 0
    assert chain.balance("USDC", chain.contract("Custody").address) == custody_before + amount
    assert safe.functions.nonce().call() == tx.nonce + 1
    assert safe.events.ExecutionSuccess().process_receipt(receipt, errors=DISCARD)


@pytest.mark.parametrize(
    "signers, reason",
    [
        ([DEVNET_COLD_OWNERS[0]], "GS020"),  # one signature of a 2-of-3 Safe: too few
        ([DEVNET_COLD_OWNERS[0], 1], "GS026"),  # anvil account 1 is not an owner
        ([DEVNET_COLD_OWNERS[1], DEVNET_COLD_OWNERS[1]], "GS026"),  # one owner twice is not two owners
    ],
)
def test_a_transfer_without_two_owners_is_refused(chain, cold, signers, reason):
    safe, amount = cold
    tx, signatures = _transfer_back(chain, safe, amount, signers)
    if len(set(signers)) < len(signers):
        _, sig = sign(tx, chain.w3.eth.chain_id, safe.address, devnet_account(signers[0]))
        signatures = sig + sig
    with pytest.raises(ContractLogicError, match=reason):
        safe.functions.execTransaction(*tx.exec_args(signatures)).call({"from": chain.governor.address})
    assert chain.balance("USDC", safe.address) == amount


def test_signatures_cannot_be_replayed(chain, cold):
    safe, amount = cold
    half = amount // 2
    usdc, custody = chain.contract("USDC").address, chain.contract("Custody").address
    tx = token_transfer(usdc, custody, half, safe.functions.nonce().call())
    sigs = pack_signatures(
        [sign(tx, chain.w3.eth.chain_id, safe.address, devnet_account(i)) for i in DEVNET_COLD_OWNERS[:2]]
    )
    chain.send(chain.governor, safe.functions.execTransaction(*tx.exec_args(sigs)), gas=300_000)
    with pytest.raises(
        ContractLogicError, match="GS026"
    ):  # same signatures, next nonce: not the owners' hash
        safe.functions.execTransaction(*tx.exec_args(sigs)).call({"from": chain.governor.address})
    assert chain.balance("USDC", safe.address) == amount - half
