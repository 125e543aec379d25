# pragma version ~=0.4.3
"""
@title Test-only protected contract
@notice Trips the breaker for itself and answers `can_resume()` with a flag
        the test sets, so the breaker's rules can be tested apart from the Pool.
"""

from interfaces import ICircuitBreaker

breaker: public(immutable(ICircuitBreaker))
ready: public(bool)


@deploy
def __init__(breaker_: ICircuitBreaker):
    breaker = breaker_


@external
def set_ready(ready_: bool):
    self.ready = ready_


@external
def trip_self(reason: uint256, metric: uint256):
    extcall breaker.trip(self, reason, metric)


@external
@view
def can_resume() -> bool:
    return self.ready
