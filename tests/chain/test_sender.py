"""The transaction sender against a real anvil: nonces, reverts, stuck-transaction replacement."""

import threading
import time

import pytest
from eth_account import Account
from web3 import Web3

from offchain.chain.devnet import Anvil, free_port
from offchain.chain.sender import ChainUnavailable, SendPolicy, TxFailed, TxSender

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("anvil")]

# anvil's default mnemonic, accounts 3 and 4 (0..2 are used by other suites).
POSTER_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"
RECEIVER = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"


@pytest.fixture()
def node():
    with Anvil() as anvil:
        yield anvil


@pytest.fixture()
def w3(node):
    return Web3(Web3.HTTPProvider(node.url))


def test_consecutive_sends_use_consecutive_nonces(w3):
    sender = TxSender(w3, Account.from_key(POSTER_KEY))
    receipts = [sender.send_raw({"to": RECEIVER, "value": 1_000 + i, "gas": 21_000}) for i in range(3)]
    nonces = [w3.eth.get_transaction(r["transactionHash"])["nonce"] for r in receipts]
    assert nonces == [0, 1, 2]
    assert all(r["status"] == 1 for r in receipts)


def test_a_transaction_the_node_refuses_raises_with_its_reason_and_keeps_the_nonce(w3):
    sender = TxSender(w3, Account.from_key(POSTER_KEY))
    balance = w3.eth.get_balance(sender.address)
    with pytest.raises(TxFailed, match="(?i)insufficient funds"):
        sender.send_raw({"to": RECEIVER, "value": balance * 2})
    receipt = sender.send_raw({"to": RECEIVER, "value": 1, "gas": 21_000})
    assert w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == 0


def test_a_stuck_transaction_is_replaced_with_higher_fees_and_mined_once(w3):
    w3.provider.make_request("evm_setAutomine", [False])
    sender = TxSender(w3, Account.from_key(POSTER_KEY), SendPolicy(receipt_timeout_s=0.6, max_replacements=3))
    result = {}
    worker = threading.Thread(
        target=lambda: result.update(sender.send_raw({"to": RECEIVER, "value": 7, "gas": 21_000}))
    )
    worker.start()
    time.sleep(1.0)  # first attempt times out, a replacement is in the pool
    w3.provider.make_request("evm_mine", [])
    worker.join(10)
    assert result["status"] == 1
    mined = w3.eth.get_transaction(result["transactionHash"])
    assert mined["nonce"] == 0
    block = w3.eth.get_block(result["blockNumber"], full_transactions=True)
    assert [tx["nonce"] for tx in block["transactions"] if tx["from"] == sender.address] == [0]
    w3.provider.make_request("evm_setAutomine", [True])
    assert w3.eth.get_transaction_count(sender.address) == 1


def test_an_rpc_that_does_not_answer_raises_chain_unavailable_after_retries():
    w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{free_port()}", request_kwargs={"timeout": 1}))
    sender = TxSender(w3, Account.from_key(POSTER_KEY), SendPolicy(rpc_retries=2, backoff_s=0.05))
    started = time.monotonic()
    with pytest.raises(ChainUnavailable):
        sender.send_raw({"to": RECEIVER, "value": 1, "gas": 21_000})
    assert time.monotonic() - started < 10
