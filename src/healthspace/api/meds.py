"""Medicine routes: the CLI's ``meds``, ``explain med``, ``interactions --person`` and health
memory answers over HTTP, from the same service functions."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from healthspace.api.interactions import InteractionReportOut
from healthspace.api.records import _hs
from healthspace.patient.medication_service import (
    current_medications,
    explain_medicine,
    interactions_for_person,
)
from healthspace.patient.memory import MAX_CHARS, forget, list_memories, remember_text
from healthspace.web.identity import request_actor

router = APIRouter(tags=["medicines"])
Lang = Literal["en", "fr"]


class PurposeOut(BaseModel):
    text: str
    from_record: bool
    note: str | None
    record_refs: list[str]
    sources: list[dict[str, Any]]


class MedicationOut(BaseModel):
    name: str
    medicine: str | None
    atc: str | None
    status: str
    current: bool
    dosage: str | None
    for_: PurposeOut | None = Field(alias="for")
    since: str | None
    until: str | None
    resource: str

    model_config = {"populate_by_name": True}


class SectionOut(BaseModel):
    title: str
    text: str
    sources: list[dict[str, Any]]


class CitationOut(BaseModel):
    title: str
    publisher: str
    url: str


class ExplanationOut(BaseModel):
    medicine: str
    sections: list[SectionOut]
    interactions: list[dict[str, Any]]
    allergy_conflicts: list[dict[str, Any]]
    citations: list[CitationOut]
    record_refs: list[str]


class MemoryIn(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_CHARS)
    lang: Lang = "en"


class MemoryOut(BaseModel):
    resource: str
    kind: Literal["allergy", "medication_stopped", "medication_taken"]
    subject: str
    summary: str
    status: str | None
    date: str | None
    said: str | None


class RememberOut(MemoryOut):
    stored: bool
    message: str


@router.get(
    "/persons/{person}/medications",
    response_model=list[MedicationOut],
    response_model_by_alias=True,
)
def medications(request: Request, person: str, lang: Lang = "en") -> list[dict[str, Any]]:
    """The person's medicines, current first, with what each is for (``healthspace meds``)."""
    hs = _hs(request)
    return current_medications(hs, request_actor(request), person, lang).as_json()


@router.get("/medicines/{name}/explanation", response_model=ExplanationOut)
def explanation(
    request: Request,
    name: str,
    person: str | None = Query(None, description="Check against this person's record."),
    lang: Lang = "en",
) -> dict[str, Any]:
    """A medicine explained with sources (``healthspace explain med``)."""
    hs = _hs(request)
    return explain_medicine(hs, request_actor(request), name, lang, person).as_json()


@router.get("/persons/{person}/interactions", response_model=InteractionReportOut)
def person_interactions(
    request: Request,
    person: str,
    drug: list[str] = Query(default=[], description="Extra medicine names to check too."),
    lang: Lang = "en",
) -> dict[str, Any]:
    """Every pair among the person's current medicines and any extra names (DESIGN.md JSON)."""
    hs = _hs(request)
    return interactions_for_person(hs, request_actor(request), person, drug, lang).as_json()


@router.post("/persons/{person}/memories", response_model=RememberOut)
def add_memory(request: Request, person: str, body: MemoryIn) -> dict[str, Any]:
    """Save what the person says about a medicine or an allergy (``healthspace remember``)."""
    hs = _hs(request)
    return remember_text(hs, request_actor(request), person, body.text, body.lang).as_json(
        body.lang
    )


@router.get("/persons/{person}/memories", response_model=list[MemoryOut])
def memories(request: Request, person: str, lang: Lang = "en") -> list[dict[str, Any]]:
    """What the person told us, newest first (``healthspace memories``)."""
    hs = _hs(request)
    return [m.as_json(lang) for m in list_memories(hs, request_actor(request), person)]


@router.delete("/persons/{person}/memories/{resource_type}/{fhir_id}")
def forget_memory(
    request: Request, person: str, resource_type: str, fhir_id: str, lang: Lang = "en"
) -> dict[str, str]:
    """Remove one thing the person told us (``healthspace forget``)."""
    hs = _hs(request)
    return {
        "forgotten": forget(hs, request_actor(request), person, f"{resource_type}/{fhir_id}", lang)
    }
