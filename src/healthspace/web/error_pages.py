"""Errors on web pages are pages a person understands; the API keeps its JSON answers.

Why split by path rather than by the Accept header: a browser following a link to
``/api/v1/...`` still gets the JSON it asked for, and a page never shows JSON or a stack trace.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from healthspace.web.rendering import page_language, render

# Paths that belong to machines: the API, its schema and docs, the health check, static files.
MACHINE_PATHS = ("/api/", "/healthz", "/openapi.json", "/docs", "/redoc", "/static/")
_EXPLAINED = {403, 404, 410, 422, 500}


def is_page_request(request: Request) -> bool:
    path = request.url.path
    return not any(path == p.rstrip("/") or path.startswith(p) for p in MACHINE_PATHS)


def error_page(request: Request, status: int, detail: str | None = None) -> Response:
    """An error as a page: what happened in the reader's words, and where to go next.

    ``detail`` is a message written for a person (a ``HealthspaceError``); framework messages
    such as "Not Found" are left out since the page already says it better.
    """
    key = str(status) if status in _EXPLAINED else "other"
    language = page_language(request)
    context: dict[str, Any] = {
        "status": status,
        "heading": language.text(f"error.heading.{key}"),
        "explanation": language.text(f"error.{key}"),
        "detail": detail,
    }
    return render(request, "error.html", context, status_code=status)


def problem(status: int, title: str, detail: str) -> JSONResponse:
    """RFC 9457 problem details, as the API answers errors."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def install_error_pages(app: FastAPI) -> None:
    """Answer framework errors with pages on page routes and as before on machine routes."""

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        if is_page_request(request):
            return error_page(request, error.status_code)
        return await http_exception_handler(request, error)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, error: RequestValidationError) -> Response:
        if is_page_request(request):
            return error_page(request, 422)
        return await request_validation_exception_handler(request, error)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _error: Exception) -> Response:
        # Starlette still re-raises the error after this answer, so the server log keeps the
        # traceback for whoever fixes it; the reader gets a page (or problem JSON), never it.
        if is_page_request(request):
            return error_page(request, 500)
        return problem(500, "InternalServerError", "Healthspace could not finish this request.")
