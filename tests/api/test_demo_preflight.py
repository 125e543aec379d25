"""A second `make demo` must not delete the running demo's files: `scripts/demo.sh` runs
`scripts/demo_preflight.sh` before it wipes DEMO_DIR, and both refuse while a demo owns it or a port
is taken (the attack: the second run deleted var/demo, then noticed the busy ports)."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def running_demo(tmp_path: Path) -> Path:
    """A DEMO_DIR owned by a live process (this test's), with a journal in it."""
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "journal.db").write_bytes(b"the running demo's journal")
    (demo / "demo.pid").write_text(str(os.getpid()))
    return demo


def preflight(demo: Path, anvil: int, api: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "scripts/demo_preflight.sh", str(demo), str(anvil), str(api)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_a_second_demo_refuses_while_the_first_owns_the_directory(tmp_path):
    demo = running_demo(tmp_path)
    done = subprocess.run(
        ["bash", "scripts/demo.sh"],
        cwd=ROOT,
        env={
            **os.environ,
            "DEMO_DIR": str(demo),
            "ANVIL_PORT": str(free_port()),
            "API_PORT": str(free_port()),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"a demo (pid {os.getpid()}) is running" in done.stderr
    assert "demo stopped" not in done.stdout  # it stopped nothing: it started nothing
    assert (demo / "journal.db").read_bytes() == b"the running demo's journal"
    assert (demo / "demo.pid").read_text() == str(os.getpid())


def test_a_held_port_is_refused_before_anything_is_deleted(tmp_path):
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "journal.db").write_bytes(b"kept")
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        for anvil, api in ((port, free_port()), (free_port(), port)):
            done = preflight(demo, anvil, api)
            assert done.returncode == 1
            assert f"already listens on port {port}" in done.stderr
    assert (demo / "journal.db").read_bytes() == b"kept"


def test_a_stale_pid_file_and_free_ports_pass(tmp_path):
    demo = tmp_path / "demo"
    demo.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    (demo / "demo.pid").write_text(str(dead.pid))
    assert preflight(demo, free_port(), free_port()).returncode == 0


def test_the_console_faucet_sends_from_an_account_no_running_process_uses():
    # from the daemon's account (0) the faucet raced the daemon: "replacement transaction underpriced"
    from offchain.settings import DaemonSettings

    spec = importlib.util.spec_from_file_location("ape_console_extras", ROOT / "ape_console_extras.py")
    extras = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extras)
    assert extras.FAUCET_ACCOUNT != DaemonSettings().devnet_account
