"""A person's medication list, read from MedicationRequest and MedicationStatement resources.

Pure: resources in, dataclasses out, no I/O beyond the shipped catalog and leaflets. The
service (``medication_service``) reads the record and hands the resources over.

Matching a record's medicine to the catalog: RxNorm codes of US records (Synthea) are mostly
product-level (SCD) concepts while the catalog holds ingredient concepts, so a code is used only
when it equals a catalog ingredient code; otherwise the product's words are read
("24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet", "Amoxicillin 250 MG /
Clavulanate 125 MG Oral Tablet", "Diazepam [Valium]") with ``find_medicine``: leading
quantities are skipped, a bracketed brand is tried on its own, and a product of several
ingredients is split on "/" and mapped to the catalog's fixed combination when it has one.

Current or past (the rule the list and the interaction check rely on):

* ``entered-in-error`` resources are ignored altogether;
* a MedicationRequest is current when its status is ``active`` or ``on-hold``, unless its
  ``dispenseRequest.validityPeriod`` ended more than ``EXPIRED_AFTER`` ago: a prescription
  whose validity ran out long ago is not evidence that the medicine is still taken;
* a MedicationStatement is current when its status is ``active``, ``intended`` or ``on-hold``,
  unless its ``effectivePeriod`` ended before today (the person said when they stopped);
* every other status (completed, stopped, cancelled, not-taken, draft, unknown) is past;
* the same medicine prescribed or reported several times is one entry: the most recent
  resource (authored, asserted or started last) decides, the others are its history. So
  "I stopped metformin", told today, makes an old active prescription of metformin past.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any, Literal

from healthspace.knowledge.citations import Source
from healthspace.knowledge.medicine_content import content_for, sources_of
from healthspace.terminology.medicines import (
    Medicine,
    MedicineCatalog,
    find_medicine,
    load_medicine_catalog,
    name_tokens,
)

Resource = dict[str, Any]
Language = Literal["en", "fr"]

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
PROVENANCE_SYSTEM = "urn:healthspace:provenance"
PATIENT_REPORTED = "patient-reported"
# A prescription whose validity ended this long ago no longer counts as a current medicine.
EXPIRED_AFTER = timedelta(days=90)

REQUEST_CURRENT = frozenset({"active", "on-hold"})
STATEMENT_CURRENT = frozenset({"active", "intended", "on-hold"})
_IGNORED = "entered-in-error"

# Words before the substance on US product names: "24 HR", "10 ML", "120 ACTUAT",
# "Abuse-Deterrent 12 HR", "NDA020800 0.3 ML". Any word holding a digit counts too.
_LEADING_PRODUCT_WORDS = frozenset({"hr", "ml", "actuat", "abuse", "deterrent", "day", "mg", "unt"})
# Strength and unit words dropped from the key that groups unmatched names.
_UNIT_WORDS = frozenset({"mg", "ml", "mcg", "ug", "g", "ui", "iu", "unt", "actuat", "hr", "meq"})
# Dose-form and unit words of US product names that the catalog's name matcher does not skip
# ("0.044 MG/ACTUAT Metered Dose Inhaler", "Auto-Injector", "Drug Implant", "Day Pack").
_PRODUCT_FORM_WORDS = frozenset(
    {
        "actuat", "unt", "hr", "auto", "injector", "implant", "drug", "system", "mucosal",
        "intrauterine", "chewable", "pack", "day", "ring", "disintegrating", "enteric",
        "injectable", "prefilled", "cartridge", "inhalant", "powder", "dry",
    }
)  # fmt: skip
_BRACKETED = re.compile(r"\[([^\]]+)\]")
_WORD = re.compile(r"[A-Za-z0-9.]+")


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class MedicineMatch:
    """What a record's medicine is in the catalog.

    ``medicine`` is the one catalog entry the product is (a combination's own entry when the
    catalog has it); ``ingredients`` are the catalog substances found in it, which is what the
    interaction check needs even when the product as a whole has no catalog entry.
    """

    medicine: Medicine | None
    ingredients: tuple[Medicine, ...]
    how: Literal["rxnorm", "name", "components", "none"]

    @property
    def matched(self) -> bool:
        return self.medicine is not None


NO_MATCH = MedicineMatch(None, (), "none")


@cache
def _rxnorm_index() -> dict[str, Medicine]:
    return {m.rxnorm: m for m in load_medicine_catalog().medicines if m.rxnorm}


@cache
def _combination_index() -> dict[frozenset[str], Medicine]:
    return {frozenset(m.components): m for m in load_medicine_catalog().medicines if m.components}


def catalog() -> MedicineCatalog:
    """The shipped medicine catalog (one place, so tests and callers share the cached copy)."""
    return load_medicine_catalog()


def ingredients_of(medicine: Medicine) -> tuple[Medicine, ...]:
    """A medicine itself, or a combination's components (at any depth)."""
    if not medicine.components:
        return (medicine,)
    found: list[Medicine] = []
    for component_id in medicine.components:
        component = catalog().medicine(component_id)
        if component is not None:
            found.extend(ingredients_of(component))
    return tuple(dict.fromkeys(found))


def _single(medicine: Medicine, how: Literal["rxnorm", "name"]) -> MedicineMatch:
    return MedicineMatch(medicine, ingredients_of(medicine), how)


def _is_leading_product_word(word: str) -> bool:
    folded = word.casefold()
    parts = [p for p in re.split(r"[-.]", folded) if p]
    return any(ch.isdigit() for ch in folded) or (
        bool(parts) and all(p in _LEADING_PRODUCT_WORDS for p in parts)
    )


def _find_after_quantities(text: str) -> Medicine | None:
    """``find_medicine`` on the text, then on what follows leading quantities ("24 HR ...")."""
    words = text.split()
    for start in range(len(words)):
        if start and not _is_leading_product_word(words[start - 1]):
            break
        found = find_medicine(" ".join(words[start:]))
        if found is not None:
            return found
    return None


def _without_form_words(text: str) -> str:
    return " ".join(
        w for w in re.split(r"[\s/,-]+", text) if w and w.casefold() not in _PRODUCT_FORM_WORDS
    )


def _components(text: str) -> list[str]:
    """A product's ingredients: "A 250 MG / B 125 MG" and "A/B", but not "MG/ML" or "MG/HR"."""
    if " / " in text:
        return [p for p in text.split(" / ") if p.strip()]
    parts: list[str] = []
    current = ""
    for index, piece in enumerate(text.split("/")):
        if index == 0:
            current = piece
            continue
        left = _WORD.findall(current)
        right = _WORD.findall(piece)
        unit_slash = (left and left[-1].casefold() in _UNIT_WORDS) or (
            right and right[0].casefold() in _UNIT_WORDS
        )
        if unit_slash:
            current += "/" + piece
        else:
            parts.append(current)
            current = piece
    parts.append(current)
    return [p for p in parts if p.strip()]


@lru_cache(maxsize=8192)
def match_medicine_name(text: str) -> MedicineMatch:
    """The catalog medicine a name as written on a prescription, a box or a US product means.

    Cached: a record repeats the same few medicine texts in every prescription renewal (a
    Synthea record: 1,036 requests, a handful of names), and the catalog never changes.
    """
    if not text or not text.strip():
        return NO_MATCH
    brand = _BRACKETED.search(text)
    plain = _BRACKETED.sub(" ", text)
    parts = _components(plain)
    if len(parts) < 2:
        found = _find_after_quantities(text) or _find_after_quantities(_without_form_words(plain))
        if found is None and brand:
            found = find_medicine(brand.group(1))
        return _single(found, "name") if found is not None else NO_MATCH
    whole = find_medicine(text) or (find_medicine(brand.group(1)) if brand else None)
    if whole is not None:
        return _single(whole, "name")
    components = [
        _find_after_quantities(part) or _find_after_quantities(_without_form_words(part))
        for part in parts
    ]
    known = tuple(dict.fromkeys(m for m in components if m is not None))
    if not known:
        return NO_MATCH
    ingredients = tuple(dict.fromkeys(i for m in known for i in ingredients_of(m)))
    combination = _combination_index().get(frozenset(i.id for i in ingredients))
    if combination is None:
        combination = _combination_index().get(frozenset(m.id for m in known))
    if combination is not None and all(m is not None for m in components):
        return MedicineMatch(combination, ingredients_of(combination), "components")
    return MedicineMatch(None, ingredients, "components")


def _concept_texts(concept: object) -> list[str]:
    if not isinstance(concept, dict):
        return []
    texts = [concept.get("text")]
    texts += [c.get("display") for c in concept.get("coding") or [] if isinstance(c, dict)]
    return [t for t in dict.fromkeys(texts) if isinstance(t, str) and t.strip()]


def match_concept(concept: object) -> MedicineMatch:
    """Match a CodeableConcept: an RxNorm code equal to a catalog ingredient, else its words."""
    if not isinstance(concept, dict):
        return NO_MATCH
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and coding.get("system") == RXNORM:
            found = _rxnorm_index().get(str(coding.get("code")))
            if found is not None:
                return _single(found, "rxnorm")
    partial = NO_MATCH
    for text in _concept_texts(concept):
        result = match_medicine_name(text)
        if result.matched:
            return result
        if result.ingredients and not partial.ingredients:
            partial = result
    return partial


def match_medication_resource(medication: Resource) -> MedicineMatch:
    """A Medication resource: its code, else its ingredients' codes."""
    result = match_concept(medication.get("code"))
    if result.matched:
        return result
    found: list[Medicine] = []
    for ingredient in medication.get("ingredient") or []:
        if isinstance(ingredient, dict):
            part = match_concept(ingredient.get("itemCodeableConcept"))
            found.extend(part.ingredients)
    if not found:
        return result
    ingredients = tuple(dict.fromkeys(found))
    if len(ingredients) == 1:
        return _single(ingredients[0], "name")
    combination = _combination_index().get(frozenset(i.id for i in ingredients))
    if combination is not None:
        return MedicineMatch(combination, ingredients_of(combination), "components")
    return MedicineMatch(None, ingredients, "components")


# --------------------------------------------------------------------------- record items


@dataclass(frozen=True)
class Reason:
    """Why the record says the medicine was given: a coded reason or a referenced condition."""

    text: str
    ref: str | None = None


@dataclass(frozen=True)
class MedicationUse:
    """One MedicationRequest or MedicationStatement, as the record writes it."""

    ref: str
    name: str
    match: MedicineMatch
    status: str
    current: bool
    expired: bool
    dosage: tuple[str, ...]
    since: str | None
    until: str | None
    prescriber: str | None
    reasons: tuple[Reason, ...]
    patient_reported: bool
    recorded: str | None

    @property
    def resource_type(self) -> str:
        return self.ref.split("/", 1)[0]


@dataclass(frozen=True)
class MedicationEntry:
    """One medicine of the list: the latest resource about it decides; the others are history."""

    latest: MedicationUse
    history: tuple[MedicationUse, ...] = ()

    @property
    def current(self) -> bool:
        return self.latest.current

    @property
    def medicine(self) -> Medicine | None:
        return self.latest.match.medicine

    @property
    def ingredients(self) -> tuple[Medicine, ...]:
        return self.latest.match.ingredients


@dataclass(frozen=True)
class Purpose:
    """What a medicine is for: the record's own reasons, else the leaflet's general "treats"."""

    texts: tuple[str, ...]
    from_record: bool
    refs: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True)
class Lookups:
    """Resources the medication list points to: conditions for reasons, Medication products,
    and who prescribed (Practitioner, Organization), each by ``"Type/id"``."""

    by_ref: Mapping[str, Resource] = field(default_factory=dict)

    @classmethod
    def of(cls, resources: Iterable[Resource]) -> Lookups:
        return cls(
            {
                f"{r['resourceType']}/{r['id']}": r
                for r in resources
                if isinstance(r, dict) and "resourceType" in r and "id" in r
            }
        )

    def get(self, reference: object) -> Resource | None:
        if isinstance(reference, dict):
            reference = reference.get("reference")
        return self.by_ref.get(reference) if isinstance(reference, str) else None


def _instant(value: object) -> datetime | None:
    """A FHIR date or dateTime as an aware datetime (a date alone is its midnight UTC)."""
    if not isinstance(value, str) or len(value) < 4:
        return None
    text = value.strip()
    try:
        if "T" in text:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        parts = [int(p) for p in text[:10].split("-")]
        year, month, day = [*parts, 1, 1][:3]
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None


def _day(value: object) -> str | None:
    return value[:10] if isinstance(value, str) and _instant(value) else None


def is_patient_reported(resource: Resource) -> bool:
    """Told by the person: tagged so by Healthspace, or asserted/sourced by a Patient."""
    tags = (resource.get("meta") or {}).get("tag") or []
    if any(
        isinstance(t, dict)
        and t.get("system") == PROVENANCE_SYSTEM
        and t.get("code") == PATIENT_REPORTED
        for t in tags
    ):
        return True
    for element in ("informationSource", "asserter", "recorder"):
        reference = resource.get(element)
        if isinstance(reference, dict) and str(reference.get("reference", "")).startswith(
            "Patient/"
        ):
            return True
    return False


def _medication_name(resource: Resource, lookups: Lookups) -> tuple[str, MedicineMatch]:
    concept = resource.get("medicationCodeableConcept")
    if isinstance(concept, dict):
        texts = _concept_texts(concept)
        return (texts[0] if texts else "?"), match_concept(concept)
    reference = resource.get("medicationReference")
    if isinstance(reference, dict):
        target = reference.get("reference")
        medication = None
        if isinstance(target, str) and target.startswith("#"):
            medication = next(
                (
                    c
                    for c in resource.get("contained") or []
                    if isinstance(c, dict) and c.get("id") == target[1:]
                ),
                None,
            )
        else:
            medication = lookups.get(reference)
        if medication is not None:
            texts = _concept_texts(medication.get("code"))
            display = reference.get("display")
            name = texts[0] if texts else display if isinstance(display, str) else "?"
            return name, match_medication_resource(medication)
        display = reference.get("display")
        if isinstance(display, str) and display.strip():
            return display, match_medicine_name(display)
    return "?", NO_MATCH


def _dosage_texts(items: object) -> tuple[str, ...]:
    texts: list[str] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            for key in ("text", "patientInstruction"):
                value = item.get(key)
                if isinstance(value, str) and value.strip():
                    texts.append(value)
    return tuple(dict.fromkeys(texts))


def _person_name(resource: Resource) -> str | None:
    names = resource.get("name")
    if isinstance(names, str):
        return names
    for name in names if isinstance(names, list) else []:
        if not isinstance(name, dict):
            continue
        if isinstance(name.get("text"), str):
            return str(name["text"])
        words = [
            *[p for p in name.get("prefix") or [] if isinstance(p, str)],
            *[g for g in name.get("given") or [] if isinstance(g, str)],
            name.get("family") if isinstance(name.get("family"), str) else "",
        ]
        joined = " ".join(w for w in words if w).strip()
        if joined:
            return joined
    return None


def _who(reference: object, lookups: Lookups) -> str | None:
    """A prescriber or source as a name when the record has one, else the reference itself."""
    if not isinstance(reference, dict):
        return None
    display = reference.get("display")
    if isinstance(display, str) and display.strip():
        return display
    target = lookups.get(reference)
    if target is not None:
        name = _person_name(target)
        if name:
            return name
    value = reference.get("reference")
    return value if isinstance(value, str) else None


def _reasons(resource: Resource, lookups: Lookups) -> tuple[Reason, ...]:
    found: list[Reason] = []
    for concept in resource.get("reasonCode") or []:
        texts = _concept_texts(concept)
        if texts:
            found.append(Reason(texts[0]))
    for reference in resource.get("reasonReference") or []:
        if not isinstance(reference, dict):
            continue
        target = lookups.get(reference)
        texts = _concept_texts(target.get("code")) if target else []
        display = reference.get("display")
        text = texts[0] if texts else display if isinstance(display, str) else None
        if text:
            found.append(Reason(text, reference.get("reference")))
    return tuple(dict.fromkeys(found))


def _ended_before(end: object, limit: date) -> bool:
    moment = _instant(end)
    return moment is not None and moment.date() < limit


def read_request(resource: Resource, lookups: Lookups, today: date) -> MedicationUse | None:
    """A MedicationRequest as a use of a medicine; None for one entered in error."""
    status = str(resource.get("status") or "unknown")
    if status == _IGNORED:
        return None
    name, match = _medication_name(resource, lookups)
    dispense = resource.get("dispenseRequest") or {}
    validity = dispense.get("validityPeriod") if isinstance(dispense, dict) else None
    validity = validity if isinstance(validity, dict) else {}
    expired = status in REQUEST_CURRENT and _ended_before(
        validity.get("end"), today - EXPIRED_AFTER
    )
    return MedicationUse(
        ref=f"MedicationRequest/{resource.get('id')}",
        name=name,
        match=match,
        status=status,
        current=status in REQUEST_CURRENT and not expired,
        expired=expired,
        dosage=_dosage_texts(resource.get("dosageInstruction")),
        since=_day(resource.get("authoredOn")) or _day(validity.get("start")),
        until=_day(validity.get("end")),
        prescriber=_who(resource.get("requester"), lookups),
        reasons=_reasons(resource, lookups),
        patient_reported=is_patient_reported(resource),
        recorded=resource.get("authoredOn") or validity.get("start"),
    )


def read_statement(resource: Resource, lookups: Lookups, today: date) -> MedicationUse | None:
    """A MedicationStatement as a use of a medicine; None for one entered in error."""
    status = str(resource.get("status") or "unknown")
    if status == _IGNORED:
        return None
    name, match = _medication_name(resource, lookups)
    period = resource.get("effectivePeriod")
    period = period if isinstance(period, dict) else {}
    effective = resource.get("effectiveDateTime")
    ended = status in STATEMENT_CURRENT and _ended_before(period.get("end"), today)
    source = resource.get("informationSource")
    return MedicationUse(
        ref=f"MedicationStatement/{resource.get('id')}",
        name=name,
        match=match,
        status=status,
        current=status in STATEMENT_CURRENT and not ended,
        expired=ended,
        dosage=_dosage_texts(resource.get("dosage")),
        since=_day(period.get("start")) or _day(effective),
        until=_day(period.get("end")),
        prescriber=None if is_patient_reported(resource) else _who(source, lookups),
        reasons=_reasons(resource, lookups),
        patient_reported=is_patient_reported(resource),
        recorded=resource.get("dateAsserted")
        or period.get("start")
        or effective
        or period.get("end"),
    )


def _group_key(use: MedicationUse) -> str:
    if use.match.medicine is not None:
        return f"medicine:{use.match.medicine.id}"
    if use.match.ingredients:
        return "ingredients:" + "+".join(sorted(i.id for i in use.match.ingredients))
    words = [
        w for w in name_tokens(use.name) if w not in _UNIT_WORDS and not any(c.isdigit() for c in w)
    ]
    return "text:" + " ".join(words)


_EARLIEST = datetime(1, 1, 1, tzinfo=UTC)


def _recency(use: MedicationUse, order: int) -> tuple[datetime, int]:
    return (_instant(use.recorded) or _EARLIEST, order)


@dataclass(frozen=True)
class MedicationList:
    """The person's medicines, current first (most recent first within each group)."""

    entries: tuple[MedicationEntry, ...]

    @property
    def current(self) -> tuple[MedicationEntry, ...]:
        return tuple(e for e in self.entries if e.current)

    @property
    def past(self) -> tuple[MedicationEntry, ...]:
        return tuple(e for e in self.entries if not e.current)

    def find(self, medicine: Medicine) -> MedicationEntry | None:
        """The entry for this catalog medicine, or whose ingredients include it."""
        wanted = {i.id for i in ingredients_of(medicine)}
        for entry in self.entries:
            if entry.medicine is not None and entry.medicine.id == medicine.id:
                return entry
        for entry in self.entries:
            if wanted and wanted <= {i.id for i in entry.ingredients}:
                return entry
        return None


def medication_list(
    resources: Iterable[Resource], lookups: Lookups | None = None, today: date | None = None
) -> MedicationList:
    """Group the person's MedicationRequests and MedicationStatements into one list."""
    lookups = lookups or Lookups()
    today = today or date.today()
    uses: list[tuple[tuple[datetime, int], MedicationUse]] = []
    for order, resource in enumerate(resources):
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if kind == "MedicationRequest":
            use = read_request(resource, lookups, today)
        elif kind == "MedicationStatement":
            use = read_statement(resource, lookups, today)
        else:
            continue
        if use is not None:
            uses.append((_recency(use, order), use))
    groups: dict[str, list[tuple[tuple[datetime, int], MedicationUse]]] = {}
    for item in uses:
        groups.setdefault(_group_key(item[1]), []).append(item)
    entries = []
    for items in groups.values():
        ordered = [use for _, use in sorted(items, key=lambda i: i[0], reverse=True)]
        entries.append(
            (max(key for key, _ in items), MedicationEntry(ordered[0], tuple(ordered[1:])))
        )
    entries.sort(key=lambda item: (not item[1].current, _negated(item[0])))
    return MedicationList(tuple(entry for _, entry in entries))


def _negated(key: tuple[datetime, int]) -> tuple[float, int]:
    # Sort most recent first without reversing the current-first order.
    moment, order = key
    return (-(moment - _EARLIEST).total_seconds(), -order)


def purpose(entry: MedicationEntry, lang: Language) -> Purpose | None:
    """What the medicine is for: the record's reasons first (newest resource first, then its
    history), else the catalog leaflet's "treats", labelled as general information."""
    for use in (entry.latest, *entry.history):
        if use.reasons:
            return Purpose(
                tuple(r.text for r in use.reasons),
                True,
                tuple(r.ref for r in use.reasons if r.ref),
            )
    medicine = entry.medicine or (entry.ingredients[0] if len(entry.ingredients) == 1 else None)
    if medicine is None:
        return None
    content = content_for(medicine.id)
    if content is None:
        return None
    return Purpose(content.treats.in_language(lang), False, (), tuple(sources_of(content)))


def medicine_label(medicine: Medicine, lang: Language) -> str:
    """A catalog medicine's international name in ``lang``."""
    return medicine.inn.fr if lang == "fr" else medicine.inn.en
