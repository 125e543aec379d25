"""`python -m offchain serve --journal URL --genesis FILE.jsonl [--host --port]`: the paper exchange.

The engine, the journal, the API and the dashboard, with no chain: what an integrator tests a bot
against without anvil, and what the benchmarks and load tests start. The genesis file is scenario
commands, one JSON object per line (`asset`, `market`, `deposit`, `index`, ...; see `engine.md`),
applied through the journal when the journal is empty. A journal that already holds commands is
recovered as it is (snapshot + replay) and the genesis is not applied again, so a restart after a
crash resumes the same exchange with the same used nonces.

Once it listens it prints one line `serving http://HOST:PORT` on stdout (with `--port 0` the
kernel picks the port), which launchers wait for. A clock thread submits a `tick` every
`--tick-s` seconds (timers: expiries, breaker windows, auctions), as the daemon does.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import socket
import sys
import threading
from pathlib import Path
from typing import Any

from offchain.core.messages import commands as C
from offchain.core.messages.codec import CommandFormatError, parse_command

log = logging.getLogger(__name__)
DEFAULT_CHAIN_ID = 31337
DEFAULT_CUSTODY = "0x" + "00" * 19 + "01"
EXIT_BAD_INPUT = 2


class GenesisError(Exception):
    """A genesis line that does not parse or that the engine refuses (the message names the line)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--journal", required=True, help="journal URL (sqlite:///path/file.db, postgresql://...)"
    )
    parser.add_argument("--genesis", type=Path, help="scenario commands applied to an empty journal (JSONL)")
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any free port)")
    parser.add_argument("--chain-id", type=int, default=DEFAULT_CHAIN_ID, help="EIP-712 chainId (31337)")
    parser.add_argument("--custody", default=DEFAULT_CUSTODY, help="EIP-712 verifyingContract")
    parser.add_argument("--ip-rate", type=int, help="per-IP requests/s (default: the API's, 50)")
    parser.add_argument("--account-rate", type=int, help="per-account signed requests/s (default 20)")
    parser.add_argument("--tick-s", type=float, default=1.0, help="seconds between clock ticks (0: none)")
    parser.add_argument("--no-dashboard", action="store_true", help="serve the API only")
    parser.add_argument("--log-level", default="warning", help="uvicorn log level (warning)")


def genesis_commands(path: Path) -> list[dict]:
    """The genesis file's commands (JSON objects), refusing a line that is not one."""
    out = []
    for no, line in enumerate(path.read_text().splitlines(), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise GenesisError(f"{path}:{no}: not JSON: {exc}") from None
        if not isinstance(d, dict):
            raise GenesisError(f"{path}:{no}: a command is a JSON object")
        out.append((no, {"t": 0, **d} if "t" not in d and "ts" not in d else d))
    return out


def apply_genesis(service: Any, path: Path) -> int:
    """Submit the genesis commands; raise GenesisError on the first one refused. Return the count."""
    n = 0
    for no, wire in genesis_commands(path):
        try:
            cmd = parse_command(wire, service.engine)
        except CommandFormatError as exc:
            raise GenesisError(f"{path}:{no}: {exc}") from None
        refused = [e for e in service.submit(cmd) if e.EVENT == "rejected"]
        if refused:
            raise GenesisError(f"{path}:{no}: refused: {refused[0].code} {refused[0].message}")
        n += 1
    return n


def build(args: argparse.Namespace) -> tuple[Any, Any]:
    """Open the journal, apply the genesis to an empty one, build the app; return (service, app)."""
    from offchain.api.app import create_app
    from offchain.api.ratelimit import RateLimit
    from offchain.api.signing import Domain
    from offchain.service import ExchangeService
    from offchain.store.journaled import JournaledEngine

    runner = JournaledEngine.open(args.journal)
    service = ExchangeService(runner)
    if runner.seq == 0 and args.genesis is not None:
        apply_genesis(service, args.genesis)
    limits = RateLimit()
    if args.ip_rate:
        limits = dataclasses.replace(limits, ip_per_s=args.ip_rate, ip_burst=max(args.ip_rate * 4, 1))
    if args.account_rate:
        limits = dataclasses.replace(
            limits, account_per_s=args.account_rate, account_burst=max(args.account_rate * 3, 1)
        )
    kwargs = {"static_dir": None} if args.no_dashboard else {}
    app = create_app(service, domain=Domain(args.chain_id, args.custody), rate_limit=limits, **kwargs)
    return service, app


def _ticker(service: Any, period_s: float, stop: threading.Event) -> None:
    while not stop.wait(period_s):
        try:
            service.submit(C.Tick(0))
        except Exception:
            log.exception("tick failed")


def uvicorn_config(app: Any, log_level: str = "warning") -> Any:
    """uvicorn with its fast loop and HTTP parser when installed, and no access log."""
    import importlib.util

    import uvicorn

    fast_loop = importlib.util.find_spec("uvloop") is not None
    fast_http = importlib.util.find_spec("httptools") is not None
    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        loop="uvloop" if fast_loop else "asyncio",
        http="httptools" if fast_http else "h11",
        ws="websockets-sansio",
        lifespan="on",
    )


def close(service: Any, stop: threading.Event) -> None:
    """Stop the clock and close the journal (once); report the group commits' sizes on stderr."""
    if stop.is_set():
        return
    stop.set()
    with service.lock:
        sizes = list(service.group_sizes)
        service.runner.close()
    if sizes:
        mean = sum(sizes) / len(sizes)
        print(
            f"last {len(sizes)} group commits: {mean:.1f} commands each on average",
            file=sys.stderr,
            flush=True,
        )


def run(args: argparse.Namespace) -> int:
    import uvicorn

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        service, app = build(args)
    except GenesisError as exc:
        print(f"genesis: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(2048)
    sock.set_inheritable(True)
    host, port = sock.getsockname()[:2]
    server = uvicorn.Server(uvicorn_config(app, args.log_level))
    stop = threading.Event()
    if args.tick_s > 0:
        threading.Thread(
            target=_ticker, args=(service, args.tick_s, stop), name="ticker", daemon=True
        ).start()

    started, stopped = server.startup, server.shutdown

    async def startup(sockets=None):
        await started(sockets=sockets)
        print(f"serving http://{host}:{port}", flush=True)

    async def shutdown(sockets=None):
        # uvicorn re-raises SIGTERM/SIGINT once it has shut down: close the journal here, not later
        await stopped(sockets=sockets)
        close(service, stop)

    server.startup, server.shutdown = startup, shutdown
    try:
        server.run(sockets=[sock])
    finally:
        close(service, stop)
    return 0
