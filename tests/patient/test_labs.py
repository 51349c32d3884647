"""Lab results from FHIR: unit conversion, ranges, flags and trends (pure, no database)."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthspace.patient.labs import (
    TREND_TOLERANCE,
    LabResult,
    PersonFacts,
    flag_value,
    lab_results,
    person_facts,
    same_unit,
)
from healthspace.terminology.labs import LabCatalog, load_lab_catalog

ADULT_WOMAN = PersonFacts(sex="female", birth_date=date(1970, 1, 1), country="FR")
ADULT_MAN = PersonFacts(sex="male", birth_date=date(1970, 1, 1), country="US")
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
_ids = itertools.count()


def quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}


def observation(
    code: str,
    value: float | None = None,
    unit: str = "mg/dL",
    *,
    when: str = "2024-01-15T08:00:00+01:00",
    low: float | None = None,
    high: float | None = None,
    range_unit: str | None = None,
    interpretation: str | None = None,
    category: str | None = "laboratory",
    **extra: Any,
) -> dict[str, Any]:
    """A lab Observation as a lab sends it; ``extra`` adds or replaces any element."""
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"obs-{next(_ids)}",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}], "text": f"Test {code}"},
        "effectiveDateTime": when,
    }
    if category:
        resource["category"] = [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": category,
                    }
                ]
            }
        ]
    if value is not None:
        resource["valueQuantity"] = quantity(value, unit)
    if low is not None or high is not None:
        bounds: dict[str, Any] = {}
        if low is not None:
            bounds["low"] = quantity(low, range_unit or unit)
        if high is not None:
            bounds["high"] = quantity(high, range_unit or unit)
        resource["referenceRange"] = [bounds]
    if interpretation:
        resource["interpretation"] = [
            {"coding": [{"system": INTERPRETATION, "code": interpretation}]}
        ]
    resource.update(extra)
    return resource


def one(resource: dict[str, Any], person: PersonFacts = ADULT_WOMAN, **kw: Any) -> LabResult:
    results = lab_results([resource], person, **kw)
    assert len(results) == 1, results
    return results[0]


# --- units -----------------------------------------------------------------------------------


def test_glucose_in_mmol_per_litre_is_shown_in_mg_per_dl_with_the_original_kept() -> None:
    result = one(observation("2345-7", 5.5, "mmol/L", low=3.9, high=5.5))
    assert result.unit == "mg/dL"
    assert result.value == pytest.approx(99.09, abs=0.01)
    assert result.original is not None and result.original.as_json() == {
        "value": 5.5,
        "unit": "mmol/L",
    }
    # The lab's own range is converted with the value, so the flag does not move.
    assert result.low == pytest.approx(70.26, abs=0.01)
    assert result.high == result.value
    assert result.flag == "normal" and result.range_source == "lab"


def test_a_molar_code_given_in_mg_per_dl_is_converted_to_mmol_per_litre() -> None:
    result = one(observation("14749-6", 99, "mg/dL"))
    assert result.unit == "mmol/L"
    assert result.value == pytest.approx(5.495, abs=0.001)
    assert result.original is not None and result.original.unit == "mg/dL"


def test_french_glucose_in_grams_per_litre_becomes_mg_per_dl() -> None:
    result = one(observation("1558-6", 1.18, "g/L", low=0.70, high=1.10))
    assert (result.value, result.unit) == (118.0, "mg/dL")
    assert (result.low, result.high) == (70.0, 110.0)
    assert result.flag == "high"
    assert result.as_json("fr")["original"] == {"value": 1.18, "unit": "g/L"}


def test_a_unit_in_the_catalog_unit_is_not_marked_as_converted() -> None:
    result = one(observation("2345-7", 92, "mg/dL"))
    assert (result.value, result.unit, result.original) == (92.0, "mg/dL", None)


def test_printed_spellings_are_normalised_to_ucum() -> None:
    result = one(observation("3016-3", 2.1, "mUI/L"))
    assert result.unit == "m[IU]/L" and result.value == 2.1


def test_a_unit_with_no_known_conversion_is_kept_and_not_compared_with_our_range() -> None:
    result = one(observation("2345-7", 5.0, "mmol/mol"))
    assert (result.value, result.unit) == (5.0, "mmol/mol")
    assert result.low is None and result.high is None and result.flag is None


def test_ucum_annotations_do_not_make_units_different() -> None:
    # Synthea writes eGFR in mL/min; the LOINC code is per 1.73 m², an annotation in UCUM.
    assert same_unit("mL/min", "mL/min/{1.73_m2}")
    assert same_unit("{nominal}", "1")
    assert not same_unit("mg/dL", "mmol/L")
    result = one(observation("33914-3", 55, "mL/min"))
    assert result.unit == "mL/min/{1.73_m2}" and result.value == 55.0
    assert result.flag == "low" and result.range_source == "healthspace"


# --- ranges ----------------------------------------------------------------------------------


def test_the_labs_own_range_wins_over_ours() -> None:
    # Our adult range for potassium is 3.7-5.2 mmol/L; this lab says 3.5-5.1.
    result = one(observation("2823-3", 3.6, "mmol/L", low=3.5, high=5.1))
    assert (result.low, result.high, result.range_source) == (3.5, 5.1, "lab")
    assert result.flag == "normal"


def test_our_range_is_chosen_by_sex() -> None:
    creatinine = observation("2160-0", 1.1, "mg/dL")
    woman, man = one(creatinine, ADULT_WOMAN), one(creatinine, ADULT_MAN)
    assert (woman.low, woman.high, woman.flag) == (0.5, 0.95, "high")
    assert (man.low, man.high, man.flag) == (0.7, 1.3, "normal")
    assert woman.range_source == man.range_source == "healthspace"
    assert woman.range_citation == "mlp_creatinine"


def test_our_range_uses_the_age_on_the_day_of_the_result() -> None:
    teenager = PersonFacts(sex="male", birth_date=date(2006, 6, 1))
    before = one(observation("2160-0", 1.1, when="2024-05-01"), teenager)
    after = one(observation("2160-0", 1.1, when="2024-07-01"), teenager)
    # The catalog's creatinine ranges are for adults: at 17 there is none to compare with.
    assert before.low is None and before.flag is None and before.range_source is None
    assert (after.low, after.high, after.flag) == (0.7, 1.3, "normal")


def test_a_lab_range_in_another_unit_is_converted() -> None:
    result = one(observation("2345-7", 100, "mg/dL", low=3.9, high=5.5, range_unit="mmol/L"))
    assert result.low == pytest.approx(70.26, abs=0.01)
    assert result.high == pytest.approx(99.09, abs=0.01)
    assert result.flag == "high"


def test_person_facts_read_sex_birth_date_and_country() -> None:
    patient = {
        "resourceType": "Patient",
        "gender": "female",
        "birthDate": "1962-05-23",
        "address": [{"use": "work", "country": "GB"}, {"use": "home", "country": "fr"}],
    }
    assert person_facts(patient) == PersonFacts("female", date(1962, 5, 23), "FR")
    assert person_facts({"gender": "other"}) == PersonFacts()
    assert person_facts(None) == PersonFacts()


# --- flags -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3.4, "low"), (3.5, "normal"), (4.2, "normal"), (5.1, "normal"), (5.2, "high")],
)
def test_flags_against_an_inclusive_range(value: float, expected: str) -> None:
    assert flag_value(value, 3.5, 5.1) == expected


def test_critical_from_the_labs_interpretation() -> None:
    result = one(observation("2823-3", 6.3, "mmol/L", low=3.5, high=5.1, interpretation="HH"))
    assert result.flag == "critical" and result.interpretation == "HH"
    assert flag_value(1.0, 3.5, 5.1, interpretation="LL") == "critical"
    assert flag_value(9.0, None, None, interpretation="AA") == "critical"


def _catalog_with_potassium_critical_limits() -> LabCatalog:
    data = load_lab_catalog().model_dump(mode="json")
    for lab in data["labs"]:
        if lab["code"] == "2823-3":
            lab["ranges"][0].update(critical_low=2.5, critical_high=6.0)
    return LabCatalog.model_validate(data)


def test_critical_from_the_catalogs_thresholds() -> None:
    catalog = _catalog_with_potassium_critical_limits()
    high = one(observation("2823-3", 6.1, "mmol/L"), catalog=catalog)
    low = one(observation("2823-3", 2.4, "mmol/L", low=3.5, high=5.1), catalog=catalog)
    just_high = one(observation("2823-3", 5.9, "mmol/L"), catalog=catalog)
    assert high.flag == low.flag == "critical"
    assert just_high.flag == "high"


def test_without_any_range_the_labs_own_flag_is_used() -> None:
    result = one(observation("99999-9", 12, "U/L", interpretation="H"))
    assert result.low is None and result.flag == "high"
    assert one(observation("99999-9", 12, "U/L")).flag is None


def test_a_value_with_a_comparator_is_flagged_only_when_the_bound_decides() -> None:
    below = observation("2823-3", 3.0, "mmol/L", low=3.5, high=5.1)
    below["valueQuantity"]["comparator"] = "<"
    result = one(below)
    assert result.comparator == "<" and result.flag == "low"
    assert flag_value(4.0, 3.5, 5.1, comparator="<") is None
    assert flag_value(10.0, None, 40.0, comparator="<") == "normal"
    assert flag_value(6.0, 3.5, 5.1, comparator=">") == "high"
    # A bound is not a measurement: it starts no trend.
    assert not result.trendable


# --- trends ----------------------------------------------------------------------------------


def _series(code: str, unit: str, *values: float) -> list[dict[str, Any]]:
    return [
        observation(code, value, unit, when=f"202{index}-03-01T08:00:00+01:00")
        for index, value in enumerate(values)
    ]


def test_trends_rising_falling_and_stable_with_change_and_period() -> None:
    results = lab_results(_series("4548-4", "%", 6.0, 7.0, 6.5, 6.6), ADULT_WOMAN)
    first, rising, falling, stable = results
    assert first.trend is None
    assert rising.trend is not None and rising.trend.direction == "rising"
    assert (rising.trend.change, rising.trend.change_percent) == (1.0, 16.7)
    assert falling.trend is not None and falling.trend.direction == "falling"
    assert falling.trend.change == -0.5
    assert stable.trend is not None and stable.trend.direction == "stable"
    assert stable.trend.as_json()["period"] == {
        "start": "2022-03-01T08:00:00+01:00",
        "end": "2023-03-01T08:00:00+01:00",
    }
    assert stable.trend.as_json()["previous"]["resource"] == falling.resource


def test_stable_means_a_change_within_five_percent() -> None:
    assert TREND_TOLERANCE == 0.05
    at_edge = lab_results(_series("2345-7", "mg/dL", 100, 105), ADULT_WOMAN)[1]
    beyond = lab_results(_series("2345-7", "mg/dL", 100, 105.5), ADULT_WOMAN)[1]
    assert at_edge.trend is not None and at_edge.trend.direction == "stable"
    assert beyond.trend is not None and beyond.trend.direction == "rising"


def test_trends_compare_values_after_conversion() -> None:
    # 5.5 mmol/L is 99 mg/dL: the same glucose, reported in two units by two labs.
    results = lab_results(
        [
            observation("2345-7", 99, "mg/dL", when="2023-01-01"),
            observation("2345-7", 5.5, "mmol/L", when="2024-01-01"),
        ],
        ADULT_WOMAN,
    )
    assert results[1].trend is not None and results[1].trend.direction == "stable"


def test_a_result_in_an_unconvertible_unit_is_not_compared_with_others() -> None:
    results = lab_results(
        [
            observation("2345-7", 99, "mg/dL", when="2023-01-01"),
            observation("2345-7", 40, "mmol/mol", when="2023-06-01"),
            observation("2345-7", 130, "mg/dL", when="2024-01-01"),
        ],
        ADULT_WOMAN,
    )
    odd = next(r for r in results if r.unit == "mmol/mol")
    last = results[-1]
    assert odd.trend is None
    assert last.trend is not None and last.trend.previous_value == 99.0


@given(
    value=st.floats(min_value=0.01, max_value=1e6, allow_nan=False),
    count=st.integers(min_value=2, max_value=6),
)
def test_a_constant_series_is_stable(value: float, count: int) -> None:
    results = lab_results(_series("2345-7", "mg/dL", *([value] * count)), ADULT_WOMAN)
    assert [r.trend.direction for r in results[1:] if r.trend] == ["stable"] * (count - 1)


_MMOL = st.integers(min_value=50, max_value=4000).map(lambda n: n / 100)


@given(value=_MMOL, low=_MMOL, high=_MMOL)
def test_converting_then_flagging_equals_flagging_in_the_original_unit(
    value: float, low: float, high: float
) -> None:
    low, high = min(low, high), max(low, high)
    if low == high:
        return
    result = one(observation("2345-7", value, "mmol/L", low=low, high=high))
    assert result.unit == "mg/dL"
    assert result.flag == flag_value(value, low, high)


# --- what is and is not a lab result ------------------------------------------------------


def test_text_values_are_listed_without_a_flag() -> None:
    words = observation("5778-6", None, valueString="Yellow")
    coded = observation(
        "5767-9",
        None,
        valueCodeableConcept={"coding": [{"code": "cloudy", "display": "Cloudy urine"}]},
    )
    by_code = {r.code: r for r in lab_results([words, coded], ADULT_WOMAN)}
    assert by_code["5778-6"].value == "Yellow" and by_code["5778-6"].flag is None
    assert by_code["5767-9"].value == "Cloudy urine" and by_code["5767-9"].trend is None


def test_a_missing_value_is_listed_with_its_reason() -> None:
    absent = observation(
        "2823-3",
        None,
        dataAbsentReason={"coding": [{"code": "error", "display": "Error"}], "text": "Haemolysed"},
    )
    result = one(absent)
    assert result.value is None and result.absent_reason == "Haemolysed"
    assert result.flag is None and result.trend is None
    assert result.as_json("en")["absent_reason"] == "Haemolysed"


def test_lab_results_come_from_category_catalog_code_or_a_lab_report() -> None:
    by_category = observation("99999-1", 1.0, "U/L")
    by_catalog_code = observation("2823-3", 4.0, "mmol/L", category=None)
    by_report = observation("99999-2", 2.0, "U/L", category=None)
    vital_sign = observation("8867-4", 70, "/min", category="vital-signs")
    unlinked = observation("99999-3", 3.0, "U/L", category=None)
    report = {
        "resourceType": "DiagnosticReport",
        "id": "rep-1",
        "category": [{"coding": [{"code": "LAB"}]}],
        "result": [{"reference": f"Observation/{by_report['id']}"}],
    }
    found = lab_results(
        [by_category, by_catalog_code, by_report, vital_sign, unlinked, report], ADULT_WOMAN
    )
    assert {r.code for r in found} == {"99999-1", "2823-3", "99999-2"}
    named = next(r for r in found if r.code == "99999-1")
    assert named.name.en == named.name.fr == "Test 99999-1"
    assert named.resource == f"Observation/{by_category['id']}"


def test_panels_and_results_entered_in_error_are_left_out() -> None:
    panel = observation("24331-1", None, hasMember=[{"reference": "Observation/x"}])
    wrong = observation("2823-3", 9.9, "mmol/L", status="entered-in-error")
    assert lab_results([panel, wrong], ADULT_WOMAN) == []


def test_components_with_values_are_results_of_their_own() -> None:
    grouped = observation(
        "99999-4",
        None,
        component=[
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
                "valueQuantity": quantity(4.1, "mmol/L"),
            },
            {
                "code": {"coding": [{"system": "http://loinc.org", "code": "2951-2"}]},
                "valueQuantity": quantity(139, "mmol/L"),
            },
        ],
    )
    found = lab_results([grouped], ADULT_WOMAN)
    assert sorted((r.code, r.value) for r in found) == [("2823-3", 4.1), ("2951-2", 139.0)]
    assert {r.resource for r in found} == {f"Observation/{grouped['id']}"}


def test_the_json_row_has_the_design_keys_and_the_record_reference() -> None:
    row = one(observation("2345-7", 5.5, "mmol/L")).as_json("fr")
    assert {"code", "name", "value", "unit", "low", "high", "flag", "date", "trend"} <= set(row)
    assert {"original", "range_source", "resource"} <= set(row)
    assert row["name"] == "Glucose" and row["resource"].startswith("Observation/")
