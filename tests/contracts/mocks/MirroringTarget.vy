# pragma version ~=0.4.3
"""
@title Test-only protected contract that mirrors its halt state
@notice Acknowledges the breaker's `IHaltListener` offer and records every
        push; the test can make it refuse pushes, to show that a refused push
        reverts the breaker's transition.
"""

from interfaces import IHaltListener

implements: IHaltListener

breaker: public(immutable(address))
halted: public(bool)
resumed_at: public(uint256)
pushes: public(uint256)
refuse: public(bool)


@deploy
def __init__(breaker_: address):
    breaker = breaker_


@external
def set_refuse(refuse_: bool):
    self.refuse = refuse_


@external
def on_halt_state(halted_: bool, resumed_at_: uint256) -> bytes4:
    assert msg.sender == breaker, "mirror: caller is not the breaker"
    assert not self.refuse, "mirror: push refused"
    self.halted = halted_
    self.resumed_at = resumed_at_
    self.pushes += 1
    return method_id("on_halt_state(bool,uint256)", output_type=bytes4)
