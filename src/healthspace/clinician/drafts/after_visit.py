"""After-visit summary for the patient, in French or English, in plain words.

Short sentences and everyday words, aimed at a 12-year-old reader: why they came, what the
doctor noted, their tests (said as "higher than usual", never a diagnosis), the medicines
prescribed at the visit and the ones they take, their allergies, and what happens next.
Names of conditions, tests and medicines are the record's own words.
"""

from __future__ import annotations

from healthspace.clinician.drafts.compose import Codes, DraftRequest, section
from healthspace.clinician.drafts.model import Composed, Language, Source, Statement
from healthspace.clinician.drafts.record import Record, observation_text, record_statement
from healthspace.clinician.drafts.soap import ENCOUNTER_TYPES
from healthspace.clinician.drafts.wording import FLAGS, TYPE_LABELS, day_text, phrase
from healthspace.clinician.summary import _ref
from healthspace.patient.labs import LabResult
from healthspace.web.timeline import concept_text


def compose_after_visit(record: Record, request: DraftRequest, codes: Codes) -> Composed:
    lang = request.language
    encounter = record.encounter(request.encounter)
    linked = record.of_encounter(encounter, ENCOUNTER_TYPES)
    when = day_text((encounter.get("period") or {}).get("start"), lang, plain=True)
    kind = concept_text(encounter.get("type")) or concept_text(encounter.get("class")) or "?"
    visit = [record_statement(phrase("avs_visit", lang, date=when, kind=kind), encounter)]
    reasons = [t for t in (concept_text(c) for c in encounter.get("reasonCode") or []) if t]
    reasons += [concept_text(c.get("code")) or "?" for c in record.reason_conditions(encounter)]
    if reasons:
        sources = [encounter, *record.reason_conditions(encounter)]
        visit.append(
            record_statement(
                phrase("avs_reason", lang, text=", ".join(dict.fromkeys(reasons))), *sources
            )
        )

    conditions = {_ref(c): c for c in linked if c["resourceType"] == "Condition"}
    findings = [
        record_statement(phrase("avs_found", lang, text=concept_text(c.get("code")) or "?"), c)
        for c in conditions.values()
    ]

    observations = [o for o in linked if o["resourceType"] == "Observation"]
    results = record.results_of(observations)
    as_lab = {r.resource for r in results}
    tests = [_test_statement(r, lang) for r in results]
    tests += [
        record_statement(_sentence(observation_text(o)), o)
        for o in observations
        if _ref(o) not in as_lab
    ]
    tests += [
        record_statement(phrase("avs_procedure", lang, text=concept_text(p.get("code")) or "?"), p)
        for p in linked
        if p["resourceType"] == "Procedure"
    ]

    medicines = []
    prescribed = {_ref(m) for m in linked if m["resourceType"] == "MedicationRequest"}
    for entry in record.read.medications:
        if not entry.current:
            continue
        use = entry.latest
        new = use.ref in prescribed
        text = phrase("avs_new_medicine" if new else "avs_medicine", lang, text=use.name)
        if use.dosage:
            text += " " + phrase("avs_how", lang, text=use.dosage[0])
        medicines.append(Statement("", text, "record", (Source(use.ref, use.recorded),)))

    allergies = [
        Statement(
            "",
            phrase("avs_allergy", lang, text=item.text.split(" (")[0]),
            "record",
            tuple(Source(s.resource, s.date) for s in item.sources),
        )
        for item in record.summary.section("allergies").items
    ]

    next_steps = [
        record_statement(phrase("avs_next", lang, text=concept_text(s.get("code")) or "?"), s)
        for s in linked
        if s["resourceType"] == "ServiceRequest"
    ]
    sections = (
        section("visit", lang, visit),
        section("findings", lang, findings, placeholder="avs_nothing"),
        section("tests", lang, tests, placeholder=None),
        section("your_medicines", lang, medicines, placeholder=None),
        section("your_allergies", lang, allergies, placeholder=None),
        section("next_steps", lang, next_steps, placeholder="avs_next_missing"),
    )
    title = f"{TYPE_LABELS['after_visit'][lang]} — {when}"
    return Composed(title, tuple(s for s in sections if s.statements), _ref(encounter))


def _test_statement(result: LabResult, lang: Language) -> Statement:
    name = getattr(result.name, lang, None) or result.name.en
    if isinstance(result.value, float):
        value = f"{result.comparator or ''}{result.value:g} {result.unit or ''}".strip()
    else:
        value = str(result.value) if result.value is not None else "?"
    flag = FLAGS.get(result.flag or "")
    text = (
        phrase("avs_test_flag", lang, name=name, value=value, flag=flag[lang])
        if flag
        else phrase("avs_test", lang, name=name, value=value)
    )
    return Statement("", text, "record", (Source(result.resource, result.date),))


def _sentence(text: str) -> str:
    return text if text.endswith(".") else f"{text}."
