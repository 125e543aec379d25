"""The cold wallet is a real Safe 1.4.1 (npm artifacts, deployed by `ape run deploy`), 2-of-3 on a devnet."""

from __future__ import annotations

import pytest
from daemon_kit import Chain, isolated_chain
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
    with isolated_chain(w3):
        yield


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


class Alerts:
    """The service seam the rebalancer uses: alerts (the dashboard's lines)."""

    def __init__(self):
        self.alerts: list[dict] = []

    def alert(self, kind: str, message: str, **data) -> dict:
        entry = {"kind": kind, "message": message, **data}
        self.alerts.append(entry)
        return entry


def _rebalancer(chain, liabilities: dict, sender_account=None, signers=None):
    from offchain.chain.protocol import Protocol
    from offchain.chain.rebalancer import Band, Rebalancer
    from offchain.chain.sender import TxSender

    sender = TxSender(chain.w3, sender_account or chain.governor)
    service = Alerts()
    protocol = Protocol(chain.w3, chain.deployment)
    keys = [devnet_account(i) for i in DEVNET_COLD_OWNERS] if signers is None else signers
    return Rebalancer(
        service, protocol, sender, Band(6_000, 7_000), 1.0, lambda: liabilities, signers=keys
    ), service


def usdc_only(entries: list[dict]) -> list[dict]:
    """The USDC moves (and alerts): the shared devnet's Custody may hold other tokens that earlier tests
    deposited, which the rebalancer rightly moves too."""
    return [e for e in entries if e.get("asset") == "USDC"]


def test_the_rebalancer_keeps_the_hot_share_inside_the_band(chain, isolated):
    custody, usdc = chain.contract("Custody"), chain.contract("USDC")
    safe = safe_contract(chain.w3, custody.functions.cold_wallets(0).call())
    chain.wallet().deposit("USDC", 400_000 * USDC)
    hot = chain.balance("USDC", custody.address)
    attested = chain.contract("ReserveRegistry").functions.liabilities(usdc.address).call()
    liabilities = {"USDC": max(hot, attested)}
    cold_before = chain.balance("USDC", safe.address)
    rebalancer, service = _rebalancer(chain, liabilities)

    # All of it hot (100 % > 70 %): the excess goes to the Safe, down to the band's middle (65 %).
    (move,) = usdc_only(rebalancer.step())
    assert move["kind"] == "rebalance" and move["direction"] == "to_cold"
    moved = int(move["amount"])
    assert moved > 0 and chain.balance("USDC", safe.address) == cold_before + moved
    assert chain.balance("USDC", custody.address) * 10_000 // liabilities["USDC"] in range(6_000, 7_001)
    assert rebalancer.step() == []  # inside the band: nothing to do (for any token)

    # Liabilities double (a rush of deposits credited elsewhere): the hot share falls under 60 %;
    # two owners' test keys sign a cold -> hot SafeTx and the daemon executes it.
    liabilities["USDC"] *= 2
    hot_before = chain.balance("USDC", custody.address)
    (move,) = usdc_only(rebalancer.step())
    assert move["direction"] == "to_hot" and len(move["signers"]) == 2
    assert chain.balance("USDC", custody.address) == hot_before + int(move["amount"])
    assert [a["kind"] for a in usdc_only(service.alerts)] == ["rebalance", "rebalance"]


def test_without_the_owners_keys_or_the_governor_role_moves_are_proposed(chain, isolated):
    custody, usdc = chain.contract("Custody"), chain.contract("USDC")
    safe = safe_contract(chain.w3, custody.functions.cold_wallets(0).call())
    chain.wallet().deposit("USDC", 100_000 * USDC)
    hot = chain.balance("USDC", custody.address)
    outsider = chain.new_key()  # no Custody governor role
    rebalancer, service = _rebalancer(chain, {"USDC": hot}, sender_account=outsider, signers=[])
    (proposal,) = usdc_only(rebalancer.step())
    assert proposal["kind"] == "rebalance_proposed" and proposal["direction"] == "to_cold"
    assert chain.balance("USDC", custody.address) == hot  # nothing moved
    assert rebalancer.step() == []  # proposed once (for any token)

    # Fund the Safe, then ask for more hot than there is: a SafeTx for the owners to sign.
    chain.send(chain.governor, custody.functions.to_cold(usdc.address, hot // 2, safe.address))
    rebalancer.liabilities = lambda: {"USDC": hot * 4}
    (proposal,) = usdc_only(rebalancer.step())
    assert proposal["direction"] == "to_hot" and proposal["safe_tx_hash"].startswith("0x")
    tx = token_transfer(usdc.address, custody.address, int(proposal["amount"]), proposal["nonce"])
    assert bytes.fromhex(proposal["safe_tx_hash"][2:]) == tx.hash(chain.w3.eth.chain_id, safe.address)
    assert "must sign SafeTx" in proposal["message"]


def test_the_stress_command_reads_the_chain_and_replays_the_runs(chain, isolated, tmp_path, anvil, capsys):
    from daemon_kit import write_deployment_file

    from offchain.__main__ import main

    custody, usdc = chain.contract("Custody"), chain.contract("USDC")
    chain.wallet().deposit("USDC", 100_000 * USDC)
    safe = custody.functions.cold_wallets(0).call()
    chain.send(chain.governor, custody.functions.to_cold(usdc.address, 10_000 * USDC, safe))
    path = write_deployment_file(chain.deployment, tmp_path)
    plot = tmp_path / "stress.png"
    args = ["stress", "--deployment", str(path), "--rpc", anvil.url, "--token", "USDC", "--plot", str(plot)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "USDC run30" in out and "USDC whale" in out and "paid within the hour" in out
    assert "solvency breaker trips" in out and plot.stat().st_size > 0


def test_the_deploy_takes_the_owners_and_threshold(anvil, tmp_path, w3):
    import json

    from offchain.chain.devnet import run_deploy

    owners = [devnet_account(i).address for i in (1, 2, 3, 4)]
    bad = run_deploy(anvil.url, tmp_path, ["--cold-owner", owners[0], "--cold-threshold", "2"])
    assert bad.returncode != 0 and "threshold (2) <= owners (1)" in bad.stdout + bad.stderr
    args = [a for o in owners for a in ("--cold-owner", o)] + ["--cold-threshold", "3"]
    result = run_deploy(anvil.url, tmp_path, args)
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "31337.json").read_text())["cold_wallet"]
    assert doc["threshold"] == 3 and doc["owners"] == owners and doc["version"] == "1.4.1"
    safe = safe_contract(w3, doc["safe"])
    assert safe.functions.getThreshold().call() == 3 and safe.functions.getOwners().call() == owners
