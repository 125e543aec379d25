"""Index-source adapters: price feeds read through Chainlink's `AggregatorV3Interface`.

Seed 004 asks for an index over several venues, so that the index survives the halt of any one of
them (the on-chain pool above all: when it halts, its weight goes to 0). Each adapter is one index
source of one engine market, with

* a **name** (the engine's source name; `pool` is the pool's, see `protocol.POOL_SOURCE`),
* a **weight** in the engine's weighted median,
* a **staleness limit** `max_age_s`: a feed whose `updatedAt` is older than this (against the later
  of the chain head's timestamp and the wall clock) is stale and leaves the index until it answers
  again. The engine's own `max_age_ms` for the source is set to the same limit, so a source the
  daemon stops posting (RPC away, daemon down) drops out there too.

A feed is read by address with the interface's ABI only (`latestRoundData`, `decimals`), which is
how the daemon reads a real Chainlink feed on a real chain; on a devnet the deploy script adds
`PriceFeed` contracts named `PriceFeed:<source>` in the deployment file. The deviation filter is the
engine's (`PricingParams.max_deviation_bps`: a source too far from the median drops out there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.exceptions import BadFunctionCallOutput, ContractLogicError

FEED_PREFIX = "PriceFeed:"  # deployment names of the devnet feeds: PriceFeed:<source name>
DEVNET_REPORTER_ACCOUNT = 9  # anvil test account that holds REPORTER_ROLE on the devnet feeds
DEFAULT_FEED_MARKET = "USDE-USDC"  # the devnet feeds price USDE in USD, read as USDC

_UINT80, _INT256, _UINT256 = ({"name": "", "type": t} for t in ("uint80", "int256", "uint256"))
AGGREGATOR_V3_ABI: list[dict[str, Any]] = [
    {
        "name": "latestRoundData",
        "type": "function",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [_UINT80, _INT256, _UINT256, _UINT256, _UINT80],
    },
    {
        "name": "decimals",
        "type": "function",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "uint8"}],
    },
    {
        "name": "description",
        "type": "function",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "string"}],
    },
]


@dataclass(frozen=True)
class FeedReading:
    """One read of a feed: its price in engine units when usable, else why not."""

    source: str
    price: int | None  # quote atoms per whole base; None: not usable now
    answer: int
    round_id: int
    updated_at: int  # the feed's `updatedAt` (unix seconds)
    age_s: int  # now - updated_at (0 when unknown)
    problem: str | None  # None, "no_answer", "stale", "unreadable: ..."

    @property
    def fresh(self) -> bool:
        return self.problem is None

    def status(self, weight: int) -> dict[str, Any]:
        """The reading as `chain_status.index_sources[source]` shows it."""
        return {
            "price": self.price,
            "answer": self.answer,
            "round": self.round_id,
            "updated_at": self.updated_at,
            "age_s": self.age_s,
            "fresh": self.fresh,
            "problem": self.problem,
            "weight": weight,
        }


def feed_answer_to_engine(answer: int, feed_decimals: int, quote_decimals: int, invert: bool = False) -> int:
    """Convert a feed answer (base priced in quote, scaled 10**feed_decimals) to quote atoms per whole base.

    `invert` reads a feed quoted the other way round (quote priced in base). Floors, like the
    pool's conversion (`protocol.pool_price_to_engine`); 0 for a non-positive answer.
    """
    if answer <= 0:
        return 0
    if invert:
        return 10**quote_decimals * 10**feed_decimals // answer
    return answer * 10**quote_decimals // 10**feed_decimals


class AggregatorFeed:
    """An index source read from any `AggregatorV3Interface` feed by address."""

    kind = "aggregator_v3"

    def __init__(
        self,
        w3: Web3,
        name: str,
        address: str,
        market: str = DEFAULT_FEED_MARKET,
        weight: int = 1,
        max_age_s: int = 3600,
        invert: bool = False,
    ):
        if not name or name == "pool":
            raise ValueError(f"index source name {name!r} is empty or the pool's")
        if weight < 0 or max_age_s <= 0:
            raise ValueError(f"index source {name}: weight must be >= 0 and max_age_s > 0")
        self.name = name
        self.address = Web3.to_checksum_address(address)
        self.market = market
        self.weight = weight
        self.max_age_s = max_age_s
        self.invert = invert
        self.contract = w3.eth.contract(address=self.address, abi=AGGREGATOR_V3_ABI)
        self._decimals: int | None = None

    def read(self, now_s: int, quote_decimals: int) -> FeedReading:
        """Read the latest round; judge it against `now_s` (unix seconds) and this source's limit.

        A revert or an undecodable answer (no feed at the address) gives an `unreadable` reading;
        network errors are raised (the watcher's poll retries them).
        """
        try:
            if self._decimals is None:
                self._decimals = int(self.contract.functions.decimals().call())
            round_id, answer, _, updated_at, _ = self.contract.functions.latestRoundData().call()
        except (ContractLogicError, BadFunctionCallOutput) as exc:  # a revert, or no feed at the address
            return FeedReading(self.name, None, 0, 0, 0, 0, f"unreadable: {str(exc)[:120]}")
        round_id, answer, updated_at = int(round_id), int(answer), int(updated_at)
        age = max(now_s - updated_at, 0) if updated_at else 0
        price = feed_answer_to_engine(answer, self._decimals, quote_decimals, self.invert)
        problem = None
        if updated_at == 0 or price <= 0:
            problem = "no_answer"
        elif age > self.max_age_s:
            problem = "stale"
        return FeedReading(
            self.name, price if problem is None else None, answer, round_id, updated_at, age, problem
        )


def deployment_feeds(contracts: dict[str, str]) -> dict[str, str]:
    """Return {source name: address} of the deployment's devnet feeds (`PriceFeed:<source>` entries)."""
    return {
        name[len(FEED_PREFIX) :]: address
        for name, address in contracts.items()
        if name.startswith(FEED_PREFIX)
    }


def build_feeds(
    w3: Web3, specs: list[Any] | None, contracts: dict[str, str], max_age_s: int
) -> list[AggregatorFeed]:
    """The adapters the daemon runs: `specs` (settings `index_feeds`) when given, else the deployment's feeds.

    A spec has `name`, `address`, `market`, `weight`, `max_age_s`, `invert` (`settings.IndexFeed`);
    the deployment's feeds get weight 1, the market `DEFAULT_FEED_MARKET` and `max_age_s`.
    """
    if specs is not None:
        return [
            AggregatorFeed(w3, s.name, s.address, s.market, s.weight, s.max_age_s, s.invert) for s in specs
        ]
    return [
        AggregatorFeed(w3, name, address, max_age_s=max_age_s)
        for name, address in sorted(deployment_feeds(contracts).items())
    ]
