"""The index keeps its price feeds while the on-chain pool halts; a stale feed drops out (real anvil).

The deploy script adds two Chainlink-style feeds (`PriceFeed:chainlink`, `PriceFeed:redstone`);
the simulation's reporter (anvil account 9, `REPORTER_ROLE`) posts to them; the daemon reads them as
index sources beside the pool's `price_oracle`.
"""

from __future__ import annotations

import pytest
from daemon_kit import (
    KEY_ENV,
    Chain,
    daemon_settings,
    isolated_chain,
    mine,
    sync_clock,
    write_deployment_file,
)

from offchain.chain.watcher import engine_module
from offchain.daemon import Daemon
from offchain.sim.reporters import FeedReporter

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("anvil")]

SYMBOL = "USDE-USDC"
MAX_AGE_S = 30


@pytest.fixture(scope="module")
def chain(w3, deployment) -> Chain:
    return Chain(w3, deployment)


@pytest.fixture(scope="module")
def operator_key(chain):
    return chain.daemon_key()


@pytest.fixture
def isolated(w3):
    """Feeds are dated by the chain and judged against the wall clock: start with the devnet on time."""
    sync_clock(w3)
    with isolated_chain(w3):
        yield


@pytest.fixture
def daemon(anvil, chain, operator_key, tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_ENV, operator_key.key.hex())
    settings = daemon_settings(
        tmp_path,
        anvil.url,
        write_deployment_file(chain.deployment, tmp_path),
        confirmations=1,
        index_feed_max_age_s=MAX_AGE_S,
    )
    d = Daemon(settings).open()
    yield d
    d.stop()


def index_state(daemon: Daemon) -> tuple[int | None, dict[str, int]]:
    """The engine's index of the market and the weight of each source that posted."""

    def read(engine):
        pricing = engine_module(engine, "risk").markets[SYMBOL].pricing
        return engine.markets[SYMBOL].index_price, {n: q.weight for n, q in pricing.sources.items()}

    return daemon.service.read(read)


def test_deployment_has_two_seeded_feeds_the_reporter_may_post_to(chain):
    reporter = FeedReporter(chain.w3, chain.deployment)
    assert sorted(reporter.feeds) == ["chainlink", "redstone"]
    for feed in reporter.feeds.values():
        assert feed.functions.decimals().call() == 8
        assert feed.functions.latestRoundData().call()[1] > 0
        assert feed.functions.hasRole(feed.functions.REPORTER_ROLE().call(), reporter.account.address).call()


def test_index_keeps_both_feeds_while_the_pool_is_paused(daemon, chain, isolated):
    reporter = FeedReporter(chain.w3, chain.deployment, truth=10**8, jitter_bps=0)
    reporter.report({"chainlink": 100_010_000, "redstone": 99_990_000})
    daemon.watcher.poll()
    index, weights = index_state(daemon)
    assert weights == {"pool": 1, "chainlink": 1, "redstone": 1}
    assert index is not None

    breaker, pool = chain.contract("CircuitBreaker"), chain.contract("Pool")
    chain.send(chain.governor, breaker.functions.pause(pool.address))
    reporter.report({"chainlink": 100_020_000, "redstone": 99_980_000})
    daemon.watcher.poll()

    index, weights = index_state(daemon)
    assert weights["pool"] == 0 and weights["chainlink"] == weights["redstone"] == 1
    assert index == (1_000_200 + 999_800) // 2  # the two feeds' weighted median, in USDC atoms
    status = daemon.service.chain_status
    assert status["pool"]["halted"] is True
    assert {k: v["fresh"] for k, v in status["index_sources"].items()} == {
        f"{SYMBOL}:chainlink": True,
        f"{SYMBOL}:redstone": True,
    }


def test_feed_not_updated_within_its_max_age_leaves_the_index(daemon, chain, isolated):
    reporter = FeedReporter(chain.w3, chain.deployment, jitter_bps=0)
    reporter.report()
    daemon.watcher.poll()
    assert index_state(daemon)[1]["redstone"] == 1

    chain.w3.provider.make_request("evm_increaseTime", [MAX_AGE_S + 5])
    mine(chain.w3)
    FeedReporter(chain.w3, chain.deployment, jitter_bps=0, only=("chainlink",)).report()
    daemon.watcher.poll()

    index, weights = index_state(daemon)
    assert weights["redstone"] == 0 and weights["chainlink"] == 1
    assert index is not None
    source = daemon.service.chain_status["index_sources"][f"{SYMBOL}:redstone"]
    assert (source["fresh"], source["problem"], source["weight"]) == (False, "stale", 0)
    assert source["age_s"] > MAX_AGE_S
    alerts = [a for a in daemon.service.alerts if a["kind"] == "index_source"]
    assert [a["source"] for a in alerts] == ["redstone"]

    reporter.report()  # the reporter is back: so is the source
    daemon.watcher.poll()
    assert index_state(daemon)[1]["redstone"] == 1
