"""Lab routes: a person's results and one explained, the same JSON as ``healthspace labs``."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from healthspace.bootstrap import Healthspace
from healthspace.patient.lab_service import explain_lab, list_labs
from healthspace.web.identity import request_actor

router = APIRouter(tags=["labs"])

Lang = Literal["en", "fr"]


class OriginalOut(BaseModel):
    value: float
    unit: str | None


class PreviousOut(BaseModel):
    value: float
    date: str | None
    resource: str


class PeriodOut(BaseModel):
    start: str | None
    end: str | None


class TrendOut(BaseModel):
    direction: Literal["rising", "falling", "stable"]
    change: float
    change_percent: float | None
    previous: PreviousOut
    period: PeriodOut


class LabResultOut(BaseModel):
    code: str
    name: str
    value: float | str | None
    unit: str | None
    low: float | None
    high: float | None
    flag: Literal["low", "normal", "high", "critical"] | None
    date: str | None
    trend: TrendOut | None
    original: OriginalOut | None
    range_source: Literal["lab", "healthspace"] | None
    resource: str
    comparator: str | None
    absent_reason: str | None
    interpretation: str | None


class CitationOut(BaseModel):
    title: str
    publisher: str
    url: str


class SectionOut(BaseModel):
    title: str
    text: str
    # A knowledge source ({title, publisher, url}) or a record item ({resource, date}).
    sources: list[dict[str, Any]]


class LabExplanationOut(BaseModel):
    code: str
    name: str
    latest: LabResultOut
    sections: list[SectionOut]
    critical: bool
    citations: list[CitationOut]
    record_refs: list[str]


def _hs(request: Request) -> Healthspace:
    hs: Healthspace = request.app.state.hs
    return hs


@router.get("/persons/{person}/labs", response_model=list[LabResultOut])
def person_labs(
    request: Request,
    person: str,
    code: str | None = Query(None, description="A LOINC code or a test name."),
    lang: Lang = "en",
) -> list[dict[str, Any]]:
    """Every lab result with unit, range, flag and trend; by test name, then date."""
    results = list_labs(_hs(request), request_actor(request), person, code, lang)
    return [r.as_json(lang) for r in results]


@router.get("/persons/{person}/labs/{code}/explanation", response_model=LabExplanationOut)
def lab_explanation(request: Request, person: str, code: str, lang: Lang = "en") -> dict[str, Any]:
    """The latest result of a test explained in plain words, with sources and record refs."""
    return explain_lab(_hs(request), request_actor(request), person, code, lang).as_json()
