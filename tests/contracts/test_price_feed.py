"""PriceFeed: Chainlink's AggregatorV3Interface read side, rounds, and the reporter-only `submit`."""

import boa
import pytest
from conftest import deploy

USD_DECIMALS = 8
ONE = 10**USD_DECIMALS


@pytest.fixture(scope="module")
def reporter():
    return boa.env.generate_address("reporter")


@pytest.fixture(scope="module")
def feed(governor, reporter, deployer):
    with boa.env.prank(deployer):
        return deploy("PriceFeed", USD_DECIMALS, "USDE / USD", governor, reporter)


def test_feed_describes_itself_like_a_chainlink_aggregator(feed):
    assert feed.decimals() == USD_DECIMALS
    assert feed.description() == "USDE / USD"
    assert feed.version() == 4


def test_latest_round_data_is_all_zero_before_the_first_answer(feed):
    assert feed.latestRoundData() == (0, 0, 0, 0, 0)


def test_submit_opens_a_round_stamped_with_the_block_time(feed, reporter):
    boa.env.time_travel(seconds=100)
    with boa.env.prank(reporter):
        assert feed.submit(ONE) == 1
    logs = feed.get_logs()
    now = boa.env.evm.patch.timestamp
    assert feed.latestRoundData() == (1, ONE, now, now, 1)
    assert [type(e).__name__ for e in logs] == ["NewRound", "AnswerUpdated"]
    assert logs[1].current == ONE and logs[1].roundId == 1 and logs[1].updatedAt == now


def test_rounds_stay_readable_after_newer_answers(feed, reporter):
    with boa.env.prank(reporter):
        feed.submit(ONE)
        boa.env.time_travel(seconds=30)
        feed.submit(ONE - 123)
    first, second = feed.getRoundData(1), feed.getRoundData(2)
    assert first[1] == ONE and second[1] == ONE - 123
    assert second[3] - first[3] == 30
    assert feed.latestRoundData() == second
    assert feed.latest_round() == 2


def test_get_round_data_of_a_round_without_an_answer_reverts(feed, reporter):
    with boa.reverts("feed: no data present"):
        feed.getRoundData(1)
    with boa.env.prank(reporter):
        feed.submit(ONE)
    with boa.reverts("feed: no data present"):
        feed.getRoundData(2)


def test_submit_by_a_stranger_reverts_and_changes_nothing(feed, stranger):
    with boa.env.prank(stranger), boa.reverts("access_control: account is missing role"):
        feed.submit(ONE)
    assert feed.latest_round() == 0


def test_submit_of_a_zero_or_negative_answer_reverts(feed, reporter):
    with boa.env.prank(reporter):
        for bad in (0, -ONE):
            with boa.reverts("feed: answer must be positive"):
                feed.submit(bad)
    assert feed.latest_round() == 0


def test_governor_grants_and_revokes_the_reporter_role(feed, governor, stranger):
    role = feed.REPORTER_ROLE()
    with boa.env.prank(governor):
        feed.grantRole(role, stranger)
    with boa.env.prank(stranger):
        feed.submit(ONE)
    with boa.env.prank(governor):
        feed.revokeRole(role, stranger)
    with boa.env.prank(stranger), boa.reverts("access_control: account is missing role"):
        feed.submit(ONE)


def test_reporter_cannot_grant_roles(feed, reporter, stranger):
    with boa.env.prank(reporter), boa.reverts("access_control: account is missing role"):
        feed.grantRole(feed.REPORTER_ROLE(), stranger)


def test_deployer_keeps_no_role(feed, deployer):
    for role in (feed.DEFAULT_ADMIN_ROLE(), feed.GOVERNOR_ROLE(), feed.REPORTER_ROLE()):
        assert not feed.hasRole(role, deployer)


def test_feed_without_a_governor_is_refused(reporter):
    with boa.reverts("feed: governor is the zero address"):
        deploy("PriceFeed", USD_DECIMALS, "USDE / USD", "0x" + "00" * 20, reporter)


def test_role_ids_match_the_shared_table(feed):
    assert feed.GOVERNOR_ROLE() == boa.eval('keccak256("GOVERNOR_ROLE")')
    assert feed.REPORTER_ROLE() == boa.eval('keccak256("REPORTER_ROLE")')
