"""Health memory: facts a person tells the assistant about their medicines and allergies.

"I am allergic to penicillin", "j'ai arrêté la metformine", "I take ibuprofen" become
patient-reported FHIR resources in their own record, shown back to them and deletable:

* an allergy → AllergyIntolerance, ``verificationStatus`` unconfirmed (nobody tested it),
  ``asserter`` and ``recorder`` the Patient (FHIR R4's own way of saying who said so);
* "I stopped X" → MedicationStatement ``stopped``, ``effectivePeriod.end`` today (taking it
  ended today), ``informationSource`` the Patient;
* "I take X" → MedicationStatement ``active``, ``informationSource`` the Patient.

Each carries ``meta.tag`` ``urn:healthspace:provenance|patient-reported``, which is what
``memories`` lists and ``forget`` accepts: a clinician's record is never deleted from here.

Find, then act (STYLE.md §2): ``parse_statement`` only finds (which phrase, which subject,
where); ``remember`` writes through ``import_uploads`` (validated, audited, one transaction).
Ids are uuid5 of person, kind and subject, so telling the same thing twice adds nothing, and
"I stopped X" after "I take X" updates the same MedicationStatement (the vault keeps the older
version in its history).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import Any, Literal

import orjson

from healthspace.bootstrap import Healthspace
from healthspace.errors import HealthspaceError, NotFoundError
from healthspace.knowledge.folding import fold
from healthspace.patient.allergies import Allergen, find_allergen
from healthspace.patient.medication_service import phrase
from healthspace.patient.medications import (
    PATIENT_REPORTED,
    PROVENANCE_SYSTEM,
    RXNORM,
    Language,
    match_medicine_name,
)
from healthspace.terminology.medicines import Medicine, find_medicine

Kind = Literal["allergy", "medication_stopped", "medication_taken"]
ATC = "http://www.whocc.no/atc"
_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
_NAMESPACE = uuid.UUID("5f0c8a1e-6d2b-4c1a-9e3f-7b4d2a9c8e61")
_MEMORY_TYPES = ("AllergyIntolerance", "MedicationStatement")
# Bound the work on pasted text: a statement is a sentence, not a document.
MAX_CHARS = 2000
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*'?")
_SENTENCE = re.compile(r"[^.!?;\n]+[.!?;]*")


class StatementNotUnderstoodError(HealthspaceError):
    """The text names no medicine or allergen we know: nothing is stored."""

    http_status = 422


class NoPatientError(HealthspaceError):
    """The person's record has no Patient resource for the memory to point to."""

    http_status = 409


class NotAMemoryError(HealthspaceError):
    """A reference to something the person did not tell us (a clinician's record)."""

    http_status = 409


class ForgetUnavailableError(HealthspaceError):
    """The vault cannot delete a single resource yet (``Vault.delete_resource``)."""

    http_status = 501


@dataclass(frozen=True)
class ParsedStatement:
    """What a sentence says, with its evidence: the phrase matched and the subject's span."""

    kind: Kind
    subject: str  # the words naming the medicine or allergen, as the person wrote them
    lang: Language
    pattern: str  # the statement id of memory_patterns.json that matched
    start: int  # the subject's span in the text given
    end: int
    allergen: Allergen | None = None
    medicine: Medicine | None = None

    @property
    def subject_key(self) -> str:
        """What the statement is about, independent of wording (for deterministic ids)."""
        if self.allergen is not None:
            return f"allergen:{self.allergen.id}"
        if self.medicine is not None:
            return f"medicine:{self.medicine.id}"
        return "text:" + " ".join(_TOKEN.findall(fold(self.subject)))


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Statement:
    id: str
    lang: Language
    kind: Kind
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class _Patterns:
    statements: tuple[_Statement, ...]
    articles: dict[str, frozenset[str]]
    max_words: int


def _phrase_regex(phrase_text: str) -> str:
    return r"\s+".join(re.escape(word) for word in phrase_text.split())


@cache
def _patterns() -> _Patterns:
    text = (
        resources.files("healthspace.patient")
        .joinpath("data/memory_patterns.json")
        .read_text("utf-8")
    )
    data = json.loads(text)
    statements = []
    for item in data["statements"]:
        lead = "|".join(
            _phrase_regex(w) for w in sorted(data["lead_in"][item["lang"]], key=len, reverse=True)
        )
        phrases = "|".join(_phrase_regex(p) for p in sorted(item["phrases"], key=len, reverse=True))
        pattern = re.compile(
            rf"^[\s,]*(?:(?:{lead})(?:\s*,\s*|\s+))*(?:{phrases})(?=[\s,:]|$)[\s,:]*"
        )
        statements.append(_Statement(item["id"], item["lang"], item["kind"], pattern))
    articles = {lang: frozenset(words) for lang, words in data["articles"].items()}
    return _Patterns(tuple(statements), articles, int(data["max_subject_words"]))


def _fold_with_positions(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index it came from."""
    out: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(text):
        folded = fold(char)
        out.append(folded)
        positions.extend([index] * len(folded))
    return "".join(out), positions


def _sentences(folded: str) -> Iterator[tuple[int, str]]:
    for match in _SENTENCE.finditer(folded):
        yield match.start(), match.group(0)


def parse_statement(text: str, lang: Language = "en") -> ParsedStatement | None:
    """The first statement about a medicine or an allergy in ``text``, or None.

    A statement starts with one of the data file's phrases (after lead-in words such as
    "also" or "au fait"), so negations ("I am not allergic", "je ne prends pas") and questions
    (a sentence ending with "?") are never read as facts. The subject is the longest run of
    words, right after the phrase and its articles, that names a known allergen or medicine.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    original = text[:MAX_CHARS].translate(_APOSTROPHES)
    folded, positions = _fold_with_positions(original)
    patterns = _patterns()
    ordered = sorted(patterns.statements, key=lambda s: s.lang != lang)
    for offset, sentence in _sentences(folded):
        if sentence.rstrip().endswith("?"):
            continue
        for statement in ordered:
            match = statement.pattern.match(sentence)
            if match is None:
                continue
            found = _subject(statement, sentence, match.end(), patterns)
            if found is None:
                continue
            start, end, allergen, medicine = found
            first, last = positions[offset + start], positions[offset + end - 1] + 1
            return ParsedStatement(
                statement.kind,
                original[first:last],
                statement.lang,
                statement.id,
                first,
                last,
                allergen,
                medicine,
            )
    return None


def _subject(
    statement: _Statement, sentence: str, begin: int, patterns: _Patterns
) -> tuple[int, int, Allergen | None, Medicine | None] | None:
    tokens = list(_TOKEN.finditer(sentence, begin))
    articles = patterns.articles[statement.lang]
    while tokens and tokens[0].group(0) in articles:
        tokens.pop(0)
    # The subject must start right here: "I take no ibuprofen" names nothing.
    for size in range(min(len(tokens), patterns.max_words), 0, -1):
        if size > 1 and tokens[size - 1].group(0) in articles:
            continue  # "Doliprane 1000 le (soir)": the subject does not end on an article
        start, end = tokens[0].start(), tokens[size - 1].end()
        words = sentence[start:end]
        if statement.kind == "allergy":
            allergen = find_allergen(words)
            if allergen is not None:
                return start, end, allergen, None
            medicine = find_medicine(words) or match_medicine_name(words).medicine
        else:
            medicine = match_medicine_name(words).medicine
        if medicine is not None:
            return start, end, None, medicine
    return None


# --------------------------------------------------------------------------- resources


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def memory_id(person: str, statement: ParsedStatement) -> str:
    """The resource id a statement is stored under: same person and fact, same id."""
    group = "allergy" if statement.kind == "allergy" else "medication"
    return str(uuid.uuid5(_NAMESPACE, f"{person}|{group}|{statement.subject_key}"))


def _tag() -> dict[str, Any]:
    return {
        "tag": [
            {"system": PROVENANCE_SYSTEM, "code": PATIENT_REPORTED, "display": "Patient-reported"}
        ]
    }


def _medicine_codings(medicine: Medicine) -> list[dict[str, str]]:
    codings = []
    if medicine.rxnorm:
        codings.append({"system": RXNORM, "code": medicine.rxnorm, "display": medicine.inn.en})
    if medicine.atc:
        codings.append({"system": ATC, "code": medicine.atc[0], "display": medicine.inn.en})
    return codings


def build_resource(
    statement: ParsedStatement, person: str, patient_id: str, said: str, today: date
) -> dict[str, Any]:
    """The patient-reported FHIR resource for a parsed statement."""
    patient = {"reference": f"Patient/{patient_id}"}
    note = [{"text": said[:MAX_CHARS]}]
    if statement.kind == "allergy":
        if statement.allergen is not None:
            codings = [c.model_dump() for c in statement.allergen.codes]
            category = statement.allergen.category
        else:
            codings = _medicine_codings(statement.medicine) if statement.medicine else []
            category = "medication"
        code: dict[str, Any] = {"text": statement.subject}
        if codings:
            code["coding"] = codings
        return {
            "resourceType": "AllergyIntolerance",
            "id": memory_id(person, statement),
            "meta": _tag(),
            "clinicalStatus": {"coding": [{"system": _CLINICAL, "code": "active"}]},
            "verificationStatus": {"coding": [{"system": _VERIFICATION, "code": "unconfirmed"}]},
            "type": "allergy",
            "category": [category],
            "code": code,
            "patient": patient,
            "recordedDate": _now(),
            "recorder": dict(patient),
            "asserter": dict(patient),
            "note": note,
        }
    medication: dict[str, Any] = {"text": statement.subject}
    if statement.medicine is not None and _medicine_codings(statement.medicine):
        medication["coding"] = _medicine_codings(statement.medicine)
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": memory_id(person, statement),
        "meta": _tag(),
        "status": "stopped" if statement.kind == "medication_stopped" else "active",
        "medicationCodeableConcept": medication,
        "subject": patient,
        "dateAsserted": _now(),
        "informationSource": dict(patient),
        "note": note,
    }
    if statement.kind == "medication_stopped":
        resource["effectivePeriod"] = {"end": today.isoformat()}
    return resource


def is_memory(resource: dict[str, Any]) -> bool:
    """Whether Healthspace stored this resource because the person told it."""
    tags = (resource.get("meta") or {}).get("tag") or []
    return any(
        isinstance(t, dict)
        and t.get("system") == PROVENANCE_SYSTEM
        and t.get("code") == PATIENT_REPORTED
        for t in tags
    )


def _kind_of(resource: dict[str, Any]) -> Kind:
    if resource.get("resourceType") == "AllergyIntolerance":
        return "allergy"
    return "medication_stopped" if resource.get("status") == "stopped" else "medication_taken"


def _same_fact(stored: dict[str, Any], new: dict[str, Any]) -> bool:
    """Telling it again changes nothing: same kind of resource, same status."""
    if stored.get("resourceType") != new.get("resourceType") or not is_memory(stored):
        return False
    if new["resourceType"] == "AllergyIntolerance":
        codes = (stored.get("clinicalStatus") or {}).get("coding") or [{}]
        return bool(codes[0].get("code") == "active")
    return bool(stored.get("status") == new.get("status"))


@dataclass(frozen=True)
class Memory:
    """One thing the person told us, as stored in their record."""

    ref: str
    kind: Kind
    subject: str
    status: str | None
    date: str | None
    said: str | None

    def summary(self, lang: Language) -> str:
        key = {
            "allergy": "summary_allergy",
            "medication_stopped": "summary_stopped",
            "medication_taken": "summary_taking",
        }[self.kind]
        return phrase(key, lang).format(subject=self.subject)

    def as_json(self, lang: Language) -> dict[str, Any]:
        return {
            "resource": self.ref,
            "kind": self.kind,
            "subject": self.subject,
            "summary": self.summary(lang),
            "status": self.status,
            "date": self.date,
            "said": self.said,
        }


def _memory_of(resource: dict[str, Any]) -> Memory:
    concept = resource.get("code") or resource.get("medicationCodeableConcept") or {}
    notes = resource.get("note") or [{}]
    if resource.get("resourceType") == "AllergyIntolerance":
        status = ((resource.get("verificationStatus") or {}).get("coding") or [{}])[0].get("code")
        when = resource.get("recordedDate")
    else:
        status = resource.get("status")
        when = resource.get("dateAsserted")
    return Memory(
        ref=f"{resource['resourceType']}/{resource['id']}",
        kind=_kind_of(resource),
        subject=str(concept.get("text") or "?"),
        status=status if isinstance(status, str) else None,
        date=when[:10] if isinstance(when, str) else None,
        said=notes[0].get("text") if isinstance(notes[0], dict) else None,
    )


@dataclass(frozen=True)
class RememberResult:
    stored: bool  # False when the record already said so
    memory: Memory

    def as_json(self, lang: Language) -> dict[str, Any]:
        key = "remembered" if self.stored else "already_known"
        return {
            "stored": self.stored,
            "message": phrase(key, lang).format(summary=self.memory.summary(lang)),
            **self.memory.as_json(lang),
        }


def _patient_id(hs: Healthspace, actor: str, person: str, lang: Language) -> str:
    patients = hs.vault.resources(actor, person, "Patient")
    if not patients:
        raise NoPatientError(phrase("no_patient", lang))
    return str(patients[0]["id"])


def remember(
    hs: Healthspace,
    actor: str,
    person: str,
    statement: ParsedStatement,
    said: str | None = None,
    today: date | None = None,
) -> RememberResult:
    """Store a parsed statement as a patient-reported resource; a repeat adds nothing."""
    lang = statement.lang
    patient_id = _patient_id(hs, actor, person, lang)
    resource = build_resource(
        statement, person, patient_id, said or statement.subject, today or date.today()
    )
    try:
        stored = hs.vault.resource(actor, person, resource["resourceType"], resource["id"])
    except NotFoundError:
        stored = None
    if stored is not None and _same_fact(stored, resource):
        return RememberResult(False, _memory_of(stored))
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}],
    }
    report = hs.importer.import_uploads(
        [("health-memory.json", orjson.dumps(bundle))], actor, person=person
    )
    if report.errors:
        first = report.errors[0]
        raise HealthspaceError(f"What you told us could not be stored: {first['reason']}")
    return RememberResult(True, _memory_of(resource))


def remember_text(
    hs: Healthspace, actor: str, person: str, text: str, lang: Language = "en"
) -> RememberResult:
    """Parse and store in one step; a sentence naming nothing we know stores nothing."""
    statement = parse_statement(text, lang)
    if statement is None:
        raise StatementNotUnderstoodError(phrase("not_understood", lang))
    return remember(hs, actor, person, statement, said=text)


def list_memories(hs: Healthspace, actor: str, person: str) -> list[Memory]:
    """Everything the person told us, newest first, so they can check or remove it."""
    found: list[Memory] = []
    for resource_type in _MEMORY_TYPES:
        found += [
            _memory_of(r) for r in hs.vault.resources(actor, person, resource_type) if is_memory(r)
        ]
    return sorted(found, key=lambda m: (m.date or "", m.ref), reverse=True)


_REF = re.compile(r"^(AllergyIntolerance|MedicationStatement)/([A-Za-z0-9\-.]{1,64})$")


def forget(
    hs: Healthspace, actor: str, person: str, resource_ref: str, lang: Language = "en"
) -> str:
    """Delete one thing the person told us; a clinician's resource is refused."""
    match = _REF.match(resource_ref.strip())
    if match is None:
        raise NotAMemoryError(phrase("bad_reference", lang).format(ref=resource_ref))
    resource_type, fhir_id = match.groups()
    stored = hs.vault.resource(actor, person, resource_type, fhir_id)
    if not is_memory(stored):
        raise NotAMemoryError(phrase("not_a_memory", lang).format(ref=resource_ref))
    delete = getattr(hs.vault, "delete_resource", None)
    if delete is None:
        raise ForgetUnavailableError(phrase("forget_unavailable", lang))
    delete(actor, person, resource_type, fhir_id)
    return f"{resource_type}/{fhir_id}"
