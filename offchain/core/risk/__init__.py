"""Risk (SPEC §3): the spot and cross-margin policies, lending, perps, prices, funding, liquidation."""
