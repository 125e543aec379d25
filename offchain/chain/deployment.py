"""Find the deployed protocol: `deployments/<chain_id>.json` plus ABIs from ape's build manifest."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from web3 import Web3
from web3.contract import Contract

from offchain.paths import BUILD_MANIFEST, deployment_file

# Deployment names that are not contract type names: every token is a DevToken on a devnet and
# speaks plain ERC-20 elsewhere.
TOKEN_CONTRACT_TYPE = "DevToken"


def load_abis(manifest: Path = BUILD_MANIFEST) -> dict[str, list]:
    """Return every contract type's ABI in ape's build manifest (`ape compile` writes it).

    Raise `OSError` when there is no manifest and `ValueError` when it is not JSON.
    """
    build = json.loads(Path(manifest).read_text())
    return {name: ct["abi"] for name, ct in build.get("contractTypes", {}).items()}


@dataclass(frozen=True)
class Deployment:
    """One deployment of the protocol on one chain."""

    chain_id: int
    deployer: str
    block: int
    contracts: dict[str, str]
    abis: dict[str, list]

    @classmethod
    def load(
        cls, chain_id: int | None = None, path: Path | None = None, manifest: Path = BUILD_MANIFEST
    ) -> Deployment:
        """Load `path` (or `deployments/<chain_id>.json`) and the ABIs of the build manifest."""
        if path is None:
            if chain_id is None:
                raise ValueError("give a chain id or a deployment file")
            path = deployment_file(chain_id)
        doc = json.loads(Path(path).read_text())
        return cls(doc["chain_id"], doc["deployer"], doc["block"], doc["contracts"], load_abis(manifest))

    def abi_for(self, name: str) -> list:
        """Return the ABI of the deployed contract called `name` (a token symbol or a contract type)."""
        if name in self.abis:
            return self.abis[name]
        kind, sep, _ = name.partition(":")  # `Type:instance`, e.g. PriceFeed:chainlink
        if sep and kind in self.abis:
            return self.abis[kind]
        if name in self.contracts and TOKEN_CONTRACT_TYPE in self.abis:
            return self.abis[TOKEN_CONTRACT_TYPE]
        raise KeyError(f"no ABI for {name!r}: run `ape compile`")

    def contract(self, w3: Web3, name: str) -> Contract:
        """Return a web3 contract bound to the deployed `name`."""
        if name not in self.contracts:
            raise KeyError(f"{name!r} is not in the deployment (have: {', '.join(self.contracts)})")
        return w3.eth.contract(address=Web3.to_checksum_address(self.contracts[name]), abi=self.abi_for(name))
