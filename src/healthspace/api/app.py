"""FastAPI application factory. Routes are thin: they call the same services as the CLI."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from healthspace import __version__
from healthspace.api import (
    accounts,
    ask,
    coding,
    drafts,
    interactions,
    labs,
    medication_review,
    meds,
    pubmed,
    records,
    reports,
    search,
    summary,
    terminology,
    triage,
)
from healthspace.bootstrap import Healthspace
from healthspace.errors import HealthspaceError
from healthspace.web import (
    account_pages,
    admin_pages,
    chat_pages,
    entry_pages,
    health_pages,
    login_pages,
    pages,
    workspace_pages,
    workspace_tools,
)
from healthspace.web.authorization import NotSignedInError, authorize
from healthspace.web.error_pages import error_page, install_error_pages, is_page_request, problem
from healthspace.web.rendering import STATIC
from healthspace.web.security_headers import install_security_headers


def create_app(hs: Healthspace) -> FastAPI:
    app = FastAPI(
        title="Healthspace",
        version=__version__,
        description=(
            "Private health record API. Every access is audited. Authenticate with "
            "'Authorization: Bearer TOKEN' (a token from Settings or `healthspace accounts "
            "token`) or a signed-in session (forms and calls then carry the CSRF token)."
        ),
        # Every route passes the one gate: sign-in, CSRF and the access rule.
        dependencies=[Depends(authorize)],
    )
    app.state.hs = hs
    install_security_headers(app)

    @app.exception_handler(NotSignedInError)
    async def _sign_in_first(request: Request, error: NotSignedInError) -> Response:
        if is_page_request(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
        response = problem(401, "NotSignedInError", str(error))
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

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
    app.include_router(accounts.router, prefix="/api/v1")
    app.include_router(interactions.router, prefix="/api/v1")
    app.include_router(labs.router, prefix="/api/v1")
    app.include_router(meds.router, prefix="/api/v1")
    app.include_router(medication_review.router, prefix="/api/v1")
    app.include_router(coding.router, prefix="/api/v1")
    app.include_router(search.router, prefix="/api/v1")
    app.include_router(reports.router, prefix="/api/v1")
    app.include_router(triage.router, prefix="/api/v1")
    app.include_router(ask.router, prefix="/api/v1")
    app.include_router(summary.router, prefix="/api/v1")
    app.include_router(pubmed.router, prefix="/api/v1")
    app.include_router(terminology.router, prefix="/api/v1")
    app.include_router(drafts.router, prefix="/api/v1")
    app.include_router(health_pages.router)  # before pages: it serves the person's home
    app.include_router(pages.router)
    app.include_router(entry_pages.router)
    app.include_router(login_pages.router)
    app.include_router(account_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(workspace_pages.router)
    app.include_router(workspace_tools.router)
    app.include_router(chat_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
