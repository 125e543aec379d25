"""The dashboard in a real headless Chromium (Debian's, driven by Playwright): it loads from a running
server, follows the stream live, shows the market halted after a scripted crash and the early
warning's gauges against their thresholds, and says what its figures mean where a bare number would
mislead (an empty book, S_I on a thin book, a reserve ratio against an earlier epoch, a crossed book
in cool-down). The screenshots are kept in test-artifacts/ for a human to look at."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from api_venue import (
    DOMAIN,
    GENEROUS,
    GENESIS,
    MARKET_MAKER,
    SYMBOL,
    TRADER,
    Clock,
    open_service,
    rejected,
    script_crash,
    served,
    submit,
)

from offchain.api.app import create_app
from offchain.chain.early_warning import EarlyWarning
from offchain.core.treasury.module import WithdrawalPaid, WithdrawalRefunded
from offchain.settings import DaemonSettings

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None,
    reason=f"{CHROMIUM} is missing (make install puts Debian's chromium there)",
)


@pytest.fixture
def server(tmp_path):
    """uvicorn on a free 127.0.0.1 port serving the API over a real service and journal."""
    clock = Clock()
    service = open_service(tmp_path / "journal.db", clock)
    for wire in GENESIS:
        submit(service, **wire)
    warning = EarlyWarning(service, DaemonSettings())  # as the daemon's watcher runs it
    service.subscribe(warning.on_events)
    wids = [
        next(e.wid for e in submit(service, **w) if e.EVENT == "withdrawal_requested")
        for w in (
            {"cmd": "withdraw", "account": TRADER.address, "asset": "USDC", "amount": amount}
            for amount in ("1500", "2500", "400")
        )
    ]
    service.submit(WithdrawalPaid(0, wids[0], "0x" + "ab" * 32))
    service.submit(WithdrawalRefunded(0, wids[1], "custody: above the per-user outflow cap"))
    # what the daemon's chain watcher reports: token amounts in atoms
    service.update_chain_status(
        block=1234,
        pool={
            "market": SYMBOL,
            "index_price": 999_100,
            "price_oracle": 999_100_000_000_000_000,
            "halted": False,
        },
        reserves={
            "USDC": {"ratio_bps": 10_412, "reserves": 10_412_000 * 10**6, "liabilities": 10_000_000 * 10**6},
            "USDE": {"ratio_bps": 9_950, "reserves": 11_940_000 * 10**18, "liabilities": 12_000_000 * 10**18},
        },
        attestation={"epoch": 7, "age_s": 540, "fresh": True, "leaf_count": 3},
        insurance_fund={"assets": 250_000 * 10**6, "cover_headroom": 50_000 * 10**6, "frozen": False},
        # hot USDE covers a third of its liabilities: below the 60 % minimum
        early_warning=warning.evaluate(
            clock(),
            hot={"USDC": 10_412_000 * 10**6, "USDE": 4_000_000 * 10**18},
            owed={"USDC": 400 * 10**6},
            liabilities={"USDC": 10_000_000 * 10**6, "USDE": 12_000_000 * 10**18},
        ),
    )
    # the chain poster's epoch 7: one debtor owes 400,000 USDC against USDE (its debtors' register)
    debtors = {
        "count": 1,
        "covered": 1,
        "debt": {"USDC": "400000", "USDE": "0"},
        "register": "/por/register/7",
    }
    debtors["collateral"] = {"USDC": "0", "USDE": "500000"}
    service.publish_por({"epoch": 7, "debtors": debtors}, {})
    app = create_app(service, domain=DOMAIN, rate_limit=GENEROUS, flush_ms=50, status_ms=250)
    with served(app) as url:
        yield url, service, clock
    app.state.close()
    app.state.nonces.close()
    service.runner.close()


def test_the_dashboard_shows_the_market_halted_after_a_crash(server):
    from playwright.sync_api import expect, sync_playwright

    url, service, clock = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url + "/dashboard")
            expect(page.locator("#m-state")).to_have_text("continuous", timeout=10_000)
            expect(page.locator("#conn-text")).to_have_text("live", timeout=10_000)
            expect(page.locator("#p-pool")).to_have_text("0.9991")
            expect(page.locator("#p-index")).to_have_text("0.999")

            events = script_crash(service, clock)  # while the page watches
            assert [e.to_state for e in events if e.EVENT == "breaker"] == ["halted"]

            expect(page.locator("#m-state")).to_have_text("halted", timeout=10_000)
            expect(page.locator("#banner")).to_contain_text(f"{SYMBOL} HALTED (cvd_and_depth)")
            # the two metrics that tripped it, as they stood at the trip: beyond their thresholds
            expect(page.locator('#metrics tr[data-metric="cvd"] td.then')).to_have_class(
                "then hot", timeout=5_000
            )
            expect(page.locator('#metrics tr[data-metric="rl"] td.then')).to_have_class("then hot")
            expect(page.locator('#metrics tr[data-metric="rl"]')).to_have_class("hot")  # and still now
            expect(page.locator("#last-move")).to_contain_text("continuous → halted (cvd_and_depth)")
            expect(page.locator("#asks tbody tr")).to_have_count(10)
            expect(page.locator("#trades tbody tr").first).to_contain_text("0.9995")
            expect(page.locator('#reserves tr[data-asset="USDC"]')).to_contain_text(
                "104.12 %100.11 %10412000"
            )
            # under the registry's 100 % but Custody not halted: amber with what it means, not red
            expect(page.locator('#reserves tr[data-asset="USDE"] td.ratio')).to_have_class("ratio warn")
            # gross ratio: reserves over net liabilities plus what debtors owe (10,412,000 / 10,400,000)
            expect(page.locator('#reserves tr[data-asset="USDC"] td.gross')).to_have_text("100.11 %")
            expect(page.locator("#debtors")).to_contain_text(
                "epoch 7: 1 debtor holding 500000 USDE as collateral"
            )
            expect(page.locator("#attestation")).to_contain_text("epoch 7")
            expect(page.locator("#fund-assets")).to_have_text("250000 USDC")
            usdc_row, usde_row = (
                page.locator(f'#early-warning tr[data-asset="{a}"]') for a in ("USDC", "USDE")
            )
            expect(usdc_row.locator('td[data-gauge="withdrawal_rate_bps"]')).to_have_class("gauge ok")
            expect(usdc_row.locator('td[data-gauge="withdrawal_rate_bps"]')).to_contain_text(
                "0.04 % alerts > 20.00 %"
            )
            expect(usdc_row.locator('td[data-gauge="withdrawal_requests"]')).to_have_text("3")
            expect(usdc_row).to_contain_text("4400")  # demand in the window, whole USDC
            expect(usde_row.locator('td[data-gauge="hot_coverage_bps"]')).to_have_class("gauge hot")
            expect(usde_row.locator('td[data-gauge="hot_coverage_bps"]')).to_contain_text(
                "33.33 % alerts < 60.00 %"
            )
            expect(page.locator("#ew-requested")).to_have_text("3")
            expect(page.locator("#ew-paid")).to_have_text("1")
            expect(page.locator("#ew-refunded")).to_have_text("1")
            page.screenshot(path=str(ARTIFACTS / "dashboard-halted.png"), full_page=True)
            assert errors == [], errors
        finally:
            browser.close()


def reopen(service) -> None:
    """After the crash: the market maker quotes again and a seller offers below a buyer's bid (both
    authorised by the operator to add orders during the halt), so the cool-down book is crossed."""
    mm = MARKET_MAKER.address
    for account in (mm, TRADER.address):
        assert not rejected(submit(service, cmd="authorise", account=account))
    for i in range(8):
        for side, px in (("buy", 9985 - i), ("sell", 10010 + i)):
            order = {"cmd": "order", "account": mm, "symbol": SYMBOL, "side": side, "qty": "100000"}
            assert not rejected(submit(service, **order, price=f"{px / 10_000:.4f}", id=f"r{side}{i}"))
    seller = {"cmd": "order", "account": TRADER.address, "symbol": SYMBOL, "side": "sell", "id": "late"}
    assert not rejected(submit(service, **seller, price="0.9950", qty="3000"))
    buyer = {"cmd": "order", "account": mm, "symbol": SYMBOL, "side": "buy", "id": "eager"}
    assert not rejected(submit(service, **buyer, price="1.0000", qty="2000"))


def tick_until(service, clock, state: str, limit: int = 200) -> bool:
    """Ten seconds a tick, the index fed as the daemon feeds it, until the market is in `state`."""
    for _ in range(limit):
        clock.advance(10_000)
        submit(service, cmd="index", symbol=SYMBOL, source="curve", price="0.9990")
        submit(service, cmd="tick")
        if service.engine.markets[SYMBOL].state == state:
            return True
    return False


def test_the_dashboard_says_what_its_figures_mean(server):
    """Issue 19's clarity cases, each on screen: an empty book says "no orders"; S_I on a book too
    thin for its reference order is shown as such, in a neutral colour; a net ratio just under 100 %
    after a withdrawal names the epoch it compares with and is not red until Custody is halted; a
    crossed book in cool-down says the call auction will uncross it, and at what price."""
    from playwright.sync_api import expect, sync_playwright

    url, service, clock = server
    ARTIFACTS.mkdir(exist_ok=True)
    mm = MARKET_MAKER.address
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url)  # the exchange opens on the terminal when it is built, else here
            page.goto(url + "/dashboard")
            expect(page.locator("#conn-text")).to_have_text("live", timeout=10_000)

            # (a) nobody quotes yet: the book says so, and so does the market line
            expect(page.locator("#spread")).to_have_text("no orders: the book is empty", timeout=10_000)
            expect(page.locator("#m-reason")).to_contain_text("no orders")
            si = page.locator('#metrics tr[data-metric="si"]')
            expect(si).to_have_class("unmeasured")
            page.screenshot(path=str(ARTIFACTS / "dashboard-empty.png"), full_page=True)

            # (c) a thin book (100 USDE a side) against S_I's $1M reference order: not a red 100 %
            for side, px in (("buy", "0.9985"), ("sell", "0.9995")):
                wire = {"cmd": "order", "account": mm, "symbol": SYMBOL, "side": side, "type": "limit"}
                assert not rejected(submit(service, **wire, price=px, qty="100", id=f"thin-{side}"))
            tick_until(service, clock, "never", limit=1)  # a tick measures the book
            expect(page.locator("#spread")).to_contain_text("spread 0.001", timeout=10_000)
            expect(si.locator("td.val")).to_have_text("book too thin to measure", timeout=10_000)
            expect(si).to_have_class("unmeasured")
            expect(si.locator("td.val")).to_have_attribute("title", re.compile("1000000 USDC"))
            expect(page.locator('#metrics tr[data-metric="cvd"]')).to_have_class("ok")
            expect(page.locator("#m-reason")).not_to_contain_text("no orders")
            page.screenshot(path=str(ARTIFACTS / "dashboard-thin-book.png"), full_page=True)

            # (b) a withdrawal paid after epoch 8: the chain reads 99.99 % against epoch 8's
            # liabilities; named so, amber (under the registry's threshold), red only once halted
            wid = next(
                e.wid
                for e in submit(service, cmd="withdraw", account=TRADER.address, asset="USDC", amount="1000")
                if e.EVENT == "withdrawal_requested"
            )
            from offchain.core.treasury.module import WithdrawalPaid

            service.submit(WithdrawalPaid(0, wid, "0x" + "cd" * 32))
            attested_at = clock() // 1000 - 120
            reading = {
                "reserves": {
                    "USDC": {
                        "ratio_bps": 9_999,
                        "reserves": 9_999_000 * 10**6,
                        "liabilities": 10_000_000 * 10**6,
                    }
                },
                "attestation": {"epoch": 8, "age_s": 120, "attested_at": attested_at, "fresh": True},
            }
            service.update_chain_status(**reading, paused={"all": False, "custody": False})
            ratio = page.locator('#reserves tr[data-asset="USDC"] td.ratio')
            expect(ratio).to_contain_text("99.99 %", timeout=10_000)
            expect(ratio).to_have_class("ratio warn")
            expect(ratio).to_contain_text("under 100.00 %")
            expect(page.locator('#reserves tr[data-asset="USDC"] td.gross')).not_to_have_class(
                re.compile("low")
            )
            expect(page.locator("#attestation")).to_have_text(
                re.compile(
                    r"^live reserves vs liabilities attested at epoch 8 \(\d\d:\d\d\), less payouts since"
                )
            )
            page.screenshot(path=str(ARTIFACTS / "dashboard-reserves-after-withdrawal.png"), full_page=True)
            service.update_chain_status(paused={"all": False, "custody": True})  # the registry halted it
            expect(ratio).to_have_class("ratio low", timeout=10_000)
            expect(ratio).to_contain_text("Custody halted")
            service.update_chain_status(paused={"all": False, "custody": False})

            # (d) the crash, then a crossed book in cool-down: explained, with the uncross price
            for side in ("buy", "sell"):
                assert not rejected(submit(service, cmd="cancel", account=mm, id=f"thin-{side}"))
            events = script_crash(service, clock)
            assert [e.to_state for e in events if e.EVENT == "breaker"] == ["halted"]
            expect(page.locator("#m-state")).to_have_text("halted", timeout=10_000)
            reopen(service)
            assert tick_until(service, clock, "cooldown")
            expect(page.locator("#m-state")).to_have_text("cooldown", timeout=10_000)
            spread = page.locator("#spread")
            expect(spread).to_contain_text("crossed by 0.0050", timeout=10_000)
            expect(spread).to_contain_text("in cool-down orders are collected, not matched")
            expect(spread).to_contain_text(
                re.compile(r"the call auction will uncross at 0\.99\d\d \(\d+ USDE\)")
            )
            expect(spread).to_have_class("spread crossed")
            page.screenshot(path=str(ARTIFACTS / "dashboard-crossed-cooldown.png"), full_page=True)
            assert errors == [], errors
        finally:
            browser.close()
