"""`/metrics`: counters of what the exchange did, exposed with `prometheus_client` (text format 0.0.4).

Counters are fed from the service's event stream (orders, trades, rejections, breaker transitions,
liquidations, alerts) and from the API itself (requests, refusals); gauges (market states, journal
position, reserve ratios, WebSocket clients, the early warning's figures) are read when scraped, by a
custom collector in a registry of this app's own (not the process-global one: tests build many apps).

The early warning (`offchain.chain.early_warning`, read from `service.chain_status`) is exported as
`breakwater_early_warning_<gauge>{asset}` per `GAUGES` entry (amounts in whole tokens, ratios in
bps), `breakwater_early_warning_threshold_bps{check}`, `breakwater_early_warning_active{kind,asset}`
(1 while the condition holds) and its counters `breakwater_early_warning_*_total`.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from offchain.chain.early_warning import CONDITIONS, GAUGES
from offchain.core.messages.codec import format_units

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
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


def gauge(name: str, help_text: str, labels: tuple[str, ...], samples: list[tuple[tuple, Any]]) -> Metric:
    family = GaugeMetricFamily(name, help_text, labels=list(labels))
    for values, value in samples:
        family.add_metric([str(v) for v in values], float(value))
    return family


def counter(name: str, help_text: str, labels: tuple[str, ...], samples: list[tuple[tuple, Any]]) -> Metric:
    # no `created` timestamp: the families stay exactly `<name>_total` samples, as before
    family = CounterMetricFamily(name, help_text, labels=list(labels))
    for values, value in samples:
        family.add_metric([str(v) for v in values], float(value))
    return family


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
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector(self, service))
        return generate_latest(registry).decode()

    def families(self, service: Any) -> Iterator[Metric]:
        with self._lock:
            snapshot = {name: dict(values) for name, values in self._counts.items()}
        for name, (help_text, label_names) in COUNTERS.items():
            yield counter(name, help_text, label_names, sorted(snapshot[name].items()))
        yield from self._gauges(service)

    def _gauges(self, service: Any) -> Iterator[Metric]:
        def states(engine):
            decimals = {a: asset.decimals for a, asset in engine.assets.items()}
            return engine.now, {s: m.state for s, m in sorted(engine.markets.items())}, decimals

        now, market_states, decimals = service.read(states)
        yield gauge("breakwater_journal_seq", "Commands journaled so far.", (), [((), service.runner.seq)])
        yield gauge(
            "breakwater_engine_time_ms",
            "Time of the last accepted command (ms since the epoch).",
            (),
            [((), now)],
        )
        yield gauge(
            "breakwater_market_state",
            "1 for the state each market is in.",
            ("symbol", "state"),
            [((symbol, s), int(s == state)) for symbol, state in market_states.items() for s in STATES],
        )
        yield gauge("breakwater_ws_clients", "WebSocket clients connected.", (), [((), self.ws_clients)])
        chain = dict(service.chain_status)
        reserves = chain.get("reserves")
        if isinstance(reserves, dict):
            samples = []
            for asset, entry in sorted(reserves.items()):
                ratio = entry.get("ratio_bps") if isinstance(entry, dict) else None
                if _is_int(ratio):
                    samples.append(((asset,), ratio))
            yield gauge(
                "breakwater_reserve_ratio_bps",
                "On-chain reserves over attested net liabilities.",
                ("asset",),
                samples,
            )
        attestation = chain.get("attestation")
        if isinstance(attestation, dict) and _is_int(attestation.get("age_s")):
            yield gauge(
                "breakwater_attestation_age_seconds",
                "Age of the latest reserve attestation.",
                (),
                [((), attestation["age_s"])],
            )
        warning = chain.get("early_warning")
        if isinstance(warning, dict):
            yield from _early_warning(warning, decimals)


class _Collector:
    """One scrape: the app's counters and the gauges read from the service now."""

    def __init__(self, telemetry: Telemetry, service: Any) -> None:
        self.telemetry, self.service = telemetry, service

    def collect(self) -> Iterator[Metric]:
        return self.telemetry.families(self.service)


# early-warning counters exported as such (its alert counters are `breakwater_alerts_total` already)
EARLY_WARNING_COUNTERS = {
    "withdrawals_requested_total": "Withdrawal requests seen by the early warning since the daemon started.",
    "withdrawals_paid_total": "Withdrawals paid on-chain since the daemon started.",
    "withdrawals_refunded_total": "Withdrawals Custody refused for good and the engine refunded, since start.",
    "large_transfers_total": "Large on-chain transfers of deployment tokens seen since the daemon started.",
}


def _early_warning(warning: dict, decimals: dict[str, int]) -> Iterator[Metric]:
    """The early warning's figures: per-asset gauges, thresholds, active conditions, counters."""
    assets = warning.get("assets") if isinstance(warning.get("assets"), dict) else {}
    for name_part, (unit, meaning) in GAUGES.items():
        samples = []
        for asset, figures in sorted(assets.items()):
            value = figures.get(name_part) if isinstance(figures, dict) else None
            if not _is_int(value):
                continue
            if unit == "atoms":
                if asset not in decimals:
                    continue  # an asset the engine does not list: no unit to show it in
                value = format_units(value, decimals[asset])
            samples.append(((asset,), value))
        if samples:
            unit_text = {"atoms": "whole tokens", "bps": "basis points"}.get(unit, unit)
            yield gauge(
                f"breakwater_early_warning_{name_part}",
                f"Early warning: {meaning} ({unit_text}).",
                ("asset",),
                samples,
            )
    thresholds = warning.get("thresholds")
    if isinstance(thresholds, dict) and thresholds:
        yield gauge(
            "breakwater_early_warning_threshold_bps",
            "Early warning: the level at which each check alerts (coverage: below it).",
            ("check",),
            [((check.removesuffix("_bps"),), v) for check, v in sorted(thresholds.items()) if _is_int(v)],
        )
    if assets:
        active = {tuple(entry) for entry in warning.get("active", ()) if isinstance(entry, list | tuple)}
        yield gauge(
            "breakwater_early_warning_active",
            "Early warning: 1 while a condition holds for an asset (its alert is raised).",
            ("kind", "asset"),
            [
                ((kind, asset), int((kind, asset) in active))
                for kind in CONDITIONS
                for asset in sorted(assets)
            ],
        )
    counters = warning.get("counters")
    if isinstance(counters, dict):
        for key, help_text in EARLY_WARNING_COUNTERS.items():
            value = counters.get(key, 0)
            if _is_int(value):
                yield counter(f"breakwater_early_warning_{key}", help_text, (), [((), value)])


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
