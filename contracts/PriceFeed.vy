# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Devnet Chainlink-style price feed
@custom:contract-name PriceFeed
@license GNU Affero General Public License v3.0 only
@notice A price feed with Chainlink's `AggregatorV3Interface` read
        functions (`latestRoundData`, `getRoundData`, `decimals`,
        `description`, `version`), so the exchange reads it exactly as it
        reads a real Chainlink feed on a real chain. A reporter posts each
        answer (`submit`); every submission opens a new round, stamped with
        the block timestamp (`updatedAt`), which is what a reader's
        staleness limit measures.

        Deployed beside the pool on devnets only (the simulation's reporters
        feed it the off-chain price): off a devnet the daemon is pointed at
        real feeds instead.

        Roles (snekmate access control; the governor administers both):
        - governor: grants and revokes the roles;
        - reporter: submits answers.
"""

from ethereum.ercs import IERC165

implements: IERC165

from snekmate.auth.interfaces import IAccessControl

implements: IAccessControl

from interfaces import AggregatorV3Interface

implements: AggregatorV3Interface

from snekmate.auth import access_control

initializes: access_control

from lib import roles

exports: access_control.__interface__


GOVERNOR_ROLE: public(constant(bytes32)) = roles.GOVERNOR_ROLE
# @dev Posts answers (the devnet reporters; not in `roles.vy`: only feeds use it).
REPORTER_ROLE: public(constant(bytes32)) = keccak256("REPORTER_ROLE")

# @dev The feed's interface version (Chainlink's aggregators answer 4 or 6).
VERSION: public(constant(uint256)) = 4
MAX_DESCRIPTION: constant(uint256) = 64


# @dev One round: the answer and when it was posted.
struct Round:
    answer: int256
    started_at: uint256
    updated_at: uint256


decimals: public(immutable(uint8))

description: public(String[MAX_DESCRIPTION])

# @dev The latest round id (0 before the first answer; rounds count from 1).
latest_round: public(uint80)

_rounds: HashMap[uint80, Round]


# @dev Chainlink's `AggregatorInterface.AnswerUpdated`: a new answer.
event AnswerUpdated:
    current: indexed(int256)
    roundId: indexed(uint256)
    updatedAt: uint256


# @dev Chainlink's `AggregatorInterface.NewRound`, with the reporter.
event NewRound:
    roundId: indexed(uint256)
    startedBy: indexed(address)
    startedAt: uint256


@deploy
def __init__(decimals_: uint8, description_: String[MAX_DESCRIPTION], governor: address, reporter: address):
    """
    @dev Give the roles; the deployer keeps none unless it is one of them.
    @param decimals_ The decimals of every answer (Chainlink USD feeds: 8).
    @param description_ What the feed prices, e.g. "USDE / USD".
    @param governor The governor (required).
    @param reporter The first reporter, or the zero address.
    """
    assert governor != empty(address), "feed: governor is the zero address"
    assert decimals_ <= 36, "feed: more than 36 decimals"
    decimals = decimals_
    self.description = description_
    access_control.__init__()
    access_control._set_role_admin(GOVERNOR_ROLE, GOVERNOR_ROLE)
    access_control._set_role_admin(REPORTER_ROLE, GOVERNOR_ROLE)
    access_control._grant_role(GOVERNOR_ROLE, governor)
    if reporter != empty(address):
        access_control._grant_role(REPORTER_ROLE, reporter)
    access_control._revoke_role(access_control.DEFAULT_ADMIN_ROLE, msg.sender)


@external
def submit(answer: int256) -> uint80:
    """
    @dev Post `answer` as a new round, stamped with the block timestamp.
    @notice Reporter only. A price feed's answer is a price: zero or a
            negative answer is refused.
    @param answer The price scaled by 10**decimals().
    @return uint80 The new round's id.
    """
    access_control._check_role(REPORTER_ROLE, msg.sender)
    assert answer > 0, "feed: answer must be positive"
    round_id: uint80 = self.latest_round + 1
    self._rounds[round_id] = Round(answer=answer, started_at=block.timestamp, updated_at=block.timestamp)
    self.latest_round = round_id
    log NewRound(roundId=convert(round_id, uint256), startedBy=msg.sender, startedAt=block.timestamp)
    log AnswerUpdated(current=answer, roundId=convert(round_id, uint256), updatedAt=block.timestamp)
    return round_id


@external
@view
def version() -> uint256:
    """
    @dev The AggregatorV3Interface version of this feed.
    @return uint256 `VERSION`.
    """
    return VERSION


@external
@view
def latestRoundData() -> (uint80, int256, uint256, uint256, uint80):
    """
    @dev The latest round, as Chainlink's aggregators return it.
    @notice Before the first answer every field is zero (as an OCR
            aggregator answers): a reader must treat `updatedAt == 0` or
            `answer <= 0` as no price.
    @return uint80 The round id.
    @return int256 The answer, scaled by 10**decimals().
    @return uint256 When the round started (block timestamp).
    @return uint256 When the answer was posted (block timestamp).
    @return uint80 The round the answer was computed in (the round id).
    """
    round_id: uint80 = self.latest_round
    r: Round = self._rounds[round_id]
    return round_id, r.answer, r.started_at, r.updated_at, round_id


@external
@view
def getRoundData(_roundId: uint80) -> (uint80, int256, uint256, uint256, uint80):
    """
    @dev A past (or the latest) round.
    @notice Reverts for a round that never had an answer, as Chainlink's
            aggregators do ("No data present").
    @param _roundId The round id (1 to `latest_round`).
    @return uint80 The round id.
    @return int256 The answer, scaled by 10**decimals().
    @return uint256 When the round started (block timestamp).
    @return uint256 When the answer was posted (block timestamp).
    @return uint80 The round the answer was computed in (the round id).
    """
    r: Round = self._rounds[_roundId]
    assert r.updated_at != 0, "feed: no data present"
    return _roundId, r.answer, r.started_at, r.updated_at, _roundId
