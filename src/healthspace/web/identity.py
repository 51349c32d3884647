"""Who is making a request: the account behind it and the name the audit log gives it.

Pages and API routes ask here, never the client address directly, so that accounts and
sessions are decided in one place.
"""

from __future__ import annotations

from fastapi import Request

# The cookie that pairs with the form token before signing in (see ``authorization``).
PRELOGIN_COOKIE = "hs_prelogin"


def request_actor(request: Request) -> str:
    """The actor the audit log records for this request."""
    account = getattr(request.state, "account", None)
    if account is not None:
        return f"account:{account.username}"
    client = request.client.host if request.client else "unknown"
    return f"web:{client}"


def csrf_token(request: Request) -> str:
    """The session's CSRF token that every form posts back (empty without a session)."""
    token: str = getattr(request.state, "csrf_token", "") or ""
    return token
