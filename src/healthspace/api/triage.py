"""Triage routes: ``POST /triage`` with a JSON body and ``GET /triage?text=``, the CLI's JSON.

Triage reads no record, so these routes need no person and touch no database.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from healthspace.safety.triage import MAX_TEXT_CHARS, triage

router = APIRouter(tags=["safety"])

_COUNTRY = r"^[A-Za-z]{2}$"


class TriageRequest(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="The symptoms.")
    lang: Literal["en", "fr"] = "en"
    country: str | None = Field(
        default=None, pattern=_COUNTRY, description="Two-letter country code (FR, US, GB...)."
    )


class SourceOut(BaseModel):
    publisher: str
    title: str
    url: str
    reviewed: date


class TriageOut(BaseModel):
    level: Literal["emergency", "urgent", "non_urgent", "self_care"]
    red_flags: list[str]
    reasons: list[str]
    advice: str
    call: str | None
    lang: Literal["en", "fr"]
    country: str | None
    rules_version: str
    sources: list[SourceOut]


@router.post("/triage", response_model=TriageOut)
def triage_post(request: TriageRequest) -> dict[str, Any]:
    """How urgent the symptoms are, the warning signs found, what to do and whom to call."""
    return triage(request.text, request.lang, request.country).as_json()


@router.get("/triage", response_model=TriageOut)
def triage_get(
    text: Annotated[str, Query(min_length=1, max_length=MAX_TEXT_CHARS)],
    lang: Literal["en", "fr"] = "en",
    country: Annotated[str | None, Query(pattern=_COUNTRY)] = None,
) -> dict[str, Any]:
    """The same as ``POST /triage``, for a link or a quick check."""
    return triage(text, lang, country).as_json()
