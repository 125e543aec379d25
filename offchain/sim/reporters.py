"""Price-feed reporters for the demo: the off-chain "true" price posted to the devnet's feeds.

The 10 October story (seed 004) is a local crash: USDe kept its dollar on the large venues while
one exchange's book and the pool it watched fell apart. The reporters play those venues: they
post a price near 1.00 to each `PriceFeed:<source>` of the deployment (the reporter account, anvil
test account `feeds.DEVNET_REPORTER_ACCOUNT`, holds `REPORTER_ROLE`), so during a crash episode
the index keeps two live sources near 1.00 while the pool may halt.

Answers are integers in the feed's decimals; the small jitter between reporters (a few basis
points, from a seeded generator) keeps the sources distinct without moving the index.
"""

from __future__ import annotations

import logging
import random
import threading
from typing import Any

from web3 import Web3

from offchain.chain.feeds import DEVNET_REPORTER_ACCOUNT, FEED_PREFIX, deployment_feeds
from offchain.chain.sender import SendPolicy, TxFailed, TxSender
from offchain.settings import devnet_account

log = logging.getLogger("offchain.sim.reporters")

BPS = 10_000


class FeedReporter:
    """Posts the true price (`truth`, in feed units) to every feed of a deployment, one account for all."""

    def __init__(
        self,
        w3: Web3,
        deployment: Any,
        truth: int = 10**8,
        jitter_bps: int = 3,
        seed: int = 7,
        account: Any = None,
        only: tuple[str, ...] | None = None,
    ):
        self.account = account or devnet_account(DEVNET_REPORTER_ACCOUNT)
        self.sender = TxSender(w3, self.account, SendPolicy(receipt_timeout_s=20))
        feeds = deployment_feeds(deployment.contracts)
        self.feeds = {
            name: deployment.contract(w3, FEED_PREFIX + name)
            for name in sorted(feeds)
            if only is None or name in only
        }
        self.truth = truth
        self.jitter_bps = jitter_bps
        self.rng = random.Random(seed)
        self.reports = 0
        self.last: dict[str, int] = {}

    def answer(self) -> int:
        """The true price with a few basis points of noise (integer, feed units)."""
        jitter = self.rng.randint(-self.jitter_bps, self.jitter_bps)
        return self.truth * (BPS + jitter) // BPS

    def report(self, answers: dict[str, int] | None = None) -> dict[str, int]:
        """Submit one answer to each feed (`answers` per feed name, else `answer()`); return what was sent.

        A refused submission (the reporter lost its role, a node error) is logged and skipped.
        """
        sent: dict[str, int] = {}
        for name, feed in self.feeds.items():
            value = (answers or {}).get(name, self.answer())
            try:
                self.sender.send(feed.functions.submit(value))
            except TxFailed as exc:
                log.warning("feed %s refused %s: %s", name, value, exc)
                continue
            sent[name] = value
        self.reports += 1
        self.last.update(sent)
        return sent

    def run(self, stop: threading.Event, every_s: float = 5.0) -> None:
        """Report every `every_s` seconds until `stop` is set (a failed round is retried next time)."""
        while not stop.is_set():
            try:
                self.report()
            except Exception:  # the devnet restarting: keep reporting
                log.exception("feed report failed")
            stop.wait(every_s)

    def start(self, stop: threading.Event, every_s: float = 5.0) -> threading.Thread:
        """Run `run` in a daemon thread and return it."""
        thread = threading.Thread(target=self.run, args=(stop, every_s), name="sim-reporters", daemon=True)
        thread.start()
        return thread
