"""Coding a person's record: the problem list and notes checked against suggested codes, and
lab results without a LOINC code given one.

``code_person`` reads the person's Condition resources (their code's text or display) and notes
(DocumentReference text attachments, Composition and resource narratives), suggests codes for
each, and says per condition whether the code already there agrees: a SNOMED-only Synthea
condition gets ICD-10-CM suggestions with their evidence. ``map_person_labs`` groups the
Observations whose code has no LOINC coding by local name and unit and suggests LOINC codes.
Both read the vault through its audited API; the logic stays in pure functions below.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from healthspace.bootstrap import Healthspace
from healthspace.coding import MAX_TEXT_CHARS, CodingRequestError, needs_snomed
from healthspace.coding.icd10_coder import CodeSuggestion, load_icd10_coder
from healthspace.coding.snomed_coder import SnomedCoder, SnomedSuggestion
from healthspace.terminology.icd10cm import SYSTEM_URI as ICD10CM_URI
from healthspace.terminology.loinc_map import LoincMapper, LoincSuggestion, load_loinc_mapper
from healthspace.terminology.snomed import SnomedNotLoadedError, SnomedStore

SNOMED_URI = "http://snomed.info/sct"
LOINC_URI = "http://loinc.org"
_SYSTEM_NAMES = {
    ICD10CM_URI: "icd10cm",
    "http://hl7.org/fhir/sid/icd-10": "icd10",
    SNOMED_URI: "snomed",
    LOINC_URI: "loinc",
}
_TAGS = re.compile(r"<[^>]+>")
_SEMANTIC_TAG_SUFFIX = re.compile(r"\s*\((?:disorder|finding|situation|event|procedure)\)\s*$")

Agreement = Literal["agrees", "same_category", "related", "differs", "uncoded", "no_suggestion"]


@dataclass(frozen=True, slots=True)
class ExistingCode:
    system: str  # short name ("icd10cm", "snomed", ...) or the system URI when unknown
    code: str
    display: str | None

    def as_json(self) -> dict[str, Any]:
        return {"system": self.system, "code": self.code, "display": self.display}


Suggestion = CodeSuggestion | SnomedSuggestion


@dataclass
class CodedItem:
    """One condition or note, its codes and what the coder suggests for it."""

    resource: str
    kind: Literal["condition", "note"]
    text: str
    date: str | None
    existing: list[ExistingCode]
    suggestions: list[Suggestion]
    agreement: dict[str, Agreement] = field(default_factory=dict)
    mapped_icd10cm: list[str] = field(default_factory=list)
    not_on_problem_list: list[str] = field(default_factory=list)
    truncated: bool = False

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "resource": self.resource,
            "kind": self.kind,
            "text": self.text,
            "date": self.date,
            "existing": [e.as_json() for e in self.existing],
            "suggestions": [s.as_json() for s in self.suggestions],
            "agreement": self.agreement,
        }
        if self.kind == "condition":
            data["mapped_icd10cm"] = self.mapped_icd10cm
        else:
            data["not_on_problem_list"] = self.not_on_problem_list
            data["truncated"] = self.truncated
        return data


# --- reading resources (pure) --------------------------------------------------------------


def existing_codes(concept: dict[str, Any] | None) -> list[ExistingCode]:
    """The codings of a CodeableConcept, systems given short names."""
    codes = []
    for coding in (concept or {}).get("coding") or []:
        code = coding.get("code")
        if not isinstance(code, str) or not code:
            continue
        system = coding.get("system") or ""
        codes.append(ExistingCode(_SYSTEM_NAMES.get(system, system), code, coding.get("display")))
    return codes


def condition_text(condition: dict[str, Any]) -> str:
    """What a condition says in words: its code's text, else the first display, without a
    SNOMED CT semantic tag ("Prediabetes (finding)" → "Prediabetes")."""
    concept = condition.get("code") or {}
    text = concept.get("text")
    if not isinstance(text, str) or not text.strip():
        text = next((c.get("display") for c in concept.get("coding") or [] if c.get("display")), "")
    return _SEMANTIC_TAG_SUFFIX.sub("", str(text)).strip()


def _narrative(resource: dict[str, Any]) -> str:
    div = (resource.get("text") or {}).get("div")
    return _plain_text(div) if isinstance(div, str) else ""


def _plain_text(xhtml: str) -> str:
    spaced = re.sub(r"<(?:br|/p|/div|/li|/tr|/h\d)\b[^>]*>", "\n", xhtml, flags=re.IGNORECASE)
    return html.unescape(_TAGS.sub(" ", spaced)).strip()


def _attachment_text(attachment: dict[str, Any]) -> str:
    content_type = str(attachment.get("contentType") or "")
    data = attachment.get("data")
    if not isinstance(data, str) or not content_type.startswith(("text/", "application/xhtml")):
        return ""
    try:
        raw = base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError):
        return ""
    text = raw.decode("utf-8", errors="replace")
    return _plain_text(text) if "html" in content_type else text


def note_text(resource: dict[str, Any]) -> str:
    """The readable text of a note: text attachments, section narratives, the narrative."""
    parts: list[str] = []
    kind = resource.get("resourceType")
    if kind == "DocumentReference":
        for content in resource.get("content") or []:
            parts.append(_attachment_text(content.get("attachment") or {}))
        if resource.get("description"):
            parts.append(str(resource["description"]))
    elif kind == "Composition":
        for section in _sections(resource.get("section") or []):
            title = section.get("title")
            body = _narrative(section)
            if body:
                parts.append(f"{title}:\n{body}" if title else body)
    if not any(parts):
        parts.append(_narrative(resource))
    return "\n\n".join(p for p in parts if p).strip()


def _sections(sections: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for section in sections:
        yield section
        yield from _sections(section.get("section") or [])


def _date(resource: dict[str, Any]) -> str | None:
    for key in ("onsetDateTime", "recordedDate", "date", "effectiveDateTime", "issued"):
        value = resource.get(key)
        if isinstance(value, str):
            return value
    return None


# --- agreement (pure) ----------------------------------------------------------------------


def icd_agreement(existing: Sequence[str], suggested: Sequence[str]) -> Agreement:
    """Whether the ICD-10-CM codes already there agree with the suggested ones."""
    if not suggested:
        return "no_suggestion"
    if not existing:
        return "uncoded"
    plain_existing = {_plain(c) for c in existing}
    plain_suggested = {_plain(c) for c in suggested}
    if plain_existing & plain_suggested:
        return "agrees"
    if {c[:3] for c in plain_existing} & {c[:3] for c in plain_suggested}:
        return "same_category"
    return "differs"


def _plain(code: str) -> str:
    return code.replace(".", "").strip().upper()


def snomed_agreement(
    existing: Sequence[str], suggested: Sequence[str], store: SnomedStore
) -> Agreement:
    """Whether the SNOMED CT codes there agree: the same concept, or one a kind of the other."""
    if not suggested:
        return "no_suggestion"
    if not existing:
        return "uncoded"
    if set(existing) & set(suggested):
        return "agrees"
    for there in existing:
        if not store.has(there):
            continue
        for concept in suggested:
            if store.is_a(there, concept) or store.is_a(concept, there):
                return "related"
    return "differs"


# --- services ------------------------------------------------------------------------------


@dataclass
class PersonCoding:
    person: str
    system: str
    snomed_map: bool
    items: list[CodedItem]

    def as_json(self) -> dict[str, Any]:
        counts: dict[str, int] = {"conditions": 0, "notes": 0}
        for item in self.items:
            counts["conditions" if item.kind == "condition" else "notes"] += 1
            for system, verdict in item.agreement.items():
                key = f"{system}_{verdict}"
                counts[key] = counts.get(key, 0) + 1
        return {
            "person": self.person,
            "system": self.system,
            "snomed_map": self.snomed_map,
            "counts": counts,
            "items": [i.as_json() for i in self.items],
        }


def code_person(
    hs: Healthspace,
    actor: str,
    person: str,
    system: str = "icd10cm",
    snomed_store: SnomedStore | None = None,
    cache_dir: Path | None = None,
) -> PersonCoding:
    """Suggestions for each condition and note of a person, with agreement per condition.

    ``cache_dir`` keeps the ICD-10-CM fast copy between processes (the data folder's cache)."""
    if system not in ("icd10cm", "snomed", "all"):
        raise CodingRequestError(
            f"Coding system '{system}' is not supported; use icd10cm, snomed or all."
        )
    if needs_snomed(system) and snomed_store is None:
        raise SnomedNotLoadedError()
    conditions = hs.vault.resources(actor, person, "Condition")
    notes = [
        *hs.vault.resources(actor, person, "DocumentReference"),
        *hs.vault.resources(actor, person, "Composition"),
    ]
    coder = load_icd10_coder(cache_dir)
    snomed = SnomedCoder.for_store(snomed_store) if snomed_store is not None else None
    items: list[CodedItem] = []
    problem_codes: set[str] = set()
    for condition in conditions:
        item = _code_condition(condition, coder, snomed, system)
        items.append(item)
        problem_codes |= {_plain(e.code) for e in item.existing if e.system == "icd10cm"}
        problem_codes |= {_plain(c) for c in item.mapped_icd10cm}
        problem_codes |= {e.code for e in item.existing if e.system == "snomed"}
    for note in notes:
        coded_note = _code_note(note, coder, snomed, system, problem_codes)
        if coded_note is not None:
            items.append(coded_note)
    items.sort(key=lambda i: (i.kind != "condition", i.date or "", i.resource))
    has_map = snomed is not None and snomed.icd_map is not None
    return PersonCoding(person, system, has_map, items)


def _suggestions(
    text: str, coder: Any, snomed: SnomedCoder | None, system: str, include_all: bool
) -> list[Suggestion]:
    spans: list[CodeSuggestion] = coder.suggest(text, include_all=include_all)
    concepts: list[SnomedSuggestion] = (
        snomed.suggest(spans) if snomed and system != "icd10cm" else []
    )
    if system == "snomed":
        return list(concepts)
    if system == "icd10cm":
        return list(spans)
    return [*spans, *concepts]


def _code_condition(
    condition: dict[str, Any], coder: Any, snomed: SnomedCoder | None, system: str
) -> CodedItem:
    text = condition_text(condition)
    existing = existing_codes(condition.get("code"))
    spans: list[CodeSuggestion] = coder.suggest(text, include_all=True) if text else []
    item = CodedItem(
        resource=f"Condition/{condition.get('id')}",
        kind="condition",
        text=text,
        date=_date(condition),
        existing=existing,
        suggestions=[],
    )
    concepts = snomed.suggest(spans) if snomed is not None else []
    existing_icd = [e.code for e in existing if e.system == "icd10cm"]
    existing_sct = [e.code for e in existing if e.system == "snomed"]
    if snomed is not None:
        item.mapped_icd10cm = list(
            dict.fromkeys(code for c in existing_sct for code in snomed.icd_codes_for(c))
        )
    if system in ("icd10cm", "all"):
        item.suggestions.extend(spans)
        # Without an ICD-10-CM code, the release's map of the SNOMED CT code stands in for it.
        compared = existing_icd or item.mapped_icd10cm
        verdict = icd_agreement(compared, [s.code for s in spans])
        item.agreement["icd10cm"] = verdict
    if system in ("snomed", "all") and snomed is not None:
        item.suggestions.extend(concepts)
        item.agreement["snomed"] = snomed_agreement(
            existing_sct, [c.code for c in concepts], snomed.store
        )
    return item


def _code_note(
    note: dict[str, Any],
    coder: Any,
    snomed: SnomedCoder | None,
    system: str,
    problem_codes: set[str],
) -> CodedItem | None:
    text = note_text(note)
    if not text:
        return None
    truncated = len(text) > MAX_TEXT_CHARS
    text = text[:MAX_TEXT_CHARS]
    suggestions = _suggestions(text, coder, snomed, system, include_all=False)
    missing = [
        s.code
        for s in suggestions
        if (_plain(s.code) if s.system == "icd10cm" else s.code) not in problem_codes
    ]
    title = note.get("description") or note.get("title") or ""
    return CodedItem(
        resource=f"{note.get('resourceType')}/{note.get('id')}",
        kind="note",
        text=str(title),
        date=_date(note),
        existing=[],
        suggestions=suggestions,
        not_on_problem_list=list(dict.fromkeys(missing)),
        truncated=truncated,
    )


# --- LOINC for local lab codes -------------------------------------------------------------


@dataclass
class LocalLab:
    """Results of one local test (same name, unit and specimen) that carry no LOINC code."""

    name: str
    unit: str | None
    specimen: str | None
    local_codes: list[ExistingCode]
    resources: list[str]
    suggestions: list[LoincSuggestion]

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "specimen": self.specimen,
            "local_codes": [c.as_json() for c in self.local_codes],
            "count": len(self.resources),
            "resources": self.resources,
            "suggestions": [s.as_json() for s in self.suggestions],
        }


def observation_unit(observation: dict[str, Any]) -> str | None:
    quantity = observation.get("valueQuantity") or {}
    unit = quantity.get("unit") or quantity.get("code")
    return str(unit) if unit else None


def observation_name(observation: dict[str, Any]) -> str:
    concept = observation.get("code") or {}
    text = concept.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    for coding in concept.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"]).strip()
    for coding in concept.get("coding") or []:
        if coding.get("code"):
            return str(coding["code"]).strip()
    return ""


def has_loinc(observation: dict[str, Any]) -> bool:
    codings = (observation.get("code") or {}).get("coding") or []
    return any(c.get("system") == LOINC_URI and c.get("code") for c in codings)


def group_local_labs(
    observations: Iterable[dict[str, Any]], mapper: LoincMapper, limit: int = 3
) -> list[LocalLab]:
    """The Observations without a LOINC code, by local name, unit and specimen, each group
    with its LOINC suggestions."""
    groups: dict[tuple[str, str | None, str | None], LocalLab] = {}
    for observation in observations:
        if has_loinc(observation):
            continue
        name = observation_name(observation)
        if not name:
            continue
        unit = observation_unit(observation)
        specimen_ref = observation.get("specimen") or {}
        specimen = specimen_ref.get("display") if isinstance(specimen_ref, dict) else None
        key = (name, unit, specimen)
        group = groups.get(key)
        if group is None:
            group = LocalLab(
                name=name,
                unit=unit,
                specimen=specimen,
                local_codes=existing_codes(observation.get("code")),
                resources=[],
                suggestions=mapper.map(name[:500], unit, specimen, limit=limit),
            )
            groups[key] = group
        group.resources.append(f"Observation/{observation.get('id')}")
    return sorted(groups.values(), key=lambda g: (g.name.casefold(), g.unit or ""))


def map_person_labs(hs: Healthspace, actor: str, person: str, limit: int = 3) -> dict[str, Any]:
    """LOINC suggestions for a person's lab results that have no LOINC code."""
    observations = hs.vault.resources(actor, person, "Observation")
    groups = group_local_labs(observations, load_loinc_mapper(), limit)
    return {
        "person": person,
        "observations": len(observations),
        "without_loinc": sum(len(g.resources) for g in groups),
        "tests": [g.as_json() for g in groups],
    }
