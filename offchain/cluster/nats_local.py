"""A local N-node nats-server cluster on 127.0.0.1: what the tests, the bench and the demo start.

Each node gets its own client, route and monitoring port and its own JetStream store directory;
`--routes` joins every node to the others. `kill(i)` is a SIGKILL (a crash), `start_node(i)` brings
the same node back on the same ports and store (it rejoins and catches up). `stop()` ends every
process this object started, and only those.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

CLUSTER_NAME = "breakwater"


def nats_server_binary() -> str:
    """The nats-server of the `cluster` extra (beside this Python), else the one on PATH."""
    here = Path(sys.executable).parent / "nats-server"
    if here.exists():
        return str(here)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: pip install -e '.[cluster]' (make install)")
    return found


def free_ports(n: int) -> list[int]:
    """n distinct free TCP ports on 127.0.0.1 (bound together, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class Node:
    name: str
    client_port: int
    route_port: int
    http_port: int
    store: Path
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.client_port}"


@dataclass
class NatsCluster:
    """`with NatsCluster(root, n=3) as c: c.urls` — a real JetStream cluster, torn down on exit."""

    root: Path
    n: int = 3
    no_advertise: bool = False  # clients learn no other server than those they are given
    nodes: list[Node] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        ports = free_ports(3 * self.n)
        for i in range(self.n):
            c, r, h = ports[3 * i : 3 * i + 3]
            self.nodes.append(Node(f"n{i + 1}", c, r, h, self.root / f"n{i + 1}"))

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def url(self) -> str:
        """The comma-separated URL list a client is given (it fails over between them)."""
        return ",".join(self.urls)

    def command(self, i: int) -> list[str]:
        node = self.nodes[i]
        args = [nats_server_binary(), "-a", "127.0.0.1", "-p", str(node.client_port), "-n", node.name]
        args += ["-m", str(node.http_port), "-js", "-sd", str(node.store)]
        if self.n > 1:
            routes = ",".join(f"nats://127.0.0.1:{o.route_port}" for o in self.nodes if o is not node)
            args += ["--cluster_name", CLUSTER_NAME, "--cluster", f"nats://127.0.0.1:{node.route_port}"]
            args += ["--routes", routes]
            if self.no_advertise:
                args += ["--no_advertise=true"]
        return args

    def start_node(self, i: int) -> None:
        node = self.nodes[i]
        if node.proc is not None and node.proc.poll() is None:
            return
        node.store.mkdir(parents=True, exist_ok=True)
        node.log_path = self.root / f"{node.name}.log"
        log = open(node.log_path, "ab")  # noqa: SIM115 - the child keeps it
        node.proc = subprocess.Popen(
            self.command(i), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        log.close()

    def start(self, timeout: float = 30.0) -> NatsCluster:
        for i in range(self.n):
            self.start_node(i)
        self.wait_ready(timeout)
        return self

    def healthy(self, i: int) -> bool:
        node = self.nodes[i]
        if node.proc is None or node.proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{node.http_port}/healthz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def wait_ready(self, timeout: float = 30.0, nodes: list[int] | None = None) -> None:
        """Until every (given) node answers /healthz with 200 (JetStream up, meta leader known)."""
        deadline = time.monotonic() + timeout
        want = list(range(self.n)) if nodes is None else nodes
        while True:
            if all(self.healthy(i) for i in want):
                return
            for i in want:
                proc = self.nodes[i].proc
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"nats-server {self.nodes[i].name} exited: {self.tail(i)}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"nats cluster not ready in {timeout}s: {self.tail(want[0])}")
            time.sleep(0.1)

    def tail(self, i: int, n: int = 2000) -> str:
        path = self.nodes[i].log_path
        return path.read_text(errors="replace")[-n:] if path and path.exists() else ""

    def kill(self, i: int) -> None:
        """SIGKILL node i (a crash: no goodbye to the cluster)."""
        proc = self.nodes[i].proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)

    def stop(self) -> None:
        for node in self.nodes:
            proc = node.proc
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for node in self.nodes:
            proc = node.proc
            if proc is None:
                continue
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def __enter__(self) -> NatsCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> int:
    """`python -m offchain.cluster.nats_local DIR [N]`: run a cluster until Ctrl-C (the demo's)."""
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(os.environ.get("TMPDIR", "/tmp")) / "bw-nats"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with NatsCluster(root, n) as cluster:
        print(f"nats {cluster.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
