"""The one gate every page and API route passes: who is asking, is the form theirs, and may
they touch the record the request names.

Installed as an app-wide dependency (``create_app``), so a new route is covered without doing
anything: any path, query or JSON-body parameter named ``person`` or ``person_id`` is checked
against the access rule (``accounts.access``). A GET reads, other methods write, and an
endpoint marked ``@owner_only`` manages (only the record's owner passes).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request

from healthspace.accounts.access import Action
from healthspace.accounts.store import Account
from healthspace.bootstrap import Healthspace
from healthspace.errors import AccessDeniedError, HealthspaceError
from healthspace.web.identity import PRELOGIN_COOKIE

SESSION_COOKIE = "hs_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
PERSON_PARAMETERS = ("person", "person_id")
_ACTION_ATTRIBUTE = "healthspace_action"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Open without an account: signing in, the first-run setup, the liveness check, and the
# symptom check (it reads no record, and someone in trouble should not need a password).
PUBLIC_ROUTES = frozenset({"/login", "/setup", "/healthz", "/triage"})
# Areas for one role only.
ROLE_PREFIXES = (("/admin", "admin"), ("/api/v1/accounts", "admin"), ("/workspace", "clinician"))


class NotSignedInError(HealthspaceError):
    """No session or token: pages send the reader to the login page, the API answers 401."""

    http_status = 401

    def __init__(self) -> None:
        super().__init__(
            "Sign in first: send a session cookie or an 'Authorization: Bearer' token."
        )


class FormExpiredError(AccessDeniedError):
    """A form or call without the session's CSRF token (a stale page, or another site)."""

    def __init__(self) -> None:
        super().__init__(
            "This form has expired or did not come from Healthspace. Reload the page and send "
            "it again."
        )


class TooManyAttemptsError(HealthspaceError):
    http_status = 429

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        minutes = max(1, round(retry_after / 60))
        super().__init__(f"Too many wrong passwords. Try again in {minutes} minute(s).")


def healthspace(request: Request) -> Healthspace:
    hs: Healthspace = request.app.state.hs
    return hs


def current_account(request: Request) -> Account:
    """The signed-in account (the gate has run on every route, so there is one)."""
    account: Account | None = getattr(request.state, "account", None)
    if account is None:
        raise NotSignedInError()
    return account


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def _sent_csrf(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


async def form_fields(request: Request) -> dict[str, str]:
    """A posted form's text fields (the gate has already read the form for its CSRF check;
    Starlette keeps it, so this parses nothing twice)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def _body_person(request: Request) -> Any:
    if request.method in SAFE_METHODS:
        return None
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            return None  # the route's own validation answers
        return body.get("person") if isinstance(body, dict) else None
    return None


Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def owner_only(endpoint: Endpoint) -> Endpoint:
    """Mark a route that only the record's owner may use: sharing the record, exporting or
    erasing it, reading its audit log. Put it under the ``@router`` decorator."""
    endpoint.__dict__[_ACTION_ATTRIBUTE] = "manage"
    return endpoint


def _action(request: Request) -> Action:
    marked = getattr(request.scope.get("endpoint"), _ACTION_ATTRIBUTE, None)
    if marked == "manage":
        return "manage"
    return "read" if request.method in SAFE_METHODS else "write"


async def authorize(request: Request) -> None:
    """Sign-in, CSRF and access check for every route (an app-wide FastAPI dependency)."""
    hs = healthspace(request)
    path = request.url.path
    token = _bearer(request)
    account: Account | None = None
    csrf_expected: str | None = None
    if token is not None:
        account = hs.accounts.token_account(token)
        if account is None:
            raise NotSignedInError()
    else:
        secret = request.cookies.get(SESSION_COOKIE)
        session = hs.accounts.session(secret) if secret else None
        if session is not None:
            account, csrf_expected = session.account, session.csrf
        else:
            # Before signing in, forms carry a token matched against a cookie of their own
            # (``render`` sets the cookie when it is new).
            csrf_expected = request.cookies.get(PRELOGIN_COOKIE) or ""
            if not csrf_expected:
                request.state.new_prelogin = secrets.token_urlsafe(32)
    request.state.account = account
    request.state.csrf_token = csrf_expected or getattr(request.state, "new_prelogin", "")
    if csrf_expected is not None and request.method not in SAFE_METHODS:
        sent = await _sent_csrf(request)
        if not csrf_expected or not sent or not hmac.compare_digest(sent, csrf_expected):
            raise FormExpiredError()
    if path in PUBLIC_ROUTES:
        return
    if account is None:
        raise NotSignedInError()
    named = [request.path_params.get(name) for name in PERSON_PARAMETERS]
    named += [request.query_params.get(name) for name in PERSON_PARAMETERS]
    named.append(await _body_person(request))
    persons = sorted({p for p in named if isinstance(p, str) and p})
    for prefix, role in ROLE_PREFIXES:
        if path.startswith(prefix) and account.role != role:
            targets: list[str | None] = [*persons] or [None]
            for target in targets:
                hs.vault.record_event(account.actor, "denied", target, None, f"{role}-only {path}")
            raise AccessDeniedError(f"This part of Healthspace is for {role} accounts.")
    action = _action(request)
    for person in persons:
        hs.access.require(account, person, action, f"{request.method} {path}")


class NoRecordChosenError(HealthspaceError):
    http_status = 422

    def __init__(self) -> None:
        super().__init__(
            "This account has no health record of its own, so these files have nowhere to go. "
            "To add them to a record shared with you, name it (person=ID in the API)."
        )


def import_target(account: Account, person: str | None) -> str:
    """Whose record an import writes: the one named (the gate checked it) or the caller's own.

    Never "whoever the file names": a file cannot choose to land in someone else's record.
    """
    if person:
        return person
    if account.role == "person" and account.person:
        return account.person
    raise NoRecordChosenError()
