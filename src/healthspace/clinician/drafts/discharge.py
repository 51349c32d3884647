"""Discharge summary of a hospital stay: the stay, why, problems, procedures, results,
medicines on discharge and follow-up, each line from the record.

The stay is the inpatient Encounter asked for, else the latest one. Its resources are those
pointing to it or dated inside its period. Medicines on discharge are the medicine list as of
the discharge day (``patient.medications``' rules), started on or before that day. Follow-up
is what was ordered or planned (ServiceRequest, CarePlan, Appointment) from the stay on; with
none recorded, the section asks the clinician to write it.
"""

from __future__ import annotations

from datetime import date

from healthspace.clinician.drafts.compose import Codes, DraftRequest, section
from healthspace.clinician.drafts.model import Composed, Statement
from healthspace.clinician.drafts.record import (
    Record,
    from_item,
    observation_text,
    record_statement,
)
from healthspace.clinician.drafts.soap import _condition_statement, _procedure_text
from healthspace.clinician.drafts.wording import TYPE_LABELS, day_text, phrase
from healthspace.clinician.summary import _ref, _when
from healthspace.web.timeline import concept_text, event_date

FOLLOW_UP_TYPES = ("ServiceRequest", "CarePlan", "Appointment")


def compose_discharge(record: Record, request: DraftRequest, codes: Codes) -> Composed:
    lang = request.language
    stay = record.encounter(request.encounter, inpatient=True)
    start = _when(stay, "period.start")
    end = _when(stay, "period.end")
    kind = concept_text(stay.get("type")) or concept_text(stay.get("class")) or "stay"
    course = [
        record_statement(
            phrase(
                "stay",
                lang,
                start=day_text(start, lang),
                end=day_text(end, lang) if end else "?",
                kind=kind,
            ),
            stay,
        )
    ]
    disposition = concept_text((stay.get("hospitalization") or {}).get("dischargeDisposition"))
    if disposition:
        course.append(record_statement(phrase("disposition", lang, text=disposition), stay))

    reasons: list[Statement] = [
        record_statement(text, stay)
        for text in (concept_text(c) for c in stay.get("reasonCode") or [])
        if text
    ]
    diagnoses = record.reason_conditions(stay)
    reasons += [_condition_statement(c) for c in diagnoses]

    during = record.of_encounter(stay, ("Condition", "Procedure", "Observation"), True)
    conditions = {_ref(c): c for c in diagnoses}
    conditions.update({_ref(c): c for c in during if c["resourceType"] == "Condition"})
    problems = [
        record_statement(phrase("diagnosis_of_stay", lang, text=_condition_statement(c).text), c)
        for c in conditions.values()
    ]
    problems += [from_item(i) for i in record.summary.section("problems").items]

    procedures = [
        record_statement(_procedure_text(p), p) for p in during if p["resourceType"] == "Procedure"
    ]
    observations = [o for o in during if o["resourceType"] == "Observation"]
    results = record.results_of(observations)
    as_lab = {r.resource for r in results}
    result_lines = [from_item(record.result_line(r)) for r in results]
    result_lines += [
        record_statement(observation_text(o), o) for o in observations if _ref(o) not in as_lab
    ]

    medicines = _discharge_medicines(record, end or start)
    follow_up = [
        record_statement(_plan_text(r, lang), r)
        for kind_ in FOLLOW_UP_TYPES
        for r in record.of(kind_)
        if (event_date(r) or "")[:10] >= (start or "")[:10]
    ]
    sections = (
        section("stay", lang, course),
        section("admission_reason", lang, reasons),
        section("problems", lang, _unique(problems)),
        section("procedures", lang, procedures),
        section("results", lang, result_lines),
        section("discharge_medications", lang, medicines),
        section("follow_up", lang, follow_up),
    )
    title = f"{TYPE_LABELS['discharge'][lang]} — {day_text(end or start, lang)}"
    return Composed(title, sections, _ref(stay))


def _discharge_medicines(record: Record, day: str | None) -> list[Statement]:
    """The medicines current on the discharge day (started on or before it)."""
    if not day:
        return []
    try:
        discharged = date.fromisoformat(day[:10])
    except ValueError:
        return []
    at_discharge = Record(record.resources, record.practitioners, discharged)
    out = []
    for entry in at_discharge.read.medications:
        first = min((u.since for u in (entry.latest, *entry.history) if u.since), default=None)
        if entry.current and (first is None or first <= discharged.isoformat()):
            out.append(from_item(at_discharge.read.medication_item(entry)))
    return out


def _plan_text(resource: dict, lang: str) -> str:
    what = (
        concept_text(resource.get("code"))
        or resource.get("title")
        or resource.get("description")
        or concept_text(resource.get("serviceType"))
        or resource["resourceType"]
    )
    when = event_date(resource)
    return f"{what} ({when[:10]})" if when else str(what)


def _unique(statements: list[Statement]) -> list[Statement]:
    """One line per text: a stay's diagnosis may also be on the problem list."""
    seen: dict[str, Statement] = {}
    for statement in statements:
        seen.setdefault(statement.text, statement)
    return list(seen.values())
