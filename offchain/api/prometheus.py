"""`/metrics`: counters of what the exchange did, in the Prometheus text format (version 0.0.4).

Counters are fed from the service's event stream (orders, trades, rejections, breaker transitions,
liquidations, alerts) and from the API itself (requests, refusals); gauges (market states, journal
position, reserve ratios, WebSocket clients, the early warning's figures) are read when scraped.

The early warning (`offchain.chain.early_warning`, read from `service.chain_status`) is exported as
`breakwater_early_warning_<gauge>{asset}` per `GAUGES` entry (amounts in whole tokens, ratios in
bps), `breakwater_early_warning_threshold_bps{check}`, `breakwater_early_warning_active{kind,asset}`
(1 while the condition holds) and its counters `breakwater_early_warning_*_total`.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from offchain.chain.early_warning import CONDITIONS, GAUGES
from offchain.core.codec import format_units

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
STATES = ("continuous", "halted", "cooldown", "auction")

# name -> (help, label names)
COUNTERS = {
    "breakwater_orders_accepted_total": ("Orders the engine accepted.", ("symbol",)),
    "breakwater_rejections_total": ("Commands the engine rejected, by command and code.", ("cmd", "code")),
    "breakwater_trades_total": ("Trades executed (auction fills included).", ("symbol",)),
    "breakwater_cancels_total": ("Order cancellations, by reason.", ("reason",)),
    "breakwater_breaker_transitions_total": ("Circuit breaker state changes.", ("symbol", "to")),
    "breakwater_liquidations_total": ("Liquidation steps, by route.", ("symbol", "via")),
    "breakwater_alerts_total": ("Early-warning alerts raised.", ("kind",)),
    "breakwater_api_requests_total": ("HTTP requests served.", ("method", "route", "status")),
    "breakwater_api_refusals_total": ("Requests refused before the engine, by code.", ("code",)),
}


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: tuple[str, ...], values: tuple) -> str:
    if not names:
        return ""
    return "{" + ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)) + "}"


class Telemetry:
    """The counters; `observe` is the service subscriber (cheap: it runs on the sequencer)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, dict[tuple, int]] = {name: defaultdict(int) for name in COUNTERS}
        self.ws_clients = 0

    def inc(self, name: str, *labels: str, by: int = 1) -> None:
        with self._lock:
            self._counts[name][labels] += by

    def observe(self, events: list[dict]) -> None:
        """Count what one command did."""
        with self._lock:
            c = self._counts
            for e in events:
                kind = e.get("event")
                if kind == "accepted":
                    c["breakwater_orders_accepted_total"][(e["symbol"],)] += 1
                elif kind == "trade":
                    c["breakwater_trades_total"][(e["symbol"],)] += 1
                elif kind == "rejected":
                    c["breakwater_rejections_total"][(e["cmd"], e["code"])] += 1
                elif kind == "cancelled":
                    c["breakwater_cancels_total"][(e["reason"],)] += 1
                elif kind == "breaker":
                    c["breakwater_breaker_transitions_total"][(e["symbol"], e["to_state"])] += 1
                elif kind == "liquidation":
                    c["breakwater_liquidations_total"][(e["symbol"], e["via"])] += 1
                elif kind == "alert":
                    c["breakwater_alerts_total"][(str(e.get("kind", "")),)] += 1

    def render(self, service: Any) -> str:
        """Return the exposition text: every counter, then the gauges read now."""
        lines: list[str] = []
        with self._lock:
            snapshot = {name: dict(values) for name, values in self._counts.items()}
        for name, (help_text, label_names) in COUNTERS.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
            for labels, value in sorted(snapshot[name].items()):
                lines.append(f"{name}{_labels(label_names, labels)} {value}")
        lines += self._gauges(service)
        return "\n".join(lines) + "\n"

    def _gauges(self, service: Any) -> list[str]:
        def states(engine):
            decimals = {a: asset.decimals for a, asset in engine.assets.items()}
            return engine.now, {s: m.state for s, m in sorted(engine.markets.items())}, decimals

        now, market_states, decimals = service.read(states)
        lines = [
            "# HELP breakwater_journal_seq Commands journaled so far.",
            "# TYPE breakwater_journal_seq gauge",
            f"breakwater_journal_seq {service.runner.seq}",
            "# HELP breakwater_engine_time_ms Time of the last accepted command (ms since the epoch).",
            "# TYPE breakwater_engine_time_ms gauge",
            f"breakwater_engine_time_ms {now}",
            "# HELP breakwater_market_state 1 for the state each market is in.",
            "# TYPE breakwater_market_state gauge",
        ]
        for symbol, state in market_states.items():
            for s in STATES:
                lines.append(
                    f"breakwater_market_state{_labels(('symbol', 'state'), (symbol, s))} {int(s == state)}"
                )
        lines += [
            "# HELP breakwater_ws_clients WebSocket clients connected.",
            "# TYPE breakwater_ws_clients gauge",
            f"breakwater_ws_clients {self.ws_clients}",
        ]
        chain = dict(service.chain_status)
        reserves = chain.get("reserves")
        if isinstance(reserves, dict):
            lines += [
                "# HELP breakwater_reserve_ratio_bps On-chain reserves over attested net liabilities.",
                "# TYPE breakwater_reserve_ratio_bps gauge",
            ]
            for asset, entry in sorted(reserves.items()):
                ratio = entry.get("ratio_bps") if isinstance(entry, dict) else None
                if isinstance(ratio, int) and not isinstance(ratio, bool):
                    lines.append(f"breakwater_reserve_ratio_bps{_labels(('asset',), (asset,))} {ratio}")
        attestation = chain.get("attestation")
        if isinstance(attestation, dict) and isinstance(attestation.get("age_s"), int):
            lines += [
                "# HELP breakwater_attestation_age_seconds Age of the latest reserve attestation.",
                "# TYPE breakwater_attestation_age_seconds gauge",
                f"breakwater_attestation_age_seconds {attestation['age_s']}",
            ]
        warning = chain.get("early_warning")
        if isinstance(warning, dict):
            lines += _early_warning(warning, decimals)
        return lines


# early-warning counters exported as such (its alert counters are `breakwater_alerts_total` already)
EARLY_WARNING_COUNTERS = {
    "withdrawals_requested_total": "Withdrawal requests seen by the early warning since the daemon started.",
    "withdrawals_paid_total": "Withdrawals paid on-chain since the daemon started.",
    "withdrawals_refunded_total": "Withdrawals Custody refused for good and the engine refunded, since start.",
    "large_transfers_total": "Large on-chain transfers of deployment tokens seen since the daemon started.",
}


def _early_warning(warning: dict, decimals: dict[str, int]) -> list[str]:
    """The early warning's figures: per-asset gauges, thresholds, active conditions, counters."""
    lines: list[str] = []
    assets = warning.get("assets") if isinstance(warning.get("assets"), dict) else {}
    for gauge, (unit, meaning) in GAUGES.items():
        name = f"breakwater_early_warning_{gauge}"
        samples = []
        for asset, figures in sorted(assets.items()):
            value = figures.get(gauge) if isinstance(figures, dict) else None
            if not _is_int(value):
                continue
            if unit == "atoms":
                if asset not in decimals:
                    continue  # an asset the engine does not list: no unit to show it in
                value = format_units(value, decimals[asset])
            samples.append(f"{name}{_labels(('asset',), (asset,))} {value}")
        if samples:
            unit_text = {"atoms": "whole tokens", "bps": "basis points"}.get(unit, unit)
            lines += [
                f"# HELP {name} Early warning: {meaning} ({unit_text}).",
                f"# TYPE {name} gauge",
                *samples,
            ]
    thresholds = warning.get("thresholds")
    if isinstance(thresholds, dict) and thresholds:
        name = "breakwater_early_warning_threshold_bps"
        lines += [
            f"# HELP {name} Early warning: the level at which each check alerts (coverage: below it).",
            f"# TYPE {name} gauge",
        ]
        for check, value in sorted(thresholds.items()):
            if _is_int(value):
                lines.append(f"{name}{_labels(('check',), (check.removesuffix('_bps'),))} {value}")
    if assets:
        active = {tuple(entry) for entry in warning.get("active", ()) if isinstance(entry, list | tuple)}
        name = "breakwater_early_warning_active"
        lines += [
            f"# HELP {name} Early warning: 1 while a condition holds for an asset (its alert is raised).",
            f"# TYPE {name} gauge",
        ]
        for kind in CONDITIONS:
            for asset in sorted(assets):
                lines.append(
                    f"{name}{_labels(('kind', 'asset'), (kind, asset))} {int((kind, asset) in active)}"
                )
    counters = warning.get("counters")
    if isinstance(counters, dict):
        for key, help_text in EARLY_WARNING_COUNTERS.items():
            name = f"breakwater_early_warning_{key}"
            value = counters.get(key, 0)
            if _is_int(value):
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter", f"{name} {value}"]
    return lines


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
