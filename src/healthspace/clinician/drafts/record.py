"""The person's record as the composers read it: one snapshot, grouped once.

Reuses ``clinician.summary`` for everything the patient summary already reads (problems,
medicines, allergies, results with flags and trends, encounter lines), so a draft and the
summary never disagree; adds what only drafts need: one encounter's own resources and the
hospital stays.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from healthspace.clinician.drafts.model import Source, Statement
from healthspace.clinician.summary import (
    Item,
    Summary,
    _encounter_item,
    _encounters,
    _Read,
    _read,
    _ref,
    _reference,
    _result_item,
    _when,
    summarize_resources,
)
from healthspace.errors import HealthspaceError, NotFoundError
from healthspace.patient.labs import LabResult
from healthspace.web.timeline import concept_text, event_date

Resource = dict[str, Any]

# Encounter.class codes (v3 ActCode) of a stay in hospital.
INPATIENT_CLASSES = frozenset({"IMP", "ACUTE", "NONAC"})
ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"


class NoEncounterError(HealthspaceError):
    """The record holds no encounter of the kind the draft is about."""

    http_status = 409


def from_item(item: Item, text: str | None = None) -> Statement:
    """A summary line as a draft statement with the same sources."""
    return Statement(
        "",
        text or item.text,
        "record",
        tuple(Source(s.resource, s.date) for s in item.sources),
    )


def record_statement(text: str, *resources: Mapping[str, Any]) -> Statement:
    """A statement resting on record resources, each with the date the record gives it."""
    return Statement(
        "", text, "record", tuple(Source(_ref(r), event_date(dict(r))) for r in resources)
    )


def is_inpatient(encounter: Mapping[str, Any]) -> bool:
    code = (encounter.get("class") or {}).get("code")
    return code in INPATIENT_CLASSES or bool(encounter.get("hospitalization"))


def icd10cm_codes(concept: Any) -> list[str]:
    """The ICD-10-CM codes a CodeableConcept carries."""
    if not isinstance(concept, dict):
        return []
    return [
        str(c["code"])
        for c in concept.get("coding") or []
        if isinstance(c, dict) and c.get("system") == ICD10CM_SYSTEM and c.get("code")
    ]


@dataclass
class Record:
    """One person's decoded resources, with the practitioners they point to."""

    resources: Sequence[Resource]
    practitioners: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    today: date | None = None

    @cached_property
    def read(self) -> _Read:
        # Every result from the earliest encounter on would cost too much; results of an
        # encounter are read separately (``results_of``).
        return _read(self.resources, self.practitioners, self.today)

    @cached_property
    def summary(self) -> Summary:
        return summarize_resources(self.resources, self.practitioners, self.today)

    @cached_property
    def by_ref(self) -> dict[str, Resource]:
        return {_ref(r): r for r in self.resources}

    @property
    def patient(self) -> Resource:
        patients = self.read.of("Patient")
        if not patients:
            raise NotFoundError("This record has no Patient resource: import the patient first.")
        return patients[0]

    def of(self, kind: str) -> list[Resource]:
        return self.read.of(kind)

    @cached_property
    def condition_names(self) -> dict[str, str]:
        return {
            _ref(r): text for r in self.of("Condition") if (text := concept_text(r.get("code")))
        }

    # -- encounters -------------------------------------------------------------------------

    def encounter(self, encounter_id: str | None, inpatient: bool = False) -> Resource:
        """The encounter asked for, else the latest one (the latest hospital stay)."""
        visits = _encounters(self.of("Encounter"))
        if encounter_id:
            wanted = encounter_id.removeprefix("Encounter/")
            found = next((e for e in visits if e.get("id") == wanted), None)
            if found is None:
                raise NotFoundError(
                    f"Encounter/{wanted} is not in this person's record. List encounters with: "
                    "healthspace resources PERSON --type Encounter"
                )
            if inpatient and not is_inpatient(found):
                raise NoEncounterError(
                    f"Encounter/{wanted} is not a hospital stay (its class is not inpatient): "
                    "a discharge summary needs one."
                )
            return dict(found)
        if inpatient:
            visits = [e for e in visits if is_inpatient(e)]
        if not visits:
            what = "hospital stay" if inpatient else "encounter"
            raise NoEncounterError(f"This person's record holds no {what} to write about.")
        latest = max(visits, key=lambda e: (_when(e, "period.start") or "", str(e.get("id"))))
        return dict(latest)

    def encounter_line(self, encounter: Mapping[str, Any]) -> Item:
        return _encounter_item(encounter, self.condition_names)

    def of_encounter(
        self, encounter: Mapping[str, Any], kinds: Iterable[str], within_period: bool = False
    ) -> list[Resource]:
        """Resources that point to the encounter (R4 ``encounter``, or ``context`` for a
        MedicationStatement); with ``within_period``, also those dated inside its period."""
        ref = _ref(encounter)
        start = _when(encounter, "period.start")
        end = _when(encounter, "period.end")
        found = []
        for kind in kinds:
            for resource in self.of(kind):
                points = _reference(resource.get("encounter") or resource.get("context")) == ref
                if not points and within_period and start and end:
                    when = event_date(resource)
                    points = bool(when) and start[:10] <= str(when)[:10] <= end[:10]
                if points:
                    found.append(resource)
        return found

    def reason_conditions(self, encounter: Mapping[str, Any]) -> list[Resource]:
        """The conditions an encounter names as its reason or diagnosis."""
        refs = [_reference(r) for r in encounter.get("reasonReference") or []]
        refs += [_reference(d.get("condition")) for d in encounter.get("diagnosis") or []]
        return [
            self.by_ref[ref]
            for ref in dict.fromkeys(r for r in refs if r)
            if ref in self.by_ref and ref.startswith("Condition/")
        ]

    def results_of(self, resources: Iterable[Mapping[str, Any]]) -> list[LabResult]:
        """Lab results (flagged, with ranges) among these Observations."""
        from healthspace.patient.labs import lab_results, person_facts

        wanted = [dict(r) for r in resources if r.get("resourceType") == "Observation"]
        if not wanted:
            return []
        return lab_results([*wanted, self.patient], person_facts(self.patient))

    def result_line(self, result: LabResult) -> Item:
        return _result_item(result)


def observation_text(resource: Mapping[str, Any]) -> str:
    """A non-lab observation (a vital sign) in one line: its name, value and unit."""
    name = concept_text(resource.get("code")) or "Observation"
    values = []
    if "component" in resource:
        for part in resource.get("component") or []:
            value = _value_text(part)
            if value:
                values.append(f"{concept_text(part.get('code')) or ''} {value}".strip())
    else:
        value = _value_text(resource)
        if value:
            values.append(value)
    return f"{name}: {', '.join(values) or 'no value'}"


def _value_text(holder: Mapping[str, Any]) -> str | None:
    quantity = holder.get("valueQuantity")
    if isinstance(quantity, dict) and quantity.get("value") is not None:
        return f"{quantity['value']:g} {quantity.get('unit') or quantity.get('code') or ''}".strip()
    for key in ("valueString", "valueBoolean", "valueInteger"):
        if key in holder:
            return str(holder[key])
    return concept_text(holder.get("valueCodeableConcept"))
