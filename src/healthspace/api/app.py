"""FastAPI application factory. Routes are thin: they call the same services as the CLI."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from healthspace import __version__
from healthspace.api import coding, interactions, meds, records, reports, search
from healthspace.bootstrap import Healthspace
from healthspace.errors import HealthspaceError


def create_app(hs: Healthspace) -> FastAPI:
    app = FastAPI(
        title="Healthspace",
        version=__version__,
        description="Private health record API. Every access is audited.",
    )
    app.state.hs = hs

    @app.exception_handler(HealthspaceError)
    async def _problem(_request: Request, error: HealthspaceError) -> JSONResponse:
        # RFC 9457 problem details; the message is written for the person reading it.
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": type(error).__name__,
            "status": error.http_status,
            "detail": str(error),
        }
        return JSONResponse(
            body, status_code=error.http_status, media_type="application/problem+json"
        )

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers and the database opens."""
        with hs.vault.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
            connection.rollback()
        return {"status": "ok", "version": __version__}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> str:
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<title>Healthspace</title></head><body><main><h1>Healthspace</h1>"
            "<p>Your private health record is running on this computer.</p>"
            "<ul><li><a href='/docs'>API documentation</a></li>"
            "<li><a href='/api/v1/persons'>Persons in this record</a></li></ul>"
            "</main></body></html>"
        )

    app.include_router(records.router, prefix="/api/v1")
    app.include_router(interactions.router, prefix="/api/v1")
    app.include_router(coding.router, prefix="/api/v1")
    app.include_router(search.router, prefix="/api/v1")
    app.include_router(meds.router, prefix="/api/v1")
    app.include_router(reports.router, prefix="/api/v1")
    return app
