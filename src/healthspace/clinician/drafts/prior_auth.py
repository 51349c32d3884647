"""Prior-authorization request letter: the treatment asked for, its diagnosis as ICD-10-CM
codes, the treatments already tried and the justification the record gives.

* diagnosis: the code given (checked against ICD-10-CM), sourced by the record's conditions
  coded with it or a code under it; else the ICD-10-CM codes of the conditions the record
  gives as the medicine's reasons; else of the active problems, for the clinician to choose;
* treatments tried: every other medicine of the record (MedicationRequest and
  MedicationStatement history) given for the same conditions or in the same ATC therapeutic
  subgroup (first three characters, e.g. A10 "drugs used in diabetes") as the one asked for;
* justification: how long the diagnosis has been recorded, how many treatments were tried,
  the recent abnormal results; and one line the clinician must write (why now).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from healthspace.clinician.drafts.compose import (
    Codes,
    DraftRequest,
    clinician_statement,
    section,
)
from healthspace.clinician.drafts.model import Composed, Language, Statement
from healthspace.clinician.drafts.record import (
    Record,
    from_item,
    icd10cm_codes,
    record_statement,
)
from healthspace.clinician.drafts.wording import TYPE_LABELS, day_text, phrase
from healthspace.clinician.summary import _is_abnormal, _ref, _result_item, _when, recent_results
from healthspace.errors import HealthspaceError
from healthspace.patient.medications import MedicationEntry, match_medicine_name
from healthspace.terminology.icd10cm import Icd10cm
from healthspace.web.timeline import concept_text


class MedicineMissingError(HealthspaceError):
    http_status = 422


def _atc_groups(entry_or_name: MedicationEntry | str) -> set[str]:
    if isinstance(entry_or_name, str):
        match = match_medicine_name(entry_or_name)
        medicines = [match.medicine] if match.medicine else list(match.ingredients)
    else:
        medicines = [entry_or_name.medicine] if entry_or_name.medicine else []
        medicines += list(entry_or_name.ingredients)
    return {code[:3] for m in medicines if m for code in m.atc}


def _same_medicine(entry: MedicationEntry, name: str) -> bool:
    match = match_medicine_name(name)
    if match.medicine is not None and entry.medicine is not None:
        return match.medicine.id == entry.medicine.id
    return name.casefold() in entry.latest.name.casefold()


def _coded(
    conditions: Sequence[Mapping[str, Any]],
    table: Icd10cm,
    lang: Language,
    wanted: str | None = None,
) -> list[Statement]:
    """One line per ICD-10-CM code of these conditions (only ``wanted`` and codes under it)."""
    by_code: dict[str, list[Mapping[str, Any]]] = {}
    for condition in conditions:
        for raw in icd10cm_codes(condition.get("code")):
            code = table.get(raw)
            if code is None:
                continue
            if wanted and code.code != wanted and not table.is_descendant(code.code, wanted):
                continue
            by_code.setdefault(code.code, []).append(condition)
    return [
        record_statement(
            phrase(
                "icd_in_record",
                lang,
                code=code,
                description=table.codes[code].description,
                text=concept_text(found[0].get("code")) or "?",
            ),
            *found,
        )
        for code, found in by_code.items()
    ]


def compose_prior_auth(record: Record, request: DraftRequest, codes: Codes) -> Composed:
    lang = request.language
    name = (request.medicine or "").strip()
    if not name:
        raise MedicineMissingError("A prior-authorization request needs --medicine NAME.")
    table = codes()
    entries = record.read.medications
    same = [e for e in entries if _same_medicine(e, name)]
    asked = [clinician_statement(phrase("requested", lang, text=name), name)]
    for entry in same:
        item = record.read.medication_item(entry)
        asked.append(from_item(item, phrase("requested_in_record", lang, text=item.text)))

    conditions = record.of("Condition")
    problems = {i.source.resource for i in record.summary.section("problems").items}
    diagnosis: list[Statement] = []
    if request.diagnosis:
        wanted = table.lookup(request.diagnosis)
        diagnosis = _coded(conditions, table, lang, wanted.code)
        if not diagnosis:
            diagnosis = [
                clinician_statement(
                    phrase("icd", lang, code=wanted.code, description=wanted.description),
                    request.diagnosis,
                )
            ]
    else:
        reasons = {r.ref for e in same for u in (e.latest, *e.history) for r in u.reasons if r.ref}
        linked = [c for c in conditions if _ref(c) in reasons]
        active = [c for c in conditions if _ref(c) in problems]
        diagnosis = _coded(linked, table, lang) or _coded(active, table, lang)
    diagnosed = [
        record.by_ref[s.resource]
        for d in diagnosis
        for s in d.sources
        if s.resource in record.by_ref
    ]
    if not diagnosis or not any(d.sources for d in diagnosis):
        diagnosis.append(Statement("", phrase("no_icd", lang), "none"))

    reason_refs = {_ref(c) for c in diagnosed}
    groups = _atc_groups(name)
    tried = [
        e
        for e in entries
        if e not in same
        and (
            any(r.ref in reason_refs for u in (e.latest, *e.history) for r in u.reasons)
            or (groups and _atc_groups(e) & groups)
        )
    ]
    tried_lines = [from_item(record.read.medication_item(e)) for e in tried]

    justification: list[Statement] = []
    for condition in dict.fromkeys(map(_ref, diagnosed)):
        resource = record.by_ref[condition]
        since = _when(resource, "onsetDateTime", "onsetPeriod.start", "recordedDate")
        if since:
            text = concept_text(resource.get("code")) or "?"
            justification.append(
                record_statement(
                    phrase("known_since", lang, text=text, date=day_text(since, lang)), resource
                )
            )
    if tried:
        sources = [record.by_ref[e.latest.ref] for e in tried if e.latest.ref in record.by_ref]
        justification.append(
            record_statement(phrase("tried_count", lang, count=len(tried)), *sources)
        )
    recent = recent_results(record.read.results, record.read.latest)
    justification += [from_item(_result_item(r)) for r in recent if _is_abnormal(r)][:5]
    justification.append(Statement("", phrase("why_now", lang), "none"))

    sections = (
        section("request", lang, asked),
        section("diagnosis", lang, diagnosis),
        section("tried_treatments", lang, tried_lines, placeholder="no_tried"),
        section("justification", lang, justification),
    )
    return Composed(f"{TYPE_LABELS['prior_auth'][lang]} — {name}", sections)
