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
@pure
def lane_flow(
    lane: uint256, inflow: uint256, outflow: uint256, cap: uint256, window: uint256, elapsed: uint256
) -> (uint256, int256):
    return outflow_limiter._lane_flow(lane, inflow, outflow, cap, window, elapsed)


@external
@pure
def lane_net(lane: uint256, cap: uint256, window: uint256, elapsed: uint256) -> int256:
    return outflow_limiter._lane_net(lane, cap, window, elapsed)
