"""The deploy script on a real anvil, then plain web3.py over JSON-RPC, as an outside client would."""

import pytest
from web3 import Web3

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("anvil")]

ACCOUNT_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ACCOUNT_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ACCOUNT_2 = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


def test_deployment_file_has_the_published_shape(deployment, w3):
    assert deployment.chain_id == 31337 == w3.eth.chain_id
    assert deployment.deployer == ACCOUNT_0
    assert deployment.block >= 0
    for symbol in ("USDC", "USDE", "WETH"):
        address = deployment.contracts[symbol]
        assert Web3.is_checksum_address(address)
        assert len(w3.eth.get_code(address)) > 0


def test_token_mint_transfer_and_balances_over_json_rpc(deployment, w3):
    usdc = deployment.contract(w3, "USDC")
    assert usdc.functions.symbol().call() == "USDC"
    assert usdc.functions.decimals().call() == 6
    before_1 = usdc.functions.balanceOf(ACCOUNT_1).call()
    before_2 = usdc.functions.balanceOf(ACCOUNT_2).call()

    tx = usdc.functions.mint(ACCOUNT_1, 2_500_000).transact({"from": ACCOUNT_1})
    assert w3.eth.wait_for_transaction_receipt(tx).status == 1
    tx = usdc.functions.transfer(ACCOUNT_2, 1_000_000).transact({"from": ACCOUNT_1})
    assert w3.eth.wait_for_transaction_receipt(tx).status == 1

    assert usdc.functions.balanceOf(ACCOUNT_1).call() == before_1 + 1_500_000
    assert usdc.functions.balanceOf(ACCOUNT_2).call() == before_2 + 1_000_000


def test_transfer_beyond_balance_is_rejected_by_the_chain(deployment, w3):
    weth = deployment.contract(w3, "WETH")
    balance = weth.functions.balanceOf(ACCOUNT_2).call()
    with pytest.raises(Exception):  # noqa: B017 - web3 raises ContractLogicError subclasses by node
        weth.functions.transfer(ACCOUNT_1, balance + 1).transact({"from": ACCOUNT_2})
    assert weth.functions.balanceOf(ACCOUNT_2).call() == balance
