"""`MakersModule`: designated market makers with obligations, measured per period, rebated if met.

* ``maker`` (operator) designates an account as a market maker of a market with an `Obligation`
  (`obligation.py`); the composition root hands the module a `dlp` seam, so a designated maker is
  also a designated liquidity provider for the breaker (priority deposits and orders during halts);
  a revocation revokes that too once the account makes no market any more.
* **Measurement** (deterministic: time is the commands' ``ts``): a maker's resting orders change
  only when a command runs, so whether they meet the obligation is constant between commands. The
  module re-tests a maker after every command of its own (place, cancel, cancel-all, amend), after
  each of its fills, after any command that changed its balances or holds (the engine's cancels) and
  on every timer tick, and adds the time since the last test to the period's measured time — and
  to its quoted time if the last test passed. Every trading state counts: a halted maker's quotes
  are the auction's liquidity (it is the market's DLP).
* **Periods** are the grid ``[k * period_ms, (k + 1) * period_ms)`` (the first one starts at the
  designation). The module's timer closes each period at its end: the maker is compliant when
  ``quoted_ms / measured_ms >= share``. A compliant maker is paid the maker rebate tier — the fee
  schedule's best maker rate — on the period's maker volume in the market: the top-up is
  ``floor(volume * best_rebate_ppm / 10**6)`` minus the rebates its fills already earned at its own
  tier (never negative), paid out of the exchange's collected fees (conservation holds). A
  non-compliant maker keeps what its own (normal) tier paid. Event `maker_period` either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from offchain.core.codes import RejectCode as R
from offchain.core.makers.obligation import Obligation, meets
from offchain.core.messages import commands as C
from offchain.core.messages.events import Rejected
from offchain.core.messages.makers import MAX_LEVELS, DesignateMaker, MakerDesignated, MakerPeriod
from offchain.core.ports import EngineContext, Module
from offchain.core.units import MAX_ATOMS, PPM

MIN_PERIOD_MS = 60_000
MAX_PERIOD_MS = 30 * 86_400_000
HISTORY_KEEP = 48  # closed periods kept per maker (what the API shows)

DlpSeam = Callable[[int, str, bool], list]  # (ts, account, designated) -> events


class Maker:
    """One designation's obligation and its running period."""

    __slots__ = ("ob", "period", "start", "since", "ok", "measured", "quoted", "notional", "fees", "history")

    def __init__(self, ob: Obligation, ts: int) -> None:
        self.ob = ob
        self.period = ts // ob.period_ms  # index of the running period
        self.start = ts  # when the running period began (its grid start, or the designation)
        self.since = ts  # time of the last test
        self.ok = False  # its result
        self.measured = 0  # ms of the running period measured so far
        self.quoted = 0  # of which the obligation was met
        self.notional = 0  # maker volume this period (quote atoms)
        self.fees = 0  # maker fees its fills paid this period (negative: rebates earned)
        self.history: list[list] = []  # closed periods, oldest first

    def to_state(self) -> list:
        return [self.ob.to_state(), self.period, self.start, self.since, int(self.ok), self.measured,
                self.quoted, self.notional, self.fees, self.history]  # fmt: skip

    @classmethod
    def from_state(cls, row: list) -> Maker:
        m = cls(Obligation.from_state(row[0]), row[2])
        m.period, m.start, m.since, m.ok = row[1], row[2], row[3], bool(row[4])
        m.measured, m.quoted, m.notional, m.fees = row[5], row[6], row[7], row[8]
        m.history = [list(h) for h in row[9]]
        return m


class MakersModule(Module):
    name = "makers"

    def __init__(self, dlp: DlpSeam | None = None) -> None:
        """`dlp`: the breaker's DLP designation (the composition root passes it; None: no breaker)."""
        self.dlp = dlp
        self.makers: dict[str, dict[str, Maker]] = {}  # symbol -> account -> its designation
        self.by_account: dict[str, set[str]] = {}  # account -> symbols it makes
        self.engine: EngineContext | None = None
        self._wake: int | None = None
        # makers re-tested by this command's handler or fills: `on_balances`, which the engine calls
        # at its end (it changed balances), does not test them again (nothing in between moves a book)
        self._fresh: set[str] = set()

    # -- registration --------------------------------------------------------------------------
    def handlers(self, engine: EngineContext) -> dict[type, Any]:
        self.engine = engine
        owned: dict[type, Any] = {DesignateMaker: self._on_designate}
        for cls in (C.PlaceOrder, C.Cancel, C.CancelAll, C.Amend):  # its own quoting commands
            owned[cls] = self._after(engine.handlers[cls])
        return owned

    def _after(self, handler: Any) -> Any:
        """Wrap an order command's handler: re-test the sender after it, if it is a maker."""
        by_account = self.by_account

        def run(cmd: Any) -> list:
            out = handler(cmd)
            if cmd.account in by_account and not (len(out) == 1 and out[0].__class__ is Rejected):
                self._retest(self.engine, cmd.account, cmd.ts, out)
                if self.engine.accounts.touched:  # then `on_balances` runs at this command's end
                    self._fresh.add(cmd.account)
            return out

        return run

    # -- the operator's command ------------------------------------------------------------------
    def _on_designate(self, cmd: DesignateMaker) -> list:
        engine = self.engine
        if not isinstance(cmd.account, str) or not cmd.account:
            return [engine.reject(cmd, R.BAD_ACCOUNT, "designate an account by name")]
        market = engine.markets.get(cmd.symbol)
        if market is None:
            return [engine.reject(cmd, R.UNKNOWN_MARKET, f"no market {cmd.symbol!r}")]
        current = self.makers.get(cmd.symbol, {}).get(cmd.account)
        out: list = []
        if not cmd.designated:
            if current is None:
                return [
                    engine.reject(cmd, R.NOT_DESIGNATED, f"{cmd.account} makes no market in {cmd.symbol}")
                ]
            self._end(engine, cmd.symbol, cmd.account, current, cmd.ts, out)
            ob = current.ob
            out.append(MakerDesignated(cmd.ts, cmd.account, cmd.symbol, False, *ob.to_state()))
            if self.dlp is not None and cmd.account not in self.by_account:
                out.extend(self.dlp(cmd.ts, cmd.account, False))
            return out
        problem = _check(cmd)
        if problem is not None:
            return [engine.reject(cmd, R.BAD_PARAM, problem)]
        if current is not None:  # new obligations: the running period closes under the old ones
            self._end(engine, cmd.symbol, cmd.account, current, cmd.ts, out)
        ob = Obligation(cmd.min_notional, cmd.levels, cmd.max_spread_ppm, cmd.share_ppm, cmd.period_ms)
        m = Maker(ob, cmd.ts)
        if current is not None:
            m.history = current.history
        acct = engine.accounts.get(cmd.account)
        m.ok = acct is not None and meets(acct.orders.values(), cmd.symbol, market.unit, ob)
        self.makers.setdefault(cmd.symbol, {})[cmd.account] = m
        self.by_account.setdefault(cmd.account, set()).add(cmd.symbol)
        self._wake = None
        out.append(MakerDesignated(cmd.ts, cmd.account, cmd.symbol, True, *ob.to_state()))
        if self.dlp is not None and current is None:
            out.extend(self.dlp(cmd.ts, cmd.account, True))
        return out

    def _end(self, engine: EngineContext, symbol: str, account: str, m: Maker, ts: int, out: list) -> None:
        """Close a designation's running period early (revocation or new obligations) and forget it."""
        self._accrue(engine, symbol, account, m, ts, out)
        self._close(engine, symbol, account, m, ts, out)
        del self.makers[symbol][account]
        if not self.makers[symbol]:
            del self.makers[symbol]
        symbols = self.by_account[account]
        symbols.discard(symbol)
        if not symbols:
            del self.by_account[account]
        self._wake = None

    # -- measurement -----------------------------------------------------------------------------
    def _retest(self, engine: EngineContext, account: str, ts: int, out: list) -> None:
        acct = engine.accounts.get(account)
        for symbol in sorted(self.by_account.get(account, ())):
            m = self.makers[symbol][account]
            self._accrue(engine, symbol, account, m, ts, out)
            m.ok = acct is not None and meets(acct.orders.values(), symbol, engine.markets[symbol].unit, m.ob)

    def _accrue(self, engine: EngineContext, symbol: str, account: str, m: Maker, ts: int, out: list) -> None:
        """Count the time since the last test, closing every period that ended before `ts`."""
        period_ms = m.ob.period_ms
        while True:
            end = (m.period + 1) * period_ms
            upto = ts if ts < end else end
            span = upto - m.since
            if span > 0:
                m.measured += span
                if m.ok:
                    m.quoted += span
                m.since = upto
            if ts < end:
                return
            self._close(engine, symbol, account, m, end, out)
            m.period += 1
            self._wake = None

    def _close(self, engine: EngineContext, symbol: str, account: str, m: Maker, end: int, out: list) -> None:
        """Judge the running period, pay a compliant maker its rebate top-up, start the next one."""
        start = m.start
        if m.measured:
            share = m.quoted * PPM // m.measured
            compliant = m.quoted * PPM >= m.ob.share_ppm * m.measured
            rebate = self._rebate(engine, symbol, account, m) if compliant else 0
            out.append(MakerPeriod(end, account, symbol, start, end, m.measured, m.quoted, share, compliant,
                                   m.notional, rebate))  # fmt: skip
            m.history.append([start, end, m.measured, m.quoted, share, int(compliant), m.notional, rebate])
            del m.history[:-HISTORY_KEEP]
        m.measured = m.quoted = m.notional = m.fees = 0
        m.start = end

    def _rebate(self, engine: EngineContext, symbol: str, account: str, m: Maker) -> int:
        """The top-up to the best maker tier on this period's maker volume (rounded down), paid from fees."""
        best = -min(t[1] for t in engine.fee_schedule.tiers)  # the largest rebate, ppm
        if best <= 0 or not m.notional:
            return 0
        owed = m.notional * best // PPM - (-m.fees)
        if owed <= 0:
            return 0
        quote = engine.markets[symbol].quote
        accounts = engine.accounts
        accounts.fees[quote] = accounts.fees.get(quote, 0) - owed
        accounts.credit(accounts.open(account), quote, owed)
        return owed

    # -- hooks -----------------------------------------------------------------------------------
    def on_trade(self, engine: EngineContext, market: Any, trade: Any, out: list) -> None:
        makers = self.makers.get(market.symbol)
        if not makers:
            return
        m = makers.get(trade.maker)
        if m is not None:
            m.notional += trade.price * trade.qty // market.unit
            m.fees += trade.maker_fee
            self._retest(engine, trade.maker, trade.ts, out)
            self._fresh.add(trade.maker)  # a fill settles: `on_balances` runs at this command's end

    def on_balances(self, engine: EngineContext, ts: int, pairs: Iterable) -> None:
        by_account = self.by_account
        fresh = self._fresh
        if not by_account:
            fresh.clear()
            return
        seen = {acct.name for acct, _ in pairs if acct.name in by_account and acct.name not in fresh}
        fresh.clear()
        for name in sorted(seen):
            # no period ends here: the timer closed every period due at `ts` before the command ran
            self._retest(engine, name, ts, [])

    def on_tick(self, engine: EngineContext, ts: int, out: list) -> None:
        for account in sorted(self.by_account):
            self._retest(engine, account, ts, out)

    def next_wake(self) -> int | None:
        if self._wake is None and self.makers:
            self._wake = min(
                (m.period + 1) * m.ob.period_ms for makers in self.makers.values() for m in makers.values()
            )
        return self._wake if self.makers else None

    # -- reads (never change state) --------------------------------------------------------------
    def compliance(self, account: str, now: int) -> list[dict]:
        """Each market `account` makes: its obligation, the running period up to `now` and its closed
        periods (newest last). Read-only: what the API shows."""
        rows = []
        for symbol in sorted(self.by_account.get(account, ())):
            m = self.makers[symbol][account]
            span = max(0, min(now, (m.period + 1) * m.ob.period_ms) - m.since)
            measured = m.measured + span
            quoted = m.quoted + (span if m.ok else 0)
            ob = m.ob
            rows.append({
                "symbol": symbol,
                "obligation": {"min_notional": ob.min_notional, "levels": ob.levels,
                               "max_spread_ppm": ob.max_spread_ppm, "share_ppm": ob.share_ppm,
                               "period_ms": ob.period_ms},
                "quoting": m.ok,
                "period": {"start": m.start,
                           "end": (m.period + 1) * ob.period_ms, "measured_ms": measured,
                           "quoted_ms": quoted, "share_ppm": quoted * PPM // measured if measured else 0,
                           "maker_notional": m.notional},
                "history": [dict(zip(("start", "end", "measured_ms", "quoted_ms", "share_ppm", "compliant",
                                      "maker_notional", "rebate"), h, strict=True)) for h in m.history],
            })  # fmt: skip
        for row in rows:
            for h in row["history"]:
                h["compliant"] = bool(h["compliant"])
        return rows

    def is_maker(self, account: str, symbol: str | None = None) -> bool:
        symbols = self.by_account.get(account)
        return bool(symbols) and (symbol is None or symbol in symbols)

    # -- state -----------------------------------------------------------------------------------
    def to_state(self) -> dict:
        return {
            sym: {a: m.to_state() for a, m in sorted(ms.items())} for sym, ms in sorted(self.makers.items())
        }

    def load_state(self, state: Any) -> None:
        self.makers = {}
        self.by_account = {}
        for sym, ms in (state or {}).items():
            for account, row in ms.items():
                self.makers.setdefault(sym, {})[account] = Maker.from_state(row)
                self.by_account.setdefault(account, set()).add(sym)
        self._wake = None


def _check(cmd: DesignateMaker) -> str | None:
    """Why a designation's obligations are refused, or None."""
    if not 0 < cmd.min_notional <= MAX_ATOMS:
        return "min_notional must be positive"
    if not 1 <= cmd.levels <= MAX_LEVELS:
        return f"levels must be 1 to {MAX_LEVELS}"
    if not 0 < cmd.max_spread_ppm <= PPM:
        return "max_spread must be above 0 and at most 1"
    if not 0 < cmd.share_ppm <= PPM:
        return "share must be above 0 and at most 1"
    if not MIN_PERIOD_MS <= cmd.period_ms <= MAX_PERIOD_MS:
        return f"period must be {MIN_PERIOD_MS // 1000} s to {MAX_PERIOD_MS // 86_400_000} days"
    return None
