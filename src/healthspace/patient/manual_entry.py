"""Entering one's own data by hand: a lab result, a medicine, an allergy, a condition, a vaccine.

What a person (or their carer) types becomes a patient-reported FHIR R4 resource of their own
record, told apart from what a clinician or a lab recorded:

* ``meta.tag`` ``urn:healthspace:provenance|patient-reported`` (the tag ``memory`` writes,
  so ``memory.is_memory`` and ``memory.forget`` apply), ``meta.source``
  ``urn:healthspace:entered-by:<actor>`` and an ``entered`` extension with who typed it and
  when (``meta.lastUpdated`` is the vault's);
* the Patient as ``performer`` (Observation), ``informationSource`` (MedicationStatement),
  ``recorder`` and ``asserter`` (AllergyIntolerance, Condition); an Immunization says it
  with ``primarySource`` false and ``reportOrigin`` "recall" (the patient did not give it);
* what the person cannot vouch for stays open: an allergy is ``unconfirmed``, a condition
  ``provisional``.

Lab results (Observation): the LOINC code of the catalog's test, the value and unit exactly as
typed (``valueQuantity.unit``) with the UCUM code the catalog knows for it, category laboratory,
and the catalog's reference range (for the person's sex and age, in the typed unit) when the
person gave none, so ``patient/labs.py`` charts and flags it like a lab's result.

Correcting: an item the person entered is replaced in place (same id; the vault keeps the
older version). A clinician's or lab's item is never changed here: a correction is a new
patient-reported item pointing to it (``Observation.derivedFrom``, else the ``corrects``
extension), shown as "you said".

Find, then act (STYLE.md §2): ``check_entry`` parses and validates (pure, every problem with
the field it belongs to), ``build_entry`` makes the resource (pure), ``save_entry`` writes it
through ``import_uploads`` (validated, audited, one transaction).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any, Literal, get_args
from urllib.parse import quote, unquote

import orjson

from healthspace.bootstrap import Healthspace
from healthspace.errors import HealthspaceError, NotFoundError
from healthspace.knowledge.citations import Names
from healthspace.patient import entry_terms
from healthspace.patient.entry_terms import Icd10Source, Term
from healthspace.patient.labs import PersonFacts, person_facts, round_significant
from healthspace.patient.medications import PATIENT_REPORTED, PROVENANCE_SYSTEM
from healthspace.patient.memory import forget, is_memory
from healthspace.terminology.labs import (
    LabTest,
    canonical_unit,
    convert,
    known_units,
    load_lab_catalog,
    reference_range,
)

EntryKind = Literal["lab", "medicine", "allergy", "condition", "vaccine"]
ENTRY_KINDS: tuple[EntryKind, ...] = get_args(EntryKind)
Language = Literal["en", "fr"]

RESOURCE_TYPES: dict[EntryKind, str] = {
    "lab": "Observation",
    "medicine": "MedicationStatement",
    "allergy": "AllergyIntolerance",
    "condition": "Condition",
    "vaccine": "Immunization",
}
KIND_OF_TYPE = {resource_type: kind for kind, resource_type in RESOURCE_TYPES.items()}
TERM_KINDS: dict[EntryKind, entry_terms.Kind] = {
    "lab": "lab",
    "medicine": "medicine",
    "allergy": "allergen",
    "condition": "condition",
    "vaccine": "vaccine",
}
STATUSES: dict[EntryKind, tuple[str, ...]] = {
    "medicine": ("active", "stopped"),
    "condition": ("active", "resolved"),
}
CRITICALITIES = ("low", "high", "unable-to-assess")

ENTERED_BY = "urn:healthspace:entered-by:"
ENTERED_URL = "urn:healthspace:fhir:StructureDefinition/entered"
CORRECTS_URL = "urn:healthspace:fhir:StructureDefinition/corrects"
UCUM = "http://unitsofmeasure.org"
_OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
_ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
_CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
_IMMUNIZATION_ORIGIN = "http://terminology.hl7.org/CodeSystem/immunization-origin"
# The reference range text that marks a range Healthspace added from its catalog (not typed).
CATALOG_RANGE_TEXT = "Healthspace catalog"
_NAMESPACE = uuid.UUID("0b7f6c52-3f0e-4f7c-9d55-2b8f61a4e0d3")
MAX_TEXT = 500
MAX_NAME = 200
_VALUE = re.compile(r"^(<=|>=|≤|≥|<|>)?\s*([+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+))$")
_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_MONTH_YEAR = re.compile(r"^(\d{1,2})[/.](\d{4})$")
_COMPARATORS = {"≤": "<=", "≥": ">="}
_REF = re.compile(
    r"^(Observation|MedicationStatement|AllergyIntolerance|Condition|Immunization)/"
    r"([A-Za-z0-9\-.]{1,64})$"
)


# --------------------------------------------------------------------------- phrases


@cache
def _phrases() -> dict[str, Any]:
    text = (
        resources.files("healthspace.patient")
        .joinpath("data/entry_phrases.json")
        .read_text("utf-8")
    )
    data: dict[str, Any] = json.loads(text)
    return data


def say(key: str, lang: Language, **values: Any) -> str:
    """A message of ``entry_phrases.json`` in ``lang``, filled in."""
    return str(_phrases()[key][lang]).format(**values)


def what(kind: EntryKind, lang: Language) -> str:
    """The kind of entry in words ("lab test", "analyse")."""
    return str(_phrases()["what"][kind][lang])


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Choice:
    """A term the person may have meant, for a "did you mean" choice."""

    code: str
    display: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "display": self.display}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the form, with the field it belongs to."""

    field: str
    message: str
    choices: tuple[Choice, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "message": self.message,
            "choices": [c.as_json() for c in self.choices],
        }


class EntryInvalidError(HealthspaceError):
    """What was typed cannot be stored as it is; each problem names its field. Nothing stored."""

    http_status = 422

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(" ".join(f"{p.field}: {p.message}" for p in problems))

    def for_field(self, name: str) -> Problem | None:
        return next((p for p in self.problems if p.field == name), None)


class NotEnteredError(HealthspaceError):
    """A clinician's or lab's item: it is never edited or deleted from here."""

    http_status = 409


class NoPatientError(HealthspaceError):
    """The record has no Patient resource for the entry to point to."""

    http_status = 409


class _FieldError(ValueError):
    """A parser's refusal: the message key and its values, worded later in a language."""

    def __init__(self, key: str, **values: Any) -> None:
        self.key = key
        self.values = values
        super().__init__(key)


# --------------------------------------------------------------------------- parsers


def parse_value(text: str) -> tuple[str | None, Decimal]:
    """A result as typed: "5.4", "5,4" (decimal comma), "< 0.5" → (comparator, number)."""
    cleaned = text.strip().replace("\u00a0", " ")
    if not cleaned:
        raise _FieldError("value_required")
    match = _VALUE.match(cleaned[:40])
    if match is None or len(cleaned) > 40:
        raise _FieldError("value_not_number", value=cleaned[:40])
    comparator, digits = match.groups()
    try:
        number = Decimal(digits.replace(",", "."))
    except InvalidOperation as error:  # pragma: no cover - the pattern admits only numbers
        raise _FieldError("value_not_number", value=cleaned[:40]) from error
    if comparator:
        comparator = _COMPARATORS.get(comparator, comparator)
    return comparator, number


def parse_date(text: str, today: date) -> str | None:
    """A date as a person writes it, as FHIR writes it: "31/05/2024" (day first) or
    "2024-05-31" → "2024-05-31"; "05/2024" or "2024-05" → "2024-05"; "2024". Empty → None.
    A date after ``today`` is refused: this is about what already happened."""
    cleaned = text.strip()
    if not cleaned:
        return None
    year = month = day = None
    if match := _ISO_DATE.match(cleaned):
        year, month, day = match.groups()
    elif match := _DAY_FIRST.match(cleaned):
        day, month, year = match.groups()
    elif match := _MONTH_YEAR.match(cleaned):
        month, year = match.groups()
    else:
        raise _FieldError("date_not_valid", value=cleaned[:40])
    try:
        first = date(int(year), int(month or 1), int(day or 1))
    except ValueError as error:
        raise _FieldError("date_not_valid", value=cleaned[:40]) from error
    if first.year < 1900:
        raise _FieldError("date_not_valid", value=cleaned[:40])
    if first > today:
        raise _FieldError("date_future", date=cleaned[:40])
    if day:
        return first.isoformat()
    if month:
        return f"{first.year:04d}-{first.month:02d}"
    return f"{first.year:04d}"


def parse_unit(text: str, lab: LabTest) -> str | None:
    """The UCUM code of a unit typed for ``lab`` ("mmol/l" → "mmol/L"); None for a unitless
    test. A unit the catalog does not know for this test is refused with the accepted ones."""
    accepted = known_units(lab)
    cleaned = text.strip()
    if not accepted:
        if cleaned:
            raise _FieldError("unit_none", test=lab.name.en)
        return None
    if not cleaned:
        raise _FieldError("unit_required", test=lab.name.en, units=", ".join(accepted))
    wanted = canonical_unit(cleaned).casefold()
    for unit in accepted:
        if unit.casefold() == wanted:
            return unit
    raise _FieldError(
        "unit_not_valid", unit=cleaned[:40], test=lab.name.en, units=", ".join(accepted)
    )


# --------------------------------------------------------------------------- the form


@dataclass(frozen=True)
class EntryForm:
    """What the person typed, field by field, as text (a form, the CLI, an API body)."""

    kind: EntryKind
    name: str = ""
    code: str = ""  # the code of a suggestion picked from the list
    value: str = ""
    unit: str = ""
    date: str = ""
    end_date: str = ""
    status: str = ""
    dosage: str = ""
    reaction: str = ""
    criticality: str = ""
    low: str = ""
    high: str = ""
    note: str = ""

    def as_json(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass(frozen=True)
class CheckedEntry:
    """A form that passed every check, with what it names and its parsed values."""

    form: EntryForm
    term: Term
    date: str | None = None
    end_date: str | None = None
    comparator: str | None = None
    value: Decimal | None = None
    ucum: str | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    status: str | None = None

    @property
    def lab(self) -> LabTest | None:
        found = load_lab_catalog().lab(self.term.code) if self.term.kind == "lab" else None
        return found


def _choices(terms: tuple[Term, ...], lang: Language) -> tuple[Choice, ...]:
    return tuple(Choice(t.code, t.label(lang)) for t in terms[:8])


def _name_problem(
    form: EntryForm, lang: Language, icd10: Icd10Source | None
) -> tuple[Term | None, Problem | None]:
    kind_words = what(form.kind, lang)
    name = form.name.strip()
    if not name and not form.code.strip():
        return None, Problem("name", say("name_required", lang, what=kind_words))
    if len(name) > MAX_NAME:
        return None, Problem("name", say("too_long", lang, n=MAX_NAME))
    found = entry_terms.resolve(TERM_KINDS[form.kind], name, form.code or None, icd10, lang)
    if found.term is not None:
        return found.term, None
    choices = _choices(found.choices, lang)
    listed = ", ".join(c.display for c in choices[:5])
    exact = entry_terms.vocabulary(TERM_KINDS[form.kind]).exact.get(entry_terms.term_key(name))
    if exact:
        message = say("name_ambiguous", lang, name=name, choices=listed)
    elif choices:
        message = say("name_unknown", lang, name=name, what=kind_words, choices=listed)
    else:
        message = say("name_unknown_none", lang, name=name, what=kind_words)
    return None, Problem("name", message, choices)


def check_entry(
    form: EntryForm,
    lang: Language = "en",
    today: date | None = None,
    icd10: Icd10Source | None = None,
) -> CheckedEntry:
    """Every check of a form at once; raises EntryInvalidError listing each problem."""
    today = today or date.today()
    problems: list[Problem] = []

    def attempt(field_name: str, parse: Any, *args: Any) -> Any:
        try:
            return parse(*args)
        except _FieldError as error:
            problems.append(Problem(field_name, say(error.key, lang, **error.values)))
            return None

    term, name_problem = _name_problem(form, lang, icd10)
    if name_problem is not None:
        problems.append(name_problem)
    elif term is not None and not _names_term(form.name, term, bool(form.code.strip())):
        # Picked from "did you mean" ("hémo" typed) or given as a code ("E11.9"): keep its name.
        form = replace(form, name=term.label(lang))
    for text_field in ("dosage", "reaction", "note"):
        if len(getattr(form, text_field)) > MAX_TEXT:
            problems.append(Problem(text_field, say("too_long", lang, n=MAX_TEXT)))
    when = attempt("date", parse_date, form.date, today)
    if form.kind in ("lab", "vaccine") and not form.date.strip():
        problems.append(Problem("date", say("date_required", lang)))
    end = attempt("end_date", parse_date, form.end_date, today)
    if when and end and end < when:
        problems.append(Problem("end_date", say("end_before_start", lang)))
    status = form.status.strip() or None
    allowed = STATUSES.get(form.kind)
    if allowed is not None:
        if status is None:
            status = allowed[1] if end else allowed[0]
        if status not in allowed:
            problems.append(
                Problem("status", say("status_not_valid", lang, choices=", ".join(allowed)))
            )
    if form.criticality.strip() and form.criticality.strip() not in CRITICALITIES:
        listed = ", ".join(CRITICALITIES)
        problems.append(Problem("criticality", say("status_not_valid", lang, choices=listed)))
    checked = CheckedEntry(form, term or _NO_TERM, when, end, status=status)
    if form.kind == "lab":
        checked = _check_lab(checked, term, lang, problems, attempt)
    if problems:
        raise EntryInvalidError(problems)
    return checked


def _names_term(name: str, term: Term, picked: bool) -> bool:
    """Whether the words typed name the term (rather than being its code, or a few letters)."""
    key = entry_terms.term_key(name)
    if not key or key == entry_terms.term_key(term.code):
        return False
    if not picked:
        return True  # resolved from the words themselves ("Doliprane 1000")
    return any(entry_terms.term_key(n) == key for n, lang in term.names if lang is not None)


_NO_TERM = Term("lab", "", "", Names(en="?", fr="?"), ())


def _check_lab(
    checked: CheckedEntry,
    term: Term | None,
    lang: Language,
    problems: list[Problem],
    attempt: Any,
) -> CheckedEntry:
    form = checked.form
    parsed = attempt("value", parse_value, form.value)
    comparator, number = parsed if parsed else (None, None)
    lab = load_lab_catalog().lab(term.code) if term is not None else None
    ucum = attempt("unit", parse_unit, form.unit, lab) if lab is not None else None
    low = high = None
    if form.low.strip() or form.high.strip():
        try:
            low = parse_value(form.low)[1] if form.low.strip() else None
            high = parse_value(form.high)[1] if form.high.strip() else None
        except _FieldError:
            problems.append(Problem("low", say("range_not_valid", lang)))
        if low is not None and high is not None and low >= high:
            problems.append(Problem("low", say("range_not_valid", lang)))
    return replace(checked, comparator=comparator, value=number, ucum=ucum, low=low, high=high)


# --------------------------------------------------------------------------- resources


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)


def _concept(term: Term, typed: str) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    codings = [{"system": s, "code": c, "display": d} for s, c, d in term.codings]
    if codings:
        concept["coding"] = codings
    concept["text"] = typed.strip() or term.display.en
    return concept


def entered_by(actor: str) -> str:
    """``meta.source`` of an entry: the actor who typed it, as a URI."""
    return ENTERED_BY + quote(actor, safe=":@")


def _quantity(value: Decimal | float, unit_text: str, ucum: str | None) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": _number(Decimal(str(value)))}
    if unit_text:
        quantity["unit"] = unit_text
    if ucum:
        quantity.update(system=UCUM, code=ucum)
    return quantity


def _catalog_range(
    lab: LabTest, ucum: str | None, unit_text: str, facts: PersonFacts, when: str | None
) -> dict[str, Any] | None:
    """The catalog's range for this person, converted to the unit the person typed."""
    day = date.fromisoformat(when) if when and len(when) == 10 else None
    found = reference_range(lab, facts.sex, facts.age_on(day))
    if found is None or ucum is None:
        return None
    bounds: dict[str, Any] = {}
    for name, bound in (("low", found.low), ("high", found.high)):
        if bound is not None:
            converted = round_significant(convert(bound, found.unit, ucum, lab))
            bounds[name] = _quantity(converted, unit_text, ucum)
    catalog = load_lab_catalog()
    source = catalog.sources.get(found.source)
    title = f": {source.publisher}, {source.title}" if source else ""
    return {**bounds, "text": f"{CATALOG_RANGE_TEXT}{title}"}


def build_entry(
    checked: CheckedEntry,
    fhir_id: str,
    patient_id: str,
    actor: str,
    now: datetime,
    facts: PersonFacts | None = None,
    corrects: str | None = None,
) -> dict[str, Any]:
    """The patient-reported FHIR resource for a checked form."""
    form, term = checked.form, checked.term
    patient = {"reference": f"Patient/{patient_id}"}
    at = now.astimezone(UTC).isoformat(timespec="seconds")
    resource: dict[str, Any] = {
        "resourceType": RESOURCE_TYPES[form.kind],
        "id": fhir_id,
        "meta": {
            "source": entered_by(actor),
            "tag": [
                {
                    "system": PROVENANCE_SYSTEM,
                    "code": PATIENT_REPORTED,
                    "display": "Patient-reported",
                }
            ],
        },
        "extension": [
            {
                "url": ENTERED_URL,
                "extension": [
                    {"url": "by", "valueString": actor},
                    {"url": "at", "valueDateTime": at},
                ],
            }
        ],
    }
    if corrects and form.kind != "lab":
        resource["extension"].append(
            {"url": CORRECTS_URL, "valueReference": {"reference": corrects}}
        )
    note = [{"text": form.note.strip()}] if form.note.strip() else None
    body = _BODIES[form.kind](checked, term, patient, at, facts or PersonFacts())
    resource.update(body)
    if corrects and form.kind == "lab":
        resource["derivedFrom"] = [{"reference": corrects}]
    if note:
        resource["note"] = note
    return resource


def _lab_body(
    checked: CheckedEntry, term: Term, patient: dict[str, str], at: str, facts: PersonFacts
) -> dict[str, Any]:
    form, lab = checked.form, checked.lab
    assert checked.value is not None and lab is not None
    unit_text = form.unit.strip()
    quantity = _quantity(checked.value, unit_text, checked.ucum)
    if checked.comparator:
        quantity = {"value": quantity.pop("value"), "comparator": checked.comparator, **quantity}
    body: dict[str, Any] = {
        "status": "final",
        "category": [
            {
                "coding": [
                    {"system": _OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"}
                ]
            }
        ],
        "code": _concept(term, form.name or term.display.en),
        "subject": patient,
        "effectiveDateTime": checked.date,
        "issued": at,
        "performer": [dict(patient)],
        "valueQuantity": quantity,
    }
    if checked.low is not None or checked.high is not None:
        typed: dict[str, Any] = {}
        if checked.low is not None:
            typed["low"] = _quantity(checked.low, unit_text, checked.ucum)
        if checked.high is not None:
            typed["high"] = _quantity(checked.high, unit_text, checked.ucum)
        body["referenceRange"] = [typed]
    elif (found := _catalog_range(lab, checked.ucum, unit_text, facts, checked.date)) is not None:
        body["referenceRange"] = [found]
    return body


def _medicine_body(
    checked: CheckedEntry, term: Term, patient: dict[str, str], at: str, facts: PersonFacts
) -> dict[str, Any]:
    form = checked.form
    body: dict[str, Any] = {
        "status": checked.status,
        "medicationCodeableConcept": _concept(term, form.name),
        "subject": patient,
        "dateAsserted": at,
        "informationSource": dict(patient),
    }
    period = {k: v for k, v in (("start", checked.date), ("end", checked.end_date)) if v}
    if period:
        body["effectivePeriod"] = period
    if form.dosage.strip():
        body["dosage"] = [{"text": form.dosage.strip()}]
    return body


def _allergy_body(
    checked: CheckedEntry, term: Term, patient: dict[str, str], at: str, facts: PersonFacts
) -> dict[str, Any]:
    form = checked.form
    body: dict[str, Any] = {
        "clinicalStatus": {"coding": [{"system": _ALLERGY_CLINICAL, "code": "active"}]},
        "verificationStatus": {
            "coding": [{"system": _ALLERGY_VERIFICATION, "code": "unconfirmed"}]
        },
        "type": "allergy",
    }
    if term.category:
        body["category"] = [term.category]
    if form.criticality.strip():
        body["criticality"] = form.criticality.strip()
    body.update(
        code=_concept(term, form.name),
        patient=patient,
        recordedDate=at,
        recorder=dict(patient),
        asserter=dict(patient),
    )
    if checked.date:
        body["onsetDateTime"] = checked.date
    if form.reaction.strip():
        body["reaction"] = [{"manifestation": [{"text": form.reaction.strip()}]}]
    return body


def _condition_body(
    checked: CheckedEntry, term: Term, patient: dict[str, str], at: str, facts: PersonFacts
) -> dict[str, Any]:
    form = checked.form
    body: dict[str, Any] = {
        "clinicalStatus": {"coding": [{"system": _CONDITION_CLINICAL, "code": checked.status}]},
        "verificationStatus": {
            "coding": [{"system": _CONDITION_VERIFICATION, "code": "provisional"}]
        },
        "category": [{"coding": [{"system": _CONDITION_CATEGORY, "code": "problem-list-item"}]}],
        "code": _concept(term, form.name),
        "subject": patient,
    }
    if checked.date:
        body["onsetDateTime"] = checked.date
    if checked.status == "resolved" and checked.end_date:
        body["abatementDateTime"] = checked.end_date
    body.update(recordedDate=at, recorder=dict(patient), asserter=dict(patient))
    return body


def _vaccine_body(
    checked: CheckedEntry, term: Term, patient: dict[str, str], at: str, facts: PersonFacts
) -> dict[str, Any]:
    # Immunization.performer is who gave the vaccine: not the patient, so it is left out;
    # primarySource false and reportOrigin "recall" say the patient reported it.
    return {
        "status": "completed",
        "vaccineCode": _concept(term, checked.form.name),
        "patient": patient,
        "occurrenceDateTime": checked.date,
        "recorded": at,
        "primarySource": False,
        "reportOrigin": {
            "coding": [
                {
                    "system": _IMMUNIZATION_ORIGIN,
                    "code": "recall",
                    "display": "Parent/Guardian/Patient Recall",
                }
            ]
        },
    }


_BODIES = {
    "lab": _lab_body,
    "medicine": _medicine_body,
    "allergy": _allergy_body,
    "condition": _condition_body,
    "vaccine": _vaccine_body,
}


def entry_id(person: str, checked: CheckedEntry) -> str:
    """The id a new entry is stored under: the same fact entered twice is one resource."""
    form = checked.form
    parts = [person, form.kind, checked.term.system, checked.term.code]
    if form.kind == "lab":
        parts += [
            checked.date or "",
            checked.comparator or "",
            str(checked.value),
            checked.ucum or "",
        ]
    elif form.kind in ("medicine", "condition", "vaccine"):
        parts.append(checked.date or "")
    return str(uuid.uuid5(_NAMESPACE, "|".join(parts)))


def correction_id(person: str, original: str) -> str:
    """One correction per original item: correcting it again replaces the correction."""
    return str(uuid.uuid5(_NAMESPACE, f"{person}|correction|{original}"))


# --------------------------------------------------------------------------- reading back


def corrected_ref(resource: dict[str, Any]) -> str | None:
    """The clinician's or lab's item this entry corrects, if any."""
    for item in resource.get("derivedFrom") or []:
        if isinstance(item, dict) and isinstance(item.get("reference"), str):
            return str(item["reference"])
    for extension in resource.get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") == CORRECTS_URL:
            reference = (extension.get("valueReference") or {}).get("reference")
            return str(reference) if isinstance(reference, str) else None
    return None


def entered(resource: dict[str, Any]) -> tuple[str | None, str | None]:
    """Who typed an entry and when (from the ``entered`` extension, else ``meta.source``)."""
    for extension in resource.get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") == ENTERED_URL:
            parts = {e.get("url"): e for e in extension.get("extension") or []}
            by = (parts.get("by") or {}).get("valueString")
            at = (parts.get("at") or {}).get("valueDateTime")
            return by, at
    source = (resource.get("meta") or {}).get("source")
    if isinstance(source, str) and source.startswith(ENTERED_BY):
        return unquote(source[len(ENTERED_BY) :]), None
    return None, None


def _text(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    codings = concept.get("coding") or [{}]
    return str(codings[0].get("display") or codings[0].get("code") or "")


def _first_code(concept: Any) -> str:
    codings = (concept or {}).get("coding") or [{}] if isinstance(concept, dict) else [{}]
    return str(codings[0].get("code") or "")


def _status_code(concept: Any) -> str:
    return _first_code(concept)


def _number_text(value: Any) -> str:
    return "" if value is None else format(Decimal(str(value)), "f")


def form_for(resource: dict[str, Any]) -> EntryForm:
    """The form that would store ``resource`` again: what an edit page starts from."""
    kind = KIND_OF_TYPE.get(str(resource.get("resourceType")))
    if kind is None:
        raise NotEnteredError(f"{resource.get('resourceType')} cannot be entered by hand.")
    note = ((resource.get("note") or [{}])[0] or {}).get("text") or ""
    if kind == "lab":
        quantity = resource.get("valueQuantity") or {}
        comparator = quantity.get("comparator") or ""
        low = high = ""
        for item in resource.get("referenceRange") or []:
            if str(item.get("text") or "").startswith(CATALOG_RANGE_TEXT):
                continue
            low = _number_text((item.get("low") or {}).get("value"))
            high = _number_text((item.get("high") or {}).get("value"))
        return EntryForm(
            kind,
            name=_text(resource.get("code")),
            code=_first_code(resource.get("code")),
            value=f"{comparator} {_number_text(quantity.get('value'))}".strip(),
            unit=str(quantity.get("unit") or quantity.get("code") or ""),
            date=str(resource.get("effectiveDateTime") or "")[:10],
            low=low,
            high=high,
            note=note,
        )
    if kind == "medicine":
        period = resource.get("effectivePeriod") or {}
        dosage = ((resource.get("dosage") or [{}])[0] or {}).get("text") or ""
        concept = resource.get("medicationCodeableConcept")
        return EntryForm(
            kind,
            name=_text(concept),
            code=_first_code(concept),
            date=str(period.get("start") or ""),
            end_date=str(period.get("end") or ""),
            status=str(resource.get("status") or ""),
            dosage=dosage,
            note=note,
        )
    if kind == "allergy":
        reactions = resource.get("reaction") or [{}]
        manifestation = (reactions[0].get("manifestation") or [{}])[0] if reactions else {}
        return EntryForm(
            kind,
            name=_text(resource.get("code")),
            code=_first_code(resource.get("code")),
            date=str(resource.get("onsetDateTime") or ""),
            reaction=_text(manifestation),
            criticality=str(resource.get("criticality") or ""),
            note=note,
        )
    if kind == "condition":
        return EntryForm(
            kind,
            name=_text(resource.get("code")),
            code=_first_code(resource.get("code")),
            date=str(resource.get("onsetDateTime") or ""),
            end_date=str(resource.get("abatementDateTime") or ""),
            status=_status_code(resource.get("clinicalStatus")),
            note=note,
        )
    return EntryForm(
        kind,
        name=_text(resource.get("vaccineCode")),
        code=_first_code(resource.get("vaccineCode")),
        date=str(resource.get("occurrenceDateTime") or "")[:10],
        note=note,
    )


@dataclass(frozen=True)
class EnteredItem:
    """One item the person entered, as the list of entries and the saved page show it."""

    ref: str
    kind: EntryKind
    label: str
    date: str | None
    value: str | None
    status: str | None
    entered_by: str | None
    entered_at: str | None
    corrects: str | None = None
    resource: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def resource_type(self) -> str:
        return self.ref.split("/", 1)[0]

    @property
    def fhir_id(self) -> str:
        return self.ref.split("/", 1)[1]

    def as_json(self) -> dict[str, Any]:
        return {
            "resource": self.ref,
            "kind": self.kind,
            "label": self.label,
            "date": self.date,
            "value": self.value,
            "status": self.status,
            "entered_by": self.entered_by,
            "entered_at": self.entered_at,
            "corrects": self.corrects,
            "patient_reported": True,
        }


def entered_item(resource: dict[str, Any]) -> EnteredItem:
    """An entered resource in the words the pages and the CLI print."""
    kind = KIND_OF_TYPE[str(resource["resourceType"])]
    form = form_for(resource)
    value = f"{form.value} {form.unit}".strip() if kind == "lab" else (form.dosage or None)
    status = form.status or None
    if kind == "allergy":
        status = _status_code(resource.get("verificationStatus")) or None
    by, at = entered(resource)
    return EnteredItem(
        ref=f"{resource['resourceType']}/{resource['id']}",
        kind=kind,
        label=form.name,
        date=form.date or None,
        value=value or None,
        status=status,
        entered_by=by,
        entered_at=at,
        corrects=corrected_ref(resource),
        resource=resource,
    )


# --------------------------------------------------------------------------- services


@dataclass(frozen=True)
class SavedEntry:
    """What was stored: the item, whether it replaced an earlier version of itself."""

    item: EnteredItem
    replaced: bool

    def as_json(self) -> dict[str, Any]:
        return {"stored": self.item.ref, "replaced": self.replaced, **self.item.as_json()}


def parse_ref(ref: str, lang: Language = "en") -> tuple[str, str]:
    match = _REF.match(ref.strip())
    if match is None:
        raise NotEnteredError(say("bad_reference", lang, ref=ref[:100]))
    return match.group(1), match.group(2)


def _patient(hs: Healthspace, actor: str, person: str, lang: Language) -> dict[str, Any]:
    patients = hs.vault.resources(actor, person, "Patient")
    if not patients:
        raise NoPatientError(say("no_patient", lang))
    return next((p for p in patients if p.get("id") == person), patients[0])


def save_entry(
    hs: Healthspace,
    actor: str,
    person: str,
    form: EntryForm,
    lang: Language = "en",
    replaces: str | None = None,
    corrects: str | None = None,
    icd10: Icd10Source | None = None,
    now: datetime | None = None,
) -> SavedEntry:
    """Check and store one entry; ``replaces`` edits an entry of the person's own (same id,
    the vault keeps the older version), ``corrects`` answers a clinician's or lab's item
    with a new entry pointing to it. Nothing is stored when anything is wrong."""
    now = now or datetime.now(UTC)
    patient = _patient(hs, actor, person, lang)
    fhir_id: str | None = None
    target: str | None = None
    if replaces:
        resource_type, fhir_id = parse_ref(replaces, lang)
        stored = hs.vault.resource(actor, person, resource_type, fhir_id)
        if not is_memory(stored):
            raise NotEnteredError(say("not_entered", lang, ref=replaces))
        if resource_type != RESOURCE_TYPES[form.kind]:
            raise NotEnteredError(say("wrong_kind", lang, ref=replaces, what=what(form.kind, lang)))
        target = corrected_ref(stored)
    elif corrects:
        resource_type, original_id = parse_ref(corrects, lang)
        original = hs.vault.resource(actor, person, resource_type, original_id)
        if is_memory(original):  # the person's own entry: an edit, not a correction
            return save_entry(hs, actor, person, form, lang, replaces=corrects, icd10=icd10)
        if resource_type != RESOURCE_TYPES[form.kind]:
            raise NotEnteredError(say("wrong_kind", lang, ref=corrects, what=what(form.kind, lang)))
        target = f"{resource_type}/{original_id}"
        fhir_id = correction_id(person, target)
    checked = check_entry(form, lang, now.date(), icd10)
    fhir_id = fhir_id or entry_id(person, checked)
    resource = build_entry(
        checked, fhir_id, str(patient["id"]), actor, now, person_facts(patient), target
    )
    try:
        hs.vault.resource(actor, person, resource["resourceType"], fhir_id)
        existed = True
    except NotFoundError:
        existed = False
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{fhir_id}", "resource": resource}],
    }
    report = hs.importer.import_uploads(
        [("manual-entry.json", orjson.dumps(bundle))], actor, person=person
    )
    if report.errors:
        raise HealthspaceError(f"The entry could not be stored: {report.errors[0]['reason']}")
    return SavedEntry(entered_item(resource), existed)


def list_entries(hs: Healthspace, actor: str, person: str) -> list[EnteredItem]:
    """Everything the person entered (or told the assistant), newest entry first."""
    found: list[EnteredItem] = []
    for resource_type in RESOURCE_TYPES.values():
        found += [
            entered_item(r)
            for r in hs.vault.resources(actor, person, resource_type)
            if is_memory(r)
        ]
    return sorted(found, key=lambda i: (i.entered_at or i.date or "", i.ref), reverse=True)


def read_entry(
    hs: Healthspace, actor: str, person: str, ref: str, lang: Language = "en"
) -> dict[str, Any]:
    """One resource by reference (any origin): what an edit or a correction starts from."""
    resource_type, fhir_id = parse_ref(ref, lang)
    return hs.vault.resource(actor, person, resource_type, fhir_id)


def delete_entry(hs: Healthspace, actor: str, person: str, ref: str, lang: Language = "en") -> str:
    """Delete one entry of the person's own; a clinician's or lab's item is refused."""
    resource_type, fhir_id = parse_ref(ref, lang)
    if resource_type in ("AllergyIntolerance", "MedicationStatement"):
        return forget(hs, actor, person, f"{resource_type}/{fhir_id}", lang)
    stored = hs.vault.resource(actor, person, resource_type, fhir_id)
    if not is_memory(stored):
        raise NotEnteredError(say("not_entered", lang, ref=ref))
    hs.vault.delete_resource(actor, person, resource_type, fhir_id)
    return f"{resource_type}/{fhir_id}"
