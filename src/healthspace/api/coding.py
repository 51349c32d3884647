"""Coding routes: ICD-10-CM and SNOMED CT codes for clinical text and for a person's problem
list and notes, ICD-10-CM look-up and search, SNOMED CT, LOINC for local lab names.

Clinical text may identify a person, and web servers log query strings: prefer ``POST /code``
with the text in the body; ``GET /code?text=`` exists for quick scripts and tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from healthspace.bootstrap import Healthspace
from healthspace.coding import MAX_TEXT_CHARS, needs_snomed, open_snomed_store, suggest_codes
from healthspace.coding.record_coding import code_person, map_person_labs
from healthspace.terminology import icd10cm, snomed
from healthspace.terminology.loinc_map import MAX_NAME_CHARS, map_local_name
from healthspace.web.identity import request_actor

router = APIRouter(tags=["coding"])


class CodeSuggestionOut(BaseModel):
    system: str
    code: str
    display: str
    score: float
    evidence: str
    start: int
    end: int
    status: str
    trigger: str | None
    # SNOMED CT suggestions only: the description matched and the release's ICD-10-CM map.
    matched: str | None = None
    icd10cm: list[str] | None = None


class CodeRequest(BaseModel):
    text: str = Field(max_length=MAX_TEXT_CHARS)
    system: str = "icd10cm"
    lang: str | None = None
    all: bool = False


def _settings_home(request: Request) -> Path:
    hs: Healthspace = request.app.state.hs
    return hs.settings.home


def _code(request: Request, body: CodeRequest) -> list[dict[str, Any]]:
    hs: Healthspace = request.app.state.hs
    store = open_snomed_store(hs.settings) if needs_snomed(body.system) else None
    try:
        found = suggest_codes(
            body.text, body.system, body.lang, body.all, hs.settings.home / "cache", store
        )
    finally:
        if store is not None:
            store.close()
    return [s.as_json() for s in found]


@router.get("/code", response_model=list[CodeSuggestionOut], response_model_exclude_unset=True)
def code_get(
    request: Request,
    text: str = Query(..., max_length=MAX_TEXT_CHARS),
    system: str = "icd10cm",
    lang: str | None = None,
    all: bool = False,
) -> list[dict[str, Any]]:
    """Codes for the conditions a text mentions; current ones unless ``all``."""
    return _code(request, CodeRequest(text=text, system=system, lang=lang, all=all))


@router.post("/code", response_model=list[CodeSuggestionOut], response_model_exclude_unset=True)
def code_post(request: Request, body: CodeRequest) -> list[dict[str, Any]]:
    """The same as ``GET /code``, with the text in the body where no log can keep it."""
    return _code(request, body)


@router.get("/icd10cm/{code}")
def icd10cm_lookup(request: Request, code: str) -> dict[str, Any]:
    """An ICD-10-CM code (with or without its dot): description, billable, hierarchy."""
    return icd10cm.load_icd10cm(_settings_home(request) / "cache").describe(code)


@router.get("/icd10cm")
def icd10cm_search(
    request: Request,
    q: str = Query(..., min_length=1, max_length=500),
    limit: int = Query(20, ge=1, le=500),
    billable: bool = False,
) -> list[dict[str, Any]]:
    """ICD-10-CM codes whose description holds every word of ``q``, general ones first."""
    table = icd10cm.load_icd10cm(_settings_home(request) / "cache")
    return [h.as_json() for h in table.search(q, limit=limit, billable_only=billable)]


def _snomed(request: Request) -> snomed.SnomedStore:
    hs: Healthspace = request.app.state.hs
    return snomed.open_store(hs.settings.home, snomed.configured_release_dir(hs.settings))


@router.get("/snomed/{concept_id}")
def snomed_lookup(request: Request, concept_id: str) -> dict[str, Any]:
    """A concept of the loaded SNOMED CT release: names, parents, ancestors."""
    with _snomed(request) as store:
        return store.describe(concept_id)


@router.get("/snomed")
def snomed_search(
    request: Request,
    q: str = Query(..., min_length=1, max_length=500),
    limit: int = Query(20, ge=1, le=500),
) -> list[dict[str, Any]]:
    """Concepts of the loaded SNOMED CT release with a term holding every word of ``q``."""
    with _snomed(request) as store:
        return [h.as_json() for h in store.search(q, limit=limit)]


class ExistingCodeOut(BaseModel):
    system: str
    code: str
    display: str | None


class CodedItemOut(BaseModel):
    resource: str
    kind: Literal["condition", "note"]
    text: str
    date: str | None
    existing: list[ExistingCodeOut]
    suggestions: list[CodeSuggestionOut]
    # Per system: agrees, same_category, related, differs, uncoded or no_suggestion.
    agreement: dict[str, str]
    mapped_icd10cm: list[str] | None = None
    not_on_problem_list: list[str] | None = None
    truncated: bool | None = None


class PersonCodingOut(BaseModel):
    person: str
    system: str
    snomed_map: bool
    counts: dict[str, int]
    items: list[CodedItemOut]


@router.get(
    "/persons/{person}/coding",
    response_model=PersonCodingOut,
    response_model_exclude_unset=True,
)
def person_coding(
    request: Request,
    person: str,
    system: Literal["icd10cm", "snomed", "all"] = "icd10cm",
) -> dict[str, Any]:
    """Each condition and note of a person with suggested codes and, per condition, whether
    the code already there agrees."""
    hs: Healthspace = request.app.state.hs
    store = open_snomed_store(hs.settings) if needs_snomed(system) else None
    try:
        return code_person(
            hs, request_actor(request), person, system, store, hs.settings.home / "cache"
        ).as_json()
    finally:
        if store is not None:
            store.close()


class ReasonOut(BaseModel):
    kind: Literal["name", "unit", "specimen"]
    match: str
    detail: str
    score: float


class LoincSuggestionOut(BaseModel):
    system: str
    code: str
    display: str
    score: float
    reasons: list[ReasonOut]


class LoincMapOut(BaseModel):
    name: str
    unit: str | None
    specimen: str | None
    suggestions: list[LoincSuggestionOut]


@router.get("/loinc-map", response_model=LoincMapOut)
def loinc_map(
    name: str = Query(..., min_length=1, max_length=MAX_NAME_CHARS),
    unit: str | None = Query(None, max_length=100),
    specimen: str | None = Query(None, max_length=100),
    limit: int = Query(5, ge=1, le=50),
) -> dict[str, Any]:
    """LOINC codes for a local lab test name, with score and reasons (name, unit, specimen)."""
    found = map_local_name(name, unit, specimen, limit)
    return {
        "name": name,
        "unit": unit,
        "specimen": specimen,
        "suggestions": [s.as_json() for s in found],
    }


class LocalCodeOut(BaseModel):
    system: str
    code: str
    display: str | None


class LocalLabOut(BaseModel):
    name: str
    unit: str | None
    specimen: str | None
    local_codes: list[LocalCodeOut]
    count: int
    resources: list[str]
    suggestions: list[LoincSuggestionOut]


class PersonLoincMapOut(BaseModel):
    person: str
    observations: int
    without_loinc: int
    tests: list[LocalLabOut]


@router.get("/persons/{person}/loinc-map", response_model=PersonLoincMapOut)
def person_loinc_map(
    request: Request, person: str, limit: int = Query(3, ge=1, le=10)
) -> dict[str, Any]:
    """A person's lab results without a LOINC code, grouped by local name and unit, each
    group with LOINC suggestions."""
    hs: Healthspace = request.app.state.hs
    return map_person_labs(hs, request_actor(request), person, limit)
