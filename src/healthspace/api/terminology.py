"""Terminology routes for the entry forms: what a few typed letters may name.

``GET /api/v1/terminology/suggest`` answers the autocomplete of the pages that let a person
enter their own lab results, medicines, conditions, allergies and vaccines, from the same
look-ups the service uses to resolve a whole name (``patient.entry_terms``).
"""

from __future__ import annotations

from functools import partial
from typing import Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from healthspace.bootstrap import Healthspace
from healthspace.patient.entry_terms import MAX_LIMIT, MAX_QUERY, Icd10Source, suggest
from healthspace.terminology.icd10cm import load_icd10cm

router = APIRouter(tags=["terminology"])


class SuggestionOut(BaseModel):
    code: str
    system: str
    display: str
    matched: str | None = None
    units: list[str] | None = None


def icd10_source(request: Request) -> Icd10Source:
    """The ICD-10-CM table of this app's data folder, loaded when first needed."""
    hs: Healthspace = request.app.state.hs
    return partial(load_icd10cm, hs.settings.home / "cache")


@router.get(
    "/terminology/suggest",
    response_model=list[SuggestionOut],
    response_model_exclude_none=True,
)
def terminology_suggest(
    request: Request,
    kind: Literal["lab", "medicine", "condition", "allergen", "vaccine"],
    q: str = Query("", max_length=MAX_QUERY),
    lang: Literal["en", "fr"] = "en",
    limit: int = Query(10, ge=1, le=MAX_LIMIT),
) -> list[dict[str, object]]:
    """Names that start with (or hold) the typed letters, best first: French and English
    names, brands and abbreviations; case and accents do not matter. Lab tests come with the
    units they may be given in."""
    found = suggest(kind, q, lang, limit, icd10_source(request))
    return [s.as_json(lang) for s in found]
