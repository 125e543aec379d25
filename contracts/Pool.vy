# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title Constant-product pool guarded by the protocol's CircuitBreaker
@custom:contract-name Pool
@license GNU Affero General Public License v3.0 only
@notice A pair of two ERC-20 tokens priced by `x * y = k`. The pool is its
        own ERC-20 LP token (snekmate `erc20`); the first deposit locks
        `MINIMUM_LIQUIDITY` shares at a dead address.

        Swaps pay `fee_bps` (default 30). The output is exactly
        `amount_in * (10000 - fee) * R_out // (R_in * 10000 + amount_in * (10000 - fee))`.
        A protocol share of the fee (default 1/6, Uniswap V2's rule: 1/N of
        the growth of sqrt(k)) accrues as LP shares held by the pool and is
        paid out by `sweep_protocol_fee`, each token to its own
        `fee_receiver(token)` (issue 14.3: the InsuranceFund, an ERC-4626
        over USDC, takes only USDC; the governor routes the other token to a
        receiver that can move it, `FeeReceiverSet` records each change, and
        the pool refuses to route a token to a vault of another asset).

        Prices. `spot_price()` and `price_oracle()` are the price of one whole
        token0 in whole token1, scaled by 1e18 and ADJUSTED FOR DECIMALS:
        `reserve1 * 10**(18 - decimals1) * 1e18 // (reserve0 * 10**(18 - decimals0))`.
        For a USDE(18)/USDC(6) pool at par both read 1e18. `price_oracle()`
        is an EMA (half-life `oracle_half_life`, default 10 min) of the spot
        capped to `oracle_cap_bps` of the EMA before it enters.

        Breaker behaviour (parameters: `parameters()`, set by the governor,
        packed by `lib/pool_params.vy`):
        - the impact band, per swap AND per block (issue 14.2). A swap
          reverts if the price of token_in in token_out falls by more than
          `impact_band_bps` (10 %) from its value before the swap ("pool:
          price impact above band") or from the block's first spot, the spot
          before the block's first swap ("pool: price move in this block
          above band"). Every swap of a block, in one transaction or many,
          shares the band, as Uniswap v4 hooks and Curve's oracle guard do:
          chaining swaps cannot walk the price further in one block than one
          swap could, and a swap back towards the first spot is always
          within it. The next block opens a new band at its first spot, so a
          walk takes one block per band, with the price open to arbitrage
          between blocks;
        - after a resume: no swap in the resume's block ("pool: resumed in
          this block, swaps open in the next"), so whoever resumes cannot
          unwind a manipulated price in its own transaction; then, for the
          cool-down (`cooldown_seconds`, 10 min), both bands are
          `cooldown_band_bps` (1 %), per block: the way back from a
          manipulated price is open to everyone, one 1 % step per block,
          not to the first swapper at once;
        - a swap that leaves |spot - EMA| / EMA above `velocity_bps` (10 %)
          while the slippage of the reference size of token_in is above
          `thin_depth_bps` (5 %) trips the breaker (reason 10);
        - depth is sqrt(k) against a slow benchmark (EMA of sqrt(k),
          `benchmark_half_life`) that deposits and withdrawals rescale in
          proportion: an LP exit moves no price and is no loss of depth, and
          the benchmark never remembers a whale's transient liquidity (issue
          14.1). `depth_collapse_bps` (20 %) is kept as a parameter; swaps
          never lower sqrt(k), so no call of the pool trips reason 11 now;
        - a net outflow of token0/token1 by SWAPS over the rolling window
          above `outflow_cap_bps` (30 %) of its reserve per `outflow_window`
          (1 h) trips it (reasons 12/13). Deposits and withdrawals are not
          flows: they relax the lanes and rescale them with the reserves, so
          the limiter keeps measuring swap outflow as a fraction of the
          reserve and no sequence of deposits and withdrawals, around swaps
          or not, changes that fraction (a flash deposit cannot shrink the
          cap under a swap's outflow); a resume empties the lanes, so a
          re-trip needs new outflow (`lib/outflow_limiter.vy`);
        - a trip never reverts the transaction that measured it;
        - while halted `swap` reverts; `add_liquidity` and `remove_liquidity`
          always work. The pool mirrors the breaker's halt state of itself:
          the breaker pushes every transition (`on_halt_state`, see
          `interfaces/IHaltListener.vyi`) in the same transaction, or the
          transition reverts, so the mirror never says "running" while
          `breaker.is_halted(pool)` says "halted". Until the breaker
          protects the pool (its `protect` pushes the first state), swaps
          revert: an unprotected pool could not be tripped;
        - `can_resume()`: sqrt(k) is back above `resume_depth_bps` (50 %) of
          its benchmark. The breaker adds the halt window and lets anyone
          resume; its governor may resume at any time.

        Gas: a swap reads four storage slots (reserves with the time of the
        last oracle/limiter update; the EMA with both outflow lanes; the swap
        parameters; the block's first spot with the halt mirror) and writes
        two, three in the first swap of a block. The outflow lanes
        count in units of 10**(decimals - 6) for tokens with more than 6
        decimals (outflows rounded up, inflows down).

        Reserves are cached: tokens sent to the pool without a call are not
        reserves. `skim()` pays such donations to the `fee_receiver`s; the governor
        may `sync()` the reserves to the balances.

        Fee-on-transfer tokens are refused: every deposit checks that the
        pool's balance covers the reserves it books, and reverts with
        "pool: fee-on-transfer token refused" otherwise (the first deposit of
        such a token fails, and so does any later deposit or swap if a token
        switches a transfer fee on).

        Every external function, views included, holds the reentrancy lock
        (except the LP token's own ERC-20 functions, which touch no reserve,
        and `on_halt_state`, which only the breaker may call, also from
        inside the pool's own trip).

        Checks revert through one internal `_fail(reason)` instead of
        `assert cond, reason` at each site: same revert data, no gas until a
        check fails, and one copy of the revert code keeps the runtime well
        under the EIP-170 limit.
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed

implements: IERC20
implements: IERC20Detailed

from snekmate.auth.interfaces import IAccessControl

from interfaces import ICircuitBreaker
from interfaces import IHaltListener
from interfaces import IProtected

implements: IHaltListener
implements: IProtected

from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

from lib import ema_oracle
from lib import outflow_limiter
from lib import pool_params
from lib import roles
from lib import trip_reasons

initializes: pool_params

exports: (
    erc20.transfer,
    erc20.approve,
    erc20.transferFrom,
    erc20.name,
    erc20.symbol,
    erc20.decimals,
    erc20.balanceOf,
    erc20.allowance,
    erc20.totalSupply,
)


# @dev The breaker's governor governs the pool too: one place for roles.
GOVERNOR_ROLE: public(constant(bytes32)) = roles.GOVERNOR_ROLE

MINIMUM_LIQUIDITY: public(constant(uint256)) = 1000
# @dev Holder of the locked minimum liquidity (snekmate refuses the zero address).
DEAD: public(constant(address)) = 0x000000000000000000000000000000000000dEaD
BPS: constant(uint256) = pool_params.BPS
MAX_RESERVE: constant(uint256) = 2**112 - 1
PRICE_SCALE: constant(uint256) = 10**18
_MAX_PRICE: constant(uint256) = 2**192 - 1
_U16: constant(uint256) = pool_params.U16
_U32: constant(uint256) = pool_params.U32
_U64: constant(uint256) = 2**64 - 1
# @dev `_state`: the block's first spot (`ema_oracle._pack`, 80 bits), that block's number mod
# 2**32, then the halt mirror: set once the breaker has pushed; halted; closed (the pool resumed in
# this block: no swap until the next); the last resume time.
_OPEN_MASK: constant(uint256) = 2**80 - 1
_BLOCK_AT: constant(uint256) = 80
_MIRRORED: constant(uint256) = 2**112
_HALTED: constant(uint256) = 2**113
_CLOSED: constant(uint256) = 2**114
_RESUMED_AT_SHIFT: constant(uint256) = 115
_MAX_RESUMED_AT: constant(uint256) = 2**46 - 1
# @dev `_reserves`: the time of the last oracle/limiter update, mod 2**32, above the reserves.
_CLOCK_SHIFT: constant(uint256) = 224
# @dev `_oracle_flows` without the outflow lanes.
_EMA_MASK: constant(uint256) = 2**80 - 1
_LANE_OFFSET: constant(int256) = 2**87
_LANE_MASK: constant(uint256) = 2**88 - 1


token0: public(immutable(address))
token1: public(immutable(address))
breaker: public(immutable(ICircuitBreaker))
# @dev 10**(18 - decimals) of each token: whole-token prices from raw reserves.
_RATE0: immutable(uint256)
_RATE1: immutable(uint256)
# @dev The outflow limiter's unit of each token: 10**(decimals - 6), at least 1.
_LANE_UNIT0: immutable(uint256)
_LANE_UNIT1: immutable(uint256)

# @dev Where swept protocol fees and skimmed donations of each token go (see `set_fee_receiver`).
fee_receiver: public(HashMap[address, address])

# @dev reserve0 | reserve1 << 112 | (time of the last oracle/limiter update mod 2**32) << 224.
_reserves: uint256
# @dev The EMA price (`ema_oracle._pack`, 80 bits) | the outflow limiter lanes
# (`outflow_limiter._lane_flow`, 88 bits each) of token0 << 80 and token1 << 168.
_oracle_flows: uint256
# @dev The block's first spot and the halt mirror (layout at `_OPEN_MASK`).
_state: uint256
# @dev reserve0 * reserve1 after the last deposit or withdrawal (protocol fee base).
k_last: public(uint256)
# @dev The depth benchmark: slow EMA of sqrt(k), `benchmark << 64 | last_update`.
_depth: uint256


event Swap:
    sender: indexed(address)
    receiver: indexed(address)
    token_in: indexed(address)
    amount_in: uint256
    amount_out: uint256
    spot_price: uint256


event AddLiquidity:
    provider: indexed(address)
    receiver: indexed(address)
    amount0: uint256
    amount1: uint256
    lp_minted: uint256


event RemoveLiquidity:
    provider: indexed(address)
    receiver: indexed(address)
    amount0: uint256
    amount1: uint256
    lp_burned: uint256


# @dev The pool asked the breaker to halt it; `accepted` is false if the breaker refused.
event BreakerTrip:
    reason: indexed(uint256)
    metric: uint256
    accepted: bool


# @dev Paid to `fee_receiver(token0)` and `fee_receiver(token1)`.
event ProtocolFeeSwept:
    amount0: uint256
    amount1: uint256
    lp_burned: uint256


# @dev Paid to `fee_receiver(token0)` and `fee_receiver(token1)`.
event Skim:
    amount0: uint256
    amount1: uint256


event Sync:
    reserve0: uint256
    reserve1: uint256


# @dev The governor routed `token`'s protocol fees and donations to `fee_receiver`.
event FeeReceiverSet:
    governor: indexed(address)
    token: indexed(address)
    previous: address
    fee_receiver: address


@deploy
def __init__(
    token0_: address,
    token1_: address,
    breaker_: ICircuitBreaker,
    fee_receiver_: address,
    reference_size0_: uint256,
    reference_size1_: uint256,
    name_: String[25],
    symbol_: String[5],
):
    """
    @dev Create an empty pool with the default parameters.
    @param token0_ The first token (prices are in token1 per token0).
    @param token1_ The second token.
    @param breaker_ The protocol's CircuitBreaker (it must `protect` this pool);
           its GOVERNOR_ROLE holders govern the pool (parameters, fee receiver, sync).
    @param fee_receiver_ Where protocol fees and donations of both tokens go until the
           governor routes each token (`set_fee_receiver`).
    @param reference_size0_ The token0 amount whose slippage measures thin depth.
    @param reference_size1_ The token1 amount whose slippage measures thin depth.
    @param name_ The LP token name.
    @param symbol_ The LP token symbol.
    """
    if not (token0_ != empty(address) and token1_ != empty(address)):
        self._fail("pool: token is the zero address")
    if token0_ == token1_:
        self._fail("pool: identical tokens")
    if breaker_.address == empty(address):
        self._fail("pool: breaker is the zero address")
    decimals0: uint256 = convert(staticcall IERC20Detailed(token0_).decimals(), uint256)
    decimals1: uint256 = convert(staticcall IERC20Detailed(token1_).decimals(), uint256)
    if not (decimals0 <= 18 and decimals1 <= 18):
        self._fail("pool: more than 18 decimals")
    token0 = token0_
    token1 = token1_
    breaker = breaker_
    _RATE0 = 10 ** (18 - decimals0)
    _RATE1 = 10 ** (18 - decimals1)
    _LANE_UNIT0 = 10 ** (max(decimals0, 6) - 6)
    _LANE_UNIT1 = 10 ** (max(decimals1, 6) - 6)

    ownable.__init__()
    erc20.__init__(name_, symbol_, 18, name_, "1")

    self._check_receiver(token0_, fee_receiver_)
    self._check_receiver(token1_, fee_receiver_)
    self.fee_receiver[token0_] = fee_receiver_
    self.fee_receiver[token1_] = fee_receiver_
    pool_params._set(
        pool_params.Parameters(
            fee_bps=30,
            protocol_fee_divisor=6,
            impact_band_bps=1_000,
            cooldown_band_bps=100,
            cooldown_seconds=600,
            velocity_bps=1_000,
            thin_depth_bps=500,
            reference_size0=reference_size0_,
            reference_size1=reference_size1_,
            depth_collapse_bps=2_000,
            resume_depth_bps=5_000,
            benchmark_half_life=86_400,
            outflow_cap_bps=3_000,
            outflow_window=3_600,
            oracle_half_life=600,
            oracle_cap_bps=1_000,
        )
    )


@external
def swap(token_in: address, amount_in: uint256, min_out: uint256, receiver: address, deadline: uint256) -> uint256:
    """
    @dev Sell `amount_in` of `token_in` for the other token.
    @notice Reverts while the breaker halts the pool (or before it
            protects it), in the block of a resume, past `deadline`, below
            `min_out`, or when the price would leave the band: the swap's own
            impact, or the move of the spot from the block's first spot
            (every swap of the block together), above `impact_band_bps`
            (`cooldown_band_bps` in the cool-down). May trip the breaker
            (velocity with thin depth, outflow cap); the swap that trips it
            still executes.
    @param token_in token0 or token1; the caller must have approved it.
    @param amount_in The amount sold, in token_in's smallest unit.
    @param min_out The least output accepted.
    @param receiver Who receives the output.
    @param deadline The last timestamp at which the swap may execute.
    @return uint256 The output amount.
    """
    if block.timestamp > deadline:
        self._fail("pool: deadline passed")
    if amount_in == 0:
        self._fail("pool: zero amount")
    if receiver == empty(address):
        self._fail("pool: receiver is the zero address")
    state: uint256 = self._state
    if state & _MIRRORED == 0:
        self._fail("pool: not protected by the breaker")
    if state & _HALTED != 0:
        self._fail("pool: halted by the circuit breaker")
    zero_in: bool = token_in == token0
    if not (zero_in or token_in == token1):
        self._fail("pool: token_in is not in the pool")

    word: uint256 = self._reserves
    reserve0: uint256 = word & MAX_RESERVE
    reserve1: uint256 = word >> 112 & MAX_RESERVE
    if reserve0 == 0:
        self._fail("pool: no liquidity")
    config: uint256 = pool_params.swap_word

    # The block's first spot: the band holds every swap of the block together (issue 14.2).
    opening: uint256 = 0
    if state >> _BLOCK_AT & _U32 == block.number & _U32:
        if state & _CLOSED != 0:
            self._fail("pool: resumed in this block, swaps open in the next")
        opening = ema_oracle._unpack(state)
    else:
        opening = self._spot(reserve0, reserve1)
        packed: uint256 = ema_oracle._pack(opening)
        opening = ema_oracle._unpack(packed)
        self._state = state & ~(_OPEN_MASK | _U32 << _BLOCK_AT | _CLOSED) | packed | (block.number & _U32) << _BLOCK_AT

    reserve_in: uint256 = reserve1
    reserve_out: uint256 = reserve0
    token_out: address = token0
    if zero_in:
        reserve_in = reserve0
        reserve_out = reserve1
        token_out = token1
    if amount_in > MAX_RESERVE - reserve_in:
        self._fail("pool: reserve overflow")
    # Bounded by MAX_RESERVE from here: no product below can overflow.
    new_in: uint256 = unsafe_add(reserve_in, amount_in)
    amount_out: uint256 = self._amount_out(amount_in, reserve_in, reserve_out, config & _U16)
    if amount_out == 0:
        self._fail("pool: output is zero")
    if amount_out < min_out:
        self._fail("pool: output below min_out")
    new_out: uint256 = unsafe_sub(reserve_out, amount_out)

    # Impact: the price of token_in in token_out falls from R_out/R_in to new_out/new_in.
    band: uint256 = config >> pool_params.IMPACT_BAND_AT & _U16
    resumed_at: uint256 = state >> _RESUMED_AT_SHIFT
    if resumed_at != 0 and block.timestamp < resumed_at + (config >> pool_params.COOLDOWN_SECONDS_AT & _U32):
        band = config >> pool_params.COOLDOWN_BAND_AT & _U16
    keep: uint256 = BPS - band
    if unsafe_mul(unsafe_mul(new_out, reserve_in), BPS) < unsafe_mul(unsafe_mul(keep, reserve_out), new_in):
        self._fail("pool: price impact above band")

    new0: uint256 = new_out
    new1: uint256 = new_in
    if zero_in:
        new0 = new_in
        new1 = new_out
    spot: uint256 = self._spot(new0, new1)
    # The same fall counted from the block's first spot. Prices are below 2**192: no overflow.
    if zero_in:
        if unsafe_mul(spot, BPS) < unsafe_mul(opening, keep):
            self._fail("pool: price move in this block above band")
    else:
        if unsafe_mul(spot, keep) > unsafe_mul(opening, BPS):
            self._fail("pool: price move in this block above band")
    self._reserves = new0 | new1 << 112 | block.timestamp << _CLOCK_SHIFT
    self._pull(token_in, amount_in, new_in)
    if not (extcall IERC20(token_out).transfer(receiver, amount_out, default_return_value=True)):
        self._fail("pool: transfer failed")

    ema: uint256 = 0
    if zero_in:
        ema = self._advance(word, config, reserve0, reserve1, amount_in, 0, 0, amount_out)
    else:
        ema = self._advance(word, config, reserve0, reserve1, 0, amount_out, amount_in, 0)
    # Velocity with thin depth: the price ran away from its EMA while the book behind it is thin.
    # Prices are below 2**192 and bps below 2**16: no overflow.
    gap: uint256 = unsafe_sub(spot, ema) if spot > ema else unsafe_sub(ema, spot)
    if ema != 0 and unsafe_mul(gap, BPS) > unsafe_mul(config >> pool_params.VELOCITY_AT & _U16, ema):
        reference: uint256 = pool_params.reference_size1
        if zero_in:
            reference = pool_params.reference_size0
        # Slippage of selling `reference` into the new reserves: reference / (new_in + reference).
        if reference * BPS > (config >> pool_params.THIN_DEPTH_AT & _U16) * (new_in + reference):
            self._trip(trip_reasons.POOL_VELOCITY_THIN_DEPTH, gap * BPS // ema)
    log Swap(
        sender=msg.sender,
        receiver=receiver,
        token_in=token_in,
        amount_in=amount_in,
        amount_out=amount_out,
        spot_price=spot,
    )
    return amount_out


@external
def add_liquidity(amount0: uint256, amount1: uint256, min_lp: uint256, receiver: address, deadline: uint256) -> uint256:
    """
    @dev Deposit up to `amount0` and `amount1` for LP shares.
    @notice Works while the pool is halted. After the first deposit the
            pool takes the two amounts in the ratio of its reserves (the
            limiting side in full, the other rounded up) and leaves the rest
            with the caller. The first deposit sets the price and locks
            `MINIMUM_LIQUIDITY` shares.
    @param amount0 The most token0 to deposit.
    @param amount1 The most token1 to deposit.
    @param min_lp The fewest LP shares accepted.
    @param receiver Who receives the shares.
    @param deadline The last timestamp at which the deposit may execute.
    @return uint256 The LP shares minted.
    """
    if block.timestamp > deadline:
        self._fail("pool: deadline passed")
    if receiver == empty(address):
        self._fail("pool: receiver is the zero address")
    if not (amount0 <= MAX_RESERVE and amount1 <= MAX_RESERVE):
        self._fail("pool: reserve overflow")
    word: uint256 = self._reserves
    reserve0: uint256 = word & MAX_RESERVE
    reserve1: uint256 = word >> 112 & MAX_RESERVE
    supply: uint256 = erc20.totalSupply
    used0: uint256 = amount0
    used1: uint256 = amount1
    minted: uint256 = 0

    if supply == 0:
        if not (amount0 != 0 and amount1 != 0):
            self._fail("pool: first deposit needs both tokens")
        liquidity: uint256 = isqrt(amount0 * amount1)
        if liquidity <= MINIMUM_LIQUIDITY:
            self._fail("pool: first deposit too small")
        erc20._mint(DEAD, MINIMUM_LIQUIDITY)
        minted = liquidity - MINIMUM_LIQUIDITY
        self._depth = liquidity << 64 | block.timestamp
    else:
        supply = self._mint_protocol_fee(reserve0, reserve1, supply)
        used1 = self._ceil_div(amount0 * reserve1, reserve0)
        if used1 <= amount1:
            used0 = amount0
        else:
            used0 = self._ceil_div(amount1 * reserve0, reserve1)
            used1 = amount1
        minted = min(used0 * supply // reserve0, used1 * supply // reserve1)

    if minted == 0:
        self._fail("pool: zero liquidity minted")
    if minted < min_lp:
        self._fail("pool: liquidity below min_lp")
    new0: uint256 = reserve0 + used0
    new1: uint256 = reserve1 + used1
    if not (new0 <= MAX_RESERVE and new1 <= MAX_RESERVE):
        self._fail("pool: reserve overflow")
    if supply != 0:
        self._update_depth(isqrt(reserve0 * reserve1), isqrt(new0 * new1))
    self._reserves = new0 | new1 << 112 | block.timestamp << _CLOCK_SHIFT
    if pool_params.protocol_fee_divisor != 0:
        self.k_last = new0 * new1
    self._pull(token0, used0, new0)
    self._pull(token1, used1, new1)
    erc20._mint(receiver, minted)

    if supply == 0:
        # The first deposit sets the EMA to its own price.
        self._advance(word, pool_params.swap_word, used0, used1, 0, 0, 0, 0)
    else:
        self._advance(word, pool_params.swap_word, reserve0, reserve1, 0, 0, 0, 0)
        self._rescale_lanes(reserve0, reserve1, new0, new1)
    log AddLiquidity(provider=msg.sender, receiver=receiver, amount0=used0, amount1=used1, lp_minted=minted)
    return minted


@external
def remove_liquidity(
    lp_amount: uint256, min0: uint256, min1: uint256, receiver: address, deadline: uint256
) -> (uint256, uint256):
    """
    @dev Burn `lp_amount` shares for their part of both reserves.
    @notice Always works, halted or not: a proportional withdrawal moves no
            price. May trip the breaker (depth collapse, outflow cap); the
            withdrawal that trips it still executes.
    @param lp_amount The LP shares to burn, from the caller.
    @param min0 The least token0 accepted.
    @param min1 The least token1 accepted.
    @param receiver Who receives the tokens.
    @param deadline The last timestamp at which the withdrawal may execute.
    @return uint256 The token0 paid out.
    @return uint256 The token1 paid out.
    """
    if block.timestamp > deadline:
        self._fail("pool: deadline passed")
    if lp_amount == 0:
        self._fail("pool: zero amount")
    if receiver == empty(address):
        self._fail("pool: receiver is the zero address")
    word: uint256 = self._reserves
    reserve0: uint256 = word & MAX_RESERVE
    reserve1: uint256 = word >> 112 & MAX_RESERVE
    supply: uint256 = self._mint_protocol_fee(reserve0, reserve1, erc20.totalSupply)

    amount0: uint256 = lp_amount * reserve0 // supply
    amount1: uint256 = lp_amount * reserve1 // supply
    if not (amount0 >= min0 and amount1 >= min1):
        self._fail("pool: output below minimum")
    if not (amount0 != 0 or amount1 != 0):
        self._fail("pool: nothing to withdraw")
    erc20._burn(msg.sender, lp_amount)
    new0: uint256 = reserve0 - amount0
    new1: uint256 = reserve1 - amount1
    self._reserves = new0 | new1 << 112 | block.timestamp << _CLOCK_SHIFT
    if pool_params.protocol_fee_divisor != 0:
        self.k_last = new0 * new1
    self._push(token0, receiver, amount0)
    self._push(token1, receiver, amount1)

    # A proportional exit moves no price: it rescales the depth benchmark with the reserves and is no
    # outflow for the limiter (issue 14.1), so it never trips.
    self._update_depth(isqrt(reserve0 * reserve1), isqrt(new0 * new1))
    self._advance(word, pool_params.swap_word, reserve0, reserve1, 0, 0, 0, 0)
    self._rescale_lanes(reserve0, reserve1, new0, new1)
    log RemoveLiquidity(provider=msg.sender, receiver=receiver, amount0=amount0, amount1=amount1, lp_burned=lp_amount)
    return amount0, amount1


@external
def sweep_protocol_fee() -> (uint256, uint256):
    """
    @dev Pay the accrued protocol fee, each token to its `fee_receiver(token)`.
    @notice Anyone may call. Burns the LP shares the pool holds for the
            protocol (accrued as 1/`protocol_fee_divisor` of the growth of
            sqrt(k)) like a withdrawal, which moves no price.
    @return uint256 The token0 paid.
    @return uint256 The token1 paid.
    """
    word: uint256 = self._reserves
    reserve0: uint256 = word & MAX_RESERVE
    reserve1: uint256 = word >> 112 & MAX_RESERVE
    if reserve0 == 0:
        return 0, 0
    supply: uint256 = self._mint_protocol_fee(reserve0, reserve1, erc20.totalSupply)
    shares: uint256 = erc20.balanceOf[self]
    if shares == 0:
        return 0, 0
    amount0: uint256 = shares * reserve0 // supply
    amount1: uint256 = shares * reserve1 // supply
    erc20._burn(self, shares)
    new0: uint256 = reserve0 - amount0
    new1: uint256 = reserve1 - amount1
    # A proportional burn moves no price: the oracle/limiter clock stays.
    self._reserves = new0 | new1 << 112 | word >> _CLOCK_SHIFT << _CLOCK_SHIFT
    if pool_params.protocol_fee_divisor != 0:
        self.k_last = new0 * new1
    self._pay_receivers(amount0, amount1)
    log ProtocolFeeSwept(amount0=amount0, amount1=amount1, lp_burned=shares)
    return amount0, amount1


@external
def skim() -> (uint256, uint256):
    """
    @dev Pay tokens the pool holds beyond its reserves (donations) to
         their `fee_receiver(token)`.
    @notice Anyone may call; the receivers are governed, so nobody profits
            from calling it.
    @return uint256 The token0 paid.
    @return uint256 The token1 paid.
    """
    reserve0: uint256 = 0
    reserve1: uint256 = 0
    reserve0, reserve1 = self._get_reserves()
    excess0: uint256 = self._excess(token0, reserve0)
    excess1: uint256 = self._excess(token1, reserve1)
    self._pay_receivers(excess0, excess1)
    log Skim(amount0=excess0, amount1=excess1)
    return excess0, excess1


@external
def sync():
    """
    @dev Set the reserves to the balances (absorbing donations, or
         recognising a loss of a token that rebased down).
    @notice Governor only: it moves the price without a swap.
    """
    self._check_governor()
    word: uint256 = self._reserves
    # The EMA takes the price that held until now; the outflow lanes relax (no flow).
    reserve0: uint256 = word & MAX_RESERVE
    reserve1: uint256 = word >> 112 & MAX_RESERVE
    self._advance(word, pool_params.swap_word, reserve0, reserve1, 0, 0, 0, 0)
    balance0: uint256 = min(staticcall IERC20(token0).balanceOf(self), MAX_RESERVE)
    balance1: uint256 = min(staticcall IERC20(token1).balanceOf(self), MAX_RESERVE)
    self._reserves = balance0 | balance1 << 112 | block.timestamp << _CLOCK_SHIFT
    if pool_params.protocol_fee_divisor != 0:
        self.k_last = balance0 * balance1
    log Sync(reserve0=balance0, reserve1=balance1)


@external
def set_parameters(parameters: pool_params.Parameters):
    """
    @dev Replace every parameter of the pool and its breaker rules.
    @notice Governor only. Emits `ParametersSet` with the new values.
            Read the current ones with `parameters()`.
    @param parameters The new parameters (see `pool_params.Parameters`).
    """
    self._check_governor()
    was: uint256 = pool_params.protocol_fee_divisor
    pool_params._set(parameters)
    if parameters.protocol_fee_divisor == 0:
        self.k_last = 0
    elif was == 0:
        # Fees start accruing from now, not from the last time they were on.
        reserve0: uint256 = 0
        reserve1: uint256 = 0
        reserve0, reserve1 = self._get_reserves()
        self.k_last = reserve0 * reserve1


@external
def set_fee_receiver(token: address, fee_receiver_: address):
    """
    @dev Send `token`'s future protocol fees and donations to `fee_receiver_`.
    @notice Governor only; emits `FeeReceiverSet`. A receiver that is an
            ERC-4626 vault (answers `asset()`) must be a vault of `token`:
            the InsuranceFund takes only its asset, the other token goes to
            a receiver that can move it (issue 14.3).
    @param token token0 or token1.
    @param fee_receiver_ The new receiver.
    """
    self._check_governor()
    if not (token == token0 or token == token1):
        self._fail("pool: token is not in the pool")
    self._check_receiver(token, fee_receiver_)
    log FeeReceiverSet(governor=msg.sender, token=token, previous=self.fee_receiver[token], fee_receiver=fee_receiver_)
    self.fee_receiver[token] = fee_receiver_


@external
@view
def get_reserves() -> (uint256, uint256):
    """
    @dev Return the cached reserves (balances minus donations).
    @return uint256 The token0 reserve.
    @return uint256 The token1 reserve.
    """
    return self._get_reserves()


@external
@view
def fee_bps() -> uint256:
    """
    @dev Return the swap fee in basis points.
    @return uint256 The fee (30 = 0.30 %).
    """
    return pool_params.swap_word & _U16


@external
@view
def get_amount_out(token_in: address, amount_in: uint256) -> uint256:
    """
    @dev Return what `swap(token_in, amount_in, ...)` pays now.
    @notice The exact formula; it does not say whether the swap would pass
            the breaker (halt, impact band).
    @param token_in token0 or token1.
    @param amount_in The amount sold.
    @return uint256 The output.
    """
    reserve0: uint256 = 0
    reserve1: uint256 = 0
    reserve0, reserve1 = self._get_reserves()
    fee: uint256 = pool_params.swap_word & _U16
    if token_in == token0:
        return self._amount_out(amount_in, reserve0, reserve1, fee)
    if token_in != token1:
        self._fail("pool: token_in is not in the pool")
    return self._amount_out(amount_in, reserve1, reserve0, fee)


@external
@view
def spot_price() -> uint256:
    """
    @dev Return the spot price: whole token1 per whole token0, scaled 1e18,
         adjusted for decimals.
    @return uint256 The price (1e18 = one token1 per token0); 0 if empty.
    """
    reserve0: uint256 = 0
    reserve1: uint256 = 0
    reserve0, reserve1 = self._get_reserves()
    return self._spot(reserve0, reserve1)


@external
@view
def price_oracle() -> uint256:
    """
    @dev Return the EMA of the spot price as of now, same scale as
         `spot_price()`.
    @return uint256 The EMA price; 0 before the first deposit.
    """
    word: uint256 = self._reserves
    p: pool_params.SwapParameters = pool_params._unpack(pool_params.swap_word)
    return ema_oracle._next(
        ema_oracle._unpack(self._oracle_flows),
        self._spot(word & MAX_RESERVE, word >> 112 & MAX_RESERVE),
        self._elapsed(word),
        p.oracle_cap_bps,
        p.oracle_half_life,
    )


@external
@view
def can_resume() -> bool:
    """
    @dev Return whether the pool's own resume rule holds: sqrt(k) is at
         least `resume_depth_bps` of its benchmark.
    @notice The breaker asks this before letting anyone but its governor
            resume the pool after the halt window.
    @return bool True if depth is back.
    """
    reserve0: uint256 = 0
    reserve1: uint256 = 0
    reserve0, reserve1 = self._get_reserves()
    liquidity: uint256 = isqrt(reserve0 * reserve1)
    return liquidity * BPS >= pool_params.resume_depth_bps * self._benchmark_now(liquidity)


@external
@view
def protocol_fee_pending() -> uint256:
    """
    @dev Return the protocol's LP shares: held by the pool plus accrued
         since the last deposit or withdrawal.
    @return uint256 LP shares `sweep_protocol_fee` would burn now.
    """
    reserve0: uint256 = 0
    reserve1: uint256 = 0
    reserve0, reserve1 = self._get_reserves()
    return erc20.balanceOf[self] + self._protocol_fee_shares(reserve0, reserve1, erc20.totalSupply)


@external
@view
def parameters() -> pool_params.Parameters:
    """
    @dev Return every parameter of the pool and its breaker rules.
    @return Parameters The current parameters.
    """
    return pool_params._get()


@external
@view
def breaker_metrics() -> (uint256, uint256, uint256, uint256):
    """
    @dev Return what the breaker rules measure, as of now.
    @return uint256 The liquidity sqrt(reserve0 * reserve1).
    @return uint256 Its slow benchmark (EMA of sqrt(k), `benchmark_half_life`).
    @return uint256 How much more token0 may flow out before the outflow cap.
    @return uint256 The same for token1.
    """
    word: uint256 = self._reserves
    reserve0: uint256 = word & MAX_RESERVE
    reserve1: uint256 = word >> 112 & MAX_RESERVE
    p: pool_params.SwapParameters = pool_params._unpack(pool_params.swap_word)
    liquidity: uint256 = isqrt(reserve0 * reserve1)
    cap0: uint256 = min(reserve0 * p.outflow_cap_bps // BPS // _LANE_UNIT0, outflow_limiter.MAX_LANE)
    cap1: uint256 = min(reserve1 * p.outflow_cap_bps // BPS // _LANE_UNIT1, outflow_limiter.MAX_LANE)
    lanes: uint256 = self._oracle_flows >> ema_oracle.PACKED_BITS
    elapsed: uint256 = self._elapsed(word)
    net0: int256 = outflow_limiter._lane_net(lanes, cap0, p.outflow_window, elapsed)
    net1: int256 = outflow_limiter._lane_net(lanes >> outflow_limiter.LANE_BITS, cap1, p.outflow_window, elapsed)
    return (
        liquidity,
        self._benchmark_now(liquidity),
        convert(max(convert(cap0, int256) - net0, 0), uint256) * _LANE_UNIT0,
        convert(max(convert(cap1, int256) - net1, 0), uint256) * _LANE_UNIT1,
    )


@external
@view
def halt_state() -> (bool, bool, uint256):
    """
    @dev Return the breaker's halt state of this pool as the pool mirrors
         it (`on_halt_state`): what `swap` acts on.
    @return bool Whether the breaker protects the pool and has pushed its
            state (until then swaps revert: "pool: not protected by the breaker").
    @return bool Whether halted (as `breaker.is_halted(pool)`).
    @return uint256 The time of the last resume (the cool-down starts there), 0 if never.
    """
    state: uint256 = self._state
    return state & _MIRRORED != 0, state & _HALTED != 0, state >> _RESUMED_AT_SHIFT


@external
@reentrant
def on_halt_state(halted: bool, resumed_at: uint256) -> bytes4:
    """
    @dev Mirror the breaker's halt state of this pool (`IHaltListener`).
    @notice The breaker only. It calls this when it protects the pool and,
            from then on, in the same transaction as every transition of
            the pool's halt state (or the transition reverts), so `swap`
            reads one storage word it already needs instead of calling the
            breaker. Exempt from the reentrancy lock: the pool's own trip
            calls back into it.
    @param halted Whether the breaker halts the pool.
    @param resumed_at The time of the pool's last resume (0 if never).
    @return bytes4 This function's selector: the mirror is acknowledged.
    """
    if msg.sender != breaker.address:
        self._fail("pool: caller is not the breaker")
    state: uint256 = self._state
    mirror: uint256 = state & (_OPEN_MASK | _U32 << _BLOCK_AT) | _MIRRORED | min(resumed_at, _MAX_RESUMED_AT) << _RESUMED_AT_SHIFT
    if halted:
        mirror = mirror | _HALTED
    elif state & _HALTED != 0:
        # A resume starts the outflow limiter afresh: a re-trip needs new outflow (issue 14.1). And no
        # swap in the resume's block: the resumer cannot unwind a manipulated price in its own
        # transaction; from the next block the cool-down band holds per block (issue 14.2).
        self._oracle_flows = self._oracle_flows & _EMA_MASK
        mirror = mirror & ~(_U32 << _BLOCK_AT) | _CLOSED | (block.number & _U32) << _BLOCK_AT
    self._state = mirror
    return method_id("on_halt_state(bool,uint256)", output_type=bytes4)


@internal
@pure
def _fail(reason: String[64]):
    """
    @dev Revert with `reason` (as `assert` does): every check of the pool shares this one copy of
         the revert code, which keeps the runtime under the EIP-170 limit. Costs no gas until a
         check fails.
    """
    raise reason


@internal
@view
def _check_governor():
    """
    @dev Revert unless the caller holds the breaker's GOVERNOR_ROLE (one place for roles).
    """
    if not (staticcall IAccessControl(breaker.address).hasRole(GOVERNOR_ROLE, msg.sender)):
        self._fail("pool: caller is not the governor")


@internal
@view
def _get_reserves() -> (uint256, uint256):
    """
    @dev Return the cached reserves (token0, token1) from the reserves word.
    """
    word: uint256 = self._reserves
    return word & MAX_RESERVE, word >> 112 & MAX_RESERVE


@internal
@view
def _elapsed(word: uint256) -> uint256:
    """
    @dev Return the seconds since the last oracle/limiter update, from the clock in the reserves word.
    """
    # Seconds since the last oracle/limiter update, from the clock in the reserves word.
    return unsafe_sub(block.timestamp, word >> _CLOCK_SHIFT) & _U32


@internal
@pure
def _amount_out(amount_in: uint256, reserve_in: uint256, reserve_out: uint256, fee: uint256) -> uint256:
    """
    @dev Uniswap V2's output, exactly: the one copy `swap` and `get_amount_out` share.
    @param amount_in The amount sold.
    @param reserve_in The reserve of the token sold.
    @param reserve_out The reserve of the token bought.
    @param fee The fee in bps.
    @return uint256 amount_in*(10000-fee)*R_out // (R_in*10000 + amount_in*(10000-fee)); 0 if either is 0.
    """
    if amount_in == 0 or reserve_in == 0:
        return 0
    in_after_fee: uint256 = amount_in * (BPS - fee)
    return in_after_fee * reserve_out // (reserve_in * BPS + in_after_fee)


@internal
@view
def _spot(reserve0: uint256, reserve1: uint256) -> uint256:
    """
    @dev Return whole token1 per whole token0, 1e18, adjusted for decimals; capped so the oracle never reverts.
    """
    # Whole token1 per whole token0, 1e18; capped so the oracle never reverts.
    if reserve0 == 0:
        return 0
    # Reserves are below 2**112 and the rates at most 1e18: no product overflows.
    return min(unsafe_div(unsafe_mul(unsafe_mul(reserve1, _RATE1), PRICE_SCALE), unsafe_mul(reserve0, _RATE0)), _MAX_PRICE)


@internal
@pure
def _ceil_div(numerator: uint256, denominator: uint256) -> uint256:
    """
    @dev Return numerator / denominator rounded up (deposits round in the pool's favour).
    """
    return (numerator + denominator - 1) // denominator


@internal
def _pull(token: address, amount: uint256, booked: uint256):
    """
    @dev Take `amount` of `token` from the caller; the balance must cover the `booked` reserve (no fee-on-transfer).
    """
    # Take `amount` from the caller; the balance must cover what the pool books.
    if amount == 0:
        return
    if not (extcall IERC20(token).transferFrom(msg.sender, self, amount, default_return_value=True)):
        self._fail("pool: transferFrom failed")
    if staticcall IERC20(token).balanceOf(self) < booked:
        self._fail("pool: fee-on-transfer token refused")


@internal
def _push(token: address, receiver: address, amount: uint256):
    """
    @dev Pay `amount` of `token` to `receiver` (nothing if 0); revert if the token refuses.
    """
    if amount == 0:
        return
    if not (extcall IERC20(token).transfer(receiver, amount, default_return_value=True)):
        self._fail("pool: transfer failed")


@internal
def _pay_receivers(amount0: uint256, amount1: uint256):
    """
    @dev Pay protocol fees or donations, each token to its own `fee_receiver` (issue 14.3).
    """
    self._push(token0, self.fee_receiver[token0], amount0)
    self._push(token1, self.fee_receiver[token1], amount1)


@internal
@view
def _check_receiver(token: address, receiver: address):
    """
    @dev Revert if `receiver` is the zero address, or an ERC-4626 vault
         (it answers `asset()`) of another asset than `token`: such a vault
         counts and moves only its asset, so `token` would be stranded.
    """
    if receiver == empty(address):
        self._fail("pool: fee receiver is the zero address")
    ok: bool = False
    answer: Bytes[32] = b""
    ok, answer = raw_call(receiver, method_id("asset()"), max_outsize=32, is_static_call=True, revert_on_failure=False)
    if ok and len(answer) == 32:
        if extract32(answer, 0, output_type=address) != token:
            self._fail("pool: receiver is a vault of another asset")


@internal
@view
def _excess(token: address, reserve: uint256) -> uint256:
    """
    @dev Return the pool's balance of `token` above its `reserve` (donations), 0 if none.
    """
    balance: uint256 = staticcall IERC20(token).balanceOf(self)
    if balance <= reserve:
        return 0
    return balance - reserve


@internal
def _advance(
    word: uint256,
    config: uint256,
    reserve0: uint256,
    reserve1: uint256,
    inflow0: uint256,
    outflow0: uint256,
    inflow1: uint256,
    outflow1: uint256,
) -> uint256:
    """
    @dev Move the EMA and the outflow lanes to now, record a change of the
         reserves, and return the new EMA.
    @notice Only swaps pass flows; a lane that pays out above its cap trips
            the breaker. Deposits, withdrawals and `sync` pass none: a
            proportional deposit or withdrawal moves no price, so it neither
            counts as an outflow nor buys credit (issue 14.1), and only relaxes
            the lanes.
    @param word The reserves word before the change (its clock).
    @param config The packed swap parameters.
    @param reserve0 The token0 reserve before the change.
    @param reserve1 The token1 reserve before the change.
    @param inflow0 token0 in.
    @param outflow0 token0 out.
    @param inflow1 token1 in.
    @param outflow1 token1 out.
    @return uint256 The new EMA.
    """
    # Move the EMA (the spot of `reserve0/reserve1` held since the last update) and record the flows in
    # the rolling-window limiter: one storage word. `word` is the reserves word before the change (its
    # clock); the caller writes the new clock with the new reserves. A lane that pays out above its cap
    # trips the breaker. Returns the new EMA.
    elapsed: uint256 = unsafe_sub(block.timestamp, word >> _CLOCK_SHIFT) & _U32
    state: uint256 = self._oracle_flows
    ema: uint256 = ema_oracle._unpack(state)
    if elapsed != 0 or ema == 0:
        ema = ema_oracle._next(
            ema,
            self._spot(reserve0, reserve1),
            elapsed,
            config >> pool_params.ORACLE_CAP_AT & _U16,
            config >> pool_params.ORACLE_HALF_LIFE_AT & _U32,
        )
    cap_bps: uint256 = config >> pool_params.OUTFLOW_CAP_AT & _U16
    window: uint256 = config >> pool_params.OUTFLOW_WINDOW_AT & _U32
    lanes: uint256 = state >> ema_oracle.PACKED_BITS
    # Amounts are below 2**112. Outflows round up to the lane unit, inflows down.
    # Reserves are below 2**112: no overflow.
    cap0: uint256 = min(unsafe_div(unsafe_mul(reserve0, cap_bps), unsafe_mul(BPS, _LANE_UNIT0)), outflow_limiter.MAX_LANE)
    cap1: uint256 = min(unsafe_div(unsafe_mul(reserve1, cap_bps), unsafe_mul(BPS, _LANE_UNIT1)), outflow_limiter.MAX_LANE)
    lane0: uint256 = 0
    net0: int256 = 0
    lane0, net0 = outflow_limiter._lane_flow(
        lanes,
        unsafe_div(inflow0, _LANE_UNIT0),
        unsafe_div(unsafe_add(outflow0, unsafe_sub(_LANE_UNIT0, 1)), _LANE_UNIT0),
        cap0,
        window,
        elapsed,
    )
    lane1: uint256 = 0
    net1: int256 = 0
    lane1, net1 = outflow_limiter._lane_flow(
        lanes >> outflow_limiter.LANE_BITS,
        unsafe_div(inflow1, _LANE_UNIT1),
        unsafe_div(unsafe_add(outflow1, unsafe_sub(_LANE_UNIT1, 1)), _LANE_UNIT1),
        cap1,
        window,
        elapsed,
    )
    self._oracle_flows = (
        ema_oracle._pack(ema) | (lane0 | lane1 << outflow_limiter.LANE_BITS) << ema_oracle.PACKED_BITS
    )
    if outflow0 != 0 and net0 > convert(cap0, int256):
        self._trip(trip_reasons.POOL_OUTFLOW_TOKEN0, convert(net0, uint256) * _LANE_UNIT0)
    if outflow1 != 0 and net1 > convert(cap1, int256):
        self._trip(trip_reasons.POOL_OUTFLOW_TOKEN1, convert(net1, uint256) * _LANE_UNIT1)
    return ema


@internal
def _rescale_lanes(reserve0: uint256, reserve1: uint256, new0: uint256, new1: uint256):
    """
    @dev Rescale each outflow lane by its reserve's change `new / reserve`, after a deposit or
         withdrawal (the lanes are already relaxed to now).
    @notice The limiter measures swap outflow as a fraction of the reserve, and a proportional
            deposit or withdrawal changes neither that fraction nor the price. Without this, a
            flash deposit of 9x the pool, one swap at the band and the exit left a net outflow
            of 5 % of the big pool against a cap of 30 % of the small one: the next swap tripped.
    """
    state: uint256 = self._oracle_flows
    lanes: uint256 = state >> ema_oracle.PACKED_BITS
    lane0: uint256 = self._scaled_lane(lanes, reserve0, new0)
    lane1: uint256 = self._scaled_lane(lanes >> outflow_limiter.LANE_BITS, reserve1, new1)
    self._oracle_flows = state & _EMA_MASK | (lane0 | lane1 << outflow_limiter.LANE_BITS) << ema_oracle.PACKED_BITS


@internal
@pure
def _scaled_lane(lane: uint256, reserve: uint256, new_reserve: uint256) -> uint256:
    """
    @dev Return the lane code (`outflow_limiter` lane layout) with its net outflow times
         `new_reserve / reserve`, rounded towards zero and saturated at +-`MAX_LANE`.
    """
    code: uint256 = lane & _LANE_MASK
    if code == 0:
        return 0
    # |net| <= MAX_LANE < 2**87 and the reserves are below 2**112: no overflow.
    net: int256 = unsafe_sub(convert(code, int256), _LANE_OFFSET) * convert(new_reserve, int256) // convert(reserve, int256)
    limit: int256 = convert(outflow_limiter.MAX_LANE, int256)
    return convert(max(min(net, limit), -limit) + _LANE_OFFSET, uint256)


@internal
def _trip(reason: uint256, metric: uint256):
    """
    @dev Ask the breaker to halt the pool; never reverts (the measuring transaction stands) and logs whether it was accepted.
    """
    # Never revert: a withdrawal must go through even if the breaker refuses the trip.
    accepted: bool = raw_call(
        breaker.address,
        abi_encode(self, reason, metric, method_id=method_id("trip(address,uint256,uint256)")),
        revert_on_failure=False,
    )
    log BreakerTrip(reason=reason, metric=metric, accepted=accepted)


@internal
@view
def _benchmark_now(liquidity: uint256) -> uint256:
    """
    @dev Return the depth benchmark as of now, blending in `liquidity` (held since the last update).
    """
    word: uint256 = self._depth
    return ema_oracle._blend(word >> 64, liquidity, block.timestamp - (word & _U64), pool_params.benchmark_half_life)


@internal
def _update_depth(liquidity: uint256, new_liquidity: uint256) -> uint256:
    """
    @dev Blend the liquidity that held since the last update into the
         benchmark, then rescale the benchmark by `new_liquidity / liquidity`.
    @notice LP deposits and withdrawals change the benchmark in proportion,
            so it never remembers a whale's transient liquidity (issue 14.1):
            `can_resume` and the collapse rule see only liquidity lost
            otherwise (a token that rebased down, recognised by `sync`).
    @param liquidity sqrt(k) before the change (it held since the last update).
    @param new_liquidity sqrt(k) after the change.
    @return uint256 The benchmark before the rescale.
    """
    benchmark: uint256 = self._benchmark_now(liquidity)
    # Called after the first deposit only: liquidity > MINIMUM_LIQUIDITY.
    self._depth = benchmark * new_liquidity // liquidity << 64 | block.timestamp
    return benchmark


@internal
@view
def _protocol_fee_shares(reserve0: uint256, reserve1: uint256, supply: uint256) -> uint256:
    """
    @dev Return the protocol's LP shares accrued since `k_last` (Uniswap V2 `_mintFee`, 1/N of the growth of sqrt(k)).
    """
    # Uniswap V2's `_mintFee` with 1/N of the growth of sqrt(k): S*(rk - rkl) / ((N-1)*rk + rkl).
    divisor: uint256 = pool_params.protocol_fee_divisor
    k_last: uint256 = self.k_last
    if divisor == 0 or k_last == 0:
        return 0
    root_k: uint256 = isqrt(reserve0 * reserve1)
    root_k_last: uint256 = isqrt(k_last)
    if root_k <= root_k_last:
        return 0
    return supply * (root_k - root_k_last) // ((divisor - 1) * root_k + root_k_last)


@internal
def _mint_protocol_fee(reserve0: uint256, reserve1: uint256, supply: uint256) -> uint256:
    """
    @dev Mint the accrued protocol share as LP held by the pool; return the new supply.
    """
    # Crystallise the protocol's share as LP held by the pool; return the new supply.
    shares: uint256 = self._protocol_fee_shares(reserve0, reserve1, supply)
    if shares == 0:
        return supply
    erc20._mint(self, shares)
    return supply + shares
