"""Report route: ``POST /api/v1/reports/explanation``, the same JSON as
``healthspace explain report --json``.

A report may identify a person and web servers log query strings, so the text travels in the
body only. The text is data: it is explained, never obeyed.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from healthspace.patient.reports import MAX_REPORT_CHARS, explain_report

router = APIRouter(tags=["reports"])


class ReportRequest(BaseModel):
    text: str = Field(max_length=MAX_REPORT_CHARS, description="The report's text.")
    lang: Literal["en", "fr"] | None = Field(
        None, description="The report's language; detected from the text when not given."
    )


class SourceOut(BaseModel):
    publisher: str
    title: str
    url: str
    reviewed: date


class SummarySentenceOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    text: str
    # The report's spans this sentence restates, as [start, end] character offsets.
    from_: list[list[int]] = Field(alias="from")


class TermOut(BaseModel):
    text: str
    plain: str
    kind: Literal["term", "abbreviation"]
    start: int
    end: int
    sources: list[SourceOut]


class GlossaryEntryOut(BaseModel):
    term: str
    plain: str
    sources: list[SourceOut]


class NumberOut(BaseModel):
    text: str
    start: int
    end: int
    context: str


class CitationOut(BaseModel):
    title: str
    publisher: str
    url: str


class ReportExplanationOut(BaseModel):
    lang: Literal["en", "fr"]
    summary: list[SummarySentenceOut]
    terms: list[TermOut]
    glossary: list[GlossaryEntryOut]
    numbers: list[NumberOut]
    citations: list[CitationOut]
    note: str


@router.post(
    "/reports/explanation", response_model=ReportExplanationOut, response_model_by_alias=True
)
def explain(body: ReportRequest) -> dict[str, Any]:
    """A report's terms, abbreviations and numbers explained, and what it says, restated."""
    return explain_report(body.text, body.lang).as_json()
