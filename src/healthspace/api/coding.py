"""Coding routes: ICD-10-CM codes for clinical text, ICD-10-CM look-up and search, SNOMED CT.

Clinical text may identify a person, and web servers log query strings: prefer ``POST /code``
with the text in the body; ``GET /code?text=`` exists for quick scripts and tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from healthspace.bootstrap import Healthspace
from healthspace.coding import MAX_TEXT_CHARS, suggest_codes
from healthspace.terminology import icd10cm, snomed

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


class CodeRequest(BaseModel):
    text: str = Field(max_length=MAX_TEXT_CHARS)
    system: str = "icd10cm"
    lang: str | None = None
    all: bool = False


def _settings_home(request: Request) -> Path:
    hs: Healthspace = request.app.state.hs
    return hs.settings.home


def _code(request: Request, body: CodeRequest) -> list[dict[str, Any]]:
    found = suggest_codes(
        body.text, body.system, body.lang, body.all, _settings_home(request) / "cache"
    )
    return [s.as_json() for s in found]


@router.get("/code", response_model=list[CodeSuggestionOut])
def code_get(
    request: Request,
    text: str = Query(..., max_length=MAX_TEXT_CHARS),
    system: str = "icd10cm",
    lang: str | None = None,
    all: bool = False,
) -> list[dict[str, Any]]:
    """Codes for the conditions a text mentions; current ones unless ``all``."""
    return _code(request, CodeRequest(text=text, system=system, lang=lang, all=all))


@router.post("/code", response_model=list[CodeSuggestionOut])
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
