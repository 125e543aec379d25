"""The devnet faucet token: a snekmate ERC-20 whose mint is open to anyone."""

import boa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def test_mint_is_open_to_anyone(usdc):
    depositor = boa.env.generate_address("depositor")
    with boa.env.prank(depositor):
        usdc.mint(depositor, 5_000_000)
    assert usdc.balanceOf(depositor) == 5_000_000
    assert usdc.totalSupply() == 5_000_000


def test_metadata_is_what_the_deploy_script_passes(usdc):
    assert usdc.symbol() == "USDC"
    assert usdc.decimals() == 6


def test_transfer_beyond_balance_reverts(usdc):
    trader, market_maker = boa.env.generate_address("trader"), boa.env.generate_address("market_maker")
    usdc.mint(trader, 100)
    with boa.env.prank(trader), boa.reverts():
        usdc.transfer(market_maker, 101)
    assert usdc.balanceOf(trader) == 100


def test_transfer_from_spends_allowance(usdc):
    trader, spender = boa.env.generate_address("trader"), boa.env.generate_address("spender")
    usdc.mint(trader, 1_000)
    with boa.env.prank(trader):
        usdc.approve(spender, 600)
    with boa.env.prank(spender):
        usdc.transferFrom(trader, spender, 400)
    assert usdc.allowance(trader, spender) == 200
    with boa.env.prank(spender), boa.reverts():
        usdc.transferFrom(trader, spender, 201)


@settings(max_examples=50, deadline=None)
@given(amounts=st.lists(st.integers(min_value=0, max_value=10**30), min_size=1, max_size=8))
def test_total_supply_is_sum_of_mints(usdc, amounts):
    with boa.env.anchor():
        holders = [boa.env.generate_address(f"holder{i}") for i in range(len(amounts))]
        for holder, amount in zip(holders, amounts, strict=True):
            usdc.mint(holder, amount)
        assert usdc.totalSupply() == sum(amounts)
        assert sum(usdc.balanceOf(h) for h in holders) == sum(amounts)


@pytest.mark.parametrize("fn", ["set_minter", "transfer_ownership"])
def test_minter_admin_is_not_exported(usdc, fn):
    # The faucet replaces the minter role; nothing privileged is left to call.
    assert not hasattr(usdc, fn)
