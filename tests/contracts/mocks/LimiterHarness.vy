# pragma version ~=0.4.3
"""
@title Test-only wrapper around contracts/lib/outflow_limiter.vy
"""

from lib import outflow_limiter

initializes: outflow_limiter

exports: outflow_limiter.limits


@external
def set_limit(key: bytes32, cap: uint256, window: uint256):
    outflow_limiter._set_limit(key, cap, window)


@external
def record(key: bytes32, inflow: uint256, outflow: uint256, cap: uint256, window: uint256) -> bool:
    return outflow_limiter._record(key, inflow, outflow, cap, window)


@external
def record_stored(key: bytes32, inflow: uint256, outflow: uint256) -> bool:
    return outflow_limiter._record_stored(key, inflow, outflow)


@external
def reset(key: bytes32):
    outflow_limiter._reset(key)


@external
@view
def net_outflow(key: bytes32, cap: uint256, window: uint256) -> int256:
    return outflow_limiter._net_outflow(key, cap, window)


@external
@view
def headroom(key: bytes32, cap: uint256, window: uint256) -> uint256:
    return outflow_limiter._headroom(key, cap, window)


@external
def record_pair(
    key: bytes32,
    inflow0: uint256,
    outflow0: uint256,
    cap0: uint256,
    inflow1: uint256,
    outflow1: uint256,
    cap1: uint256,
    window: uint256,
) -> (bool, bool):
    return outflow_limiter._record_pair(key, inflow0, outflow0, cap0, inflow1, outflow1, cap1, window)


@external
@view
def pair_net_outflow(key: bytes32, cap0: uint256, cap1: uint256, window: uint256) -> (int256, int256):
    return outflow_limiter._pair_net_outflow(key, cap0, cap1, window)
