"""Contract unit tests run on titanoboa's in-process EVM: fast, isolated per test."""

from functools import cache
from pathlib import Path

import boa
import pytest

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
# `from lib import ...` and `from interfaces import ...` resolve under contracts/, as in ape.
boa.interpret.set_search_paths([str(CONTRACTS)])


@cache
def compiled(path: str):
    """Compile a contract once per test process (compiling the Pool takes seconds)."""
    return boa.load_partial(path)


def deploy(name: str, *args, **kwargs):
    """Deploy `contracts/<name>.vy` on boa's EVM."""
    return compiled(str(CONTRACTS / f"{name}.vy")).deploy(*args, **kwargs)


@pytest.fixture(autouse=True)
def isolated_evm():
    """Every test starts from the same EVM state and leaves nothing behind."""
    with boa.env.anchor():
        yield


@pytest.fixture(scope="module")
def deployer():
    return boa.env.generate_address("deployer")


@pytest.fixture(scope="module")
def usdc(deployer):
    with boa.env.prank(deployer):
        return deploy("DevToken", "USD Coin (devnet)", "USDC", 6)


@pytest.fixture(scope="module")
def governor():
    return boa.env.generate_address("governor")


@pytest.fixture(scope="module")
def guardian():
    return boa.env.generate_address("guardian")


@pytest.fixture(scope="module")
def sentinel():
    return boa.env.generate_address("sentinel")


@pytest.fixture(scope="module")
def stranger():
    return boa.env.generate_address("stranger")


@pytest.fixture(scope="module")
def breaker(deployer, governor, guardian, sentinel):
    """The protocol's CircuitBreaker with one holder per role (the deployer keeps none)."""
    with boa.env.prank(deployer):
        return deploy("CircuitBreaker", governor, guardian, sentinel)


def _dummy_arg(abi_type: str, address_arg: str):
    # Plausible arguments, so that only the access check can make the call revert.
    if abi_type == "address":
        return address_arg
    if abi_type == "bool":
        return True
    if abi_type.startswith("bytes"):
        return b"\x01" * 32 if abi_type == "bytes32" else b"\x01"
    if abi_type.startswith(("uint", "int")):
        return 1
    raise NotImplementedError(f"no dummy value for {abi_type}")


def _abi_dummy(abi_type: str, address_arg: str, components: list | None = None):
    # Like `_dummy_arg`, also for arrays, strings and structs (one plausible element each).
    if abi_type.endswith("[]"):
        return [_abi_dummy(abi_type[:-2], address_arg, components)]
    if abi_type == "tuple":
        return tuple(_abi_dummy(c["type"], address_arg, c.get("components")) for c in components)
    if abi_type == "string":
        return "x"
    return _dummy_arg(abi_type, address_arg)


@pytest.fixture
def revert_reasons():
    """Return a function that calls each non-view ABI function (every overload) of a contract as `caller`.

    It returns {signature: revert reason, or None if the call went through}, so a test can require
    the role error from every function not on its list of public ones.
    """

    def call_all(contract, caller, address_arg) -> dict[str, str | None]:
        results = {}
        for item in contract.abi:
            if item.get("type") != "function" or item["stateMutability"] in ("view", "pure"):
                continue
            signature = f"{item['name']}({','.join(i['type'] for i in item['inputs'])})"
            args = [_abi_dummy(i["type"], address_arg, i.get("components")) for i in item["inputs"]]
            with boa.env.anchor(), boa.env.prank(caller):
                try:
                    getattr(contract, item["name"])(*args)
                    results[signature] = None
                except boa.BoaError as exc:
                    results[signature] = exc.stack_trace.last_frame.pretty_vm_reason
        return results

    return call_all


# --- Pool (issue 3): a USDE(18)/USDC(6) pool protected by `breaker`, seeded 1M a side at 1.0.

USDE_UNIT, USDC_UNIT = 10**18, 10**6
POOL_SEED = 1_000_000
FAR_DEADLINE = 2**40


@pytest.fixture(scope="module")
def usde(deployer):
    with boa.env.prank(deployer):
        return deploy("DevToken", "Ethena USDe (devnet)", "USDE", 18)


@pytest.fixture(scope="module")
def insurance_fund():
    """The pool's fee receiver (the InsuranceFund's address in production)."""
    return boa.env.generate_address("insurance_fund")


@pytest.fixture(scope="module")
def fund():
    """Return `fund(account, pool, token, amount)`: mint `amount` to `account` and approve `pool`."""

    def _fund(account, pool, token, amount):
        token.mint(account, amount)
        with boa.env.prank(account):
            token.approve(pool, 2**256 - 1)

    return _fund


@pytest.fixture(scope="session")
def pool_type():
    """The compiled Pool, to deploy more pools (or to try constructor arguments)."""
    return compiled(str(CONTRACTS / "Pool.vy"))


@pytest.fixture(scope="module")
def empty_pool(deployer, breaker, governor, usde, usdc, insurance_fund):
    """A protected pool with no liquidity yet; reference sizes 10,000 tokens a side."""
    with boa.env.prank(deployer):
        pool = deploy(
            "Pool",
            usde,
            usdc,
            breaker,
            insurance_fund,
            10_000 * USDE_UNIT,
            10_000 * USDC_UNIT,
            "Breakwater USDE/USDC LP",
            "BWLP",
        )
    with boa.env.prank(governor):
        breaker.protect(pool, 600)
    return pool


@pytest.fixture(scope="module")
def liquidity_provider(empty_pool, usde, usdc, fund):
    """The seed LP: deposited POOL_SEED of each token at 1.0."""
    lp = boa.env.generate_address("liquidity_provider")
    fund(lp, empty_pool, usde, 10 * POOL_SEED * USDE_UNIT)
    fund(lp, empty_pool, usdc, 10 * POOL_SEED * USDC_UNIT)
    with boa.env.prank(lp):
        empty_pool.add_liquidity(POOL_SEED * USDE_UNIT, POOL_SEED * USDC_UNIT, 0, lp, FAR_DEADLINE)
    return lp


@pytest.fixture(scope="module")
def pool(empty_pool, liquidity_provider):
    """The seeded pool (1M USDE / 1M USDC)."""
    return empty_pool


@pytest.fixture(scope="module")
def trader(pool, usde, usdc, fund):
    """A trader holding 1M of each token, approved for the pool."""
    account = boa.env.generate_address("trader")
    fund(account, pool, usde, POOL_SEED * USDE_UNIT)
    fund(account, pool, usdc, POOL_SEED * USDC_UNIT)
    return account
