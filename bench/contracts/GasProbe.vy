# pragma version ~=0.4.3
"""
@title Gas probe (benchmark only)
@notice Makes two calls in one transaction and returns the gas each used, so
        `bench/gas_pool.py` sees the first (cold: every account and slot
        untouched in the transaction) and the second (warm) cost of the same
        operation. It holds the tokens and LP shares it trades.
"""

from ethereum.ercs import IERC20


@external
def approve(token: address, spender: address):
    extcall IERC20(token).approve(spender, max_value(uint256))


@external
def twice(target: address, first: Bytes[512], second: Bytes[512]) -> (uint256, uint256):
    start: uint256 = msg.gas
    raw_call(target, first)
    middle: uint256 = msg.gas
    raw_call(target, second)
    return start - middle, middle - msg.gas
