"""What `ape console` puts in its namespace: every deployed contract by name, devnet helpers, the engine.

`engine` is the API client of the running daemon (`BREAKWATER_API`, default http://127.0.0.1:8000):
`engine.markets()`, `engine.book("USDE-USDC")` (public market data); `engine_client(key)` signs
orders and reads its own account, which is private (`engine_client(key).account()`, `.open_orders()`,
`.withdrawals()`: each read carries a signed read session); `status()` prints the protocol on-chain
and the engine's markets.
"""

from __future__ import annotations

import json
import os

from offchain.paths import deployment_file

# anvil test account the console's faucet sends from: not 0 (the daemon's key, which holds every
# role) nor 9 (the devnet price reporter), so it never competes with a running demo for nonces
FAUCET_ACCOUNT = 8


def ape_init_extras(project, chain, accounts):
    """Bind each contract of `deployments/<chain_id>.json` to its name, plus `faucet` and `deployment`."""
    path = deployment_file(chain.chain_id)
    if not path.exists():
        print(f"no {path}: run `ape run deploy --network ethereum:local:foundry` first")
        return {}
    deployment = json.loads(path.read_text())
    names: dict[str, object] = {"deployment": deployment}
    for name, address in deployment["contracts"].items():
        contract_type = getattr(project, name, None) or project.DevToken
        names[name] = contract_type.at(address)

    def faucet(address, amount_whole: int = 10_000):
        """Mint `amount_whole` whole units of every devnet token to `address`.

        Sent from anvil's test account FAUCET_ACCOUNT, which nothing else uses: from account 0 (the
        daemon's key) the faucet raced the running daemon for nonces ("replacement transaction
        underpriced"). `DevToken.mint` is open to anyone on the devnet, so no role is needed.
        """
        sender = accounts.test_accounts[FAUCET_ACCOUNT]
        for symbol in ("USDC", "USDE", "WETH"):
            token = names.get(symbol)
            if token is not None:
                token.mint(address, amount_whole * 10 ** token.decimals(), sender=sender)
        return {s: names[s].balanceOf(address) for s in ("USDC", "USDE", "WETH") if s in names}

    names["faucet"] = faucet
    names.update(_engine_extras(names, chain))
    return names


def _engine_extras(names: dict, chain) -> dict:
    """`engine` (the API client: public reads), `engine_client(key)` (signed orders and the key's own
    private account reads) and `status()`."""
    from offchain.api.client import Client
    from offchain.core.messages.codec import format_units

    api_url = os.environ.get("BREAKWATER_API", "http://127.0.0.1:8000")
    engine = Client(api_url)

    def engine_client(key):
        """A signing API client for a private key or an ape test account (`accounts.test_accounts[3]`):
        orders, and reads of that account (`.account()`, `.open_orders()`, `.withdrawals()`)."""
        return Client(api_url, getattr(key, "private_key", key))

    def status():
        """Print the protocol on-chain (pool, breaker, reserves, fund) and the engine's markets."""
        pool, breaker = names.get("Pool"), names.get("CircuitBreaker")
        registry, fund, custody = (
            names.get("ReserveRegistry"),
            names.get("InsuranceFund"),
            names.get("Custody"),
        )
        print(f"chain {chain.chain_id} at block {chain.blocks.head.number}")
        if breaker is not None:
            print(f"  breaker: all paused={breaker.all_paused()}", end="")
            for name, target in (("Pool", pool), ("Custody", custody)):
                if target is not None:
                    print(f", {name} halted={breaker.is_halted(target.address)}", end="")
            print()
        if pool is not None:
            print(
                f"  pool: spot {format_units(pool.spot_price(), 18)} oracle {format_units(pool.price_oracle(), 18)}"
                f" reserves {pool.get_reserves()}"
            )
        if registry is not None:
            print(f"  reserves: epoch {registry.latest_epoch()} fresh={registry.is_fresh()}")
            for symbol in ("USDC", "USDE", "WETH"):
                token = names.get(symbol)
                if token is not None:
                    ratio = registry.reserve_ratio_bps(token.address)
                    shown = "no liabilities" if ratio == 2**256 - 1 else f"{format_units(ratio, 2)} %"
                    print(f"    {symbol}: reserves {registry.reserves(token.address)} ratio {shown}")
        if fund is not None:
            print(f"  insurance fund: {fund.totalAssets()} assets, cover headroom {fund.cover_headroom()}")
        try:
            engine_status = engine.status()
        except Exception as exc:  # the daemon is not running: say so, do not crash
            print(
                f"  engine: no API at {api_url} ({exc.__class__.__name__}); start `python -m offchain daemon`"
            )
            return None
        for symbol, market in engine_status.get("markets", {}).items():
            print(
                f"  engine {symbol}: {market['state']} mid {market.get('mid')} index {market.get('index_price')}"
                f" last {market.get('last_price')}"
            )
        for alert in engine_status.get("alerts", [])[-5:]:
            print(f"  alert {alert.get('kind')}: {alert.get('message')}")
        return engine_status

    return {"engine": engine, "engine_client": engine_client, "status": status}
