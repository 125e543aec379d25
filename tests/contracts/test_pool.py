"""The Pool as an AMM: exact V2 output, LP shares, slippage and deadline guards, fees, oracle, donations."""

from math import isqrt

import boa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

USDE, USDC = 10**18, 10**6
FAR = 2**40
DEAD = "0x000000000000000000000000000000000000dEaD"


def v2_amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int = 30) -> int:
    """Uniswap V2's output, the formula the issue fixes."""
    after_fee = amount_in * (10_000 - fee_bps)
    return after_fee * reserve_out // (reserve_in * 10_000 + after_fee)


def events(contract, name):
    return [e for e in contract.get_logs() if type(e).__name__ == name]


def test_first_deposit_mints_sqrt_k_and_locks_minimum_liquidity(empty_pool, usde, usdc, fund):
    market_maker = boa.env.generate_address("market_maker")
    fund(market_maker, empty_pool, usde, 4_000 * USDE)
    fund(market_maker, empty_pool, usdc, 1_000 * USDC)
    with boa.env.prank(market_maker):
        minted = empty_pool.add_liquidity(4_000 * USDE, 1_000 * USDC, 0, market_maker, FAR)
    liquidity = isqrt(4_000 * USDE * 1_000 * USDC)
    assert minted == liquidity - 1_000
    assert empty_pool.balanceOf(DEAD) == 1_000 == empty_pool.MINIMUM_LIQUIDITY()
    assert empty_pool.totalSupply() == liquidity
    assert empty_pool.get_reserves() == (4_000 * USDE, 1_000 * USDC)
    assert empty_pool.spot_price() == empty_pool.price_oracle() == 25 * 10**16  # 0.25 USDC per USDE


def test_first_deposit_below_minimum_liquidity_reverts(empty_pool, usde, usdc, fund):
    market_maker = boa.env.generate_address("market_maker")
    fund(market_maker, empty_pool, usde, 10**6)
    fund(market_maker, empty_pool, usdc, 10**6)
    with boa.env.prank(market_maker), boa.reverts("pool: first deposit too small"):
        empty_pool.add_liquidity(1_000, 1_000, 0, market_maker, FAR)
    with boa.env.prank(market_maker), boa.reverts("pool: first deposit needs both tokens"):
        empty_pool.add_liquidity(10**6, 0, 0, market_maker, FAR)


def test_swap_on_an_empty_pool_reverts(empty_pool, usde, fund):
    trader = boa.env.generate_address("trader")
    fund(trader, empty_pool, usde, USDE)
    with boa.env.prank(trader), boa.reverts("pool: no liquidity"):
        empty_pool.swap(usde, USDE, 0, trader, FAR)


@settings(max_examples=30, deadline=None)
@given(
    amount=st.integers(min_value=1, max_value=40_000),
    scale=st.sampled_from([1, 10**3, 10**6]),
    sell_usde=st.booleans(),
)
def test_swap_pays_exactly_the_v2_formula(pool, usde, usdc, trader, amount, scale, sell_usde):
    with boa.env.anchor():
        token_in, token_out, unit = (usde, usdc, USDE) if sell_usde else (usdc, usde, USDC)
        amount_in = amount * unit // scale
        reserve0, reserve1 = pool.get_reserves()
        reserve_in, reserve_out = (reserve0, reserve1) if sell_usde else (reserve1, reserve0)
        expected = v2_amount_out(amount_in, reserve_in, reserve_out)
        assert pool.get_amount_out(token_in, amount_in) == expected
        if expected == 0:
            with boa.env.prank(trader), boa.reverts("pool: output is zero"):
                pool.swap(token_in, amount_in, 0, trader, FAR)
            return
        before_out = token_out.balanceOf(trader)
        with boa.env.prank(trader):
            assert pool.swap(token_in, amount_in, expected, trader, FAR) == expected
        assert token_out.balanceOf(trader) == before_out + expected
        new_in, new_out = reserve_in + amount_in, reserve_out - expected
        assert pool.get_reserves() == ((new_in, new_out) if sell_usde else (new_out, new_in))
        assert new_in * new_out >= reserve_in * reserve_out, "k must not fall on a swap"


def test_swap_event_reports_amounts_and_the_new_spot(pool, usde, trader):
    with boa.env.prank(trader):
        out = pool.swap(usde, 1_000 * USDE, 0, trader, FAR)
    (swap,) = events(pool, "Swap")
    assert (swap.sender, swap.receiver, swap.token_in) == (trader, trader, usde.address)
    assert (swap.amount_in, swap.amount_out) == (1_000 * USDE, out)
    assert swap.spot_price == pool.spot_price()


def test_swap_pays_the_receiver_not_the_caller(pool, usde, usdc, trader):
    market_maker = boa.env.generate_address("market_maker")
    with boa.env.prank(trader):
        out = pool.swap(usde, 1_000 * USDE, 0, market_maker, FAR)
    assert usdc.balanceOf(market_maker) == out


def test_swap_below_min_out_reverts_and_changes_nothing(pool, usde, trader):
    quote = pool.get_amount_out(usde, 1_000 * USDE)
    reserves = pool.get_reserves()
    with boa.env.prank(trader), boa.reverts("pool: output below min_out"):
        pool.swap(usde, 1_000 * USDE, quote + 1, trader, FAR)
    assert pool.get_reserves() == reserves


def test_swap_past_deadline_reverts(pool, usde, trader):
    now = boa.env.evm.patch.timestamp
    with boa.env.prank(trader), boa.reverts("pool: deadline passed"):
        pool.swap(usde, USDE, 0, trader, now - 1)
    with boa.env.prank(trader):
        pool.swap(usde, USDE, 0, trader, now)  # the deadline itself still counts


def test_add_and_remove_past_deadline_revert(pool, liquidity_provider):
    now = boa.env.evm.patch.timestamp
    with boa.env.prank(liquidity_provider), boa.reverts("pool: deadline passed"):
        pool.add_liquidity(USDE, USDC, 0, liquidity_provider, now - 1)
    with boa.env.prank(liquidity_provider), boa.reverts("pool: deadline passed"):
        pool.remove_liquidity(10**6, 0, 0, liquidity_provider, now - 1)


def test_swap_of_a_foreign_token_or_nothing_reverts(pool, usde, trader):
    with boa.env.prank(trader), boa.reverts("pool: token_in is not in the pool"):
        pool.swap(trader, USDE, 0, trader, FAR)
    with boa.env.prank(trader), boa.reverts("pool: zero amount"):
        pool.swap(usde, 0, 0, trader, FAR)
    with boa.reverts("pool: token_in is not in the pool"):
        pool.get_amount_out(trader, USDE)


def test_add_liquidity_takes_the_reserve_ratio_and_leaves_the_rest(pool, usde, usdc, fund):
    market_maker = boa.env.generate_address("market_maker")
    fund(market_maker, pool, usde, 5_000 * USDE)
    fund(market_maker, pool, usdc, 5_000 * USDC)
    reserve0, reserve1 = pool.get_reserves()
    supply = pool.totalSupply()
    with boa.env.prank(market_maker):
        minted = pool.add_liquidity(5_000 * USDE, 2_000 * USDC, 0, market_maker, FAR)
    (added,) = events(pool, "AddLiquidity")
    used1 = 2_000 * USDC
    used0 = -(-used1 * reserve0 // reserve1)  # rounded up: the pool never gives away value
    assert (added.amount0, added.amount1) == (used0, used1)
    assert minted == min(used0 * supply // reserve0, used1 * supply // reserve1) == added.lp_minted
    assert usde.balanceOf(market_maker) == 5_000 * USDE - used0
    assert pool.get_reserves() == (reserve0 + used0, reserve1 + used1)


def test_add_liquidity_below_min_lp_reverts(pool, usde, usdc, liquidity_provider):
    with boa.env.prank(liquidity_provider), boa.reverts("pool: liquidity below min_lp"):
        pool.add_liquidity(USDE, USDC, 10**30, liquidity_provider, FAR)


def test_remove_liquidity_pays_pro_rata(pool, usde, usdc, liquidity_provider):
    shares = pool.balanceOf(liquidity_provider) // 4
    reserve0, reserve1 = pool.get_reserves()
    supply = pool.totalSupply()
    before0, before1 = usde.balanceOf(liquidity_provider), usdc.balanceOf(liquidity_provider)
    with boa.env.prank(liquidity_provider):
        out0, out1 = pool.remove_liquidity(shares, 0, 0, liquidity_provider, FAR)
    assert (out0, out1) == (shares * reserve0 // supply, shares * reserve1 // supply)
    assert usde.balanceOf(liquidity_provider) == before0 + out0
    assert usdc.balanceOf(liquidity_provider) == before1 + out1
    assert pool.totalSupply() == supply - shares
    assert pool.get_reserves() == (reserve0 - out0, reserve1 - out1)


def test_remove_liquidity_below_minimum_reverts(pool, liquidity_provider):
    shares = pool.balanceOf(liquidity_provider) // 4
    with boa.env.prank(liquidity_provider), boa.reverts("pool: output below minimum"):
        pool.remove_liquidity(shares, 0, 10**30, liquidity_provider, FAR)


def test_remove_more_than_owned_reverts(pool, trader):
    with boa.env.prank(trader), boa.reverts("erc20: burn amount exceeds balance"):
        pool.remove_liquidity(10**18, 0, 0, trader, FAR)


def test_spot_price_is_token1_per_token0_scaled_1e18_after_decimals(pool, usde, trader):
    assert pool.spot_price() == 10**18  # 1M USDE(18) against 1M USDC(6): 1.0
    with boa.env.prank(trader):
        pool.swap(usde, 10_000 * USDE, 0, trader, FAR)
    reserve0, reserve1 = pool.get_reserves()
    assert pool.spot_price() == reserve1 * 10**12 * 10**18 // reserve0
    assert pool.spot_price() < 10**18


def test_price_oracle_moves_half_way_to_a_held_price_in_one_half_life(pool, usde, trader):
    with boa.env.prank(trader):
        pool.swap(usde, 30_000 * USDE, 0, trader, FAR)
    spot = pool.spot_price()
    assert pool.price_oracle() == 10**18, "a price that has not lasted must not enter the EMA"
    boa.env.time_travel(seconds=600)
    halfway = (10**18 + spot) // 2
    assert abs(pool.price_oracle() - halfway) <= 10**6


def test_price_oracle_caps_the_spot_it_takes_in(pool, governor, usde, trader):
    with boa.env.prank(governor):  # a band wide enough for a ~19 % move in one block
        pool.set_parameters(pool.parameters()._replace(impact_band_bps=2_500))
    with boa.env.prank(trader):
        # Two swaps in one block: the EMA sees neither, and the spot ends ~19 % down.
        pool.swap(usde, 50_000 * USDE, 0, trader, FAR)
        pool.swap(usde, 50_000 * USDE, 0, trader, FAR)
    assert pool.spot_price() < 85 * 10**16
    boa.env.time_travel(seconds=600)
    capped = 90 * 10**16  # 10 % below the EMA of 1.0
    assert abs(pool.price_oracle() - (10**18 + capped) // 2) <= 10**6


def test_oracle_update_is_written_on_the_next_state_change(pool, usde, trader):
    with boa.env.prank(trader):
        pool.swap(usde, 30_000 * USDE, 0, trader, FAR)
    boa.env.time_travel(seconds=600)
    expected = pool.price_oracle()
    with boa.env.prank(trader):
        pool.swap(usde, USDE, 0, trader, FAR)
    assert pool.price_oracle() == expected, "the EMA written by the swap is the one the view predicted"


def test_oracle_stored_in_80_bits_still_matches_its_view_at_a_large_price(
    pool_type, breaker, governor, insurance_fund, usde, usdc, fund
):
    # 10,000 USDC per USDE: 1e22 scaled, above 2**72, so the stored EMA keeps its top 64+ bits only.
    pool = pool_type.deploy(usde, usdc, breaker, insurance_fund, 1, 1, "Dear LP", "DLP")
    with boa.env.prank(governor):
        breaker.protect(pool, 600)
    market_maker = boa.env.generate_address("market_maker")
    fund(market_maker, pool, usde, 200 * USDE)
    fund(market_maker, pool, usdc, 1_000_000 * USDC)
    with boa.env.prank(market_maker):
        pool.add_liquidity(100 * USDE, 1_000_000 * USDC, 0, market_maker, FAR)
        pool.swap(usde, 3 * USDE, 0, market_maker, FAR)
    boa.env.time_travel(seconds=600)
    expected = pool.price_oracle()
    assert abs(expected - (10**22 + pool.spot_price()) // 2) * 2**40 < expected
    with boa.env.prank(market_maker):
        pool.swap(usde, USDE // 100, 0, market_maker, FAR)
    assert pool.price_oracle() == expected, "the EMA written by the swap is the one the view predicted"


def test_oracle_and_limiter_clock_wraps_past_2106(pool, usde, trader):
    # The last-update time is kept mod 2**32 with the reserves; elapsed time must survive the wrap.
    boa.env.time_travel(seconds=2**32 - boa.env.evm.patch.timestamp - 6)
    with boa.env.prank(trader):
        out = pool.swap(usde, 30_000 * USDE, 0, trader, 2**40)
    spot = pool.spot_price()
    boa.env.time_travel(seconds=60)
    assert boa.env.evm.patch.timestamp > 2**32
    cap1 = pool.get_reserves()[1] * 3_000 // 10_000
    # The USDC outflow has relaxed by cap * 60 s / 1 h, no more (the seed's credit is long gone by 2106).
    assert pool.breaker_metrics()[3] == cap1 - (out - cap1 * 60 // 3_600)
    boa.env.time_travel(seconds=540)
    assert abs(pool.price_oracle() - (10**18 + spot) // 2) <= 10**6, "one half-life across the wrap"


def test_protocol_fee_is_one_sixth_of_fee_growth_and_swept_to_the_insurance_fund(
    pool, usde, usdc, trader, insurance_fund
):
    k_last = pool.k_last()
    assert k_last == 10**24 * 10**12
    with boa.env.prank(trader):
        for _ in range(10):
            out = pool.swap(usde, 40_000 * USDE, 0, trader, FAR)
            pool.swap(usdc, out, 0, trader, FAR)
    reserve0, reserve1 = pool.get_reserves()
    supply = pool.totalSupply()
    root_k, root_k_last = isqrt(reserve0 * reserve1), isqrt(k_last)
    expected_shares = supply * (root_k - root_k_last) // (5 * root_k + root_k_last)
    assert pool.protocol_fee_pending() == expected_shares > 0

    paid0, paid1 = pool.sweep_protocol_fee()
    assert (paid0, paid1) == (
        expected_shares * reserve0 // (supply + expected_shares),
        expected_shares * reserve1 // (supply + expected_shares),
    )
    assert (usde.balanceOf(insurance_fund), usdc.balanceOf(insurance_fund)) == (paid0, paid1)
    # One sixth of what the liquidity gained, in sqrt(k) terms.
    protocol_root = isqrt(paid0 * paid1)
    assert abs(protocol_root * 6 - (root_k - root_k_last)) <= (root_k - root_k_last) // 100
    assert pool.protocol_fee_pending() == 0


def test_protocol_fee_switched_off_accrues_nothing(pool, usde, usdc, trader, governor):
    parameters = pool.parameters()._replace(protocol_fee_divisor=0)
    with boa.env.prank(governor):
        pool.set_parameters(parameters)
    with boa.env.prank(trader):
        out = pool.swap(usde, 40_000 * USDE, 0, trader, FAR)
        pool.swap(usdc, out, 0, trader, FAR)
    assert pool.protocol_fee_pending() == 0
    assert pool.sweep_protocol_fee() == (0, 0)


def test_donation_is_not_reserve_and_skim_pays_it_to_the_insurance_fund(pool, usde, trader, insurance_fund):
    reserves, spot = pool.get_reserves(), pool.spot_price()
    with boa.env.prank(trader):
        usde.transfer(pool, 50_000 * USDE)
    assert pool.get_reserves() == reserves
    assert pool.spot_price() == spot
    assert pool.get_amount_out(usde, USDE) == v2_amount_out(USDE, *reserves)
    assert pool.skim() == (50_000 * USDE, 0)
    assert usde.balanceOf(insurance_fund) == 50_000 * USDE
    assert pool.get_reserves() == reserves


def test_governor_syncs_reserves_to_balances(pool, usde, trader, governor, stranger):
    reserve0, reserve1 = pool.get_reserves()
    with boa.env.prank(trader):
        usde.transfer(pool, 1_000 * USDE)
    with boa.env.prank(stranger), boa.reverts("pool: caller is not the governor"):
        pool.sync()
    with boa.env.prank(governor):
        pool.sync()
    assert events(pool, "Sync")[0].reserve0 == reserve0 + 1_000 * USDE
    assert pool.get_reserves() == (reserve0 + 1_000 * USDE, reserve1)


def test_lp_shares_are_an_erc20(pool, liquidity_provider, trader):
    assert (pool.name(), pool.symbol(), pool.decimals()) == ("Breakwater USDE/USDC LP", "BWLP", 18)
    with boa.env.prank(liquidity_provider):
        pool.transfer(trader, 10**12)
    assert pool.balanceOf(trader) == 10**12
    with boa.env.prank(trader):
        pool.remove_liquidity(10**12, 1, 1, trader, FAR)
    assert pool.balanceOf(trader) == 0


def test_default_parameters_are_the_issues(pool):
    p = pool.parameters()
    assert pool.fee_bps() == p.fee_bps == 30
    assert p.protocol_fee_divisor == 6
    assert (p.impact_band_bps, p.cooldown_band_bps, p.cooldown_seconds) == (1_000, 100, 600)
    assert (p.velocity_bps, p.thin_depth_bps) == (1_000, 500)
    assert (p.depth_collapse_bps, p.resume_depth_bps) == (2_000, 5_000)
    assert (p.outflow_cap_bps, p.outflow_window) == (3_000, 3_600)
    assert (p.oracle_half_life, p.oracle_cap_bps) == (600, 1_000)
    assert (p.reference_size0, p.reference_size1) == (10_000 * USDE, 10_000 * USDC)


def test_governor_changes_parameters_with_an_event(pool, governor):
    new = pool.parameters()._replace(fee_bps=5, impact_band_bps=2_000)
    with boa.env.prank(governor):
        pool.set_parameters(new)
    (event,) = events(pool, "ParametersSet")
    assert event.governor == governor and tuple(event.parameters) == tuple(new)
    assert pool.fee_bps() == 5 and pool.parameters() == new


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("fee_bps", 1_001, "pool: bad fee_bps"),
        ("protocol_fee_divisor", 1, "pool: bad protocol_fee_divisor"),
        ("impact_band_bps", 0, "pool: bad impact_band_bps"),
        ("cooldown_band_bps", 1_001, "pool: bad cooldown_band_bps"),
        ("velocity_bps", 0, "pool: bad velocity_bps"),
        ("thin_depth_bps", 10_000, "pool: bad thin_depth_bps"),
        ("depth_collapse_bps", 5_000, "pool: bad depth_collapse/resume_depth_bps"),
        ("outflow_cap_bps", 0, "pool: bad outflow_cap_bps"),
        ("outflow_window", 0, "pool: bad outflow_window"),
        ("oracle_half_life", 0, "pool: bad oracle_half_life"),
        ("oracle_cap_bps", 10_001, "pool: bad oracle_cap_bps"),
        ("benchmark_half_life", 0, "pool: bad benchmark_half_life"),
        ("cooldown_seconds", 2**32, "pool: bad cooldown_seconds"),
        ("reference_size0", 2**112, "pool: bad reference_size"),
    ],
)
def test_parameters_out_of_range_are_refused(pool, governor, field, value, reason):
    before = pool.parameters()
    with boa.env.prank(governor), boa.reverts(reason):
        pool.set_parameters(before._replace(**{field: value}))
    assert pool.parameters() == before


def test_governor_redirects_fees_to_the_insurance_fund(pool, governor, usde, usdc):
    new_fund = boa.env.generate_address("insurance_fund_v2")
    with boa.env.prank(governor):
        pool.set_fee_receiver(usdc, new_fund)
    (event,) = events(pool, "FeeReceiverSet")
    assert (event.token, event.fee_receiver) == (usdc.address, new_fund)
    assert pool.fee_receiver(usdc) == new_fund
    assert pool.fee_receiver(usde) != new_fund, "each token has its own receiver"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("identical", "pool: identical tokens"),
        ("no_receiver", "pool: fee receiver is the zero address"),
    ],
)
def test_constructor_refuses_bad_setups(pool_type, usde, usdc, breaker, case, reason):
    zero = "0x" + "00" * 20
    token1, receiver = (usde, usdc.address) if case == "identical" else (usdc, zero)
    with boa.reverts(reason):
        pool_type.deploy(usde, token1, breaker, receiver, 1, 1, "LP", "LP")
