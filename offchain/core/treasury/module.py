"""The engine's side of custody: the protocol-wide pause, withdrawals owed on-chain, bad debt covered.

The daemon's chain adapters make this state move through commands, so that everything the daemon
must do on-chain is in the journal and in `state_hash` (a restart recomputes it exactly):

* ``protocol`` — the on-chain CircuitBreaker's protocol-wide state (``pause_all``, or Custody halted)
  mirrored into the engine: while ``withdrawals_paused`` a ``withdraw`` is rejected
  (``withdrawals_paused``); while ``risk_paused`` an order that is not ``reduce_only`` is rejected
  (``protocol_paused``). Cancels, deposits and reducing orders still work.
* every accepted ``withdraw`` is owed on-chain until ``withdrawal_paid`` names its ``wid`` (the
  daemon sends it once ``Custody.is_paid`` says so) or ``withdrawal_refunded`` gives it back (the
  daemon sends it when Custody refuses it for good: the amount is credited back to the account,
  with the reason), so a restart knows exactly what to pay. ``withdrawal_queued`` says that Custody
  holds it (its global outflow limit had no room: it pays it later, first in first out): it stays
  owed and its status reads ``queued`` (with the transaction that queued it) until it is paid or
  refunded. A withdrawal leaves the owed list once,
  so it is either paid or refunded, never both; each account's withdrawals (requested, then paid
  with the transaction or refunded with the reason) are kept for the API to show, the latest
  ``HISTORY_KEEP`` settled ones per account (an owed one is never forgotten);
* ``cover_paid`` counts what ``InsuranceFund.cover`` paid into Custody per asset: what is still owed
  is the risk engine's written-off ``bad_debt`` minus this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from offchain.core.codes import RejectCode as R
from offchain.core.messages import commands as C
from offchain.core.messages.events import WithdrawalRequested
from offchain.core.messages.treasury import (
    BadDebtCovered,
    CoverPaid,
    ProtocolChanged,
    ProtocolState,
    WithdrawalHeld,
    WithdrawalPaid,
    WithdrawalQueued,
    WithdrawalRefunded,
    WithdrawalReturned,
    WithdrawalSettled,
)
from offchain.core.ports import Module, Veto

if TYPE_CHECKING:
    from offchain.core.model.accounts import Account
    from offchain.core.model.markets import Market
    from offchain.core.model.orders import OpenOrder
    from offchain.core.ports import EngineContext

HISTORY_KEEP = 100  # settled withdrawals kept per account for the API (owed ones are always kept)
MAX_REFUND_REASON = 200  # characters: the reason is engine state and shown to the user


# -- the module -----------------------------------------------------------------------------------


class TreasuryModule(Module):
    """Protocol pause, owed withdrawals and covered bad debt (see the module docstring)."""

    name = "treasury"

    def __init__(self, bad_debt: Callable[[str], int] | None = None) -> None:
        """`bad_debt(asset)`: the bad debt the risk engine wrote off in `asset` (the composition root
        passes the risk module's; None: no risk module, no bad debt)."""
        self._bad_debt = bad_debt
        self.withdrawals_paused = False
        self.risk_paused = False
        self.reason = ""
        self.owed: dict[int, tuple[str, str, int]] = {}  # wid -> (account, asset, amount)
        # account -> [wid, asset, amount, requested ts, settled ts | None, tx(, refund reason)], oldest
        # first: paid records have 6 fields, refunded ones a 7th (older snapshots keep their hash)
        self.history: dict[str, list[list]] = {}
        self.covered: dict[str, int] = {}  # asset -> paid by InsuranceFund.cover so far

    def handlers(self, engine: EngineContext) -> dict[type, Any]:
        core_withdraw = engine.handlers[C.Withdraw]
        return {
            C.Withdraw: lambda cmd: self._on_withdraw(engine, cmd, core_withdraw),
            ProtocolState: lambda cmd: self._on_protocol(engine, cmd),
            WithdrawalPaid: lambda cmd: self._on_paid(engine, cmd),
            WithdrawalQueued: lambda cmd: self._on_queued(engine, cmd),
            WithdrawalRefunded: lambda cmd: self._on_refunded(engine, cmd),
            CoverPaid: lambda cmd: self._on_cover(engine, cmd),
        }

    # -- views for the daemon ---------------------------------------------------------------------
    def bad_debt_owed(self, asset: str) -> int:
        """Return the bad debt in `asset` written off by the risk engine and not yet covered."""
        return self._written_off(asset) - self.covered.get(asset, 0)

    def withdrawals_of(self, account: str) -> list[dict]:
        """Return the account's withdrawals, newest first: `status` is `requested` until paid on-chain
        (`paid`, with `paid_ts` and `tx`) or refunded (`refunded`, with `refunded_ts` and `reason`);
        `queued` (with the queuing `tx`) while Custody holds it for its outflow window."""
        return [_record_view(account, record) for record in reversed(self.history.get(account, ()))]

    def is_queued(self, wid: int) -> bool:
        """Return whether owed withdrawal `wid` is journaled `withdrawal_queued` (held by Custody)."""
        owed = self.owed.get(wid)
        record = _find(self.history.get(owed[0], ()), wid) if owed is not None else None
        return record is not None and bool(record[5])

    def requested_ts(self, wid: int) -> int | None:
        """Return when owed withdrawal `wid` was requested (None if it is not owed)."""
        owed = self.owed.get(wid)
        if owed is None:
            return None
        record = _find(self.history.get(owed[0], ()), wid)
        return record[3] if record is not None else None

    def _written_off(self, asset: str) -> int:
        return self._bad_debt(asset) if self._bad_debt is not None else 0

    # -- hooks ------------------------------------------------------------------------------------
    def check_order(self, engine: EngineContext, market: Market, acct: Account, order: OpenOrder) -> Veto:
        if self.risk_paused and not order.reduce_only:
            return (R.PROTOCOL_PAUSED, f"the protocol is paused ({self.reason}): only reduce-only orders")
        return None

    def _on_withdraw(self, engine: EngineContext, cmd: C.Withdraw, core: Any) -> list:
        if self.withdrawals_paused:
            return [
                engine.reject(cmd, R.WITHDRAWALS_PAUSED, f"withdrawals are paused ({self.reason})", cmd.asset)
            ]
        out = core(cmd)
        for event in out:
            if event.__class__ is WithdrawalRequested:
                self.owed[event.wid] = (event.account, event.asset, event.amount)
                records = self.history.setdefault(event.account, [])
                records.append([event.wid, event.asset, event.amount, event.ts, None, ""])
        return out

    def _on_protocol(self, engine: EngineContext, cmd: ProtocolState) -> list:
        if not isinstance(cmd.withdrawals_paused, bool) or not isinstance(cmd.risk_paused, bool):
            return [engine.reject(cmd, R.BAD_FLAG, "paused flags must be true or false")]
        if not isinstance(cmd.reason, str):
            return [engine.reject(cmd, R.BAD_REASON, "the reason must be a string")]
        if (cmd.withdrawals_paused, cmd.risk_paused) == (self.withdrawals_paused, self.risk_paused):
            return [engine.reject(cmd, R.PROTOCOL_UNCHANGED, "the protocol is already in that state")]
        self.withdrawals_paused = cmd.withdrawals_paused
        self.risk_paused = cmd.risk_paused
        self.reason = cmd.reason if cmd.withdrawals_paused or cmd.risk_paused else ""
        return [ProtocolChanged(cmd.ts, cmd.withdrawals_paused, cmd.risk_paused, cmd.reason)]

    def _on_paid(self, engine: EngineContext, cmd: WithdrawalPaid) -> list:
        owed = self.owed.get(cmd.wid) if type(cmd.wid) is int else None
        if owed is None:
            return [self._not_owed(engine, cmd)]
        if not isinstance(cmd.tx, str):
            return [engine.reject(cmd, R.BAD_TX, "the transaction hash must be a string", str(cmd.wid))]
        del self.owed[cmd.wid]
        account, asset, amount = owed
        records = self.history.get(account, [])
        record = _find(records, cmd.wid)
        if record is not None:
            record[4], record[5] = cmd.ts, cmd.tx
        _trim(records)
        return [WithdrawalSettled(cmd.ts, cmd.wid, account, asset, amount, cmd.tx)]

    def _on_queued(self, engine: EngineContext, cmd: WithdrawalQueued) -> list:
        owed = self.owed.get(cmd.wid) if type(cmd.wid) is int else None
        if owed is None:
            return [self._not_owed(engine, cmd)]
        if not isinstance(cmd.tx, str) or not cmd.tx:
            return [engine.reject(cmd, R.BAD_TX, "the queuing transaction hash is required", str(cmd.wid))]
        account, asset, amount = owed
        record = _find(self.history.get(account, []), cmd.wid)
        if record is None or record[5]:
            return [engine.reject(cmd, R.ALREADY_QUEUED, f"withdrawal {cmd.wid} is queued", str(cmd.wid))]
        record[5] = cmd.tx  # an owed record with a tx: held by Custody (the paying tx replaces it)
        return [WithdrawalHeld(cmd.ts, cmd.wid, account, asset, amount, cmd.tx)]

    def _on_refunded(self, engine: EngineContext, cmd: WithdrawalRefunded) -> list:
        owed = self.owed.get(cmd.wid) if type(cmd.wid) is int else None
        if owed is None:
            return [self._not_owed(engine, cmd)]
        if not isinstance(cmd.reason, str) or not cmd.reason.strip():
            return [engine.reject(cmd, R.BAD_REASON, "a refund needs a reason", str(cmd.wid))]
        if len(cmd.reason) > MAX_REFUND_REASON:
            return [
                engine.reject(
                    cmd,
                    R.BAD_REASON,
                    f"the reason is longer than {MAX_REFUND_REASON} characters",
                    str(cmd.wid),
                )
            ]
        del self.owed[cmd.wid]
        account, asset, amount = owed
        # the debit made by `withdraw`, undone: the account exists (it withdrew) and may have traded since
        engine.accounts.credit(engine.accounts.open(account), asset, amount)
        records = self.history.get(account, [])
        record = _find(records, cmd.wid)
        if record is not None:
            record[4], record[5] = cmd.ts, ""
            record.append(cmd.reason)
        _trim(records)
        return [WithdrawalReturned(cmd.ts, cmd.wid, account, asset, amount, cmd.reason)]

    def _not_owed(
        self, engine: EngineContext, cmd: WithdrawalPaid | WithdrawalQueued | WithdrawalRefunded
    ) -> Any:
        """The rejection of a payment or refund of a withdrawal that is not owed (says why, if known)."""
        if type(cmd.wid) is int:
            for records in self.history.values():
                record = _find(records, cmd.wid)
                if record is not None:  # recorded but not owed: it was settled
                    if len(record) > 6:
                        return engine.reject(
                            cmd, R.ALREADY_REFUNDED, f"withdrawal {cmd.wid} was refunded", str(cmd.wid)
                        )
                    return engine.reject(cmd, R.ALREADY_PAID, f"withdrawal {cmd.wid} was paid", str(cmd.wid))
        return engine.reject(cmd, R.UNKNOWN_WITHDRAWAL, f"withdrawal {cmd.wid!r} is not owed", str(cmd.wid))

    def _on_cover(self, engine: EngineContext, cmd: CoverPaid) -> list:
        if cmd.asset not in engine.assets:
            return [engine.reject(cmd, R.UNKNOWN_ASSET, f"no asset {cmd.asset!r}", cmd.asset)]
        if type(cmd.amount) is not int or cmd.amount <= 0:
            return [engine.reject(cmd, R.BAD_AMOUNT, "the amount must be positive", cmd.asset)]
        if cmd.amount > self.bad_debt_owed(cmd.asset):
            return [
                engine.reject(
                    cmd,
                    R.COVER_EXCEEDS_BAD_DEBT,
                    f"{cmd.amount} is more than the {self.bad_debt_owed(cmd.asset)} of bad debt owed",
                    cmd.asset,
                )
            ]
        if not isinstance(cmd.tx, str):
            return [engine.reject(cmd, R.BAD_TX, "the transaction hash must be a string", cmd.asset)]
        covered = self.covered.get(cmd.asset, 0) + cmd.amount
        self.covered[cmd.asset] = covered
        return [BadDebtCovered(cmd.ts, cmd.asset, cmd.amount, covered, cmd.tx)]

    # -- state ------------------------------------------------------------------------------------
    def to_state(self) -> Any:
        state = {
            "withdrawals_paused": self.withdrawals_paused,
            "risk_paused": self.risk_paused,
            "reason": self.reason,
            "owed": [[wid, *self.owed[wid]] for wid in sorted(self.owed)],
            "covered": {asset: self.covered[asset] for asset in sorted(self.covered)},
        }
        if self.history:  # absent while empty: snapshots from before it existed keep their state hash
            state["history"] = {a: [list(r) for r in self.history[a]] for a in sorted(self.history)}
        return state

    def load_state(self, state: Any) -> None:
        if state is None:  # a snapshot from before this module existed
            return
        self.withdrawals_paused = state["withdrawals_paused"]
        self.risk_paused = state["risk_paused"]
        self.reason = state["reason"]
        self.owed = {wid: (account, asset, amount) for wid, account, asset, amount in state["owed"]}
        self.covered = dict(state["covered"])
        self.history = {a: [list(r) for r in records] for a, records in state.get("history", {}).items()}


def _find(records: Any, wid: int) -> list | None:
    for record in records:
        if record[0] == wid:
            return record
    return None


def _record_view(account: str, record: list) -> dict:
    wid, asset, amount, requested_ts, settled_ts, tx = record[:6]
    refunded = len(record) > 6
    status = "refunded" if refunded else "paid" if settled_ts is not None else "queued" if tx else "requested"
    return {
        "wid": wid,
        "account": account,
        "asset": asset,
        "amount": amount,
        "status": status,
        "requested_ts": requested_ts,
        "paid_ts": settled_ts if status == "paid" else None,
        "tx": tx,
        "refunded_ts": settled_ts if refunded else None,
        "reason": record[6] if refunded else "",
    }


def _trim(records: list[list]) -> None:
    """Forget the oldest settled (paid or refunded) withdrawals beyond `HISTORY_KEEP` (owed ones stay)."""
    extra = sum(1 for r in records if r[4] is not None) - HISTORY_KEEP
    if extra <= 0:
        return
    kept = []
    for record in records:
        if record[4] is not None and extra > 0:
            extra -= 1
            continue
        kept.append(record)
    records[:] = kept
