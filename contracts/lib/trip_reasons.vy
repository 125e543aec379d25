# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Reason codes of CircuitBreaker halts
@custom:contract-name trip_reasons
@license GNU Affero General Public License v3.0 only
@notice One place for the `reason` argument of `CircuitBreaker.trip` and
        of the `Tripped`/`Paused` events, so that the off-chain engine reads
        one table. Constants only: import it, nothing to initialise.

        Ranges: 1-9 the breaker's own (guardian), 10-49 Pool, 50-99
        ReserveRegistry and InsuranceFund, 100-149 Custody, 1000+ off-chain
        sentinels (keeper). The `metric` that accompanies a code is described
        next to it.
"""

# @dev A guardian paused one target (`metric` 0).
GUARDIAN_PAUSE: constant(uint256) = 1
# @dev A guardian paused every target (`metric` 0).
GUARDIAN_PAUSE_ALL: constant(uint256) = 2

# @dev Pool: |spot - EMA| / EMA above the velocity band while the slippage
# of the reference size is above the thin-depth band. `metric`: the
# deviation in basis points.
POOL_VELOCITY_THIN_DEPTH: constant(uint256) = 10
# @dev Pool: liquidity sqrt(k) below the collapse fraction of its slow
# benchmark. `metric`: liquidity as basis points of the benchmark.
POOL_DEPTH_COLLAPSE: constant(uint256) = 11
# @dev Pool: net outflow of token0 over the rolling window above the cap.
# `metric`: the net outflow in token0 units.
POOL_OUTFLOW_TOKEN0: constant(uint256) = 12
# @dev Pool: as above for token1, in token1 units.
POOL_OUTFLOW_TOKEN1: constant(uint256) = 13

# @dev ReserveRegistry: an asset's live reserves are below its net
# liabilities in the latest attestation. `metric`: the reserve ratio in bps.
RESERVES_SHORTFALL: constant(uint256) = 50
# @dev ReserveRegistry: the latest attestation is older than the heartbeat.
# `metric`: its age in seconds.
RESERVES_STALE: constant(uint256) = 51
# @dev ReserveRegistry: a debtor of the latest epoch's debtors' register
# does not cover its debt with its collateral at the attested prices and
# haircuts (`challenge_debtor`). `metric`: its position in the register.
RESERVES_UNCOVERED_DEBT: constant(uint256) = 52

# @dev Custody: a withdrawal would take a token's global net outflow over
# its rolling-window cap. `metric`: the refused amount in token units.
# No longer raised since issue 14.5 (Custody holds such a withdrawal in its
# queue and halts nothing); kept so that older `Tripped` events still read.
CUSTODY_GLOBAL_OUTFLOW: constant(uint256) = 100

# @dev Off-chain keeper: a sentinel's manual trip (`metric` as it chooses).
SENTINEL_MANUAL: constant(uint256) = 1000
