"""`python -m offchain replay` as a user runs it: the shipped scenarios, the report, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from offchain.__main__ import main
from offchain.core.build import build_engine, restore_engine
from offchain.core.messages.codec import parse_command
from offchain.paths import PROJECT_ROOT
from offchain.sim.scenarios import CALM_FILE, USDE_CRASH_FILE, calm_market, usde_crash

SCENARIOS = PROJECT_ROOT / "scenarios"
SPEC_FIELDS = {
    "breaker",
    "auctions",
    "liquidations",
    "tape",
    "trades",
    "bad_debt",
    "rejections",
    "final_state_hash",
}


def run_replay(scenario: Path, report: Path, *extra: str) -> subprocess.CompletedProcess:
    """The real command line, in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "offchain", "replay", str(scenario), "--report", str(report), *extra],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
    )


def replay_here(capsys, scenario: Path, report: Path, *extra: str) -> tuple[int, str]:
    """The same command line in this process (``python -m offchain``'s ``main``): exit status, stderr."""
    code = main(["replay", str(scenario), "--report", str(report), *extra])
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def usde_reports(tmp_path_factory) -> dict:
    """The 10 October scenario replayed twice: with the breaker (and its plot) and without."""
    out = tmp_path_factory.mktemp("usde")
    with_breaker = run_replay(
        SCENARIOS / USDE_CRASH_FILE, out / "breaker.json", "--plot", str(out / "plot.png")
    )
    naive = run_replay(SCENARIOS / USDE_CRASH_FILE, out / "naive.json", "--no-breaker")
    book = run_replay(SCENARIOS / USDE_CRASH_FILE, out / "book.json", "--no-breaker", "--naive-bands", "book")
    assert with_breaker.returncode == 0, with_breaker.stderr
    assert naive.returncode == 0, naive.stderr
    assert book.returncode == 0, book.stderr
    return {
        "breaker": json.loads((out / "breaker.json").read_text()),
        "naive": json.loads((out / "naive.json").read_text()),
        "book": json.loads((out / "book.json").read_text()),
        "plot": out / "plot.png",
    }


def _halts(report: dict) -> list[tuple[float, float]]:
    """(start, end) of every period out of continuous trading (end = inf if it never reopened)."""
    spans, start = [], None
    for tr in report["breaker"]:
        if tr["from"] == "continuous":
            start = tr["t"]
        elif tr["to"] == "continuous" and start is not None:
            spans.append((start, tr["t"]))
            start = None
    if start is not None:
        spans.append((start, float("inf")))
    return spans


# -- the 10 October 2025 scenario ------------------------------------------------------------------
# (one worker runs them all, so that the two replays of the module fixture run once)
usde = pytest.mark.xdist_group("replay_usde")


@usde
def test_usde_halt_comes_before_the_local_price_trades_below_097(usde_reports):
    report = usde_reports["breaker"]
    (first_halt, _), *_ = _halts(report)

    before = [Decimal(t["price"]) for t in report["tape"] if t["t"] <= first_halt]
    assert before, "the scenario trades before the halt"
    assert min(before) >= Decimal("0.97")
    assert report["breaker"][0]["reason"] in ("cvd_and_depth", "velocity_slippage_and_liquidations")


@usde
def test_usde_no_liquidation_during_the_halt_and_none_of_healthy_accounts(usde_reports):
    report = usde_reports["breaker"]

    for liq in report["liquidations"]:
        assert not any(start <= liq["t"] <= end for start, end in _halts(report)), liq
    # every leveraged account of the scenario is healthy at the index price (about 0.995 at worst)
    assert [liq for liq in report["liquidations"] if liq["account"].startswith("lev")] == []
    assert Decimal(report["bad_debt"]) == 0


@usde
def test_usde_reopening_auction_prices_within_one_percent_of_the_index(usde_reports):
    report = usde_reports["breaker"]

    reopenings = [a for a in report["auctions"] if a["price"] is not None]
    assert reopenings
    for auction in reopenings:
        price, index = Decimal(auction["price"]), Decimal(auction["reference"])
        assert abs(price - index) <= index / 100
        assert Decimal(auction["volume"]) > 0
    assert _halts(report)[-1][1] != float("inf"), "the market reopened"


@usde
def test_usde_naive_exchange_bands_from_its_index_and_liquidates_at_its_local_price(usde_reports):
    """Issue 15.9: the naive exchange's bands measure from its own index, so the market makers'
    quotes near the index are accepted (only the bottom fisher's bids far under it are refused) and
    the crash stops at the impact band; collateral at the local price still liquidates lev1."""
    naive = usde_reports["naive"]

    assert (naive["collateral"], naive["bands"]) == ("local", "index")
    assert naive["breaker"] == [] and naive["auctions"] == []
    assert naive["rejection_codes"].get("price_out_of_band", 0) < 300
    assert Decimal(naive["low_price"]["USDE-USDC"]) >= Decimal("0.89")
    assert {liq["account"] for liq in naive["liquidations"]} == {"lev1"}


@usde
def test_usde_without_breaker_liquidates_healthy_accounts_into_bad_debt(usde_reports):
    naive = usde_reports["book"]  # bands from its own book: they follow the crash down

    assert (naive["collateral"], naive["bands"]) == ("local", "book")
    assert naive["breaker"] == [] and naive["auctions"] == []
    assert {liq["account"] for liq in naive["liquidations"]} & {"lev1", "lev2", "lev3"}
    assert Decimal(naive["bad_debt"]) > 0
    assert Decimal(naive["low_price"]["USDE-USDC"]) <= Decimal("0.70")


@usde
def test_usde_reports_follow_the_spec_format(usde_reports):
    for report in (usde_reports["breaker"], usde_reports["naive"], usde_reports["book"]):
        assert SPEC_FIELDS <= set(report)
        assert report["trades"] == len(report["tape"])
        for trade in report["tape"][:50]:
            assert set(trade) == {"t", "symbol", "price", "qty"}
            Decimal(trade["price"]), Decimal(trade["qty"])  # decimal strings
            assert isinstance(trade["price"], str) and isinstance(trade["qty"], str)
        for tr in report["breaker"]:
            assert {"t", "symbol", "from", "to", "metrics"} <= set(tr)
            assert tr["to"] in ("continuous", "halted", "cooldown", "auction")
        for liq in report["liquidations"]:
            assert {"t", "account", "symbol", "qty", "price"} <= set(liq)
        assert isinstance(report["bad_debt"], str) and isinstance(report["rejections"], int)
        assert len(report["final_state_hash"]) == 64


@usde
def test_usde_plot_is_written(usde_reports):
    png = usde_reports["plot"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


# -- the calm day ----------------------------------------------------------------------------------


def test_calm_market_never_trips(tmp_path, capsys):
    code, stderr = replay_here(capsys, SCENARIOS / CALM_FILE, tmp_path / "calm.json")

    assert code == 0, stderr
    report = json.loads((tmp_path / "calm.json").read_text())
    assert report["trades"] > 100
    assert report["breaker"] == [] and report["liquidations"] == []


# -- input handling --------------------------------------------------------------------------------

HEADER = [
    {"t": 0, "cmd": "asset", "symbol": "USDC", "decimals": 6, "collateral_weight": "1"},
    {"t": 0, "cmd": "asset", "symbol": "USDE", "decimals": 18, "collateral_weight": "0.9"},
    {
        "t": 0,
        "cmd": "market",
        "symbol": "USDE-USDC",
        "kind": "spot",
        "base": "USDE",
        "quote": "USDC",
        "tick": "0.0001",
        "lot": "1",
    },
]


def write_lines(path: Path, lines: list) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


@pytest.mark.parametrize(
    "bad_line",
    [
        '{"t": 1, "cmd": "order", "account": ',  # not JSON
        {"t": 1, "cmd": "teleport", "account": "trader"},  # unknown command
        {"t": 1, "cmd": "deposit", "account": "trader", "asset": "USDC", "amount": 1.5},  # float amount
        {"t": 1, "cmd": "tick", "colour": "red"},  # unknown field
    ],
    ids=["not_json", "unknown_command", "float_amount", "unknown_field"],
)
def test_bad_line_stops_the_run_naming_its_line_number(tmp_path, capsys, bad_line):
    scenario = write_lines(tmp_path / "bad.jsonl", [*HEADER, bad_line, {"t": 2, "cmd": "tick"}])

    code, stderr = replay_here(capsys, scenario, tmp_path / "report.json")

    assert code == 2
    assert f"bad.jsonl:{len(HEADER) + 1}:" in stderr
    assert not (tmp_path / "report.json").exists()


def test_bad_line_exit_status_reaches_the_shell(tmp_path):
    scenario = write_lines(tmp_path / "bad.jsonl", [*HEADER, "{not json"])

    result = run_replay(scenario, tmp_path / "report.json")

    assert result.returncode == 2
    assert f"bad.jsonl:{len(HEADER) + 1}: not valid JSON" in result.stderr


def test_rejected_command_is_counted_and_the_run_goes_on(tmp_path, capsys):
    scenario = write_lines(
        tmp_path / "rejects.jsonl",
        [
            *HEADER,
            {"t": 1, "cmd": "deposit", "account": "trader", "asset": "USDC", "amount": "100"},
            # 200 USDC of USDE with 100 USDC free: insufficient balance
            {
                "t": 2,
                "cmd": "order",
                "account": "trader",
                "symbol": "USDE-USDC",
                "side": "buy",
                "type": "limit",
                "price": "1.0000",
                "qty": "200",
                "tif": "GTC",
                "id": "too-big",
            },
            {"t": 3, "cmd": "resume", "symbol": "USDE-USDC"},  # not halted
            {"t": 4, "cmd": "tick"},
        ],
    )

    code, stderr = replay_here(capsys, scenario, tmp_path / "report.json")

    assert code == 0, stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["rejections"] == 2
    assert report["rejection_codes"] == {"insufficient_balance": 1, "not_halted": 1}


def test_missing_scenario_file_is_an_error(tmp_path, capsys):
    code, stderr = replay_here(capsys, tmp_path / "nope.jsonl", tmp_path / "report.json")

    assert code == 2
    assert "nope.jsonl" in stderr


def test_operator_halt_and_resume_reopen_through_an_auction(tmp_path, capsys):
    lines = [
        *HEADER,
        {"t": 0, "cmd": "deposit", "account": "maker", "asset": "USDE", "amount": "1000"},
        {"t": 0, "cmd": "deposit", "account": "taker", "asset": "USDC", "amount": "1000"},
        {"t": 0, "cmd": "authorise", "account": "taker"},  # may add orders during the halt
        {
            "t": 1,
            "cmd": "order",
            "account": "maker",
            "symbol": "USDE-USDC",
            "side": "sell",
            "type": "limit",
            "price": "1.0000",
            "qty": "100",
            "tif": "GTC",
            "id": "ask",
        },
        {"t": 2, "cmd": "halt", "symbol": "USDE-USDC", "reason": "manual"},
        {
            "t": 3,
            "cmd": "order",
            "account": "taker",
            "symbol": "USDE-USDC",
            "side": "buy",
            "type": "limit",
            "price": "1.0010",
            "qty": "60",
            "tif": "GTC",
            "id": "bid",
        },
        {"t": 300, "cmd": "resume", "symbol": "USDE-USDC"},
    ] + [{"t": 300 + s, "cmd": "tick"} for s in range(1, 600, 10)]
    scenario = write_lines(tmp_path / "operator.jsonl", lines)

    code, stderr = replay_here(capsys, scenario, tmp_path / "report.json")

    assert code == 0, stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert [(tr["from"], tr["to"]) for tr in report["breaker"]] == [
        ("continuous", "halted"),
        ("halted", "cooldown"),
        ("cooldown", "auction"),
        ("auction", "continuous"),
    ]
    (auction,) = report["auctions"]
    # 60 trade at every price from 1.0000 to 1.0010 with 40 offered left over: sell pressure, lowest
    assert (auction["price"], auction["volume"]) == ("1", "60")
    assert report["tape"] == [{"t": auction["t"], "symbol": "USDE-USDC", "price": "1", "qty": "60"}]


def test_replay_is_deterministic(tmp_path, capsys):
    scenario = SCENARIOS / CALM_FILE
    first, _ = replay_here(capsys, scenario, tmp_path / "a.json", "--no-progress")
    second, _ = replay_here(capsys, scenario, tmp_path / "b.json", "--no-progress")

    assert first == second == 0
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    assert a["final_state_hash"] == b["final_state_hash"]


# -- the shipped files are what the seeded generator writes ----------------------------------------


@pytest.mark.parametrize(("name", "generate"), [(USDE_CRASH_FILE, usde_crash), (CALM_FILE, calm_market)])
def test_shipped_scenario_matches_its_seeded_generator(name, generate):
    shipped = [json.loads(line) for line in (SCENARIOS / name).read_text().splitlines()]

    assert shipped == generate()


@usde
def test_snapshot_taken_during_the_reopening_continues_identically():
    """Engine.restore in the middle of the cool-down (risk and breaker state included)."""
    lines = [json.loads(line) for line in (SCENARIOS / USDE_CRASH_FILE).read_text().splitlines()]
    original, restored = build_engine(), None
    for d in lines:
        if restored is None and d["t"] >= 1200:
            assert original.markets["USDE-USDC"].state == "cooldown"
            restored = restore_engine(original.snapshot())
        events = original.apply(parse_command(d, original))
        if restored is not None:
            assert events == restored.apply(parse_command(d, restored)), d

    assert restored.state_hash() == original.state_hash()
