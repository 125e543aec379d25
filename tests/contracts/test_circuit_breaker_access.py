"""Every privileged CircuitBreaker function reverts for a stranger, enumerated from the ABI."""

from pathlib import Path

import boa

MOCKS = Path(__file__).resolve().parent / "mocks"

# Functions anyone may call, and why; every other mutating function must refuse a stranger.
PUBLIC = {
    "resume(address)": "permissionless after the halt window when the target agrees (tested apart)",
    "renounceRole(bytes32,address)": "only ever removes the caller's own role",
}
ACCESS_ERRORS = {"access_control: account is missing role", "breaker: caller is not the target or a sentinel"}


def test_every_privileged_breaker_function_reverts_for_a_stranger(
    breaker, governor, stranger, revert_reasons
):
    target = boa.load(str(MOCKS / "ProtectedTarget.vy"), breaker.address)
    with boa.env.prank(governor):
        breaker.protect(target, 600)
    target.trip_self(10, 1)

    reasons = revert_reasons(breaker, stranger, target.address)

    privileged = {signature: reason for signature, reason in reasons.items() if signature not in PUBLIC}
    assert {s.split("(")[0] for s in privileged} >= {
        "protect",
        "trip",
        "pause",
        "pause_all",
        "unpause_all",
        "grantRole",
        "revokeRole",
        "set_role_admin",
    }
    assert set(privileged.values()) <= ACCESS_ERRORS, privileged
    assert set(PUBLIC) <= set(reasons), "a renamed public function must not leave a stale exemption"
    assert reasons["resume(address)"] == "breaker: halt window not over"


def test_governor_passes_the_same_calls_that_strangers_fail(breaker, governor, guardian, sentinel):
    # The access test above is only meaningful if the calls succeed for the right role.
    target = boa.load(str(MOCKS / "ProtectedTarget.vy"), breaker.address)
    with boa.env.prank(governor):
        breaker.protect(target, 600)
    with boa.env.prank(sentinel):
        breaker.trip(target, 1000, 1)
    with boa.env.prank(governor):
        breaker.resume(target)
    with boa.env.prank(guardian):
        breaker.pause(target)
        breaker.pause_all()
    with boa.env.prank(governor):
        breaker.unpause_all()
    assert not breaker.is_halted(target)
