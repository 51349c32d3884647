"""Clinician medicine routes: the CLI's ``med-review`` and ``alternatives`` over HTTP.

``GET /persons/{person}/medication-review`` and ``GET /alternatives?drug=...&reason=...``
answer with the same JSON as the commands (see ``MedicationReview.as_json`` and
``Alternatives.as_json`` for every key).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from healthspace.api.records import _hs
from healthspace.clinician.alternatives import alternatives_for
from healthspace.clinician.medication_review import medication_review
from healthspace.web.identity import request_actor

router = APIRouter(tags=["clinician"])
Lang = Literal["en", "fr"]
Severity = Literal["contraindicated", "major", "moderate", "minor"]


class SourceOut(BaseModel):
    publisher: str
    title: str
    url: str
    reviewed: date


class FindingMedicineOut(BaseModel):
    name: str
    id: str
    atc: str | None
    recorded_as: str | None
    resource: str | None


class FindingOut(BaseModel):
    kind: Literal["interaction", "duplicate", "allergy", "kidney", "pregnancy", "age"]
    rule: str
    severity: Severity
    title: str
    text: str
    action: str
    medicines: list[FindingMedicineOut]
    record_refs: list[str]
    sources: list[SourceOut]


class ReviewMedicineOut(BaseModel):
    name: str
    medicine: str | None
    ingredients: list[str]
    atc: str | None
    resource: str


class UnrecognisedOut(BaseModel):
    name: str
    resource: str


class ContextOut(BaseModel):
    age: int | None
    birth_date: str | None
    egfr: dict[str, Any] | None
    creatinine: dict[str, Any] | None
    pregnancy: dict[str, Any] | None


class MedicationReviewOut(BaseModel):
    person: str
    date: str
    label: str
    medicines: list[ReviewMedicineOut]
    unrecognised: list[UnrecognisedOut]
    context: ContextOut
    findings: list[FindingOut]
    counts: dict[str, int]


class NoteOut(BaseModel):
    kind: str
    severity: Severity | None
    text: str
    sources: list[SourceOut]
    record_refs: list[str]


class DrugOut(BaseModel):
    name: str
    id: str
    atc: str | None
    input: str | None = None


class OptionOut(BaseModel):
    name: str
    id: str
    atc: str | None
    group: str | None
    preferred: bool
    reasons: list[NoteOut]
    cautions: list[NoteOut]
    why_not: list[NoteOut]


class GroupOut(BaseModel):
    id: str
    title: str
    indication: str | None
    caution: str | None
    sources: list[SourceOut]


class AlternativesOut(BaseModel):
    drug: DrugOut
    reason: Literal["side_effect", "contraindication", "interaction", "allergy"]
    with_: DrugOut | None = Field(alias="with")
    person: str | None
    label: str
    groups: list[GroupOut]
    guidance: list[NoteOut]
    options: list[OptionOut]
    excluded: list[OptionOut]
    record_refs: list[str]

    model_config = {"populate_by_name": True}


@router.get("/persons/{person}/medication-review", response_model=MedicationReviewOut)
def person_medication_review(request: Request, person: str, lang: Lang = "en") -> dict[str, Any]:
    """Findings about the person's current medicines, most serious first (``med-review``)."""
    return medication_review(_hs(request), request_actor(request), person).as_json(lang)


@router.get("/alternatives", response_model=AlternativesOut)
def alternatives(
    request: Request,
    drug: str = Query(..., min_length=1, description="The medicine to replace."),
    reason: Literal["side_effect", "contraindication", "interaction", "allergy"] = "side_effect",
    with_drug: str | None = Query(
        None, alias="with", description="The medicine it interacts with."
    ),
    person: str | None = Query(None, description="Check each option against this record."),
    lang: Lang = "en",
) -> dict[str, Any]:
    """Options to replace a medicine, for the clinician's judgement (``alternatives``)."""
    hs = _hs(request)
    answer = alternatives_for(hs, request_actor(request), drug, reason, with_drug, person, lang)
    return answer.as_json()
