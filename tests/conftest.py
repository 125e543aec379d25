"""Fixtures shared by every suite: a real anvil devnet and the project's deploy script on it."""

from __future__ import annotations

import pytest
from web3 import Web3

from offchain.chain.deployment import Deployment
from offchain.chain.devnet import Anvil, run_deploy

DEVNET_CHAIN_ID = 31337


@pytest.fixture(scope="session")
def anvil():
    """A real anvil on a free 127.0.0.1 port for this test worker."""
    with Anvil() as node:
        yield node


@pytest.fixture(scope="session")
def w3(anvil) -> Web3:
    """web3.py over JSON-RPC to the devnet."""
    return Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 30}))


@pytest.fixture(scope="session")
def deployment(anvil, tmp_path_factory) -> Deployment:
    """Run `ape run deploy` against the devnet and load the file it wrote (one per test worker)."""
    out_dir = tmp_path_factory.mktemp("deployments")
    result = run_deploy(anvil.url, deployments_dir=out_dir)
    assert result.returncode == 0, f"deploy failed:\n{result.stdout}\n{result.stderr}"
    return Deployment.load(path=out_dir / f"{DEVNET_CHAIN_ID}.json")
