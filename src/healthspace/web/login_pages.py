"""Signing in and out, and the first-run setup that creates the first account.

The session cookie is HttpOnly, SameSite=Lax and Secure whenever the app is reached over HTTPS;
a new session is made at each sign-in (no fixation) and deleted at sign-out. Wrong passwords are
throttled (``throttle``) and audited.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from healthspace.accounts.store import SESSION_HOURS, AccountError
from healthspace.web.authorization import (
    SESSION_COOKIE,
    TooManyAttemptsError,
    current_account,
    form_fields,
    healthspace,
)
from healthspace.web.language import COOKIE as LANGUAGE_COOKIE
from healthspace.web.rendering import page_language, render
from healthspace.web.throttle import LoginThrottle

router = APIRouter(include_in_schema=False)


def _throttle(request: Request) -> LoginThrottle:
    state = request.app.state
    if not hasattr(state, "login_throttle"):
        state.login_throttle = LoginThrottle()
    throttle: LoginThrottle = state.login_throttle
    return throttle


def safe_next(target: str | None) -> str:
    """Only a path on this site: never ``//elsewhere`` or ``https://elsewhere``."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _login_page(
    request: Request, error: str | None = None, username: str = "", status_code: int = 200
) -> HTMLResponse:
    context: dict[str, Any] = {
        "error": error,
        "username": username,
        "next": safe_next(request.query_params.get("next")),
        "setup_open": healthspace(request).accounts.count() == 0,
    }
    return render(request, "login.html", context, status_code)


@router.get("/login", response_class=HTMLResponse, name="login_page")
def login_page(request: Request) -> Response:
    if getattr(request.state, "account", None) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    return _login_page(request)


@router.post("/login", response_class=HTMLResponse, name="login_submit")
async def login_submit(request: Request) -> Response:
    hs = healthspace(request)
    form = await form_fields(request)
    username = form.get("username", "").strip().lower()[:64]
    address = request.client.host if request.client else "unknown"
    throttle = _throttle(request)
    wait = throttle.retry_after(username, address)
    if wait:
        hs.vault.record_event(f"login:{username}", "login-throttled", None, None, address)
        error = TooManyAttemptsError(wait)
        language = page_language(request)
        message = language.text("login.throttled", minutes=max(1, round(wait / 60)))
        refused = _login_page(request, message, username, status_code=error.http_status)
        refused.headers["Retry-After"] = str(wait)
        return refused
    account = hs.accounts.authenticate(username, form.get("password", ""))
    if account is None:
        throttle.failed(username, address)
        hs.vault.record_event(f"login:{username}", "login-failed", None, None, address)
        message = page_language(request).text("login.wrong")
        return _login_page(request, message, username, status_code=401)
    throttle.succeeded(username)
    secret, _csrf = hs.accounts.open_session(account)
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.set_cookie(
        LANGUAGE_COOKIE, account.language, max_age=365 * 24 * 3600, samesite="lax", httponly=True
    )
    return response


@router.post("/logout", name="logout")
def logout(request: Request) -> Response:
    account = current_account(request)
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        healthspace(request).accounts.close_session(secret)
    healthspace(request).vault.record_event(account.actor, "logout", None, None, "")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/setup", response_class=HTMLResponse, name="setup_page")
def setup_page(request: Request) -> Response:
    """First run only: create the first account (the owner of a record)."""
    if healthspace(request).accounts.count() > 0:
        return RedirectResponse("/login", status_code=303)
    return render(request, "setup.html", {"error": None, "username": ""})


@router.post("/setup", response_class=HTMLResponse, name="setup_submit")
async def setup_submit(request: Request) -> Response:
    hs = healthspace(request)
    if hs.accounts.count() > 0:
        return RedirectResponse("/login", status_code=303)
    form = await form_fields(request)
    username = form.get("username", "")
    if form.get("password", "") != form.get("password_again", ""):
        message = page_language(request).text("setup.mismatch")
        return render(request, "setup.html", {"error": message, "username": username}, 422)
    try:
        hs.accounts.create(
            "setup", username, form.get("password", ""), "person", form.get("display_name")
        )
    except AccountError as error:
        return render(request, "setup.html", {"error": str(error), "username": username}, 422)
    return RedirectResponse("/login", status_code=303)
