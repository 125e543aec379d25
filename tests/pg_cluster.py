"""A throwaway PostgreSQL cluster for the tests: initdb into a temp dir, pg_ctl start, stop, delete.

    with ThrowawayCluster(server_bin_dir()) as cluster:
        store = open_store(cluster.url)

The server runs with `fsync=on` (the store tests check durability), listens on a free 127.0.0.1
port with a password, and keeps its unix socket in its own mode-0700 directory. PostgreSQL refuses
to run as root, so under root it runs as the `postgres` system user (Debian's package creates it).
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

from offchain.chain.devnet import free_port

SERVER_GLOB = "/usr/lib/postgresql/*/bin"
NO_PG_ENV = "BREAKWATER_TEST_NO_PG"  # set to 1 to act as if no server were installed
RUN_AS_ROOT_USER = "postgres"
START_ATTEMPTS = 3  # a free port can be taken between probing it and the server binding it


def server_bin_dir() -> Path | None:
    """Return the newest installed PostgreSQL server's bin dir, or None (also when NO_PG_ENV is set)."""
    if os.environ.get(NO_PG_ENV):
        return None
    found = [Path(d) for d in glob.glob(SERVER_GLOB) if (Path(d) / "postgres").is_file()]
    if not found:
        return None
    return max(found, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else -1)


def _server_user() -> pwd.struct_passwd | None:
    """Return the user to run the server as when we are root (None: run it as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(RUN_AS_ROOT_USER)
    except KeyError:
        raise RuntimeError(
            f"PostgreSQL cannot run as root and there is no {RUN_AS_ROOT_USER!r} user to run it as:"
            " install Debian's postgresql package (`make install`) or set BREAKWATER_TEST_PG_URL"
        ) from None


class ThrowawayCluster:
    """One PostgreSQL cluster in a temp dir, deleted (with its data) on `stop()`."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.password = secrets.token_hex(16)
        self.port = 0
        self.dir: Path | None = None
        self._user = _server_user()

    @property
    def url(self) -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/postgres"

    def start(self) -> ThrowawayCluster:
        """Create the cluster and start its server; raise with the reason (and server log) if not."""
        self.dir = Path(tempfile.mkdtemp(prefix="bw_pg_"))
        try:
            self._initdb()
            self._launch()
        except BaseException:
            self.stop()
            raise
        return self

    def _initdb(self) -> None:
        pwfile = self.dir / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._user:
            os.chown(self.dir, self._user.pw_uid, self._user.pw_gid)
            os.chown(pwfile, self._user.pw_uid, self._user.pw_gid)
        # The bootstrap itself need not be durable (the cluster dies with the run): skip its sync.
        self._run(
            "initdb", "-D", self.dir / "data", "-U", "postgres", "--pwfile", pwfile, "-E", "UTF8",
            "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "--no-instructions",
        )  # fmt: skip
        pwfile.unlink()

    def _launch(self) -> None:
        data, log = self.dir / "data", self.dir / "server.log"
        for _ in range(START_ATTEMPTS):
            self.port = free_port()
            options = (
                f"-p {self.port} -k {shlex.quote(str(self.dir))} -c listen_addresses=127.0.0.1"
                " -c fsync=on -c synchronous_commit=on -c shared_buffers=16MB"
            )
            started = self._run("pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "start", check=False)
            if started.returncode == 0:
                return
        server_log = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(
            f"PostgreSQL did not start in {START_ATTEMPTS} attempts: {started.stderr.strip()}\n{server_log}"
        )

    def stop(self) -> None:
        """Stop the server at once (its data is about to go) and delete the cluster's directory."""
        if self.dir is None:
            return
        if (self.dir / "data" / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", self.dir / "data", "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self) -> ThrowawayCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self, tool: str, *args, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin_dir / tool), *map(str, args)]
        if self._user:
            cmd = ["runuser", "-u", self._user.pw_name, "--", *cmd]
        # cwd: the server user may not be allowed into the caller's working directory.
        done = subprocess.run(cmd, cwd=self.dir, capture_output=True, text=True, timeout=60)
        if check and done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done
