"""The one list of each closed set of words the core uses: trading states, market kinds, sides,
order types, times in force and self-trade prevention modes.

Each set is a `StrEnum` (for validation, the API and the docs) plus plain `str` constants with the
same values: the state of a market and the fields of an order hold plain strings, so the hot path
compares exact `str`s and the canonical snapshot is what it always was.
"""

from __future__ import annotations

from enum import StrEnum


class TradingState(StrEnum):
    """A market's trading state (SPEC §3 circuit breaker). Matching happens only in CONTINUOUS;
    otherwise GTC limits rest without matching and market, IOC and FOK orders are rejected."""

    CONTINUOUS = "continuous"
    HALTED = "halted"
    COOLDOWN = "cooldown"
    AUCTION = "auction"


CONTINUOUS = TradingState.CONTINUOUS.value
HALTED = TradingState.HALTED.value
COOLDOWN = TradingState.COOLDOWN.value
AUCTION = TradingState.AUCTION.value
TRADING_STATES = tuple(s.value for s in TradingState)


class MarketKind(StrEnum):
    SPOT = "spot"
    PERP = "perp"


SPOT = MarketKind.SPOT.value
PERP = MarketKind.PERP.value
MARKET_KINDS = tuple(k.value for k in MarketKind)

BUY = "buy"
SELL = "sell"
SIDES = (BUY, SELL)
LIMIT = "limit"
MARKET = "market"
ORDER_TYPES = (LIMIT, MARKET)
GTC = "GTC"
IOC = "IOC"
FOK = "FOK"
TIFS = (GTC, IOC, FOK)

# Self-trade prevention modes: what happens when a taker meets a resting order of the same owner.
CANCEL_TAKER = "cancel_taker"  # the taker's remainder is cancelled; the maker stays
CANCEL_MAKER = "cancel_maker"  # the maker is cancelled; the taker keeps matching
CANCEL_BOTH = "cancel_both"  # both are cancelled
DECREMENT = "decrement"  # decrement-and-cancel: both shrink by the smaller size, no trade
STP_MODES = (CANCEL_TAKER, CANCEL_MAKER, CANCEL_BOTH, DECREMENT)
