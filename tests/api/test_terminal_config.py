"""`GET /terminal/config`: the EIP-712 domain, and the chain only when the deployment file of the
API's chain names the domain's Custody and an RPC is known; `/terminal` serves the built page."""

from __future__ import annotations

import json

import pytest
from api_venue import DOMAIN

from offchain.api.app import STATIC_DIR

USDC, USDE = "0x" + "0a" * 20, "0x" + "0b" * 20
REGISTRY = "0x" + "0c" * 20


def write_deployment(directory, custody: str) -> None:
    contracts = {"Custody": custody, "USDC": USDC, "USDE": USDE, "ReserveRegistry": REGISTRY}
    doc = {"chain_id": DOMAIN.chain_id, "deployer": "0x" + "00" * 20, "block": 1, "contracts": contracts}
    (directory / f"{DOMAIN.chain_id}.json").write_text(json.dumps(doc))


@pytest.fixture
def deployments(tmp_path, monkeypatch):
    monkeypatch.setenv("BREAKWATER_DEPLOYMENTS_DIR", str(tmp_path))
    for name in ("BREAKWATER_RPC_URL", "APE_FOUNDRY_HOST"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_config_names_the_chain_of_the_apis_own_deployment(http, deployments, monkeypatch):
    write_deployment(deployments, DOMAIN.verifying_contract.lower())
    doc = http.get("/terminal/config").json()
    assert doc["domain"] == {
        "name": "Breakwater",
        "version": "1",
        "chainId": 31337,
        "verifyingContract": DOMAIN.verifying_contract,
    }
    chain = doc["chain"]
    assert chain["rpc_url"] == "http://127.0.0.1:8545" and chain["devnet"] is True
    assert chain["registry"] == REGISTRY
    assert chain["tokens"] == {
        "USDC": {"address": USDC, "decimals": 6},
        "USDE": {"address": USDE, "decimals": 18},
    }
    monkeypatch.setenv("BREAKWATER_RPC_URL", "http://127.0.0.1:9999")
    assert http.get("/terminal/config").json()["chain"]["rpc_url"] == "http://127.0.0.1:9999"


def test_no_chain_without_a_deployment_or_for_another_custody(http, deployments):
    assert http.get("/terminal/config").json()["chain"] is None
    write_deployment(deployments, "0x" + "99" * 20)  # another exchange's deployment on this chain
    assert http.get("/terminal/config").json()["chain"] is None


def test_the_terminal_page_is_served_when_built(http):
    built = (STATIC_DIR / "terminal" / "terminal.js").exists()
    r = http.get("/terminal")
    if built:
        assert r.status_code == 200 and '<script type="module" src="/static/terminal/terminal.js">' in r.text
    else:
        assert r.status_code == 404 and "make install" in r.json()["message"]
    assert "/terminal" in http.get("/dashboard").text  # the dashboard links to it
    root = http.get("/", follow_redirects=False)  # the exchange opens on the terminal once it is built
    assert (root.status_code, root.headers.get("location")) == ((307, "/terminal") if built else (200, None))
