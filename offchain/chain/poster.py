"""The chain poster: every on-chain write of the daemon, through one `TxSender` (one nonce manager).

* **withdrawals**: the engine keeps every accepted withdrawal owed (`treasury` module) until a
  `withdrawal_paid` command names it. The poster pays each through `Custody.withdraw` under the
  request id `protocol.request_id(wid)`. Custody pays a request id at most once, and the poster asks
  `Custody.is_paid` first, so a resend, a retry after a lost receipt, or a restart between payment
  and journaling never pays twice: a paid request is only journaled. A refusal is sorted by
  `offchain.chain.refusals`: transient ones are retried (one alert per new problem), one that
  cannot clear is refunded at once, one that may clear (the user's rolling outflow limit) is
  refunded once the withdrawal is `withdrawal_refund_after_s` old. A withdrawal Custody holds (its
  global outflow limit had no room: `WithdrawalQueued`) is journaled `withdrawal_queued` (the user
  sees it queued), never resent, refunded or counted paid: the poster `claim`s it once
  `Custody.claimable` says so (anyone may), and journals it paid when `is_paid` says so; a held
  withdrawal the governor cancels is refunded. A refund (`withdrawal_refunded`)
  is journaled only after `Custody.is_paid` says no and with no transaction of the daemon's key
  pending, and the engine then no longer owes it, so it is never paid afterwards: paid once or
  refunded once, never both.
* **bad debt**: what the risk engine wrote off and `cover_paid` has not yet counted is paid by
  `InsuranceFund.cover` into Custody (within the fund's 24 h cap). The cover's reason names the
  running total it brings the asset to (`bad debt USDC to 1234`), so the poster recognises its own
  earlier covers in the fund's `Covered` events and journals a cover that was paid but not yet
  counted instead of paying it again.
* **proof of reserves**: every attestation interval, a Merkle-sum tree (`offchain.por`) of every
  wallet account's net balances per deployment token, salts derived from a secret kept in the daemon
  state. A withdrawal the engine accepted but Custody has not paid yet is still owed to its account,
  so it is counted in that account's balance: once paid, Custody's `paid_out` takes it off the
  attested liabilities (issue 14.5). With the tree goes its debtors' register (every leaf with
  debt, published in full: docs/por.md) valued at the engine's prices (`PRICE_SCALE` per atom) and
  haircuts (1 - collateral weight). The epoch's inputs are saved before `ReserveRegistry.attest` and
  marked attested after, so that users' proofs and the register are served again after a restart
  (`service.publish_por`).
* **keeper trips** (optional): when the engine's breaker halts the pool's market, the poster trips
  the pool on the on-chain CircuitBreaker (sentinel role), unless it is halted already.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from offchain.chain import refusals
from offchain.chain.protocol import Protocol
from offchain.chain.sender import ChainUnavailable, TxFailed, TxSender
from offchain.chain.state import DaemonState
from offchain.chain.watcher import engine_module
from offchain.core.messages.codec import format_units
from offchain.core.treasury.module import (
    MAX_REFUND_REASON,
    CoverPaid,
    WithdrawalPaid,
    WithdrawalQueued,
    WithdrawalRefunded,
)
from offchain.por import Register, Tree, attest_args, build_account_tree, build_register

log = logging.getLogger(__name__)

SENTINEL_KEEPER = 1000  # contracts/lib/trip_reasons.vy SENTINEL_MANUAL: an off-chain sentinel's trip
RETRY_AFTER_S = 10.0  # a refused payment is tried again after this long
COVER_REASON = "bad debt {asset} to {total}"
MAX_POR_ASSETS = 8
ATTEST_CHECK_S = 5.0  # look at the registry's latest attestation at most this often
# The register's prices are per atom in units of 10**-30 settlement-asset atoms (docs/por.md): exact
# enough for any token of up to 30 decimals, and far from overflowing with amounts below 10**30.
PRICE_SCALE = 10**30
FULL_HAIRCUT_BPS = 10_000
PPM_PER_BPS = 100


class EpochProofs(Mapping):
    """Users' proofs of one epoch, cut from the tree on demand (a million accounts need no million dicts)."""

    def __init__(self, tree: Tree, epoch_doc: dict):
        self.tree = tree
        self.epoch_doc = epoch_doc
        self._accounts = {"0x" + a.hex(): i for i, a in enumerate(tree.accounts or [])}

    def __getitem__(self, account: str) -> dict:
        index = self._accounts.get(account.lower())
        if index is None:
            raise KeyError(account)
        return self.tree.proof(index).to_json()

    def __iter__(self) -> Iterator[str]:
        return iter(self._accounts)

    def __len__(self) -> int:
        return len(self._accounts)


class ChainPoster:
    """Pay withdrawals and covers, attest reserves and trip the on-chain breaker (module docstring)."""

    def __init__(
        self,
        service: Any,
        protocol: Protocol,
        sender: TxSender,
        state: DaemonState,
        settings: Any,
        journal_id: int,
    ):
        self.service = service
        self.journal_id = journal_id
        self.protocol = protocol
        self.w3 = protocol.w3
        self.sender = sender
        self.state = state
        self.settings = settings
        self.custody = protocol.contract("Custody") if protocol.has("Custody") else None
        self.registry = protocol.contract("ReserveRegistry") if protocol.has("ReserveRegistry") else None
        self.fund = protocol.contract("InsuranceFund") if protocol.has("InsuranceFund") else None
        self.breaker = protocol.contract("CircuitBreaker") if protocol.has("CircuitBreaker") else None
        self.pool = protocol.contract("Pool") if protocol.has("Pool") else None
        chain_id = self.w3.eth.chain_id
        self.attest_interval = settings.attestation_interval(chain_id in (31337, 1337))
        self.wake = threading.Event()
        self.trips: queue.Queue[dict] = queue.Queue()
        self._retry_at: dict[Any, float] = {}
        self._problems: dict[Any, str] = {}  # what was last alerted per withdrawal / cover
        self._next_attest_check = 0.0
        self._covers_seen: dict[str, tuple[int, str]] = {}  # reason -> (amount, tx)
        self._covers_block: int | None = None
        self._settle_symbol: str | None = None
        self.refund_after_ms = int(settings.withdrawal_refund_after_s * 1000)
        self._queued: set[int] = set()  # withdrawals journaled `withdrawal_queued` by this process
        self.paid = 0  # withdrawals this process paid on-chain
        self.refunded = 0  # withdrawals this process refunded
        self.covered = 0  # covers this process paid on-chain

    # -- wiring -----------------------------------------------------------------------------------
    def on_events(self, events: list[dict]) -> None:
        """Service subscriber: wake up for withdrawals, bad debt and breaker halts (only enqueue)."""
        for e in events:
            kind = e.get("event")
            if kind in ("withdrawal_requested", "bad_debt", "protocol"):
                self.wake.set()
            elif kind == "breaker" and e.get("to_state") == "halted" and e.get("reason") != "manual":
                self.trips.put(e)
                self.wake.set()

    def run(self, stop: threading.Event) -> None:
        """Work until `stop` is set: after every wake-up and at least once a second."""
        self.restore_por()
        while not stop.is_set():
            self.wake.wait(1.0)
            self.wake.clear()
            if stop.is_set():
                break
            try:
                self.step()
            except ChainUnavailable as exc:
                log.warning("chain poster: RPC unavailable (%s); retrying", exc)
                stop.wait(1.0)
            except Exception:  # one bad round must not stop payouts for good
                log.exception("chain poster round failed")
                stop.wait(1.0)

    def step(self) -> None:
        """One round: payouts, covers, keeper trips, and an attestation when due."""
        self.pay_withdrawals()
        self.cover_bad_debt()
        self.keeper_trips()
        if self.registry is not None and self.attestation_due():
            self._next_attest_check = time.monotonic() + RETRY_AFTER_S  # also after a failure: no alert storm
            self.attest()

    # -- withdrawals ------------------------------------------------------------------------------
    def pay_withdrawals(self) -> int:
        """Pay every owed withdrawal once; return how many were settled (paid now or found paid)."""
        if self.custody is None:
            return 0

        def owed_now(engine: Any) -> tuple[list, bool]:
            treasury = engine_module(engine, "treasury")
            owed = [(wid, *debt, treasury.requested_ts(wid)) for wid, debt in sorted(treasury.owed.items())]
            return owed, treasury.withdrawals_paused

        owed, paused = self.service.read(owed_now)
        settled = 0
        for wid, account, asset, amount, requested_ts in owed:
            if self._retry_at.get(("w", wid), 0) > time.monotonic():
                continue
            if self.pay_withdrawal(wid, account, asset, amount, paused, requested_ts):
                settled += 1
        return settled

    def pay_withdrawal(
        self,
        wid: int,
        account: str,
        asset: str,
        amount: int,
        paused: bool = False,
        requested_ts: int | None = None,
    ) -> bool:
        """Pay withdrawal `wid` unless Custody already did; journal it paid, or refunded when Custody
        refuses it for good. Return True when settled (paid now, found paid, or refunded)."""
        rid = self.protocol.request_id(wid, self.journal_id)
        token = self.protocol.tokens.get(asset)
        paid = self._payment_state(rid, account, token, amount)
        if paid == "paid":
            self._journal_paid(wid, self._find_payment(rid))
            return True
        if paid == "reused":
            return self._refund(wid, account, asset, amount, refusals.REUSED)
        if token is None or not _is_address(account):
            return self._refund(wid, account, asset, amount, f"{asset} to {account} has no on-chain form")
        if paused:
            return False  # Custody refuses while halted; the engine stops new requests meanwhile
        held = int(self.custody.functions.withdrawal_state(rid).call())
        if held == refusals.STATE_QUEUED:
            return self._claim_held(wid, rid)
        if held == refusals.STATE_CANCELLED:
            return self._refund(wid, account, asset, amount, refusals.CANCELLED)
        call = self.custody.functions.withdraw(rid, account, token.address, amount)
        try:
            receipt = self.sender.send(call)
        except TxFailed as exc:
            refusal = refusals.diagnose(
                self.custody, self.breaker, token, self.sender.address, rid, account, amount, str(exc)
            )
            return self._refused(wid, account, token, amount, requested_ts, refusal)
        if self.custody.events.WithdrawalQueued().process_receipt(receipt, errors=_DISCARD):
            self._journal_queued(wid, "0x" + bytes(receipt["transactionHash"]).hex())
            return False
        tx = "0x" + bytes(receipt["transactionHash"]).hex()
        self.paid += 1
        log.info("paid withdrawal %d: %d %s to %s (%s)", wid, amount, asset, account, tx)
        self._journal_paid(wid, tx)
        return True

    def _claim_held(self, wid: int, rid: bytes) -> bool:
        """Claim held withdrawal `wid` once Custody's window has room; journal it paid when it is."""
        if wid not in self._queued:  # after a restart: journal it queued (the engine refuses a repeat)
            self._journal_queued(wid, self._find_queuing(rid))
        if not self.custody.functions.claimable(rid).call():
            self._defer(
                ("w", wid), "withdrawal_queued", f"withdrawal {wid} is held by Custody's outflow window"
            )
            return False
        try:
            receipt = self.sender.send(self.custody.functions.claim(rid))
        except TxFailed as exc:  # someone else claimed it first, or the window closed again
            if self.custody.functions.is_paid(rid).call():
                self._journal_paid(wid, self._find_payment(rid))
                return True
            self._defer(("w", wid), "withdrawal_queued", f"withdrawal {wid}: claim refused ({exc})")
            return False
        self.paid += 1
        self._journal_paid(wid, "0x" + bytes(receipt["transactionHash"]).hex())
        return True

    def _journal_queued(self, wid: int, tx: str) -> None:
        """Tell the engine (once) that Custody holds `wid`: the user sees it `queued`."""
        self._queued.add(wid)
        if not tx or self.service.read(lambda e: engine_module(e, "treasury").is_queued(wid)):
            return
        events = self.service.submit(WithdrawalQueued(0, wid, tx))
        if events and events[0].EVENT == "withdrawal_queued":
            log.info("withdrawal %d held by Custody's outflow window (%s)", wid, tx)
            self.service.alert(
                "withdrawal_queued", f"withdrawal {wid} is held by Custody's outflow window", wid=wid
            )

    def _find_queuing(self, rid: bytes) -> str:
        """Return the hash of the transaction that queued request `rid` ("" if not found in the logs)."""
        logs = self.custody.events.WithdrawalQueued.get_logs(
            argument_filters={"request_id": rid}, from_block=self.protocol.deployment.block
        )
        return "0x" + bytes(logs[-1]["transactionHash"]).hex() if logs else ""

    def _refused(
        self, wid: int, account: str, token: Any, amount: int, requested_ts: int | None, refusal: Any
    ) -> bool:
        """Refund a refusal that cannot clear, or one that may but outlasted its wait; else retry."""
        what = f"withdrawal {wid} of {format_units(amount, token.decimals)} {token.symbol} to {account}"
        if refusal.kind == refusals.PERMANENT:
            return self._refund(wid, account, token.symbol, amount, refusal.reason)
        if refusal.kind == refusals.WAIT:
            age_ms = self.service.clock_ms() - requested_ts if requested_ts is not None else 0
            if age_ms >= self.refund_after_ms:
                reason = f"still refused after {self.refund_after_ms // 1000} s: {refusal.reason}"
                return self._refund(wid, account, token.symbol, amount, reason)
            left = (self.refund_after_ms - age_ms) // 1000
            self._defer(("w", wid), "withdrawal_failed", f"{what}: {refusal.reason} (refunded in {left} s)")
            return False
        self._defer(("w", wid), "withdrawal_failed", f"{what}: {refusal.reason}")
        return False

    def _refund(self, wid: int, account: str, asset: str, amount: int, reason: str) -> bool:
        """Journal `withdrawal_refunded` unless Custody paid it meanwhile or a transaction of ours is
        pending (it could still pay it). Return True when the withdrawal is settled."""
        rid = self.protocol.request_id(wid, self.journal_id)
        if self._payment_state(rid, account, self.protocol.tokens.get(asset), amount) == "paid":
            self._journal_paid(wid, self._find_payment(rid))
            return True
        address = self.sender.address
        if self.w3.eth.get_transaction_count(address, "pending") > self.w3.eth.get_transaction_count(
            address, "latest"
        ):
            self._defer(("w", wid), "withdrawal_failed", f"withdrawal {wid}: refund waits for a pending tx")
            return False
        reason = reason if len(reason) <= MAX_REFUND_REASON else reason[: MAX_REFUND_REASON - 1] + "…"
        events = self.service.submit(WithdrawalRefunded(0, wid, reason))
        if events and events[0].EVENT == "rejected":
            log.info("withdrawal %d not refunded (%s)", wid, events[0].code)
            return False
        self.refunded += 1
        self._problems.pop(("w", wid), None)
        self._retry_at.pop(("w", wid), None)
        log.warning("refunded withdrawal %d of %d %s to %s: %s", wid, amount, asset, account, reason)
        self.service.alert(
            "withdrawal_refunded",
            f"withdrawal {wid} refunded to {account}: {reason}",
            wid=wid,
            account=account,
            asset=asset,
            amount=str(amount),
            reason=reason,
        )
        return True

    def _payment_state(self, rid: bytes, account: str, token: Any, amount: int) -> str:
        """`unpaid`, `paid` (Custody paid `rid` with these terms) or `reused` (with other terms)."""
        if not self.custody.functions.is_paid(rid).call():
            return "unpaid"
        if token is None or not _is_address(account):
            return "reused"  # Custody cannot have paid a withdrawal that has no on-chain form
        return "reused" if refusals.reused(self.custody, rid, account, token.address, amount) else "paid"

    def _journal_paid(self, wid: int, tx: str) -> None:
        events = self.service.submit(WithdrawalPaid(0, wid, tx))
        if events and events[0].EVENT == "rejected":
            log.info("withdrawal %d already journaled paid (%s)", wid, events[0].code)

    def _find_payment(self, rid: bytes) -> str:
        """Return the hash of the transaction that paid request `rid` ("" if not found in the logs)."""
        logs = self.custody.events.Withdrawn.get_logs(
            argument_filters={"request_id": rid}, from_block=self.protocol.deployment.block
        )
        return "0x" + bytes(logs[-1]["transactionHash"]).hex() if logs else ""

    # -- bad debt -----------------------------------------------------------------------------------
    def settle_symbol(self) -> str | None:
        """The engine asset the insurance fund pays in (its ERC-4626 `asset()`)."""
        if self._settle_symbol is None and self.fund is not None:
            token = self.protocol.token_at(self.fund.functions.asset().call())
            self._settle_symbol = token.symbol if token else ""
        return self._settle_symbol or None

    def cover_bad_debt(self) -> int:
        """Cover what the engine wrote off and has not counted as covered; return the amount paid now."""
        symbol = self.settle_symbol()
        if symbol is None or self.custody is None:
            return 0
        if self._retry_at.get(("c", symbol), 0) > time.monotonic():
            return 0
        owed, covered = self._cover_state(symbol)
        if owed <= 0:
            return 0
        self._reconcile_covers(symbol)
        owed, covered = self._cover_state(symbol)
        if owed <= 0:
            return 0
        headroom = int(self.fund.functions.cover_headroom().call())
        amount = min(owed, headroom)
        if amount <= 0:
            self._defer(
                ("c", symbol), "cover_capped", f"{owed} {symbol} of bad debt waits: the 24h cover cap is used"
            )
            return 0
        reason = COVER_REASON.format(asset=symbol, total=covered + amount)
        try:
            receipt = self.sender.send(self.fund.functions.cover(amount, self.custody.address, reason))
        except TxFailed as exc:
            self._defer(("c", symbol), "cover_failed", f"cover of {amount} {symbol}: {exc}")
            return 0
        tx = "0x" + bytes(receipt["transactionHash"]).hex()
        self._covers_seen[reason] = (amount, tx)
        self.service.submit(CoverPaid(0, symbol, amount, tx))
        self.covered += amount
        self.service.alert("bad_debt_covered", f"InsuranceFund covered {amount} {symbol} of bad debt", tx=tx)
        if amount < owed:
            self._defer(
                ("c", symbol), "cover_capped", f"{owed - amount} {symbol} of bad debt is above the 24h cap"
            )
        return amount

    def _cover_state(self, symbol: str) -> tuple[int, int]:
        def read(engine: Any) -> tuple[int, int]:
            treasury = engine_module(engine, "treasury")
            return treasury.bad_debt_owed(symbol), treasury.covered.get(symbol, 0)

        return self.service.read(read)

    def _reconcile_covers(self, symbol: str) -> None:
        """Journal covers this key paid on-chain that the engine has not counted (a crash in between)."""
        start = self._covers_block if self._covers_block is not None else self.protocol.deployment.block
        head = self.w3.eth.block_number
        if start <= head:
            for entry in self.fund.events.Covered.get_logs(
                argument_filters={"caller": self.sender.address}, from_block=start, to_block=head
            ):
                args = entry["args"]
                self._covers_seen[args["reason"]] = (
                    int(args["amount"]),
                    "0x" + bytes(entry["transactionHash"]).hex(),
                )
            self._covers_block = head + 1
        while True:
            _, covered = self._cover_state(symbol)
            nxt = [
                (amount, tx)
                for reason, (amount, tx) in self._covers_seen.items()
                if reason == COVER_REASON.format(asset=symbol, total=covered + amount)
            ]
            if not nxt:
                return
            amount, tx = nxt[0]
            log.info("cover %s of %s was paid on-chain but not journaled: journaling it", amount, symbol)
            events = self.service.submit(CoverPaid(0, symbol, amount, tx))
            if events and events[0].EVENT == "rejected":
                return

    # -- keeper trips -----------------------------------------------------------------------------
    def keeper_trips(self) -> int:
        """Trip the pool on-chain for each engine breaker halt of the pool's market (when enabled)."""
        tripped = 0
        while True:
            try:
                event = self.trips.get_nowait()
            except queue.Empty:
                return tripped
            if not self.settings.keeper_trip or self.breaker is None or self.pool is None:
                continue
            if event.get("symbol") != self.service.chain_status.get("pool", {}).get("symbol"):
                continue
            if self.breaker.functions.is_halted(self.pool.address).call():
                continue
            metric = int((event.get("metrics") or {}).get("cvd") or 0)
            try:
                self.sender.send(self.breaker.functions.trip(self.pool.address, SENTINEL_KEEPER, metric))
            except TxFailed as exc:
                self.service.alert("keeper_trip_failed", f"could not trip the pool: {exc}")
                continue
            tripped += 1
            self.service.alert(
                "keeper_trip", f"engine breaker halted {event['symbol']}: tripped the pool on-chain"
            )

    # -- proof of reserves --------------------------------------------------------------------------
    def por_assets(self) -> list[Any]:
        """The epoch's assets: deployment tokens the engine lists, in deployment order (at most 8)."""
        listed = self.service.read(lambda e: set(e.assets))
        return [t for t in self.protocol.tokens.values() if t.symbol in listed][:MAX_POR_ASSETS]

    def attestation_due(self) -> bool:
        """True when the latest on-chain attestation is `attest_interval` old (chain time: restarts
        do not post extra epochs)."""
        if time.monotonic() < self._next_attest_check:
            return False
        epoch = int(self.registry.functions.latest_epoch().call())
        age = self.attest_interval
        if epoch:
            stamp = int(self.registry.functions.attestation(epoch).call()[2])
            age = int(self.w3.eth.get_block("latest")["timestamp"]) - stamp
        if age >= self.attest_interval:
            return True
        self._next_attest_check = time.monotonic() + min(self.attest_interval - age, ATTEST_CHECK_S)
        return False

    def attest(self) -> dict | None:
        """Build the epoch's tree from engine balances, attest it, publish the proofs; return the epoch doc."""
        tokens = self.por_assets()
        if not tokens:
            return None
        symbols = [t.symbol for t in tokens]

        def balances(engine: Any) -> list[tuple[str, list[int]]]:
            # Withdrawals accepted but not yet paid on-chain are still owed to their accounts.
            treasury = engine_module(engine, "treasury")
            owed: dict[tuple[str, str], int] = {}
            for account, asset, amount in treasury.owed.values() if treasury is not None else ():
                owed[account, asset] = owed.get((account, asset), 0) + amount
            owing = {account for account, _ in owed}
            rows = []
            for name in sorted(set(engine.accounts.by_name) | owing):
                if not _is_address(name):
                    continue  # the exchange's own books (insurance, fees) are not user liabilities
                acct = engine.accounts.by_name.get(name)
                held = acct.balance if acct is not None else {}
                nets = [held.get(s, 0) + owed.get((name, s), 0) for s in symbols]
                if any(nets):
                    rows.append((name, nets))
            return rows

        accounts, prices, haircuts = self.service.read(lambda e: (balances(e), *por_valuation(e, symbols)))
        if not accounts:
            return None
        registry = self.registry.address
        epoch = int(self.registry.functions.latest_epoch().call()) + 1
        secret = self.state.por_secret()
        tree = build_account_tree(epoch, [t.address for t in tokens], accounts, secret)
        register = build_register(tree, prices, haircuts)
        attestation = attest_args(tree, register=register)
        doc = {
            "epoch": epoch,
            "assets": symbols,
            "asset_addresses": [t.address for t in tokens],
            "decimals": [t.decimals for t in tokens],
            "accounts": [[name, [str(v) for v in nets]] for name, nets in accounts],
            "root": "0x" + attestation["root"].hex(),
            "total_equity": [str(v) for v in attestation["total_equity"]],
            "total_debt": [str(v) for v in attestation["total_debt"]],
            "leaf_count": attestation["leaf_count"],
            "prices": [str(v) for v in prices],
            "haircuts_bps": list(haircuts),
            "register_root": "0x" + attestation["register_root"].hex(),
            "debtor_count": attestation["debtor_count"],
            "register_equity": [str(v) for v in attestation["register_equity"]],
        }
        self.state.save_epoch(registry, epoch, "pending", doc)
        try:
            receipt = self.sender.send(self.registry.functions.attest(**attestation))
        except TxFailed as exc:
            self.state.drop_epoch(registry, epoch)
            self.service.alert("attestation_failed", f"proof-of-reserves epoch {epoch}: {exc}")
            return None
        doc["tx"] = "0x" + bytes(receipt["transactionHash"]).hex()
        doc["block"] = int(receipt["blockNumber"])
        self.state.save_epoch(registry, epoch, "attested", doc)
        self._publish(tree, doc, register)
        log.info("attested proof-of-reserves epoch %d (%d accounts): %s", epoch, len(accounts), doc["root"])
        return doc

    def restore_por(self) -> dict | None:
        """Serve the proofs of the latest epoch this daemon attested (after a restart)."""
        if self.registry is None:
            return None
        registry = self.registry.address
        for epoch, status, doc in self.state.epochs(registry):
            root, _, _ = self.registry.functions.attestation(epoch).call()
            if "0x" + bytes(root).hex() != doc["root"]:
                if status == "pending":
                    self.state.drop_epoch(registry, epoch)  # never attested: a crash before the tx landed
                continue
            if status == "pending":
                self.state.save_epoch(registry, epoch, "attested", doc)  # landed, then the daemon died
            accounts = [(name, [int(v) for v in nets]) for name, nets in doc["accounts"]]
            tree = build_account_tree(epoch, doc["asset_addresses"], accounts, self.state.por_secret())
            if "0x" + tree.root.hash.hex() != doc["root"] or "prices" not in doc:
                # attested before the debtors' register (another leaf order): its proofs would not
                # verify; the next attestation serves new ones
                log.warning("proof-of-reserves epoch %d predates the debtors' register: not served", epoch)
                return None
            prices, haircuts = [int(v) for v in doc["prices"]], doc["haircuts_bps"]
            self._publish(tree, doc, build_register(tree, prices, haircuts))
            return doc
        return None

    def _publish(self, tree: Tree, doc: dict, register: Register) -> None:
        epoch_doc = {k: v for k, v in doc.items() if k != "accounts"}
        epoch_doc["registry"] = self.registry.address
        epoch_doc["debtors"] = _debtors_summary(doc, register)
        self.service.publish_por(epoch_doc, EpochProofs(tree, epoch_doc), register.to_json())

    # -- helpers ------------------------------------------------------------------------------------
    def _defer(self, key: Any, kind: str, message: str) -> None:
        """Try `key` again after `RETRY_AFTER_S`; alert when its problem is new (not on every retry)."""
        self._retry_at[key] = time.monotonic() + RETRY_AFTER_S
        if self._problems.get(key) != message:
            self._problems[key] = message
            self.service.alert(kind, message)


def por_valuation(engine: Any, symbols: list[str]) -> tuple[list[int], list[int]]:
    """The epoch's price per atom (`PRICE_SCALE` units of one settlement-asset atom) and collateral
    haircut (bps) of each asset, from the risk engine's valuation and collateral weights.

    An asset without a price is posted at 1 per atom with a full haircut: it counts for nothing as
    collateral (the engine values it at nothing too), and the registry needs a non-zero price.
    """
    risk = engine_module(engine, "risk")
    valuation = risk.valuation() if risk is not None else None
    prices, haircuts = [], []
    for symbol in symbols:
        asset = engine.assets.get(symbol)
        whole = valuation.asset_price.get(symbol) if valuation is not None else None
        if asset is None or not whole:
            prices.append(1)
            haircuts.append(FULL_HAIRCUT_BPS)
            continue
        prices.append(max(1, whole * PRICE_SCALE // 10**asset.decimals))
        weight = getattr(risk.assets.get(symbol), "weight_ppm", asset.collateral_weight_ppm)
        weight = min(max(int(weight), 0), FULL_HAIRCUT_BPS * PPM_PER_BPS)
        haircuts.append(-(-(FULL_HAIRCUT_BPS * PPM_PER_BPS - weight) // PPM_PER_BPS))  # rounded up
    return prices, haircuts


def _debtors_summary(doc: dict, register: Register) -> dict:
    """What the dashboard shows of the register: how many debtors, what they owe and hold."""
    decimals = doc.get("decimals") or [0] * len(doc["assets"])
    root = register.register_root
    covered = sum(1 for k in range(len(register.debtors)) if register.valuation(k).covered)
    return {
        "count": len(register.debtors),
        "covered": covered,
        "debt": {s: format_units(v, d) for s, v, d in zip(doc["assets"], root.debt, decimals, strict=True)},
        "collateral": {
            s: format_units(v, d) for s, v, d in zip(doc["assets"], root.equity, decimals, strict=True)
        },
        "register": f"/por/register/{doc['epoch']}",
    }


def _is_address(name: str) -> bool:
    if not isinstance(name, str) or len(name) != 42 or not name.startswith("0x"):
        return False
    try:
        int(name[2:], 16)
    except ValueError:
        return False
    return True


class _Discard:
    pass


try:  # web3 7: how process_receipt treats logs of other events
    from web3.logs import DISCARD as _DISCARD
except ImportError:  # pragma: no cover
    _DISCARD = _Discard()
