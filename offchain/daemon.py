"""`python -m offchain daemon`: the engine on its journal, wired to the chain and serving the API.

    python -m offchain daemon --rpc-url http://127.0.0.1:8545            # devnet defaults
    python -m offchain daemon --config daemon.toml --keystore key.json    # elsewhere

Threads, all around one `ExchangeService` (the only sequencer):

* the chain **watcher** (deposits after K confirmations — designated liquidity providers' at once
  during a halt, `offchain/chain/dlp.py` —, pool price and price feeds as index sources, breaker
  state, the measured halt window `offchain/chain/halt_window.py`, chain status);
* the chain **poster** (withdrawals, insurance covers, proof-of-reserves attestations, keeper trips),
  woken by the engine events it subscribes to, sending through one `TxSender`;
* the **clock**, which submits a `tick` every `tick_interval_s` (breaker timers, funding, settlement);
* the API (`offchain.api.app.create_app`) under uvicorn in the main thread, when `serve_api`.

Start-up: the journal is recovered (latest snapshot + replay; the log line `recovered journal ...
state_hash ...` names the state), a fresh journal lists the deployment's tokens and the configured
markets, and the watcher resumes from its last processed block (minus the rescan window). Nothing is
credited twice: deposit references, owed withdrawals and covered bad debt are engine state.
SIGINT/SIGTERM stop the threads, then close the journal.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from pathlib import Path
from typing import Any

from web3 import Web3

from offchain.chain.anchor import JournalAnchorer, anchor_contract
from offchain.chain.deployment import Deployment
from offchain.chain.dlp import DlpDesk
from offchain.chain.early_warning import EarlyWarning
from offchain.chain.feeds import build_feeds
from offchain.chain.halt_window import HaltWindow
from offchain.chain.poster import ChainPoster
from offchain.chain.protocol import Protocol
from offchain.chain.rebalancer import Band, Rebalancer
from offchain.chain.safe import DEVNET_COLD_OWNERS
from offchain.chain.sender import SendPolicy, TxSender
from offchain.chain.state import DaemonState
from offchain.chain.watcher import ChainWatcher, _owed_and_liabilities
from offchain.core.config import EngineConfig
from offchain.core.messages import commands as C
from offchain.core.messages.codec import CommandFormatError, parse_command
from offchain.service import ExchangeService, wall_clock_ms
from offchain.settings import DEVNET_CHAIN_IDS, DaemonSettings, SettingsError, devnet_account
from offchain.store.journaled import JournaledEngine

log = logging.getLogger("offchain.daemon")

CONNECT_TIMEOUT_S = 60.0
JOIN_TIMEOUT_S = 15.0
ROLES = (  # (contract, role constant, what the daemon does with it)
    ("Custody", "OPERATOR_ROLE", "pay withdrawals"),
    ("ReserveRegistry", "ATTESTER_ROLE", "attest reserves"),
    ("InsuranceFund", "COVER_ROLE", "cover bad debt"),
    ("JournalAnchor", "ANCHOR_ROLE", "anchor the journal's head"),
)


class Daemon:
    """The engine daemon: open, start, stop (see the module docstring)."""

    def __init__(
        self, settings: DaemonSettings, clock_ms=wall_clock_ms, engine_config: EngineConfig | None = None
    ):
        self.settings = settings
        # the engine the journal replays onto
        self.engine_config = engine_config or EngineConfig(makers=settings.market_makers)
        self.clock_ms = clock_ms
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []
        self.runner: JournaledEngine | None = None
        self.state: DaemonState | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    def open(self) -> Daemon:
        """Connect, recover the journal, list what a fresh journal lacks, and build the adapters."""
        s = self.settings
        self.w3 = Web3(Web3.HTTPProvider(s.rpc_url, request_kwargs={"timeout": 10}))
        self.chain_id = _wait_for_chain(self.w3, s.rpc_url, self.stop_event)
        path = s.deployment_path(self.chain_id)
        if not Path(path).is_file():
            raise SettingsError(f"no deployment file {path}: run `ape run deploy` or set `deployment`")
        self.deployment = Deployment.load(path=path, manifest=s.manifest)
        self.protocol = Protocol(self.w3, self.deployment)
        self.runner = JournaledEngine.open(
            s.journal_url, snapshot_every=s.snapshot_every, config=self.engine_config
        )
        log.info(
            "recovered journal %s at seq %d, state_hash %s",
            s.journal_url,
            self.runner.seq,
            self.runner.state_hash(),
        )
        self.service = ExchangeService(self.runner, self.clock_ms)
        self.list_assets_and_markets()
        self.journal_id = _journal_id(self.runner)
        self.state = DaemonState(s.state_path)
        self.account = s.signer(self.chain_id)
        self.sender = TxSender(self.w3, self.account, SendPolicy(receipt_timeout_s=s.receipt_timeout_s))
        self.early_warning = EarlyWarning(self.service, s, self.protocol, state=self.state)
        if not s.operators and self.chain_id in DEVNET_CHAIN_IDS:
            s.operators = [self.account.address]  # a devnet's operator is the daemon's own key
        self.halt_window = HaltWindow(s, self.state)
        self.dlp = DlpDesk(self.service, s, self.state)
        self.feeds = build_feeds(self.w3, s.index_feeds, self.deployment.contracts, s.index_feed_max_age_s)
        for feed in self.feeds:
            log.info(
                "index source %s of %s: feed %s (weight %d, max age %ds)",
                feed.name,
                feed.market,
                feed.address,
                feed.weight,
                feed.max_age_s,
            )
        self.watcher = ChainWatcher(
            self.service,
            self.protocol,
            self.state,
            s,
            self.early_warning,
            feeds=self.feeds,
            halt_window=self.halt_window,
            dlp=self.dlp,
        )
        self.poster = ChainPoster(self.service, self.protocol, self.sender, self.state, s, self.journal_id)
        self.service.subscribe(self.early_warning.on_events)
        self.service.subscribe(self.poster.on_events)
        self.anchorer = None
        if self.protocol.has("JournalAnchor"):  # the audit trail: the journal's head every epoch
            self.anchorer = JournalAnchorer(
                self.runner.store,
                anchor_contract(self.w3, self.deployment.contracts["JournalAnchor"]),
                self.sender,
                self.journal_id,
                s.anchor_interval_s or self.poster.attest_interval,
                on_anchor=lambda a: self.service.alert(
                    "journal_anchored", f"journal anchored at seq {a['seq']}", **a
                ),
            )
        self.rebalancer = None
        if s.rebalance and self.protocol.has("Custody"):  # hot/cold inside the band (seed 000)
            self.rebalancer = Rebalancer(
                self.service,
                self.protocol,
                self.sender,
                Band(s.rebalance_low_bps, s.rebalance_high_bps),
                s.rebalance_interval_s,
                lambda: self.service.read(_owed_and_liabilities)[1],
                # a devnet's cold wallet is owned by test keys: the demo signs with them
                signers=[devnet_account(i) for i in DEVNET_COLD_OWNERS]
                if self.chain_id in DEVNET_CHAIN_IDS
                else [],
            )
            self.early_warning.own_wallets = self.rebalancer.own_wallets()
        self.check_roles()
        return self

    def start(self) -> None:
        """Start the watcher, the poster and the clock threads."""
        for name, target in (
            ("watcher", self.watcher.run),
            ("poster", self.poster.run),
            ("clock", self._clock),
            *((("anchor", self.anchorer.run),) if self.anchorer else ()),
            *((("rebalancer", self.rebalancer.run),) if self.rebalancer else ()),
        ):
            thread = threading.Thread(
                target=target, args=(self.stop_event,), name=f"daemon-{name}", daemon=True
            )
            thread.start()
            self.threads.append(thread)
        log.info(
            "daemon running on chain %d as %s (deployment block %d)",
            self.chain_id,
            self.account.address,
            self.deployment.block,
        )

    def stop(self) -> None:
        """Stop the threads, then close the journal and the daemon state."""
        self.stop_event.set()
        if hasattr(self, "poster"):
            self.poster.wake.set()
        for thread in self.threads:
            thread.join(JOIN_TIMEOUT_S)
        self.threads = []
        if self.runner is not None:
            log.info("stopping at seq %d, state_hash %s", self.runner.seq, self.runner.state_hash())
            self.runner.close()
            self.runner = None
        if self.state is not None:
            self.state.close()
            self.state = None

    def serve(self) -> int:
        """Run until SIGINT/SIGTERM: threads, plus the API in this (main) thread when enabled."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.open()
            self.start()
            app = self.build_api() if self.settings.serve_api else None
            if app is None:
                self.stop_event.wait()
            else:
                self._serve_api(app)
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def _on_signal(self, signum: int, frame: Any) -> None:
        log.info("signal %d: shutting down", signum)
        self.stop_event.set()

    def _clock(self, stop: threading.Event) -> None:
        while not stop.wait(self.settings.tick_interval_s):
            try:
                self.service.submit(C.Tick(0))
            except Exception:
                log.exception("tick failed")

    # -- the API seam -------------------------------------------------------------------------------
    def build_api(self) -> Any | None:
        """Return the API app over this daemon's service (None when the API is not installed)."""
        try:
            from offchain.api.app import create_app
            from offchain.api.signing import Domain
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("offchain.api"):
                log.warning("offchain.api.app is not available: serving no API")
                return None
            raise
        custody = self.deployment.contracts.get("Custody", "0x" + "00" * 20)
        return create_app(self.service, domain=Domain(self.chain_id, custody), dlp_desk=self.dlp)

    def _serve_api(self, app: Any) -> None:
        import uvicorn

        config = uvicorn.Config(
            app, host=self.settings.api_host, port=self.settings.api_port, log_level="warning"
        )
        server = uvicorn.Server(config)
        watchdog = threading.Thread(target=self._stop_server_on_stop, args=(server,), daemon=True)
        watchdog.start()
        log.info("API and dashboard on http://%s:%d/", self.settings.api_host, self.settings.api_port)
        server.run()

    def _stop_server_on_stop(self, server: Any) -> None:
        self.stop_event.wait()
        server.should_exit = True

    # -- start-up work ------------------------------------------------------------------------------
    def list_assets_and_markets(self) -> None:
        """List deployment tokens and configured markets the engine does not know yet."""
        s = self.settings
        for token in self.protocol.tokens.values():
            if token.symbol in self.service.engine.assets:
                continue
            wire = {"t": 0, "cmd": "asset", "symbol": token.symbol, "decimals": token.decimals}
            wire["collateral_weight"] = s.collateral_weights.get(token.symbol, "0")
            self._submit_wire(wire)
        for market in s.markets:
            symbol = market.get("symbol")
            if symbol in self.service.engine.markets:
                continue
            if (
                market.get("base") not in self.service.engine.assets
                or market.get("quote") not in self.service.engine.assets
            ):
                log.warning("market %s: its assets are not in the deployment; not listed", symbol)
                continue
            self._submit_wire({"t": 0, "cmd": "market", **market})
            if symbol in s.breaker_params:
                self._submit_wire(
                    {"t": 0, "cmd": "breaker", "symbol": symbol, "set": dict(s.breaker_params[symbol])}
                )

    def _submit_wire(self, wire: dict) -> None:
        try:
            cmd = parse_command(wire, self.service.engine)
        except CommandFormatError as exc:
            raise SettingsError(f"listing {wire}: {exc}") from None
        events = self.service.submit(cmd)
        if events and events[0].EVENT == "rejected":
            raise SettingsError(f"listing {wire} was rejected: {events[0].code} {events[0].message}")
        log.info("listed %s %s", wire["cmd"], wire["symbol"])

    def check_roles(self) -> None:
        """Warn (log + alert) about each role the daemon's key lacks for its on-chain work."""
        address = self.account.address
        roles = list(ROLES)
        if self.settings.keeper_trip:
            roles.append(("CircuitBreaker", "SENTINEL_ROLE", "trip the pool (keeper)"))
        for name, role, purpose in roles:
            if not self.protocol.has(name):
                log.warning("%s is not in the deployment: cannot %s", name, purpose)
                continue
            contract = self.protocol.contract(name)
            try:
                granted = contract.functions.hasRole(
                    getattr(contract.functions, role)().call(), address
                ).call()
            except Exception as exc:  # an older ABI without roles: report and carry on
                log.warning("cannot check %s.%s: %s", name, role, exc)
                continue
            if not granted:
                message = f"{address} lacks {name}.{role}: cannot {purpose}"
                log.warning(message)
                self.service.alert("missing_role", message)


def _wait_for_chain(w3: Web3, url: str, stop: threading.Event) -> int:
    """Return the chain id once the RPC answers (it may still be starting)."""
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while True:
        try:
            return int(w3.eth.chain_id)
        except Exception as exc:
            if time.monotonic() > deadline or stop.is_set():
                raise SettingsError(f"no chain answers at {url}: {exc}") from None
            time.sleep(0.5)


def _journal_id(runner: JournaledEngine) -> int:
    """Return the ts of the journal's first command: what tells this journal's withdrawals apart."""
    for _, record in runner.store.read_from(1):
        return int(record["ts"])
    raise SettingsError("the journal is empty: nothing was listed (no tokens in the deployment?)")


# -- the program ------------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags override the settings file and the BREAKWATER_* environment."""
    parser.add_argument("--config", type=Path, help="settings file (.toml or .json)")
    parser.add_argument("--rpc-url", dest="rpc_url", help="JSON-RPC endpoint")
    parser.add_argument(
        "--deployment", type=Path, help="deployment file (default deployments/<chain_id>.json)"
    )
    parser.add_argument(
        "--journal", dest="journal_url", help="journal URL (sqlite:///path.db or postgresql://...)"
    )
    parser.add_argument("--state", dest="state_path", type=Path, help="the daemon's own state file (SQLite)")
    parser.add_argument("--api-host", dest="api_host", help="API listen address")
    parser.add_argument("--api-port", dest="api_port", type=int, help="API port")
    parser.add_argument("--no-api", dest="serve_api", action="store_const", const=False, help="serve no API")
    parser.add_argument("--keystore", type=Path, help="eth-account keystore of the daemon's key")
    parser.add_argument("--confirmations", type=int, help="confirmations before a deposit is credited")
    parser.add_argument(
        "--rescan-blocks", dest="rescan_blocks", type=int, help="reorg rescan window (blocks)"
    )
    parser.add_argument("--poll-interval", dest="poll_interval_s", type=float, help="chain poll interval (s)")
    parser.add_argument(
        "--attestation-interval",
        dest="attestation_interval_s",
        type=float,
        help="seconds between attestations",
    )
    parser.add_argument(
        "--keeper-trip",
        dest="keeper_trip",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="trip the on-chain pool when the engine's breaker halts its market",
    )
    parser.add_argument("--log-level", dest="log_level", help="DEBUG, INFO, WARNING...")


FLAGS = (
    "rpc_url",
    "deployment",
    "journal_url",
    "state_path",
    "api_host",
    "api_port",
    "serve_api",
    "keystore",
    "confirmations",
    "rescan_blocks",
    "poll_interval_s",
    "attestation_interval_s",
    "keeper_trip",
    "log_level",
)


def run(args: argparse.Namespace) -> int:
    """Load the settings and run the daemon until a signal stops it."""
    try:
        settings = DaemonSettings.load(args.config, **{f: getattr(args, f, None) for f in FLAGS})
    except SettingsError as exc:
        print(f"daemon: {exc}")
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    try:
        return Daemon(settings).serve()
    except SettingsError as exc:
        log.error("%s", exc)
        return 2
