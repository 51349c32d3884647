"""What every composer shares: the request, sections with a placeholder when the record is
silent, and the clinician's own words as statements with their spans."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from healthspace.clinician.drafts.model import (
    Composed,
    DraftSection,
    Kind,
    Language,
    Span,
    Statement,
)
from healthspace.clinician.drafts.record import Record
from healthspace.clinician.drafts.wording import SECTIONS, phrase
from healthspace.terminology.icd10cm import Icd10cm


@dataclass(frozen=True)
class DraftRequest:
    """What the clinician asked for; which fields count depends on the kind."""

    kind: Kind
    language: Language = "en"
    encounter: str | None = None
    text: str | None = None  # SOAP: typed or dictated text
    to: str | None = None  # referral: the colleague written to
    reason: str | None = None  # referral: why
    medicine: str | None = None  # prior authorization: the treatment requested
    diagnosis: str | None = None  # prior authorization: an ICD-10-CM code


Codes = Callable[[], Icd10cm]
Composer = Callable[[Record, DraftRequest, Codes], Composed]


def section(
    key: str,
    lang: Language,
    statements: Iterable[Statement],
    placeholder: str | None = "to_complete",
) -> DraftSection:
    """A section; when the record gives it nothing, one unsourced line says what is missing."""
    found = tuple(statements)
    if not found and placeholder:
        found = (Statement("", phrase(placeholder, lang), "none"),)
    titles, code = SECTIONS[key]
    return DraftSection(key, titles[lang], code, found)


def clinician_statement(text: str, given: str) -> Statement:
    """A line built on words the clinician typed (``given``, whole), sourced by them."""
    return Statement("", text, "clinician", evidence=(Span(0, len(given), given),))


def clinician_lines(given: str) -> list[Statement]:
    """One statement per non-empty line of the clinician's text, each with its span."""
    statements = []
    position = 0
    for line in given.splitlines(keepends=True):
        stripped = line.strip()
        if stripped:
            start = position + line.index(stripped)
            statements.append(
                Statement(
                    "",
                    stripped,
                    "clinician",
                    evidence=(Span(start, start + len(stripped), stripped),),
                )
            )
        position += len(line)
    return statements
