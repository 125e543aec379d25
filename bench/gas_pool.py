"""Figure: gas of the guarded Pool's swap, add and remove (cold and warm) against a bare V2 swap.

Runs on titanoboa's in-process EVM. A probe contract makes the same call twice in one
transaction: the first is "cold" (every account and storage slot untouched in the transaction,
as in any real single-swap transaction), the second "warm". The pool has been seeded and traded
in both directions before, so no slot goes from zero to non-zero. The bare pool
(``bench/contracts/BarePool.vy``) is Uniswap V2's swap alone: one reserve slot, the fee
formula, min-out, two transfers; no lock, deadline, breaker, oracle or rate limit.

``swap_ratio`` compares execution gas of the cold swaps (target <= 1.25); ``swap_tx_ratio``
adds the 21,000 intrinsic gas and calldata cost a user pays on both sides.

Each measured swap is the first of its block, so it pays for the per-block impact band (issue
14.2): one more storage word read (the block's first spot with the halt mirror) and written, about
5,000 gas of the ~6,000 the guarded swap gained over the per-swap band alone (57,838 -> 63,838
cold). A second swap in the same block reads the word and writes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import boa
import boa.interpret

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"
BENCH_CONTRACTS = Path(__file__).resolve().parent / "contracts"
USDE, USDC = 10**18, 10**6
SEED = 1_000_000
BLOCK_SECONDS = 12
FAR = 2**40  # a deadline that never bites
TARGET_RATIO = 1.25


def _calldata_gas(data: bytes) -> int:
    return sum(4 if b == 0 else 16 for b in data)


def _tx_gas(execution: int, data: bytes) -> int:
    return 21_000 + _calldata_gas(data) + execution


def _setup():
    boa.interpret.set_search_paths([str(CONTRACTS)])
    governor = boa.env.generate_address("governor")
    fee_receiver = boa.env.generate_address("insurance_fund")
    usde = boa.load(str(CONTRACTS / "DevToken.vy"), "Ethena USDe (devnet)", "USDE", 18)
    usdc = boa.load(str(CONTRACTS / "DevToken.vy"), "USD Coin (devnet)", "USDC", 6)
    breaker = boa.load(str(CONTRACTS / "CircuitBreaker.vy"), governor, governor, governor)
    pool = boa.load(
        str(CONTRACTS / "Pool.vy"),
        usde,
        usdc,
        breaker,
        fee_receiver,
        10_000 * USDE,
        10_000 * USDC,
        "Breakwater USDE/USDC LP",
        "BWLP",
    )
    with boa.env.prank(governor):
        breaker.protect(pool, 600)
    bare = boa.load(str(BENCH_CONTRACTS / "BarePool.vy"), usde, usdc)
    probe = boa.load(str(BENCH_CONTRACTS / "GasProbe.vy"))
    for token, unit in ((usde, USDE), (usdc, USDC)):
        token.mint(probe, 100 * SEED * unit)
        probe.approve(token, pool)
        probe.approve(token, bare)
    with boa.env.prank(probe.address):
        pool.add_liquidity(SEED * USDE, SEED * USDC, 0, probe, FAR)
        bare.seed(SEED * USDE, SEED * USDC)
        # Trade both ways once so every oracle, limiter and balance slot is already non-zero.
        for token, unit in ((usde, USDE), (usdc, USDC)):
            boa.env.time_travel(seconds=BLOCK_SECONDS)
            pool.swap(token, 100 * unit, 0, probe, FAR)
            bare.swap(token, 100 * unit, 0, probe)
    return usde, usdc, pool, bare, probe


def _new_transaction() -> None:
    # boa keeps one never-ending transaction: fix the "original" storage values (EIP-2200) and
    # forget warm accounts and slots (EIP-2929), as a real new transaction would.
    boa.env.evm.vm.state._account_db.lock_changes()


def _twice(probe, target, data: bytes) -> tuple[int, int]:
    boa.env.time_travel(seconds=BLOCK_SECONDS)
    _new_transaction()
    cold, warm = probe.twice(target, data, data)
    return cold, warm


def measure() -> dict:
    """Return the gas figures as a JSON-ready dict."""
    with boa.swap_env(boa.Env()):
        usde, usdc, pool, bare, probe = _setup()
        swap_data = pool.swap.prepare_calldata(usde.address, 1_000 * USDE, 0, probe.address, FAR)
        bare_data = bare.swap.prepare_calldata(usde.address, 1_000 * USDE, 0, probe.address)
        add_data = pool.add_liquidity.prepare_calldata(1_000 * USDE, 1_000 * USDC, 0, probe.address, FAR)
        lp = pool.balanceOf(probe) // 1_000
        remove_data = pool.remove_liquidity.prepare_calldata(lp, 0, 0, probe.address, FAR)

        swap_cold, swap_warm = _twice(probe, pool.address, swap_data)
        bare_cold, bare_warm = _twice(probe, bare.address, bare_data)
        add_cold, add_warm = _twice(probe, pool.address, add_data)
        remove_cold, remove_warm = _twice(probe, pool.address, remove_data)

    ratio = swap_cold / bare_cold
    tx_ratio = _tx_gas(swap_cold, swap_data) / _tx_gas(bare_cold, bare_data)
    return {
        "figure": "gas_pool",
        "unit": "gas (execution, measured by a probe contract; tx adds 21000 + calldata)",
        "swap": {"cold": swap_cold, "warm": swap_warm, "tx": _tx_gas(swap_cold, swap_data)},
        "add_liquidity": {"cold": add_cold, "warm": add_warm, "tx": _tx_gas(add_cold, add_data)},
        "remove_liquidity": {
            "cold": remove_cold,
            "warm": remove_warm,
            "tx": _tx_gas(remove_cold, remove_data),
        },
        "bare_swap": {"cold": bare_cold, "warm": bare_warm, "tx": _tx_gas(bare_cold, bare_data)},
        "swap_ratio": round(ratio, 3),
        "swap_tx_ratio": round(tx_ratio, 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio <= TARGET_RATIO,
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
