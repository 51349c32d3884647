"""A draft as statements with sources, and its storage as a FHIR R4 Composition.

Pure: no I/O. A draft is sections of statements; each statement carries where it comes from:
record resources ("Type/id" and the date the record gives), the clinician's own typed or
dictated text (with the spans it rests on), or nothing, in which case it ``needs_check``.

Storage (``to_composition`` / ``from_composition``): one Composition per draft, in the
person's own record.

* ``status``: ``preliminary`` while a draft; ``final`` once signed; ``amended`` for a signed
  document edited afterwards (that version must be signed again: an ``amended`` Composition
  with no legal attester is awaiting its signature);
* ``type``: the LOINC document code of the kind (``DOCUMENT_TYPES``) and, for every kind, the
  local code ``KIND_SYSTEM|kind`` that lists drafts by kind;
* ``author``: the account or actor that composed the draft, as a Reference with ``display`` and
  ``identifier`` (``ACTOR_SYSTEM|actor``): an account is not a FHIR Practitioner;
* ``attester``: one, mode ``legal``, with the time and the signer (same shape as the author);
* each section: narrative ``text`` (one ``<li>`` per statement, its id the statement's id),
  ``entry`` references to every record resource its statements rest on, and one
  ``STATEMENT_EXTENSION`` per statement (documented below).

``urn:healthspace:fhir:StructureDefinition/statement-source`` (on Composition.section, 0..*),
a complex extension, one per statement, in reading order. Sub-extensions:

======================  =========  ========  ===============================================
url                     type       card.     meaning
======================  =========  ========  ===============================================
``id``                  id         1..1      the statement's id, the ``<li id>`` of the text
``text``                string     1..1      the statement as written in the narrative
``origin``              code       1..1      ``record`` | ``clinician`` | ``none``
``source``              (complex)  0..*      a record resource: ``reference`` (Reference)
                                             and ``date`` (string, as the record writes it)
``evidence``            (complex)  0..*      a span of the clinician's text: ``start`` and
                                             ``end`` (integer), ``text`` (string)
``needsCheck``          boolean    1..1      true when the statement has no source at all
``confirmedBy``         string     0..1      the signer who confirmed an unsourced statement
``confirmedAt``         dateTime   0..1      when they confirmed it
======================  =========  ========  ===============================================
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Kind = Literal["soap", "discharge", "referral", "after_visit", "prior_auth"]
Origin = Literal["record", "clinician", "none"]
Language = Literal["en", "fr"]
KINDS: tuple[Kind, ...] = ("soap", "discharge", "referral", "after_visit", "prior_auth")

LOINC = "http://loinc.org"
KIND_SYSTEM = "urn:healthspace:fhir:CodeSystem/draft-kind"
ACTOR_SYSTEM = "urn:healthspace:actor"
STATEMENT_EXTENSION = "urn:healthspace:fhir:StructureDefinition/statement-source"
XHTML = "http://www.w3.org/1999/xhtml"

# LOINC document codes. The after-visit summary uses 34133-9 "Summary of episode note", the
# code of the C-CDA Continuity of Care Document that US "clinical summary after each office
# visit" rules ask for. No LOINC document code is known to us for a prior-authorization
# request letter: that kind carries the local code and its text only.
DOCUMENT_TYPES: dict[Kind, tuple[str, str] | None] = {
    "soap": ("11506-3", "Progress note"),
    "discharge": ("18842-5", "Discharge summary"),
    "referral": ("57133-1", "Referral note"),
    "after_visit": ("34133-9", "Summary of episode note"),
    "prior_auth": None,
}

DRAFT_STATUS = "preliminary"
SIGNED_STATUSES = frozenset({"final", "amended"})


@dataclass(frozen=True)
class Source:
    """A record resource a statement rests on."""

    resource: str  # "Type/id"
    date: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"resource": self.resource, "date": self.date}


@dataclass(frozen=True)
class Span:
    """An exact span of the clinician's text: ``text == given[start:end]``."""

    start: int
    end: int
    text: str

    def as_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True)
class Statement:
    id: str
    text: str
    origin: Origin
    sources: tuple[Source, ...] = ()
    evidence: tuple[Span, ...] = ()
    confirmed_by: str | None = None
    confirmed_at: str | None = None

    @property
    def needs_check(self) -> bool:
        """No record source and not the clinician's own words: someone must check it."""
        return self.origin == "none" or (self.origin == "record" and not self.sources)

    @property
    def unchecked(self) -> bool:
        return self.needs_check and self.confirmed_by is None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "origin": self.origin,
            "sources": [s.as_json() for s in self.sources],
            "evidence": [e.as_json() for e in self.evidence],
            "needs_check": self.needs_check,
            "confirmed_by": self.confirmed_by,
            "confirmed_at": self.confirmed_at,
        }


@dataclass(frozen=True)
class DraftSection:
    key: str
    title: str
    code: tuple[str, str] | None  # LOINC section code and display
    statements: tuple[Statement, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "code": self.code[0] if self.code else None,
            "statements": [s.as_json() for s in self.statements],
        }


@dataclass(frozen=True)
class Signature:
    party: str
    time: str

    def as_json(self) -> dict[str, Any]:
        return {"party": self.party, "time": self.time}


@dataclass(frozen=True)
class Draft:
    id: str
    kind: Kind
    title: str
    language: Language
    patient: str  # the Patient resource id
    author: str
    date: str
    status: str = DRAFT_STATUS
    encounter: str | None = None  # "Encounter/id"
    sections: tuple[DraftSection, ...] = ()
    signature: Signature | None = None

    @property
    def signed(self) -> bool:
        return self.status in SIGNED_STATUSES and self.signature is not None

    @property
    def statements(self) -> list[Statement]:
        return [s for section in self.sections for s in section.statements]

    def section(self, key: str) -> DraftSection | None:
        return next((s for s in self.sections if s.key == key), None)

    @property
    def state(self) -> str:
        """ "draft", "signed", or "awaiting_signature" (a signed document edited since)."""
        if self.signed:
            return "signed"
        return "awaiting_signature" if self.status in SIGNED_STATUSES else "draft"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "language": self.language,
            "status": self.status,
            "state": self.state,
            "author": self.author,
            "date": self.date,
            "encounter": self.encounter,
            "signature": self.signature.as_json() if self.signature else None,
            "needs_check": [s.id for s in self.statements if s.unchecked],
            "sections": [s.as_json() for s in self.sections],
        }


def numbered(sections: Iterable[DraftSection]) -> tuple[DraftSection, ...]:
    """The sections with statement ids s1, s2... in reading order (unique in the draft)."""
    out: list[DraftSection] = []
    number = 0
    for section in sections:
        statements = []
        for statement in section.statements:
            number += 1
            statements.append(replace(statement, id=f"s{number}"))
        out.append(replace(section, statements=tuple(statements)))
    return tuple(out)


# --------------------------------------------------------------------------- to FHIR


def _actor_reference(actor: str) -> dict[str, Any]:
    return {"display": actor, "identifier": {"system": ACTOR_SYSTEM, "value": actor}}


def _narrative(section: DraftSection) -> dict[str, str]:
    items = "".join(
        f'<li id="{s.id}">{html.escape(s.text)}'
        + (" <b>[to check]</b>" if s.unchecked else "")
        + "</li>"
        for s in section.statements
    )
    body = f"<ul>{items}</ul>" if items else "<p>Nothing recorded.</p>"
    return {"status": "generated", "div": f'<div xmlns="{XHTML}">{body}</div>'}


def _statement_extension(statement: Statement) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"url": "id", "valueId": statement.id},
        {"url": "text", "valueString": statement.text},
        {"url": "origin", "valueCode": statement.origin},
    ]
    for source in statement.sources:
        inner: list[dict[str, Any]] = [
            {"url": "reference", "valueReference": {"reference": source.resource}}
        ]
        if source.date:
            inner.append({"url": "date", "valueString": source.date})
        parts.append({"url": "source", "extension": inner})
    for span in statement.evidence:
        parts.append(
            {
                "url": "evidence",
                "extension": [
                    {"url": "start", "valueInteger": span.start},
                    {"url": "end", "valueInteger": span.end},
                    {"url": "text", "valueString": span.text},
                ],
            }
        )
    parts.append({"url": "needsCheck", "valueBoolean": statement.needs_check})
    if statement.confirmed_by:
        parts.append({"url": "confirmedBy", "valueString": statement.confirmed_by})
    if statement.confirmed_at:
        parts.append({"url": "confirmedAt", "valueDateTime": statement.confirmed_at})
    return {"url": STATEMENT_EXTENSION, "extension": parts}


def _section_resource(section: DraftSection) -> dict[str, Any]:
    out: dict[str, Any] = {"title": section.title}
    if section.statements:
        out["extension"] = [_statement_extension(s) for s in section.statements]
    if section.code:
        out["code"] = {
            "coding": [{"system": LOINC, "code": section.code[0], "display": section.code[1]}]
        }
    out["text"] = _narrative(section)
    refs = dict.fromkeys(src.resource for s in section.statements for src in s.sources)
    if refs:
        out["entry"] = [{"reference": ref} for ref in refs]
    # Healthspace's own key of the section, so an edit can name it ("--section plan").
    out["id"] = section.key.replace("_", "-")
    return out


def document_type(kind: Kind, label: str) -> dict[str, Any]:
    codings = []
    loinc = DOCUMENT_TYPES[kind]
    if loinc:
        codings.append({"system": LOINC, "code": loinc[0], "display": loinc[1]})
    codings.append({"system": KIND_SYSTEM, "code": kind})
    return {"coding": codings, "text": label}


def to_composition(draft: Draft, type_label: str) -> dict[str, Any]:
    """The draft as an R4 Composition (see the module docstring for the mapping)."""
    resource: dict[str, Any] = {
        "resourceType": "Composition",
        "id": draft.id,
        "language": draft.language,
        "status": draft.status,
        "type": document_type(draft.kind, type_label),
        "subject": {"reference": f"Patient/{draft.patient}"},
    }
    if draft.encounter:
        resource["encounter"] = {"reference": draft.encounter}
    resource["date"] = draft.date
    resource["author"] = [_actor_reference(draft.author)]
    resource["title"] = draft.title
    if draft.signature:
        resource["attester"] = [
            {
                "mode": "legal",
                "time": draft.signature.time,
                "party": _actor_reference(draft.signature.party),
            }
        ]
    resource["section"] = [_section_resource(s) for s in draft.sections]
    return resource


# --------------------------------------------------------------------------- from FHIR


def draft_kind(resource: Mapping[str, Any]) -> Kind | None:
    """The draft kind of a Composition Healthspace wrote, or None for any other Composition."""
    if resource.get("resourceType") != "Composition":
        return None
    for coding in (resource.get("type") or {}).get("coding") or []:
        if isinstance(coding, dict) and coding.get("system") == KIND_SYSTEM:
            code = coding.get("code")
            for kind in KINDS:
                if kind == code:
                    return kind
    return None


def _sub(extension: Mapping[str, Any], url: str) -> list[Mapping[str, Any]]:
    return [e for e in extension.get("extension") or [] if e.get("url") == url]


def _value(extension: Mapping[str, Any], url: str, key: str) -> Any:
    found = _sub(extension, url)
    return found[0].get(key) if found else None


def _statement(extension: Mapping[str, Any]) -> Statement:
    origin = _value(extension, "origin", "valueCode")
    sources = tuple(
        Source(
            str((_value(s, "reference", "valueReference") or {}).get("reference")),
            _value(s, "date", "valueString"),
        )
        for s in _sub(extension, "source")
    )
    evidence = tuple(
        Span(
            int(_value(e, "start", "valueInteger")),
            int(_value(e, "end", "valueInteger")),
            str(_value(e, "text", "valueString")),
        )
        for e in _sub(extension, "evidence")
    )
    return Statement(
        id=str(_value(extension, "id", "valueId")),
        text=str(_value(extension, "text", "valueString")),
        origin=origin if origin in ("record", "clinician") else "none",
        sources=sources,
        evidence=evidence,
        confirmed_by=_value(extension, "confirmedBy", "valueString"),
        confirmed_at=_value(extension, "confirmedAt", "valueDateTime"),
    )


def _actor(reference: Any) -> str:
    if isinstance(reference, dict):
        identifier = reference.get("identifier") or {}
        return str(identifier.get("value") or reference.get("display") or "")
    return ""


def from_composition(resource: Mapping[str, Any]) -> Draft:
    """The draft a Composition written by ``to_composition`` holds."""
    kind = draft_kind(resource)
    if kind is None:
        raise ValueError("not a Healthspace draft")
    sections = []
    for section in resource.get("section") or []:
        code = ((section.get("code") or {}).get("coding") or [None])[0]
        statements = tuple(
            _statement(e)
            for e in section.get("extension") or []
            if e.get("url") == STATEMENT_EXTENSION
        )
        sections.append(
            DraftSection(
                key=str(section.get("id") or "").replace("-", "_"),
                title=str(section.get("title") or ""),
                code=(str(code["code"]), str(code.get("display") or "")) if code else None,
                statements=statements,
            )
        )
    attesters = [a for a in resource.get("attester") or [] if a.get("mode") == "legal"]
    signature = (
        Signature(_actor(attesters[-1].get("party")), str(attesters[-1].get("time")))
        if attesters
        else None
    )
    encounter = (resource.get("encounter") or {}).get("reference")
    language = resource.get("language")
    return Draft(
        id=str(resource["id"]),
        kind=kind,
        title=str(resource.get("title") or ""),
        language="fr" if language == "fr" else "en",
        patient=str((resource.get("subject") or {}).get("reference", "")).removeprefix("Patient/"),
        author=_actor((resource.get("author") or [None])[0]),
        date=str(resource.get("date") or ""),
        status=str(resource.get("status") or DRAFT_STATUS),
        encounter=str(encounter) if encounter else None,
        sections=tuple(sections),
        signature=signature,
    )


@dataclass(frozen=True)
class Composed:
    """What a composer returns: the sections and the context the draft needs."""

    title: str
    sections: tuple[DraftSection, ...]
    encounter: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
