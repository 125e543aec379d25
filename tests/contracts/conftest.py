"""Contract unit tests run on titanoboa's in-process EVM: fast, isolated per test."""

from pathlib import Path

import boa
import pytest

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


def deploy(name: str, *args, **kwargs):
    """Deploy `contracts/<name>.vy` on boa's EVM."""
    return boa.load(str(CONTRACTS / f"{name}.vy"), *args, **kwargs)


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
