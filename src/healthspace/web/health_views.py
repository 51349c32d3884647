"""What the My health pages pick out of a record, with no I/O: the latest result of each test
by group, the results out of range, the coming appointments and what changed lately.

Why here and not in the route handlers: which result counts as recent, which appointment as
coming and which change as new are rules a test should pin, not markup or request plumbing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, get_args

from healthspace.patient.labs import LabResult, latest, parse_moment
from healthspace.terminology.labs import Group
from healthspace.web.charts import Side
from healthspace.web.timeline import Entry, concept_text, entry, event_date

Resource = dict[str, Any]

# The groups a person most often has results in come first; the rest keep the catalog's order.
_FIRST_GROUPS = ("diabetes", "kidney", "lipids", "haematology", "electrolytes", "liver")
GROUP_ORDER: tuple[str, ...] = (
    *_FIRST_GROUPS,
    *(g for g in get_args(Group) if g not in _FIRST_GROUPS),
    "other",
)
OUT_OF_RANGE = frozenset({"low", "high", "critical"})
# A result older than this is history, not something to act on now.
RECENT_RESULTS = dt.timedelta(days=365)
RECENT_CHANGES = dt.timedelta(days=30)
# FHIR Appointment statuses of a visit that is still going to happen.
COMING_STATUSES = frozenset({"booked", "pending"})


@dataclass(frozen=True)
class LabGroup:
    key: str
    results: list[LabResult]


def latest_by_test(results: Iterable[LabResult]) -> list[LabResult]:
    """The most recent result of each test (by LOINC code)."""
    by_code: dict[str, list[LabResult]] = defaultdict(list)
    for result in results:
        by_code[result.code].append(result)
    found = (latest(items) for items in by_code.values())
    return [r for r in found if r is not None]


def group_latest(results: Iterable[LabResult], lang: str) -> list[LabGroup]:
    """The latest result of each test, grouped as a lab report groups them, by name inside."""
    groups: dict[str, list[LabResult]] = defaultdict(list)
    for result in latest_by_test(results):
        groups[result.lab.group if result.lab else "other"].append(result)
    return [
        LabGroup(key, sorted(groups[key], key=lambda r: _name(r, lang).casefold()))
        for key in GROUP_ORDER
        if key in groups
    ]


def _name(result: LabResult, lang: str) -> str:
    return result.name.fr if lang == "fr" else result.name.en


def side_of(result: LabResult) -> Side | None:
    """How a chart marks the result: "high", "low", "critical", or None when in range."""
    if result.flag in ("high", "low", "critical"):
        return result.flag
    return None


def out_of_range(results: Iterable[LabResult], today: dt.date) -> list[LabResult]:
    """The latest result of each test when it is out of range and recent; critical first,
    then newest first."""
    since = today - RECENT_RESULTS
    found = [
        r
        for r in latest_by_test(results)
        if r.flag in OUT_OF_RANGE and r.at is not None and r.at.date() >= since
    ]
    found.sort(key=lambda r: r.at or dt.datetime.min.replace(tzinfo=dt.UTC), reverse=True)
    found.sort(key=lambda r: r.flag != "critical")
    return found


def chart_history(history: Sequence[LabResult], last: LabResult) -> list[LabResult]:
    """The results of a test a chart can plot: dated plain numbers in the latest result's
    unit (a "< 0.5" or a result in another unit would be drawn in the wrong place), oldest
    first."""
    plotted = [r for r in history if r.trendable and r.unit == last.unit and r.at is not None]
    return sorted(plotted, key=lambda r: (r.at, r.resource))


@dataclass(frozen=True)
class Appointment:
    fhir_id: str
    start: str
    label: str | None
    status: str


def coming_appointments(resources: Iterable[Resource], now: dt.datetime) -> list[Appointment]:
    """Appointments booked or pending that start after ``now``, soonest first."""
    found: list[tuple[dt.datetime, Appointment]] = []
    for resource in resources:
        if resource.get("resourceType") != "Appointment":
            continue
        status = str(resource.get("status") or "")
        start = resource.get("start")
        moment = parse_moment(start)
        if status not in COMING_STATUSES or moment is None or moment <= now:
            continue
        label = (
            resource.get("description")
            or concept_text(resource.get("serviceType"))
            or concept_text(resource.get("appointmentType"))
            or concept_text(resource.get("reasonCode"))
        )
        found.append(
            (moment, Appointment(str(resource.get("id", "")), str(start), label or None, status))
        )
    return [a for _, a in sorted(found, key=lambda item: (item[0], item[1].fhir_id))]


def _changed_on(resource: Resource) -> str | None:
    """When the record says the resource last changed: meta.lastUpdated, else its date."""
    meta = resource.get("meta")
    updated = meta.get("lastUpdated") if isinstance(meta, dict) else None
    return updated if isinstance(updated, str) and updated else event_date(resource)


def recent_changes(resources: Iterable[Resource], today: dt.date) -> list[Entry]:
    """Resources added or changed in the last 30 days by their own dates, newest first.

    A date in the future (an appointment, a planned test) is not a change that happened.
    """
    since = today - RECENT_CHANGES
    found: list[tuple[str, Entry]] = []
    for resource in resources:
        if resource.get("resourceType") in ("Patient", "Appointment"):
            continue
        changed = _changed_on(resource)
        moment = parse_moment(changed)
        if changed is None or moment is None or not since <= moment.date() <= today:
            continue
        found.append((changed, entry(resource)))
    found.sort(key=lambda item: (item[1].resource_type, item[1].label))
    found.sort(key=lambda item: item[0], reverse=True)
    return [e for _, e in found]


def lab_codes(results: Iterable[LabResult]) -> dict[str, str]:
    """The test code of each Observation id that holds a lab result, for linking a timeline
    row to the test's page (a multi-part Observation links to its first part)."""
    codes: dict[str, str] = {}
    for result in results:
        kind, _, fhir_id = result.resource.partition("/")
        if kind == "Observation":
            codes.setdefault(fhir_id, result.code)
    return codes
