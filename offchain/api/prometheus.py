"""`/metrics`: counters of what the exchange did, in the Prometheus text format (version 0.0.4).

Counters are fed from the service's event stream (orders, trades, rejections, breaker transitions,
liquidations, alerts) and from the API itself (requests, refusals); gauges (market states, journal
position, reserve ratios, WebSocket clients) are read when scraped.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

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
            return engine.now, {s: m.state for s, m in sorted(engine.markets.items())}

        now, market_states = service.read(states)
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
        return lines
