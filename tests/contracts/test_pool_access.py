"""Every privileged Pool function reverts for a stranger, enumerated from the ABI."""

import boa

# Functions anyone may call, and why; every other mutating function must refuse a stranger.
PUBLIC = {
    "swap(address,uint256,uint256,address,uint256)": "trading",
    "add_liquidity(uint256,uint256,uint256,address,uint256)": "providing liquidity",
    "remove_liquidity(uint256,uint256,uint256,address,uint256)": "exiting (always allowed)",
    "sweep_protocol_fee()": "pays the governed fee receivers only",
    "skim()": "pays the governed fee receivers only",
    "transfer(address,uint256)": "LP token",
    "approve(address,uint256)": "LP token",
    "transferFrom(address,address,uint256)": "LP token",
}
# Functions only the protocol's CircuitBreaker may call.
BREAKER_ONLY = {"on_halt_state(bool,uint256)": "the breaker pushes the pool's halt state"}


def test_every_privileged_pool_function_reverts_for_a_stranger(pool, stranger, revert_reasons):
    reasons = revert_reasons(pool, stranger, stranger)
    exempt = PUBLIC | BREAKER_ONLY
    privileged = {signature: reason for signature, reason in reasons.items() if signature not in exempt}
    assert {s.split("(")[0] for s in privileged} >= {"set_parameters", "set_fee_receiver", "sync"}
    assert set(privileged.values()) == {"pool: caller is not the governor"}
    assert {reasons[signature] for signature in BREAKER_ONLY} == {"pool: caller is not the breaker"}


def test_public_list_names_only_functions_that_exist(pool, revert_reasons, stranger):
    # A renamed public function must not leave a stale exemption behind.
    assert set(PUBLIC) | set(BREAKER_ONLY) <= set(revert_reasons(pool, stranger, stranger))


def test_governor_passes_every_privileged_call(pool, governor, insurance_fund, usdc):
    with boa.env.prank(governor):
        pool.set_parameters(pool.parameters())
        pool.set_fee_receiver(usdc, insurance_fund)
        pool.sync()
