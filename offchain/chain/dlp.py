"""Designated liquidity providers in the running exchange (seed 004 §4.2, the OBCP channel).

**Designation** is an operator action (`POST /ops/designations`, EIP-712 `Designation` signed by one
of the `operators` addresses), checked here against documented criteria before it reaches the
engine as a journaled `dlp` command:

1. **a bond held in the account**: at least `dlp_min_bond[bond_asset]` whole units, and the
   account's free balance of `bond_asset` covers the bond at designation. The bond is what the
   priority channel lends against: at most `bond` atoms of unconfirmed priority credit are
   outstanding at once, and a priority deposit that a reorg removes is debited back from it;
2. **a quoting obligation**: during a halt a DLP rests orders on the halted market within
   `dlp_quote_within_s` of the trip; `status()` (shown under `chain.dlp` on `/status`) says for
   each DLP and halted market whether it meets it, so the operator can revoke one that does not.

An **authorised participant** (`role` "authorised") may add orders during a halt without the priority
channel (no bond); the engine learns it through its `authorise` command when it has one.

**The priority channel** (`ChainWatcher.scan_priority`): while a market is halted (any state but
continuous), a DLP's `Custody.Deposited` of its bond asset is credited at once — 0 confirmations —
as `dlp_deposit` with the deposit's own reference (`deposit:<tx>:<n>`), so the normal confirmed
scan later finds the reference already credited and skips it. Each priority credit is kept pending
(in the daemon state) until its block has `confirmations`; if by then the deposit is no longer on
the chain (a reorg took it), it is debited back (`dlp_reverse` in the engine: from the bond held in
the account) and a `dlp_deposit_reorged` alert is raised. Deposits above the bond's room, of
another asset, or outside a halt wait for their confirmations like everyone's.
"""

from __future__ import annotations

import threading
from decimal import Decimal, InvalidOperation
from typing import Any

from offchain.core.breaker.module import DlpDeposit
from offchain.core.messages.codec import CommandFormatError, format_units, parse_command

ROLES = ("dlp", "authorised")


class DesignationError(Exception):
    """A designation refused; `code` is the API's error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def breaker_module(engine: Any) -> Any:
    for module in engine.modules:
        if module.name == "breaker":
            return module
    return None


def halted_markets(engine: Any) -> dict[str, tuple[str, int]]:
    """Markets not trading continuously: symbol -> (state, since ms)."""
    breaker = breaker_module(engine)
    if breaker is None:
        return {}
    return {
        sym: (b.state, b.since)
        for sym, b in breaker.breakers.items()
        if b.state != "continuous" and sym in engine.markets
    }


def _engine_bond(engine: Any, account: str) -> tuple[str, int] | None:
    """The bond the engine holds for `account` (None: no bond held, or an engine without bonds)."""
    breaker = breaker_module(engine)
    return getattr(breaker, "bonds", {}).get(account) if breaker is not None else None


def _shortfall(engine: Any, account: str, asset: str) -> int:
    """Reversed priority credit of `account` in `asset` its bond and balance did not cover (atoms)."""
    breaker = breaker_module(engine)
    return getattr(breaker, "shortfall", {}).get(account, {}).get(asset, 0) if breaker is not None else 0


def engine_knows(command: str) -> bool:
    from offchain.core.messages import commands as C

    return command in C.COMMANDS


class DlpDesk:
    """Designations (with bonds) and the priority channel's pending credits (module docstring)."""

    def __init__(self, service: Any, settings: Any, state: Any = None):
        self.service = service
        self.settings = settings
        self.state = state
        self.operators = {a.lower() for a in settings.operators}
        self._lock = threading.Lock()
        self.records: dict[str, dict] = dict((state.get("dlp:records") if state else None) or {})
        self.pending: dict[str, dict] = dict((state.get("dlp:pending") if state else None) or {})

    # -- designation ------------------------------------------------------------------------------
    def is_operator(self, address: str) -> bool:
        return address.lower() in self.operators

    def designate(
        self,
        operator: str,
        participant: str,
        role: str,
        designated: bool,
        bond_asset: str = "",
        bond: str = "",
    ) -> dict:
        """Check the criteria and designate (or revoke); return the record. Raises `DesignationError`."""
        if not self.is_operator(operator):
            raise DesignationError("not_operator", f"{operator} is not an operator of this exchange")
        if role not in ROLES:
            raise DesignationError("bad_request", f"role must be one of {', '.join(ROLES)}")
        with self.service.lock:
            engine = self.service.engine
            record: dict[str, Any] = {"account": participant, "role": role, "designated": designated}
            if designated and role == "dlp":
                record.update(self._bond(engine, participant, bond_asset, bond))
            if role == "dlp":
                wire = {"t": 0, "cmd": "dlp", "account": participant, "designated": designated}
                if "bond" in record:  # the engine holds it in the account while designated
                    decimals = engine.assets[record["bond_asset"]].decimals
                    wire["bond_asset"] = record["bond_asset"]
                    wire["bond"] = format_units(record["bond"], decimals)
            elif engine_knows("authorise"):
                wire = {"t": 0, "cmd": "authorise", "account": participant, "authorised": designated}
            else:
                wire = None
            events = self._submit(engine, wire) if wire else []
            record["by"] = operator
            record["ts"] = self.service.clock_ms()
            with self._lock:
                key = f"{role}:{participant}"
                if designated:
                    self.records[key] = record
                else:
                    self.records.pop(key, None)
                self._save()
        return {**record, "events": events}

    def _bond(self, engine: Any, account: str, asset: str, bond: str) -> dict:
        minimum = self.settings.dlp_min_bond.get(asset)
        if minimum is None or asset not in engine.assets:
            allowed = ", ".join(sorted(self.settings.dlp_min_bond)) or "none"
            raise DesignationError("bad_bond", f"{asset!r} cannot be a bond (bond assets: {allowed})")
        try:
            whole = Decimal(bond)
            least = Decimal(minimum)
        except InvalidOperation:
            raise DesignationError("bad_bond", f"bond {bond!r} is not a decimal amount") from None
        if whole < least:
            raise DesignationError("bond_too_small", f"the bond must be at least {minimum} {asset}")
        decimals = engine.assets[asset].decimals
        atoms = whole.scaleb(decimals)
        if atoms != atoms.to_integral_value():
            raise DesignationError("bad_bond", f"{bond} is finer than {asset}'s unit")
        atoms = int(atoms)
        acct = engine.accounts.get(account)
        free = 0 if acct is None else acct.balance.get(asset, 0) - acct.held.get(asset, 0)
        if free < atoms:
            raise DesignationError(
                "bond_not_held", f"{account} holds {free} {asset} atoms free, the bond is {atoms}"
            )
        return {"bond_asset": asset, "bond": atoms}

    def _submit(self, engine: Any, wire: dict) -> list:
        try:
            cmd = parse_command(wire, engine)
        except CommandFormatError as exc:
            raise DesignationError("bad_request", str(exc)) from None
        events = self.service.submit(cmd)
        for e in events:
            if e.EVENT == "rejected" and e.cmd == wire["cmd"]:
                raise DesignationError(e.code, e.message)
        return [e.EVENT for e in events]

    def dlp(self, account: str) -> dict | None:
        """The DLP record of `account` if it is designated (here and in the engine)."""
        record = self.records.get(f"dlp:{account}")
        if record is None:
            return None
        breaker = self.service.read(breaker_module)
        if breaker is None or account not in breaker.dlps:
            return None
        return record

    # -- the priority channel ---------------------------------------------------------------------
    def room(self, account: str, asset: str) -> int:
        """Unconfirmed priority credit `account` may still take in `asset` (0: none)."""
        record = self.dlp(account)
        if record is None or record.get("bond_asset") != asset:
            return 0
        held = self.service.read(lambda engine: _engine_bond(engine, account))
        bond = record["bond"] if held is None else (held[1] if held[0] == asset else 0)
        with self._lock:
            outstanding = sum(
                p["amount"] for p in self.pending.values() if p["account"] == account and p["asset"] == asset
            )
        return max(0, bond - outstanding)

    def priority_market(self, asset: str) -> tuple[str, int] | None:
        """A halted market the deposit serves (one of `asset`, else any): (symbol, halted since ms)."""

        def pick(engine: Any) -> tuple[str, int] | None:
            halted = halted_markets(engine)
            if not halted:
                return None
            ranked = sorted(
                halted.items(),
                key=lambda kv: (
                    asset not in (engine.markets[kv[0]].base, engine.markets[kv[0]].quote),
                    kv[0],
                ),
            )
            sym, (_, since) = ranked[0]
            return sym, since

        return self.service.read(pick)

    def credit(
        self, account: str, asset: str, atoms: int, ref: str, block: int
    ) -> tuple[list, str, int] | None:
        """Credit a DLP deposit through the priority channel; return (events, market, halted since)."""
        target = self.priority_market(asset)
        if target is None:
            return None
        symbol, since = target
        events = self.service.submit(DlpDeposit(0, account, symbol, asset, atoms, ref))
        if not events or events[0].EVENT != "deposited":
            return None
        with self._lock:
            self.pending[ref] = {
                "account": account,
                "asset": asset,
                "amount": atoms,
                "block": block,
                "market": symbol,
                "ts": events[0].ts,
            }
            self._save()
        return events, symbol, since

    def confirmed(self, ref: str) -> None:
        with self._lock:
            if self.pending.pop(ref, None) is not None:
                self._save()

    def reorged(self, ref: str) -> dict | None:
        """A pending priority credit left the chain: debit it back (from the bond) and alert."""
        with self._lock:
            entry = self.pending.pop(ref, None)
            self._save()
        if entry is None:
            return None
        debited = False
        if engine_knows("dlp_reverse"):
            wire = {
                "t": 0,
                "cmd": "dlp_reverse",
                "account": entry["account"],
                "asset": entry["asset"],
                "ref": ref,
            }
            try:
                with self.service.lock:
                    engine = self.service.engine
                    decimals = engine.assets[entry["asset"]].decimals
                    wire["amount"] = format_units(entry["amount"], decimals)
                    owed = _shortfall(engine, entry["account"], entry["asset"])
                    events = self._submit(engine, wire)
                    short = _shortfall(engine, entry["account"], entry["asset"]) - owed
                debited = "dlp_reversed" in events
                if debited and short:
                    entry["shortfall"] = short
            except DesignationError as err:
                entry["problem"] = err.message
        self.service.alert(
            "dlp_deposit_reorged",
            f"priority deposit {ref} of {entry['account']} left the chain"
            + (": debited back from its bond" if debited else ": operator must debit it")
            + (
                " (the bond fell short: the rest is owed, see dlp_shortfall)"
                if entry.get("shortfall")
                else ""
            ),
            **{k: (str(v) if k in ("amount", "shortfall") else v) for k, v in entry.items()},
            ref=ref,
            debited=debited,
        )
        return entry

    # -- status -----------------------------------------------------------------------------------
    def status(self) -> dict:
        """Designations, pending priority credits and the quoting obligation per halted market."""

        def read(engine: Any) -> dict:
            halted = halted_markets(engine)
            now = engine.now
            within = self.settings.dlp_quote_within_s * 1000
            with self._lock:
                records = {k: dict(v) for k, v in self.records.items()}
                pending = {k: {**v, "amount": str(v["amount"])} for k, v in self.pending.items()}
            for record in records.values():
                if "bond" in record:
                    record["bond"] = str(record["bond"])
                if record["role"] != "dlp":
                    continue
                held = _engine_bond(engine, record["account"])
                if held is not None:  # what the engine still holds (a reorged credit uses it up)
                    record["bond_held"] = str(held[1])
                    owed = _shortfall(engine, record["account"], held[0])
                    if owed:
                        record["shortfall"] = str(owed)
                quoting = {}
                for sym, (_, since) in halted.items():
                    rests = any(o.symbol == sym for o in engine.open_orders(record["account"]))
                    quoting[sym] = "quoting" if rests else ("due" if now - since < within else "missed")
                record["quoting"] = quoting
            return {
                "designations": records,
                "pending": pending,
                "halted": {s: st for s, (st, _) in halted.items()},
            }

        return self.service.read(read)

    def _save(self) -> None:
        if self.state is not None:
            self.state.put("dlp:records", self.records)
            self.state.put("dlp:pending", self.pending)
