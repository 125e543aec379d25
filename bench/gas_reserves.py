"""Figure: gas of the reserves side on a real anvil, as a user or the chain poster pays it.

Every figure is `eth_estimateGas` of the real transaction on anvil: 21,000 intrinsic gas, the
calldata and the execution, as the node would charge it. `verify_inclusion` is a view; its figure
is what a contract (or a user sending it as a transaction) pays to verify one account's proof of a
tree with 3 assets at depth 10 (1,024 leaves) and depth 20 (1,048,576 leaves; target < 150,000).
Each attestation carries its debtors' register (root, equity sums, count, prices, haircuts), and
`challenge_debtor` is what anyone pays to check one register entry on-chain (64 debtors).
The proofs are built with offchain.por from random siblings whose sums look like real ones
(USDC/WETH/USDE amounts up to 1e24 atoms), so calldata is not flattered by zero bytes.

The contracts and ABIs come from ape's build manifest (`ape compile` first, as `make bench` does).
"""

from __future__ import annotations

import json
import random

from web3 import Web3

from offchain.chain.devnet import Anvil
from offchain.paths import BUILD_MANIFEST
from offchain.por import Leaf, build_tree
from offchain.por.hashing import Node, leaf, parent

TARGET_DEPTH_20 = 150_000
N_ASSETS = 3
DEBTORS = 64
PRICES = [10**30, 2_000 * 10**18, 10**18]  # per atom (docs/por.md): USDC 1.00, WETH 2,000.00, USDE 1.00
HAIRCUTS_BPS = [0, 2_000, 500]
DAY = 86400


def _debtor(rng: random.Random) -> Leaf:
    """A covered debtor: USDC borrowed against WETH worth far more after the haircut."""
    return Leaf(rng.randbytes(32), [0, rng.randrange(10**18, 10**20), 0], [rng.randrange(10**9), 0, 0])


def _calldata_bytes(w3: Web3, call) -> int:
    return len(bytes.fromhex(call._encode_transaction_data()[2:]))


def _synthetic_proof(depth: int, rng: random.Random):
    """Return (commitment, equity, debt, index, siblings, root) for a random path of `depth` levels."""
    index = rng.randrange(2**depth)
    commitment = rng.randbytes(32)
    equity = [rng.randrange(10**24) for _ in range(N_ASSETS)]
    debt = [0, rng.randrange(10**20), 0]
    node = leaf(commitment, equity, debt)
    siblings = []
    for k in range(depth):
        sums = (
            [rng.randrange(10**24) for _ in range(N_ASSETS)],
            [rng.randrange(10**20) for _ in range(N_ASSETS)],
        )
        sibling = Node(rng.randbytes(32), tuple(sums[0]), tuple(sums[1]))
        siblings.append(sibling)
        node = parent(sibling, node) if (index >> k) & 1 else parent(node, sibling)
    return commitment, equity, debt, index, siblings, node


class _Chain:
    """Deploy from the build manifest and send transactions from anvil's first account."""

    def __init__(self, w3: Web3):
        self.w3 = w3
        self.me = w3.eth.accounts[0]
        self.types = json.loads(BUILD_MANIFEST.read_text())["contractTypes"]

    def deploy(self, name: str, *args):
        ct = self.types[name]
        factory = self.w3.eth.contract(abi=ct["abi"], bytecode=ct["deploymentBytecode"]["bytecode"])
        receipt = self._wait(factory.constructor(*args).transact({"from": self.me}))
        return self.w3.eth.contract(address=receipt.contractAddress, abi=ct["abi"])

    def send(self, call, sender=None) -> int:
        """Send `call` and return the gas `eth_estimateGas` quoted for it."""
        sender = sender or self.me
        gas = call.estimate_gas({"from": sender})
        self._wait(call.transact({"from": sender, "gas": gas + 50_000}))
        return gas

    def _wait(self, tx):
        receipt = self.w3.eth.wait_for_transaction_receipt(tx)
        assert receipt.status == 1, receipt
        return receipt


def _advance(w3: Web3, seconds: int) -> None:
    """Move anvil's clock on and mine a block at the new time (estimates run against it)."""
    w3.provider.make_request("evm_increaseTime", [seconds])
    w3.provider.make_request("evm_mine", [])


def measure(seed: int = 2025) -> dict:
    """Deploy on a fresh anvil and return the gas figures as a JSON-ready dict."""
    rng = random.Random(seed)
    with Anvil() as node:
        w3 = Web3(Web3.HTTPProvider(node.url, request_kwargs={"timeout": 30}))
        c = _Chain(w3)
        me, user = c.me, w3.eth.accounts[1]
        usdc = c.deploy("DevToken", "USD Coin (devnet)", "USDC", 6)
        weth = c.deploy("DevToken", "Wrapped Ether (devnet)", "WETH", 18)
        usde = c.deploy("DevToken", "Ethena USDe (devnet)", "USDE", 18)
        assets = [usdc.address, weth.address, usde.address]
        breaker = c.deploy("CircuitBreaker", me, me, me)
        registry = c.deploy("ReserveRegistry", breaker.address, me, me)
        custody = c.deploy("Custody", breaker.address, me, me)
        fund = c.deploy("InsuranceFund", usdc.address, breaker.address, me, 6)
        for contract in (registry, custody, fund):
            c.send(breaker.functions.protect(contract.address, 3600))
        c.send(custody.functions.set_token(usdc.address, True, 10**15, 10**16, DAY))
        c.send(fund.functions.set_custody(custody.address, True))
        c.send(fund.functions.grantRole(fund.functions.COVER_ROLE().call(), me))

        figures: dict = {}
        # Attestations: the first epoch, then a steady-state one (what the poster pays each hour).
        proofs = {}
        for epoch, depth in ((1, 10), (2, 20)):
            commitment, equity, debt, index, siblings, root = _synthetic_proof(depth, rng)
            attest = registry.functions.attest(
                epoch,
                root.hash,
                assets,
                list(root.equity),
                list(root.debt),
                2**depth,
                rng.randbytes(32),  # the debtors' register (docs/por.md): root, equity, count
                [v // 2 for v in root.equity],
                DEBTORS,
                PRICES,
                HAIRCUTS_BPS,
            )
            figures[f"attest_epoch_{epoch}"] = c.send(attest)
            proofs[depth] = (epoch, commitment, equity, debt, index, siblings)
        for depth, (epoch, commitment, equity, debt, index, siblings) in proofs.items():
            call = registry.functions.verify_inclusion(
                epoch,
                commitment,
                equity,
                debt,
                index,
                [s.hash for s in siblings],
                [v for s in siblings for v in s.equity],
                [v for s in siblings for v in s.debt],
            )
            assert call.call() is True
            figures[f"verify_inclusion_depth_{depth}"] = {
                "gas": call.estimate_gas({"from": user}),
                "calldata_bytes": _calldata_bytes(w3, call),
            }

        # The debtors' register: anyone challenges a (covered) debtor of a 64-debtor register.
        register = build_tree(assets, [_debtor(rng) for _ in range(DEBTORS)], epoch=3)
        reg_root = register.root
        c.send(
            registry.functions.attest(
                3,
                rng.randbytes(32),
                assets,
                [v * 2 for v in reg_root.equity],
                list(reg_root.debt),
                2**20,
                reg_root.hash,
                list(reg_root.equity),
                DEBTORS,
                PRICES,
                HAIRCUTS_BPS,
            )
        )
        challenge = registry.functions.challenge_debtor(*register.proof(DEBTORS // 2).contract_args()[1:])
        assert challenge.call() is False
        figures[f"challenge_debtor_{DEBTORS}_debtors"] = {
            "gas": challenge.estimate_gas({"from": user}),
            "calldata_bytes": _calldata_bytes(w3, challenge),
        }

        # Custody: a user's deposit (second one: balances already non-zero) and an operator withdrawal.
        c.send(usdc.functions.mint(user, 10_000 * 10**6))
        c.send(usdc.functions.approve(custody.address, 2**256 - 1), user)
        c.send(custody.functions.deposit(usdc.address, 1_000 * 10**6), user)
        figures["custody_deposit"] = c.send(custody.functions.deposit(usdc.address, 1_000 * 10**6), user)
        c.send(custody.functions.withdraw(b"\x01" * 32, user, usdc.address, 10 * 10**6))
        figures["custody_withdraw"] = c.send(
            custody.functions.withdraw(b"\x02" * 32, user, usdc.address, 10 * 10**6)
        )

        # Custody (issue 14.5): a withdrawal the global window has no room for is held, then claimed.
        # WETH with a 100 WETH cap per minute, refilled from cold (no deposit credit).
        c.send(custody.functions.set_token(weth.address, True, 100 * 10**18, 100 * 10**18, 60))
        c.send(weth.functions.mint(custody.address, 1_000 * 10**18))
        c.send(custody.functions.withdraw(b"\x03" * 32, user, weth.address, 100 * 10**18))
        figures["custody_withdraw_queued"] = c.send(
            custody.functions.withdraw(b"\x04" * 32, w3.eth.accounts[2], weth.address, 10**18)
        )
        _advance(w3, 60)
        figures["custody_claim"] = c.send(custody.functions.claim(b"\x04" * 32), user)

        # InsuranceFund: a stake and a cover payout within the cap (the second one of the day).
        c.send(usdc.functions.mint(me, 1_000_000 * 10**6))
        c.send(usdc.functions.approve(fund.address, 2**256 - 1))
        figures["fund_deposit"] = c.send(fund.functions.deposit(100_000 * 10**6, me))
        c.send(fund.functions.cover(1_000 * 10**6, custody.address, "bad debt 1"))
        figures["fund_cover"] = c.send(fund.functions.cover(1_000 * 10**6, custody.address, "bad debt 2"))
        # Unstaking (issue 14.6): request, start the exit after the cooldown, settle after the delay.
        shares = fund.functions.balanceOf(me).call()
        figures["fund_request_unstake"] = c.send(fund.functions.request_unstake(shares // 2))
        _advance(w3, 7 * DAY)
        figures["fund_start_exit"] = c.send(fund.functions.redeem(shares // 4, me, me))
        _advance(w3, DAY)
        figures["fund_settle_exit"] = c.send(fund.functions.settle_exit(me), user)

        # CircuitBreaker: a sentinel (the off-chain keeper) trips a protected target. Last: it halts Custody.
        figures["breaker_trip"] = c.send(breaker.functions.trip(custody.address, 1000, 0))

    depth_20 = figures["verify_inclusion_depth_20"]["gas"]
    return {
        "figure": "gas_reserves",
        "unit": "gas (eth_estimateGas on anvil: 21000 intrinsic + calldata + execution)",
        "assets": N_ASSETS,
        **figures,
        "target_verify_depth_20": TARGET_DEPTH_20,
        "meets_target": depth_20 < TARGET_DEPTH_20,
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
