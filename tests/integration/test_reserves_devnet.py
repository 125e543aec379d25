"""The reserves side as deployed by the real deploy script on anvil, driven over JSON-RPC with web3.py."""

import pytest
from daemon_kit import isolated_chain
from web3 import Web3
from web3.logs import DISCARD

from offchain.por import attest_args, build_account_tree, verify_proof

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("anvil")]

DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # devnet: governor and chain poster
TRADER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
MARKET_MAKER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
SECRET = b"devnet proof-of-reserves secret!"


@pytest.fixture
def chain_snapshot(w3):
    """Undo whatever a test does on the shared devnet (epochs, halts, balances)."""
    with isolated_chain(w3):
        yield


def send(w3, call, sender):
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender}))
    assert receipt.status == 1
    return receipt


@pytest.fixture
def c(deployment, w3):
    return {name: deployment.contract(w3, name) for name in deployment.contracts}


def test_deployment_lists_the_reserves_contracts(deployment, w3):
    for name in ("InsuranceFund", "ReserveRegistry", "Custody"):
        address = deployment.contracts[name]
        assert Web3.is_checksum_address(address)
        assert len(w3.eth.get_code(address)) > 0


def test_reserves_contracts_are_wired_and_under_the_breaker(c):
    breaker, registry, custody, fund = (
        c["CircuitBreaker"],
        c["ReserveRegistry"],
        c["Custody"],
        c["InsuranceFund"],
    )
    for contract in (registry, custody, fund):
        protected, halted, *_ = breaker.functions.protection(contract.address).call()
        assert protected and not halted
    assert breaker.functions.hasRole(breaker.functions.SENTINEL_ROLE().call(), registry.address).call()
    assert registry.functions.reserve_addresses(0).call() == custody.address
    assert registry.functions.halt_target().call() == custody.address
    assert registry.functions.custody().call() == custody.address  # its payouts reduce the liabilities
    assert custody.functions.registry().call() == registry.address
    assert fund.functions.custodies(0).call() == custody.address
    assert fund.functions.asset().call() == c["USDC"].address
    assert c["Pool"].functions.fee_receiver(c["USDC"].address).call() == fund.address
    assert c["Pool"].functions.fee_receiver(c["USDE"].address).call() == DEPLOYER, "the fund takes only USDC"
    for contract, role in ((registry, "ATTESTER_ROLE"), (custody, "OPERATOR_ROLE"), (fund, "COVER_ROLE")):
        assert contract.functions.hasRole(getattr(contract.functions, role)().call(), DEPLOYER).call()


def test_insurance_fund_is_staked_on_the_devnet(c, deployment):
    # Other suites on this devnet may have drawn covers since: read the stake from the deploy's event.
    fund, usdc = c["InsuranceFund"], c["USDC"]
    stakes = fund.events.Deposit().get_logs(from_block=deployment.block)
    assert [(e.args.owner, e.args.assets) for e in stakes][:1] == [(DEPLOYER, 250_000 * 10**6)]
    assert usdc.functions.balanceOf(fund.address).call() == fund.functions.totalAssets().call()
    assert fund.functions.balanceOf(DEPLOYER).call() > 0


def test_deposit_attest_and_verify_a_users_inclusion_over_json_rpc(c, w3, chain_snapshot):
    custody, registry, usdc, weth = c["Custody"], c["ReserveRegistry"], c["USDC"], c["WETH"]
    send(w3, usdc.functions.mint(TRADER, 5_000 * 10**6), TRADER)
    send(w3, usdc.functions.approve(custody.address, 5_000 * 10**6), TRADER)
    receipt = send(w3, custody.functions.deposit(usdc.address, 5_000 * 10**6), TRADER)
    (deposited,) = custody.events.Deposited().process_receipt(receipt, errors=DISCARD)
    assert (deposited.args.depositor, deposited.args.amount) == (TRADER, 5_000 * 10**6)

    epoch = registry.functions.latest_epoch().call() + 1
    assets = [usdc.address, weth.address]
    balances = [(TRADER, [5_000 * 10**6, 0]), (MARKET_MAKER, [-1_000 * 10**6, 2 * 10**18])]
    tree = build_account_tree(epoch, assets, balances, SECRET)
    a = attest_args(tree)
    send(w3, registry.functions.attest(*a.values()), DEPLOYER)  # with its debtors' register (docs/por.md)
    assert registry.functions.latest_epoch().call() == epoch
    assert registry.functions.is_fresh().call()

    proof = tree.proof_for(TRADER)
    assert verify_proof(proof, a["root"], a["total_equity"], a["total_debt"])
    assert registry.functions.verify_inclusion(*proof.contract_args()).call() is True
    epoch_, commitment, equity, *rest = proof.contract_args()
    assert (
        registry.functions.verify_inclusion(epoch_, commitment, [equity[0] - 1, equity[1]], *rest).call()
        is False
    )

    # Reserves are live balances: Custody holds the deposit, liabilities are net of the debt.
    reserves = usdc.functions.balanceOf(custody.address).call()
    assert registry.functions.reserves(usdc.address).call() == reserves
    assert registry.functions.reserve_ratio_bps(usdc.address).call() == reserves * 10_000 // (4_000 * 10**6)


def test_check_solvency_halts_custody_when_reserves_fall_short(c, w3, chain_snapshot):
    registry, custody, breaker, weth = c["ReserveRegistry"], c["Custody"], c["CircuitBreaker"], c["WETH"]
    epoch = registry.functions.latest_epoch().call() + 1
    liabilities = weth.functions.balanceOf(custody.address).call() + 10**18
    send(w3, registry.functions.attest(epoch, b"\x01" * 32, [weth.address], [liabilities], [0], 1), DEPLOYER)
    send(w3, registry.functions.check_solvency(), MARKET_MAKER)  # anyone may call it
    assert breaker.functions.is_halted(custody.address).call()
    assert breaker.functions.last_reason(custody.address).call() == 50
    assert c["InsuranceFund"].functions.is_frozen().call()


def test_operator_withdrawal_pays_once_per_request(c, w3, chain_snapshot):
    custody, usdc = c["Custody"], c["USDC"]
    send(w3, usdc.functions.mint(custody.address, 100 * 10**6), DEPLOYER)
    before = usdc.functions.balanceOf(TRADER).call()
    request_id = b"\x42" * 32
    for _ in range(2):  # the poster resends
        send(w3, custody.functions.withdraw(request_id, TRADER, usdc.address, 60 * 10**6), DEPLOYER)
    assert usdc.functions.balanceOf(TRADER).call() == before + 60 * 10**6
    assert custody.functions.is_paid(request_id).call()
