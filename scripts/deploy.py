"""Deploy the Breakwater protocol and write ``deployments/<chain_id>.json``.

``ape run deploy --network ethereum:local:foundry`` deploys everything on a devnet with test
account 0 as deployer and every role, and mints mock tokens. Off a devnet, ``--account`` names
an ape account alias, token addresses and role holders come from options, and nothing
devnet-only (faucet tokens, all roles on one key) happens.

Other programs find the protocol only through the deployment file and ``.build/__local__.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand

from offchain.chain.feeds import DEVNET_REPORTER_ACCOUNT, FEED_PREFIX
from offchain.chain.safe import (
    DEVNET_COLD_OWNERS,
    DEVNET_COLD_THRESHOLD,
    SAFE_VERSION,
    SafeError,
    artifact,
    initializer,
)
from offchain.paths import deployment_file

DEVNET_CHAIN_IDS = (31337, 1337)

# symbol -> (name, decimals): the devnet's mock assets. USDC settles; USDE is the pool's
# other side (the 10 Oct 2025 story); WETH backs the perp demo.
DEVNET_TOKENS = {
    "USDC": ("USD Coin (devnet)", 6),
    "USDE": ("Ethena USDe (devnet)", 18),
    "WETH": ("Wrapped Ether (devnet)", 18),
}


def _deployer(account_alias: str | None, devnet: bool, autosign: bool = False):
    if account_alias:
        account = accounts.load(account_alias)
        if autosign:
            # Unattended deploys (CI, a runbook): ape unlocks with APE_ACCOUNTS_<alias>_PASSPHRASE,
            # else it prompts once for the passphrase instead of once per transaction.
            account.set_autosign(True)
        return account
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


# The devnet pool: USDE/USDC seeded at 1.0 with this many whole tokens a side; thin depth is
# measured by the slippage of REFERENCE_SIZE whole tokens (1 % of the seed).
POOL_TOKENS = ("USDE", "USDC")
POOL_SEED = 1_000_000
POOL_REFERENCE_SIZE = 10_000
POOL_HALT_SECONDS = 600


def deploy_breaker(deployer, devnet: bool, guardian: str | None, sentinel: str | None):
    """Deploy the CircuitBreaker with the deployer as governor until `hand_over_roles`.

    On a devnet the deployer also holds the guardian and sentinel roles.
    """
    if devnet:
        guardian, sentinel = guardian or deployer.address, sentinel or deployer.address
    zero = "0x" + "00" * 20
    return deployer.deploy(project.CircuitBreaker, deployer.address, guardian or zero, sentinel or zero)


def deploy_pool(deployer, devnet: bool, breaker, tokens: dict[str, object], fee_receiver: str | None = None):
    """Deploy the USDE/USDC Pool, protect it, and seed it on a devnet."""
    token0, token1 = (tokens[s] for s in POOL_TOKENS)
    units0, units1 = (10 ** t.decimals() for t in (token0, token1))
    pool = deployer.deploy(
        project.Pool,
        token0.address,
        token1.address,
        breaker.address,
        # Both tokens' fees until `deploy_reserves` routes USDC to the InsuranceFund; the other
        # token's stay with this account (the governor off a devnet), which can move them.
        fee_receiver or deployer.address,
        POOL_REFERENCE_SIZE * units0,
        POOL_REFERENCE_SIZE * units1,
        "Breakwater USDE/USDC LP",
        "BWLP",
    )
    breaker.protect(pool.address, POOL_HALT_SECONDS, sender=deployer)
    if devnet:
        amount0, amount1 = POOL_SEED * units0, POOL_SEED * units1
        for token, amount in ((token0, amount0), (token1, amount1)):
            token.mint(deployer.address, amount, sender=deployer)
            token.approve(pool.address, amount, sender=deployer)
        deadline = chain.pending_timestamp + 3600
        pool.add_liquidity(amount0, amount1, 0, deployer.address, deadline, sender=deployer)
    return pool


# Reserves side: the fund's share decimals over USDC's (virtual shares against inflation attacks),
# Custody's outflow limits in whole tokens per rolling day, the devnet's first insurance stake.
FUND_ASSET = "USDC"
FUND_DECIMALS_OFFSET = 6
FUND_DEVNET_STAKE = 250_000
RESERVES_HALT_SECONDS = 3600
CUSTODY_USER_CAP = 100_000
CUSTODY_GLOBAL_CAP = 1_000_000
CUSTODY_WINDOW = 86400


def deploy_reserves(deployer, devnet: bool, breaker, tokens: dict[str, object], pool, poster: str | None):
    """Deploy ReserveRegistry, Custody and InsuranceFund, wire them, and stake the fund on a devnet.

    The deployer governs all three until `hand_over_roles`; `poster` (the exchange's chain poster;
    devnet: the deployer) attests, pays withdrawals and covers.
    """
    zero = "0x" + "00" * 20
    poster = poster or (deployer.address if devnet else zero)
    registry = deployer.deploy(project.ReserveRegistry, breaker.address, deployer.address, poster)
    custody = deployer.deploy(project.Custody, breaker.address, deployer.address, poster)
    fund = deployer.deploy(
        project.InsuranceFund,
        tokens[FUND_ASSET].address,
        breaker.address,
        deployer.address,
        FUND_DECIMALS_OFFSET,
    )
    for contract in (registry, custody, fund):
        breaker.protect(contract.address, RESERVES_HALT_SECONDS, sender=deployer)
    # check_solvency trips Custody, which is not the registry itself: it needs the sentinel role.
    breaker.grantRole(breaker.SENTINEL_ROLE(), registry.address, sender=deployer)
    registry.set_reserve_address(custody.address, True, sender=deployer)
    registry.set_halt_target(custody.address, sender=deployer)
    registry.set_custody(custody.address, sender=deployer)  # paid withdrawals reduce the liabilities
    custody.set_registry(registry.address, sender=deployer)
    for token in tokens.values():
        unit = 10 ** token.decimals()
        custody.set_token(
            token.address,
            True,
            CUSTODY_USER_CAP * unit,
            CUSTODY_GLOBAL_CAP * unit,
            CUSTODY_WINDOW,
            sender=deployer,
        )
    fund.set_custody(custody.address, True, sender=deployer)
    if poster != zero:
        fund.grantRole(fund.COVER_ROLE(), poster, sender=deployer)
    # The fund (ERC-4626 over USDC) takes only its asset; the pool refuses to route it another token.
    pool.set_fee_receiver(tokens[FUND_ASSET].address, fund.address, sender=deployer)
    if devnet:
        usdc = tokens[FUND_ASSET]
        stake = FUND_DEVNET_STAKE * 10 ** usdc.decimals()
        usdc.mint(deployer.address, stake, sender=deployer)
        usdc.approve(fund.address, stake, sender=deployer)
        fund.deposit(stake, deployer.address, sender=deployer)
    return {"ReserveRegistry": registry, "Custody": custody, "InsuranceFund": fund}


# The devnet's Chainlink-style USDE/USD feeds beside the pool (seed 004: an index over several
# venues), seeded at 1.00 and fed by the simulation's reporters (`offchain/sim/reporters.py`).
DEVNET_FEEDS = ("chainlink", "redstone")
FEED_DECIMALS = 8
FEED_DESCRIPTION = "USDE / USD"


def deploy_feeds(deployer, devnet: bool) -> dict[str, object]:
    """On a devnet, deploy and seed the USDE/USD feeds; the reporter account may submit (none elsewhere)."""
    if not devnet:
        return {}
    reporter = accounts.test_accounts[DEVNET_REPORTER_ACCOUNT].address
    feeds = {}
    for name in DEVNET_FEEDS:
        feed = deployer.deploy(
            project.PriceFeed, FEED_DECIMALS, FEED_DESCRIPTION, deployer.address, deployer.address
        )
        feed.submit(10**FEED_DECIMALS, sender=deployer)
        feed.grantRole(feed.REPORTER_ROLE(), reporter, sender=deployer)
        feeds[FEED_PREFIX + name] = feed
    return feeds


def deploy_anchor(deployer, devnet: bool, poster: str | None):
    """Deploy the JournalAnchor: the chain poster (devnet: the deployer) anchors the journal's head."""
    zero = "0x" + "00" * 20
    anchorer = poster or (deployer.address if devnet else zero)
    return deployer.deploy(project.JournalAnchor, deployer.address, anchorer)


def _safe_container(name: str):
    """An ape contract container of a Safe 1.4.1 contract from the npm package's compiled artifact."""
    from ape.contracts import ContractContainer
    from ethpm_types import ContractType

    built = artifact(name)
    return ContractContainer(
        ContractType.model_validate(
            {"contractName": name, "abi": built["abi"], "deploymentBytecode": {"bytecode": built["bytecode"]}}
        )
    )


def deploy_cold_wallet(
    deployer, devnet: bool, owners: tuple[str, ...], threshold: int | None, reserves
) -> dict | None:
    """Deploy the Safe contracts and create the cold wallet, an M-of-N Safe; register it as a reserve.

    Devnet default: anvil test accounts `DEVNET_COLD_OWNERS`, 2-of-3. Off a devnet without
    `--cold-owner`, no cold wallet is made. Custody may `to_cold` into it; the ReserveRegistry counts
    its balances as reserves.
    """
    if not owners:
        if not devnet:
            return None
        owners = tuple(accounts.test_accounts[i].address for i in DEVNET_COLD_OWNERS)
        threshold = threshold or DEVNET_COLD_THRESHOLD
    threshold = threshold or len(owners) // 2 + 1
    singleton = deployer.deploy(_safe_container("Safe"))
    factory = deployer.deploy(_safe_container("SafeProxyFactory"))
    handler = deployer.deploy(_safe_container("CompatibilityFallbackHandler"))
    init = initializer(list(owners), threshold, handler.address)
    safe = factory.createProxyWithNonce.call(singleton.address, init, 0)
    factory.createProxyWithNonce(singleton.address, init, 0, sender=deployer)
    reserves["Custody"].set_cold_wallet(safe, True, sender=deployer)
    reserves["ReserveRegistry"].set_reserve_address(safe, True, sender=deployer)
    return {
        "safe": str(safe),
        "version": SAFE_VERSION,
        "owners": [str(o) for o in owners],
        "threshold": threshold,
        "singleton": str(singleton.address),
        "proxy_factory": str(factory.address),
        "fallback_handler": str(handler.address),
    }


def hand_over_roles(deployer, breaker, governor: str | None) -> None:
    """Give the governor role to `governor` and drop the deployer's (no-op on a devnet)."""
    if not governor or governor.lower() == deployer.address.lower():
        return
    role = breaker.GOVERNOR_ROLE()
    breaker.grantRole(role, governor, sender=deployer)
    breaker.renounceRole(role, deployer.address, sender=deployer)


def write_deployment(
    chain_id: int, deployer, start_block: int, contracts: dict[str, object], cold_wallet: dict | None = None
) -> Path:
    """Write the deployment file other programs read (SPEC §4 format)."""
    path = deployment_file(chain_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "chain_id": chain_id,
        "deployer": str(deployer.address),
        "block": start_block,
        "contracts": {name: str(c.address) for name, c in contracts.items()},
    }
    if cold_wallet:
        doc["cold_wallet"] = cold_wallet
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
@click.option("--governor", default=None, help="governor address (required off a devnet; devnet: deployer)")
@click.option("--guardian", default=None, help="first guardian address (devnet: deployer)")
@click.option("--sentinel", default=None, help="first sentinel (keeper) address (devnet: deployer)")
@click.option(
    "--poster",
    default=None,
    help="chain poster: attester, custody operator, cover, journal anchor (devnet: deployer)",
)
@click.option(
    "--cold-owner",
    "cold_owners",
    multiple=True,
    help="an owner of the cold wallet Safe (devnet: 3 test keys)",
)
@click.option(
    "--cold-threshold", type=int, default=None, help="signatures a cold wallet transfer needs (devnet: 2)"
)
@click.option(
    "--autosign", is_flag=True, help="sign every deploy transaction without a prompt (keyfile accounts)"
)
def cli(
    ecosystem,
    network,
    provider,
    account_alias,
    tokens,
    governor,
    guardian,
    sentinel,
    poster,
    cold_owners,
    cold_threshold,
    autosign,
):
    """Deploy the Breakwater protocol and write deployments/<chain_id>.json."""
    chain_id = provider.chain_id
    devnet = chain_id in DEVNET_CHAIN_IDS
    deployer = _deployer(account_alias, devnet, autosign)
    if not devnet and not governor:
        raise click.UsageError("--governor is required off a devnet")
    if cold_owners:  # refuse a bad cold wallet before anything is deployed
        try:
            initializer(list(cold_owners), cold_threshold or len(cold_owners) // 2 + 1, "0x" + "00" * 20)
        except (SafeError, ValueError) as exc:
            raise click.BadParameter(str(exc), param_hint="--cold-owner/--cold-threshold") from None
    start_block = chain.blocks.head.number

    contracts: dict[str, object] = {}
    token_contracts = deploy_tokens(deployer, devnet, _parse_pairs(tokens, "--token"))

    contracts.update(token_contracts)
    breaker = contracts["CircuitBreaker"] = deploy_breaker(deployer, devnet, guardian, sentinel)
    contracts["Pool"] = deploy_pool(deployer, devnet, breaker, token_contracts, governor)
    reserves = deploy_reserves(deployer, devnet, breaker, token_contracts, contracts["Pool"], poster)
    contracts.update(reserves)
    feeds = deploy_feeds(deployer, devnet)
    contracts.update(feeds)
    contracts["JournalAnchor"] = deploy_anchor(deployer, devnet, poster)
    cold_wallet = deploy_cold_wallet(deployer, devnet, cold_owners, cold_threshold, reserves)

    # Last: the deployer stops being governor (protect every contract before this line).
    for contract in (*reserves.values(), *feeds.values(), contracts["JournalAnchor"]):
        hand_over_roles(deployer, contract, governor)
    hand_over_roles(deployer, breaker, governor)
    path = write_deployment(chain_id, deployer, start_block, contracts, cold_wallet)
    click.echo(f"Deployed on chain {chain_id} by {deployer.address} (from block {start_block}):")
    for name, c in contracts.items():
        click.echo(f"  {name:16} {c.address}")
    if cold_wallet:
        click.echo(
            f"  {'cold wallet':16} {cold_wallet['safe']} (Safe {cold_wallet['threshold']}-of-{len(cold_wallet['owners'])})"
        )
    click.echo(f"Wrote {path}")
