"""The seams other parts call: liquidation price and LCE for the breaker, freeze, health for the API."""

from __future__ import annotations

from risk_venue import PERP, RISK_ONLY, SPOT, USDC, USDE, listed, px

from offchain.core.build import restore_engine


def levered_book():
    v = listed()
    v.ok("deposit", account="market_maker", asset="USDC", amount="1000000")
    v.ok("deposit", account="trader", asset="USDC", amount="1500")
    v.ok("deposit", account="careful_trader", asset="USDC", amount="60000")
    v.ok("order", account="market_maker", symbol=PERP, side="sell", type="limit", price="60000", qty="2")
    v.ok("order", account="trader", symbol=PERP, side="buy", type="limit", price="60000", qty="1", tif="IOC")
    v.ok(
        "order",
        account="careful_trader",
        symbol=PERP,
        side="buy",
        type="limit",
        price="60000",
        qty="1",
        tif="IOC",
    )
    return v


def test_liquidation_price_is_where_exact_health_crosses_maintenance():
    v = levered_book()
    price = v.risk.liquidation_price("trader", PERP)
    assert px("58000") < price < px("60000")
    twin = restore_engine(v.engine.snapshot(), RISK_ONLY)
    twin.risk.module.markets[PERP].pricing.mark = price
    twin.risk.module.invalidate()
    assert twin.risk.health("trader").below_maintenance
    twin.risk.module.markets[PERP].pricing.mark = price + 1
    twin.risk.module.invalidate()
    assert not twin.risk.health("trader").below_maintenance
    assert v.risk.liquidation_price("market_maker", PERP) > px("60000")  # a short is liquidated above


def test_lce_counts_the_positions_a_move_would_liquidate():
    v = levered_book()
    market = v.engine.markets[PERP]
    assert v.risk.open_interest(PERP) == 2 * 60_000 * USDC
    near = v.risk.liquidation_cluster_ppm(v.engine, market, px("60000"), 20_000)  # a 2 % reach
    far = v.risk.liquidation_cluster_ppm(v.engine, market, px("60000"), 500)
    assert near == 500_000  # the trader's 1 BTC of 2 BTC open interest; the careful one is far away
    assert far == 0


def test_freeze_holds_the_collateral_price_until_unfrozen():
    v = listed()
    reference = v.module.valuation().asset_price["USDE"]
    assert v.risk.freeze_collateral(SPOT) == reference
    v.ok("index", symbol=SPOT, source="curve", price="0.9000")
    assert v.module.valuation().asset_price["USDE"] == reference
    v.risk.unfreeze_collateral(SPOT)
    assert v.module.valuation().asset_price["USDE"] < reference


def test_spot_margin_exposure_counts_toward_open_interest():
    v = listed()
    v.ok("deposit", account="lender", asset="USDC", amount="100000")
    v.ok("deposit", account="holder", asset="USDE", amount="10000")
    v.ok("margin", account="holder")
    v.ok("withdraw", account="holder", asset="USDC", amount="8000")
    assert v.risk.open_interest(SPOT) == 10_000 * USDE * v.module.valuation().asset_price["USDE"] // USDE
    assert v.risk.liquidation_price("holder", SPOT) < px("0.9990")
    assert v.risk.health("holder").borrows == 8_000 * USDC
    assert v.risk.position("holder", PERP).qty == 0
