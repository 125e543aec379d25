# pragma version ~=0.4.3
"""
@title Bare constant-product pool (benchmark baseline only, never deployed)
@notice Uniswap V2's swap with nothing else: cached reserves in one slot,
        the same fee formula, a min-out check, and no lock, deadline,
        oracle, breaker, rate limit or LP token. `bench/gas_pool.py` compares
        the guarded `contracts/Pool.vy` against it.
"""

from ethereum.ercs import IERC20

token0: public(immutable(address))
token1: public(immutable(address))
_reserves: uint256


# @dev The same event as the guarded pool's: logs are not protections.
event Swap:
    sender: indexed(address)
    receiver: indexed(address)
    token_in: indexed(address)
    amount_in: uint256
    amount_out: uint256
    spot_price: uint256


@deploy
def __init__(token0_: address, token1_: address):
    token0 = token0_
    token1 = token1_


@external
def seed(amount0: uint256, amount1: uint256):
    extcall IERC20(token0).transferFrom(msg.sender, self, amount0)
    extcall IERC20(token1).transferFrom(msg.sender, self, amount1)
    self._reserves = amount0 | amount1 << 112


@external
def swap(token_in: address, amount_in: uint256, min_out: uint256, receiver: address) -> uint256:
    word: uint256 = self._reserves
    reserve0: uint256 = word & (2**112 - 1)
    reserve1: uint256 = word >> 112
    zero_in: bool = token_in == token0
    reserve_in: uint256 = reserve1
    reserve_out: uint256 = reserve0
    token_out: address = token0
    if zero_in:
        reserve_in = reserve0
        reserve_out = reserve1
        token_out = token1
    in_after_fee: uint256 = amount_in * 9970
    amount_out: uint256 = in_after_fee * reserve_out // (reserve_in * 10000 + in_after_fee)
    assert amount_out >= min_out
    if zero_in:
        self._reserves = (reserve0 + amount_in) | (reserve1 - amount_out) << 112
    else:
        self._reserves = (reserve0 - amount_out) | (reserve1 + amount_in) << 112
    extcall IERC20(token_in).transferFrom(msg.sender, self, amount_in)
    extcall IERC20(token_out).transfer(receiver, amount_out)
    log Swap(sender=msg.sender, receiver=receiver, token_in=token_in, amount_in=amount_in, amount_out=amount_out, spot_price=0)
    return amount_out
