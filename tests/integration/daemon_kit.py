"""Actors and plumbing for the daemon's integration tests: wallets, a governor, an RPC that can go away."""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from eth_account import Account
from web3 import Web3

from offchain.chain.deployment import Deployment
from offchain.settings import DaemonSettings, devnet_account

ETH = 10**18


def write_deployment_file(deployment: Deployment, directory: Path) -> Path:
    """Write `deployment` where the daemon reads it (the fixture's own file lives elsewhere)."""
    path = directory / f"{deployment.chain_id}.json"
    doc = {
        "chain_id": deployment.chain_id,
        "deployer": deployment.deployer,
        "block": deployment.block,
        "contracts": deployment.contracts,
    }
    path.write_text(json.dumps(doc))
    return path


KEY_ENV = "BW_TEST_DAEMON_KEY"  # tests put the daemon's raw devnet key here (monkeypatch / subprocess env)


def daemon_settings(tmp_path: Path, rpc_url: str, deployment_file: Path, **overrides) -> DaemonSettings:
    """Fast settings for tests: short polls, no API, manual attestations, the key from `KEY_ENV`."""
    values = dict(
        rpc_url=rpc_url,
        deployment=deployment_file,
        journal_url=f"sqlite:///{tmp_path / 'journal.db'}",
        state_path=tmp_path / "daemon_state.db",
        serve_api=False,
        confirmations=2,
        rescan_blocks=16,
        poll_interval_s=0.1,
        status_interval_s=0.3,
        tick_interval_s=0.5,
        attestation_interval_s=3600,
        receipt_timeout_s=10,
        private_key_env=KEY_ENV,
    )
    values.update(overrides)
    return DaemonSettings(**values)


def mine(w3: Web3, blocks: int = 1) -> None:
    for _ in range(blocks):
        w3.provider.make_request("evm_mine", [])


def sync_clock(w3: Web3) -> None:
    """Put the devnet's clock back on the wall clock if it is behind (never before the head block).

    A live chain's head is at most a block interval behind real time; the daemon judges a price feed's
    age against the later of the two, so a devnet left behind real time makes a round just posted look
    old (and a stale one look fresher than it is)."""
    head = int(w3.eth.get_block("latest")["timestamp"])
    now = int(time.time())
    if head < now:
        w3.provider.make_request("evm_setTime", [now])


def revert(w3: Web3, snapshot: str) -> bool:
    """`evm_revert` to `snapshot` and put the clock back on the wall clock.

    anvil's revert also rewinds its clock to the snapshot's time, so each reverted test would leave
    the devnet behind real time by its own duration, and the lag would add up over a session (a later
    test then sees its freshly posted feeds as stale)."""
    reverted = w3.provider.make_request("evm_revert", [snapshot])["result"]
    sync_clock(w3)
    return reverted


@contextmanager
def isolated_chain(w3: Web3):
    """Undo a test's chain changes (balances, caps, pauses, time travel) and keep the clock on time."""
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        yield
    finally:
        assert revert(w3, snapshot) is True


def wait_until(predicate, timeout: float = 20.0, poll: float = 0.1, what: str = "condition"):
    """Return the first truthy value of `predicate()`, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(poll)


class Chain:
    """The deployment's contracts, the governor (devnet deployer) and raw transactions."""

    def __init__(self, w3: Web3, deployment: Deployment):
        self.w3 = w3
        self.deployment = deployment
        self.governor = devnet_account(0)

    def contract(self, name: str):
        return self.deployment.contract(self.w3, name)

    def send(self, account, call, gas: int = 2_000_000) -> dict:
        """Sign and send `call` from `account`; return the receipt (asserting success)."""
        raw = self.sign(account, call, gas)
        receipt = self.w3.eth.wait_for_transaction_receipt(self.w3.eth.send_raw_transaction(raw))
        assert receipt["status"] == 1, f"transaction reverted: {call.fn_name}"
        return receipt

    def sign(self, account, call, gas: int = 2_000_000, nonce: int | None = None) -> bytes:
        """Return the signed raw transaction (kept by reorg tests to re-send it)."""
        tx = call.build_transaction(
            {
                "from": account.address,
                "nonce": self.w3.eth.get_transaction_count(account.address, "pending")
                if nonce is None
                else nonce,
                "gas": gas,
                "chainId": self.w3.eth.chain_id,
            }
        )
        return account.sign_transaction(tx).raw_transaction

    def fund_eth(self, address: str, eth: int = 100) -> None:
        self.w3.provider.make_request("anvil_setBalance", [address, hex(eth * ETH)])

    def new_key(self):
        """A fresh key with gas money."""
        account = Account.create()
        self.fund_eth(account.address)
        return account

    def daemon_key(self):
        """A fresh key holding every role the daemon uses (granted by the governor)."""
        key = self.new_key()
        for name, role in (
            ("Custody", "OPERATOR_ROLE"),
            ("ReserveRegistry", "ATTESTER_ROLE"),
            ("InsuranceFund", "COVER_ROLE"),
            ("CircuitBreaker", "SENTINEL_ROLE"),
        ):
            contract = self.contract(name)
            self.send(
                self.governor,
                contract.functions.grantRole(getattr(contract.functions, role)().call(), key.address),
            )
        return key

    def wallet(self) -> Wallet:
        return Wallet(self, self.new_key())

    def balance(self, symbol: str, address: str) -> int:
        return self.contract(symbol).functions.balanceOf(address).call()


class Wallet:
    """A user with its own key: faucet tokens, approve Custody, deposit."""

    def __init__(self, chain: Chain, account):
        self.chain = chain
        self.account = account
        self.address = account.address

    def faucet(self, symbol: str, amount: int) -> None:
        token = self.chain.contract(symbol)
        self.chain.send(self.account, token.functions.mint(self.address, amount))
        custody = self.chain.contract("Custody").address
        self.chain.send(self.account, token.functions.approve(custody, 2**256 - 1))

    def deposit_tx(self, symbol: str, amount: int, nonce: int | None = None) -> bytes:
        """Return a signed Custody deposit (send it with `w3.eth.send_raw_transaction`)."""
        custody = self.chain.contract("Custody")
        token = self.chain.contract(symbol).address
        return self.chain.sign(self.account, custody.functions.deposit(token, amount), nonce=nonce)

    def deposit(self, symbol: str, amount: int) -> dict:
        """Mint, approve and deposit `amount` atoms of `symbol`; return the receipt."""
        self.faucet(symbol, amount)
        raw = self.deposit_tx(symbol, amount)
        receipt = self.chain.w3.eth.wait_for_transaction_receipt(self.chain.w3.eth.send_raw_transaction(raw))
        assert receipt["status"] == 1
        return receipt


class TcpProxy:
    """A TCP relay to the RPC endpoint that a test can take down and bring back (same port)."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TcpProxy:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Refuse new connections and cut the open ones (the endpoint is away)."""
        server, self._server = self._server, None
        if server is not None:
            try:
                server.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            server.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
