"""Medicine services: the person's medication list, a medicine explained, interaction checks.

Orchestration only (STYLE.md §1): read the record through the vault, hand the resources to the
pure modules (``medications``, ``allergies``, ``knowledge.interactions``) and shape the answer.
French and English come from one code path: every word a person reads is either record text,
knowledge-file text, or a phrase of ``data/medication_phrases.json``. No sentence changes a dose:
dosage text is shown as the record writes it and the leaflets hold no doses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from healthspace.bootstrap import Healthspace
from healthspace.errors import NotFoundError
from healthspace.ingest.fhir_model import SHARED_TYPES
from healthspace.ingest.linking import referenced_keys
from healthspace.knowledge.citations import Source
from healthspace.knowledge.folding import fold
from healthspace.knowledge.interactions import (
    SEVERITIES,
    Interaction,
    InteractionReport,
    RecognisedDrug,
    find_interactions,
)
from healthspace.knowledge.medicine_content import SECTIONS, content_for, sources_of
from healthspace.patient.allergies import (
    AllergyConflict,
    RecordAllergy,
    find_allergy_conflicts,
    read_allergy,
)
from healthspace.patient.medications import (
    Language,
    Lookups,
    MedicationEntry,
    MedicationList,
    Resource,
    is_patient_reported,
    match_medicine_name,
    medication_list,
    medicine_label,
    purpose,
)
from healthspace.terminology.medicines import Medicine
from healthspace.vault.tables import SHARED_SPACE

# Resource types a medication points to that the list reads: reasons, products, prescribers.
_LOOKUP_TYPES = frozenset(
    {"Condition", "Observation", "Medication", "Practitioner", "PractitionerRole", "Organization"}
)
_URGENT = frozenset({"contraindicated", "major"})


class UnknownMedicineNameError(NotFoundError):
    """A medicine name we cannot place in the catalog; the message says how to write it."""

    def __init__(self, name: str, lang: Language) -> None:
        self.name = name
        super().__init__(phrase("unknown_medicine", lang).format(name=name))


# --------------------------------------------------------------------------- phrases


@cache
def _phrases() -> dict[str, Any]:
    text = (
        resources.files("healthspace.patient")
        .joinpath("data/medication_phrases.json")
        .read_text("utf-8")
    )
    data: dict[str, Any] = json.loads(text)
    return data


def phrase(key: str, lang: Language, group: str = "sentences") -> str:
    """One phrase of ``medication_phrases.json`` in ``lang``."""
    return str(_phrases()[group][key][lang])


def status_label(status: str, lang: Language) -> str:
    """A FHIR medication status in plain words; an unknown code is shown as written."""
    labels = _phrases()["status"]
    return str(labels[status][lang]) if status in labels else status


def says_to_see_a_clinician(text: str, lang: Language) -> bool:
    """Whether the text already sends the reader to a doctor or pharmacist."""
    folded = fold(text)
    return any(fold(p) in folded for p in _phrases()["see_clinician"][lang])


def sentence_case(text: str) -> str:
    """Capital first letter: templates may start with a lower-case international name."""
    return text[:1].upper() + text[1:]


def source_json(source: Source) -> dict[str, Any]:
    return source.model_dump(mode="json")


def _citation(source: Source) -> dict[str, str]:
    return {"title": source.title, "publisher": source.publisher, "url": source.url}


# --------------------------------------------------------------------------- the record


@dataclass(frozen=True)
class PersonMedicines:
    """What the record says about a person's medicines and allergies."""

    person: str
    medications: MedicationList
    allergies: tuple[RecordAllergy, ...]


def _read_lookups(hs: Healthspace, actor: str, person: str, items: list[Resource]) -> Lookups:
    """The conditions, products and prescribers the medication resources point to."""
    wanted = {key for key in referenced_keys(items) if key[0] in _LOOKUP_TYPES}
    found: list[Resource] = []
    for resource_type in sorted({t for t, _ in wanted}):
        space = SHARED_SPACE if resource_type in SHARED_TYPES else person
        try:
            # Reference data (prescribers, products) lives in the shared space.
            candidates = hs.vault.resources(actor, space, resource_type)
        except NotFoundError:
            continue  # nothing shared was ever imported
        found += [r for r in candidates if (resource_type, r.get("id")) in wanted]
    return Lookups.of(found)


def read_person_medicines(
    hs: Healthspace, actor: str, person: str, today: date | None = None
) -> PersonMedicines:
    """Read the person's medication resources and allergies (each read audited)."""
    requests = hs.vault.resources(actor, person, "MedicationRequest")
    statements = hs.vault.resources(actor, person, "MedicationStatement")
    allergy_resources = hs.vault.resources(actor, person, "AllergyIntolerance")
    items = [*requests, *statements]
    lookups = _read_lookups(hs, actor, person, items)
    allergies = [read_allergy(r, is_patient_reported(r)) for r in allergy_resources]
    return PersonMedicines(
        person,
        medication_list(items, lookups, today),
        tuple(a for a in allergies if a is not None),
    )


# --------------------------------------------------------------------------- the list


@dataclass(frozen=True)
class MedicationView:
    """The ``meds`` answer: the list with what each medicine is for, in one language."""

    lang: Language
    record: PersonMedicines

    def rows(self) -> list[dict[str, Any]]:
        return [_row(entry, self.lang) for entry in self.record.medications.entries]

    def as_json(self) -> list[dict[str, Any]]:
        """``[{"name","medicine","atc","status","current","dosage","for","since","until",
        "resource"}]``, current medicines first."""
        return self.rows()


def _row(entry: MedicationEntry, lang: Language) -> dict[str, Any]:
    latest = entry.latest
    medicine = entry.medicine
    why = purpose(entry, lang)
    return {
        "name": latest.name,
        "medicine": medicine_label(medicine, lang) if medicine else None,
        "atc": medicine.atc[0] if medicine and medicine.atc else None,
        "status": latest.status,
        "current": entry.current,
        "dosage": "; ".join(latest.dosage) or None,
        "for": None
        if why is None
        else {
            "text": "; ".join(why.texts),
            "from_record": why.from_record,
            "note": None if why.from_record else phrase("general_information", lang),
            "record_refs": list(why.refs),
            "sources": [source_json(s) for s in why.sources],
        },
        "since": latest.since,
        "until": latest.until,
        "resource": latest.ref,
    }


def current_medications(
    hs: Healthspace, actor: str, person: str, lang: Language = "en", today: date | None = None
) -> MedicationView:
    """The person's medication list, current first, with what each medicine is for."""
    return MedicationView(lang, read_person_medicines(hs, actor, person, today))


# --------------------------------------------------------------------------- interactions


def _drugs_of(entries: Iterable[MedicationEntry]) -> tuple[list[RecognisedDrug], list[str]]:
    drugs: list[RecognisedDrug] = []
    unknown: list[str] = []
    for entry in entries:
        name = entry.latest.name
        if entry.medicine is not None:
            drugs.append(RecognisedDrug(name, entry.medicine))
        elif entry.ingredients:
            # A product the catalog has no entry for: check each ingredient it does know.
            drugs += [RecognisedDrug(name, ingredient) for ingredient in entry.ingredients]
        else:
            unknown.append(name)
    return drugs, unknown


def interactions_for_person(
    hs: Healthspace,
    actor: str,
    person: str,
    extra_names: Sequence[str] = (),
    lang: Language = "en",
    today: date | None = None,
) -> InteractionReport:
    """Every pair among the person's current medicines and any extra names, DESIGN.md JSON."""
    record = read_person_medicines(hs, actor, person, today)
    drugs, unknown = _drugs_of(record.medications.current)
    for name in extra_names:
        match = match_medicine_name(name)
        if match.medicine is not None:
            drugs.append(RecognisedDrug(name, match.medicine))
        elif match.ingredients:
            drugs += [RecognisedDrug(name, ingredient) for ingredient in match.ingredients]
        else:
            unknown.append(name)
    found = find_interactions([d.medicine.id for d in drugs])
    return InteractionReport(lang, tuple(drugs), tuple(unknown), tuple(found))


# --------------------------------------------------------------------------- explanation


@dataclass(frozen=True)
class Section:
    title: str
    text: str
    sources: tuple[dict[str, Any], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"title": self.title, "text": self.text, "sources": list(self.sources)}


@dataclass(frozen=True)
class MedicineExplanation:
    """``explain med``: leaflet sections, and with a person their record, interactions and
    allergy conflicts; every section carries its sources (knowledge or record items)."""

    lang: Language
    medicine: Medicine
    sections: tuple[Section, ...]
    interactions: tuple[dict[str, Any], ...] = ()
    allergy_conflicts: tuple[dict[str, Any], ...] = ()
    citations: tuple[dict[str, str], ...] = ()
    record_refs: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "medicine": medicine_label(self.medicine, self.lang),
            "sections": [s.as_json() for s in self.sections],
            "interactions": list(self.interactions),
            "allergy_conflicts": list(self.allergy_conflicts),
            "citations": list(self.citations),
            "record_refs": list(self.record_refs),
        }


def _sentence_list(entries: Iterable[str]) -> str:
    """Leaflet entries as text: short phrases as one list, full sentences as written."""
    cleaned = [e.strip() for e in entries if e.strip()]
    phrases = [e for e in cleaned if e[-1] not in ".!?"]
    sentences = [e for e in cleaned if e[-1] in ".!?"]
    listed = []
    if phrases:
        first = ", ".join(phrases)
        listed.append(first[0].upper() + first[1:] + ".")
    return " ".join(listed + sentences)


def _leaflet_sections(medicine: Medicine, lang: Language) -> list[Section]:
    content = content_for(medicine.id)
    if content is None:
        label = medicine_label(medicine, lang)
        return [
            Section(
                phrase("how_to_take", lang, "titles"),
                phrase("no_leaflet", lang).format(medicine=label),
            )
        ]
    sources = tuple(source_json(s) for s in sources_of(content))
    return [
        Section(phrase(name, lang, "titles"), _sentence_list(entries), sources)
        for name in SECTIONS
        if (entries := content.section(name).in_language(lang))
    ]


def _record_section(entry: MedicationEntry | None, lang: Language) -> Section:
    if entry is None:
        return Section(phrase("record", lang, "titles"), phrase("record_not_listed", lang))
    latest = entry.latest
    status = status_label("expired" if latest.expired else latest.status, lang)
    since = phrase("record_since", lang).format(date=latest.since) if latest.since else ""
    parts = [phrase("record_entry", lang).format(name=latest.name, status=status, since=since)]
    if latest.dosage:
        parts.append(phrase("record_dosage", lang).format(dosage="; ".join(latest.dosage)))
    if latest.reasons:
        reasons = "; ".join(r.text for r in latest.reasons)
        parts.append(phrase("record_for", lang).format(reason=reasons))
    if latest.prescriber and not latest.patient_reported:
        parts.append(phrase("record_prescriber", lang).format(prescriber=latest.prescriber))
    items = [{"resource": latest.ref, "date": latest.since}]
    items += [{"resource": r.ref, "date": None} for r in latest.reasons if r.ref]
    text = " ".join(sentence_case(p) for p in parts)
    return Section(phrase("record", lang, "titles"), text, tuple(items))


def _interaction_json(
    interaction: Interaction, lang: Language, names: dict[str, str], refs: dict[str, str]
) -> dict[str, Any]:
    other = next((d for d in interaction.drugs if d in refs), None)
    return {
        "drugs": [names[d] for d in interaction.drugs],
        "severity": interaction.severity,
        "effect": getattr(interaction.effect, lang),
        "advice": getattr(interaction.advice, lang),
        "sources": [source_json(s) for s in interaction.sources],
        "resource": refs.get(other) if other else None,
    }


def _conflict_text(conflict: AllergyConflict, lang: Language) -> str:
    allergy = conflict.allergy
    reported = phrase("patient_reported", lang) if allergy.patient_reported else ""
    named = allergy.text
    medicine = medicine_label(conflict.medicine, lang)
    if conflict.kind == "contains" and conflict.ingredient is not None:
        return phrase("allergy_avoid_contains", lang).format(
            medicine=medicine,
            ingredient=medicine_label(conflict.ingredient, lang),
            allergy=named,
            reported=reported,
        )
    group = getattr(conflict.group.label, lang) if conflict.group else ""
    if conflict.kind == "group":
        return phrase("allergy_avoid_group", lang).format(
            medicine=medicine, group=group, allergy=named, reported=reported
        )
    reason = getattr(conflict.reason, lang) if conflict.reason else ""
    return phrase("allergy_ask_first", lang).format(
        reason=reason, allergy=named, reported=reported, medicine=medicine
    )


def _conflict_json(conflict: AllergyConflict, lang: Language) -> dict[str, Any]:
    return {
        "allergy": conflict.allergy.text,
        "resource": conflict.allergy.ref,
        "patient_reported": conflict.allergy.patient_reported,
        "level": conflict.level,
        "text": sentence_case(_conflict_text(conflict, lang)),
        "sources": [source_json(s) for s in conflict.sources],
    }


def explain_medicine(
    hs: Healthspace,
    actor: str,
    name: str,
    lang: Language = "en",
    person: str | None = None,
    today: date | None = None,
) -> MedicineExplanation:
    """A medicine explained from the leaflets, and with ``person`` against their record."""
    match = match_medicine_name(name)
    medicine = match.medicine
    if medicine is None:
        raise UnknownMedicineNameError(name, lang)
    leaflet = _leaflet_sections(medicine, lang)
    if person is None:
        return _finish(lang, medicine, [], leaflet, [], (), (), ())
    record = read_person_medicines(hs, actor, person, today)
    entry = record.medications.find(medicine)
    own = {i.id for i in match.ingredients}
    others = [
        e
        for e in record.medications.current
        if e is not entry and not ({i.id for i in e.ingredients} & own)
    ]
    drugs, unchecked = _drugs_of(others)
    names = {d.medicine.id: medicine_label(d.medicine, lang) for d in drugs}
    names[medicine.id] = medicine_label(medicine, lang)
    refs = {d.medicine.id: e.latest.ref for e in others for d in _drugs_of([e])[0]}
    found = [
        i
        for i in find_interactions([medicine.id, *[d.medicine.id for d in drugs]])
        if medicine.id in i.drugs
    ]
    interactions = [_interaction_json(i, lang, names, refs) for i in found]
    conflicts = find_allergy_conflicts(medicine, record.allergies)
    conflict_items = [_conflict_json(c, lang) for c in conflicts]

    head: list[Section] = [_record_section(entry, lang)]
    interaction_section = _interaction_section(interactions, drugs, unchecked, lang)
    allergy_section = _allergy_section(conflict_items, record.allergies, lang)
    tail: list[Section] = []
    # Safety first: a reason not to take it leads; otherwise it follows the leaflet.
    if any(c.level == "avoid" for c in conflicts):
        head.insert(0, allergy_section)
    else:
        tail.append(allergy_section)
    if any(i["severity"] in _URGENT for i in interactions):
        head.insert(1 if head[0] is allergy_section else 0, interaction_section)
    else:
        tail.insert(0, interaction_section)
    record_refs = [entry.latest.ref] if entry else []
    record_refs += [c["resource"] for c in conflict_items]
    record_refs += [i["resource"] for i in interactions if i["resource"]]
    return _finish(
        lang,
        medicine,
        head,
        leaflet,
        tail,
        tuple(interactions),
        tuple(conflict_items),
        tuple(dict.fromkeys(record_refs)),
    )


def _interaction_section(
    interactions: list[dict[str, Any]],
    drugs: list[RecognisedDrug],
    unchecked: list[str],
    lang: Language,
) -> Section:
    title = phrase("interactions", lang, "titles")
    if not drugs and not unchecked:
        return Section(title, phrase("no_other_medicines", lang))
    labels = {s: phrase(s, lang, "severity") for s in SEVERITIES}
    parts = [
        f"{labels[i['severity']]}: {' + '.join(i['drugs'])}. {i['effect']} {i['advice']}"
        for i in interactions
    ] or [phrase("no_interactions", lang)]
    if unchecked:
        parts.append(phrase("unchecked_medicines", lang).format(names=", ".join(unchecked)))
    sources = [s for i in interactions for s in i["sources"]]
    unique = {json.dumps(s, sort_keys=True): s for s in sources}
    return Section(title, " ".join(parts), tuple(unique.values()))


def _allergy_section(
    conflicts: list[dict[str, Any]], allergies: Sequence[RecordAllergy], lang: Language
) -> Section:
    title = phrase("allergies", lang, "titles")
    if conflicts:
        sources = [s for c in conflicts for s in c["sources"]]
        unique = {json.dumps(s, sort_keys=True): s for s in sources}
        return Section(title, " ".join(c["text"] for c in conflicts), tuple(unique.values()))
    active = [a for a in allergies if a.active]
    key = "no_allergy_conflict" if active else "no_allergies"
    items = tuple({"resource": a.ref, "date": a.recorded} for a in active)
    return Section(title, phrase(key, lang), items)


def _finish(
    lang: Language,
    medicine: Medicine,
    head: list[Section],
    leaflet: list[Section],
    tail: list[Section],
    interactions: tuple[dict[str, Any], ...],
    conflicts: tuple[dict[str, Any], ...],
    record_refs: tuple[str, ...],
) -> MedicineExplanation:
    sections = [*head, *leaflet, *tail]
    # The rule: end with the reminder unless the answer already ends by sending the
    # reader to a clinician (a conditional "get help if..." in a leaflet does not count).
    if not sections or not says_to_see_a_clinician(sections[-1].text, lang):
        sections.append(Section(phrase("reminder", lang, "titles"), phrase("reminder", lang)))
    citations: dict[str, dict[str, str]] = {}
    for section in sections:
        for item in section.sources:
            if "url" in item:
                citations.setdefault(item["url"], _citation(Source.model_validate(item)))
    return MedicineExplanation(
        lang,
        medicine,
        tuple(sections),
        interactions,
        conflicts,
        tuple(citations.values()),
        record_refs,
    )
