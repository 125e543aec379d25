"""The engine's state as canonical data: `to_state`, `snapshot` (sorted-key JSON), `state_hash`
(sha256 of the snapshot) and `restore`. What is not in `to_state` is not hashed and not recovered.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from offchain.core.matching.book import Book
from offchain.core.model.fees import FeeSchedule, VolumeWindow
from offchain.core.model.markets import Asset, Market
from offchain.core.model.orders import order_from_state

SNAPSHOT_VERSION = 1


class SnapshotState:
    """The state codec part of `Engine` (engine.py composes it)."""

    # -- state ---------------------------------------------------------------------------------------
    def to_state(self) -> dict:
        """Return the whole state as canonical JSON-able data (what `snapshot` and `state_hash` cover)."""
        markets = {}
        for sym, m in self.markets.items():
            entry = m.params_state()
            entry["bids"] = [o.to_state() for o in m.book.iter_orders(True)]
            entry["asks"] = [o.to_state() for o in m.book.iter_orders(False)]
            markets[sym] = entry
        accounts = {}
        for name, acct in self.accounts.by_name.items():
            accounts[name] = {
                "balance": {a: v for a, v in acct.balance.items() if v},
                "held": {a: v for a, v in acct.held.items() if v},
                "volume": acct.volume.to_state(),
            }
        return {
            "version": SNAPSHOT_VERSION,
            "now": self.now,
            "next_oid": self.next_oid,
            "next_tid": self.next_tid,
            "next_wid": self.next_wid,
            "assets": {s: a.to_state() for s, a in self.assets.items()},
            "markets": markets,
            "accounts": accounts,
            "fees": {a: v for a, v in self.accounts.fees.items() if v},
            "fee_schedule": self.fee_schedule.to_state(),
            "deposit_refs": sorted(self.deposit_refs),
            "risk": self.risk.to_state(),
            "modules": {m.name: m.to_state() for m in self.modules},
        }

    def snapshot(self) -> bytes:
        """Return the canonical encoding of the whole state (UTF-8 JSON, sorted keys)."""
        return json.dumps(self.to_state(), sort_keys=True, separators=(",", ":")).encode()

    def state_hash(self) -> str:
        """Return the sha256 hex digest of `snapshot()`."""
        return hashlib.sha256(self.snapshot()).hexdigest()

    @classmethod
    def restore(cls, data: bytes, modules: list, risk: Any) -> Any:
        """Rebuild an engine from `snapshot()` bytes around `modules` and `risk` (the composition root's
        `restore_engine(data, config)` passes the ones `build_engine(config)` would)."""
        state = json.loads(data)
        if state.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"snapshot version {state.get('version')} is not {SNAPSHOT_VERSION}")
        eng = cls(modules=modules, fee_schedule=FeeSchedule.from_state(state["fee_schedule"]), risk=risk)
        eng.now = state["now"]
        eng.next_oid = state["next_oid"]
        eng.next_tid = state["next_tid"]
        eng.next_wid = state["next_wid"]
        for sym, (_, decimals, weight) in state["assets"].items():
            eng.assets[sym] = Asset(sym, decimals, weight)
        for name, a in state["accounts"].items():
            acct = eng.accounts.open(name)
            acct.balance.update(a["balance"])
            acct.held.update(a["held"])
            acct.volume = VolumeWindow.from_state(a["volume"])
        for sym, m in state["markets"].items():
            market = Market(
                sym,
                m["kind"],
                eng.assets[m["base"]],
                eng.assets[m["quote"]],
                m["tick"],
                m["lot"],
                m["min_qty"],
                m["band_bps"],
                m["impact_bps"],
                book=Book(),
            )
            market.state = m["state"]
            market.last_price = m["last_price"]
            market.index_sources = dict(m["index_sources"])
            market.index_price = m["index_price"]
            market.mark_price = m["mark_price"]
            eng.markets[sym] = market
            for row in m["bids"] + m["asks"]:
                eng._rest(order_from_state(eng.accounts.by_name[row[1]], sym, row))
        eng.accounts.fees.update(state["fees"])
        eng.deposit_refs = set(state["deposit_refs"])
        eng.risk.load_state(state["risk"])
        for module in eng.modules:
            module.load_state(state["modules"].get(module.name))
        eng._wake = eng._next_wake()
        eng.accounts.touched.clear()
        return eng
