# pragma version ~=0.4.3
"""
@title Test-only wrapper around contracts/lib/ema_oracle.vy
"""

from lib import ema_oracle


@external
@pure
def next(ema: uint256, spot: uint256, elapsed: uint256, cap_bps: uint256, half_life: uint256) -> uint256:
    return ema_oracle._next(ema, spot, elapsed, cap_bps, half_life)


@external
@pure
def pack(ema: uint256) -> uint256:
    return ema_oracle._pack(ema)


@external
@pure
def unpack(code: uint256) -> uint256:
    return ema_oracle._unpack(code)
