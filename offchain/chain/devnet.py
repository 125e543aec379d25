"""Start and stop a local anvil devnet: used by `make demo`, the tests and the benchmarks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from web3 import Web3

from offchain.paths import PROJECT_ROOT

DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"


def anvil_binary() -> str:
    """Return the anvil the Makefile installed, else one on PATH."""
    local = PROJECT_ROOT / ".venv" / "bin" / "anvil"
    if local.exists():
        return str(local)
    found = shutil.which("anvil")
    if not found:
        raise FileNotFoundError("anvil not found: run `make install`")
    return found


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Anvil:
    """A real anvil process on 127.0.0.1, stopped on `stop()` or at the end of a `with` block."""

    def __init__(
        self,
        port: int | None = None,
        block_time: int | None = None,
        log: Path | None = None,
        chain_id: int | None = None,
    ):
        self.port = port or free_port()
        self.block_time = block_time
        self.chain_id = chain_id
        self.log = log
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> Anvil:
        """Start anvil and wait until it answers JSON-RPC."""
        cmd = [
            anvil_binary(),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--mnemonic",
            DEFAULT_MNEMONIC,
        ]
        if self.block_time:
            cmd += ["--block-time", str(self.block_time)]
        if self.chain_id:
            cmd += ["--chain-id", str(self.chain_id)]
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        w3 = Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 2}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"anvil exited with {self.proc.returncode}")
            try:
                if w3.eth.chain_id:
                    return self
            except Exception:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"anvil did not answer on {self.url} within {timeout}s")

    def stop(self) -> None:
        """Stop anvil (SIGTERM, then SIGKILL)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def run_deploy(
    rpc_url: str,
    deployments_dir: Path | None = None,
    extra_args: list[str] | None = None,
    timeout: float = 300,
    env_extra: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """Run the project's deploy script (`ape run deploy`) against `rpc_url`.

    `deployments_dir` redirects `deployments/<chain_id>.json` (tests keep their own copy);
    `env_extra` adds environment (e.g. `APE_DATA_FOLDER` and a keyfile passphrase).
    """
    env = {**os.environ, **(env_extra or {})}
    env["APE_FOUNDRY_HOST"] = rpc_url
    if deployments_dir is not None:
        env["BREAKWATER_DEPLOYMENTS_DIR"] = str(deployments_dir)
    venv_bin = str(PROJECT_ROOT / ".venv" / "bin")
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    ape = (
        str(PROJECT_ROOT / ".venv" / "bin" / "ape")
        if (PROJECT_ROOT / ".venv" / "bin" / "ape").exists()
        else "ape"
    )
    cmd = [ape, "run", "deploy", "--network", "ethereum:local:foundry", *(extra_args or [])]
    return subprocess.run(
        cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
