"""A depositor's self-check: `python -m offchain por verify --address 0xYOU --proof proof.json --rpc URL`.

1. locally (`offchain.por`): the leaf commits to your address and salt, and its path leads to the
   root the proof names;
2. against the chain: the root and the totals attested in `ReserveRegistry` for the proof's epoch
   (storage for the latest epoch, its `Attested` event for an older one) are the ones the path
   leads to, and `ReserveRegistry.verify_inclusion` agrees;
3. then what the registry says about the exchange now: reserves, net liabilities and the reserve
   ratio per asset, and whether the latest attestation is fresh.

Exit status: 0 verified, 1 the proof does not verify (the reason is printed), 2 bad input (a file
that does not parse, a registry that cannot be found). `--strict` also fails (1) when an asset's
reserves are below its net liabilities or the attestation is stale.

`proof.json` is the `offchain.por.Proof` JSON, or the API's `/por/proof/{address}` answer (which
wraps it as `{"epoch": ..., "proof": ...}`). The registry is `--registry`, else the one in
`--deployment` (default `deployments/<chain id>.json`).

The registry's ABI comes from ape's build manifest (`.build/__local__.json`, SPEC §4) like every
other program's; a verifier who has no build (a bare checkout, a copy of this file) gets
`FALLBACK_REGISTRY_ABI`, the few entries the check calls, which a test keeps equal to the compiled
contract's. It lives in `offchain.chain` because it does I/O (the RPC); the pure proof checks stay in `offchain.por`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from offchain.core.messages.codec import format_units
from offchain.por.hashing import PorFormatError, address_bytes, commitment
from offchain.por.proof import Proof, verify_proof

MAX_UINT256 = 2**256 - 1
FULL_RESERVE_BPS = 10_000


def _view(name: str, inputs: list[tuple[str, str]], outputs: list[str]) -> dict:
    return {
        "type": "function",
        "name": name,
        "stateMutability": "view",
        "inputs": [{"name": n, "type": t} for n, t in inputs],
        "outputs": [{"name": "", "type": t} for t in outputs],
    }


# What the check calls (SPEC §4 names plus the registry's public getters): the fallback when there
# is no build manifest. tests/api/test_por_abi.py checks every entry against the compiled contract.
FALLBACK_REGISTRY_ABI = [
    _view(
        "verify_inclusion",
        [
            ("epoch", "uint256"),
            ("account_commitment", "bytes32"),
            ("equity", "uint256[]"),
            ("debt", "uint256[]"),
            ("index", "uint256"),
            ("sibling_hashes", "bytes32[]"),
            ("sibling_equity", "uint256[]"),
            ("sibling_debt", "uint256[]"),
        ],
        ["bool"],
    ),
    _view("attestation", [("epoch", "uint256")], ["bytes32", "uint256", "uint256"]),
    _view("latest_totals", [], ["uint256[]", "uint256[]"]),
    _view("latest_assets", [], ["address[]"]),
    *[
        _view(name, [("asset", "address")], ["uint256"])
        for name in ("reserve_ratio_bps", "reserves", "liabilities")
    ],
    _view("latest_epoch", [], ["uint256"]),
    _view("is_fresh", [], ["bool"]),
    _view("heartbeat", [], ["uint256"]),
    {
        "type": "event",
        "name": "Attested",
        "anonymous": False,
        "inputs": [
            {"name": "epoch", "type": "uint256", "indexed": True},
            {"name": "root", "type": "bytes32", "indexed": False},
            {"name": "leaf_count", "type": "uint256", "indexed": False},
            {"name": "attester", "type": "address", "indexed": True},
            {"name": "assets", "type": "address[]", "indexed": False},
            {"name": "total_equity", "type": "uint256[]", "indexed": False},
            {"name": "total_debt", "type": "uint256[]", "indexed": False},
        ],
    },
]
# ERC-20 metadata of whatever token the registry lists (not necessarily one of the project's)
ERC20_ABI = [_view("symbol", [], ["string"]), _view("decimals", [], ["uint8"])]


def registry_abi(manifest: Path | None = None) -> list:
    """Return ReserveRegistry's ABI from the build manifest, or `FALLBACK_REGISTRY_ABI` without one."""
    from offchain.chain.deployment import load_abis
    from offchain.paths import BUILD_MANIFEST

    try:
        abis = load_abis(manifest or BUILD_MANIFEST)
    except (OSError, ValueError):
        return FALLBACK_REGISTRY_ABI
    return abis.get("ReserveRegistry") or FALLBACK_REGISTRY_ABI


class Refused(Exception):
    """The proof does not verify; the message says why in plain words."""


class BadInput(Exception):
    """The command line or a file is wrong (exit 2)."""


def run(args: argparse.Namespace) -> int:
    """Run the self-check for `args` (address, proof, rpc, deployment, registry, strict)."""
    try:
        lines, warnings = verify_command(args.address, args.proof, args.rpc, args.deployment, args.registry)
    except BadInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Refused as exc:
        print(f"NOT VERIFIED: {exc}")
        return 1
    print("\n".join(lines))
    if args.strict and warnings:
        print(f"FAILED (--strict): {'; '.join(warnings)}")
        return 1
    return 0


def load_proof(path: Path) -> Proof:
    """Read a proof file (the Proof JSON, or the API answer that wraps it)."""
    try:
        doc = json.loads(Path(path).read_text())
    except OSError as exc:
        raise BadInput(f"{path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from None
    if isinstance(doc, dict) and "format" not in doc and isinstance(doc.get("proof"), dict):
        doc = doc["proof"]
    try:
        return Proof.from_json(doc)
    except PorFormatError as exc:
        raise BadInput(f"{path}: {exc}") from None


def verify_command(
    address: str, proof_path: Path, rpc: str, deployment: Path | None = None, registry: str | None = None
) -> tuple[list[str], list[str]]:
    """Verify; return the report lines and the warnings (reserve shortfall, stale attestation).

    Raise `Refused` when the proof does not verify, `BadInput` for unusable input.
    """
    try:
        you = address_bytes(address)
    except PorFormatError as exc:
        raise BadInput(f"--address: {exc}") from None
    proof = load_proof(proof_path)
    _check_leaf(proof, you)
    if not verify_proof(proof):
        raise Refused("the proof's path does not lead to the root it names (a sibling or a sum was changed)")

    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": 30}))
    try:
        chain_id = w3.eth.chain_id
    except Exception as exc:
        raise BadInput(f"--rpc {rpc}: no answer ({type(exc).__name__})") from None
    address_, from_block = _registry_address(chain_id, deployment, registry)
    reg = w3.eth.contract(address=address_, abi=registry_abi())
    onchain = _attested(reg, proof, from_block)
    if not reg.functions.verify_inclusion(*proof.contract_args()).call():
        raise Refused(f"ReserveRegistry.verify_inclusion returned false for epoch {proof.epoch}")
    return _report(w3, reg, chain_id, proof, onchain)


def _check_leaf(proof: Proof, you: bytes) -> None:
    if proof.account is not None and address_bytes(proof.account) != you:
        raise Refused(f"the proof is for account {proof.account}, not for {_hex(you)}")
    if proof.salt is None:
        raise Refused("the proof carries no salt, so nothing shows that this leaf is yours")
    if commitment(you, proof.salt) != proof.commitment:
        raise Refused("the leaf's commitment is not H(your address, your salt): this leaf is not yours")


def _registry_address(chain_id: int, deployment: Path | None, registry: str | None) -> tuple[str, int]:
    """Return the registry's address and the block to look for its events from."""
    from web3 import Web3

    if registry:
        if not Web3.is_address(registry):
            raise BadInput(f"--registry: {registry!r} is not an address")
        return Web3.to_checksum_address(registry), 0
    from offchain.paths import deployment_file

    path = deployment or deployment_file(chain_id)
    try:
        doc = json.loads(Path(path).read_text())
        contracts = doc["contracts"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInput(f"cannot read the deployment file {path}: {exc}; pass --registry") from None
    if "ReserveRegistry" not in contracts:
        raise BadInput(f"{path} has no ReserveRegistry; pass --registry")
    block = doc.get("block", 0)
    return Web3.to_checksum_address(contracts["ReserveRegistry"]), block if isinstance(block, int) else 0


def _attested(reg: Any, proof: Proof, from_block: int = 0) -> dict:
    """Read the proof's epoch from the registry and compare it with the proof."""
    root, leaf_count, timestamp = reg.functions.attestation(proof.epoch).call()
    if leaf_count == 0:
        raise Refused(f"epoch {proof.epoch} was never attested on-chain")
    if reg.functions.latest_epoch().call() == proof.epoch:
        assets = reg.functions.latest_assets().call()
        equity, debt = reg.functions.latest_totals().call()
    else:  # an older epoch's sums are in its `Attested` event
        logs = reg.events.Attested.get_logs(argument_filters={"epoch": proof.epoch}, from_block=from_block)
        if not logs:
            raise BadInput(f"no Attested event of epoch {proof.epoch} since block {from_block}")
        args = logs[-1]["args"]
        assets, equity, debt = args["assets"], args["total_equity"], args["total_debt"]
    if [a.lower() for a in assets] != [a.lower() for a in proof.assets]:
        raise Refused(f"the proof lists assets {list(proof.assets)}, the attestation {assets}")
    if leaf_count != proof.leaf_count:
        raise Refused(f"the proof says {proof.leaf_count} accounts, the attestation {leaf_count}")
    if not verify_proof(proof, bytes(root), equity, debt):
        if bytes(root) != proof.root.hash:
            raise Refused(
                f"the path leads to root {_hex(proof.root.hash)}, but epoch {proof.epoch} attested {_hex(root)}"
            )
        raise Refused("the path's root sums differ from the totals attested on-chain")
    return {"root": bytes(root), "timestamp": timestamp, "equity": equity, "debt": debt, "assets": assets}


def _token(w3: Any, address: str) -> tuple[str, int | None]:
    token = w3.eth.contract(address=address, abi=ERC20_ABI)
    try:
        return token.functions.symbol().call(), token.functions.decimals().call()
    except Exception:
        return address, None


def _amount(value: int, decimals: int | None) -> str:
    return str(value) if decimals is None else format_units(value, decimals)


def _ratio(bps: int) -> str:
    if bps == MAX_UINT256:
        return "no net liabilities"
    return f"{bps // 100}.{bps % 100:02d} %"


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def _report(w3: Any, reg: Any, chain_id: int, proof: Proof, onchain: dict) -> tuple[list[str], list[str]]:
    f = reg.functions
    latest = f.latest_epoch().call()
    fresh = f.is_fresh().call()
    heartbeat = f.heartbeat().call()
    block_time = w3.eth.get_block("latest")["timestamp"]
    age = max(block_time - onchain["timestamp"], 0)
    attested_at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(onchain["timestamp"]))
    tokens = [_token(w3, a) for a in onchain["assets"]]
    warnings = []
    width = max(len(sym) for sym, _ in tokens)
    lines = [
        f"Proof of reserves: account {proof.account or ''} in epoch {proof.epoch} on chain {chain_id}",
        f"  [ok] the leaf is yours: its commitment is H(your address, your salt) (leaf {proof.index} of "
        f"{proof.leaf_count})",
        f"  [ok] its path leads to the root attested on-chain, {_hex(onchain['root'])}, with the attested totals",
        f"  [ok] ReserveRegistry.verify_inclusion at {reg.address} returned true",
        "",
        f"Your balances included in epoch {proof.epoch}:",
    ]
    for (sym, dec), eq, dt in zip(tokens, proof.equity, proof.debt, strict=True):
        lines.append(f"  {sym:<{width}}  equity {_amount(eq, dec)}  debt {_amount(dt, dec)}")
    lines += ["", f"Exchange totals in epoch {proof.epoch} (all {proof.leaf_count} accounts):"]
    for (sym, dec), eq, dt in zip(tokens, onchain["equity"], onchain["debt"], strict=True):
        lines.append(
            f"  {sym:<{width}}  equity {_amount(eq, dec)}  debt {_amount(dt, dec)}  net {_amount(max(eq - dt, 0), dec)}"
        )
    lines += ["", f"Reserves now (latest epoch {latest}, read live from the reserve addresses):"]
    if latest != proof.epoch:
        lines.append(
            f"  note: epoch {latest} is newer than your proof's; fetch a new proof to be checked in it"
        )
    for (sym, dec), asset in zip(tokens, onchain["assets"], strict=True):
        reserves = f.reserves(asset).call()
        liabilities = f.liabilities(asset).call()
        ratio = f.reserve_ratio_bps(asset).call()
        if ratio < FULL_RESERVE_BPS:
            warnings.append(f"{sym} reserves are {_ratio(ratio)} of net liabilities")
        lines.append(
            f"  {sym:<{width}}  reserves {_amount(reserves, dec)}  net liabilities {_amount(liabilities, dec)}  "
            f"reserve ratio {_ratio(ratio)}{'' if ratio >= FULL_RESERVE_BPS else '  (BELOW 100 %)'}"
        )
    freshness = (
        f"fresh (at most the {_duration(heartbeat)} heartbeat old)."
        if fresh
        else f"STALE (older than the {_duration(heartbeat)} heartbeat)."
    )
    lines += [
        "",
        f"Epoch {proof.epoch} was attested at {attested_at}, {_duration(age)} ago. "
        f"The latest attestation is {freshness}",
        "VERIFIED: your balances are included in the liabilities the exchange attested on-chain.",
    ]
    if not fresh:
        warnings.append(f"the latest attestation is older than the {_duration(heartbeat)} heartbeat")
    return lines, warnings


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()
