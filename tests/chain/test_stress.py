"""The reserve stress test's model: runs against hot, cold, limits and the multisig's latency."""

from __future__ import annotations

from offchain.chain.stress import HOUR, MINUTE, Reserves, report, run30, simulate, whale

U = 10**6


def reserves(**overrides) -> Reserves:
    values = dict(
        symbol="USDC",
        decimals=6,
        hot=650_000 * U,
        cold=350_000 * U,
        liabilities=1_000_000 * U,
        account_cap=100_000 * U,
        global_cap=1_000_000 * U,
        window_s=86_400,
    )
    values.update(overrides)
    return Reserves(**values)


def test_a_30_percent_run_within_the_band_is_paid_in_the_hour():
    res = reserves()
    result = simulate(res, run30(res))
    assert result.demand == 300_000 * U
    assert result.paid_in_hour == result.demand and result.waiting == 0
    assert result.first("solvency_trip") is None and result.first("hot_exhausted") is None


def test_a_thin_hot_wallet_waits_for_the_multisig_and_pays_once_cold_lands():
    res = reserves(hot=100_000 * U, cold=900_000 * U)
    result = simulate(res, run30(res), latency_s=30 * MINUTE)
    proposed, landed = result.first("cold_to_hot_proposed"), result.first("cold_to_hot_landed")
    assert proposed == 0 and landed == 30 * MINUTE  # the signers' latency
    assert result.first("hot_exhausted") is not None and result.first("hot_exhausted") < landed
    assert result.paid == result.demand  # everyone is paid in the end
    assert result.max_wait_s > 0
    # A slower multisig leaves more unpaid within the hour.
    slow = simulate(res, run30(res), latency_s=2 * HOUR)
    assert slow.paid_in_hour < result.paid_in_hour


def test_a_whale_is_paid_one_user_cap_per_window_and_blocks_nobody():
    res = reserves()
    result = simulate(res, whale(res, share_bps=3_000), horizon_s=24 * HOUR)
    assert result.demand == 300_000 * U
    assert result.paid_in_hour == 100_000 * U  # its cap per window
    assert result.waiting == 100_000 * U  # the third piece waits for a second window
    lines = report(res, result, "whale")
    assert "still waiting 100,000 USDC" in lines[1]


def test_the_global_limit_holds_withdrawals_and_a_fractional_book_trips_the_breaker():
    res = reserves(global_cap=200_000 * U, account_cap=100_000 * U)
    result = simulate(res, run30(res), horizon_s=6 * HOUR)
    assert result.first("global_limit") is not None
    assert result.paid == 200_000 * U and result.waiting == 100_000 * U
    short = reserves(hot=300_000 * U, cold=300_000 * U)  # 60 % reserves
    assert simulate(short, run30(short)).first("solvency_trip") == 0
