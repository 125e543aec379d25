"""The deployed protocol as the daemon sees it: contracts, tokens <-> engine assets, and unit rules.

One place for the mappings the watcher, the poster and the early warning share: which token is
which engine asset, how a pool price becomes an engine price, how an engine withdrawal id becomes
a Custody request id, and how a deposit log becomes an idempotent deposit reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract

from offchain.chain.deployment import Deployment
from offchain.chain.feeds import FEED_PREFIX

# Contracts of the protocol; every other name in the deployment file is a token (by its symbol), but
# `PriceFeed:<source>` (the devnet's price feeds, `offchain/chain/feeds.py`).
PROTOCOL_CONTRACTS = ("Pool", "CircuitBreaker", "InsuranceFund", "ReserveRegistry", "Custody")
POOL_PRICE_SCALE = 10**18  # Pool.vy: whole token1 per whole token0, scaled 1e18, decimals adjusted
POOL_SOURCE = "pool"  # the pool's name among a market's index sources
WITHDRAWAL_DOMAIN = b"breakwater.withdrawal"


@dataclass(frozen=True)
class Token:
    """A deployment token: its engine asset symbol, checksummed address and decimals."""

    symbol: str
    address: str
    decimals: int


class Protocol:
    """Contracts of one deployment bound to a web3 connection."""

    def __init__(self, w3: Web3, deployment: Deployment):
        self.w3 = w3
        self.deployment = deployment
        self.tokens: dict[str, Token] = {}
        for name, address in deployment.contracts.items():
            if name in PROTOCOL_CONTRACTS or name in deployment.abis or name.startswith(FEED_PREFIX):
                continue
            decimals = deployment.contract(w3, name).functions.decimals().call()
            self.tokens[name] = Token(name, to_checksum_address(address), int(decimals))
        self.by_address = {t.address.lower(): t for t in self.tokens.values()}

    def has(self, name: str) -> bool:
        return name in self.deployment.contracts

    def contract(self, name: str) -> Contract:
        return self.deployment.contract(self.w3, name)

    def token_contract(self, symbol: str) -> Contract:
        return self.deployment.contract(self.w3, symbol)

    def token_at(self, address: str) -> Token | None:
        """Return the deployment token at `address`, or None."""
        return self.by_address.get(address.lower())

    def request_id(self, wid: int, journal_id: int) -> bytes:
        """Return the Custody request id of engine withdrawal `wid` of the journal `journal_id`.

        Bound to this Custody and to the journal (the ts of its first command): a second exchange
        journal against the same Custody numbers its withdrawals from 1 again, and must neither be
        told "already paid" nor collide with another journal's terms.
        """
        custody = bytes.fromhex(self.deployment.contracts["Custody"][2:])
        return keccak(WITHDRAWAL_DOMAIN + custody + journal_id.to_bytes(32, "big") + wid.to_bytes(32, "big"))


def deposit_ref(tx_hash: str, ordinal: int) -> str:
    """Return the engine reference of the `ordinal`-th Custody deposit of transaction `tx_hash`.

    The transaction hash and the deposit's place among that transaction's deposits survive a reorg
    that re-mines the transaction elsewhere (its block-level log index does not), so a deposit
    moved by a reorg is still credited once.
    """
    return f"deposit:{tx_hash.lower()}:{ordinal}"


def pool_price_to_engine(oracle: int, base_is_token0: bool, quote_decimals: int) -> int:
    """Convert a Pool price (whole token1 per whole token0, 1e18) to engine units (quote atoms per whole base).

    Floors; 0 when the pool is empty.
    """
    if oracle <= 0:
        return 0
    if base_is_token0:
        return oracle * 10**quote_decimals // POOL_PRICE_SCALE
    return 10**quote_decimals * POOL_PRICE_SCALE // oracle
