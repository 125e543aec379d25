"""Fixtures shared by every suite: a real anvil devnet and the project's deploy script on it, and a
PostgreSQL server."""

from __future__ import annotations

import os

import pytest
from pg_cluster import NO_PG_ENV, SERVER_GLOB, ThrowawayCluster, server_bin_dir
from web3 import Web3

from offchain.chain.deployment import Deployment
from offchain.chain.devnet import Anvil, run_deploy

DEVNET_CHAIN_ID = 31337
PG_URL_ENV = "BREAKWATER_TEST_PG_URL"


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


@pytest.fixture(scope="session")
def pg_url():
    """A PostgreSQL server URL for this test worker: $BREAKWATER_TEST_PG_URL if set, else a throwaway
    cluster of the installed server (see pg_cluster.py); skipped only when no server is installed."""
    if os.environ.get(PG_URL_ENV):
        yield os.environ[PG_URL_ENV]
        return
    bin_dir = server_bin_dir()
    if bin_dir is None:
        hidden = f" ({NO_PG_ENV} is set)" if os.environ.get(NO_PG_ENV) else ""
        pytest.skip(
            f"PostgreSQL tests need a server: none under {SERVER_GLOB}{hidden}; run `make install` as root"
            f" (Debian's postgresql) or set {PG_URL_ENV}=postgresql://..."
        )
    with ThrowawayCluster(bin_dir) as cluster:
        yield cluster.url
