"""The monitoring dashboard at `/dashboard`, its static files under `/static`, and `/`: the trading
terminal (`/terminal`) when its page is built, else the dashboard."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles


def mount(app: FastAPI, static_dir: Path) -> None:
    """Serve `static_dir/index.html` at `/dashboard` and the directory under `/static`; `/` leads
    to the terminal (a user opens the exchange to trade), or to the dashboard before `make install`
    built the terminal's script."""
    app.mount("/static", StaticFiles(directory=static_dir), name="static")
    api = APIRouter()

    @api.get("/dashboard", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(static_dir / "index.html")

    @api.get("/", include_in_schema=False)
    def root() -> Response:
        if (static_dir / "terminal" / "terminal.js").exists():
            return RedirectResponse("/terminal", status_code=307)
        return FileResponse(static_dir / "index.html")

    app.include_router(api)
