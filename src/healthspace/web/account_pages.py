"""A signed-in person's own pages: settings (language, country, password, API tokens), sharing
their record with a carer or a clinician, exporting it and erasing it.

Sharing, export and erase are "manage" actions: only the record's owner passes the gate
(routes marked ``authorization.owner_only``); a carer or clinician is refused and the attempt
audited.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from healthspace.accounts.store import AccountError
from healthspace.errors import HealthspaceError, NotFoundError
from healthspace.safety.triage_rules import load_triage_rules
from healthspace.web.authorization import (
    SESSION_COOKIE,
    current_account,
    form_fields,
    healthspace,
    owner_only,
)
from healthspace.web.identity import request_actor
from healthspace.web.language import COOKIE as LANGUAGE_COOKIE
from healthspace.web.language import LANGUAGES
from healthspace.web.rendering import page_language, render

router = APIRouter(include_in_schema=False)


def countries() -> list[str]:
    return sorted(c for c in load_triage_rules().emergency_numbers if c != "default")


def _settings(
    request: Request,
    notice: str | None = None,
    error: str | None = None,
    new_token: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    account = current_account(request)
    hs = healthspace(request)
    context: dict[str, Any] = {
        "notice": notice,
        "error": error,
        "new_token": new_token,
        "countries": countries(),
        "tokens": hs.accounts.tokens(account.username),
        "own_person": account.person if account.role == "person" else None,
    }
    return render(request, "settings.html", context, status_code)


@router.get("/settings", response_class=HTMLResponse, name="settings_page")
def settings_page(request: Request) -> HTMLResponse:
    return _settings(request)


@router.post("/settings", response_class=HTMLResponse, name="settings_submit")
async def settings_submit(request: Request) -> Response:
    account = current_account(request)
    hs = healthspace(request)
    form = await form_fields(request)
    language = page_language(request)
    try:
        if form.get("action") == "preferences":
            chosen = form.get("language") if form.get("language") in LANGUAGES else None
            hs.accounts.set_preferences(account.username, chosen, form.get("country"))
            response = RedirectResponse("/settings?saved=1", status_code=303)
            if chosen:
                response.set_cookie(
                    LANGUAGE_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="lax", httponly=True
                )
            return response
        if form.get("action") == "password":
            if hs.accounts.authenticate(account.username, form.get("current", "")) is None:
                raise AccountError(language.text("settings.password_wrong"))
            if form.get("new", "") != form.get("again", ""):
                raise AccountError(language.text("setup.mismatch"))
            hs.accounts.set_password(request_actor(request), account.username, form.get("new", ""))
            response = RedirectResponse("/login", status_code=303)
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response
        if form.get("action") == "token":
            token = hs.accounts.issue_token(
                request_actor(request), account.username, form.get("label", "api")
            )
            return _settings(request, notice=language.text("settings.token_made"), new_token=token)
        if form.get("action") == "revoke_token":
            hs.accounts.revoke_token(request_actor(request), account.username, form.get("id", ""))
            return _settings(request, notice=language.text("settings.token_revoked"))
    except (AccountError, NotFoundError) as error:
        return _settings(request, error=str(error), status_code=422)
    return _settings(request, error=language.text("settings.unknown_action"), status_code=422)


def _sharing(
    request: Request, person_id: str, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    from healthspace.web.pages import person_for_page

    person = person_for_page(request, person_id)
    hs = healthspace(request)
    grants = hs.grants.for_person(person.id)
    names = {a.username: a.display_name for a in hs.accounts.all()}
    context: dict[str, Any] = {
        "person": person,
        "active": [g for g in grants if g.active],
        "ended": [g for g in grants if not g.active],
        "names": names,
        "error": error,
    }
    return render(request, "sharing.html", context, status_code)


@router.get("/persons/{person_id}/sharing", response_class=HTMLResponse, name="sharing_page")
@owner_only
def sharing_page(request: Request, person_id: str) -> HTMLResponse:
    return _sharing(request, person_id)


@router.post("/persons/{person_id}/sharing", response_class=HTMLResponse, name="sharing_grant")
@owner_only
async def sharing_grant(request: Request, person_id: str) -> Response:
    form = await form_fields(request)
    try:
        healthspace(request).grants.grant(
            request_actor(request), person_id, form.get("username", ""), form.get("kind", "")
        )
    except (AccountError, NotFoundError) as error:
        return _sharing(request, person_id, str(error), 422)
    return RedirectResponse(f"/persons/{person_id}/sharing", status_code=303)


@router.post(
    "/persons/{person_id}/sharing/revoke", response_class=HTMLResponse, name="sharing_revoke"
)
@owner_only
async def sharing_revoke(request: Request, person_id: str) -> Response:
    form = await form_fields(request)
    try:
        healthspace(request).grants.revoke(
            request_actor(request), person_id, form.get("username", "")
        )
    except NotFoundError as error:
        return _sharing(request, person_id, str(error), 422)
    return RedirectResponse(f"/persons/{person_id}/sharing", status_code=303)


@router.get("/persons/{person_id}/export", name="export_download")
@owner_only
def export_download(request: Request, person_id: str) -> Response:
    """The whole record as a FHIR Bundle file, to keep or to take elsewhere."""
    bundle = healthspace(request).vault.export(request_actor(request), person_id)
    return Response(
        orjson.dumps(bundle, option=orjson.OPT_INDENT_2),
        media_type="application/fhir+json",
        headers={"Content-Disposition": f'attachment; filename="healthspace-{person_id}.json"'},
    )


@router.post("/persons/{person_id}/erase", response_class=HTMLResponse, name="erase_submit")
@owner_only
async def erase_submit(request: Request, person_id: str) -> Response:
    """Erase after the person typed their username: the record's key is destroyed for good."""
    account = current_account(request)
    form = await form_fields(request)
    language = page_language(request)
    if form.get("confirm", "").strip().lower() != account.username:
        return _settings(
            request, error=language.text("settings.erase_confirm_wrong"), status_code=422
        )
    try:
        removed = healthspace(request).vault.erase(request_actor(request), person_id)
        healthspace(request).grants.end_all(request_actor(request), person_id)
    except HealthspaceError as error:
        return _settings(request, error=str(error), status_code=422)
    return _settings(request, notice=language.text("settings.erased", count=removed))
