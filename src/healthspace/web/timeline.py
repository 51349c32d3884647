"""What the record pages show, computed from FHIR resources with no I/O: the timeline of a
person's record (dated entries, newest first, grouped by year), counts by type, and one
resource as readable key/value rows.

Why here and not in a template: which element dates a resource, which one names it and how a
nested resource flattens into rows are FHIR conventions a test should pin, not markup.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from healthspace.patient.medications import PATIENT_REPORTED, PROVENANCE_SYSTEM

Resource = dict[str, Any]

# The element that dates each kind of resource, first found wins. FHIR names these per type
# (Observation.effective[x], Immunization.occurrence[x], Encounter.period...), and the names
# do not clash across types, so one ordered list serves every type.
DATE_PATHS: tuple[tuple[str, ...], ...] = (
    ("effectiveDateTime",),
    ("effectiveInstant",),
    ("effectivePeriod", "start"),
    ("occurrenceDateTime",),
    ("performedDateTime",),
    ("performedPeriod", "start"),
    ("period", "start"),
    ("onsetDateTime",),
    ("onsetPeriod", "start"),
    ("authoredOn",),
    ("recordedDate",),
    ("dateAsserted",),
    ("issued",),
    ("date",),
    ("created",),
)

# The element that names each kind of resource, first found wins.
LABEL_PATHS: tuple[str, ...] = ("code", "medicationCodeableConcept", "vaccineCode", "type", "class")

# HL7 v3 ObservationInterpretation codes worth showing next to a value.
FLAGS = frozenset({"H", "HH", "HU", "L", "LL", "LU", "A", "AA", "N"})

# Types shown elsewhere on the page rather than as timeline events.
NOT_EVENTS = frozenset({"Patient"})


@dataclass(frozen=True)
class Quantity:
    value: float | int
    unit: str


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    resource_type: str
    fhir_id: str
    label: str
    date: str | None
    values: tuple[Quantity, ...] = ()
    flag: str | None = None
    # Entered by the person (or told to the assistant), shown apart from clinical records.
    patient_reported: bool = False

    @property
    def year(self) -> str | None:
        return self.date[:4] if self.date else None


@dataclass(frozen=True)
class YearGroup:
    year: str
    entries: list[Entry]


@dataclass(frozen=True)
class Timeline:
    years: list[YearGroup]
    undated: list[Entry]
    counts: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


def _at(resource: Resource, path: tuple[str, ...]) -> Any:
    value: Any = resource
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def event_date(resource: Resource) -> str | None:
    """The date the resource is about (when the sample was taken, the visit began...)."""
    for path in DATE_PATHS:
        value = _at(resource, path)
        if isinstance(value, str) and value:
            return value
    return None


def concept_text(concept: Any) -> str | None:
    """The words of a CodeableConcept or Coding: its text, else a coding's display or code."""
    if isinstance(concept, list):
        return next((t for t in map(concept_text, concept) if t), None)
    if not isinstance(concept, dict):
        return None
    if concept.get("text"):
        return str(concept["text"])
    if concept.get("display"):
        return str(concept["display"])
    codings = concept.get("coding") or []
    for coding in codings:
        if isinstance(coding, dict) and coding.get("display"):
            return str(coding["display"])
    for coding in codings:
        if isinstance(coding, dict) and coding.get("code"):
            return str(coding["code"])
    return str(concept["code"]) if isinstance(concept.get("code"), str) else None


def label(resource: Resource) -> str:
    """What the resource is, in the record's own words."""
    for key in LABEL_PATHS:
        text = concept_text(resource.get(key))
        if text:
            return text
    return str(resource.get("resourceType", "Resource"))


def _quantity(value: Any) -> Quantity | None:
    if isinstance(value, dict) and isinstance(value.get("value"), int | float):
        return Quantity(value["value"], str(value.get("unit") or value.get("code") or ""))
    return None


def quantities(resource: Resource) -> tuple[Quantity, ...]:
    """An Observation's measured values: its own, else its components' (a blood pressure
    panel carries systolic and diastolic as components and no value of its own)."""
    own = _quantity(resource.get("valueQuantity"))
    if own is not None:
        return (own,)
    found = [_quantity(c.get("valueQuantity")) for c in resource.get("component") or []]
    return tuple(q for q in found if q is not None)


@dataclass(frozen=True)
class ReferenceRange:
    low: Quantity | None
    high: Quantity | None
    text: str | None


def reference_range(resource: Resource) -> ReferenceRange | None:
    """The first reference range the lab printed, as bounds or as its own words."""
    for item in resource.get("referenceRange") or []:
        if not isinstance(item, dict):
            continue
        low, high = _quantity(item.get("low")), _quantity(item.get("high"))
        text = item.get("text") if isinstance(item.get("text"), str) else None
        if low or high or text:
            return ReferenceRange(low, high, text)
    return None


def flag(resource: Resource) -> str | None:
    """The lab's interpretation code (H, L, HH...), when it is one worth showing."""
    for concept in resource.get("interpretation") or []:
        for coding in concept.get("coding") or [] if isinstance(concept, dict) else []:
            code = coding.get("code") if isinstance(coding, dict) else None
            if code in FLAGS:
                return str(code)
    return None


def is_patient_reported(resource: Resource) -> bool:
    """Whether the person entered this item themselves (``meta.tag`` patient-reported)."""
    tags = (resource.get("meta") or {}).get("tag") or []
    return any(
        isinstance(t, dict)
        and t.get("system") == PROVENANCE_SYSTEM
        and t.get("code") == PATIENT_REPORTED
        for t in tags
    )


def entry(resource: Resource) -> Entry:
    return Entry(
        resource_type=str(resource.get("resourceType", "")),
        fhir_id=str(resource.get("id", "")),
        label=label(resource),
        date=event_date(resource),
        values=quantities(resource),
        flag=flag(resource),
        patient_reported=is_patient_reported(resource),
    )


def build_timeline(resources: Iterable[Resource], only_type: str | None = None) -> Timeline:
    """The record newest first, grouped by year; undated resources last; counts of all types.

    ``only_type`` narrows the entries, never the counts, so the reader still sees the whole.
    """
    resources = list(resources)
    counts = Counter(str(r.get("resourceType")) for r in resources)
    entries = [
        entry(r)
        for r in resources
        if r.get("resourceType") not in NOT_EVENTS
        and (only_type is None or r.get("resourceType") == only_type)
    ]
    # Newest first; within one moment, by type then name (two stable sorts).
    dated = sorted((e for e in entries if e.date), key=lambda e: (e.resource_type, e.label))
    dated.sort(key=lambda e: e.date or "", reverse=True)
    years: list[YearGroup] = []
    for item in dated:
        if not years or years[-1].year != item.year:
            years.append(YearGroup(str(item.year), []))
        years[-1].entries.append(item)
    undated = sorted((e for e in entries if not e.date), key=lambda e: (e.resource_type, e.label))
    return Timeline(years, undated, sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def humanize(key: str) -> str:
    """A FHIR element name in words: ``effectiveDateTime`` -> ``Effective date time``."""
    words = _WORD_BREAK.sub(" ", key).lower()
    return words[:1].upper() + words[1:]


# Code systems by the names clinicians use for them, to print "LOINC 1558-6" rather than a URL.
SYSTEM_NAMES = {
    "http://loinc.org": "LOINC",
    "http://snomed.info/sct": "SNOMED CT",
    "http://unitsofmeasure.org": "UCUM",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://www.whocc.no/atc": "ATC",
    "http://hl7.org/fhir/sid/cvx": "CVX",
}


@dataclass(frozen=True)
class Row:
    """One value of a resource: where it sits (element names in words) and the value."""

    path: tuple[str, ...]
    value: str | int | float | bool | Quantity


def readable_rows(resource: Resource) -> list[Row]:
    """The resource's values in document order, for reading rather than parsing: a Quantity
    is one row ("123 mg/dL") and a Coding one row ("Glucose (LOINC 1558-6)"); list positions
    are numbered from 1 only where a list holds more than one item."""
    return list(_rows(resource, ()))


def coding_text(coding: dict[str, Any]) -> str:
    """A Coding in one line: its display, then where the code comes from."""
    system = str(coding.get("system") or "")
    name = SYSTEM_NAMES.get(system)
    code = str(coding.get("code") or "")
    source = f"{name} {code}" if name else code
    display = coding.get("display")
    return f"{display} ({source})" if display else source


def _is_coding(value: dict[str, Any]) -> bool:
    return (
        isinstance(value.get("code"), str)
        and "system" in value
        and "value" not in value  # a Quantity also has system and code
        and all(not isinstance(v, dict | list) for v in value.values())
    )


def _rows(value: Any, path: tuple[str, ...]) -> Iterator[Row]:
    if isinstance(value, dict) and path and _is_coding(value):
        yield Row(path, coding_text(value))
    elif isinstance(value, dict) and path and (found := _quantity(value)) is not None:
        yield Row(path, found)
        for key, item in value.items():
            if key not in {"value", "unit", "code", "system"}:
                yield from _rows(item, (*path, humanize(key)))
    elif isinstance(value, dict):
        for key, item in value.items():
            if path == () and key == "resourceType":
                continue
            yield from _rows(item, (*path, humanize(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value, start=1):
            yield from _rows(item, (*path, str(index)) if len(value) > 1 else path)
    elif value is not None:
        yield Row(path, value)
