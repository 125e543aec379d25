"""One place for ABIs: the self-check reads ReserveRegistry's ABI from ape's build manifest, and its
fallback for a verifier without a build cannot drift from the contract (compiled here from source)."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache

from offchain.chain.deployment import load_abis
from offchain.chain.selfcheck import FALLBACK_REGISTRY_ABI, registry_abi
from offchain.paths import BUILD_MANIFEST, PROJECT_ROOT

CONTRACTS = PROJECT_ROOT / "contracts"


@cache
def compiled_registry_abi() -> list:
    """ReserveRegistry's ABI compiled now from contracts/ (the truth, whatever .build holds)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "vyper",
            "-f",
            "abi",
            "-p",
            str(CONTRACTS),
            str(CONTRACTS / "ReserveRegistry.vy"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout)


def entries(abi: list) -> dict[tuple[str, str], dict]:
    """Index ABI entries by (type, name); JSON order of keys does not matter, names and types do."""
    return {(e["type"], e.get("name", "")): e for e in abi}


def test_the_fallback_registry_abi_is_a_copy_of_the_compiled_contracts_entries():
    compiled = entries(compiled_registry_abi())
    fallback = entries(FALLBACK_REGISTRY_ABI)

    assert len(fallback) == len(FALLBACK_REGISTRY_ABI), "an entry is listed twice"
    missing = [key for key in fallback if key not in compiled]
    assert missing == [], f"the contract has no {missing}"
    changed = [key for key, entry in fallback.items() if entry != compiled[key]]
    assert changed == [], f"these entries differ from the compiled contract: {changed}"


def test_the_self_check_reads_the_registry_abi_from_the_build_manifest(tmp_path):
    manifest = tmp_path / "__local__.json"
    built = [
        *FALLBACK_REGISTRY_ABI,
        {"type": "function", "name": "check_solvency", "inputs": [], "outputs": []},
    ]
    manifest.write_text(json.dumps({"contractTypes": {"ReserveRegistry": {"abi": built}}}))

    assert registry_abi(manifest) == built
    assert load_abis(manifest) == {"ReserveRegistry": built}


def test_without_a_build_the_self_check_falls_back_to_the_embedded_abi(tmp_path):
    assert registry_abi(tmp_path / "missing.json") is FALLBACK_REGISTRY_ABI
    torn = tmp_path / "torn.json"
    torn.write_text('{"contractTypes": {"Reserve')  # a manifest half-written by a concurrent `ape compile`
    assert registry_abi(torn) is FALLBACK_REGISTRY_ABI
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"contractTypes": {"Pool": {"abi": []}}}))
    assert registry_abi(other) is FALLBACK_REGISTRY_ABI


def test_the_project_build_manifest_if_any_serves_the_registry_the_fallback_describes():
    if not BUILD_MANIFEST.is_file():  # `make test` runs `ape compile` first; a bare checkout has none
        return
    built = entries(registry_abi())
    assert all(built.get(key) == entry for key, entry in entries(FALLBACK_REGISTRY_ABI).items())
