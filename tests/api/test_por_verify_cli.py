"""`python -m offchain por verify` against a real ReserveRegistry on anvil: a user's proof is checked
locally and on-chain, and the report says in plain words what was proven; a tampered proof, someone
else's proof or an unattested epoch fails with a reason and a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from offchain.paths import PROJECT_ROOT
from offchain.por import attest_args, build_account_tree

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("anvil")]

CONTRACTS = PROJECT_ROOT / "contracts"
DEPOSITOR = Account.from_key("0x" + "55" * 32)
OTHER = Account.from_key("0x" + "66" * 32)
USDC = 10**6
USDE = 10**18


@cache
def artifact(name: str) -> tuple[list, str]:
    """Compile `contracts/<name>.vy` (ABI, bytecode) with the project's vyper."""
    import boa
    from vyper.compiler.output import build_abi_output

    boa.interpret.set_search_paths([str(CONTRACTS)])
    data = boa.load_partial(str(CONTRACTS / f"{name}.vy")).compiler_data
    return build_abi_output(data), "0x" + data.bytecode.hex()


def deploy(w3: Web3, name: str, *args):
    abi, bytecode = artifact(name)
    sender = w3.eth.accounts[0]
    tx = w3.eth.contract(abi=abi, bytecode=bytecode).constructor(*args).transact({"from": sender})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    return w3.eth.contract(address=receipt.contractAddress, abi=abi)


def send(w3: Web3, fn) -> None:
    w3.eth.wait_for_transaction_receipt(fn.transact({"from": w3.eth.accounts[0]}))


@pytest.fixture(scope="module")
def attested(w3, tmp_path_factory):
    """A registry on anvil that attested epoch 1 of a three-account tree; reserves back USDC at 104 %."""
    deployer = w3.eth.accounts[0]
    usdc = deploy(w3, "DevToken", "USD Coin (devnet)", "USDC", 6)
    usde = deploy(w3, "DevToken", "Ethena USDe (devnet)", "USDE", 18)
    registry = deploy(w3, "ReserveRegistry", deployer, deployer, deployer)
    custody = w3.eth.accounts[5]
    send(w3, registry.functions.set_reserve_address(custody, True))
    assets = [usdc.address, usde.address]
    balances = [
        (DEPOSITOR.address, [1_500 * USDC, 20 * USDE]),
        (OTHER.address, [8_500 * USDC, 0]),
        ("0x" + "77" * 20, [500 * USDC, -5 * USDE]),
    ]
    tree = build_account_tree(1, assets, balances, b"breakwater-test-secret")
    attestation = attest_args(tree)
    send(w3, registry.functions.attest(*attestation.values()))
    send(w3, usdc.functions.mint(custody, 10_920 * USDC))  # net liabilities 10_500 USDC: 104.00 %
    send(w3, usde.functions.mint(custody, 15 * USDE))  # net 15 USDE: 100.00 %
    out = tmp_path_factory.mktemp("por")
    deployment = out / "31337.json"
    deployment.write_text(json.dumps({"chain_id": 31337, "contracts": {"ReserveRegistry": registry.address}}))
    proof = out / "proof.json"
    # the API's answer wraps the proof: the CLI takes it as it comes
    proof.write_text(
        json.dumps({"epoch": {"epoch": 1}, "proof": tree.proof_for(DEPOSITOR.address).to_json()})
    )
    return {"dir": out, "deployment": deployment, "proof": proof, "registry": registry, "tree": tree}


def verify(anvil, attested, *extra: str, address: str = DEPOSITOR.address, proof: Path | None = None):
    cmd = [sys.executable, "-m", "offchain", "por", "verify", "--address", address, "--rpc", anvil.url]
    cmd += ["--proof", str(proof or attested["proof"]), "--deployment", str(attested["deployment"]), *extra]
    return subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)


def test_a_depositor_verifies_inclusion_and_reads_reserves_in_plain_words(anvil, attested):
    run = verify(anvil, attested)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert f"account {DEPOSITOR.address.lower()} in epoch 1 on chain 31337" in out
    assert "ReserveRegistry.verify_inclusion" in out and "returned true" in out
    assert "USDC  equity 1500  debt 0" in out
    assert "USDE  equity 20  debt 0" in out
    assert "USDC  equity 10500  debt 0  net 10500" in out
    assert "reserve ratio 104.00 %" in out
    assert "USDE  reserves 15  net liabilities 15  reserve ratio 100.00 %" in out
    assert "The latest attestation is fresh" in out
    assert out.strip().endswith("attested on-chain.")


def test_someone_elses_proof_does_not_verify_for_you(anvil, attested):
    run = verify(anvil, attested, address=OTHER.address)
    assert run.returncode == 1
    assert "NOT VERIFIED: the proof is for account" in run.stdout


def test_a_proof_with_a_lowered_balance_fails_with_a_reason(anvil, attested):
    doc = json.loads(attested["proof"].read_text())["proof"]
    doc["equity"][0] = str(1_000 * USDC)  # claim less than the exchange owes
    tampered = attested["dir"] / "tampered.json"
    tampered.write_text(json.dumps(doc))
    run = verify(anvil, attested, proof=tampered)
    assert run.returncode == 1
    assert "NOT VERIFIED: the proof's path does not lead to the root it names" in run.stdout


def test_a_self_consistent_proof_of_an_unattested_tree_fails_against_the_chain(anvil, attested):
    forged = build_account_tree(1, attested["tree"].assets, [(DEPOSITOR.address, [1 * USDC, 0])], b"x" * 32)
    path = attested["dir"] / "forged.json"
    path.write_text(json.dumps(forged.proof_for(DEPOSITOR.address).to_json()))
    run = verify(anvil, attested, proof=path)
    assert run.returncode == 1
    assert "NOT VERIFIED" in run.stdout and "attestation" in run.stdout


def test_an_epoch_never_attested_fails(anvil, attested):
    doc = json.loads(attested["proof"].read_text())["proof"]
    doc["epoch"] = 9
    path = attested["dir"] / "epoch9.json"
    path.write_text(json.dumps(doc))
    run = verify(anvil, attested, proof=path)
    assert (run.returncode, run.stdout.strip()) == (1, "NOT VERIFIED: epoch 9 was never attested on-chain")


def test_a_broken_proof_file_is_named_with_its_field(anvil, attested):
    path = attested["dir"] / "broken.json"
    path.write_text(json.dumps({"format": "breakwater-por-proof/1", "epoch": "one"}))
    run = verify(anvil, attested, proof=path)
    assert run.returncode == 2
    assert "broken.json: epoch: expected a non-negative integer" in run.stderr


def test_strict_mode_fails_when_reserves_fall_below_liabilities(anvil, attested, w3):
    usdc = w3.eth.contract(address=attested["tree"].assets[0], abi=artifact("DevToken")[0])
    custody = w3.eth.accounts[5]
    assert verify(anvil, attested, "--strict").returncode == 0
    moved = usdc.functions.transfer(w3.eth.accounts[6], 1_000 * USDC).transact({"from": custody})
    w3.eth.wait_for_transaction_receipt(moved)
    run = verify(anvil, attested, "--strict")
    assert run.returncode == 1
    assert "reserve ratio 94.47 %  (BELOW 100 %)" in run.stdout
    assert "FAILED (--strict): USDC reserves are 94.47 % of net liabilities" in run.stdout


def test_a_proof_of_an_earlier_epoch_is_checked_against_its_attested_event(anvil, w3, tmp_path):
    deployer = w3.eth.accounts[0]
    usdc = deploy(w3, "DevToken", "USD Coin (devnet)", "USDC", 6)
    registry = deploy(w3, "ReserveRegistry", deployer, deployer, deployer)
    balances = [(DEPOSITOR.address, [700 * USDC]), (OTHER.address, [300 * USDC])]
    first = build_account_tree(1, [usdc.address], balances, b"breakwater-test-secret")
    send(w3, registry.functions.attest(*attest_args(first).values()))
    later = build_account_tree(2, [usdc.address], balances[:1], b"breakwater-test-secret")
    send(w3, registry.functions.attest(*attest_args(later).values()))
    (tmp_path / "proof.json").write_text(json.dumps(first.proof_for(DEPOSITOR.address).to_json()))
    cmd = [
        sys.executable,
        "-m",
        "offchain",
        "por",
        "verify",
        "--address",
        DEPOSITOR.address,
        "--rpc",
        anvil.url,
    ]
    cmd += ["--proof", str(tmp_path / "proof.json"), "--registry", registry.address]
    run = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "USDC  equity 700  debt 0" in run.stdout
    assert "USDC  equity 1000  debt 0  net 1000" in run.stdout  # epoch 1's totals, from its event
    assert "epoch 2 is newer than your proof's" in run.stdout
