"""The timeline and readable rows computed from FHIR resources (no I/O)."""

from __future__ import annotations

from typing import Any

from healthspace.web.timeline import (
    Quantity,
    build_timeline,
    entry,
    event_date,
    label,
    readable_rows,
    reference_range,
)

LOINC_GLUCOSE = {"system": "http://loinc.org", "code": "1558-6", "display": "Fasting glucose"}


def observation(fhir_id: str, when: str | None, value: float = 5.4) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": fhir_id,
        "code": {"coding": [LOINC_GLUCOSE], "text": "Glycémie à jeun"},
        "valueQuantity": {"value": value, "unit": "mmol/L"},
        "interpretation": [{"coding": [{"code": "H"}]}],
    }
    if when:
        resource["effectiveDateTime"] = when
    return resource


def test_each_type_is_dated_by_its_own_element() -> None:
    assert event_date({"resourceType": "Encounter", "period": {"start": "2021-03-01"}}) == (
        "2021-03-01"
    )
    assert event_date({"resourceType": "Immunization", "occurrenceDateTime": "2020-11"}) == (
        "2020-11"
    )
    assert event_date({"resourceType": "MedicationRequest", "authoredOn": "2019"}) == "2019"
    assert event_date({"resourceType": "Condition", "recordedDate": "2018-01-02"}) == "2018-01-02"
    assert event_date({"resourceType": "Patient", "birthDate": "1962-05-23"}) is None


def test_labels_come_from_the_records_own_words() -> None:
    assert label(observation("a", None)) == "Glycémie à jeun"
    assert label({"resourceType": "Encounter", "type": [{"coding": [{"display": "Visit"}]}]}) == (
        "Visit"
    )
    assert label({"resourceType": "Condition", "code": {"coding": [{"code": "E11.9"}]}}) == (
        "E11.9"
    )
    assert label({"resourceType": "Goal"}) == "Goal"


def test_timeline_is_newest_first_grouped_by_year_with_undated_last() -> None:
    records = [
        {"resourceType": "Patient", "id": "p"},
        observation("old", "2023-01-05T08:00:00+01:00"),
        observation("new", "2024-06-01T08:00:00+02:00"),
        observation("mid", "2024-02-01"),
        observation("none", None),
        {"resourceType": "Immunization", "id": "v", "occurrenceDateTime": "2024-06-01"},
    ]
    timeline = build_timeline(records)
    assert [g.year for g in timeline.years] == ["2024", "2023"]
    assert [e.fhir_id for e in timeline.years[0].entries] == ["new", "v", "mid"]
    assert [e.fhir_id for e in timeline.undated] == ["none"]
    assert dict(timeline.counts) == {"Observation": 4, "Immunization": 1, "Patient": 1}
    assert timeline.total == 6


def test_a_type_filter_narrows_the_entries_but_not_the_counts() -> None:
    records = [observation("o", "2024-01-01"), {"resourceType": "Procedure", "id": "x"}]
    timeline = build_timeline(records, "Procedure")
    assert timeline.years == [] and [e.fhir_id for e in timeline.undated] == ["x"]
    assert timeline.total == 2


def test_an_entry_carries_the_value_and_the_labs_flag() -> None:
    item = entry(observation("o", "2024-01-01", 7.9))
    assert item.values == (Quantity(7.9, "mmol/L"),) and item.flag == "H"
    panel = {
        "resourceType": "Observation",
        "component": [
            {"valueQuantity": {"value": 135, "unit": "mmHg"}},
            {"valueQuantity": {"value": 85, "unit": "mmHg"}},
        ],
    }
    assert entry(panel).values == (Quantity(135, "mmHg"), Quantity(85, "mmHg"))


def test_readable_rows_fold_codings_and_quantities_into_one_line() -> None:
    resource = observation("o", "2024-01-01")
    resource["referenceRange"] = [{"low": {"value": 3.9, "unit": "mmol/L"}}]
    resource["category"] = [{"coding": [{"code": "a", "system": "x"}, {"code": "b"}]}]
    rows = {row.path: row.value for row in readable_rows(resource)}
    assert rows[("Code", "Coding")] == "Fasting glucose (LOINC 1558-6)"
    assert rows[("Value quantity",)] == Quantity(5.4, "mmol/L")
    assert rows[("Reference range", "Low")] == Quantity(3.9, "mmol/L")
    assert rows[("Effective date time",)] == "2024-01-01"
    assert rows[("Category", "Coding", "1")] == "a"  # numbered: the list holds two
    assert rows[("Category", "Coding", "2", "Code")] == "b"
    assert ("Resource type",) not in rows
    assert reference_range(resource) is not None
