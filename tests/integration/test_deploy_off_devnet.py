"""The deploy script off a devnet: a keyfile account, existing tokens and role holders from options.

Anvil runs with a chain id that is not a devnet's, so the script takes its production path: no faucet
token is deployed, no stake is minted, and the deployer keeps no role.
"""

import json

import pytest
from eth_account import Account
from web3 import Web3

from offchain.chain.deployment import Deployment
from offchain.chain.devnet import Anvil, run_deploy
from offchain.paths import BUILD_MANIFEST

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("anvil")]

CHAIN_ID = 5151
# anvil's default mnemonic: account 6 deploys, 7 governs, 8 guards, 9 keeps, 5 posts.
DEPLOYER_KEY = "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e"
GOVERNOR = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"
GUARDIAN = "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f"
SENTINEL = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"
POSTER = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"
PASSPHRASE = "correct horse battery staple"


@pytest.fixture(scope="module")
def mainnet_like(tmp_path_factory):
    """Deploy on a non-devnet chain and return (w3, deployment, deploy output, existing tokens)."""
    home = tmp_path_factory.mktemp("ape_home")
    (home / "accounts").mkdir()
    keyfile = Account.encrypt(DEPLOYER_KEY, PASSPHRASE)
    (home / "accounts" / "operator.json").write_text(json.dumps(keyfile))
    deployer = Account.from_key(DEPLOYER_KEY).address
    with Anvil(chain_id=CHAIN_ID) as node:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 30}))
        token_type = json.loads(BUILD_MANIFEST.read_text())["contractTypes"]["DevToken"]
        factory = w3.eth.contract(
            abi=token_type["abi"], bytecode=token_type["deploymentBytecode"]["bytecode"]
        )
        existing = {}
        for symbol, decimals in (("USDC", 6), ("USDE", 18), ("WETH", 18)):
            tx = factory.constructor(f"{symbol} (issuer)", symbol, decimals).transact({"from": deployer})
            existing[symbol] = w3.eth.wait_for_transaction_receipt(tx).contractAddress
        out = tmp_path_factory.mktemp("deployments")
        args = ["--account", "operator", "--autosign"]
        args += [f"--token={s}={a}" for s, a in existing.items()]
        args += ["--governor", GOVERNOR, "--guardian", GUARDIAN, "--sentinel", SENTINEL, "--poster", POSTER]
        result = run_deploy(
            node.url,
            deployments_dir=out,
            extra_args=args,
            env_extra={"APE_DATA_FOLDER": str(home), "APE_ACCOUNTS_operator_PASSPHRASE": PASSPHRASE},
        )
        assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
        yield w3, Deployment.load(path=out / f"{CHAIN_ID}.json"), existing, deployer


def test_existing_tokens_are_bound_and_no_faucet_token_is_deployed(mainnet_like):
    w3, deployment, existing, deployer = mainnet_like
    assert deployment.chain_id == CHAIN_ID and deployment.deployer == deployer
    for symbol, address in existing.items():
        assert deployment.contracts[symbol] == address
    pool = deployment.contract(w3, "Pool")
    assert {pool.functions.token0().call(), pool.functions.token1().call()} == {
        existing["USDE"],
        existing["USDC"],
    }
    # Nothing was minted for the deploy: no seed liquidity, no insurance stake.
    assert pool.functions.totalSupply().call() == 0
    assert deployment.contract(w3, "InsuranceFund").functions.totalSupply().call() == 0


def test_roles_go_to_the_given_holders_and_none_stays_with_the_deployer(mainnet_like):
    w3, deployment, _, deployer = mainnet_like
    breaker = deployment.contract(w3, "CircuitBreaker")
    role = {
        name: getattr(breaker.functions, name)().call()
        for name in ("GOVERNOR_ROLE", "GUARDIAN_ROLE", "SENTINEL_ROLE")
    }
    assert breaker.functions.hasRole(role["GOVERNOR_ROLE"], GOVERNOR).call()
    assert breaker.functions.hasRole(role["GUARDIAN_ROLE"], GUARDIAN).call()
    assert breaker.functions.hasRole(role["SENTINEL_ROLE"], SENTINEL).call()
    for name, contract_role in (
        ("ReserveRegistry", "ATTESTER_ROLE"),
        ("Custody", "OPERATOR_ROLE"),
        ("InsuranceFund", "COVER_ROLE"),
    ):
        contract = deployment.contract(w3, name)
        assert contract.functions.hasRole(getattr(contract.functions, contract_role)().call(), POSTER).call()
        assert not contract.functions.hasRole(
            getattr(contract.functions, contract_role)().call(), deployer
        ).call()
        governor_role = contract.functions.GOVERNOR_ROLE().call()
        assert contract.functions.hasRole(governor_role, GOVERNOR).call(), name
        assert not contract.functions.hasRole(governor_role, deployer).call(), name
    for r in role.values():
        assert not breaker.functions.hasRole(r, deployer).call()


def test_every_protocol_contract_is_protected_by_the_breaker(mainnet_like):
    w3, deployment, _, _ = mainnet_like
    breaker = deployment.contract(w3, "CircuitBreaker")
    for name in ("Pool", "InsuranceFund", "ReserveRegistry", "Custody"):
        assert not breaker.functions.is_halted(deployment.contracts[name]).call()
        protected, halted, _, _, _, halt_seconds = breaker.functions.protection(
            deployment.contracts[name]
        ).call()
        assert protected and not halted and halt_seconds > 0, name


def test_off_a_devnet_the_script_refuses_to_run_without_an_account(tmp_path):
    with Anvil(chain_id=CHAIN_ID) as node:
        result = run_deploy(node.url, deployments_dir=tmp_path)
    assert result.returncode != 0
    assert "--account is required off a devnet" in result.stdout + result.stderr
    assert not list(tmp_path.iterdir())
