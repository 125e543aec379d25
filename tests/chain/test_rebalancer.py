"""The rebalancing rule: keep the free hot share of liabilities inside the band (seed 000: 60-70 %)."""

from __future__ import annotations

import pytest

from offchain.chain.rebalancer import Band, decide

BAND = Band(6_000, 7_000)


def test_inside_the_band_nothing_moves():
    assert decide(hot=650, held=0, cold=1_000, liabilities=1_000, band=BAND) is None
    assert decide(hot=600, held=0, cold=1_000, liabilities=1_000, band=BAND) is None
    assert decide(hot=700, held=0, cold=1_000, liabilities=1_000, band=BAND) is None


def test_above_the_band_the_excess_goes_cold_down_to_the_middle():
    move = decide(hot=1_000, held=0, cold=0, liabilities=1_000, band=BAND)
    assert (move.direction, move.amount, move.share_bps, move.target) == ("to_cold", 350, 10_000, 650)


def test_below_the_band_cold_comes_back_up_to_the_middle_as_far_as_cold_holds():
    assert decide(hot=500, held=0, cold=1_000, liabilities=1_000, band=BAND).amount == 150
    assert decide(hot=500, held=0, cold=40, liabilities=1_000, band=BAND).amount == 40
    assert decide(hot=500, held=0, cold=0, liabilities=1_000, band=BAND) is None  # nothing to bring


def test_held_withdrawals_are_not_free_hot_balance():
    # 700 hot, of which 200 are held for queued withdrawals: the free share is 50 %.
    move = decide(hot=700, held=200, cold=1_000, liabilities=1_000, band=BAND)
    assert (move.direction, move.amount) == ("to_hot", 150)


def test_no_liabilities_no_move():
    assert decide(hot=1_000, held=0, cold=0, liabilities=0, band=BAND) is None


@pytest.mark.parametrize("low, high", [(0, 7_000), (7_000, 6_000), (6_000, 10_001)])
def test_a_bad_band_is_refused(low, high):
    with pytest.raises(ValueError, match="rebalance band"):
        Band(low, high)


class RecordingService:
    def __init__(self):
        self.alerts: list[dict] = []

    def alert(self, kind: str, message: str, **data) -> dict:
        self.alerts.append({"kind": kind, "message": message, **data})
        return self.alerts[-1]


def test_a_hot_cold_move_is_not_taken_for_a_whale():
    from offchain.chain.early_warning import EarlyWarning
    from offchain.settings import DaemonSettings

    service = RecordingService()
    ew = EarlyWarning(service, DaemonSettings(early_warning_actions={"enabled": False}))
    custody, safe, whale_wallet = "0x" + "c" * 40, "0x" + "5" * 40, "0x" + "9" * 40
    ew.own_wallets = {custody, safe}
    ew.on_transfer("USDC", custody.upper().replace("0X", "0x"), safe, 10**12, 6, "0x01")  # 1M USDC to cold
    assert service.alerts == []
    ew.on_transfer("USDC", custody, whale_wallet, 10**12, 6, "0x02")  # the same amount to anyone else
    assert [a["kind"] for a in service.alerts] == ["large_transfer"]
