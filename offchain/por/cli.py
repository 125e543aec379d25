"""`python -m offchain por verify`: the command line of the depositor's self-check (`selfcheck`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from offchain.chain.selfcheck import run

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add `verify --address 0x… --proof FILE --rpc URL [--deployment FILE | --registry 0x…] [--strict]`."""
    sub = parser.add_subparsers(dest="por_command", required=True)
    verify = sub.add_parser("verify", help="verify your inclusion proof against the chain")
    verify.add_argument("--address", required=True, help="your account address")
    verify.add_argument("--proof", required=True, type=Path, help="the proof JSON the exchange gave you")
    verify.add_argument("--rpc", required=True, help="JSON-RPC URL of the chain")
    where = verify.add_mutually_exclusive_group()
    where.add_argument(
        "--deployment", type=Path, help="deployment file (default: deployments/<chain id>.json)"
    )
    where.add_argument("--registry", help="the ReserveRegistry address")
    verify.add_argument(
        "--strict", action="store_true", help="also fail on reserves below 100 %% or a stale attestation"
    )
