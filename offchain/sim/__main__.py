"""`python -m offchain.sim`: the demo's live market against a running daemon (see `market.py`)."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path

from offchain.sim.market import MarketSim, SimSettings


def main(argv: list[str] | None = None) -> int:
    """Run the market simulation until `--seconds` pass or SIGINT/SIGTERM; print a JSON summary."""
    parser = argparse.ArgumentParser(prog="python -m offchain.sim", description=__doc__)
    parser.add_argument("--api", default=SimSettings.api_url, help="the daemon's API")
    parser.add_argument("--rpc", default=SimSettings.rpc_url, help="the devnet's JSON-RPC")
    parser.add_argument(
        "--deployment", type=Path, help="deployment file (default deployments/<chain_id>.json)"
    )
    parser.add_argument(
        "--seconds", type=float, default=0.0, help="stop after this long (0: run until stopped)"
    )
    parser.add_argument("--seed", type=int, default=SimSettings.seed)
    parser.add_argument(
        "--first-crash", type=float, default=SimSettings.first_crash_s, help="seconds to the first crash"
    )
    parser.add_argument(
        "--crash-every", type=float, default=SimSettings.crash_every_s, help="seconds between crashes"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    settings = SimSettings(
        api_url=args.api,
        rpc_url=args.rpc,
        deployment=args.deployment,
        seconds=args.seconds,
        seed=args.seed,
        first_crash_s=args.first_crash,
        crash_every_s=args.crash_every,
    )
    summary = MarketSim(settings, stop).run()
    print(json.dumps({"simulation": summary}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
