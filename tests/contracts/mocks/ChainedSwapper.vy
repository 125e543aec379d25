# pragma version ~=0.4.3
"""
@title Test attacker: many swaps in one transaction
@notice Holds tokens and chains `times` swaps of `amount` through a pool in one call, the way a
        bundle or a router walks a price (issue 14.2). Optionally calls the breaker's `resume`
        first, to try to trade in the resume's own transaction.
"""

from ethereum.ercs import IERC20


interface IPool:
    def swap(token_in: address, amount_in: uint256, min_out: uint256, receiver: address, deadline: uint256) -> uint256: nonpayable


interface IBreaker:
    def resume(target: address): nonpayable


@external
def approve(token: IERC20, spender: address):
    extcall token.approve(spender, max_value(uint256))


@external
def run(pool: IPool, token_in: address, amount: uint256, times: uint256) -> uint256:
    total: uint256 = 0
    for _: uint256 in range(times, bound=128):
        total += extcall pool.swap(token_in, amount, 0, self, max_value(uint256))
    return total


@external
def resume_and_run(breaker: IBreaker, pool: IPool, token_in: address, amount: uint256, times: uint256) -> uint256:
    extcall breaker.resume(pool.address)
    total: uint256 = 0
    for _: uint256 in range(times, bound=128):
        total += extcall pool.swap(token_in, amount, 0, self, max_value(uint256))
    return total
