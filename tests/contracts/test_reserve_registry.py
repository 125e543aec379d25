"""ReserveRegistry: attestations, on-chain inclusion proofs that agree with offchain.por, live reserves,
freshness and the solvency check that trips the breaker for Custody."""

import dataclasses
import random

import boa
import pytest
from conftest import deploy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offchain.por import (
    Attested,
    Leaf,
    attest_args,
    audit,
    build_account_tree,
    build_register,
    build_tree,
    verify_proof,
)

HOUR = 3600
RESERVES_SHORTFALL, RESERVES_STALE = 50, 51
SECRET = b"registry tests salt secret 32 b!"


@pytest.fixture(scope="module")
def attester():
    return boa.env.generate_address("attester")


@pytest.fixture(scope="module")
def weth(deployer):
    with boa.env.prank(deployer):
        return deploy("DevToken", "Wrapped Ether (devnet)", "WETH", 18)


@pytest.fixture(scope="module")
def registry(breaker, governor, attester, deployer):
    with boa.env.prank(deployer):
        return deploy("ReserveRegistry", breaker.address, governor, attester)


@pytest.fixture(scope="module")
def custody(breaker, registry, governor, deployer):
    """The real Custody, protected by the breaker, counted as reserves and halted on a shortfall."""
    with boa.env.prank(deployer):
        contract = deploy("Custody", breaker.address, governor, governor)
    with boa.env.prank(governor):
        breaker.protect(contract, HOUR)
        breaker.grantRole(breaker.SENTINEL_ROLE(), registry.address)
        registry.set_reserve_address(contract, True)
        registry.set_halt_target(contract)
    return contract


def attest_tree(registry, attester, tree, epoch=None, **valuation):
    args = attest_args(tree, **valuation)
    args["epoch"] = epoch or args["epoch"]
    with boa.env.prank(attester):
        registry.attest(*args.values())


def accounts_tree(epoch, assets, balances):
    accounts = [(boa.env.generate_address(f"user{i}"), b) for i, b in enumerate(balances)]
    return build_account_tree(epoch, assets, accounts, SECRET)


# -- attestations ------------------------------------------------------------------------------------


def test_attest_records_the_epoch_and_its_sums(registry, attester, usdc, weth):
    tree = accounts_tree(1, [usdc.address, weth.address], [[5_000, -2], [1_000, 30]])
    attest_tree(registry, attester, tree)
    (event,) = [e for e in registry.get_logs() if type(e).__name__ == "Attested"]
    assert (event.epoch, event.root, event.leaf_count) == (1, tree.root.hash, 2)
    assert (event.assets, event.total_equity, event.total_debt) == (
        [usdc.address, weth.address],
        [6_000, 30],
        [0, 2],
    )
    assert registry.latest_epoch() == 1
    root, leaf_count, timestamp = registry.attestation(1)
    assert (root, leaf_count, timestamp) == (tree.root.hash, 2, boa.env.evm.patch.timestamp)
    assert registry.latest_assets() == [usdc.address, weth.address]
    assert registry.latest_totals() == ([6_000, 30], [0, 2])
    assert registry.liabilities(usdc) == 6_000 and registry.liabilities(weth) == 28


def test_a_later_epoch_replaces_the_latest_sums_and_keeps_the_earlier_root(registry, attester, usdc, weth):
    first = accounts_tree(1, [usdc.address, weth.address], [[5_000, -2], [1_000, 30]])
    second = accounts_tree(2, [weth.address], [[7], [8], [9]])
    attest_tree(registry, attester, first)
    attest_tree(registry, attester, second)
    assert registry.latest_assets() == [weth.address]
    assert registry.latest_totals() == ([24], [0])
    assert registry.liabilities(usdc) == 0 and registry.liabilities(weth) == 24
    assert registry.attestation(1)[:2] == (first.root.hash, 2)
    assert registry.verify_inclusion(*first.proof(1).contract_args())
    assert registry.verify_inclusion(*second.proof(2).contract_args())


@pytest.mark.parametrize("second_epoch", [1, 0])
def test_epochs_must_strictly_increase(registry, attester, usdc, second_epoch):
    with boa.env.prank(attester):
        registry.attest(1, b"\x01" * 32, [usdc.address], [1], [0], 1)
        with boa.reverts("registry: epoch must increase"):
            registry.attest(second_epoch, b"\x02" * 32, [usdc.address], [1], [0], 1)
        registry.attest(5, b"\x02" * 32, [usdc.address], [1], [0], 1)
    assert registry.latest_epoch() == 5


def test_attester_cannot_brick_the_registry_with_the_last_epoch(registry, attester, custody, breaker, usdc):
    # The attack: epoch 2**256 - 1 would make every later attest revert ("epoch must increase"),
    # and an hour later check_solvency would trip Custody as stale on every call.
    usdc.mint(custody, 1_000)
    with boa.env.prank(attester):
        registry.attest(1, b"\x01" * 32, [usdc.address], [1_000], [0], 1)
        with boa.reverts("registry: epoch step above MAX_EPOCH_STEP"):
            registry.attest(2**256 - 1, b"\x02" * 32, [usdc.address], [1_000], [0], 1)
    assert registry.latest_epoch() == 1
    boa.env.time_travel(seconds=HOUR - 10)
    with boa.env.prank(attester):
        registry.attest(2, b"\x03" * 32, [usdc.address], [1_000], [0], 1)
    boa.env.time_travel(seconds=HOUR - 10)
    assert registry.is_fresh()
    assert registry.check_solvency() is False
    assert not breaker.is_halted(custody)


def test_epoch_may_skip_up_to_the_max_step_and_no_further(registry, attester, usdc):
    step = registry.MAX_EPOCH_STEP()
    assert step == 1_000
    with boa.env.prank(attester):
        registry.attest(step, b"\x01" * 32, [usdc.address], [1], [0], 1)
        with boa.reverts("registry: epoch step above MAX_EPOCH_STEP"):
            registry.attest(2 * step + 1, b"\x02" * 32, [usdc.address], [1], [0], 1)
        registry.attest(2 * step, b"\x02" * 32, [usdc.address], [1], [0], 1)
    assert registry.latest_epoch() == 2 * step


def test_governor_rotates_the_attester_with_an_event(registry, attester, governor, usdc):
    successor = boa.env.generate_address("next attester")
    with boa.env.prank(governor):
        registry.rotate_attester(attester, successor)
    (event,) = [e for e in registry.get_logs() if type(e).__name__ == "AttesterRotated"]
    assert (event.previous, event.attester) == (attester, successor)
    assert not registry.hasRole(registry.ATTESTER_ROLE(), attester)
    assert registry.hasRole(registry.ATTESTER_ROLE(), successor)
    with boa.env.prank(attester), boa.reverts("access_control: account is missing role"):
        registry.attest(1, b"\x01" * 32, [usdc.address], [1], [0], 1)
    with boa.env.prank(successor):
        registry.attest(1, b"\x01" * 32, [usdc.address], [1], [0], 1)
    assert registry.latest_epoch() == 1


@pytest.mark.parametrize(
    ("previous", "successor", "reason"),
    [
        ("stranger", "new", "registry: previous is not an attester"),
        ("attester", None, "registry: zero address"),
    ],
)
def test_rotate_attester_refuses_a_wrong_previous_or_a_zero_successor(
    registry, attester, governor, previous, successor, reason
):
    old = attester if previous == "attester" else boa.env.generate_address("not an attester")
    new = boa.env.generate_address("new") if successor else "0x" + "00" * 20
    with boa.env.prank(governor), boa.reverts(reason):
        registry.rotate_attester(old, new)
    assert registry.hasRole(registry.ATTESTER_ROLE(), attester)


@pytest.mark.parametrize(
    ("assets", "equity", "debt", "leaf_count", "reason"),
    [
        ([], [], [], 1, "registry: no assets"),
        (["usdc"], [1, 2], [0], 1, "registry: array lengths differ"),
        (["usdc"], [1], [], 1, "registry: array lengths differ"),
        (["usdc"], [1], [0], 0, "registry: leaf count must be at least 1"),
        (["usdc"], [1], [0], 2**32 + 1, "registry: more than 2**32 leaves"),
        (["usdc", "usdc"], [1, 1], [0, 0], 1, "registry: duplicate asset"),
        (["zero"], [1], [0], 1, "registry: zero asset address"),
    ],
)
def test_attest_refuses_malformed_input(registry, attester, usdc, assets, equity, debt, leaf_count, reason):
    addresses = [usdc.address if a == "usdc" else "0x" + "00" * 20 for a in assets]
    with boa.env.prank(attester), boa.reverts(reason):
        registry.attest(1, b"\x01" * 32, addresses, equity, debt, leaf_count)
    assert registry.latest_epoch() == 0


def test_attest_with_more_than_eight_assets_does_not_decode(registry, attester):
    nine = [boa.env.generate_address(f"token{i}") for i in range(9)]
    with boa.env.prank(attester), boa.reverts():
        registry.attest(1, b"\x01" * 32, nine, [1] * 9, [0] * 9, 1)
    assert registry.latest_epoch() == 0


# -- inclusion proofs: Python and chain agree ----------------------------------------------------------


def _tamper(args: tuple, kind: str, n: int) -> tuple:
    epoch, commitment, equity, debt, index, hashes, sib_equity, sib_debt = args
    if kind == "equity":
        equity = [equity[0] + 1, *equity[1:]]
    elif kind == "debt":
        debt = [*debt[:-1], debt[-1] + 1]
    elif kind == "commitment":
        commitment = bytes([commitment[0] ^ 1]) + commitment[1:]
    elif kind == "index":
        index = index ^ 1
    elif kind == "sibling_hash":
        hashes = [bytes([hashes[0][0] ^ 1]) + hashes[0][1:], *hashes[1:]]
    elif kind == "sibling_equity":
        sib_equity = [*sib_equity[:-1], sib_equity[-1] + 1]
    elif kind == "sibling_debt":
        sib_debt = [sib_debt[0] + 1, *sib_debt[1:]]
    elif kind == "sibling_dropped":
        hashes, sib_equity, sib_debt = hashes[:-1], sib_equity[:-n], sib_debt[:-n]
    elif kind == "epoch":
        epoch = epoch + 1
    return epoch, commitment, equity, debt, index, hashes, sib_equity, sib_debt


KINDS = [
    "equity",
    "debt",
    "commitment",
    "index",
    "sibling_hash",
    "sibling_equity",
    "sibling_debt",
    "sibling_dropped",
]


@st.composite
def random_trees(draw):
    n = draw(st.integers(1, 3))
    count = draw(st.integers(1, 200))
    seed = draw(st.integers(0, 2**32))
    return n, count, seed


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=random_trees(), kind=st.sampled_from(KINDS))
def test_python_tree_and_verify_inclusion_agree_on_random_trees(registry, attester, case, kind):
    n, count, seed = case
    rng = random.Random(seed)
    assets = [f"0x{i + 1:040x}" for i in range(n)]
    big = lambda: rng.choice([0, rng.randrange(10**6), rng.randrange(2**128)])  # noqa: E731
    leaves = [
        Leaf(rng.randbytes(32), [big() for _ in range(n)], [big() for _ in range(n)]) for _ in range(count)
    ]
    leaves.sort(key=lambda leaf: not any(leaf.debt))  # debtors first, as the debtors' register needs
    tree = build_tree(assets, leaves, epoch=1)
    with boa.env.anchor():
        attest_tree(registry, attester, tree)
        for index in sorted({0, rng.randrange(count), count - 1}):
            proof = tree.proof(index)
            assert verify_proof(proof)
            assert registry.verify_inclusion(*proof.contract_args())
        # A single leaf is the root: it has no siblings to change.
        if count > 1 or not kind.startswith("sibling"):
            bad = _tamper(proof.contract_args(), kind, n)
            assert not registry.verify_inclusion(*bad)


@pytest.fixture
def attested(registry, attester, usdc, weth):
    """Epoch 3: eleven accounts over USDC and WETH, and one account's proof as contract arguments."""
    tree = accounts_tree(3, [usdc.address, weth.address], [[1_000 * i, 5 - i] for i in range(1, 12)])
    attest_tree(registry, attester, tree)
    return tree, tree.proof(6).contract_args()


@pytest.mark.parametrize("kind", [*KINDS, "epoch"])
def test_a_changed_sum_hash_index_or_sibling_is_rejected_on_chain(registry, attested, kind):
    tree, args = attested
    assert registry.verify_inclusion(*args)
    assert not registry.verify_inclusion(*_tamper(args, kind, 2))


def test_a_proof_of_the_wrong_shape_is_invalid_not_a_revert(registry, attested):
    _, args = attested
    epoch, c, equity, debt, index, hashes, sib_equity, sib_debt = args
    assert not registry.verify_inclusion(epoch, c, equity[:1], debt, index, hashes, sib_equity, sib_debt)
    assert not registry.verify_inclusion(epoch, c, equity, debt, index, hashes, sib_equity[:-1], sib_debt)
    assert not registry.verify_inclusion(epoch, c, equity, debt, 11, hashes, sib_equity, sib_debt)
    assert not registry.verify_inclusion(
        epoch, c, equity, debt, index, hashes + hashes[:1], sib_equity, sib_debt
    )


def test_a_sibling_sum_past_uint256_reverts(registry, attested):
    _, args = attested
    epoch, c, equity, debt, index, hashes, sib_equity, sib_debt = args
    wrapped = [2**256 - 1, *sib_equity[1:]]
    with boa.reverts():
        registry.verify_inclusion(epoch, c, equity, debt, index, hashes, wrapped, sib_debt)


def test_every_account_of_an_epoch_verifies_and_none_verifies_in_another(registry, attester, attested):
    tree, _ = attested
    for i in range(tree.leaf_count):
        assert registry.verify_inclusion(*tree.proof(i).contract_args())
    later = dataclasses.replace(tree, epoch=4)
    attest_tree(registry, attester, build_tree(tree.assets, [Leaf(b"\x07" * 32, [1, 1], [0, 0])], epoch=4))
    assert not registry.verify_inclusion(*later.proof(0).contract_args())


# -- reserves, ratio and freshness -----------------------------------------------------------------------


def test_reserves_are_read_live_from_every_reserve_address(registry, custody, governor, usdc):
    cold = boa.env.generate_address("cold_wallet")
    usdc.mint(custody, 700)
    usdc.mint(cold, 300)
    usdc.mint(boa.env.generate_address("not_a_reserve"), 10_000)
    assert registry.reserves(usdc) == 700
    with boa.env.prank(governor):
        registry.set_reserve_address(cold, True)
    assert registry.reserves(usdc) == 1_000
    with boa.env.prank(governor):
        registry.set_reserve_address(cold, False)
    assert registry.reserves(usdc) == 700
    assert registry.reserve_addresses_count() == 1


def test_reserve_ratio_is_reserves_over_equity_minus_debt(registry, attester, custody, usdc, weth):
    with boa.env.prank(attester):
        registry.attest(
            1, b"\x01" * 32, [usdc.address, weth.address], [2_000, 500], [400, 500], 9,
            b"\x02" * 32, [0, 0], 2, [1, 1], [0, 0],
        )  # fmt: skip
    usdc.mint(custody, 1_200)
    assert registry.reserve_ratio_bps(usdc) == 1_200 * 10_000 // 1_600 == 7_500
    usdc.mint(custody, 400)
    assert registry.reserve_ratio_bps(usdc) == 10_000
    # Net liabilities of zero (equity == debt), and an asset the epoch does not list: unbounded ratio.
    assert registry.reserve_ratio_bps(weth) == 2**256 - 1
    assert registry.reserve_ratio_bps(boa.env.generate_address("other_token")) == 2**256 - 1


def test_ratio_before_any_attestation_is_unbounded(registry, usdc):
    assert registry.latest_epoch() == 0
    assert registry.reserve_ratio_bps(usdc) == 2**256 - 1
    assert registry.liabilities(usdc) == 0


def test_attestation_is_fresh_up_to_the_heartbeat(registry, attester, governor, usdc):
    assert not registry.is_fresh()
    with boa.env.prank(attester):
        registry.attest(1, b"\x01" * 32, [usdc.address], [1], [0], 1)
    assert registry.heartbeat() == HOUR
    boa.env.time_travel(seconds=HOUR)
    assert registry.is_fresh()
    boa.env.time_travel(seconds=1)
    assert not registry.is_fresh()
    with boa.env.prank(governor):
        registry.set_heartbeat(2 * HOUR)
    assert registry.is_fresh()


@pytest.mark.parametrize("heartbeat", [59, 7 * 86400 + 1])
def test_heartbeat_out_of_range_is_refused(registry, governor, heartbeat):
    with boa.env.prank(governor), boa.reverts("registry: heartbeat out of range"):
        registry.set_heartbeat(heartbeat)


# -- solvency check ---------------------------------------------------------------------------------------


def test_check_solvency_does_nothing_while_reserves_cover_a_fresh_attestation(
    registry, attester, custody, breaker, usdc
):
    usdc.mint(custody, 1_000)
    with boa.env.prank(attester):
        registry.attest(1, b"\x01" * 32, [usdc.address], [1_000], [0], 3)
    keeper = boa.env.generate_address("keeper")
    with boa.env.prank(keeper):
        assert registry.check_solvency() is False
    assert not breaker.is_halted(custody)


def test_check_solvency_before_the_first_attestation_does_nothing(registry, custody, breaker):
    assert registry.check_solvency() is False
    assert not breaker.is_halted(custody)


def test_check_solvency_trips_custody_on_a_shortfall(registry, attester, custody, breaker, governor, usdc):
    usdc.mint(custody, 999)
    with boa.env.prank(attester):
        registry.attest(1, b"\x01" * 32, [usdc.address], [1_000], [0], 3)
    with boa.env.prank(boa.env.generate_address("keeper")):
        assert registry.check_solvency() is True
    assert breaker.is_halted(custody)
    assert (breaker.last_reason(custody), breaker.last_metric(custody)) == (RESERVES_SHORTFALL, 9_990)
    (event,) = [e for e in registry.get_logs() if type(e).__name__ == "SolvencyTripped"]
    assert (event.epoch, event.reason, event.asset, event.metric) == (
        1,
        RESERVES_SHORTFALL,
        usdc.address,
        9_990,
    )
    # Withdrawals stop: Custody asks the breaker.
    with boa.env.prank(governor):
        custody.set_token(usdc, True, 1_000, 1_000, HOUR)
    with boa.env.prank(governor), boa.reverts("custody: halted"):
        custody.withdraw(b"\x01" * 32, governor, usdc, 1)


def test_check_solvency_trips_custody_on_a_stale_attestation(registry, attester, custody, breaker, usdc):
    usdc.mint(custody, 5_000)
    with boa.env.prank(attester):
        registry.attest(1, b"\x01" * 32, [usdc.address], [1_000], [0], 3)
    boa.env.time_travel(seconds=HOUR + 10)
    assert registry.check_solvency() is True
    assert breaker.is_halted(custody)
    assert (breaker.last_reason(custody), breaker.last_metric(custody)) == (RESERVES_STALE, HOUR + 10)


def test_check_solvency_without_a_halt_target_says_so(breaker, governor, attester, deployer, usdc):
    with boa.env.prank(deployer):
        lonely = deploy("ReserveRegistry", breaker.address, governor, attester)
    with boa.env.prank(attester):
        lonely.attest(1, b"\x01" * 32, [usdc.address], [1_000], [0], 3)
    with boa.reverts("registry: no halt target"):
        lonely.check_solvency()


# -- roles --------------------------------------------------------------------------------------------------


def test_constructor_gives_each_role_and_the_deployer_none(registry, deployer, governor, attester):
    assert registry.hasRole(registry.GOVERNOR_ROLE(), governor)
    assert registry.hasRole(registry.ATTESTER_ROLE(), attester)
    for role in (registry.DEFAULT_ADMIN_ROLE(), registry.GOVERNOR_ROLE(), registry.ATTESTER_ROLE()):
        assert not registry.hasRole(role, deployer)
        assert registry.getRoleAdmin(role) in (registry.GOVERNOR_ROLE(), registry.DEFAULT_ADMIN_ROLE())


def test_every_privileged_function_reverts_for_a_stranger(registry, stranger, revert_reasons):
    public = {
        "check_solvency()",
        "renounceRole(bytes32,address)",
        "challenge_debtor(bytes32,uint256[],uint256[],uint256,bytes32[],uint256[],uint256[])",
    }
    reasons = revert_reasons(registry, stranger, stranger)
    assert public <= set(reasons)
    for signature, reason in reasons.items():
        if signature not in public:
            assert reason == "access_control: account is missing role", signature


# -- the debtors' register (issue 14.7: the FTX hole) ----------------------------------------------------

RESERVES_UNCOVERED_DEBT = 52
# Prices per atom in one unit of account (docs/por.md): USDC (6 decimals) at 1.00, WETH (18) at 2,000.00.
USDC_PRICE, WETH_PRICE = 10**30, 2_000 * 10**18
WETH_HAIRCUT = 2_000  # 20 %


def ftx_tree(usdc, weth, fake_debtor_collateral=0):
    """Users are owed 200 USDC; the exchange adds one leaf that 'owes' 100 USDC."""
    users = [(boa.env.generate_address("alice"), [120, 0]), (boa.env.generate_address("bob"), [80, 0])]
    fake = (boa.env.generate_address("nobody"), [-100, fake_debtor_collateral])
    return build_account_tree(1, [usdc.address, weth.address], [*users, fake], SECRET)


def valuation():
    return {"prices": [USDC_PRICE, WETH_PRICE], "haircuts_bps": [0, WETH_HAIRCUT]}


def test_the_fake_debtor_cannot_hide_in_the_tree_any_more(registry, attester, custody, usdc, weth):
    # The attack as reported: the old six-argument attestation of a tree with debt and no register.
    tree = ftx_tree(usdc, weth)
    usdc.mint(custody, 100)
    old = list(attest_args(tree, **valuation()).values())[:6]
    with boa.env.prank(attester), boa.reverts("registry: debt without debtors"):
        registry.attest(*old)
    # Nor can a register claim fewer debtors than the debt needs: an empty one is refused.
    empty_register = [b"\x00" * 32, [0, 0], 0, [USDC_PRICE, WETH_PRICE], [0, WETH_HAIRCUT]]
    with boa.env.prank(attester), boa.reverts("registry: debt without debtors"):
        registry.attest(*old, *empty_register)
    assert registry.latest_epoch() == 0


def test_a_published_fake_debtor_is_caught_on_chain_and_by_the_audit(
    registry, attester, custody, breaker, usdc, weth, stranger
):
    tree = ftx_tree(usdc, weth)
    register = build_register(tree, **valuation())
    usdc.mint(custody, 100)
    attest_tree(registry, attester, tree, register=register)
    # The net ratio still reads 100 % (200 owed - 100 "receivable"); the gross ratio shows the hole.
    assert registry.reserve_ratio_bps(usdc) == 10_000
    assert registry.gross_ratio_bps(usdc) == 5_000
    assert registry.check_solvency() is False
    # The register is public: the fake debtor is in it, with nothing to cover its debt.
    (debtor,) = register.debtors
    assert debtor.debt == (100, 0) and debtor.equity == (0, 0)
    args = register.challenge_args(0)
    assert registry.verify_debtor(1, *args)
    report = audit(register, Attested.from_attest_args(attest_args(tree, register=register)))
    assert not report.ok and report.uncovered == [0]
    assert "debtor 0 (leaf 0" in report.failures[0] and "does not cover its debt" in report.failures[0]
    # Anyone proves it on-chain: Custody halts.
    with boa.env.prank(stranger):
        assert registry.challenge_debtor(*args) is True
    assert breaker.is_halted(custody)
    assert (breaker.last_reason(custody), breaker.last_metric(custody)) == (RESERVES_UNCOVERED_DEBT, 0)
    (event,) = [e for e in registry.get_logs() if type(e).__name__ == "DebtorUncovered"]
    assert (event.index, event.commitment, event.collateral_value) == (0, debtor.commitment, 0)
    assert event.debt_value == 100 * USDC_PRICE * 10_000


def test_a_fake_debtor_with_collateral_moves_the_shortfall_to_the_collateral_asset(
    registry, attester, custody, breaker, usdc, weth
):
    # To be covered, the fake debtor needs 100 USDC / (2,000 x 80 %) = 0.0625 WETH of equity, which is
    # itself a liability of the tree: the exchange holds no WETH for it, so the solvency check trips.
    tree = ftx_tree(usdc, weth, fake_debtor_collateral=625 * 10**14)
    register = build_register(tree, **valuation())
    usdc.mint(custody, 100)
    attest_tree(registry, attester, tree, register=register)
    report = audit(register, Attested.from_attest_args(attest_args(tree, register=register)))
    assert report.ok, report.failures
    assert registry.challenge_debtor(*register.challenge_args(0)) is False
    assert registry.reserve_ratio_bps(weth) == 0
    assert registry.check_solvency() is True
    assert breaker.is_halted(custody)
    assert breaker.last_reason(custody) == RESERVES_SHORTFALL


def test_a_covered_debtor_cannot_be_challenged_and_a_stranger_entry_is_refused(
    registry, attester, custody, breaker, usdc, weth
):
    borrower = (boa.env.generate_address("borrower"), [-1_000, 10**18])  # 1,000 USDC against 1 WETH
    saver = (boa.env.generate_address("saver"), [5_000, 0])
    tree = build_account_tree(1, [usdc.address, weth.address], [saver, borrower], SECRET)
    register = build_register(tree, **valuation())
    attest_tree(registry, attester, tree, register=register)
    assert registry.register(1) == (register.register_root.hash, 1)
    assert registry.latest_valuation() == ([USDC_PRICE, WETH_PRICE], [0, WETH_HAIRCUT])
    assert registry.challenge_debtor(*register.challenge_args(0)) is False
    assert not breaker.is_halted(custody)
    commitment, equity, debt, *proof = register.challenge_args(0)
    forged = (commitment, equity, [debt[0] + 1, 0], *proof)
    assert not registry.verify_debtor(1, *forged)
    with boa.reverts("registry: not in the latest debtors' register"):
        registry.challenge_debtor(*forged)
    # The saver's leaf (a creditor) is not in the register.
    creditor = tree.proof(0).contract_args()[1:]
    assert not registry.verify_debtor(1, *creditor)


def test_the_register_event_carries_the_valuation(registry, attester, usdc, weth):
    tree = ftx_tree(usdc, weth, fake_debtor_collateral=10**17)
    register = build_register(tree, **valuation())
    attest_tree(registry, attester, tree, register=register)
    (event,) = [e for e in registry.get_logs() if type(e).__name__ == "RegisterPosted"]
    assert (event.epoch, event.register_root, event.debtor_count) == (1, register.register_root.hash, 1)
    assert (event.register_equity, event.prices, event.haircuts_bps) == ([0, 10**17], *valuation().values())


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"debtor_count": 4}, "registry: more debtors than leaves"),
        ({"prices": [0, WETH_PRICE]}, "registry: zero price"),
        ({"haircuts_bps": [0, 10_001]}, "registry: haircut above 10000 bps"),
        ({"haircuts_bps": [0]}, "registry: array lengths differ"),
        ({"register_equity": [0, 1]}, "registry: debtors' equity above total equity"),
        ({"prices": [], "haircuts_bps": []}, "registry: a register needs prices and haircuts"),
    ],
)
def test_attest_refuses_a_malformed_register(registry, attester, usdc, weth, change, reason):
    tree = ftx_tree(usdc, weth)
    args = {**attest_args(tree, **valuation()), **change}
    with boa.env.prank(attester), boa.reverts(reason):
        registry.attest(*args.values())
    assert registry.latest_epoch() == 0


def test_an_epoch_without_debt_has_an_empty_register(registry, attester, usdc, weth):
    tree = accounts_tree(1, [usdc.address, weth.address], [[5, 0], [0, 7]])
    args = attest_args(tree, **valuation())
    assert (args["register_root"], args["debtor_count"]) == (b"\x00" * 32, 0)
    attest_tree(registry, attester, tree, **valuation())
    assert registry.register(1) == (b"\x00" * 32, 0)
    with boa.env.prank(attester), boa.reverts("registry: empty register has root 0"):
        registry.attest(
            *{**attest_args(tree, **valuation()), "epoch": 2, "register_root": b"\x01" * 32}.values()
        )


# -- paid withdrawals are not a shortfall (issue 14.5, the registry's half) ------------------------------


@pytest.fixture
def paying_custody(custody, registry, governor, usdc):
    """Custody pays USDC withdrawals (the governor is its operator) and the registry reads its payouts."""
    with boa.env.prank(governor):
        custody.set_token(usdc, True, 10**12, 10**12, HOUR)
        registry.set_custody(custody)
    return custody


def test_a_paid_withdrawal_never_looks_like_a_shortfall(
    registry, attester, paying_custody, breaker, governor, usdc, stranger
):
    custody = paying_custody
    usdc.mint(custody, 1_000)
    with boa.env.prank(attester):
        registry.attest(1, b"\x01" * 32, [usdc.address], [1_000], [0], 3)
    assert registry.reserve_ratio_bps(usdc) == 10_000
    # The attack as reported: a user withdraws 1 USDC she owns, a stranger calls check_solvency.
    with boa.env.prank(governor):
        custody.withdraw(b"\x01" * 32, boa.env.generate_address("alice"), usdc, 1)
    assert custody.paid_out(usdc) == 1 and registry.reserves(usdc) == 999
    assert registry.paid_since(usdc) == 1
    assert registry.liabilities(usdc) == 999
    assert registry.reserve_ratio_bps(usdc) == 10_000
    assert registry.gross_ratio_bps(usdc) == 10_000
    with boa.env.prank(stranger):
        assert registry.check_solvency() is False
    assert not breaker.is_halted(custody)
    # Ten large withdrawals the same day: still no shortfall.
    with boa.env.prank(governor):
        for i in range(2, 12):
            custody.withdraw(i.to_bytes(32, "big"), boa.env.generate_address(f"user{i}"), usdc, 99)
    assert registry.liabilities(usdc) == registry.reserves(usdc) == 9
    assert registry.check_solvency() is False
    # A real loss still trips: reserves leave Custody without a payout.
    with boa.env.prank(custody.address):
        usdc.transfer(stranger, 1)
    assert registry.check_solvency() is True
    assert breaker.last_reason(custody) == RESERVES_SHORTFALL


def test_the_next_epoch_starts_from_the_payouts_at_its_attestation(
    registry, attester, paying_custody, governor, usdc
):
    custody = paying_custody
    usdc.mint(custody, 1_000)
    with boa.env.prank(attester):
        registry.attest(1, b"\x01" * 32, [usdc.address], [1_000], [0], 3)
    with boa.env.prank(governor):
        custody.withdraw(b"\x01" * 32, boa.env.generate_address("alice"), usdc, 300)
    assert registry.liabilities(usdc) == 700
    with boa.env.prank(attester):  # the engine's next epoch no longer owes the 300
        registry.attest(2, b"\x02" * 32, [usdc.address], [700], [0], 3)
    assert registry.paid_since(usdc) == 0 and registry.liabilities(usdc) == 700
    assert registry.reserve_ratio_bps(usdc) == 10_000


def test_set_custody_is_governed_and_evented(registry, governor, custody, stranger):
    assert registry.custody() == "0x" + "00" * 20
    with boa.env.prank(governor):
        registry.set_custody(custody)
    (event,) = [e for e in registry.get_logs() if type(e).__name__ == "CustodySet"]
    assert event.custody == custody.address == registry.custody()
    with boa.env.prank(stranger), boa.reverts("access_control: account is missing role"):
        registry.set_custody(stranger)


def test_a_custody_set_after_the_epoch_counts_from_the_next_one(
    registry, attester, custody, governor, usdc, stranger
):
    # Payouts made before the registry knew Custody are not "since the epoch": they must not lower it.
    with boa.env.prank(governor):
        custody.set_token(usdc, True, 10**12, 10**12, HOUR)
    usdc.mint(custody, 1_000)
    with boa.env.prank(governor):
        custody.withdraw(b"\x01" * 32, stranger, usdc, 400)
    with boa.env.prank(attester):
        registry.attest(1, b"\x01" * 32, [usdc.address], [600], [0], 3)
    with boa.env.prank(governor):
        registry.set_custody(custody)
    assert registry.paid_since(usdc) == 0 and registry.liabilities(usdc) == 600
    with boa.env.prank(attester):
        registry.attest(2, b"\x02" * 32, [usdc.address], [600], [0], 3)
    with boa.env.prank(governor):
        custody.withdraw(b"\x02" * 32, stranger, usdc, 100)
    assert registry.paid_since(usdc) == 100 and registry.liabilities(usdc) == 500
