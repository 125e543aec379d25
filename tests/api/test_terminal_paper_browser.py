"""The trading terminal against the paper exchange (`python -m offchain serve`, its own process, as an
integrator runs it): a burner key the genesis funded places a limit order that rests and is cancelled,
a refusal comes back in words, a crossing order fills and the candles show it; nothing is fetched
from anywhere but the server."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from api_venue import GENESIS, MARKET_MAKER, SYMBOL
from eth_account import Account
from test_terminal_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, ROOT, built  # noqa: F401
from test_terminal_browser import pytestmark as browser_marks

pytestmark = browser_marks
BURNER = Account.from_key("0x" + "5a" * 32)


@pytest.fixture
def paper(tmp_path):
    genesis = tmp_path / "genesis.jsonl"
    lines = [
        *GENESIS,
        {"cmd": "deposit", "account": BURNER.address, "asset": "USDC", "amount": "3000"},
        {"cmd": "deposit", "account": BURNER.address, "asset": "USDE", "amount": "3000"},
        *(
            {
                "cmd": "order",
                "account": MARKET_MAKER.address,
                "symbol": SYMBOL,
                "side": side,
                "price": px,
                "qty": "1000",
            }
            for side, px in (("buy", "0.9980"), ("sell", "1.0010"))
        ),
    ]
    genesis.write_text("".join(json.dumps(line) + "\n" for line in lines))
    cmd = [sys.executable, "-m", "offchain", "serve", "--journal", f"sqlite:///{tmp_path / 'paper.db'}"]
    proc = subprocess.Popen(
        [*cmd, "--genesis", str(genesis), "--port", "0", "--tick-s", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        match = re.match(r"serving (http://127\.0\.0\.1:\d+)", line)
        assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(15)


def test_the_terminal_trades_on_the_paper_exchange(paper):
    from playwright.sync_api import expect, sync_playwright

    url = paper
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1500, "height": 1150})
            # the burner key this browser kept from an earlier visit (the genesis funded its address)
            context.add_init_script(
                f"localStorage.setItem('breakwater.burner.v1', '{BURNER.key.to_0x_hex()}')"
            )
            page = context.new_page()
            errors: list[str] = []
            requests: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url + f"/terminal#{SYMBOL}")
            expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=15_000)
            expect(page.locator("#address")).to_have_text(BURNER.address, timeout=10_000)
            expect(page.locator("#wallet-kind")).to_have_text("devnet burner")
            expect(page.locator("#n-orders")).to_have_text("", timeout=10_000)

            page.fill("#o-price", "0.9950")
            page.fill("#o-qty", "40")
            page.click("#place")
            expect(page.locator("#order-result")).to_have_text(re.compile(r"^Order \d+ open"), timeout=10_000)
            expect(page.locator("#orders tbody tr[data-oid]")).to_have_count(1, timeout=10_000)
            expect(page.locator("#bids td", has_text=re.compile(r"^0\.995$"))).to_have_count(1, timeout=5_000)
            page.click("#orders button.cancel")
            expect(page.locator("#orders tbody")).to_contain_text("no open orders", timeout=10_000)

            page.fill("#o-qty", "999999")
            page.click("#place")
            expect(page.locator("#order-result")).to_contain_text(
                "Refused: Your free balance does not cover this order", timeout=10_000
            )

            page.select_option("#o-kind", "ioc")
            page.fill("#o-price", "1.0010")
            page.fill("#o-qty", "25")
            page.click("#place")
            expect(page.locator("#order-result")).to_contain_text("filled 25", timeout=10_000)
            expect(page.locator("#chart")).to_have_attribute("data-candles", "1", timeout=10_000)
            expect(page.locator("#tape tbody tr").first).to_contain_text("1.001", timeout=10_000)
            page.screenshot(path=str(ARTIFACTS / "terminal-paper.png"), full_page=True)
            assert errors == [], errors
            host = url.split("//")[1]
            outside = [u for u in requests if not re.match(rf"^(http|ws)://{re.escape(host)}/", u)]
            assert outside == [], outside
        finally:
            browser.close()
