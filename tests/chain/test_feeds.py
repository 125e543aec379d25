"""Index-source adapters: a real PriceFeed on anvil read through the AggregatorV3Interface ABI only,
answers scaled to engine units, staleness, unreadable feeds, and the settings that name the feeds."""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from web3 import Web3

from offchain.chain.feeds import (
    AGGREGATOR_V3_ABI,
    AggregatorFeed,
    build_feeds,
    deployment_feeds,
    feed_answer_to_engine,
)
from offchain.paths import BUILD_MANIFEST
from offchain.settings import DaemonSettings, SettingsError, devnet_account

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("anvil")]

ONE_USD = 10**8  # feed units (8 decimals)
ONE_USDC = 10**6  # engine units of USDE-USDC: USDC atoms per whole USDE


def test_answer_is_scaled_to_quote_atoms_per_whole_base_and_floored():
    assert feed_answer_to_engine(ONE_USD, 8, 6) == ONE_USDC
    assert feed_answer_to_engine(99_987_654, 8, 6) == 999_876  # floors
    assert feed_answer_to_engine(2 * 10**18, 18, 6) == 2 * ONE_USDC
    assert feed_answer_to_engine(5 * 10**7, 8, 6, invert=True) == 2 * ONE_USDC
    assert feed_answer_to_engine(0, 8, 6) == 0
    assert feed_answer_to_engine(-ONE_USD, 8, 6) == 0


@pytest.fixture(scope="module")
def governor():
    return devnet_account(0)


@pytest.fixture(scope="module")
def deploy_feed(w3, governor):
    """Deploy the compiled `PriceFeed` (ape's build manifest) with the governor as reporter."""
    built = json.loads(BUILD_MANIFEST.read_text())["contractTypes"]["PriceFeed"]
    factory = w3.eth.contract(abi=built["abi"], bytecode=built["deploymentBytecode"]["bytecode"])

    def deploy():
        tx = factory.constructor(8, "USDE / USD", governor.address, governor.address).transact(
            {"from": governor.address}
        )
        address = w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
        return w3.eth.contract(address=address, abi=built["abi"])

    return deploy


def submit(w3, feed, answer: int, sender: str) -> int:
    """Post `answer`; return the block timestamp it was stamped with."""
    receipt = w3.eth.wait_for_transaction_receipt(feed.functions.submit(answer).transact({"from": sender}))
    assert receipt["status"] == 1
    return int(w3.eth.get_block(receipt["blockNumber"])["timestamp"])


def test_fresh_answer_reads_as_an_engine_price(w3, deploy_feed, governor):
    feed = deploy_feed()
    stamped = submit(w3, feed, 100_020_000, governor.address)
    adapter = AggregatorFeed(w3, "chainlink", feed.address, max_age_s=60)

    reading = adapter.read(stamped + 10, quote_decimals=6)

    assert reading.fresh and reading.price == 1_000_200
    assert (reading.round_id, reading.updated_at, reading.age_s) == (1, stamped, 10)
    assert reading.status(1)["weight"] == 1


def test_answer_older_than_its_max_age_is_stale_and_has_no_price(w3, deploy_feed, governor):
    feed = deploy_feed()
    stamped = submit(w3, feed, ONE_USD, governor.address)
    adapter = AggregatorFeed(w3, "redstone", feed.address, max_age_s=60)

    assert adapter.read(stamped + 60, 6).fresh
    late = adapter.read(stamped + 61, 6)

    assert (late.fresh, late.problem, late.price, late.age_s) == (False, "stale", None, 61)


def test_feed_without_an_answer_yet_gives_no_price(w3, deploy_feed):
    adapter = AggregatorFeed(w3, "chainlink", deploy_feed().address)
    reading = adapter.read(10**10, 6)
    assert (reading.problem, reading.price) == ("no_answer", None)


def test_address_without_a_feed_is_unreadable_not_a_crash(w3):
    nobody = Account.create().address
    reading = AggregatorFeed(w3, "chainlink", nobody).read(10**10, 6)
    assert reading.price is None and reading.problem.startswith("unreadable")


def test_adapter_reads_with_the_interface_abi_only(w3, deploy_feed, governor):
    feed = deploy_feed()
    submit(w3, feed, ONE_USD, governor.address)
    bare = w3.eth.contract(address=feed.address, abi=AGGREGATOR_V3_ABI)
    assert bare.functions.description().call() == "USDE / USD"
    assert bare.functions.latestRoundData().call()[1] == ONE_USD


def test_adapter_refuses_the_pools_name_and_a_negative_weight(w3):
    address = Account.create().address
    with pytest.raises(ValueError, match="pool"):
        AggregatorFeed(w3, "pool", address)
    with pytest.raises(ValueError, match="weight"):
        AggregatorFeed(w3, "chainlink", address, weight=-1)


def test_deployment_feeds_are_the_pricefeed_entries(w3):
    a, b = (Account.create().address for _ in range(2))
    contracts = {"USDC": a, "Pool": b, "PriceFeed:chainlink": a, "PriceFeed:redstone": b}
    assert deployment_feeds(contracts) == {"chainlink": a, "redstone": b}

    built = build_feeds(w3, None, contracts, max_age_s=90)
    assert [(f.name, f.address, f.weight, f.max_age_s, f.market) for f in built] == [
        ("chainlink", a, 1, 90, "USDE-USDC"),
        ("redstone", b, 1, 90, "USDE-USDC"),
    ]


def test_configured_feeds_replace_the_deployments_and_an_empty_list_reads_none(w3):
    address = Account.create().address
    settings = DaemonSettings(
        index_feeds=[{"name": "cl", "address": address, "weight": 3, "max_age_s": 86_400, "invert": True}]
    )
    (feed,) = build_feeds(w3, settings.index_feeds, {"PriceFeed:chainlink": address}, 120)
    assert (feed.name, feed.weight, feed.max_age_s, feed.invert) == ("cl", 3, 86_400, True)
    assert build_feeds(w3, DaemonSettings(index_feeds=[]).index_feeds, {"PriceFeed:x": address}, 120) == []


def test_bad_feed_settings_are_refused_with_the_field_named(tmp_path):
    config = tmp_path / "daemon.json"
    for bad, named in (
        ([{"name": "pool", "address": "0x" + "11" * 20}], "pool"),
        ([{"name": "cl", "address": "0x1234"}], "address"),
        ([{"name": "cl", "address": "0x" + "11" * 20, "max_age_s": 0}], "max_age_s"),
        ([{"name": "cl", "address": "0x" + "11" * 20}] * 2, "share a name"),
        ([{"name": "cl", "address": "0x" + "11" * 20, "heartbeat": 1}], "heartbeat"),
    ):
        config.write_text(json.dumps({"index_feeds": bad}))
        with pytest.raises(SettingsError, match=named):
            DaemonSettings.load(config)


def test_feeds_come_from_the_environment_as_json(monkeypatch):
    address = Web3.to_checksum_address("0x" + "ab" * 20)
    monkeypatch.setenv("BREAKWATER_INDEX_FEEDS", json.dumps([{"name": "cl", "address": address}]))
    (feed,) = DaemonSettings.load().index_feeds
    assert (feed.name, feed.address, feed.weight, feed.max_age_s) == ("cl", address, 1, 3600)
