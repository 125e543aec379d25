"""`python -m offchain por audit` against a real ReserveRegistry on anvil (issue 14.7, the FTX hole).

The attack: users are owed 200 USDC, reserves are 100 USDC, and the exchange adds one leaf that
"owes" 100 USDC, so the net ratio reads 100 %. With the debtors' register that leaf has to be
published, and the audit names it: its collateral does not cover its debt. A register that leaves
a debtor out cannot match the attested total_debt; one that invents collateral is not the tree's.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from functools import cache

import pytest
from web3 import Web3

from offchain.chain.audit import REGISTER_ABI
from offchain.paths import PROJECT_ROOT
from offchain.por import Register, attest_args, build_account_tree, build_register

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("anvil")]

CONTRACTS = PROJECT_ROOT / "contracts"
SECRET = b"breakwater-audit-test-secret"
USDC = 10**6
WETH = 10**18
PRICES = [10**30, 2_000 * 10**18]  # per atom: USDC 1.00, WETH 2,000.00 (docs/por.md)
HAIRCUTS = [0, 2_000]
ALICE, BOB, NOBODY, BORROWER = ("0x" + c * 40 for c in "abcd")


@cache
def artifact(name: str) -> tuple[list, str]:
    import boa
    from vyper.compiler.output import build_abi_output

    boa.interpret.set_search_paths([str(CONTRACTS)])
    data = boa.load_partial(str(CONTRACTS / f"{name}.vy")).compiler_data
    return build_abi_output(data), "0x" + data.bytecode.hex()


def deploy(w3: Web3, name: str, *args):
    abi, bytecode = artifact(name)
    tx = w3.eth.contract(abi=abi, bytecode=bytecode).constructor(*args).transact({"from": w3.eth.accounts[0]})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    return w3.eth.contract(address=receipt.contractAddress, abi=abi)


def send(w3: Web3, fn) -> None:
    receipt = w3.eth.wait_for_transaction_receipt(fn.transact({"from": w3.eth.accounts[0]}))
    assert receipt.status == 1


@pytest.fixture(scope="module")
def chain(w3, tmp_path_factory):
    """A registry with two epochs: 1 honest (a covered borrower), 2 the FTX trick (a fake debtor)."""
    deployer = w3.eth.accounts[0]
    usdc = deploy(w3, "DevToken", "USD Coin (devnet)", "USDC", 6)
    weth = deploy(w3, "DevToken", "Wrapped Ether (devnet)", "WETH", 18)
    registry = deploy(w3, "ReserveRegistry", deployer, deployer, deployer)
    custody = w3.eth.accounts[5]
    send(w3, registry.functions.set_reserve_address(custody, True))
    assets = [usdc.address, weth.address]
    honest = build_account_tree(
        1, assets, [(ALICE, [120 * USDC, 0]), (BORROWER, [-1_000 * USDC, 1 * WETH])], SECRET
    )
    honest_register = build_register(honest, PRICES, HAIRCUTS)
    send(w3, registry.functions.attest(*attest_args(honest, register=honest_register).values()))
    ftx = build_account_tree(
        2, assets, [(ALICE, [120 * USDC, 0]), (BOB, [80 * USDC, 0]), (NOBODY, [-100 * USDC, 0])], SECRET
    )
    ftx_register = build_register(ftx, PRICES, HAIRCUTS)
    send(w3, registry.functions.attest(*attest_args(ftx, register=ftx_register).values()))
    send(w3, usdc.functions.mint(custody, 100 * USDC))
    out = tmp_path_factory.mktemp("audit")
    deployment = out / "31337.json"
    deployment.write_text(json.dumps({"chain_id": 31337, "contracts": {"ReserveRegistry": registry.address}}))
    files = {}
    for name, register in (("honest", honest_register), ("ftx", ftx_register)):
        files[name] = out / f"{name}.json"
        files[name].write_text(json.dumps(register.to_json()))
    return {"dir": out, "deployment": deployment, "files": files, "registry": registry, "ftx": ftx}


def run_audit(anvil, chain, epoch: int, register, *extra: str):
    cmd = [sys.executable, "-m", "offchain", "por", "audit", "--epoch", str(epoch), "--rpc", anvil.url]
    cmd += ["--register", str(register), "--deployment", str(chain["deployment"]), *extra]
    return subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)


def test_an_honest_register_audits_clean(anvil, chain):
    run = run_audit(anvil, chain, 1, chain["files"]["honest"])
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 of 2 accounts owe something" in run.stdout
    assert "USDC  debtors owe 1000  debtors hold 0" in run.stdout
    assert "WETH  debtors owe 0  debtors hold 1" in run.stdout
    assert run.stdout.strip().endswith("debts are all published and all covered.")


def test_the_fake_debtor_is_named_and_the_gross_ratio_shows_the_hole(anvil, chain):
    run = run_audit(anvil, chain, 2, chain["files"]["ftx"])
    assert run.returncode == 1, run.stdout + run.stderr
    (debtor,) = Register.from_json(json.loads(chain["files"]["ftx"].read_text())).debtors
    assert (
        f"FAILED: debtor 0 (leaf 0, commitment 0x{debtor.commitment.hex()}): collateral does not cover "
        "its debt at the attested prices and haircuts (0.00 % of its debt)"
    ) in run.stdout
    assert (
        "USDC  reserves 100  gross ratio 50.00 % (of equity)  net ratio 100.00 % (of equity - debt)"
        in run.stdout
    )
    assert "challenge_debtor" in run.stdout


def test_a_register_that_hides_the_debtor_does_not_match_the_attested_debt(anvil, chain):
    doc = json.loads(chain["files"]["ftx"].read_text())
    doc["debtors"] = []
    hidden = chain["dir"] / "hidden.json"
    hidden.write_text(json.dumps(doc))
    run = run_audit(anvil, chain, 2, hidden)
    assert run.returncode == 1
    assert "FAILED: the register has 0 debtors, the attestation 1" in run.stdout
    assert "the attested total_debt is [100000000, 0]: a debtor is missing from the register" in run.stdout


def test_a_register_that_invents_collateral_is_not_the_trees(anvil, chain):
    register = Register.from_json(json.loads(chain["files"]["ftx"].read_text()))
    (debtor,) = register.debtors
    rich = dataclasses.replace(debtor, equity=(0, 1 * WETH))
    forged = dataclasses.replace(register, debtors=(rich,))
    path = chain["dir"] / "forged.json"
    path.write_text(json.dumps(forged.to_json()))
    run = run_audit(anvil, chain, 2, path)
    assert run.returncode == 1
    assert "do not lead to the attested root and totals" in run.stdout
    assert "the register's root is" in run.stdout  # nor is it the attested register


def test_a_register_of_another_epoch_or_a_missing_file_is_refused(anvil, chain):
    run = run_audit(anvil, chain, 2, chain["files"]["honest"])
    assert run.returncode == 1 and "the register is for epoch 1, the attestation for epoch 2" in run.stdout
    run = run_audit(anvil, chain, 2, chain["dir"] / "nope.json")
    assert run.returncode == 2 and "nope.json" in run.stderr
    run = run_audit(anvil, chain, 9, chain["files"]["honest"])
    assert (run.returncode, run.stderr.strip()) == (2, "error: epoch 9 was never attested on-chain")


def test_the_audits_fallback_abi_matches_the_compiled_contract():
    compiled = {(e["type"], e.get("name", "")): e for e in artifact("ReserveRegistry")[0]}
    for entry in REGISTER_ABI:
        key = (entry["type"], entry["name"])
        assert key in compiled, key
        assert {k: v for k, v in compiled[key].items() if k in entry} == entry, key
