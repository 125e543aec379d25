"""The dashboard: `/` and its static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles


def mount(app: FastAPI, static_dir: Path) -> None:
    """Serve `static_dir/index.html` at `/` and the directory under `/static`."""
    app.mount("/static", StaticFiles(directory=static_dir), name="static")
    api = APIRouter()

    @api.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(static_dir / "index.html")

    app.include_router(api)
