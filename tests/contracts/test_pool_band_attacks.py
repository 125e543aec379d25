"""Issue 14.2: chained swaps cannot walk the price past the impact band, and a resume hands nobody a
guaranteed unwind at the manipulated price. Issue 14.3: no protocol-fee token is stranded.

Each test performs an attack that worked before the fix: seven 50k USDE swaps in one transaction
(~167k gas, ~350k USDE) halted the 1M/1M pool; the attacker then resumed it and unwound at the
manipulated price in the same transaction; USDE protocol fees sat in the USDC-only InsuranceFund.
"""

from pathlib import Path

import boa
import pytest

USDE, USDC = 10**18, 10**6
FAR = 2**40
BLOCK = 12
ONE = 10**18
MOCKS = Path(__file__).resolve().parent / "mocks"
BLOCK_BAND = "pool: price move in this block above band"
RESUME_BLOCK = "pool: resumed in this block, swaps open in the next"


@pytest.fixture
def attacker(pool, usde, usdc):
    """A contract that chains swaps in one transaction, holding 2M of each token."""
    contract = boa.load(str(MOCKS / "ChainedSwapper.vy"))
    for token, unit in ((usde, USDE), (usdc, USDC)):
        token.mint(contract, 2_000_000 * unit)
        contract.approve(token, pool)
    return contract


# --- 14.2: the band holds per block


def test_seven_chained_swaps_in_one_transaction_cannot_halt_the_pool(pool, breaker, usde, attacker):
    with boa.reverts(BLOCK_BAND):
        attacker.run(pool, usde, 50_000 * USDE, 7)
    assert not breaker.is_halted(pool)
    assert pool.spot_price() == ONE, "the whole chain reverted"


def test_swaps_of_several_accounts_in_one_block_share_the_band(pool, breaker, usde, usdc, fund):
    first, second = boa.env.generate_address("first"), boa.env.generate_address("second")
    for account in (first, second):
        fund(account, pool, usde, 1_000_000 * USDE)
    with boa.env.prank(first):
        pool.swap(usde, 30_000 * USDE, 0, first, FAR)  # ~6 % down from the block's first price
    with boa.env.prank(second):
        with boa.reverts(BLOCK_BAND):
            pool.swap(usde, 30_000 * USDE, 0, second, FAR)  # alone ~5.6 %, together ~11.5 %
        pool.swap(usde, 15_000 * USDE, 0, second, FAR)  # together ~8.7 %: within the band
        with boa.reverts(BLOCK_BAND):
            for _ in range(10):  # and no sequence of small swaps gets past it
                pool.swap(usde, 2_000 * USDE, 0, second, FAR)
    assert pool.spot_price() * 10_000 >= 9_000 * ONE
    # The next block opens a new band at its first price.
    boa.env.time_travel(seconds=BLOCK)
    with boa.env.prank(second):
        pool.swap(usde, 30_000 * USDE, 0, second, FAR)
    assert not breaker.is_halted(pool)


def test_the_block_band_holds_in_both_directions(pool, usde, usdc, attacker):
    with boa.reverts(BLOCK_BAND):
        attacker.run(pool, usdc, 20_000 * USDC, 6)  # ~4 % up each
    attacker.run(pool, usdc, 20_000 * USDC, 2)
    assert ONE < pool.spot_price() < ONE * 10_000 // 9_000


def test_a_swap_back_towards_the_block_first_price_is_free(pool, usde, usdc, attacker):
    # Down ~9 %, then back up: the block band measures where the price ends, so unwinding is allowed.
    attacker.run(pool, usde, 24_000 * USDE, 2)
    out = attacker.run(pool, usdc, 20_000 * USDC, 2)
    assert out > 0 and pool.spot_price() * 10_000 > 9_000 * ONE


# --- 14.2: who trades first after a resume


def walk_the_price_until_the_outflow_trip(pool, breaker, usde, attacker):
    """One 50k USDE sell per block (each within the band): the outflow cap trips on the 7th."""
    for block in range(12):
        boa.env.time_travel(seconds=BLOCK)
        attacker.run(pool, usde, 50_000 * USDE, 1)
        if breaker.is_halted(pool):
            assert breaker.last_reason(pool) == 13
            return block + 1
    raise AssertionError("no trip")


def test_the_resumer_cannot_unwind_in_the_resume_transaction(pool, breaker, usde, usdc, attacker):
    blocks = walk_the_price_until_the_outflow_trip(pool, breaker, usde, attacker)
    assert blocks == 7 and breaker.is_halted(pool)
    manipulated = pool.spot_price()
    assert manipulated < ONE * 6 // 10
    boa.env.time_travel(seconds=600)
    assert pool.can_resume()
    # Before the fix: resume + 60 chained 1 % swaps bought the USDE back at the manipulated price.
    with boa.reverts(RESUME_BLOCK):
        attacker.resume_and_run(breaker, pool, usdc, 3_000 * USDC, 60)
    assert breaker.is_halted(pool), "the resume reverted with the unwind"


def test_after_a_resume_each_block_moves_the_price_by_the_cool_down_band_at_most(
    pool, breaker, stranger, usde, usdc, attacker
):
    walk_the_price_until_the_outflow_trip(pool, breaker, usde, attacker)
    boa.env.time_travel(seconds=600)
    with boa.env.prank(stranger):
        breaker.resume(pool)
    with boa.reverts(RESUME_BLOCK):
        attacker.run(pool, usdc, 1_000 * USDC, 1)
    boa.env.time_travel(seconds=BLOCK)
    opening = pool.spot_price()
    with boa.reverts(BLOCK_BAND):
        attacker.run(pool, usdc, 3_000 * USDC, 60)  # the chained unwind of the old code
    bought = attacker.run(pool, usdc, 1_000 * USDC, 3)
    with boa.reverts(BLOCK_BAND):
        attacker.run(pool, usdc, 1_000 * USDC, 1)
    spot = pool.spot_price()
    assert opening < spot and spot * 9_900 <= opening * 10_000, "at most the 1 % cool-down band"
    assert bought > 0
    # The next block is open to anyone, at the same tight band: the unwind is a race, not a gift.
    boa.env.time_travel(seconds=BLOCK)
    with boa.reverts(BLOCK_BAND):
        attacker.run(pool, usdc, 1_000 * USDC, 10)


# --- 14.3: every protocol-fee token ends where something can move it


@pytest.fixture
def insurance_fund_vault(breaker, governor, usdc):
    """A real InsuranceFund: an ERC-4626 over USDC that counts and moves only USDC."""
    return boa.load(
        str(Path(__file__).resolve().parents[2] / "contracts" / "InsuranceFund.vy"),
        usdc,
        breaker,
        governor,
        6,
    )


def generate_fees(pool, usde, usdc, trader):
    with boa.env.prank(trader):
        for _ in range(10):
            boa.env.time_travel(seconds=BLOCK)
            out = pool.swap(usde, 40_000 * USDE, 0, trader, FAR)
            boa.env.time_travel(seconds=BLOCK)
            pool.swap(usdc, out, 0, trader, FAR)


def test_the_fund_is_refused_as_receiver_of_a_token_it_cannot_move(
    pool, governor, usde, insurance_fund_vault
):
    with boa.env.prank(governor), boa.reverts("pool: receiver is a vault of another asset"):
        pool.set_fee_receiver(usde, insurance_fund_vault)


def test_a_new_pool_refuses_the_fund_as_its_first_fee_receiver(
    pool_type, breaker, usde, usdc, insurance_fund_vault
):
    with boa.reverts("pool: receiver is a vault of another asset"):
        pool_type.deploy(usde, usdc, breaker, insurance_fund_vault, 1, 1, "LP", "LP")


def test_protocol_fees_and_donations_strand_no_token(
    pool, governor, usde, usdc, trader, insurance_fund_vault
):
    treasury = boa.env.generate_address(
        "treasury"
    )  # governed destination of USDE: an account that can move it
    routed = []
    with boa.env.prank(governor):
        for token, receiver in ((usdc, insurance_fund_vault.address), (usde, treasury)):
            pool.set_fee_receiver(token, receiver)
            (event,) = [e for e in pool.get_logs() if type(e).__name__ == "FeeReceiverSet"]
            routed.append((event.governor, event.token, event.fee_receiver))
    assert routed == [
        (governor, usdc.address, insurance_fund_vault.address),
        (governor, usde.address, treasury),
    ]
    generate_fees(pool, usde, usdc, trader)
    assets_before = insurance_fund_vault.totalAssets()
    paid0, paid1 = pool.sweep_protocol_fee()
    assert paid0 > 0 and paid1 > 0
    usde.mint(pool, 7 * USDE)  # a donation of each token
    usdc.mint(pool, 5 * USDC)
    skimmed0, skimmed1 = pool.skim()
    assert (skimmed0, skimmed1) == (7 * USDE, 5 * USDC)

    assert usde.balanceOf(insurance_fund_vault) == 0, "the fund holds no token it cannot count or move"
    assert usdc.balanceOf(insurance_fund_vault) == paid1 + skimmed1
    assert insurance_fund_vault.totalAssets() == assets_before + paid1 + skimmed1, "the fund counts all of it"
    assert usde.balanceOf(treasury) == paid0 + skimmed0
    with boa.env.prank(treasury):
        usde.transfer(governor, paid0 + skimmed0)  # and it can move them
    assert usde.balanceOf(governor) == paid0 + skimmed0
