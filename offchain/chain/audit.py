"""Anyone's audit of an epoch's debtors' register: `python -m offchain por audit --epoch N --rpc URL`.

1. read what the chain attested for epoch N (`ReserveRegistry`: the tree's root, leaf count and
   totals; the register's root and debtor count; its `RegisterPosted` event: the debtors' equity
   sums, the prices and the haircuts);
2. fetch the epoch's published register (`--register FILE|URL`, default the exchange API's
   `GET /por/register/{N}`);
3. run `offchain.por.register.audit` (pure): every entry is a leaf of the attested tree, the
   register's root is the attested one, its **debts sum to the attested total_debt**, and every
   debtor's collateral at the attested prices and haircuts covers its debt;
4. print the debtors' totals and, for the latest epoch, the gross ratio (reserves / total equity)
   beside the net one (reserves / (equity - debt)), both after the payouts Custody made since.

Exit status: 0 the register checks out, 1 it does not (each failure printed, a debtor named by its
register position, leaf index and commitment; an uncovered debtor of the latest epoch can be
proven on-chain with `ReserveRegistry.challenge_debtor`, which halts Custody), 2 bad input
(a register that cannot be read, no registry, an RPC that does not answer).

It lives in `offchain.chain` because it does I/O; the checks themselves are `offchain.por`'s.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from offchain.chain.selfcheck import (
    FALLBACK_REGISTRY_ABI,
    MAX_UINT256,
    BadInput,
    _amount,
    _hex,
    _ratio,
    _registry_address,
    _token,
    _view,
    registry_abi,
)
from offchain.por.hashing import PorFormatError
from offchain.por.register import Attested, AuditReport, Register, audit

DEFAULT_API = "http://127.0.0.1:8000"
MAX_REGISTER_BYTES = 256 * 1024 * 1024


# What the audit calls beyond the self-check's entries (the fallback without a build manifest);
# tests/por/test_audit_cli.py checks each against the compiled contract.
REGISTER_ABI = [
    _view("register", [("epoch", "uint256")], ["bytes32", "uint256"]),
    _view("gross_ratio_bps", [("asset", "address")], ["uint256"]),
    _view("paid_since", [("asset", "address")], ["uint256"]),
    {
        "type": "event",
        "name": "RegisterPosted",
        "anonymous": False,
        "inputs": [
            {"name": "epoch", "type": "uint256", "indexed": True},
            {"name": "register_root", "type": "bytes32", "indexed": False},
            {"name": "debtor_count", "type": "uint256", "indexed": False},
            {"name": "register_equity", "type": "uint256[]", "indexed": False},
            {"name": "prices", "type": "uint256[]", "indexed": False},
            {"name": "haircuts_bps", "type": "uint256[]", "indexed": False},
        ],
    },
]


def audit_abi() -> list:
    """ReserveRegistry's ABI from the build manifest if it has the register, else the fallbacks."""
    abi = registry_abi()
    if any(e.get("name") == "RegisterPosted" for e in abi):
        return abi
    return [*FALLBACK_REGISTRY_ABI, *REGISTER_ABI]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add `audit --epoch N --rpc URL [--register FILE|URL | --api URL] [--deployment F | --registry 0x…]`."""
    parser.add_argument("--epoch", required=True, type=int, help="the attested epoch to audit")
    parser.add_argument("--rpc", required=True, help="JSON-RPC URL of the chain")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--register", help="the epoch's register: a JSON file or an http(s) URL")
    source.add_argument("--api", default=DEFAULT_API, help=f"the exchange API (default {DEFAULT_API})")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--deployment", type=Path, help="deployment file (default: deployments/<chain id>.json)"
    )
    where.add_argument("--registry", help="the ReserveRegistry address")


def run(args: argparse.Namespace) -> int:
    """Run the audit for `args`; print the report; return the exit status (module docstring)."""
    source = args.register or f"{args.api.rstrip('/')}/por/register/{args.epoch}"
    try:
        lines, report = audit_command(args.epoch, args.rpc, source, args.deployment, args.registry)
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0 if report.ok else 1


def load_register(source: str) -> Register:
    """Read a register from a file or an http(s) URL (the API's answer is the register itself)."""
    if source.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(source, timeout=30) as response:  # noqa: S310 (http(s) only)
                raw = response.read(MAX_REGISTER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise BadInput(f"{source}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise BadInput(f"{source}: {getattr(exc, 'reason', exc)}") from None
        if len(raw) > MAX_REGISTER_BYTES:
            raise BadInput(f"{source}: larger than {MAX_REGISTER_BYTES} bytes")
    else:
        try:
            raw = Path(source).read_bytes()
        except OSError as exc:
            raise BadInput(f"{source}: {exc.strerror or exc}") from None
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{source}: not JSON ({exc})") from None
    try:
        return Register.from_json(doc)
    except PorFormatError as exc:
        raise BadInput(f"{source}: {exc}") from None


def read_attested(reg: Any, epoch: int, from_block: int = 0) -> Attested:
    """Return what the registry attested for `epoch` (storage, and its events for the sums)."""
    root, leaf_count, _ = reg.functions.attestation(epoch).call()
    if leaf_count == 0:
        raise BadInput(f"epoch {epoch} was never attested on-chain")
    register_root, debtor_count = reg.functions.register(epoch).call()
    posted = reg.events.RegisterPosted.get_logs(argument_filters={"epoch": epoch}, from_block=from_block)
    if not posted:
        raise BadInput(f"no RegisterPosted event of epoch {epoch} since block {from_block}")
    valuation = posted[-1]["args"]
    if reg.functions.latest_epoch().call() == epoch:
        assets = reg.functions.latest_assets().call()
        equity, debt = reg.functions.latest_totals().call()
    else:
        logs = reg.events.Attested.get_logs(argument_filters={"epoch": epoch}, from_block=from_block)
        if not logs:
            raise BadInput(f"no Attested event of epoch {epoch} since block {from_block}")
        args = logs[-1]["args"]
        assets, equity, debt = args["assets"], args["total_equity"], args["total_debt"]
    return Attested(
        epoch=epoch,
        assets=tuple(assets),
        root=bytes(root),
        leaf_count=int(leaf_count),
        total_equity=tuple(equity),
        total_debt=tuple(debt),
        register_root=bytes(register_root),
        debtor_count=int(debtor_count),
        register_equity=tuple(valuation["register_equity"]),
        prices=tuple(valuation["prices"]),
        haircuts_bps=tuple(valuation["haircuts_bps"]),
    )


def audit_command(
    epoch: int, rpc: str, source: str, deployment: Path | None = None, registry: str | None = None
) -> tuple[list[str], AuditReport]:
    """Audit epoch `epoch`'s register from `source`; return the report lines and the report.

    Raise `BadInput` for unusable input (the register, the RPC, the registry, an unattested epoch).
    """
    register = load_register(source)

    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": 30}))
    try:
        chain_id = w3.eth.chain_id
    except Exception as exc:
        raise BadInput(f"--rpc {rpc}: no answer ({type(exc).__name__})") from None
    address, from_block = _registry_address(chain_id, deployment, registry)
    reg = w3.eth.contract(address=address, abi=audit_abi())
    attested = read_attested(reg, epoch, from_block)
    report = audit(register, attested)
    return _report(w3, reg, chain_id, register, attested, report), report


def _report(
    w3: Any, reg: Any, chain_id: int, register: Register, attested: Attested, report: AuditReport
) -> list[str]:
    tokens = [_token(w3, a) for a in attested.assets]
    width = max(len(sym) for sym, _ in tokens)
    lines = [
        f"Debtors' register of epoch {attested.epoch} on chain {chain_id} (ReserveRegistry {reg.address}):",
        f"  {attested.debtor_count} of {attested.leaf_count} accounts owe something; "
        f"register root {_hex(attested.register_root)}",
    ]
    for (sym, dec), debt, collateral, price, haircut in zip(
        tokens,
        attested.total_debt,
        attested.register_equity,
        attested.prices,
        attested.haircuts_bps,
        strict=True,
    ):
        lines.append(
            f"  {sym:<{width}}  debtors owe {_amount(debt, dec)}  debtors hold {_amount(collateral, dec)}  "
            f"price {price}/atom  haircut {haircut / 100:.2f} %"
        )
    if reg.functions.latest_epoch().call() == attested.epoch:
        lines += ["", "Reserves now (read live; liabilities less what Custody paid out since the epoch):"]
        for (sym, dec), asset in zip(tokens, attested.assets, strict=True):
            gross = reg.functions.gross_ratio_bps(asset).call()
            net = reg.functions.reserve_ratio_bps(asset).call()
            lines.append(
                f"  {sym:<{width}}  reserves {_amount(reg.functions.reserves(asset).call(), dec)}  "
                f"gross ratio {_ratio_text(gross)} (of equity)  net ratio {_ratio_text(net)} (of equity - debt)"
            )
    lines.append("")
    if report.ok:
        lines += [
            f"  [ok] all {len(register.debtors)} debtors are leaves of the attested tree, in index order",
            "  [ok] the register's root is the attested one and its debts sum to the attested total_debt",
            "  [ok] every debtor's collateral covers its debt at the attested prices and haircuts",
            f"AUDITED: epoch {attested.epoch}'s debts are all published and all covered.",
        ]
        return lines
    lines += [f"FAILED: {failure}" for failure in report.failures]
    if report.uncovered and reg.functions.latest_epoch().call() == attested.epoch:
        lines.append(
            "Anyone can prove an uncovered debtor on-chain (Custody halts): "
            "ReserveRegistry.challenge_debtor with its register proof (Register.challenge_args)."
        )
    count = len(report.failures)
    lines.append(
        f"NOT AUDITED: epoch {attested.epoch}'s register does not check out "
        f"({count} failure{'' if count == 1 else 's'})."
    )
    return lines


def _ratio_text(bps: int) -> str:
    return "∞ (none owed)" if bps == MAX_UINT256 else _ratio(bps)
