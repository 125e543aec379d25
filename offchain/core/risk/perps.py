"""Linear USDC-margined perpetual positions: fills, unrealised PnL and the 10-second settlement.

A position is ``qty`` (signed base atoms, long > 0) and ``quote_open``: the quote atoms that fills
have moved since the last settlement (a buy of notional N adds -N, a sell +N). Unrealised PnL at a
mark is ``floor(qty * mark / unit) + quote_open``; settling it moves that amount into the USDC
balance and resets ``quote_open`` to ``-floor(qty * mark / unit)``, so that the PnL at the same mark
is then exactly zero. ``entry`` is the average entry price (kept across settlements, for display and
for the auto-deleveraging rank).

Both sides of a fill use the same notional ``floor(|qty| * price / unit)``, so fills move no quote
atom in or out of existence, and a settlement keeps ``USDC balance + quote_open`` of every account
exactly as it was. Hence the exact invariant: the sum of all USDC balances plus the sum of all
``quote_open`` only changes through deposits, withdrawals and fees (no rounding dust to book).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Position:
    """One account's position in one perpetual market."""

    qty: int = 0
    quote_open: int = 0
    entry: int = 0

    def upnl(self, mark: int, unit: int) -> int:
        """Return the unrealised PnL (quote atoms) at ``mark`` since the last settlement."""
        return self.qty * mark // unit + self.quote_open

    def profit(self, mark: int, unit: int) -> int:
        """Return the PnL since entry at ``mark`` (quote atoms, for ranking and display)."""
        return self.qty * (mark - self.entry) // unit

    def notional(self, mark: int, unit: int) -> int:
        """Return ``|qty| * mark / unit`` (floor)."""
        return abs(self.qty) * mark // unit

    def fill(self, delta: int, price: int, notional: int) -> Position:
        """Return the position after a fill of ``delta`` base atoms (buy > 0) at ``price``."""
        if delta == 0:
            return self
        qty = self.qty + delta
        quote_open = self.quote_open - notional if delta > 0 else self.quote_open + notional
        if self.qty == 0 or (self.qty > 0) == (delta > 0):
            entry = (abs(self.qty) * self.entry + abs(delta) * price) // abs(qty)
        elif qty == 0:
            entry = 0
        elif (qty > 0) != (self.qty > 0):
            entry = price  # flipped: the new side was entered at this fill
        else:
            entry = self.entry  # reduced: the remaining part keeps its entry
        return Position(qty, quote_open, entry)

    def settled(self, mark: int, unit: int) -> tuple[int, Position]:
        """Return ``(pnl, position)``: the PnL to move into USDC and the reset position."""
        value = self.qty * mark // unit
        return value + self.quote_open, Position(self.qty, -value, self.entry)

    @property
    def is_flat(self) -> bool:
        """True when nothing is open and nothing is left to settle."""
        return self.qty == 0 and self.quote_open == 0


def fill_notional(qty: int, price: int, unit: int) -> int:
    """Return the notional both sides of a fill use: ``floor(|qty| * price / unit)``."""
    return abs(qty) * price // unit


def settle_all(positions: Mapping[str, Position], mark: int, unit: int) -> dict[str, int]:
    """Return the PnL each account of one market realises when settled at ``mark`` (non-zero only)."""
    pnl: dict[str, int] = {}
    for account in sorted(positions):
        amount, _ = positions[account].settled(mark, unit)
        if amount:
            pnl[account] = amount
    return pnl


def open_interest(positions: Mapping[str, Position]) -> int:
    """Return the open interest in base atoms: the sum of long quantities (== sum of shorts)."""
    return sum(p.qty for p in positions.values() if p.qty > 0)
