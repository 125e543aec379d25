# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title The Pool's parameters: checks, one packed word for the swap path, the rest
@custom:contract-name pool_params
@license GNU Affero General Public License v3.0 only
@notice Every tunable of the Pool and its breaker rules, in one place. The
        importing contract `initializes: pool_params` and owns the checks
        through `_set`, the only writer.

        Layout. A swap reads one storage word, `swap_word`, that holds every
        parameter it needs (16-bit fields for basis points, 32-bit fields
        for seconds, at the `*_AT` bit offsets below): read a field with
        `word >> pool_params.IMPACT_BAND_AT & pool_params.U16` (or `U32` for
        the `*_SECONDS`/`*_WINDOW`/`*_HALF_LIFE` fields), or all of them
        with `_unpack`. The parameters only deposits, withdrawals, resumes
        and the rare velocity trip read are plain storage words.

        Usage:
        ```vy
        from lib import pool_params
        initializes: pool_params
        ...
        pool_params._set(pool_params.Parameters(fee_bps=30, ...))
        fee: uint256 = pool_params.swap_word & pool_params.U16
        ```

        Nothing here is external: the importing contract decides what it
        exposes (the Pool: `parameters()`, `fee_bps()`, `set_parameters`).
"""


BPS: constant(uint256) = 10_000
MAX_FEE_BPS: constant(uint256) = 1_000
U16: constant(uint256) = 2**16 - 1
U32: constant(uint256) = 2**32 - 1
# @dev Largest reference size (the Pool's reserves are below 2**112).
_MAX_REFERENCE: constant(uint256) = 2**112 - 1

# @dev Bit offsets of the fields of `swap_word`.
FEE_AT: constant(uint256) = 0
IMPACT_BAND_AT: constant(uint256) = 16
COOLDOWN_BAND_AT: constant(uint256) = 32
VELOCITY_AT: constant(uint256) = 48
THIN_DEPTH_AT: constant(uint256) = 64
OUTFLOW_CAP_AT: constant(uint256) = 80
ORACLE_CAP_AT: constant(uint256) = 96
COOLDOWN_SECONDS_AT: constant(uint256) = 112
OUTFLOW_WINDOW_AT: constant(uint256) = 144
ORACLE_HALF_LIFE_AT: constant(uint256) = 176


# @dev Every tunable of the pool and its breaker rules (the Pool's ABI type).
struct Parameters:
    fee_bps: uint256
    protocol_fee_divisor: uint256
    impact_band_bps: uint256
    cooldown_band_bps: uint256
    cooldown_seconds: uint256
    velocity_bps: uint256
    thin_depth_bps: uint256
    reference_size0: uint256
    reference_size1: uint256
    depth_collapse_bps: uint256
    resume_depth_bps: uint256
    benchmark_half_life: uint256
    outflow_cap_bps: uint256
    outflow_window: uint256
    oracle_half_life: uint256
    oracle_cap_bps: uint256


# @dev The parameters a swap reads, unpacked from `swap_word`.
struct SwapParameters:
    fee_bps: uint256
    impact_band_bps: uint256
    cooldown_band_bps: uint256
    velocity_bps: uint256
    thin_depth_bps: uint256
    outflow_cap_bps: uint256
    oracle_cap_bps: uint256
    cooldown_seconds: uint256
    outflow_window: uint256
    oracle_half_life: uint256


# @dev `SwapParameters` packed at the `*_AT` offsets (208 bits).
swap_word: uint256
# @dev The parameters off the swap path.
protocol_fee_divisor: uint256
depth_collapse_bps: uint256
resume_depth_bps: uint256
benchmark_half_life: uint256
reference_size0: uint256
reference_size1: uint256


# @dev Emitted with the new values every time `_set` stores them.
event ParametersSet:
    governor: indexed(address)
    parameters: Parameters


@internal
def _set(p: Parameters):
    """
    @dev Check and store every parameter; emits `ParametersSet`.
    @notice Reverts with "pool: bad <field>" on the first value out of
            range: bps fields within (0, 10000] (bands and the thin-depth
            threshold below 10000, the fee at most 1000), the cool-down band
            at most the impact band, the collapse below the resume depth,
            every duration in 32 bits (windows and half-lives above 0).
    @param p The new parameters.
    """
    if p.fee_bps > MAX_FEE_BPS:
        self._fail("pool: bad fee_bps")
    if not (p.protocol_fee_divisor == 0 or (p.protocol_fee_divisor >= 2 and p.protocol_fee_divisor <= 100)):
        self._fail("pool: bad protocol_fee_divisor")
    if not (p.impact_band_bps > 0 and p.impact_band_bps < BPS):
        self._fail("pool: bad impact_band_bps")
    if not (p.cooldown_band_bps > 0 and p.cooldown_band_bps <= p.impact_band_bps):
        self._fail("pool: bad cooldown_band_bps")
    if not (p.velocity_bps > 0 and p.velocity_bps <= BPS):
        self._fail("pool: bad velocity_bps")
    if not (p.thin_depth_bps > 0 and p.thin_depth_bps < BPS):
        self._fail("pool: bad thin_depth_bps")
    if not (p.depth_collapse_bps < p.resume_depth_bps and p.resume_depth_bps <= BPS):
        self._fail("pool: bad depth_collapse/resume_depth_bps")
    if not (p.outflow_cap_bps > 0 and p.outflow_cap_bps <= BPS):
        self._fail("pool: bad outflow_cap_bps")
    if not (p.oracle_cap_bps > 0 and p.oracle_cap_bps <= BPS):
        self._fail("pool: bad oracle_cap_bps")
    if p.cooldown_seconds > U32:
        self._fail("pool: bad cooldown_seconds")
    if not (p.outflow_window > 0 and p.outflow_window <= U32):
        self._fail("pool: bad outflow_window")
    if not (p.oracle_half_life > 0 and p.oracle_half_life <= U32):
        self._fail("pool: bad oracle_half_life")
    if not (p.benchmark_half_life > 0 and p.benchmark_half_life <= U32):
        self._fail("pool: bad benchmark_half_life")
    if not (p.reference_size0 <= _MAX_REFERENCE and p.reference_size1 <= _MAX_REFERENCE):
        self._fail("pool: bad reference_size")

    self.swap_word = (
        p.fee_bps << FEE_AT
        | p.impact_band_bps << IMPACT_BAND_AT
        | p.cooldown_band_bps << COOLDOWN_BAND_AT
        | p.velocity_bps << VELOCITY_AT
        | p.thin_depth_bps << THIN_DEPTH_AT
        | p.outflow_cap_bps << OUTFLOW_CAP_AT
        | p.oracle_cap_bps << ORACLE_CAP_AT
        | p.cooldown_seconds << COOLDOWN_SECONDS_AT
        | p.outflow_window << OUTFLOW_WINDOW_AT
        | p.oracle_half_life << ORACLE_HALF_LIFE_AT
    )
    self.protocol_fee_divisor = p.protocol_fee_divisor
    self.depth_collapse_bps = p.depth_collapse_bps
    self.resume_depth_bps = p.resume_depth_bps
    self.benchmark_half_life = p.benchmark_half_life
    self.reference_size0 = p.reference_size0
    self.reference_size1 = p.reference_size1
    log ParametersSet(governor=msg.sender, parameters=p)


@internal
@pure
def _fail(reason: String[64]):
    """
    @dev Revert with `reason`, like `assert` does: the checks share one copy of the revert code.
    """
    raise reason


@internal
@view
def _get() -> Parameters:
    """
    @dev Return every parameter as stored.
    @return Parameters The current parameters.
    """
    s: SwapParameters = self._unpack(self.swap_word)
    return Parameters(
        fee_bps=s.fee_bps,
        protocol_fee_divisor=self.protocol_fee_divisor,
        impact_band_bps=s.impact_band_bps,
        cooldown_band_bps=s.cooldown_band_bps,
        cooldown_seconds=s.cooldown_seconds,
        velocity_bps=s.velocity_bps,
        thin_depth_bps=s.thin_depth_bps,
        reference_size0=self.reference_size0,
        reference_size1=self.reference_size1,
        depth_collapse_bps=self.depth_collapse_bps,
        resume_depth_bps=self.resume_depth_bps,
        benchmark_half_life=self.benchmark_half_life,
        outflow_cap_bps=s.outflow_cap_bps,
        outflow_window=s.outflow_window,
        oracle_half_life=s.oracle_half_life,
        oracle_cap_bps=s.oracle_cap_bps,
    )


@internal
@pure
def _unpack(word: uint256) -> SwapParameters:
    """
    @dev Unpack the swap parameters from a `swap_word`.
    @param word The packed word.
    @return SwapParameters Its fields.
    """
    return SwapParameters(
        fee_bps=word >> FEE_AT & U16,
        impact_band_bps=word >> IMPACT_BAND_AT & U16,
        cooldown_band_bps=word >> COOLDOWN_BAND_AT & U16,
        velocity_bps=word >> VELOCITY_AT & U16,
        thin_depth_bps=word >> THIN_DEPTH_AT & U16,
        outflow_cap_bps=word >> OUTFLOW_CAP_AT & U16,
        oracle_cap_bps=word >> ORACLE_CAP_AT & U16,
        cooldown_seconds=word >> COOLDOWN_SECONDS_AT & U32,
        outflow_window=word >> OUTFLOW_WINDOW_AT & U32,
        oracle_half_life=word >> ORACLE_HALF_LIFE_AT & U32,
    )
