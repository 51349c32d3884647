"""The My health pages: home (records and import), a person's timeline, one resource.

Handlers stay thin: they read through the same vault and importer as the CLI and API, and leave
every decision about what a resource means to ``web.timeline``. Every handler that shows a
person's data gets the person from ``person_for_page``, the one place where the access check
arrives with accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from healthspace.bootstrap import Healthspace
from healthspace.errors import NotFoundError
from healthspace.ingest.importer import ImportReport
from healthspace.vault.store import patient_profile
from healthspace.web.authorization import current_account, import_target
from healthspace.web.identity import request_actor
from healthspace.web.rendering import page_language, render
from healthspace.web.timeline import entry, readable_rows, reference_range

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class PagePerson:
    """The person a page is about, as the page header shows them."""

    id: str
    name: str | None
    birth_date: str | None


def _hs(request: Request) -> Healthspace:
    hs: Healthspace = request.app.state.hs
    return hs


def person_for_page(request: Request, person_id: str) -> PagePerson:
    """The person whose data a page shows, or a page-worded NotFoundError.

    Reading the Patient resource (audited) rather than the person list keeps the audit log to
    this one person. Accounts will check here that the reader may see this person.
    """
    try:
        patients = _hs(request).vault.resources(request_actor(request), person_id, "Patient")
    except NotFoundError as error:
        message = page_language(request).text("person.not_found", id=person_id)
        raise NotFoundError(message) from error
    profile = patient_profile(patients[-1]) if patients else {}
    return PagePerson(person_id, profile.get("name"), profile.get("birth_date"))


def _home(
    request: Request,
    report: ImportReport | None = None,
    upload_error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    hs = _hs(request)
    account = current_account(request)
    readable = hs.access.readable_persons(account)
    persons = hs.vault.persons(request_actor(request), only=readable)
    names = {p.id: p.name for p in persons}
    context: dict[str, Any] = {
        "persons": persons,
        "report": report,
        "report_persons": [(pid, names.get(pid)) for pid in (report.persons if report else [])],
        "upload_error": upload_error,
    }
    return render(request, "home.html", context, status_code)


@router.get("/", response_class=HTMLResponse, name="home_page")
def home_page(request: Request) -> HTMLResponse:
    """My health: the records kept here and the import form."""
    return _home(request)


@router.post("/import", response_class=HTMLResponse, name="import_page")
async def import_page(request: Request) -> HTMLResponse:
    """Import files from the form and show the report on the home page.

    The report is the page itself (no redirect): it holds file names and reasons that should
    not travel in a URL or be stored anywhere. The form is read by hand because a browser
    sends an empty file field as an empty string, which should get the form's own message.
    """
    async with request.form() as form:  # closes the spooled temporary files afterwards
        uploads = [
            (upload.filename, await upload.read())
            for upload in form.getlist("files")
            if isinstance(upload, UploadFile) and upload.filename
        ]
    if not uploads:
        message = page_language(request).text("upload.none")
        return _home(request, upload_error=message, status_code=422)
    target = import_target(current_account(request), request.query_params.get("person"))
    report = _hs(request).importer.import_uploads(uploads, request_actor(request), target)
    failed = report.nothing_imported and bool(report.errors)
    return _home(request, report=report, status_code=422 if failed else 200)


@router.get(
    "/persons/{person_id}/resources/{resource_type}/{fhir_id}",
    response_class=HTMLResponse,
    name="resource_page",
)
def resource_page(
    request: Request, person_id: str, resource_type: str, fhir_id: str
) -> HTMLResponse:
    """One resource: a summary, every element as a readable row, and the FHIR JSON."""
    person = person_for_page(request, person_id)
    resource = _hs(request).vault.resource(
        request_actor(request), person.id, resource_type, fhir_id
    )
    context = {
        "person": person,
        "item": entry(resource),
        "status": resource.get("status"),
        "reference_range": reference_range(resource),
        "rows": readable_rows(resource),
        "json_text": orjson.dumps(resource, option=orjson.OPT_INDENT_2).decode(),
    }
    return render(request, "resource.html", context)
