"""The account view's lending and borrow rates: each pool's utilisation and the kinked rate curve."""

from __future__ import annotations

from api_venue import IMPOSTOR, MARKET_MAKER, submit


def test_a_borrower_and_a_lender_see_the_pools_utilisation_and_their_rates(service, impostor, trader):
    # only the trader's 100k USDC is lent; the impostor borrows 80k of it by withdrawing on margin
    submit(service, cmd="lend", account=MARKET_MAKER.address, asset="USDC", enabled=False)
    submit(service, cmd="deposit", account=IMPOSTOR.address, asset="USDE", amount="200000")
    submit(service, cmd="margin", account=IMPOSTOR.address)
    impostor.withdraw("USDC", "81000")

    borrowed = impostor.account()["borrows"]["USDC"]
    lent = trader.account()["lending"]["USDC"]

    # at the 80 % kink: 0 % + 4 % APR; lenders earn 4 % x 80 % less the 10 % protocol share
    assert (borrowed["borrowed"], borrowed["utilisation_ppm"], borrowed["apr_ppm"]) == (
        "80000",
        800_000,
        40_000,
    )
    assert (lent["supplied"], lent["utilisation_ppm"], lent["apr_ppm"]) == ("100000", 800_000, 28_800)
    assert "USDC" not in impostor.account()["lending"]


def test_rates_are_reused_for_five_seconds_then_recomputed(service, impostor, trader, clock):
    submit(service, cmd="lend", account=MARKET_MAKER.address, asset="USDC", enabled=False)
    submit(service, cmd="deposit", account=IMPOSTOR.address, asset="USDE", amount="200000")
    submit(service, cmd="margin", account=IMPOSTOR.address)
    impostor.withdraw("USDC", "41000")
    clock.advance(5_000)
    first = trader.account()["lending"]["USDC"]
    assert first["utilisation_ppm"] == 400_000

    impostor.withdraw("USDC", "40000")
    assert trader.account()["lending"]["USDC"]["utilisation_ppm"] == 400_000  # the cached reading
    clock.advance(5_000)
    later = trader.account()["lending"]["USDC"]
    assert later["utilisation_ppm"] == 800_000 and later["rates_as_of"] > first["rates_as_of"]
