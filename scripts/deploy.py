"""Deploy the Breakwater protocol and write ``deployments/<chain_id>.json``.

``ape run deploy --network ethereum:local:foundry`` deploys everything on a devnet with test
account 0 as deployer and every role, and mints mock tokens. Off a devnet, ``--account`` names
an ape account alias, token addresses and role holders come from options, and nothing
devnet-only (faucet tokens, all roles on one key) happens.

Other programs find the protocol only through the deployment file and ``.build/__local__.json``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

DEVNET_CHAIN_IDS = (31337, 1337)
# BREAKWATER_DEPLOYMENTS_DIR lets tests and parallel devnets keep their files apart.
DEPLOYMENTS_DIR = Path(
    os.environ.get("BREAKWATER_DEPLOYMENTS_DIR") or Path(__file__).resolve().parent.parent / "deployments"
)

# symbol -> (name, decimals): the devnet's mock assets. USDC settles; USDE is the pool's
# other side (the 10 Oct 2025 story); WETH backs the perp demo.
DEVNET_TOKENS = {
    "USDC": ("USD Coin (devnet)", 6),
    "USDE": ("Ethena USDe (devnet)", 18),
    "WETH": ("Wrapped Ether (devnet)", 18),
}


def _deployer(account_alias: str | None, devnet: bool):
    if account_alias:
        return accounts.load(account_alias)
    if not devnet:
        raise click.UsageError("--account is required off a devnet")
    return accounts.test_accounts[0]


def deploy_tokens(deployer, devnet: bool, token_addresses: dict[str, str]) -> dict[str, object]:
    """Deploy faucet tokens on a devnet; off a devnet, bind the given addresses."""
    if not devnet:
        missing = [s for s in DEVNET_TOKENS if s not in token_addresses]
        if missing:
            raise click.UsageError(f"--token SYMBOL=ADDRESS needed off a devnet for: {', '.join(missing)}")
        return {s: project.DevToken.at(a) for s, a in token_addresses.items()}
    return {
        symbol: deployer.deploy(project.DevToken, name, symbol, decimals)
        for symbol, (name, decimals) in DEVNET_TOKENS.items()
    }


def write_deployment(chain_id: int, deployer, start_block: int, contracts: dict[str, object]) -> Path:
    """Write the deployment file other programs read (SPEC §4 format)."""
    DEPLOYMENTS_DIR.mkdir(exist_ok=True)
    path = DEPLOYMENTS_DIR / f"{chain_id}.json"
    doc = {
        "chain_id": chain_id,
        "deployer": str(deployer.address),
        "block": start_block,
        "contracts": {name: str(c.address) for name, c in contracts.items()},
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    tmp.replace(path)
    return path


def _parse_pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for v in values:
        key, sep, addr = v.partition("=")
        if not sep or not addr.startswith("0x"):
            raise click.BadParameter(f"{what} must look like NAME=0xADDRESS, got {v!r}")
        out[key.upper()] = addr
    return out


@click.command(cls=ConnectedProviderCommand)
@click.option("--account", "account_alias", default=None, help="ape account alias (required off a devnet)")
@click.option("--token", "tokens", multiple=True, help="SYMBOL=0xADDRESS of an existing token (off a devnet)")
def cli(ecosystem, network, provider, account_alias, tokens):
    """Deploy the Breakwater protocol and write deployments/<chain_id>.json."""
    chain_id = provider.chain_id
    devnet = chain_id in DEVNET_CHAIN_IDS
    deployer = _deployer(account_alias, devnet)
    start_block = chain.blocks.head.number

    contracts: dict[str, object] = {}
    token_contracts = deploy_tokens(deployer, devnet, _parse_pairs(tokens, "--token"))

    contracts.update(token_contracts)
    path = write_deployment(chain_id, deployer, start_block, contracts)
    click.echo(f"Deployed on chain {chain_id} by {deployer.address} (from block {start_block}):")
    for name, c in contracts.items():
        click.echo(f"  {name:16} {c.address}")
    click.echo(f"Wrote {path}")
