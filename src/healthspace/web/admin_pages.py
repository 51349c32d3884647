"""The admin's page: accounts only. An admin creates and removes accounts and never sees a
record: the gate refuses every person route to the admin role (``accounts.access``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from healthspace.accounts.store import ROLES, AccountError
from healthspace.errors import NotFoundError
from healthspace.web.authorization import current_account, form_fields, healthspace
from healthspace.web.identity import request_actor
from healthspace.web.rendering import page_language, render

router = APIRouter(include_in_schema=False)


def _admin(request: Request, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    context: dict[str, Any] = {
        "accounts": healthspace(request).accounts.all(),
        "roles": ROLES,
        "error": error,
    }
    return render(request, "admin.html", context, status_code)


@router.get("/admin", response_class=HTMLResponse, name="admin_page")
def admin_page(request: Request) -> HTMLResponse:
    return _admin(request)


@router.post("/admin/accounts", response_class=HTMLResponse, name="admin_create")
async def admin_create(request: Request) -> Response:
    form = await form_fields(request)
    try:
        healthspace(request).accounts.create(
            request_actor(request),
            form.get("username", ""),
            form.get("password", ""),
            form.get("role", ""),
            form.get("display_name") or None,
        )
    except AccountError as error:
        return _admin(request, str(error), 422)
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/accounts/delete", response_class=HTMLResponse, name="admin_delete")
async def admin_delete(request: Request) -> Response:
    form = await form_fields(request)
    username = form.get("username", "")
    if username == current_account(request).username:
        return _admin(request, page_language(request).text("admin.not_self"), 422)
    try:
        healthspace(request).accounts.delete(request_actor(request), username)
    except NotFoundError as error:
        return _admin(request, str(error), 422)
    return RedirectResponse("/admin", status_code=303)
