"""A patient summary in the shape of the International Patient Summary (IPS), with provenance.

Pure: a person's decoded FHIR R4 resources in, sections of items out, no I/O. Every item
carries the record resource(s) it rests on ("Type/id" and the date), so a clinician can open
the source of any line; the service (``summary_service``) reads the vault once and calls
``summarize_resources`` or ``changes_since``.

Rules the sections follow:

* problems: a Condition whose ``clinicalStatus`` is active, recurrence or relapse is active;
  inactive, remission or resolved is a past problem; refuted or entered-in-error ones are left
  out. With no status, an abatement date makes it past (FHIR allows the status to be absent
  only when the verification status is entered-in-error, but older exports omit it);
* medicines: current or stopped by ``patient.medications`` (one entry per medicine, its most
  recent resource decides), so the summary and ``healthspace meds`` never disagree;
* results: the latest result of each test within ``RESULTS_WINDOW`` (12 months) of the
  record's latest date, abnormal ones first, with the trend ``patient.labs`` computed;
* duplicates across sources (the GP's export and the hospital's both list the diabetes) are
  one item listing every source: same code (any shared system+code; the text when uncoded)
  and overlapping periods.
"""

from __future__ import annotations

from bisect import insort
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from healthspace.patient.allergies import read_allergy
from healthspace.patient.labs import LabResult, lab_results, parse_moment, person_facts
from healthspace.patient.medications import (
    Lookups,
    MedicationEntry,
    MedicationUse,
    is_patient_reported,
    medication_list,
)
from healthspace.web.timeline import concept_text, event_date

Resource = dict[str, Any]

RESULTS_WINDOW = timedelta(days=365)
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)
RECENT_ENCOUNTERS = 10

ACTIVE_PROBLEM = frozenset({"active", "recurrence", "relapse"})
PAST_PROBLEM = frozenset({"inactive", "remission", "resolved"})
_NOT_TRUE = frozenset({"refuted", "entered-in-error"})
_NORMAL_FLAGS = frozenset({"normal"})

# IPS section codes (LOINC), as the IPS Composition profile slices them. The care team has no
# IPS section of its own and stopped medicines share the medication summary's code.
SECTION_CODES: dict[str, str | None] = {
    "problems": "11450-4",
    "past_problems": "11348-0",
    "medications": "10160-0",
    "stopped_medications": "10160-0",
    "allergies": "48765-2",
    "results": "30954-2",
    "immunizations": "11369-6",
    "procedures": "47519-4",
    "encounters": "46240-8",
    "care_team": None,
}
SECTION_TITLES = {
    "problems": "Active problems",
    "past_problems": "Past problems",
    "medications": "Current medications",
    "stopped_medications": "Stopped medications",
    "allergies": "Allergies and intolerances",
    "results": "Recent and abnormal results",
    "immunizations": "Immunizations",
    "procedures": "Procedures",
    "encounters": "Recent encounters",
    "care_team": "Care team",
}
CHANGE_TITLES = {
    "problems": "New problems",
    "medications_started": "Medicines started",
    "medications_stopped": "Medicines stopped",
    "results": "New abnormal results",
    "immunizations": "New immunizations",
    "procedures": "New procedures",
    "encounters": "Encounters",
}


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class SourceRef:
    """A record resource an item rests on."""

    resource: str
    date: str | None

    def as_json(self) -> dict[str, Any]:
        return {"resource": self.resource, "date": self.date}


@dataclass(frozen=True)
class Item:
    """One line of a section. ``keys`` and the period decide whether two lines are the same."""

    text: str
    sources: tuple[SourceRef, ...]
    keys: frozenset[str] = frozenset()
    start: datetime | None = None
    end: datetime | None = None
    # Sorting hint inside a section (most recent first unless a section says otherwise).
    order: tuple[Any, ...] = ()

    @property
    def source(self) -> SourceRef:
        return self.sources[0]

    def as_json(self) -> dict[str, Any]:
        """DESIGN.md's item: its text and source; every source when several were merged."""
        out: dict[str, Any] = {"text": self.text, "source": self.source.as_json()}
        if len(self.sources) > 1:
            out["sources"] = [s.as_json() for s in self.sources]
        return out


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    code: str | None
    items: tuple[Item, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "code": self.code,
            "items": [i.as_json() for i in self.items],
        }


@dataclass(frozen=True)
class Summary:
    sections: tuple[Section, ...] = field(default_factory=tuple)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def as_json(self) -> dict[str, Any]:
        return {"sections": [s.as_json() for s in self.sections]}


# --------------------------------------------------------------------------- reading FHIR


def _ref(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def _status(concept: Any) -> str | None:
    if isinstance(concept, dict):
        for coding in concept.get("coding") or []:
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                return str(coding["code"])
        if isinstance(concept.get("text"), str):
            return str(concept["text"]).casefold()
    return None


def _code_keys(concept: Any, text: str | None) -> frozenset[str]:
    """Every system|code of a concept; the folded text when it has no coding."""
    keys: set[str] = set()
    concepts = concept if isinstance(concept, list) else [concept]
    for one in concepts:
        if not isinstance(one, dict):
            continue
        for coding in one.get("coding") or []:
            if isinstance(coding, dict) and coding.get("code"):
                keys.add(f"{coding.get('system') or ''}|{coding['code']}")
    if not keys and text:
        keys.add("text:" + " ".join(text.casefold().split()))
    return frozenset(keys)


def _day(value: Any) -> str | None:
    return value[:10] if isinstance(value, str) and len(value) >= 4 else None


def _reference(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("reference"), str):
        return str(value["reference"]).split("/_history/")[0]
    return None


def _when(resource: Mapping[str, Any], *paths: str) -> str | None:
    for path in paths:
        value: Any = resource
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and value:
            return value
    return None


def record_latest(resources: Iterable[Resource]) -> datetime | None:
    """The latest day the record speaks of: the "now" of a record that may be years old.

    Compared as "YYYY-MM-DD" strings, parsed once: a time zone cannot move a 12-month window
    by more than a day, and parsing every date of a 20,000-resource record costs more.
    """
    days = (event_date(resource) for resource in resources)
    latest = max((day[:10] for day in days if day and len(day) >= 4), default=None)
    return parse_moment(latest)


# A result's trend needs the results before it; the latest few per test are enough because
# ``patient.labs`` compares a result only with the previous one in the same unit.
RESULTS_KEPT_PER_TEST = 3


def _observation_day(resource: Mapping[str, Any]) -> str | None:
    return _when(
        resource, "effectiveDateTime", "effectiveInstant", "effectivePeriod.start", "issued"
    )


def lab_candidates(resources: Sequence[Resource], since: date | None = None) -> list[Resource]:
    """The resources ``lab_results`` needs for the summary: every non-Observation (reports
    link results; the Patient gives sex and age for ranges), the latest few Observations of
    each test, and every Observation on or after ``since``.

    Flagging a result (units, ranges) is the costly part of the summary; a 10-year record holds
    dozens of results per test of which only the latest are shown.
    """
    others: list[Resource] = []
    by_test: dict[frozenset[str], list[tuple[str, int]]] = defaultdict(list)
    kept: set[int] = set()
    floor = since.isoformat() if since else None
    for index, resource in enumerate(resources):
        if resource.get("resourceType") != "Observation":
            others.append(resource)
            continue
        day = _observation_day(resource)
        if not day:
            continue  # an undated result has no place among recent ones nor a trend
        if floor is not None and day[:10] >= floor:
            kept.add(index)
        by_test[_code_keys(resource.get("code"), None)].append((day, index))
    for dated in by_test.values():
        dated.sort(reverse=True)
        kept.update(index for _, index in dated[:RESULTS_KEPT_PER_TEST])
    return [*others, *(resources[i] for i in sorted(kept))]


# --------------------------------------------------------------------------- merging


def merge_duplicates(items: Iterable[Item]) -> list[Item]:
    """One item per clinical fact: items sharing a code key whose periods overlap are merged.

    The earliest-starting item gives the text; the merged item lists every source, its own
    first. Items without any key are never merged.

    Items come in start order, so a merged item that ended before the current item started can
    overlap no later dated item: it leaves the key's ``live`` list (a renewed prescription seen
    a thousand times stays one short list, not a quadratic scan). Undated items, which overlap
    everything, are matched against every item of the key, as before.
    """
    ordered = sorted(items, key=lambda i: (i.start is None, i.start or _EARLIEST))
    merged: list[Item] = []
    by_key: dict[str, list[int]] = defaultdict(list)
    live: dict[str, list[int]] = defaultdict(list)
    for item in ordered:
        candidates = by_key if item.start is None else live
        target = None
        for key in sorted(item.keys):
            indexes = candidates.get(key, [])
            if item.start is not None:
                indexes[:] = [i for i in indexes if not _ended_before(merged[i], item.start)]
            target = next((i for i in indexes if _overlap(merged[i], item)), None)
            if target is not None:
                break
        if target is None:
            index = len(merged)
            merged.append(item)
        else:
            current = merged[target]
            merged[target] = Item(
                current.text,
                tuple(dict.fromkeys([*current.sources, *item.sources])),
                current.keys | item.keys,
                current.start,
                _later_end(current.end, item.end),
                current.order if current.order >= item.order else item.order,
            )
            index = target
        for key in merged[index].keys:
            for table in (by_key, live):
                if index not in table[key]:
                    insort(table[key], index)
    return merged


def _ended_before(item: Item, moment: datetime) -> bool:
    return item.start is not None and item.end is not None and item.end < moment


def _overlap(first: Item, second: Item) -> bool:
    """Same period: both open-ended or undated count as overlapping; a start inside the other."""
    if first.start is None or second.start is None:
        return True
    first_end = first.end or _LATEST
    second_end = second.end or _LATEST
    return first.start <= second_end and second.start <= first_end


def _later_end(first: datetime | None, second: datetime | None) -> datetime | None:
    if first is None or second is None:
        return None  # one of them is still ongoing
    return max(first, second)


def _newest_first(items: Iterable[Item]) -> tuple[Item, ...]:
    return tuple(sorted(items, key=lambda i: i.order, reverse=True))


# --------------------------------------------------------------------------- sections


def _condition_item(resource: Mapping[str, Any]) -> tuple[str, Item] | None:
    """("problems" | "past_problems", item), or None for a refuted or mistaken condition."""
    if _status(resource.get("verificationStatus")) in _NOT_TRUE:
        return None
    clinical = _status(resource.get("clinicalStatus"))
    onset = _when(resource, "onsetDateTime", "onsetPeriod.start", "recordedDate")
    abated = _when(resource, "abatementDateTime", "abatementPeriod.end", "abatementPeriod.start")
    if clinical in ACTIVE_PROBLEM:
        kind = "problems"
    elif clinical in PAST_PROBLEM or (clinical is None and abated):
        kind = "past_problems"
    else:
        kind = "problems"
    text = concept_text(resource.get("code")) or "Condition"
    when = f"since {_day(onset)}" if onset else ""
    if kind == "past_problems":
        span = f"{_day(onset) or '?'} to {_day(abated)}" if abated else _day(onset) or ""
        when = f"{clinical or 'resolved'}, {span}".rstrip(", ")
    start = parse_moment(onset)
    item = Item(
        f"{text} ({when})" if when else text,
        (SourceRef(_ref(resource), onset),),
        _code_keys(resource.get("code"), text),
        start,
        parse_moment(abated) if kind == "past_problems" else None,
        (start.isoformat() if start else "",),
    )
    return kind, item


def _use_source(use: MedicationUse) -> SourceRef:
    return SourceRef(use.ref, use.recorded or use.since)


def stop_details(resource: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """When and why a medicine was stopped, as far as the resource says.

    FHIR R4 has no "stopped on" element for a MedicationRequest: the end of its validity
    period, else the time of a note written with a stopped status, is the best evidence.
    """
    if not resource:
        return None, None
    reason = concept_text(resource.get("statusReason"))
    when = _when(resource, "dispenseRequest.validityPeriod.end", "effectivePeriod.end")
    if when is None and resource.get("status") in ("stopped", "completed"):
        times = [n.get("time") for n in resource.get("note") or [] if isinstance(n, dict)]
        when = max((t for t in times if isinstance(t, str)), default=None)
    return when, reason


def _medication_item(entry: MedicationEntry, by_ref: Mapping[str, Mapping[str, Any]]) -> Item:
    use = entry.latest
    parts = [use.name]
    if use.dosage:
        parts.append(f"— {use.dosage[0]}")
    first = min((u.since for u in (use, *entry.history) if u.since), default=None)
    if entry.current:
        if first:
            parts.append(f"(since {first})")
    else:
        stopped, why = stop_details(by_ref.get(use.ref))
        span = f"from {first} " if first else ""
        span += f"to {_day(stopped)}" if stopped else ""
        details = [use.status, span.strip(), why and f"reason: {why}"]
        parts.append(f"({'; '.join(d for d in details if d)})")
    if use.patient_reported:
        parts.append("[patient-reported]")
    sources = tuple(_use_source(u) for u in (entry.latest, *entry.history))
    return Item(" ".join(parts), sources, order=(use.recorded or use.since or "",))


def _allergy_items(resources: Sequence[Mapping[str, Any]]) -> list[Item]:
    items = []
    for resource in resources:
        allergy = read_allergy(dict(resource), is_patient_reported(dict(resource)))
        if allergy is None or allergy.verification_status == "refuted":
            continue
        details = [d for d in (allergy.criticality and f"criticality {allergy.criticality}",) if d]
        if allergy.reactions:
            details.insert(0, "reaction: " + ", ".join(allergy.reactions))
        if not allergy.active:
            details.append(allergy.clinical_status or "inactive")
        text = allergy.text + (f" ({'; '.join(details)})" if details else "")
        recorded = _when(resource, "recordedDate", "onsetDateTime")
        items.append(
            Item(
                text,
                (SourceRef(allergy.ref, recorded),),
                _code_keys(resource.get("code"), allergy.text),
                order=(allergy.active, recorded or ""),
            )
        )
    return items


def _result_text(result: LabResult) -> str:
    name = result.name.en
    if isinstance(result.value, float):
        number = f"{result.value:g}"
        value = f"{result.comparator or ''}{number} {result.unit or ''}".strip()
    elif isinstance(result.value, str):
        value = result.value
    else:
        value = f"no value ({result.absent_reason})" if result.absent_reason else "no value"
    parts = [f"{name}: {value}"]
    if result.flag and result.flag not in _NORMAL_FLAGS:
        parts.append(f"[{result.flag}]")
    if result.low is not None or result.high is not None:
        parts.append(f"(range {_bound(result.low)}–{_bound(result.high)})")
    parts.append(f"on {_day(result.date) or '?'}")
    trend = result.trend
    if trend is not None:
        sign = "+" if trend.change > 0 else ""
        parts.append(
            f"— {trend.direction} ({sign}{trend.change:g} since {_day(trend.previous_date)})"
        )
    return " ".join(parts)


def _bound(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _is_abnormal(result: LabResult) -> bool:
    return result.flag is not None and result.flag not in _NORMAL_FLAGS


def recent_results(results: Sequence[LabResult], latest: datetime | None) -> list[LabResult]:
    """The latest result of each test within RESULTS_WINDOW of ``latest``, abnormal first."""
    newest: dict[str, LabResult] = {}
    for result in results:
        if result.at is None:
            continue
        if latest is not None and result.at < latest - RESULTS_WINDOW:
            continue
        held = newest.get(result.code)
        if held is None or (result.at, result.resource) > (held.at, held.resource):
            newest[result.code] = result
    return sorted(
        newest.values(),
        key=lambda r: (not _is_abnormal(r), r.flag != "critical", r.name.en.casefold()),
    )


def _result_item(result: LabResult) -> Item:
    return Item(_result_text(result), (SourceRef(result.resource, result.date),))


def _event_items(
    resources: Sequence[Mapping[str, Any]],
    concept: str,
    fallback: str,
    dates: tuple[str, ...],
    end: str | None = None,
) -> list[Item]:
    """Dated events (immunizations, procedures): one item each, done ones only."""
    items = []
    for resource in resources:
        if resource.get("status") in ("not-done", "entered-in-error"):
            continue
        when = _when(resource, *dates)
        text = concept_text(resource.get(concept)) or fallback
        moment = parse_moment(when)
        items.append(
            Item(
                f"{text} ({_day(when) or 'date unknown'})",
                (SourceRef(_ref(resource), when),),
                _code_keys(resource.get(concept), text),
                moment,
                (parse_moment(_when(resource, end)) if end else None) or moment,
                (when or "",),
            )
        )
    return items


def _immunization_items(resources: Sequence[Mapping[str, Any]]) -> list[Item]:
    return _event_items(
        resources, "vaccineCode", "Immunization", ("occurrenceDateTime", "recorded")
    )


def _procedure_items(resources: Sequence[Mapping[str, Any]]) -> list[Item]:
    return _event_items(
        resources,
        "code",
        "Procedure",
        ("performedDateTime", "performedPeriod.start"),
        end="performedPeriod.end",
    )


def _encounter_item(resource: Mapping[str, Any], names: Mapping[str, str]) -> Item:
    when = _when(resource, "period.start")
    kind = concept_text(resource.get("type")) or concept_text(resource.get("class")) or "Visit"
    reasons = [text for text in (concept_text(c) for c in resource.get("reasonCode") or []) if text]
    reasons += [
        text
        for text in (
            names.get(_reference(r) or "") or (r.get("display") if isinstance(r, dict) else None)
            for r in resource.get("reasonReference") or []
        )
        if text
    ]
    text = f"{_day(when) or '?'} · {kind}"
    if reasons:
        text += f" — {', '.join(dict.fromkeys(reasons))}"
    moment = parse_moment(when)
    return Item(
        text,
        (SourceRef(_ref(resource), when),),
        _code_keys(resource.get("type"), kind),
        moment,
        moment,
        (moment.isoformat() if moment else "",),
    )


def _encounters(resources: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [
        r
        for r in resources
        if r.get("resourceType") == "Encounter"
        and r.get("status") not in ("entered-in-error", "cancelled")
    ]


def _condition_names(resources: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {
        _ref(r): text
        for r in resources
        if r.get("resourceType") == "Condition"
        for text in [concept_text(r.get("code"))]
        if text
    }


_LOOKUP_TYPES = ("Condition", "Medication", "Practitioner", "PractitionerRole", "Organization")

# Who took part, per referencing type: (element, nested key holding the reference or None).
_CARE_TEAM_PATHS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "Encounter": (("participant", "individual"),),
    "MedicationRequest": (("requester", None),),
    "ServiceRequest": (("requester", None), ("performer", None)),
    "Procedure": (("performer", "actor"),),
    "Immunization": (("performer", "actor"),),
}


def _participants(resource: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    for element, nested in _CARE_TEAM_PATHS.get(str(resource.get("resourceType")), ()):
        value = resource.get(element)
        for entry in value if isinstance(value, list) else [value]:
            target = entry.get(nested) if nested and isinstance(entry, dict) else entry
            if isinstance(target, dict) and str(target.get("reference", "")).startswith(
                ("Practitioner/", "PractitionerRole/")
            ):
                found.append(target)
    return found


def care_team_references(resources: Iterable[Mapping[str, Any]]) -> set[str]:
    """The practitioners the record's encounters and requests point to, as "Type/id"."""
    return {
        ref
        for resource in resources
        for target in _participants(resource)
        for ref in [_reference(target)]
        if ref
    }


def practitioner_label(practitioner: Mapping[str, Any]) -> str | None:
    """A Practitioner's name, with its first qualification when it has one."""
    name = None
    for entry in practitioner.get("name") or []:
        if isinstance(entry, dict):
            name = (
                entry.get("text")
                or " ".join(
                    [
                        *(entry.get("prefix") or []),
                        *(entry.get("given") or []),
                        entry.get("family", ""),
                    ]
                ).strip()
            )
            if name:
                break
    if not name:
        return None
    qualifications = [
        concept_text(q.get("code"))
        for q in practitioner.get("qualification") or []
        if isinstance(q, dict)
    ]
    role = next((q for q in qualifications if q), None)
    return f"{name}, {role}" if role else str(name)


def _care_team_items(
    resources: Sequence[Resource], practitioners: Mapping[str, Mapping[str, Any]]
) -> list[Item]:
    """One item per practitioner: named from a Practitioner resource, else the display text;
    its source is the most recent resource that refers to them."""
    # Per practitioner reference: name, how many resources refer to them, latest date and ref.
    seen: dict[str, tuple[str, int, str | None, str]] = {}
    for resource in resources:
        for target in _participants(resource):
            ref = _reference(target)
            if not ref:
                continue
            when = event_date(resource)
            name, count, last, last_ref = seen.get(ref, ("", 0, None, ""))
            if not name:
                known = practitioners.get(ref)
                display = target.get("display")
                name = (practitioner_label(known) if known else None) or (
                    display if isinstance(display, str) and display.strip() else ref
                )
            if last is None or (when or "") > last:
                last, last_ref = when, _ref(resource)
            seen[ref] = (name, count + 1, last, last_ref)
    items = []
    for name, count, last, last_ref in seen.values():
        times = "1 record entry" if count == 1 else f"{count} record entries"
        items.append(
            Item(
                f"{name} ({times}, latest {_day(last) or '?'})",
                (SourceRef(last_ref, last),),
                order=(count, last or ""),
            )
        )
    return items


def by_type(resources: Iterable[Resource]) -> dict[str, list[Resource]]:
    """The resources grouped by resourceType, in one pass over the record."""
    grouped: dict[str, list[Resource]] = defaultdict(list)
    for resource in resources:
        grouped[str(resource.get("resourceType"))].append(resource)
    return grouped


def _section(
    key: str, items: Iterable[Item], titles: Mapping[str, str] = SECTION_TITLES
) -> Section:
    return Section(key, titles[key], SECTION_CODES.get(key), tuple(items))


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class _Read:
    """The record read once, shared by the summary and the changes view."""

    problems: list[Item]
    past_problems: list[Item]
    medications: list[MedicationEntry]
    # The medication resources by "Type/id", for what MedicationUse does not keep (stop notes).
    medication_resources: dict[str, Resource]
    results: list[LabResult]
    latest: datetime | None
    types: dict[str, list[Resource]]

    def of(self, kind: str) -> list[Resource]:
        return self.types.get(kind, [])

    def of_types(self, kinds: Iterable[str]) -> list[Resource]:
        return [r for kind in kinds for r in self.of(kind)]

    def medication_item(self, entry: MedicationEntry) -> Item:
        return _medication_item(entry, self.medication_resources)


def _read(
    resources: Sequence[Resource],
    practitioners: Mapping[str, Mapping[str, Any]],
    today: date | None,
    since: date | None = None,
) -> _Read:
    conditions: dict[str, list[Item]] = {"problems": [], "past_problems": []}
    types = by_type(resources)
    for resource in types.get("Condition", []):
        found = _condition_item(resource)
        if found:
            conditions[found[0]].append(found[1])
    patient = next(iter(types.get("Patient", [])), None)
    # What medication resources point to: reasons, products and prescribers.
    lookups = Lookups.of(
        [
            *(r for kind in _LOOKUP_TYPES for r in types.get(kind, [])),
            *(dict(p) for p in practitioners.values()),
        ]
    )
    medication_resources = {
        _ref(r): r
        for r in [*types.get("MedicationRequest", []), *types.get("MedicationStatement", [])]
    }
    medicines = medication_list(medication_resources.values(), lookups, today)
    return _Read(
        conditions["problems"],
        conditions["past_problems"],
        list(medicines.entries),
        medication_resources,
        lab_results(lab_candidates(resources, since), person_facts(patient)),
        record_latest(resources),
        types,
    )


def summarize_resources(
    resources: Sequence[Resource],
    practitioners: Mapping[str, Mapping[str, Any]] | None = None,
    today: date | None = None,
    encounters: int = RECENT_ENCOUNTERS,
) -> Summary:
    """The IPS sections of one person's record.

    ``practitioners`` maps "Practitioner/id" to shared Practitioner resources, for the care
    team's names; ``today`` decides whether a prescription has expired (default: today).
    """
    practitioners = practitioners or {}
    read = _read(resources, practitioners, today)
    names = _condition_names(read.of("Condition"))
    visits = sorted(
        (_encounter_item(r, names) for r in _encounters(read.of("Encounter"))),
        key=lambda i: i.order,
        reverse=True,
    )
    return Summary(
        (
            _section("problems", _newest_first(merge_duplicates(read.problems))),
            _section("past_problems", _newest_first(merge_duplicates(read.past_problems))),
            _section(
                "medications", (read.medication_item(e) for e in read.medications if e.current)
            ),
            _section(
                "stopped_medications",
                (read.medication_item(e) for e in read.medications if not e.current),
            ),
            _section(
                "allergies",
                _newest_first(merge_duplicates(_allergy_items(read.of("AllergyIntolerance")))),
            ),
            _section(
                "results", (_result_item(r) for r in recent_results(read.results, read.latest))
            ),
            _section(
                "immunizations",
                _newest_first(merge_duplicates(_immunization_items(read.of("Immunization")))),
            ),
            _section(
                "procedures",
                _newest_first(merge_duplicates(_procedure_items(read.of("Procedure")))),
            ),
            _section("encounters", _newest_first(merge_duplicates(visits[: max(encounters, 0)]))),
            _section(
                "care_team",
                _newest_first(_care_team_items(read.of_types(_CARE_TEAM_PATHS), practitioners)),
            ),
        )
    )


def _on_or_after(value: str | None, since: date) -> bool:
    moment = parse_moment(value)
    return moment is not None and moment.date() >= since


def changes_since(
    resources: Sequence[Resource],
    since: date,
    practitioners: Mapping[str, Mapping[str, Any]] | None = None,
    today: date | None = None,
) -> Summary:
    """What is new or changed on or after ``since``, for the next visit: new problems, medicine
    starts and stops, new abnormal results, immunizations, procedures and encounters."""
    practitioners = practitioners or {}
    read = _read(resources, practitioners, today, since)
    problems = [
        i
        for i in merge_duplicates([*read.problems, *read.past_problems])
        if any(_on_or_after(s.date, since) for s in i.sources)
        or (i.end is not None and i.end.date() >= since)
    ]
    started = [
        e
        for e in read.medications
        if e.current
        and any(_on_or_after(u.since or u.recorded, since) for u in (e.latest, *e.history))
    ]
    stopped = [
        e
        for e in read.medications
        if not e.current
        and _on_or_after(
            stop_details(read.medication_resources.get(e.latest.ref))[0] or e.latest.recorded,
            since,
        )
    ]
    abnormal = sorted(
        (r for r in read.results if _is_abnormal(r) and r.at is not None and r.at.date() >= since),
        key=lambda r: (r.at, r.resource),
        reverse=True,
    )
    names = _condition_names(read.of("Condition"))
    visits = sorted(
        (
            _encounter_item(r, names)
            for r in _encounters(read.of("Encounter"))
            if _on_or_after(_when(r, "period.start"), since)
        ),
        key=lambda i: i.order,
        reverse=True,
    )
    immunizations = [
        i
        for i in _immunization_items(read.of("Immunization"))
        if _on_or_after(i.source.date, since)
    ]
    procedures = [
        i for i in _procedure_items(read.of("Procedure")) if _on_or_after(i.source.date, since)
    ]
    return Summary(
        (
            _section("problems", _newest_first(problems), CHANGE_TITLES),
            _section("medications_started", map(read.medication_item, started), CHANGE_TITLES),
            _section("medications_stopped", map(read.medication_item, stopped), CHANGE_TITLES),
            _section("results", map(_result_item, abnormal), CHANGE_TITLES),
            _section(
                "immunizations", _newest_first(merge_duplicates(immunizations)), CHANGE_TITLES
            ),
            _section("procedures", _newest_first(merge_duplicates(procedures)), CHANGE_TITLES),
            _section("encounters", visits, CHANGE_TITLES),
        )
    )
