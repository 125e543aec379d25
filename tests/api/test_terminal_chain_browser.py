"""The trading terminal against a real devnet: anvil with the protocol deployed, the engine daemon
(chain watcher and poster) and its API. A new user takes a burner key, funds it with one click (gas,
faucet, approve, Custody.deposit, each step shown), sees the deposit credited, trades, withdraws (paid
on-chain by the poster) and verifies its own proof of reserves against ReserveRegistry, all from the
page. Chromium as in test_terminal_browser.py."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from test_terminal_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, built  # noqa: F401
from test_terminal_browser import pytestmark as browser_marks

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from api_venue import served  # noqa: E402
from daemon_kit import KEY_ENV, Chain, daemon_settings, write_deployment_file  # noqa: E402

from offchain.daemon import Daemon  # noqa: E402

pytestmark = [*browser_marks, pytest.mark.integration]

SYMBOL = "USDE-USDC"


@pytest.fixture
def devnet_server(anvil, w3, deployment, tmp_path, monkeypatch):
    chain = Chain(w3, deployment)
    monkeypatch.setenv(KEY_ENV, chain.daemon_key().key.hex())
    deployments = tmp_path / "deployments"
    deployments.mkdir()
    path = write_deployment_file(deployment, deployments)
    # what /terminal/config reads: the deployment file of the API's chain and the RPC
    monkeypatch.setenv("BREAKWATER_DEPLOYMENTS_DIR", str(deployments))
    monkeypatch.setenv("BREAKWATER_RPC_URL", anvil.url)
    daemon = Daemon(daemon_settings(tmp_path, anvil.url, path, confirmations=1)).open()
    daemon.start()
    app = daemon.build_api()
    with served(app) as url:
        yield url, daemon, anvil
    app.state.close()
    app.state.nonces.close()
    daemon.stop()


def test_a_burner_funds_itself_on_the_devnet_trades_withdraws_and_verifies_its_proof(devnet_server):
    from playwright.sync_api import expect, sync_playwright

    url, daemon, anvil = devnet_server
    rpc_host = anvil.url.split("//")[1]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1150})
            errors: list[str] = []
            requests: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url + f"/terminal#{SYMBOL}")
            expect(page.locator("body")).to_have_attribute("data-ready", "1", timeout=15_000)
            page.click("#burner")
            expect(page.locator("#chain-note")).to_contain_text(f"chain 31337 at {anvil.url}")
            expect(page.locator("#fund")).to_be_visible()

            # one click: gas, faucet, approve, deposit (both tokens), then the daemon credits it
            page.click("#fund")
            progress = page.locator("#fund-progress")
            expect(progress.locator("li.done")).to_have_count(8, timeout=90_000)
            expect(progress).to_contain_text("Custody.deposit 10000 USDC ✓")
            expect(progress.locator("li.fail")).to_have_count(0)
            page.click('.tabs button[data-tab="balances"]')
            expect(page.locator('#balances tr[data-asset="USDC"] td.free')).to_have_text(
                "10000", timeout=30_000
            )
            expect(page.locator('#balances tr[data-asset="USDE"] td.free')).to_have_text(
                "10000", timeout=30_000
            )

            # a resting order, then cancelled
            page.click('.tabs button[data-tab="orders"]')
            page.fill("#o-price", "0.9900")
            page.fill("#o-qty", "50")
            page.click("#place")
            expect(page.locator("#order-result")).to_have_text(re.compile(r"^Order \d+ open"), timeout=10_000)
            expect(page.locator("#orders tbody tr[data-oid]")).to_have_count(1, timeout=10_000)
            page.click("#cancel-all")
            expect(page.locator("#orders tbody")).to_contain_text("no open orders", timeout=10_000)

            # a withdrawal, paid on-chain by the daemon's poster
            page.click('.tabs button[data-tab="withdrawals"]')
            page.select_option("#w-asset", "USDC")
            page.fill("#w-amount", "125")
            page.click("#withdraw-form button[type=submit]")
            expect(page.locator("#withdraw-result")).to_contain_text("requested: 125 USDC", timeout=10_000)
            paid = page.locator("#withdrawals tbody tr.paid")
            expect(paid).to_have_count(1, timeout=60_000)
            expect(paid.locator("code")).to_have_text(re.compile(r"^0x[0-9a-f]{64}$"))

            # the account's own proof of reserves, verified against the chain in one click
            epoch = daemon.poster.attest()
            page.click('.tabs button[data-tab="proof"]')
            page.click("#proof-get")
            expect(page.locator("#proof-out")).to_contain_text(f"epoch {epoch['epoch']}", timeout=10_000)
            page.click("#proof-verify")
            expect(page.locator("#proof-out p.ok")).to_contain_text(
                "VERIFIED: the leaf commits to your address and salt; ReserveRegistry.verify_inclusion",
                timeout=20_000,
            )
            page.screenshot(path=str(ARTIFACTS / "terminal-devnet.png"), full_page=True)
            assert errors == [], errors
            host = url.split("//")[1]
            outside = [
                u
                for u in requests
                if not re.match(rf"^(http|ws)://({re.escape(host)}|{re.escape(rpc_host)})/?", u)
            ]
            assert outside == [], outside
        finally:
            browser.close()
