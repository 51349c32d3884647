"""Summary route: the patient summary, the same JSON as ``healthspace summary``."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from healthspace.bootstrap import Healthspace
from healthspace.clinician.summary_service import summarize

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


def _actor(request: Request) -> str:
    client = request.client.host if request.client else "unknown"
    return f"api:{client}"


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
    return summarize(_hs(request), _actor(request), person, since)
