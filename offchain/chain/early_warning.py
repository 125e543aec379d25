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

from offchain.core.codec import format_units

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
# engine event -> counter: withdrawals settled since the daemon started (requests are counted above)
SETTLED_COUNTERS = {
    "withdrawal_paid": "withdrawals_paid_total",
    "withdrawal_refunded": "withdrawals_refunded_total",
}


class EarlyWarning:
    """Rolling withdrawal demand per asset, compared with hot reserves; large-transfer alerts."""

    def __init__(self, service: Any, settings: Any, protocol: Any = None):
        self.service = service
        self.window_ms = settings.withdrawal_window_s * 1000
        self.rate_bps = settings.withdrawal_rate_alert_bps
        self.run_bps = settings.bank_run_bps
        self.coverage_bps = settings.hot_coverage_min_bps
        self.large = dict(settings.large_transfers)
        self.protocol = protocol
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
        watched = self._watched()
        touches = sorted(name for name, addr in watched.items() if addr in (sender.lower(), receiver.lower()))
        with self._lock:
            self.counters["large_transfers_total"] += 1
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
            }

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
