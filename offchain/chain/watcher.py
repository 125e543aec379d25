"""The chain watcher: what happens on-chain becomes engine commands and chain status.

Every `poll` (one per `poll_interval_s`):

* **deposits**: `Custody.Deposited` logs of blocks with at least `confirmations` confirmations are
  credited as `deposit` commands whose `ref` is the transaction hash and the deposit's place in it
  (`protocol.deposit_ref`). The engine refuses a reference twice (`duplicate_deposit`) and keeps
  the set in its state, so a deposit is credited once across rescans, reorgs and restarts. The last
  processed block is kept in the daemon state; each poll reads the `rescan_blocks` below it again,
  so a deposit a reorg moved to another block is still found (and still credited only once);
* **the pool**: `price_oracle()` becomes an `index` price of the pool's market (source `pool`) on
  every new block, converted to engine units (`protocol.pool_price_to_engine`); while the
  CircuitBreaker halts the pool its source gets weight 0 (it leaves the index) and comes back at
  weight 1 when the pool resumes;
* **price feeds** (`offchain/chain/feeds.py`): every poll each `AggregatorV3Interface` adapter is
  read; a fresh answer becomes an `index` price of its market under the adapter's own source name
  (posted when it changes, and again every `min(index_refresh_s, max_age_s / 2)`); the engine is
  told the source's weight and staleness limit once (`index_source`), a stale or unreadable feed
  gets weight 0 (an `index_source` alert) and its weight back once it answers fresh again. So the
  index keeps its feeds while the pool halts;
* **the breaker**: `pause_all` (or Custody halted) becomes a `protocol` command: the engine stops
  withdrawals (and, for a protocol-wide pause, new risk) until it is lifted. This is read as state,
  not edges, so a restart or a missed event cannot leave the engine out of step; the breaker's
  events themselves become alerts;
* **status**: reserves, liabilities and ratios from the ReserveRegistry, attestation freshness, the
  insurance fund and Custody's hot balances go to `service.update_chain_status`, and feed the
  early warning; large ERC-20 transfers of the deployment's tokens go to the early warning too.

An RPC failure ends the poll; `run` retries with backoff and reports the outage once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Any

from eth_utils import to_checksum_address as account_name  # the account name form of offchain.api.signing

from offchain.chain.dlp import DlpDesk
from offchain.chain.early_warning import EarlyWarning
from offchain.chain.halt_window import FIGURES, HaltWindow
from offchain.chain.protocol import POOL_SOURCE, Protocol, deposit_ref, pool_price_to_engine
from offchain.chain.sender import TRANSIENT
from offchain.chain.state import DaemonState
from offchain.core.breaker.module import SetBreaker
from offchain.core.messages import commands as C
from offchain.core.messages.codec import format_units
from offchain.core.messages.risk import IndexSource
from offchain.core.treasury.module import ProtocolState

log = logging.getLogger(__name__)

LOG_CHUNK = 2_000  # blocks per eth_getLogs call
MAX_BACKOFF_S = 5.0
BREAKER_EVENTS = ("Tripped", "Paused", "PausedAll", "Resumed", "UnpausedAll")
# Held withdrawals (issue 14.5): the poster journals them `withdrawal_queued`; these are the alerts.
CUSTODY_EVENTS = ("WithdrawalQueued", "WithdrawalClaimed", "WithdrawalCancelled")
MAX_UINT256 = 2**256 - 1


def engine_module(engine: Any, name: str) -> Any:
    """Return the engine module called `name`, or None."""
    for module in engine.modules:
        if module.name == name:
            return module
    return None


class ChainWatcher:
    """Poll the chain and feed the engine and the chain status (see the module docstring)."""

    def __init__(
        self,
        service: Any,
        protocol: Protocol,
        state: DaemonState,
        settings: Any,
        early_warning: EarlyWarning | None = None,
        feeds: list[Any] | None = None,
        halt_window: HaltWindow | None = None,
        dlp: DlpDesk | None = None,
    ):
        self.service = service
        self.protocol = protocol
        self.w3 = protocol.w3
        self.state = state
        self.settings = settings
        self.early_warning = early_warning
        self.start_block = protocol.deployment.block
        self.custody = protocol.contract("Custody") if protocol.has("Custody") else None
        self.breaker = protocol.contract("CircuitBreaker") if protocol.has("CircuitBreaker") else None
        self.pool = protocol.contract("Pool") if protocol.has("Pool") else None
        self.registry = protocol.contract("ReserveRegistry") if protocol.has("ReserveRegistry") else None
        self.fund = protocol.contract("InsuranceFund") if protocol.has("InsuranceFund") else None
        custody_key = (self.custody.address if self.custody else "none").lower()
        self.deposit_cursor_key = f"deposits:{custody_key}"
        self.event_cursor_key = f"events:{custody_key}"
        self.head: int | None = None
        self.credited = 0  # deposits credited by this process
        self._pool_market: tuple[str, bool, int] | None | bool = False  # False: not looked up yet
        self._last_index: tuple[int, float] | None = None  # (price, monotonic time posted)
        self._last_status = 0.0
        self._warned: set[str] = set()
        self._rpc_down = False
        self._tokens: list[Any] | None = None
        self.feeds = list(feeds or [])
        self._feed_weight: dict[tuple[str, str], int] = {}  # (market, source) -> weight told to the engine
        self._feed_last: dict[tuple[str, str], tuple[int, float]] = {}  # -> (price, monotonic time posted)
        self._head_ts = 0
        self._last_feed_status: dict[str, dict[str, Any]] | None = None
        self.halt_window = halt_window
        self.dlp = dlp
        self._live_from: int | None = None  # deposits in later blocks were seen arriving: T_chain samples
        self._block_ts: dict[int, int] = {}  # block number -> timestamp (recent deposits' blocks)

    # -- the loop ---------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Poll until `stop` is set, backing off while the RPC endpoint is away."""
        backoff = self.settings.poll_interval_s
        while not stop.is_set():
            try:
                self.poll()
            except Exception as exc:  # the endpoint is away or answered nonsense: retry, never die
                self._outage(exc)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                stop.wait(backoff)
                continue
            if self._rpc_down:
                self._rpc_down = False
                self.service.update_chain_status(rpc="up")
                self.service.alert("rpc_restored", f"the RPC endpoint answers again at block {self.head}")
            backoff = self.settings.poll_interval_s
            stop.wait(self.settings.poll_interval_s)

    def _outage(self, exc: Exception) -> None:
        transient = isinstance(exc, TRANSIENT)
        if transient:
            log.warning("chain poll failed: %s", exc)
        else:  # not the network: a contract answered what we did not expect, or a bug
            log.exception("chain poll failed")
        if not self._rpc_down:
            self._rpc_down = True
            self.service.update_chain_status(rpc="down", rpc_error=str(exc)[:200])
            kind = "rpc_unavailable" if transient else "chain_poll_failed"
            self.service.alert(kind, f"chain poll failed: {str(exc)[:200]}")

    def poll(self) -> None:
        """Run one round: deposits, pool, breaker, events, and (when due) the status."""
        head = self.w3.eth.block_number
        new_block = head != self.head
        self.head = head
        if self._live_from is None:
            self._live_from = head
        if new_block:
            self._head_ts = int(self.w3.eth.get_block(head)["timestamp"])
            if self.halt_window is not None:
                self.halt_window.on_block(head, self._head_ts)
        self.scan_deposits(head)
        self.read_breaker()
        if self.pool is not None:
            self.read_pool(new_block)
        if self.feeds:
            self.read_feeds(head, new_block)
        if new_block:
            self.scan_events(head)
        now = time.monotonic()
        if now - self._last_status >= self.settings.status_interval_s:
            self._last_status = now
            self.read_status(head)
            self.sync_halt_window()
            if self.dlp is not None:
                self.service.update_chain_status(dlp=self.dlp.status())

    # -- deposits ---------------------------------------------------------------------------------
    def confirmations(self) -> int:
        """Confirmations a deposit needs now: the setting, or more while the early warning sees a run."""
        need = self.settings.confirmations
        if self.early_warning is not None:
            need = max(need, self.early_warning.required_confirmations())
        return need

    def scan_deposits(self, head: int) -> int:
        """Credit confirmed deposits up to `head`; return how many were credited now.

        With a DLP desk, deposits above the confirmed depth go through `scan_priority` too.
        """
        if self.custody is None:
            return 0
        safe = head - (self.confirmations() - 1)
        cursor = self.state.cursor(self.deposit_cursor_key, self.start_block - 1)
        first = max(self.start_block, cursor + 1 - self.settings.rescan_blocks)
        credited = 0
        seen: set[str] = set()
        for lo in range(first, safe + 1, LOG_CHUNK):
            hi = min(safe, lo + LOG_CHUNK - 1)
            logs = self.custody.events.Deposited.get_logs(from_block=lo, to_block=hi)
            credited += self._credit(logs, seen)
        if self.dlp is not None:
            self.scan_priority(head, safe, first, seen)
        if safe > cursor:
            self.state.set_cursor(self.deposit_cursor_key, safe)
        return credited

    def scan_priority(self, head: int, safe: int, first: int, confirmed: set[str]) -> int:
        """The DLP priority channel (`offchain/chain/dlp.py`): credit designated providers' unconfirmed
        deposits during a halt, settle pending priority credits that reached `safe`, debit back the
        ones a reorg removed. Return how many were credited now."""
        desk = self.dlp
        unconfirmed = (
            self.custody.events.Deposited.get_logs(from_block=safe + 1, to_block=head) if head > safe else []
        )
        fresh: set[str] = set()
        credited = 0
        for ref, entry, token, account, amount in self._deposits(unconfirmed):
            fresh.add(ref)
            if not self.settings.dlp_priority or ref in desk.pending:
                continue
            if self.service.read(lambda e, r=ref: r in e.deposit_refs):
                continue
            if desk.room(account, token.symbol) < amount:
                continue
            done = desk.credit(account, token.symbol, amount, ref, int(entry["blockNumber"]))
            if done is None:
                continue
            events, symbol, since = done
            credited += 1
            log.info(
                "priority credit %s %s to DLP %s during the %s halt (%s)",
                amount,
                token.symbol,
                account,
                symbol,
                ref,
            )
            if self.halt_window is not None:
                self.halt_window.on_dlp_arrival(since, events[0].ts)
        for ref, entry in list(desk.pending.items()):
            if ref in confirmed:
                desk.confirmed(ref)
            elif first <= entry["block"] <= safe and ref not in fresh:
                desk.reorged(ref)
        return credited

    def _deposits(self, logs: list):
        """Yield (ref, log, token, account, amount) of Custody deposits of known tokens, in chain order."""
        ordinal: Counter[str] = Counter()
        for entry in sorted(logs, key=lambda e: (e["blockNumber"], e["logIndex"])):
            tx = "0x" + bytes(entry["transactionHash"]).hex()
            ref = deposit_ref(tx, ordinal[tx])
            ordinal[tx] += 1
            token = self.protocol.token_at(entry["args"]["token"])
            if token is not None:
                yield (
                    ref,
                    entry,
                    token,
                    account_name(entry["args"]["depositor"]),
                    int(entry["args"]["amount"]),
                )

    def _credit(self, logs: list, seen: set[str] | None = None) -> int:
        ordinal: Counter[str] = Counter()
        credited = 0
        for entry in sorted(logs, key=lambda e: (e["blockNumber"], e["logIndex"])):
            tx = "0x" + bytes(entry["transactionHash"]).hex()
            ref = deposit_ref(tx, ordinal[tx])
            ordinal[tx] += 1
            if seen is not None:
                seen.add(ref)
            args = entry["args"]
            token = self.protocol.token_at(args["token"])
            if token is None:
                self._warn_once(
                    ref, "unknown_deposit_token", f"deposit {ref} of unknown token {args['token']}"
                )
                continue
            account = account_name(args["depositor"])
            known = self.service.read(lambda e, r=ref, s=token.symbol: (r in e.deposit_refs, s in e.assets))
            if known[0]:
                continue
            if not known[1]:
                self._warn_once(
                    ref, "unlisted_asset", f"deposit {ref}: {token.symbol} is not an engine asset"
                )
                continue
            events = self.service.submit(C.Deposit(0, account, token.symbol, int(args["amount"]), ref))
            if events and events[0].EVENT == "deposited":
                credited += 1
                log.info("credited %s %s to %s (%s)", args["amount"], token.symbol, account, ref)
                self._measure_arrival(int(entry["blockNumber"]), events[0].ts)
        self.credited += credited
        return credited

    def _measure_arrival(self, block: int, credited_ms: int) -> None:
        """One T_chain sample: a deposit mined after the watcher started, credited now."""
        if self.halt_window is None or self._live_from is None or block <= self._live_from:
            return
        stamp = self._block_ts.get(block)
        if stamp is None:
            stamp = int(self.w3.eth.get_block(block)["timestamp"])
            if len(self._block_ts) > 256:
                self._block_ts.clear()
            self._block_ts[block] = stamp
        sample = self.halt_window.on_deposit(stamp, credited_ms)
        log.debug("deposit of block %d arrived in %d ms (T_chain sample)", block, sample)

    # -- the halt window --------------------------------------------------------------------------
    def sync_halt_window(self) -> dict | None:
        """Set the measured T_chain / T_DLP / T_buffer on every market's breaker when they moved
        (`offchain/chain/halt_window.py`); show them under `halt_window` in the chain status."""
        hw = self.halt_window
        if hw is None:
            return None

        def current(engine: Any) -> dict[str, dict[str, int]]:
            breaker = engine_module(engine, "breaker")
            if breaker is None:
                return {}
            out = {}
            for sym in engine.markets:
                b = breaker.breakers.get(sym)
                params = b.params if b is not None else breaker.default_params
                out[sym] = {name: getattr(params, name) for name in FIGURES}
            return out

        have = self.service.read(current)
        if self.settings.halt_window.measure:
            for symbol, figures in sorted(have.items()):
                changes = hw.changes(symbol, figures)
                if not changes:
                    continue
                events = self.service.submit(SetBreaker(0, symbol, changes))
                if events and events[0].EVENT != "rejected":
                    figures.update(changes)
                    log.info("halt window of %s: %s", symbol, changes)
        windows = {sym: max(f["t_dlp_ms"], f["t_chain_ms"]) + f["t_buffer_ms"] for sym, f in have.items()}
        status = hw.status(windows)
        status["measure"] = self.settings.halt_window.measure
        self.service.update_chain_status(halt_window=status)
        return status

    # -- the pool ---------------------------------------------------------------------------------
    def _find_pool_market(self) -> tuple[str, bool, int] | None:
        """Return (engine market, base is token0, quote decimals) of the pool's pair, or None."""
        if self._pool_market is False:
            t0 = self.protocol.token_at(self.pool.functions.token0().call())
            t1 = self.protocol.token_at(self.pool.functions.token1().call())
            found = None
            if t0 and t1:

                def lookup(engine: Any) -> tuple[str, bool, int] | None:
                    for sym, m in engine.markets.items():
                        if m.kind == "spot" and {m.base, m.quote} == {t0.symbol, t1.symbol}:
                            return sym, m.base == t0.symbol, engine.assets[m.quote].decimals
                    return None

                found = self.service.read(lookup)
            if found is None:
                return None  # look again next time: the market may be listed later
            self._pool_market = found
        return self._pool_market  # type: ignore[return-value]

    def read_pool(self, new_block: bool) -> None:
        """Post the pool's oracle price as an index source; drop the source while the pool is halted."""
        halted = bool(self.breaker.functions.is_halted(self.pool.address).call()) if self.breaker else False
        oracle = int(self.pool.functions.price_oracle().call())
        found = self._find_pool_market()
        status: dict[str, Any] = {"address": self.pool.address, "price_oracle": oracle, "halted": halted}
        if found is not None:
            symbol, base_is_token0, quote_decimals = found
            price = pool_price_to_engine(oracle, base_is_token0, quote_decimals)
            status.update(symbol=symbol, price=format_units(price, quote_decimals), index_price=price)
            self._sync_source_weight(symbol, 0 if halted else 1)
            now = time.monotonic()
            due = self._last_index is None or (
                price != self._last_index[0] or now - self._last_index[1] >= self.settings.index_refresh_s
            )
            if not halted and price > 0 and due:
                self.service.submit(C.Index(0, symbol, POOL_SOURCE, price))
                self._last_index = (price, now)
        if new_block:
            reserves = self.pool.functions.get_reserves().call()
            tokens = self._pool_tokens()
            status.update(
                reserves={
                    t.symbol: format_units(int(r), t.decimals) for t, r in zip(tokens, reserves, strict=True)
                },
                spot_price=int(self.pool.functions.spot_price().call()),
            )
        self.service.update_chain_status(pool=status)

    def _pool_tokens(self) -> list[Any]:
        if self._tokens is None:
            found = [
                self.protocol.token_at(f().call())
                for f in (self.pool.functions.token0, self.pool.functions.token1)
            ]
            self._tokens = [t for t in found if t is not None]
        return self._tokens

    def _sync_source_weight(self, symbol: str, weight: int) -> None:
        def current(engine: Any) -> int | None:
            risk = engine_module(engine, "risk")
            if risk is None or symbol not in risk.markets:
                return None
            return risk.markets[symbol].pricing.source_config.get(POOL_SOURCE, (1, None))[0]

        have = self.service.read(current)
        if have is not None and have != weight:
            self.service.submit(IndexSource(0, symbol, POOL_SOURCE, weight=weight))
            what = "leaves the index (pool halted)" if weight == 0 else "is back in the index (pool resumed)"
            self.service.alert("pool_source", f"{symbol}: the on-chain pool price {what}", market=symbol)

    # -- price feeds ------------------------------------------------------------------------------
    def read_feeds(self, head: int, new_block: bool) -> dict[str, dict[str, Any]]:
        """Post every fresh feed as an index source; give a stale one weight 0 (module docstring)."""
        if not self._head_ts:
            self._head_ts = int(self.w3.eth.get_block(head)["timestamp"])
        # The later of the chain's time and ours: a devnet may run ahead, a stalled chain must not
        # keep a feed fresh.
        now_s = max(self._head_ts, int(time.time()))
        quote_decimals = self.service.read(
            lambda e: {sym: e.assets[m.quote].decimals for sym, m in e.markets.items() if m.quote in e.assets}
        )
        status: dict[str, dict[str, Any]] = {}
        for feed in self.feeds:
            if feed.market not in quote_decimals:
                continue  # not listed (yet)
            reading = feed.read(now_s, quote_decimals[feed.market])
            key = (feed.market, feed.name)
            weight = feed.weight if reading.fresh else 0
            self._sync_feed(feed, key, weight, reading.problem)
            if reading.price is not None:
                last = self._feed_last.get(key)
                now = time.monotonic()
                refresh = min(self.settings.index_refresh_s, feed.max_age_s / 2)
                if last is None or last[0] != reading.price or now - last[1] >= refresh:
                    self.service.submit(C.Index(0, feed.market, feed.name, reading.price))
                    self._feed_last[key] = (reading.price, now)
            status[f"{feed.market}:{feed.name}"] = {
                "market": feed.market,
                "source": feed.name,
                "address": feed.address,
                "max_age_s": feed.max_age_s,
                **reading.status(weight),
            }
        if new_block or status != self._last_feed_status:
            self._last_feed_status = status
            self.service.update_chain_status(index_sources=status)
        return status

    def _sync_feed(self, feed: Any, key: tuple[str, str], weight: int, problem: str | None) -> None:
        """Tell the engine the source's weight (and, the first time, its staleness limit) when it changes."""
        have = self._feed_weight.get(key)
        if have == weight:
            return
        first = have is None
        max_age_ms = feed.max_age_s * 1000 if first else None
        self.service.submit(IndexSource(0, feed.market, feed.name, weight=weight, max_age_ms=max_age_ms))
        self._feed_weight[key] = weight
        if first and problem is None:
            return
        if weight == 0:
            what = f"leaves the index ({problem})"
        else:
            what = "is back in the index"
        self.service.alert(
            "index_source",
            f"{feed.market}: price feed {feed.name} {what}",
            market=feed.market,
            source=feed.name,
        )

    # -- the breaker ------------------------------------------------------------------------------
    def read_breaker(self) -> None:
        """Mirror the protocol-wide pause (and a halted Custody) into the engine."""
        if self.breaker is None:
            return
        all_paused = bool(self.breaker.functions.all_paused().call())
        custody_halted = bool(self.custody and self.breaker.functions.is_halted(self.custody.address).call())
        want = (all_paused or custody_halted, all_paused)
        treasury = self.service.read(lambda e: engine_module(e, "treasury"))
        if treasury is None:
            return
        have = self.service.read(lambda e: (treasury.withdrawals_paused, treasury.risk_paused))
        self.service.update_chain_status(paused={"all": all_paused, "custody": custody_halted})
        if have == want:
            return
        if all_paused:
            reason = "CircuitBreaker.pause_all"
        elif custody_halted:
            code = int(self.breaker.functions.last_reason(self.custody.address).call())
            reason = f"Custody halted (reason {code})"
        else:
            reason = "resumed"
        self.service.submit(ProtocolState(0, want[0], want[1], reason))
        self.service.alert(
            "protocol_state", f"protocol: withdrawals paused={want[0]}, risk paused={want[1]} ({reason})"
        )

    # -- events: breaker, registry, custody, large transfers ---------------------------------------
    def scan_events(self, head: int) -> None:
        """Turn new breaker/registry/custody events into alerts and large transfers into warnings."""
        cursor = self.state.cursor(self.event_cursor_key, head - 1)
        first = cursor + 1
        if first > head:
            return
        first = max(first, head - LOG_CHUNK + 1)  # after a long outage, alert on the recent past only
        sources: list[tuple[str, Any, tuple[str, ...]]] = []
        if self.breaker is not None:
            sources.append(("CircuitBreaker", self.breaker, BREAKER_EVENTS))
        if self.registry is not None:
            sources.append(("ReserveRegistry", self.registry, ("SolvencyTripped",)))
        if self.custody is not None:
            sources.append(("Custody", self.custody, CUSTODY_EVENTS))
        for name, contract, events in sources:
            for event_name in events:
                for entry in getattr(contract.events, event_name).get_logs(from_block=first, to_block=head):
                    args = {k: _jsonable(v) for k, v in entry["args"].items()}
                    self.service.alert(
                        "chain_event",
                        f"{name}.{event_name} {args}",
                        contract=name,
                        name=event_name,
                        block=entry["blockNumber"],
                        args=args,
                    )
        if self.early_warning is not None:
            for token in self.protocol.tokens.values():
                contract = self.protocol.token_contract(token.symbol)
                for entry in contract.events.Transfer.get_logs(from_block=first, to_block=head):
                    args = entry["args"]
                    sender, receiver, amount = _transfer_args(args)
                    self.early_warning.on_transfer(
                        token.symbol,
                        sender,
                        receiver,
                        amount,
                        token.decimals,
                        "0x" + bytes(entry["transactionHash"]).hex(),
                    )
        self.state.set_cursor(self.event_cursor_key, head)

    # -- status -----------------------------------------------------------------------------------
    def read_status(self, head: int) -> dict:
        """Read reserves, attestation freshness, the insurance fund and hot balances into the status."""
        status: dict[str, Any] = {"block": head, "rpc": "up"}
        hot: dict[str, int] = {}
        reserves: dict[str, dict] = {}
        for token in self.protocol.tokens.values():
            contract = self.protocol.token_contract(token.symbol)
            units = lambda atoms, d=token.decimals: format_units(int(atoms), d)  # noqa: E731
            if self.custody is not None:
                hot[token.symbol] = int(contract.functions.balanceOf(self.custody.address).call())
            if self.registry is not None:
                ratio = int(self.registry.functions.reserve_ratio_bps(token.address).call())
                reserves[token.symbol] = {
                    "reserves": units(self.registry.functions.reserves(token.address).call()),
                    "liabilities": units(self.registry.functions.liabilities(token.address).call()),
                    "ratio_bps": None if ratio == MAX_UINT256 else ratio,
                    "hot": units(hot.get(token.symbol, 0)),
                }
        status["reserves"] = reserves
        if self.registry is not None:
            epoch = int(self.registry.functions.latest_epoch().call())
            attestation: dict[str, Any] = {
                "epoch": epoch,
                "fresh": bool(self.registry.functions.is_fresh().call()),
                "heartbeat_s": int(self.registry.functions.heartbeat().call()),
            }
            if epoch:
                root, leaves, stamp = self.registry.functions.attestation(epoch).call()
                block_time = int(self.w3.eth.get_block(head)["timestamp"])
                attestation.update(
                    root="0x" + bytes(root).hex(),
                    leaf_count=leaves,
                    age_s=block_time - int(stamp),
                    attested_at=int(stamp),  # unix seconds (the dashboard shows its time)
                )
            status["attestation"] = attestation
        if self.fund is not None:
            asset = self.protocol.token_at(self.fund.functions.asset().call())
            decimals = asset.decimals if asset else 0
            status["insurance_fund"] = {
                "address": self.fund.address,
                "asset": asset.symbol if asset else "",
                "assets": format_units(int(self.fund.functions.totalAssets().call()), decimals),
                "cover_headroom": format_units(int(self.fund.functions.cover_headroom().call()), decimals),
                "frozen": bool(self.fund.functions.is_frozen().call()),
            }
        if self.early_warning is not None:
            owed, net = self.service.read(_owed_and_liabilities)
            status["early_warning"] = self.early_warning.evaluate(self.service.clock_ms(), hot, owed, net)
        self.service.update_chain_status(**status)
        return status

    def _warn_once(self, key: str, kind: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.service.alert(kind, message)


def _owed_and_liabilities(engine: Any) -> tuple[dict[str, int], dict[str, int]]:
    """Withdrawals owed on-chain and net user balances, per asset (read under the sequencer lock)."""
    owed: dict[str, int] = {}
    treasury = engine_module(engine, "treasury")
    if treasury is not None:
        for _, asset, amount in treasury.owed.values():
            owed[asset] = owed.get(asset, 0) + amount
    net: dict[str, int] = {}
    for acct in engine.accounts.by_name.values():
        for asset, amount in acct.balance.items():
            net[asset] = net.get(asset, 0) + amount
    return owed, net


def _transfer_args(args: Any) -> tuple[str, str, int]:
    """Return (from, to, value) of an ERC-20 Transfer whatever its argument names (snekmate: owner/to/amount)."""
    values = list(args.values())
    return str(values[0]), str(values[1]), int(values[2])


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, int | str | bool) or value is None:
        return value
    return str(value)
