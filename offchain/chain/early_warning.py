"""Early warning (seed 000): withdrawal rate and bank-run detection against hot reserves, large transfers.

Seed 000 asks an exchange to keep enough hot to pay 60-70 % of instant withdrawal demand and to
watch withdrawal frequency and whale transfers. Per asset, over a rolling window:

* **withdrawal rate**: requested withdrawals in the window above `withdrawal_rate_alert_bps` of the
  hot reserves (the Custody balance) — people are leaving faster than usual;
* **bank run**: window demand plus what is still owed on-chain above `bank_run_bps` of the hot
  reserves — the hot wallet is about to be unable to pay, the exchange must move cold funds in;
* **hot coverage**: hot reserves below `hot_coverage_min_bps` of the engine's net liabilities;
* **large transfer**: an ERC-20 transfer of a deployment token of at least `large_transfers[symbol]`
  whole units (flagged when it touches Custody or the Pool).

**Actions** (`early_warning_actions`, each evented as an `ew_action` alert with `action`, `undo` and
its figures, listed under `actions` while in force; `enabled = false` leaves alerts only):

| trigger | action | undo |
|---|---|---|
| `withdrawal_rate` or `bank_run` on any asset | deposits need `run_confirmations` (the watcher's `confirmations()`) | when no run condition is active |
| `withdrawal_rate` or `bank_run` on an asset | the hot target becomes `run_hot_target_bps` of net liabilities; the shortfall is requested from cold storage (`cold_to_hot` with `amount` atoms, repeated when it grows by 10 %) | when the asset's run clears |
| `large_transfer` of a token of a listed pair touching Custody or the Pool | that market's breaker trips at `whale_cvd_trip_ppm` (journaled `breaker` command) | `whale_hold_s` after the last such transfer: the market's configured figure again |
| `hot_reserves_low` on an asset | new borrowing of it needs `pause_borrow_imr_ppm` initial margin (journaled `risk_asset`; maintenance unchanged, so nobody is liquidated by it) | when the alert clears: the figure before |

What an action changed in the engine is journaled, and the figures to restore are kept in the daemon
state, so a restart undoes them on time too.

Alerts go through `service.alert` when a condition starts (and once more when it clears); the
counters and gauges are in `service.chain_status["early_warning"]`, which the API exports in
`/metrics` (`offchain.api.prometheus`): `assets` (per asset, the `GAUGES` below), `thresholds`,
`active` conditions and `counters`; `gauges` is the same per-asset figures flattened
(`bank_run_bps_USDC`).
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from typing import Any

from offchain.core.breaker.module import SetBreaker
from offchain.core.messages.codec import format_units
from offchain.core.messages.risk import RiskAsset

BPS = 10_000

# gauge -> (unit, meaning); `atoms` are amounts in the asset's smallest unit
GAUGES = {
    "withdrawal_requests": ("count", "withdrawal requests in the rolling window"),
    "withdrawal_demand": ("atoms", "withdrawals requested in the rolling window"),
    "withdrawals_owed": ("atoms", "withdrawals accepted by the engine and not yet paid on-chain"),
    "hot_reserves": ("atoms", "the Custody balance (hot reserves)"),
    "withdrawal_rate_bps": ("bps", "window withdrawal demand over hot reserves"),
    "bank_run_bps": ("bps", "window demand plus owed withdrawals over hot reserves"),
    "hot_coverage_bps": ("bps", "hot reserves over the engine's net liabilities (only with liabilities)"),
}
CONDITIONS = ("withdrawal_rate", "bank_run", "hot_reserves_low")  # the alert kinds that stay active
RUN = ("withdrawal_rate", "bank_run")
# engine event -> counter: withdrawals settled since the daemon started (requests are counted above)
SETTLED_COUNTERS = {
    "withdrawal_paid": "withdrawals_paid_total",
    "withdrawal_refunded": "withdrawals_refunded_total",
}


class EarlyWarning:
    """Rolling withdrawal demand per asset, compared with hot reserves; large-transfer alerts."""

    def __init__(self, service: Any, settings: Any, protocol: Any = None, state: Any = None, clock=None):
        self.service = service
        self.actions_cfg = settings.early_warning_actions
        self.base_confirmations = settings.confirmations
        self.breaker_params = settings.breaker_params
        self.state = state
        self.clock_ms = clock or getattr(service, "clock_ms", lambda: 0)
        saved = (state.get("early_warning:actions") if state is not None else None) or {}
        self.actions: dict[str, dict] = dict(saved)  # action key -> what was done and how to undo it
        self.window_ms = settings.withdrawal_window_s * 1000
        self.rate_bps = settings.withdrawal_rate_alert_bps
        self.run_bps = settings.bank_run_bps
        self.coverage_bps = settings.hot_coverage_min_bps
        self.large = dict(settings.large_transfers)
        self.protocol = protocol
        # Custody and its cold wallets (lower-case): a transfer between two of them is the exchange's
        # own hot/cold move (offchain/chain/rebalancer.py), never a whale.
        self.own_wallets: set[str] = set()
        self._lock = threading.Lock()
        self._requests: dict[str, deque[tuple[int, int]]] = defaultdict(deque)  # asset -> (ts, amount)
        self._active: set[tuple[str, str]] = set()
        self.counters: dict[str, int] = defaultdict(int)
        self.per_asset: dict[str, dict[str, int]] = {}  # asset -> GAUGES name -> value

    # -- inputs -----------------------------------------------------------------------------------
    def on_events(self, events: list[dict]) -> None:
        """Service subscriber: note every withdrawal request, payment and refund (runs under the
        sequencer lock: cheap)."""
        for e in events:
            kind = e.get("event")
            if kind == "withdrawal_requested":
                with self._lock:
                    self._requests[e["asset"]].append((e["ts"], e["amount"]))
                    self.counters["withdrawals_requested_total"] += 1
            elif kind in SETTLED_COUNTERS:
                with self._lock:
                    self.counters[SETTLED_COUNTERS[kind]] += 1

    def on_transfer(
        self, symbol: str, sender: str, receiver: str, amount: int, decimals: int, tx: str
    ) -> None:
        """Look at one ERC-20 transfer of a deployment token; alert if it is large."""
        threshold = self.large.get(symbol)
        if threshold is None or amount < threshold * 10**decimals:
            return
        if sender.lower() in self.own_wallets and receiver.lower() in self.own_wallets:
            return
        watched = self._watched()
        touches = sorted(name for name, addr in watched.items() if addr in (sender.lower(), receiver.lower()))
        with self._lock:
            self.counters["large_transfers_total"] += 1
        if touches and set(touches) & {"Custody", "Pool"}:
            self._tighten_bands(symbol, tx)
        self._alert(
            "large_transfer",
            f"{format_units(amount, decimals)} {symbol} moved on-chain"
            + (f" (touches {', '.join(touches)})" if touches else ""),
            asset=symbol,
            sender=sender,
            receiver=receiver,
            amount=str(amount),
            tx=tx,
            touches=touches,
        )

    # -- evaluation -------------------------------------------------------------------------------
    def evaluate(
        self, now_ms: int, hot: dict[str, int], owed: dict[str, int], liabilities: dict[str, int]
    ) -> dict:
        """Update gauges and raise/clear alerts; `hot`, `owed`, `liabilities` are atoms per asset."""
        cutoff = now_ms - self.window_ms
        with self._lock:
            demand, requests = {}, {}
            for asset, q in self._requests.items():
                while q and q[0][0] < cutoff:
                    q.popleft()
                demand[asset] = sum(a for _, a in q)
                requests[asset] = len(q)
        per_asset: dict[str, dict[str, int]] = {}
        for asset in sorted(set(hot) | set(demand)):
            reserve = hot.get(asset, 0)
            window = demand.get(asset, 0)
            pending = owed.get(asset, 0)
            rate = _bps(window, reserve)
            run = _bps(window + pending, reserve)
            figures = per_asset[asset] = {
                "withdrawal_requests": requests.get(asset, 0),
                "withdrawal_demand": window,
                "withdrawals_owed": pending,
                "hot_reserves": reserve,
                "withdrawal_rate_bps": rate,
                "bank_run_bps": run,
            }
            self._level(
                "withdrawal_rate",
                asset,
                window > 0 and rate > self.rate_bps,
                f"{asset} withdrawals in the last {self.window_ms // 1000}s are {_pct(rate)} of hot reserves",
                rate_bps=rate,
            )
            self._level(
                "bank_run",
                asset,
                window + pending > 0 and run > self.run_bps,
                f"{asset} withdrawal demand is {_pct(run)} of hot reserves: move cold funds to Custody",
                demand_bps=run,
            )
            net = liabilities.get(asset, 0)
            if net > 0:
                coverage = _bps(reserve, net)
                figures["hot_coverage_bps"] = coverage
                self._level(
                    "hot_reserves_low",
                    asset,
                    coverage < self.coverage_bps,
                    f"hot {asset} covers {_pct(coverage)} of net liabilities (target {_pct(self.coverage_bps)})",
                    coverage_bps=coverage,
                )
        with self._lock:
            self.per_asset = per_asset
        self._act(now_ms, hot, liabilities)
        return self.metrics()

    def metrics(self) -> dict:
        """Counters, per-asset gauges, thresholds and active conditions (integers) for `/metrics`."""
        with self._lock:
            return {
                "counters": dict(self.counters),
                "assets": {asset: dict(figures) for asset, figures in self.per_asset.items()},
                "gauges": {
                    f"{name}_{asset}": value
                    for asset, figures in self.per_asset.items()
                    for name, value in figures.items()
                },
                "thresholds": {
                    "withdrawal_rate_bps": self.rate_bps,
                    "bank_run_bps": self.run_bps,
                    "hot_coverage_min_bps": self.coverage_bps,
                },
                "window_s": self.window_ms // 1000,
                "active": sorted(map(list, self._active)),
                "actions": {key: dict(entry) for key, entry in sorted(self.actions.items())},
            }

    # -- actions (module docstring) ---------------------------------------------------------------
    def required_confirmations(self) -> int:
        """Confirmations deposits need now (raised while a run is on)."""
        entry = self.actions.get("confirmations")
        return entry["confirmations"] if entry else self.base_confirmations

    def _act(self, now_ms: int, hot: dict[str, int], liabilities: dict[str, int]) -> None:
        cfg = self.actions_cfg
        with self._lock:
            active = set(self._active)
        run_assets = sorted({asset for kind, asset in active if kind in RUN})
        if not cfg.enabled:
            run_assets = []
        # deposits: more confirmations during a run
        if run_assets and cfg.run_confirmations > self.base_confirmations:
            if "confirmations" not in self.actions:
                self._do(
                    "confirmations",
                    "raise_confirmations",
                    f"deposits need {cfg.run_confirmations} confirmations during the run on {', '.join(run_assets)}",
                    confirmations=cfg.run_confirmations,
                    undo=f"back to {self.base_confirmations} when no run is on",
                )
        elif "confirmations" in self.actions:
            self._undo("confirmations", f"deposits need {self.base_confirmations} confirmations again")
        # hot target: request cold -> hot for each asset under a run
        for asset in run_assets:
            target = liabilities.get(asset, 0) * cfg.run_hot_target_bps // BPS
            shortfall = target - hot.get(asset, 0)
            key = f"cold_to_hot:{asset}"
            done = self.actions.get(key)
            if shortfall > 0 and (done is None or shortfall > int(done["amount"]) * 11 // 10):
                self._do(
                    key,
                    "cold_to_hot",
                    f"move {shortfall} {asset} atoms from cold storage to Custody (hot target "
                    f"{_pct(cfg.run_hot_target_bps)} of net liabilities)",
                    asset=asset,
                    amount=str(shortfall),
                    hot_target=str(target),
                    undo="when the run on the asset clears",
                )
        for key in [k for k in self.actions if k.startswith("cold_to_hot:")]:
            if key.split(":", 1)[1] not in run_assets:
                self._undo(key, f"the run on {key.split(':', 1)[1]} cleared: no cold funds needed")
        # hot coverage: pause new borrowing of the asset
        low = sorted(asset for kind, asset in active if kind == "hot_reserves_low") if cfg.enabled else []
        for asset in low:
            key = f"borrow_pause:{asset}"
            if key in self.actions:
                continue
            before = self._borrow_imr(asset)
            if before is None or before >= cfg.pause_borrow_imr_ppm:
                continue
            if self._submit(RiskAsset(0, asset, borrow_imr_ppm=cfg.pause_borrow_imr_ppm)):
                self._do(
                    key,
                    "pause_borrowing",
                    f"new {asset} borrowing needs {cfg.pause_borrow_imr_ppm // 10_000}% initial margin "
                    "while hot reserves are low",
                    asset=asset,
                    borrow_imr_ppm=cfg.pause_borrow_imr_ppm,
                    restore_ppm=before,
                    undo="when hot coverage is back",
                )
        for key in [k for k in self.actions if k.startswith("borrow_pause:")]:
            asset = key.split(":", 1)[1]
            if asset not in low:
                restore = self.actions[key]["restore_ppm"]
                if self._submit(RiskAsset(0, asset, borrow_imr_ppm=restore)):
                    self._undo(key, f"new {asset} borrowing needs {restore} ppm initial margin again")
        # whale bands: restore once the hold is over
        for key in [k for k in self.actions if k.startswith("band:")]:
            entry = self.actions[key]
            if now_ms >= entry["until_ms"] or not cfg.enabled:
                symbol = entry["market"]
                if self._submit(SetBreaker(0, symbol, {"cvd_trip_ppm": entry["restore_ppm"]})):
                    self._undo(key, f"{symbol} trips at {entry['restore_ppm']} ppm CVD again")

    def _tighten_bands(self, token: str, tx: str) -> None:
        cfg = self.actions_cfg
        if not cfg.enabled:
            return
        now = self.clock_ms()
        until = now + cfg.whale_hold_s * 1000

        def markets(engine: Any) -> dict[str, tuple[int, int]]:
            breaker = next((m for m in engine.modules if m.name == "breaker"), None)
            if breaker is None:
                return {}
            out = {}
            for sym, market in engine.markets.items():
                if token in (market.base, market.quote):
                    b = breaker.breakers.get(sym)
                    params = b.params if b is not None else breaker.default_params
                    out[sym] = (params.cvd_trip_ppm, params.cvd_recover_ppm)
            return out

        for symbol, (trip, recover) in sorted(self.service.read(markets).items()):
            key = f"band:{symbol}"
            if key in self.actions:
                self.actions[key]["until_ms"] = until  # another whale: hold longer
                self._save()
                continue
            tight = max(cfg.whale_cvd_trip_ppm, recover)
            if tight >= trip:
                continue
            normal = self.breaker_params.get(symbol, {}).get("cvd_trip_ppm", trip)
            if self._submit(SetBreaker(0, symbol, {"cvd_trip_ppm": tight})):
                self._do(
                    key,
                    "tighten_band",
                    f"{symbol} trips at {tight} ppm CVD (was {trip}) after a whale transfer of {token}",
                    market=symbol,
                    cvd_trip_ppm=tight,
                    restore_ppm=int(normal),
                    until_ms=until,
                    tx=tx,
                    undo=f"{cfg.whale_hold_s}s after the last whale transfer",
                )

    def _borrow_imr(self, asset: str) -> int | None:
        def read(engine: Any) -> int | None:
            risk = next((m for m in engine.modules if m.name == "risk"), None)
            if risk is None or asset not in getattr(risk, "assets", {}):
                return None
            return risk.assets[asset].borrow_imr_ppm

        return self.service.read(read)

    def _submit(self, cmd: Any) -> bool:
        events = self.service.submit(cmd)
        return bool(events) and events[0].EVENT != "rejected"

    def _do(self, key: str, action: str, message: str, **data: Any) -> None:
        entry = {"action": action, "since_ms": self.clock_ms(), **data}
        with self._lock:
            self.actions[key] = entry
            self.counters[f"actions_{action}_total"] += 1
        self._save()
        self.service.alert("ew_action", message, **entry)

    def _undo(self, key: str, message: str) -> None:
        with self._lock:
            entry = self.actions.pop(key, None)
        if entry is None:
            return
        self._save()
        self.service.alert("ew_action_undone", message, **entry)

    def _save(self) -> None:
        if self.state is not None:
            self.state.put("early_warning:actions", self.actions)

    # -- alerts -----------------------------------------------------------------------------------
    def _level(self, kind: str, asset: str, firing: bool, message: str, **data: Any) -> None:
        key = (kind, asset)
        if firing and key not in self._active:
            self._active.add(key)
            self._alert(kind, message, asset=asset, **data)
        elif not firing and key in self._active:
            self._active.discard(key)
            self._alert(
                f"{kind}_cleared", f"{kind.replace('_', ' ')} on {asset} cleared", asset=asset, **data
            )

    def _alert(self, kind: str, message: str, **data: Any) -> None:
        with self._lock:
            self.counters[f"alerts_{kind}_total"] += 1
        self.service.alert(kind, message, **data)

    def _watched(self) -> dict[str, str]:
        if self.protocol is None:
            return {}
        contracts = self.protocol.deployment.contracts
        return {
            name: contracts[name].lower()
            for name in ("Custody", "Pool", "InsuranceFund")
            if name in contracts
        }


def _pct(bps: int) -> str:
    return f"{bps // 100}.{bps % 100:02d}%"


def _bps(part: int, whole: int) -> int:
    """Return part / whole in basis points (a big number when whole is 0 and part is not)."""
    if whole <= 0:
        return 0 if part <= 0 else 10**9
    return part * BPS // whole
