"""Hostile tokens: one that re-enters the pool from its transfers, one that takes a fee on transfer."""

from pathlib import Path

import boa
import pytest

TOKENS = Path(__file__).resolve().parent / "tokens"
USDE, USDC = 10**18, 10**6
FAR = 2**40
SEED = 1_000_000


@pytest.fixture(scope="module")
def reentrant_token():
    return boa.load(str(TOKENS / "ReentrantToken.vy"), 18)


@pytest.fixture(scope="module")
def reentrant_pool(pool_type, reentrant_token, usdc, breaker, governor, insurance_fund, fund):
    """A seeded pool whose token0 calls back into it; the token itself holds funds, approvals and LP
    so that every call it makes back would succeed if the pool let it in."""
    pool = pool_type.deploy(reentrant_token, usdc, breaker, insurance_fund, 1, 1, "Reentrant LP", "RLP")
    with boa.env.prank(governor):
        breaker.protect(pool, 600)
    market_maker = boa.env.generate_address("market_maker")
    for account in (market_maker, reentrant_token.address):
        fund(account, pool, reentrant_token, 10 * SEED * USDE)
        fund(account, pool, usdc, 10 * SEED * USDC)
    with boa.env.prank(market_maker):
        pool.add_liquidity(SEED * USDE, SEED * USDC, 0, market_maker, FAR)
        pool.transfer(reentrant_token.address, 10**17)
    return pool


def reentry_payloads(pool, usdc, receiver):
    return {
        "swap": pool.swap.prepare_calldata(usdc.address, 1_000 * USDC, 0, receiver, FAR),
        "add_liquidity": pool.add_liquidity.prepare_calldata(USDE, USDC, 0, receiver, FAR),
        "remove_liquidity": pool.remove_liquidity.prepare_calldata(10**15, 0, 0, receiver, FAR),
        "sweep_protocol_fee": pool.sweep_protocol_fee.prepare_calldata(),
        "skim": pool.skim.prepare_calldata(),
        "get_reserves": pool.get_reserves.prepare_calldata(),
        "spot_price": pool.spot_price.prepare_calldata(),
        "price_oracle": pool.price_oracle.prepare_calldata(),
        "get_amount_out": pool.get_amount_out.prepare_calldata(usdc.address, USDC),
        "can_resume": pool.can_resume.prepare_calldata(),
        "breaker_metrics": pool.breaker_metrics.prepare_calldata(),
    }


OUTER = ["swap", "add_liquidity", "remove_liquidity"]


def _outer_call(pool, token, trader, outer):
    with boa.env.prank(trader):
        if outer == "swap":
            pool.swap(token, 1_000 * USDE, 0, trader, FAR)
        elif outer == "add_liquidity":
            pool.add_liquidity(1_000 * USDE, 1_000 * USDC, 0, trader, FAR)
        else:
            pool.remove_liquidity(pool.balanceOf(trader) // 2, 0, 0, trader, FAR)


@pytest.mark.parametrize("outer", OUTER)
@pytest.mark.parametrize(
    "inner",
    [
        "swap",
        "add_liquidity",
        "remove_liquidity",
        "sweep_protocol_fee",
        "skim",
        "get_reserves",
        "spot_price",
        "price_oracle",
        "get_amount_out",
        "can_resume",
        "breaker_metrics",
    ],
)
def test_token_reentering_the_pool_from_a_transfer_is_stopped(
    reentrant_pool, reentrant_token, usdc, fund, outer, inner
):
    pool = reentrant_pool
    trader = boa.env.generate_address("trader")
    fund(trader, pool, reentrant_token, 10_000 * USDE)
    fund(trader, pool, usdc, 10_000 * USDC)
    with boa.env.prank(trader):
        pool.add_liquidity(2_000 * USDE, 2_000 * USDC, 0, trader, FAR)
    payload = reentry_payloads(pool, usdc, reentrant_token.address)[inner]

    # Control: the same call from the token's address, outside any transfer, goes through.
    with boa.env.anchor():
        assert not boa.env.raw_call(pool.address, sender=reentrant_token.address, data=payload).is_error

    reentrant_token.arm(pool, payload)
    _outer_call(pool, reentrant_token, trader, outer)
    assert reentrant_token.reentry_attempted()
    assert not reentrant_token.reentry_succeeded()


@pytest.fixture(scope="module")
def taxed_token():
    return boa.load(str(TOKENS / "FeeOnTransferToken.vy"), 18, 0)


@pytest.fixture(scope="module")
def taxed_pool(pool_type, taxed_token, usdc, breaker, governor, insurance_fund):
    pool = pool_type.deploy(taxed_token, usdc, breaker, insurance_fund, 1, 1, "Taxed LP", "TLP")
    with boa.env.prank(governor):
        breaker.protect(pool, 600)
    return pool


def test_fee_on_transfer_token_is_refused_at_the_first_deposit(taxed_pool, taxed_token, usdc, fund):
    taxed_token.set_fee_bps(100)
    market_maker = boa.env.generate_address("market_maker")
    fund(market_maker, taxed_pool, taxed_token, SEED * USDE)
    fund(market_maker, taxed_pool, usdc, SEED * USDC)
    with boa.env.prank(market_maker), boa.reverts("pool: fee-on-transfer token refused"):
        taxed_pool.add_liquidity(SEED * USDE, SEED * USDC, 0, market_maker, FAR)
    assert taxed_pool.totalSupply() == 0


def test_token_that_switches_a_fee_on_later_cannot_be_sold_or_deposited(taxed_pool, taxed_token, usdc, fund):
    market_maker = boa.env.generate_address("market_maker")
    fund(market_maker, taxed_pool, taxed_token, 2 * SEED * USDE)
    fund(market_maker, taxed_pool, usdc, 2 * SEED * USDC)
    with boa.env.prank(market_maker):
        shares = taxed_pool.add_liquidity(SEED * USDE, SEED * USDC, 0, market_maker, FAR)
    taxed_token.set_fee_bps(100)
    reserves = taxed_pool.get_reserves()
    with boa.env.prank(market_maker):
        with boa.reverts("pool: fee-on-transfer token refused"):
            taxed_pool.swap(taxed_token, 1_000 * USDE, 0, market_maker, FAR)
        with boa.reverts("pool: fee-on-transfer token refused"):
            taxed_pool.add_liquidity(1_000 * USDE, 1_000 * USDC, 0, market_maker, FAR)
        # Buying it and exiting still work: the pool is debited exactly what it books.
        taxed_pool.swap(usdc, 1_000 * USDC, 0, market_maker, FAR)
        taxed_pool.remove_liquidity(shares, 0, 0, market_maker, FAR)
    reserve0, _ = taxed_pool.get_reserves()
    assert reserve0 < reserves[0]
    assert taxed_token.balanceOf(taxed_pool) == reserve0, "reserves stay backed by the balance"
