"""Rendering a page: the Jinja2 environment, the reader's language and the shared context.

Why one ``render`` for every page (error pages included): the language choice, the cookie that
remembers it and the links of the language switch are then decided in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from healthspace.web.identity import PRELOGIN_COOKIE, csrf_token
from healthspace.web.language import COOKIE, LANGUAGES, Language, choose_language

WEB = Path(__file__).parent
STATIC = WEB / "static"
_ONE_YEAR = 365 * 24 * 3600


def _environment() -> jinja2.Environment:
    # Autoescape every template whatever its name: record text is data, never markup.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(WEB / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


templates = Jinja2Templates(env=_environment())


def page_language(request: Request) -> Language:
    return Language(
        choose_language(
            request.query_params.get("lang"),
            request.cookies.get(COOKIE),
            request.headers.get("accept-language"),
        )
    )


def _switch_link(request: Request, code: str) -> str:
    """The current page in another language; after a form post, the home page."""
    if request.method != "GET":
        return f"/?lang={code}"
    url = request.url.include_query_params(lang=code)
    return f"{url.path}?{url.query}"


def _csrf_field(request: Request) -> Markup:
    """The hidden input every POST form carries; the server refuses a form without it."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(
        escape(csrf_token(request))
    )


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """The page in the reader's language; a ``?lang=`` choice is remembered in a cookie."""
    language = page_language(request)
    shared: dict[str, Any] = {
        "lang": language,
        "t": language.text,
        "languages": LANGUAGES,
        "switch_link": lambda code: _switch_link(request, code),
        "path_for": lambda name, **params: request.app.url_path_for(name, **params),
        "account": getattr(request.state, "account", None),
        "csrf_token": csrf_token(request),
        "csrf_field": lambda: _csrf_field(request),
    }
    response = templates.TemplateResponse(
        request, template, {**shared, **context}, status_code=status_code
    )
    prelogin = getattr(request.state, "new_prelogin", None)
    if prelogin:
        # The pre-sign-in CSRF pair: the same random value in this cookie and in the form.
        response.set_cookie(
            PRELOGIN_COOKIE,
            prelogin,
            samesite="lax",
            httponly=True,
            secure=request.url.scheme == "https",
        )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(COOKIE, language.code, max_age=_ONE_YEAR, samesite="lax", httponly=True)
    return response
