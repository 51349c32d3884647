"""Workspace: the clinician's pages. The patient list holds only the persons who granted this
clinician access (a Consent they can revoke); each patient opens on the summary, every line
linked to the record item it comes from."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from healthspace.clinician.summary_service import summarize
from healthspace.vault.store import patient_profile
from healthspace.web.authorization import current_account, healthspace
from healthspace.web.identity import request_actor
from healthspace.web.pages import person_for_page
from healthspace.web.rendering import render

router = APIRouter(include_in_schema=False)


@router.get("/workspace", response_class=HTMLResponse, name="workspace_page")
def workspace_page(request: Request) -> HTMLResponse:
    """The patients who shared their record with this clinician, newest grant first."""
    account = current_account(request)
    hs = healthspace(request)
    patients = []
    for grant in reversed(hs.grants.active_for(account.username)):
        try:
            records = hs.vault.resources(request_actor(request), grant.person, "Patient")
        except Exception:  # an erased record: its grant ended with it
            continue
        profile = patient_profile(records[-1]) if records else {}
        patients.append({"id": grant.person, "since": grant.granted_at, **profile})
    return render(request, "workspace.html", {"patients": patients})


def _resource_link(reference: str) -> tuple[str, str] | None:
    kind, _, fhir_id = reference.partition("/")
    return (kind, fhir_id) if kind and fhir_id else None


@router.get(
    "/workspace/persons/{person_id}", response_class=HTMLResponse, name="workspace_patient_page"
)
def workspace_patient_page(
    request: Request, person_id: str, since: str | None = None
) -> HTMLResponse:
    """The patient summary; with ``since``, what changed since that date first."""
    person = person_for_page(request, person_id)
    since_date = None
    if since:
        try:
            since_date = date.fromisoformat(since)
        except ValueError:
            since_date = None
    summary = summarize(healthspace(request), request_actor(request), person.id, since_date)
    context: dict[str, Any] = {
        "person": person,
        "summary": summary,
        "since": since_date.isoformat() if since_date else "",
        "link": _resource_link,
    }
    return render(request, "workspace_patient.html", context)
