"""The Pool and CircuitBreaker as the deploy script leaves them on anvil, driven over JSON-RPC."""

import pytest
from web3 import Web3

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("anvil")]

DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # every role on a devnet, and the seed LP
TRADER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"  # account 3
ONE = 10**18


def _send(w3, fn, sender):
    receipt = w3.eth.wait_for_transaction_receipt(fn.transact({"from": sender}))
    assert receipt.status == 1
    return receipt


def _deadline(w3) -> int:
    return w3.eth.get_block("latest")["timestamp"] + 3600


def test_deploy_seeds_and_protects_the_pool(deployment, w3):
    pool = deployment.contract(w3, "Pool")
    breaker = deployment.contract(w3, "CircuitBreaker")
    assert pool.functions.token0().call() == deployment.contracts["USDE"]
    assert pool.functions.token1().call() == deployment.contracts["USDC"]
    reserve0, reserve1 = pool.functions.get_reserves().call()
    assert reserve0 >= 900_000 * 10**18 and reserve1 >= 900_000 * 10**6
    assert abs(pool.functions.spot_price().call() - ONE) < ONE // 20
    assert pool.functions.fee_bps().call() == 30
    protected, _, _, _, _, halt_seconds = breaker.functions.protection(pool.address).call()
    assert protected and halt_seconds == 600
    assert breaker.functions.mirrors(pool.address).call(), "the pool acknowledged the halt-state pushes"
    assert pool.functions.halt_state().call() == [True, False, 0]
    for role in ("GOVERNOR_ROLE", "GUARDIAN_ROLE", "SENTINEL_ROLE"):
        assert breaker.functions.hasRole(getattr(breaker.functions, role)().call(), DEPLOYER).call()


def test_trader_swaps_guardian_pauses_lp_exits_governor_resumes(deployment, w3):
    pool = deployment.contract(w3, "Pool")
    breaker = deployment.contract(w3, "CircuitBreaker")
    usde, usdc = deployment.contract(w3, "USDE"), deployment.contract(w3, "USDC")
    sell = 1_000 * ONE
    _send(w3, usde.functions.mint(TRADER, 10 * sell), TRADER)
    _send(w3, usde.functions.approve(pool.address, 10 * sell), TRADER)

    quote = pool.functions.get_amount_out(usde.address, sell).call()
    before = usdc.functions.balanceOf(TRADER).call()
    _send(w3, pool.functions.swap(usde.address, sell, quote, TRADER, _deadline(w3)), TRADER)
    assert usdc.functions.balanceOf(TRADER).call() == before + quote

    guardian = governor = lp = DEPLOYER
    _send(w3, breaker.functions.pause(pool.address), guardian)
    try:
        assert breaker.functions.is_halted(pool.address).call()
        assert pool.functions.halt_state().call()[:2] == [True, True], "the breaker pushed the pause"
        with pytest.raises(Exception, match="halted by the circuit breaker"):
            pool.functions.swap(usde.address, sell, 0, TRADER, _deadline(w3)).transact({"from": TRADER})

        shares = pool.functions.balanceOf(lp).call() // 100
        usde_before = usde.functions.balanceOf(lp).call()
        _send(w3, pool.functions.remove_liquidity(shares, 1, 1, lp, _deadline(w3)), lp)
        assert usde.functions.balanceOf(lp).call() > usde_before
    finally:
        _send(w3, breaker.functions.resume(pool.address), governor)

    assert not breaker.functions.is_halted(pool.address).call()
    halted, resumed_at = breaker.functions.halt_state(pool.address).call()
    assert not halted and resumed_at > 0
    assert pool.functions.halt_state().call() == [True, False, resumed_at]
    # No swap in the resume's block (issue 14.2): the resumer cannot trade against a price it just
    # reopened. From the next block on, in the cool-down, a small swap passes the 1 % band.
    with pytest.raises(Exception, match="resumed in this block, swaps open in the next"):
        pool.functions.swap(usde.address, sell, 0, TRADER, _deadline(w3)).call({"from": TRADER})
    w3.provider.make_request("evm_mine", [])
    _send(w3, pool.functions.swap(usde.address, sell, 0, TRADER, _deadline(w3)), TRADER)


def test_swap_past_its_deadline_is_rejected_over_json_rpc(deployment, w3):
    pool = deployment.contract(w3, "Pool")
    usde = deployment.contract(w3, "USDE")
    _send(w3, usde.functions.mint(TRADER, ONE), TRADER)
    _send(w3, usde.functions.approve(pool.address, ONE), TRADER)
    past = w3.eth.get_block("latest")["timestamp"] - 1
    with pytest.raises(Exception, match="deadline passed"):
        pool.functions.swap(usde.address, ONE, 0, TRADER, past).transact({"from": TRADER})
    assert Web3.is_checksum_address(pool.address)
