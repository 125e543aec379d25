"""What `ape console` puts in its namespace: every deployed contract by name, and devnet helpers."""

from __future__ import annotations

import json
import os
from pathlib import Path

DEPLOYMENTS_DIR = Path(os.environ.get("BREAKWATER_DEPLOYMENTS_DIR") or Path(__file__).parent / "deployments")


def ape_init_extras(project, chain, accounts):
    """Bind each contract of `deployments/<chain_id>.json` to its name, plus `faucet` and `deployment`."""
    path = DEPLOYMENTS_DIR / f"{chain.chain_id}.json"
    if not path.exists():
        print(f"no {path}: run `ape run deploy --network ethereum:local:foundry` first")
        return {}
    deployment = json.loads(path.read_text())
    names: dict[str, object] = {"deployment": deployment}
    for name, address in deployment["contracts"].items():
        contract_type = getattr(project, name, None) or project.DevToken
        names[name] = contract_type.at(address)

    def faucet(address, amount_whole: int = 10_000):
        """Mint `amount_whole` whole units of every devnet token to `address`."""
        for symbol in ("USDC", "USDE", "WETH"):
            token = names.get(symbol)
            if token is not None:
                token.mint(address, amount_whole * 10 ** token.decimals(), sender=accounts.test_accounts[0])
        return {s: names[s].balanceOf(address) for s in ("USDC", "USDE", "WETH") if s in names}

    names["faucet"] = faucet
    return names
