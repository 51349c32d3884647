"""FastAPI application factory. Routes are thin: they call the same services as the CLI."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from healthspace import __version__
from healthspace.api import (
    ask,
    coding,
    interactions,
    labs,
    meds,
    pubmed,
    records,
    reports,
    search,
    summary,
    triage,
)
from healthspace.bootstrap import Healthspace
from healthspace.errors import HealthspaceError
from healthspace.web import pages
from healthspace.web.error_pages import error_page, install_error_pages, is_page_request, problem
from healthspace.web.rendering import STATIC


def create_app(hs: Healthspace) -> FastAPI:
    app = FastAPI(
        title="Healthspace",
        version=__version__,
        description="Private health record API. Every access is audited.",
    )
    app.state.hs = hs

    @app.exception_handler(HealthspaceError)
    async def _problem(request: Request, error: HealthspaceError) -> Response:
        # The message is written for the person reading it: on a page, or as RFC 9457
        # problem details for the API.
        if is_page_request(request):
            return error_page(request, error.http_status, str(error))
        return problem(error.http_status, type(error).__name__, str(error))

    install_error_pages(app)

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers and the database opens."""
        with hs.vault.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
            connection.rollback()
        return {"status": "ok", "version": __version__}

    app.include_router(records.router, prefix="/api/v1")
    app.include_router(interactions.router, prefix="/api/v1")
    app.include_router(labs.router, prefix="/api/v1")
    app.include_router(meds.router, prefix="/api/v1")
    app.include_router(coding.router, prefix="/api/v1")
    app.include_router(search.router, prefix="/api/v1")
    app.include_router(reports.router, prefix="/api/v1")
    app.include_router(triage.router, prefix="/api/v1")
    app.include_router(ask.router, prefix="/api/v1")
    app.include_router(summary.router, prefix="/api/v1")
    app.include_router(pubmed.router, prefix="/api/v1")
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
