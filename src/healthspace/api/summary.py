"""Summary routes: the patient summary, the same JSON as ``healthspace summary``, and the same
summary as an IPS document (``healthspace summary --ips --json``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from healthspace.bootstrap import Healthspace
from healthspace.clinician.summary_service import ips_document, summarize
from healthspace.web.identity import request_actor

router = APIRouter(tags=["summary"])


class SourceOut(BaseModel):
    resource: str
    date: str | None


class ItemOut(BaseModel):
    text: str
    source: SourceOut
    # Present when duplicates from several sources were merged into this item.
    sources: list[SourceOut] | None = None


class SectionOut(BaseModel):
    key: str
    title: str
    code: str | None
    items: list[ItemOut]


class ChangesOut(BaseModel):
    since: str
    sections: list[SectionOut]


class SummaryOut(BaseModel):
    sections: list[SectionOut]
    changes: ChangesOut | None = None


def _hs(request: Request) -> Healthspace:
    hs: Healthspace = request.app.state.hs
    return hs


@router.get(
    "/persons/{person}/summary",
    response_model=SummaryOut,
    response_model_exclude_unset=True,
)
def person_summary(
    request: Request,
    person: str,
    since: date | None = Query(None, description="Also list what changed on or after this date."),
) -> dict[str, Any]:
    """The patient summary (IPS sections), every item with its record source."""
    return summarize(_hs(request), request_actor(request), person, since)


class FhirJSONResponse(JSONResponse):
    media_type = "application/fhir+json"


@router.get(
    "/persons/{person}/summary/ips",
    response_class=FhirJSONResponse,
    responses={200: {"description": "A FHIR R4 Bundle of type document (IPS)."}},
)
def person_summary_ips(request: Request, person: str) -> FhirJSONResponse:
    """The patient summary as an International Patient Summary document: a FHIR R4 Bundle whose
    first entry is the IPS Composition, followed by the resources its sections reference."""
    return FhirJSONResponse(ips_document(_hs(request), request_actor(request), person))
