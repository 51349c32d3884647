"""SOAP progress note: one encounter's data, plus the clinician's typed or dictated text.

Subjective: the visit and its reason; Objective: the encounter's observations (lab results
flagged with their ranges, vital signs) and procedures; Assessment: its conditions; Plan: the
medicines prescribed and what was ordered. Each dictated statement goes to the section the
dictation reader gives it, sourced by its evidence spans.
"""

from __future__ import annotations

from healthspace.clinician.drafts.compose import Codes, DraftRequest, section
from healthspace.clinician.drafts.model import Composed, Span, Statement
from healthspace.clinician.drafts.record import (
    Record,
    from_item,
    icd10cm_codes,
    observation_text,
    record_statement,
)
from healthspace.clinician.drafts.wording import TYPE_LABELS, day_text, phrase
from healthspace.clinician.summary import _ref
from healthspace.web.timeline import concept_text

ENCOUNTER_TYPES = ("Observation", "Condition", "MedicationRequest", "Procedure", "ServiceRequest")


def dictated(text: str, language: str) -> dict[str, list[Statement]]:
    """The clinician's text as statements by SOAP section, each with its evidence spans."""
    # Imported here: the dictation reader is its own module and may grow heavier parts.
    from healthspace.clinician.dictation import statements_from_dictation

    by_section: dict[str, list[Statement]] = {}
    for found in statements_from_dictation(text, language):
        spans = tuple(Span(e.start, e.end, e.text) for e in found.evidence)
        by_section.setdefault(found.section, []).append(
            Statement("", found.text, "clinician", evidence=spans)
        )
    return by_section


def compose_soap(record: Record, request: DraftRequest, codes: Codes) -> Composed:
    lang = request.language
    encounter = record.encounter(request.encounter)
    linked = record.of_encounter(encounter, ENCOUNTER_TYPES)
    by_type: dict[str, list[dict]] = {}
    for resource in linked:
        by_type.setdefault(resource["resourceType"], []).append(resource)
    text = dictated(request.text, lang) if request.text and request.text.strip() else {}

    subjective = [from_item(record.encounter_line(encounter))]
    reasons = [t for t in (concept_text(c) for c in encounter.get("reasonCode") or []) if t]
    if reasons:
        subjective.append(
            record_statement(phrase("visit_reason", lang, reason=", ".join(reasons)), encounter)
        )

    observations = by_type.get("Observation", [])
    results = record.results_of(observations)
    as_lab = {r.resource for r in results}
    objective = [from_item(record.result_line(r)) for r in results]
    objective += [
        record_statement(observation_text(o), o) for o in observations if _ref(o) not in as_lab
    ]
    objective += [
        record_statement(phrase("procedure", lang, text=_procedure_text(p)), p)
        for p in by_type.get("Procedure", [])
    ]

    conditions = {_ref(c): c for c in record.reason_conditions(encounter)}
    conditions.update({_ref(c): c for c in by_type.get("Condition", [])})
    assessment = [_condition_statement(c) for c in conditions.values()]

    plan = [
        record_statement(phrase("prescribed", lang, text=_request_text(m)), m)
        for m in by_type.get("MedicationRequest", [])
    ]
    plan += [
        record_statement(phrase("ordered", lang, text=concept_text(s.get("code")) or "?"), s)
        for s in by_type.get("ServiceRequest", [])
    ]
    sections = (
        section("subjective", lang, [*subjective, *text.get("subjective", [])]),
        section("objective", lang, [*objective, *text.get("objective", [])]),
        section("assessment", lang, [*assessment, *text.get("assessment", [])]),
        section("plan", lang, [*plan, *text.get("plan", [])]),
    )
    when = day_text((encounter.get("period") or {}).get("start"), lang)
    return Composed(f"{TYPE_LABELS['soap'][lang]} — {when}", sections, _ref(encounter))


def _condition_statement(condition: dict) -> Statement:
    text = concept_text(condition.get("code")) or "Condition"
    codes = icd10cm_codes(condition.get("code"))
    if codes:
        text += f" (ICD-10-CM {', '.join(codes)})"
    return record_statement(text, condition)


def _procedure_text(procedure: dict) -> str:
    text = concept_text(procedure.get("code")) or "Procedure"
    outcome = concept_text(procedure.get("outcome"))
    return f"{text} — {outcome}" if outcome else text


def _request_text(request: dict) -> str:
    name = concept_text(request.get("medicationCodeableConcept")) or (
        (request.get("medicationReference") or {}).get("display") or "medicine"
    )
    dosage = [d.get("text") for d in request.get("dosageInstruction") or [] if isinstance(d, dict)]
    dosage = [d for d in dosage if d]
    return f"{name} — {dosage[0]}" if dosage else str(name)
