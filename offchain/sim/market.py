"""A live market for `make demo`: market makers and traders with their own keys, through Custody and the API.

Every participant is a wallet: it gets gas and faucet tokens on the devnet, approves Custody and
deposits through it (the daemon credits it after its confirmations), then trades with EIP-712 signed
orders through `offchain.api.client.Client`. Nothing here touches the engine directly.

* **market makers** quote a ladder around the engine's index (the pool's oracle among its sources);
  the devnet operator designates the first a liquidity provider (100,000 USDC bond) and the others
  authorised participants (`designate_makers`): while a market is halted only they may add orders
  (seed 004 §4.2), so without them the book never refills and the fail-safe breaker keeps it halted;
* **traders** send small IOC orders at the touch, and during a reopening (cool-down, call auction)
  crossing limit orders that the auction fills at one price;
* **an arbitrageur** swaps small amounts on the on-chain pool, so that its oracle (the index) moves;
* **feed reporters** (`offchain/sim/reporters.py`) post the off-chain price, near 1.00, to the
  devnet's Chainlink-style feeds every `report_every_s`: the index's other two sources;
* **a crash episode** every `crash_every_s` (seed 004's 10 October): the makers pull their quotes to a
  thin ladder far from the touch (a liquidity vacuum) and a seller dumps USDE into it with IOC
  orders. The local price falls away from the index while depth collapses: the engine's breaker
  halts the market before the trade that would break it. The makers come back during the halt, and
  the market reopens through cool-down and a call auction;
* **a DLP arriving during the halt** (seed 004 §4.2, `offchain/chain/dlp.py`): the `arriving_dlp`
  account posted only its bond (100,000 USDC, the designation's criterion) and holds no trading
  capital in the exchange. When the market halts it deposits `dlp_capital` USDC through Custody; the
  daemon credits it through the DLP priority channel, before the deposit has the confirmations
  everyone else's needs, and the DLP bids into the halted book (only DLPs and authorised
  participants may add orders then), which helps the reopening. It withdraws its bids once the
  market trades again. Each step is logged; `dlp_arrivals` in the summary counts the arrivals
  credited before their confirmations.

Prices and quantities are decimal strings (the API's wire form); `Decimal` only, never floats.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from eth_account import Account
from eth_utils import keccak
from web3 import Web3

from offchain.api.client import ApiError, Client
from offchain.api.signing import sign
from offchain.chain.deployment import Deployment
from offchain.chain.sender import SendPolicy, TxFailed, TxSender
from offchain.settings import devnet_account
from offchain.sim.reporters import FeedReporter

log = logging.getLogger("offchain.sim")

CONTINUOUS = "continuous"
REOPENING = ("cooldown", "auction")
REQUOTE_S = 10.0  # makers refresh their ladder this often
SETUP_GAS = 300_000  # a mint, an approve or a deposit (sent unestimated: they depend on each other)


@dataclass
class SimSettings:
    """What the simulation trades and how often it crashes."""

    api_url: str = "http://127.0.0.1:8000"
    rpc_url: str = "http://127.0.0.1:8545"
    deployment: Path | None = None
    symbol: str = "USDE-USDC"
    makers: int = 2
    traders: int = 3
    seed: int = 7
    step_s: float = 1.0
    first_crash_s: float = 60.0
    crash_every_s: float = 180.0
    seconds: float = 0.0  # 0: until stopped
    maker_size: str = "5000"
    maker_levels: int = 5
    report_every_s: float = 5.0  # the feed reporters' interval (0: no reporters)
    dlp_bond: int = 100_000  # whole USDC the arriving DLP posts as its bond at set-up
    dlp_capital: int = 50_000  # whole USDC it brings during each halt (at most its bond: the channel's room)
    confirmations: int = 3  # what a deposit needs without the priority channel (scripts/demo_daemon.toml)


class Participant:
    """A wallet with its own key, its API client and its chain sender."""

    def __init__(self, name: str, key: bytes, w3: Web3, api_url: str):
        self.name = name
        self.account = Account.from_key(key)
        self.address = self.account.address
        self.client = Client(api_url, key)
        self.sender = TxSender(w3, self.account, SendPolicy(receipt_timeout_s=20))
        self.live: dict[str, str] = {}  # client id -> side, of this participant's resting orders

    def order(self, symbol: str, side: str, qty: str, price: str | None = None, **options) -> dict | None:
        try:
            placed = self.client.place_order(symbol, side, qty, price, **options)
        except ApiError as exc:
            log.debug("%s %s %s@%s refused: %s", self.name, side, qty, price, exc.code)
            return None
        if placed.get("status") == "open":
            self.live[placed["client_id"]] = side
        return placed

    def cancel_all(self, side: str | None = None) -> None:
        for cid, s in list(self.live.items()):
            if side is None or s == side:
                try:
                    self.client.cancel(client_id=cid)
                except ApiError:
                    pass  # filled or already gone
                self.live.pop(cid, None)


def participant_key(seed: int, name: str) -> bytes:
    """A deterministic demo key per participant (devnet only: anyone can derive it)."""
    return keccak(f"breakwater-demo:{seed}:{name}".encode())


class MarketSim:
    """Set up the participants on-chain, then run the market until stopped (module docstring)."""

    def __init__(self, settings: SimSettings, stop: threading.Event | None = None):
        self.s = settings
        self.stop = stop or threading.Event()
        self.rng = random.Random(settings.seed)
        self.w3 = Web3(Web3.HTTPProvider(settings.rpc_url, request_kwargs={"timeout": 30}))
        chain_id = self.w3.eth.chain_id
        self.deployment = Deployment.load(chain_id=chain_id, path=settings.deployment)
        make = lambda name: Participant(name, participant_key(settings.seed, name), self.w3, settings.api_url)  # noqa: E731
        self.makers = [make(f"maker{i}") for i in range(settings.makers)]
        self.traders = [make(f"trader{i}") for i in range(settings.traders)]
        self.dumper = make("dumper")
        self.arb = make("arbitrageur")
        self.arriving = make("arriving_dlp")
        self.tick = Decimal("0.0001")
        self.crashes = 0
        self.withdrawals = 0
        self.halts_seen = 0
        self.dlp_arrivals = 0  # priority credits seen before the deposit's confirmations
        self.dlp_deposits = 0  # the arriving DLP's halt deposits (priority or not)
        self.index_sources: set[str] = set()  # index sources seen live (with a price)
        self.index_sources_live = 0  # the most seen live at once
        self._arrival: threading.Thread | None = None
        self.reopenings_seen = 0
        self._phase = "calm"
        self._crash_started = 0.0
        self._last_state = CONTINUOUS
        self._last_quote = 0.0
        self.reporter = FeedReporter(self.w3, self.deployment, seed=settings.seed)

    # -- setup ----------------------------------------------------------------------------------
    def contract(self, name: str):
        return self.deployment.contract(self.w3, name)

    def fund(self) -> None:
        """Gas, faucet tokens, Custody deposits (and a pool allowance for the arbitrageur).

        Every participant's transactions are signed with consecutive nonces and sent at once, so
        that the set-up takes a few blocks whatever the devnet's block time.
        """
        custody, pool = self.contract("Custody"), self.contract("Pool")
        plans = [(p, {"USDC": 200_000, "USDE": 200_000}) for p in self.makers]
        plans += [(p, {"USDC": 20_000, "USDE": 20_000}) for p in self.traders]
        plans += [(self.dumper, {"USDE": 300_000})]
        plans += [(self.arriving, {"USDC": self.s.dlp_bond})]  # its bond only: no trading capital
        sent = []
        for p, amounts in plans:
            calls = []
            for symbol, whole in amounts.items():
                token = self.contract(symbol)
                atoms = whole * 10 ** token.functions.decimals().call()
                calls += [
                    token.functions.mint(p.address, atoms),
                    token.functions.approve(custody.address, atoms),
                    custody.functions.deposit(token.address, atoms),
                ]
            sent += self._send_all(p, calls)
            log.info("%s %s deposits %s through Custody", p.name, p.address, amounts)
        calls = []
        for symbol in ("USDC", "USDE"):
            token = self.contract(symbol)
            atoms = 1_000_000 * 10 ** token.functions.decimals().call()
            calls += [
                token.functions.mint(self.arb.address, atoms),
                token.functions.approve(pool.address, atoms),
            ]
        sent += self._send_all(self.arb, calls)
        for tx_hash in sent:
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
            if receipt["status"] != 1:
                raise RuntimeError(f"set-up transaction {tx_hash.hex()} reverted")

    def _send_all(self, p: Participant, calls: list) -> list:
        """Give `p` gas money and send `calls` from it with consecutive nonces; return the hashes."""
        self.w3.provider.make_request("anvil_setBalance", [p.address, hex(100 * 10**18)])
        nonce = self.w3.eth.get_transaction_count(p.address, "pending")
        gas_price = 2 * self.w3.eth.gas_price + 1
        chain_id = self.w3.eth.chain_id
        hashes = []
        for i, call in enumerate(calls):
            tx = call.build_transaction(
                {
                    "from": p.address,
                    "nonce": nonce + i,
                    "gas": SETUP_GAS,
                    "gasPrice": gas_price,
                    "chainId": chain_id,
                }
            )
            hashes.append(self.w3.eth.send_raw_transaction(p.account.sign_transaction(tx).raw_transaction))
        return hashes

    def designate_makers(self) -> None:
        """The devnet operator (the daemon's default key, anvil account 0) designates the first maker
        a liquidity provider (bond: 100,000 USDC held in its account) and the others authorised
        participants: during a halt only they may quote (seed 004 §4.2), so the book can recover."""
        operator = devnet_account(0)
        now = int(time.time())
        roles = [("dlp" if i == 0 else "authorised", maker) for i, maker in enumerate(self.makers)]
        roles.append(("dlp", self.arriving))  # designated on its bond; its capital comes in a halt
        for i, (role, maker) in enumerate(roles):
            bond = str(self.s.dlp_bond if maker is self.arriving else 100_000)
            message = {
                "account": operator.address,
                "participant": maker.address,
                "role": role,
                "designated": True,
                "bond_asset": "USDC" if role == "dlp" else "",
                "bond": bond if role == "dlp" else "",
                "nonce": now * 1000 + i,
                "expiry": now + 600,
            }
            domain = maker.client.domain
            body = {"designation": message, "signature": sign(domain, "Designation", message, operator.key)}
            response = maker.client.http.post("/ops/designations", json=body)
            if response.status_code == 200:
                log.info("%s %s designated %s by the operator", maker.name, maker.address, role)
            else:
                log.warning(
                    "%s not designated (%s): %s", maker.name, response.status_code, response.text[:200]
                )

    def wait_for_credits(self, timeout: float = 120.0) -> None:
        """Wait until the daemon credited every participant's deposits."""
        deadline = time.monotonic() + timeout
        for p in [*self.makers, *self.traders, self.dumper, self.arriving]:
            while not self.stop.is_set():
                view = p.client.account()
                if view.get("exists") and view.get("balances"):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{p.name}'s deposits were not credited within {timeout}s")
                time.sleep(0.5)

    # -- the DLP arriving during a halt -----------------------------------------------------------
    def usdc_balance(self, p: Participant) -> Decimal:
        balances = p.client.account().get("balances") or {}
        return Decimal((balances.get("USDC") or {}).get("balance") or 0)

    def dlp_arrive(self) -> None:
        """The arriving DLP deposits its capital, waits for the priority credit, quotes, checks /status."""
        p, symbol = self.arriving, self.s.symbol
        try:
            usdc, custody = self.contract("USDC"), self.contract("Custody")
            atoms = self.s.dlp_capital * 10 ** usdc.functions.decimals().call()
            before = self.usdc_balance(p)
            hashes = self._send_all(
                p,
                [
                    usdc.functions.mint(p.address, atoms),
                    usdc.functions.approve(custody.address, atoms),
                    custody.functions.deposit(usdc.address, atoms),
                ],
            )
            log.info(
                "DLP arrival: %s %s deposits %s USDC through Custody during the %s halt",
                p.name,
                p.address,
                self.s.dlp_capital,
                symbol,
            )
            receipt = self.w3.eth.wait_for_transaction_receipt(hashes[-1], timeout=30)
            if receipt["status"] != 1:
                log.warning("DLP arrival: the deposit %s reverted", hashes[-1].hex())
                return
            block = int(receipt["blockNumber"])
            self.dlp_deposits += 1
            log.info("DLP arrival: deposit mined in block %d (%s)", block, hashes[-1].hex())
            deadline = time.monotonic() + 30
            while self.usdc_balance(p) < before + self.s.dlp_capital:
                if self.stop.is_set() or time.monotonic() > deadline:
                    log.warning("DLP arrival: the deposit was not credited within 30 s")
                    return
                time.sleep(0.1)
            confs = self.w3.eth.block_number - block + 1
            priority = confs < self.s.confirmations
            if priority:
                self.dlp_arrivals += 1
            log.info(
                "DLP arrival: credited %s USDC at %d of the %d confirmations a deposit needs: %s",
                self.s.dlp_capital,
                confs,
                self.s.confirmations,
                "the DLP priority channel" if priority else "the normal path (no priority credit)",
            )
            market = self.market()
            if market["state"] != "halted":
                log.info("DLP arrival: %s is already %s; bidding for the reopening", symbol, market["state"])
            fair = self.fair(market)
            bids = [
                p.order(
                    symbol,
                    "buy",
                    self.s.maker_size,
                    self.px(fair * (1 - Decimal("0.0003") * (k + 1))),
                    post_only=True,
                )
                for k in range(self.s.maker_levels)
            ]
            log.info(
                "DLP arrival: %s rests %d of %d bids of %s USDE below %s in the %s book (%s)",
                p.name,
                sum(1 for b in bids if b),
                len(bids),
                self.s.maker_size,
                self.px(fair),
                market["state"],
                "only DLPs and authorised participants may add orders during a halt",
            )
            self.dlp_status(p)
        except Exception:
            log.exception("DLP arrival failed")

    def dlp_status(self, p: Participant, timeout: float = 8.0) -> None:
        """What /status says of the arriving DLP (chain.dlp: its quoting obligation; the halt window)."""
        deadline = time.monotonic() + timeout
        while not self.stop.is_set() and time.monotonic() < deadline:
            chain = p.client.status().get("chain") or {}
            record = ((chain.get("dlp") or {}).get("designations") or {}).get(f"dlp:{p.address}") or {}
            quoting = (record.get("quoting") or {}).get(self.s.symbol)
            if quoting == "quoting":
                window = chain.get("halt_window") or {}
                log.info(
                    "DLP arrival: /status chain.dlp shows %s %s on %s (bond %s USDC); "
                    "halt window T_DLP %s s from %d DLP arrival sample(s)",
                    p.name,
                    quoting,
                    self.s.symbol,
                    Decimal(record.get("bond") or 0).scaleb(-6),
                    window.get("t_dlp_s"),
                    window.get("dlp_samples") or 0,
                )
                return
            time.sleep(0.5)
        log.info(
            "DLP arrival: /status did not show %s quoting on %s (the market reopened)", p.name, self.s.symbol
        )

    # -- the market ------------------------------------------------------------------------------
    def market(self) -> dict:
        return next(m for m in self.makers[0].client.markets() if m["symbol"] == self.s.symbol)

    def fair(self, market: dict) -> Decimal:
        for key in ("index_price", "mark_price", "mid", "last_price"):
            if market.get(key):
                return Decimal(market[key])
        return Decimal(1)

    def px(self, value: Decimal) -> str:
        return str(value.quantize(self.tick, rounding=ROUND_DOWN))

    def quote(self, fair: Decimal, thin: bool = False) -> None:
        """Each maker replaces its ladder: normal around `fair`, or thin and far (the vacuum)."""
        for i, maker in enumerate(self.makers):
            maker.cancel_all()
            if thin:
                offsets = [Decimal("0.012"), Decimal("0.02"), Decimal("0.03"), Decimal("0.045")]
                size = "400"
            else:
                offsets = [
                    Decimal("0.0005") * (k + 1) + Decimal("0.0002") * i for k in range(self.s.maker_levels)
                ]
                size = self.s.maker_size
            for off in offsets:
                maker.order(self.s.symbol, "buy", size, self.px(fair * (1 - off)), post_only=True)
                maker.order(self.s.symbol, "sell", size, self.px(fair * (1 + off)), post_only=True)
        self._last_quote = time.monotonic()

    def trade(self, market: dict, fair: Decimal) -> None:
        """Traders: IOC at the touch while continuous, crossing limits while the market reopens."""
        state = market["state"]
        for trader in self.traders:
            if self.rng.random() > 0.4:
                continue
            side = self.rng.choice(("buy", "sell"))
            qty = str(self.rng.randint(50, 800))
            if state == CONTINUOUS:
                touch = market["best_ask"] if side == "buy" else market["best_bid"]
                if touch:
                    trader.order(self.s.symbol, side, qty, touch, tif="IOC")
            elif state in REOPENING:
                edge = Decimal("1.001") if side == "buy" else Decimal("0.999")
                trader.order(self.s.symbol, side, qty, self.px(fair * edge))

    def swap_pool(self) -> None:
        """The arbitrageur nudges the on-chain pool (its oracle is the engine's index)."""
        if self.rng.random() > 0.15:
            return
        pool = self.contract("Pool")
        symbol = self.rng.choice(("USDC", "USDE"))
        token = self.contract(symbol)
        atoms = self.rng.randint(100, 2_000) * 10 ** token.functions.decimals().call()
        deadline = self.w3.eth.get_block("latest")["timestamp"] + 300
        try:
            self.arb.sender.send(pool.functions.swap(token.address, atoms, 0, self.arb.address, deadline))
        except TxFailed as exc:
            log.debug("pool swap refused: %s", exc)

    def withdraw(self) -> None:
        """Now and then a trader takes some USDC home: the daemon pays it through Custody."""
        if self.rng.random() > 0.03:
            return
        trader = self.rng.choice(self.traders)
        try:
            trader.client.withdraw("USDC", str(self.rng.randint(5, 50)))
            self.withdrawals += 1
        except ApiError as exc:
            log.debug("%s withdrawal refused: %s", trader.name, exc.code)

    def crash_step(self, fair: Decimal) -> None:
        """The dumper sells into the thin ladder with IOC orders a little lower each step."""
        depth = Decimal("0.02") + Decimal("0.01") * min(int(time.monotonic() - self._crash_started), 8)
        self.dumper.order(self.s.symbol, "sell", "1500", self.px(fair * (1 - depth)), tif="IOC")

    def step(self, elapsed: float) -> None:
        market = self.market()
        fair = self.fair(market)
        state = market["state"]
        live = {src for src, price in (market.get("index_sources") or {}).items() if price}
        self.index_sources |= live
        self.index_sources_live = max(self.index_sources_live, len(live))
        if state != self._last_state:
            log.info(
                "%s: %s -> %s (index %s, last %s)",
                self.s.symbol,
                self._last_state,
                state,
                fair,
                market["last_price"],
            )
            if state == "halted":
                self.halts_seen += 1
                if self._arrival is None or not self._arrival.is_alive():
                    self._arrival = threading.Thread(target=self.dlp_arrive, name="dlp-arrival", daemon=True)
                    self._arrival.start()
            if state == CONTINUOUS and self._last_state in REOPENING:
                self.reopenings_seen += 1
                if self._arrival is None or not self._arrival.is_alive():
                    self.arriving.cancel_all()  # the halt is over: the arriving DLP steps back
            self._last_state = state
        next_crash = self.s.first_crash_s + self.crashes * self.s.crash_every_s
        if self._phase == "calm" and state == CONTINUOUS and elapsed >= next_crash:
            self._phase = "crash"
            self._crash_started = time.monotonic()
            self.crashes += 1
            log.info("crash episode %d: makers pull their quotes, a seller dumps USDE", self.crashes)
            self.quote(fair, thin=True)
        if self._phase == "crash":
            if state == CONTINUOUS and time.monotonic() - self._crash_started < 30:
                self.crash_step(fair)
                return
            self._phase = "recover"  # halted (or the dump ran out): liquidity comes back
            self.quote(fair)
        elif time.monotonic() - self._last_quote >= REQUOTE_S or not any(m.live for m in self.makers):
            self.quote(fair)
        if self._phase == "recover" and state == CONTINUOUS and self.halts_seen >= self.crashes:
            self._phase = "calm"
        self.trade(market, fair)
        self.swap_pool()
        self.withdraw()

    def run(self) -> dict:
        """Fund, wait for the credits, then trade until `seconds` pass or `stop` is set."""
        reporting = threading.Event()  # the reporters stop with the market
        if self.reporter.feeds and self.s.report_every_s > 0:
            self.reporter.start(reporting, self.s.report_every_s)
        try:
            self.fund()
            self.wait_for_credits()
            self.designate_makers()
            started = time.monotonic()
            log.info(
                "market simulation running: %d makers, %d traders, %s the DLP that arrives in a halt",
                len(self.makers),
                len(self.traders),
                self.arriving.address,
            )
            self.log_index_sources()
            while not self.stop.is_set():
                elapsed = time.monotonic() - started
                if self.s.seconds and elapsed >= self.s.seconds:
                    break
                try:
                    self.step(elapsed)
                except Exception:  # the daemon restarting, a refused request: keep the market alive
                    log.exception("simulation step failed")
                self.stop.wait(self.s.step_s)
        finally:
            reporting.set()
            if self._arrival is not None:
                self._arrival.join(timeout=10)
        return {
            "crashes": self.crashes,
            "halts": self.halts_seen,
            "reopenings": self.reopenings_seen,
            "withdrawals": self.withdrawals,
            "feed_reports": self.reporter.reports,
            "dlp_deposits": self.dlp_deposits,
            "dlp_arrivals": self.dlp_arrivals,
            "index_sources": sorted(self.index_sources),
            "index_sources_live": self.index_sources_live,
        }

    def log_index_sources(self, timeout: float = 10.0) -> None:
        """Name the index's sources once they are live (the pool's oracle and the price feeds)."""
        deadline = time.monotonic() + timeout
        market: dict = {}
        while not self.stop.is_set() and time.monotonic() < deadline:
            market = self.market()
            if len([p for p in (market.get("index_sources") or {}).values() if p]) >= 3:
                break
            time.sleep(0.5)
        sources = market.get("index_sources") or {}
        log.info(
            "%s index %s from %d sources: %s",
            self.s.symbol,
            market.get("index_price"),
            len(sources),
            ", ".join(f"{src} {price}" for src, price in sorted(sources.items())),
        )
