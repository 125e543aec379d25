"""Early warning against hot reserves (seed 000), without a chain: withdrawal rate, bank run, coverage."""

from __future__ import annotations

from offchain.chain.early_warning import EarlyWarning
from offchain.settings import DaemonSettings

USDC = 10**6
MINUTE_MS = 60_000


class RecordingService:
    def __init__(self):
        self.alerts: list[dict] = []

    def alert(self, kind: str, message: str, **data) -> dict:
        entry = {"kind": kind, "message": message, **data}
        self.alerts.append(entry)
        return entry


def warning(**overrides) -> tuple[EarlyWarning, RecordingService]:
    """Alerts only (the actions are tested in test_early_warning_actions.py)."""
    service = RecordingService()
    overrides.setdefault("early_warning_actions", {"enabled": False})
    settings = DaemonSettings(
        withdrawal_window_s=600, withdrawal_rate_alert_bps=2_000, bank_run_bps=6_000, **overrides
    )
    return EarlyWarning(service, settings), service


def requested(ts: int, amount: int) -> dict:
    return {
        "event": "withdrawal_requested",
        "ts": ts,
        "wid": 1,
        "account": "0x1",
        "asset": "USDC",
        "amount": amount,
    }


def test_withdrawals_above_a_fifth_of_hot_reserves_raise_one_rate_alert():
    ew, service = warning()
    hot = {"USDC": 1_000_000 * USDC}
    ew.on_events([requested(0, 150_000 * USDC)])
    ew.evaluate(MINUTE_MS, hot, {}, {})
    assert service.alerts == []

    ew.on_events([requested(2 * MINUTE_MS, 100_000 * USDC)])
    ew.evaluate(3 * MINUTE_MS, hot, {}, {})
    ew.evaluate(4 * MINUTE_MS, hot, {}, {})

    assert [a["kind"] for a in service.alerts] == ["withdrawal_rate"]
    assert service.alerts[0]["rate_bps"] == 2_500


def test_bank_run_counts_what_is_still_owed_and_clears_when_the_window_passes():
    ew, service = warning()
    hot = {"USDC": 100_000 * USDC}
    ew.on_events([requested(0, 40_000 * USDC)])
    metrics = ew.evaluate(MINUTE_MS, hot, {"USDC": 25_000 * USDC}, {})

    assert {"withdrawal_rate", "bank_run"} <= {a["kind"] for a in service.alerts}
    assert metrics["gauges"]["bank_run_bps_USDC"] == 6_500

    ew.evaluate(11 * MINUTE_MS, hot, {}, {})  # the requests left the 10-minute window and were paid
    assert {"withdrawal_rate_cleared", "bank_run_cleared"} <= {a["kind"] for a in service.alerts}
    assert ew.metrics()["active"] == []


def test_hot_reserves_below_sixty_percent_of_liabilities_alert():
    ew, service = warning()
    ew.evaluate(0, {"USDC": 59 * USDC}, {}, {"USDC": 100 * USDC})
    assert [a["kind"] for a in service.alerts] == ["hot_reserves_low"]
    assert service.alerts[0]["coverage_bps"] == 5_900


def test_large_transfer_alerts_only_from_the_threshold():
    ew, service = warning(large_transfers={"USDC": 250_000})
    ew.on_transfer("USDC", "0xA", "0xB", 249_999 * USDC, 6, "0x01")
    ew.on_transfer("USDC", "0xA", "0xB", 250_000 * USDC, 6, "0x02")
    assert [(a["kind"], a["tx"]) for a in service.alerts] == [("large_transfer", "0x02")]
    assert ew.metrics()["counters"]["large_transfers_total"] == 1
