"""The trading terminal: `/terminal` (its page, built from web/terminal/ by `make install`), the API
docs page `/api-docs` (Swagger UI from npm), and `GET /terminal/config`, what the page needs to
reach the chain for a deposit (RPC, Custody, tokens).

The chain part comes from the deployment file of the domain's chain (`deployments/<chain_id>.json`,
`BREAKWATER_DEPLOYMENTS_DIR`) when its Custody is the domain's; the RPC URL from
`BREAKWATER_RPC_URL`, else `APE_FOUNDRY_HOST` (what `make demo` exports), else the devnet's default
on chain 31337. Without them `chain` is null and the page trades without on-chain deposits.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, JSONResponse

from offchain.api.context import ApiContext
from offchain.paths import deployment_file

DEVNET_CHAIN_ID = 31337
DEVNET_RPC = "http://127.0.0.1:8545"
RPC_ENV = ("BREAKWATER_RPC_URL", "APE_FOUNDRY_HOST")


def chain_config(ctx: ApiContext) -> dict | None:
    """RPC, contracts and tokens of the deployment the API signs for, or None."""
    override = getattr(ctx.service, "terminal_chain", None)
    if override is not None:
        return override
    chain_id = ctx.domain.chain_id
    try:
        doc = json.loads(Path(deployment_file(chain_id)).read_text())
    except (OSError, ValueError):
        return None
    contracts = doc.get("contracts") or {}
    custody = contracts.get("Custody", "")
    if custody.lower() != ctx.domain.verifying_contract.lower():
        return None
    rpc = next((os.environ[k] for k in RPC_ENV if os.environ.get(k)), None)
    if rpc is None and chain_id == DEVNET_CHAIN_ID:
        rpc = DEVNET_RPC
    if rpc is None:
        return None

    def tokens(engine: Any) -> dict:
        return {
            symbol: {"address": contracts[symbol], "decimals": asset.decimals}
            for symbol, asset in sorted(engine.assets.items())
            if symbol in contracts
        }

    return {
        "chain_id": chain_id,
        "rpc_url": rpc,
        "devnet": chain_id == DEVNET_CHAIN_ID,
        "custody": custody,
        "registry": contracts.get("ReserveRegistry"),
        "tokens": ctx.service.read(tokens),
    }


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(tags=["terminal"])

    @api.get("/terminal/config", summary="What the trading terminal needs: the EIP-712 domain, the chain")
    def config() -> dict:
        return {
            "domain": {
                "name": "Breakwater",
                "version": "1",
                "chainId": ctx.domain.chain_id,
                "verifyingContract": ctx.domain.as_dict()["verifyingContract"],
            },
            "max_expiry_s": ctx.max_expiry_s,
            "chain": chain_config(ctx),
        }

    return api


def mount(app: FastAPI, static_dir: Path) -> None:
    """Serve the terminal's page at `/terminal` (its scripts are under `/static/terminal/`) and the
    API docs (Swagger UI over `/openapi.json`, from npm) at `/api-docs`."""
    api = APIRouter()
    page = static_dir / "terminal" / "index.html"

    @api.get("/api-docs", include_in_schema=False)
    def api_docs():
        if not (static_dir / "apidocs" / "swagger-ui-bundle.js").exists():
            return JSONResponse(
                {"code": "not_found", "message": "the API docs page is not built: run `make install`"}, 404
            )
        return FileResponse(static_dir / "apidocs" / "index.html")

    @api.get("/terminal", include_in_schema=False)
    def terminal():
        if not (static_dir / "terminal" / "terminal.js").exists():
            return JSONResponse(
                {"code": "not_found", "message": "the terminal is not built: run `make install`"}, 404
            )
        return FileResponse(page)

    app.include_router(api)
