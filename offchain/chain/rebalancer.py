"""Automatic hot/cold rebalancing (seed 000: the hot wallet pays 60-70 % of instant withdrawal demand).

For every deployment token, each `rebalance_interval_s` the daemon compares the free hot balance
(Custody's balance less the withdrawals it holds) with the liabilities — the larger of the engine's
net user balances and the ReserveRegistry's attested net liabilities, so a stale attestation never
sends more to cold — and keeps the hot share inside the band `[rebalance_low_bps, rebalance_high_bps]`:

* **above the band**: `Custody.to_cold` the excess down to the band's middle (capped by Custody's own
  `hot_surplus`) into the cold wallet, a Safe (`offchain/chain/safe.py`). Needs Custody's governor
  role (a devnet's daemon key); without it the move is proposed as an alert.
* **below the band**: propose a cold -> hot SafeTx (an ERC-20 transfer from the Safe to Custody) up to
  the band's middle. On a devnet the daemon holds the test keys of the Safe's owners (the demo) and
  signs it with `threshold` of them, then executes it; elsewhere the proposal (its SafeTx hash and
  fields) is an alert for the owners to sign and execute.

Every move is an on-chain event (`MovedToCold` by Custody, `ExecutionSuccess` by the Safe) and an
alert of kind `rebalance` (a dashboard line); a proposal is an alert of kind `rebalance_proposed`.
`decide` is the pure rule; `Rebalancer` is the I/O.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from offchain.chain.safe import pack_signatures, safe_contract, sign, token_transfer

log = logging.getLogger(__name__)
BPS = 10_000


@dataclass(frozen=True)
class Band:
    """The hot share of liabilities to keep (basis points)."""

    low_bps: int = 6_000
    high_bps: int = 7_000

    def __post_init__(self) -> None:
        if not 0 < self.low_bps <= self.high_bps <= BPS:
            raise ValueError(
                f"rebalance band must satisfy 0 < low ({self.low_bps}) <= high ({self.high_bps}) <= 10000"
            )

    @property
    def target_bps(self) -> int:
        return (self.low_bps + self.high_bps) // 2


@dataclass(frozen=True)
class Move:
    """A rebalancing move of one token: `to_cold` or `to_hot`, `amount` atoms."""

    direction: str
    amount: int
    share_bps: int
    target: int


def decide(hot: int, held: int, cold: int, liabilities: int, band: Band) -> Move | None:
    """The rule: the move that brings the free hot share back to the band's middle, or None."""
    if liabilities <= 0:
        return None
    free = max(hot - held, 0)
    share = free * BPS // liabilities
    target = liabilities * band.target_bps // BPS
    if share > band.high_bps and free > target:
        return Move("to_cold", free - target, share, target)
    if share < band.low_bps and cold > 0 and target > free:
        return Move("to_hot", min(target - free, cold), share, target)
    return None


class Rebalancer:
    """Keep each token's hot share inside the band (module docstring); a daemon thread's `run`."""

    def __init__(
        self,
        service: Any,
        protocol: Any,
        sender: Any,
        band: Band,
        interval_s: float,
        liabilities: Any,
        signers: list[Any] | None = None,
    ):
        self.service = service
        self.protocol = protocol
        self.sender = sender
        self.band = band
        self.interval_s = interval_s
        self.liabilities = liabilities  # () -> {asset: atoms}: the engine's net user balances
        self.signers = signers or []  # owner keys the daemon may sign with (devnet test keys)
        self.custody = protocol.contract("Custody")
        self.registry = protocol.contract("ReserveRegistry") if protocol.has("ReserveRegistry") else None
        self.w3 = protocol.w3
        self._proposed: set[tuple] = set()
        self._governor: bool | None = None
        self.moves: list[dict] = []

    def cold_wallet(self) -> Any | None:
        if self.custody.functions.cold_wallets_count().call() == 0:
            return None
        return safe_contract(self.w3, self.custody.functions.cold_wallets(0).call())

    def own_wallets(self) -> set[str]:
        """Custody and its registered cold wallets, lower-case (moves between them are not whales)."""
        count = self.custody.functions.cold_wallets_count().call()
        colds = {self.custody.functions.cold_wallets(i).call().lower() for i in range(count)}
        return {self.custody.address.lower(), *colds}

    def step(self) -> list[dict]:
        """Look at every token once; return the moves made or proposed."""
        safe = self.cold_wallet()
        if safe is None:
            return []
        engine = self.liabilities()
        out = []
        for token in self.protocol.tokens.values():
            erc20 = self.protocol.token_contract(token.symbol)
            hot = int(erc20.functions.balanceOf(self.custody.address).call())
            held = int(self.custody.functions.held_total(token.address).call())
            cold = int(erc20.functions.balanceOf(safe.address).call())
            attested = int(self.registry.functions.liabilities(token.address).call()) if self.registry else 0
            liabilities = max(attested, int(engine.get(token.symbol, 0)))
            move = decide(hot, held, cold, liabilities, self.band)
            if move is None:
                continue
            done = (
                self._to_cold(token, safe, move)
                if move.direction == "to_cold"
                else self._to_hot(token, safe, move)
            )
            if done:
                out.append(done)
        return out

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval_s):
            try:
                self.step()
            except Exception:
                log.exception("rebalancing failed (retried next interval)")

    # -- the two directions ------------------------------------------------------------------------
    def _to_cold(self, token: Any, safe: Any, move: Move) -> dict | None:
        amount = min(move.amount, int(self.custody.functions.hot_surplus(token.address).call()))
        if amount <= 0:
            return None
        figures = self._figures(token, move, amount)
        if not self._is_governor():
            return self._propose(
                ("to_cold", token.symbol, amount),
                f"move {amount} {token.symbol} atoms hot -> cold: Custody.to_cold needs the governor "
                f"(hot share {_pct(move.share_bps)} above {_pct(self.band.high_bps)})",
                **figures,
            )
        receipt = self.sender.send(self.custody.functions.to_cold(token.address, amount, safe.address))
        return self._moved(
            f"moved {amount} {token.symbol} atoms hot -> cold (hot share {_pct(move.share_bps)} "
            f"above {_pct(self.band.high_bps)})",
            tx=receipt["transactionHash"].hex(),
            **figures,
        )

    def _to_hot(self, token: Any, safe: Any, move: Move) -> dict | None:
        nonce = int(safe.functions.nonce().call())
        tx = token_transfer(token.address, self.custody.address, move.amount, nonce)
        chain_id = int(self.w3.eth.chain_id)
        safe_tx_hash = "0x" + tx.hash(chain_id, safe.address).hex()
        figures = {
            **self._figures(token, move, move.amount),
            "safe": safe.address,
            "safe_tx_hash": safe_tx_hash,
        }
        owners = {o.lower() for o in safe.functions.getOwners().call()}
        threshold = int(safe.functions.getThreshold().call())
        keys = [k for k in self.signers if k.address.lower() in owners][:threshold]
        if len(keys) < threshold:
            return self._propose(
                ("to_hot", token.symbol, move.amount, nonce),
                f"cold -> hot: {threshold} owners of the Safe {safe.address} must sign SafeTx {safe_tx_hash} "
                f"(transfer {move.amount} {token.symbol} atoms to Custody, nonce {nonce}; hot share "
                f"{_pct(move.share_bps)} below {_pct(self.band.low_bps)})",
                nonce=nonce,
                **figures,
            )
        signatures = pack_signatures([sign(tx, chain_id, safe.address, k) for k in keys])
        receipt = self.sender.send(safe.functions.execTransaction(*tx.exec_args(signatures)))
        return self._moved(
            f"moved {move.amount} {token.symbol} atoms cold -> hot: SafeTx {safe_tx_hash} signed by "
            f"{threshold} owners (hot share {_pct(move.share_bps)} below {_pct(self.band.low_bps)})",
            tx=receipt["transactionHash"].hex(),
            signers=[k.address for k in keys],
            **figures,
        )

    # -- helpers ----------------------------------------------------------------------------------
    def _figures(self, token: Any, move: Move, amount: int) -> dict:
        return {
            "direction": move.direction,
            "asset": token.symbol,
            "amount": str(amount),
            "share_bps": move.share_bps,
            "target": str(move.target),
        }

    def _moved(self, message: str, **data: Any) -> dict:
        log.info("%s", message)
        entry = self.service.alert("rebalance", message, **data)
        self.moves.append(entry)
        return entry

    def _propose(self, key: tuple, message: str, **data: Any) -> dict | None:
        if key in self._proposed:
            return None
        self._proposed.add(key)
        log.warning("%s", message)
        entry = self.service.alert("rebalance_proposed", message, **data)
        self.moves.append(entry)
        return entry

    def _is_governor(self) -> bool:
        if self._governor is None:
            role = self.custody.functions.GOVERNOR_ROLE().call()
            self._governor = bool(self.custody.functions.hasRole(role, self.sender.address).call())
        return self._governor


def _pct(bps: int) -> str:
    return f"{bps / 100:.2f} %"
