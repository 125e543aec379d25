"""`/metrics`: the early warning's withdrawal rate, bank-run score, hot coverage and large transfers as
Prometheus gauges and counters, each family with its HELP and TYPE lines."""

from __future__ import annotations

import re

from api_venue import TRADER

from offchain.chain.early_warning import EarlyWarning
from offchain.core.treasury.module import WithdrawalRefunded
from offchain.settings import DaemonSettings

USDC = 10**6
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\n]*",?)*\})? (-?[0-9.e+]+)$')


def families(text: str) -> dict[str, dict]:
    """Parse the exposition text strictly: every sample belongs to a family declared by HELP and TYPE."""
    out: dict[str, dict] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, help_text = line[7:].split(" ", 1)
            assert name not in out, f"{name} declared twice"
            out[name] = {"help": help_text, "type": None, "samples": {}}
        elif line.startswith("# TYPE "):
            name, kind = line[7:].split(" ")
            assert out[name]["type"] is None and kind in ("counter", "gauge"), line
            out[name]["type"] = kind
        else:
            match = SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            name = match.group(1)
            assert name in out and out[name]["type"], f"{name} has no HELP/TYPE before its samples"
            out[name]["samples"][match.group(2) or ""] = float(match.group(4))
    return out


def early_warning(service) -> EarlyWarning:
    """The daemon's early warning over this service (the daemon subscribes it the same way)."""
    settings = DaemonSettings(withdrawal_window_s=600, withdrawal_rate_alert_bps=2_000, bank_run_bps=5_000)
    warning = EarlyWarning(service, settings)
    service.subscribe(warning.on_events)
    return warning


def test_early_warning_gauges_are_exported_with_help_and_type(trader, service, http):
    warning = early_warning(service)
    trader.withdraw("USDC", "300")
    refunded = trader.withdraw("USDC", "5")["withdrawal"]["wid"]
    service.submit(WithdrawalRefunded(0, refunded, "custody: USDC is not allowlisted for withdrawals"))
    now = service.clock_ms()
    service.update_chain_status(
        early_warning=warning.evaluate(
            now, hot={"USDC": 1_000 * USDC}, owed={"USDC": 300 * USDC}, liabilities={"USDC": 2_000 * USDC}
        )
    )
    warning.on_transfer("USDC", "0x" + "01" * 20, "0x" + "02" * 20, 500_000 * USDC, 6, "0xabc")

    metrics = families(http.get("/metrics").text)

    usdc = '{asset="USDC"}'
    assert metrics["breakwater_early_warning_withdrawal_requests"]["samples"] == {usdc: 2}
    assert metrics["breakwater_early_warning_withdrawal_demand"]["samples"] == {usdc: 305}
    assert metrics["breakwater_early_warning_withdrawals_owed"]["samples"] == {usdc: 300}
    assert metrics["breakwater_early_warning_hot_reserves"]["samples"] == {usdc: 1_000}
    assert metrics["breakwater_early_warning_withdrawal_rate_bps"]["samples"] == {usdc: 3_050}
    assert metrics["breakwater_early_warning_bank_run_bps"]["samples"] == {usdc: 6_050}
    assert metrics["breakwater_early_warning_hot_coverage_bps"]["samples"] == {usdc: 5_000}
    assert metrics["breakwater_early_warning_hot_reserves"]["type"] == "gauge"
    assert "whole tokens" in metrics["breakwater_early_warning_hot_reserves"]["help"]
    assert metrics["breakwater_early_warning_threshold_bps"]["samples"] == {
        '{check="withdrawal_rate"}': 2_000,
        '{check="bank_run"}': 5_000,
        '{check="hot_coverage_min"}': 6_000,
    }
    assert metrics["breakwater_early_warning_active"]["samples"] == {
        '{asset="USDC",kind="withdrawal_rate"}': 1,
        '{asset="USDC",kind="bank_run"}': 1,
        '{asset="USDC",kind="hot_reserves_low"}': 1,
    }
    assert metrics["breakwater_early_warning_withdrawals_requested_total"]["type"] == "counter"
    assert metrics["breakwater_early_warning_withdrawals_requested_total"]["samples"] == {"": 2}
    assert metrics["breakwater_early_warning_withdrawals_refunded_total"]["samples"] == {"": 1}
    assert metrics["breakwater_early_warning_withdrawals_paid_total"]["samples"] == {"": 0}
    # the large transfer is counted at once; its alert (and the three above) in breakwater_alerts_total
    service.update_chain_status(early_warning=warning.metrics())
    metrics = families(http.get("/metrics").text)
    assert metrics["breakwater_early_warning_large_transfers_total"]["samples"] == {"": 1}
    assert metrics["breakwater_alerts_total"]["samples"]['{kind="large_transfer"}'] == 1
    assert metrics["breakwater_alerts_total"]["samples"]['{kind="bank_run"}'] == 1


def test_a_condition_that_clears_reads_zero(trader, service, http, clock):
    warning = early_warning(service)
    trader.withdraw("USDC", "300")
    hot = {"USDC": 1_000 * USDC}
    warning.evaluate(service.clock_ms(), hot, {"USDC": 300 * USDC}, {})
    clock.advance(601_000)  # the request leaves the 10-minute window; it was paid meanwhile

    service.update_chain_status(early_warning=warning.evaluate(service.clock_ms(), hot, {}, {}))

    metrics = families(http.get("/metrics").text)
    assert metrics["breakwater_early_warning_active"]["samples"] == {
        '{asset="USDC",kind="withdrawal_rate"}': 0,
        '{asset="USDC",kind="bank_run"}': 0,
        '{asset="USDC",kind="hot_reserves_low"}': 0,
    }
    assert metrics["breakwater_early_warning_withdrawal_rate_bps"]["samples"] == {'{asset="USDC"}': 0}
    assert "breakwater_early_warning_hot_coverage_bps" not in metrics  # no liabilities reported
    assert TRADER.address not in http.get("/metrics").text


def test_metrics_without_a_chain_have_no_early_warning_families(http):
    metrics = families(http.get("/metrics").text)
    assert not [name for name in metrics if name.startswith("breakwater_early_warning")]
    assert metrics["breakwater_journal_seq"]["type"] == "gauge"
