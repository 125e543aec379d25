"""`python -m offchain COMMAND`: the programs (replay, daemon, por) around the engine core."""

from __future__ import annotations

import argparse
import importlib
import sys

# command -> (module, help). Each module exposes `add_arguments(parser)` and `run(args) -> int`,
# so a program is added here in one line and its code stays in its own module.
PROGRAMS = {
    "replay": ("offchain.replay", "drive the engine with a scenario file and write a report"),
    "daemon": ("offchain.daemon", "run the engine against an RPC endpoint"),
    "por": ("offchain.por.cli", "proof of reserves: verify an inclusion proof"),
    "serve": ("offchain.serve", "the paper exchange: engine, journal, API and dashboard, no chain"),
    "audit-journal": ("offchain.chain.anchor", "prove a journal matches its on-chain anchored heads"),
    "stress": (
        "offchain.chain.stress",
        "replay withdrawal runs against the current reserves, limits and multisig",
    ),
    "loadtest": ("offchain.loadtest", "post pre-signed orders to an API and report orders/s and latency"),
    "engine": ("offchain.cluster.engine", "an engine replica on a NATS JetStream log (docs/cluster.md)"),
    "gateway": ("offchain.cluster.gateway", "an order-entry gateway publishing to a NATS JetStream log"),
}


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen program."""
    parser = argparse.ArgumentParser(prog="python -m offchain", description="Breakwater off-chain programs")
    sub = parser.add_subparsers(dest="program", required=True)
    loaded = {}
    for name, (module_name, help_text) in PROGRAMS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # not built yet
        loaded[name] = module
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    return int(loaded[args.program].run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
