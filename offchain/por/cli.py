"""`python -m offchain por verify|audit`: the command lines of the depositor's self-check
(`offchain.chain.selfcheck`) and of anyone's audit of an epoch's debtors' register
(`offchain.chain.audit`). Their I/O lives in `offchain.chain`; the checks are `offchain.por`'s."""

from __future__ import annotations

import argparse
from pathlib import Path

from offchain.chain import audit, selfcheck

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add `verify --address 0x… --proof FILE --rpc URL [--deployment FILE | --registry 0x…] [--strict]`
    and `audit --epoch N --rpc URL [--register FILE|URL | --api URL] [--deployment FILE | --registry 0x…]`."""
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
    audit.add_arguments(
        sub.add_parser(
            "audit",
            help="check an epoch's debtors' register: debts sum to total_debt, every debtor is covered",
        )
    )


def run(args: argparse.Namespace) -> int:
    """Run the chosen sub-command."""
    if args.por_command == "audit":
        return audit.run(args)
    return selfcheck.run(args)
