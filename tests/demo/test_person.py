"""The synthetic demo person: deterministic, self-contained, valid and clinically coherent."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthspace.demo.person import build_demo_bundle, build_large_bundle

UCUM = "http://unitsofmeasure.org"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
DATE_OR_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2})?")
LOOKS_LIKE_A_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# Elements FHIR R4 requires (1..1) for each clinical type, "[x]" meaning any choice type.
REQUIRED: dict[str, tuple[str, ...]] = {
    "Observation": ("status", "code", "subject", "effectiveDateTime"),
    "Condition": ("subject", "code", "clinicalStatus", "verificationStatus"),
    "MedicationRequest": ("status", "intent", "subject", "medication[x]", "dosageInstruction"),
    "MedicationStatement": ("status", "subject", "medication[x]"),
    "Immunization": ("status", "vaccineCode", "patient", "occurrenceDateTime"),
    "AllergyIntolerance": ("patient", "code", "criticality", "reaction"),
    "Encounter": ("status", "class", "subject", "period"),
    "DiagnosticReport": ("status", "code", "subject", "result"),
    "Procedure": ("status", "code", "subject", "performedDateTime"),
    "Patient": ("identifier", "name", "gender", "birthDate", "address", "communication"),
    "Practitioner": ("name",),
    "Organization": ("name",),
}


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    return build_demo_bundle()


def resources(bundle: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    return [
        entry["resource"]
        for entry in bundle["entry"]
        if kind is None or entry["resource"]["resourceType"] == kind
    ]


def walk(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every (element name, value) pair below ``node``, lists flattened."""
    if isinstance(node, dict):
        for child_key, child in node.items():
            yield child_key, child
            yield from walk(child, child_key)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, key)


def code_of(resource: dict[str, Any]) -> str:
    return str(resource["code"]["coding"][0]["code"])


def labs(bundle: dict[str, Any], loinc: str | None = None) -> list[dict[str, Any]]:
    """Laboratory observations (optionally of one LOINC code) in time order."""
    found = [
        r
        for r in resources(bundle, "Observation")
        if r["category"][0]["coding"][0]["code"] == "laboratory"
        and (loinc is None or code_of(r) == loinc)
    ]
    return sorted(found, key=lambda r: r["effectiveDateTime"])


def flag(observation: dict[str, Any]) -> str:
    return str(observation["interpretation"][0]["coding"][0]["code"])


def values(bundle: dict[str, Any], loinc: str) -> list[float]:
    return [r["valueQuantity"]["value"] for r in labs(bundle, loinc)]


def assert_references_resolve_and_ids_unique(bundle: dict[str, Any]) -> None:
    ids = [entry["resource"]["id"] for entry in bundle["entry"]]
    assert len(ids) == len(set(ids))
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    references = [value for key, value in walk(bundle["entry"]) if key == "reference"]
    assert references
    assert all(reference.startswith("urn:uuid:") for reference in references)
    assert set(references) <= full_urls


def assert_dates_within(bundle: dict[str, Any], years: int, end: dt.date) -> None:
    leap_day = (end.month, end.day) == (2, 29)
    start = end.replace(year=end.year - years, day=28 if leap_day else end.day)
    for key, value in walk(bundle):
        if key == "birthDate" or not isinstance(value, str) or not LOOKS_LIKE_A_DATE.match(value):
            continue
        assert DATE_OR_DATETIME.fullmatch(value), f"{key}={value} is not a date or zoned dateTime"
        assert start <= dt.date.fromisoformat(value[:10]) <= end, f"{key}={value} out of span"


def test_same_seed_gives_byte_identical_json() -> None:
    first = json.dumps(build_demo_bundle(seed=11), sort_keys=True)
    second = json.dumps(build_demo_bundle(seed=11), sort_keys=True)
    assert first == second


def test_different_seeds_give_different_records() -> None:
    first = json.dumps(build_demo_bundle(seed=11), sort_keys=True)
    assert first != json.dumps(build_demo_bundle(seed=12), sort_keys=True)


def test_global_random_state_changes_nothing() -> None:
    random.seed(1)
    first = json.dumps(build_demo_bundle(), sort_keys=True)
    random.seed(2)
    assert json.dumps(build_demo_bundle(), sort_keys=True) == first


def test_bundle_is_a_collection_with_one_patient(bundle: dict[str, Any]) -> None:
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    kinds = Counter(r["resourceType"] for r in resources(bundle))
    assert kinds["Patient"] == 1
    assert kinds["Practitioner"] == 2
    assert kinds["Organization"] == 1
    patient = resources(bundle, "Patient")[0]
    assert patient["identifier"][0]["system"] == "urn:healthspace:demo"
    assert "Demo" in patient["name"][0]["family"]
    assert patient["address"][0]["country"] == "FR"
    assert patient["communication"][0]["language"]["coding"][0]["code"] == "fr"


def test_full_url_is_urn_uuid_of_resource_id(bundle: dict[str, Any]) -> None:
    for entry in bundle["entry"]:
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"


def test_every_reference_resolves_within_the_bundle(bundle: dict[str, Any]) -> None:
    assert_references_resolve_and_ids_unique(bundle)


def test_no_element_object_is_shared_between_resources(bundle: dict[str, Any]) -> None:
    # A consumer rewriting one reference in place must not rewrite another resource's.
    containers = [id(value) for _, value in walk(bundle["entry"]) if isinstance(value, dict)]
    assert len(containers) == len(set(containers))


def test_required_elements_are_present(bundle: dict[str, Any]) -> None:
    kinds = Counter(r["resourceType"] for r in resources(bundle))
    assert set(REQUIRED) <= set(kinds), "every resource kind of the story is present"
    for resource in resources(bundle):
        for element in REQUIRED.get(resource["resourceType"], ()):
            if element.endswith("[x]"):
                stem = element[:-3]
                present = any(key.startswith(stem) and key != stem for key in resource)
            else:
                present = resource.get(element) not in (None, "", [], {})
            assert present, f"{resource['resourceType']}/{resource['id']} lacks {element}"


def test_every_date_lies_within_the_record_span(bundle: dict[str, Any]) -> None:
    assert_dates_within(bundle, years=6, end=dt.date(2026, 10, 1))


def test_span_follows_years_and_end() -> None:
    end = dt.date(2024, 2, 29)
    assert_dates_within(build_demo_bundle(seed=3, years=3, end=end), years=3, end=end)


def test_lab_results_use_ucum_and_carry_ranges_and_flags(bundle: dict[str, Any]) -> None:
    for observation in labs(bundle):
        quantity = observation["valueQuantity"]
        assert quantity["system"] == UCUM and quantity["code"]
        assert observation["referenceRange"][0].keys() & {"low", "high"}
        assert observation["interpretation"][0]["coding"][0]["system"] == INTERPRETATION


def test_some_labs_are_high_and_exactly_one_is_critical(bundle: dict[str, Any]) -> None:
    flags = Counter(flag(observation) for observation in labs(bundle))
    assert flags["H"] >= 3
    assert flags["HH"] + flags["LL"] == 1
    critical = next(o for o in labs(bundle) if flag(o) == "HH")
    assert code_of(critical) == "2823-3"
    assert critical["valueQuantity"]["value"] == 6.3


def test_hba1c_rises_to_about_8_2_then_falls_to_about_6_8(bundle: dict[str, Any]) -> None:
    hba1c = values(bundle, "4548-4")
    peak = hba1c.index(max(hba1c))
    assert 0 < peak < len(hba1c) - 1
    assert max(hba1c) == pytest.approx(8.2)
    assert hba1c[0] <= 6.1
    assert hba1c[-1] == pytest.approx(6.8, abs=0.3)


def test_ldl_falls_after_atorvastatin(bundle: dict[str, Any]) -> None:
    ldl = values(bundle, "13457-7")
    assert ldl[0] >= 150
    assert ldl[-1] <= 105


def test_egfr_falls_and_ckd_follows_it(bundle: dict[str, Any]) -> None:
    egfr = values(bundle, "33914-3")
    assert egfr[0] >= 80
    assert 50 <= egfr[-1] < 60
    ckd = next(c for c in resources(bundle, "Condition") if code_of(c) == "700378005")
    below_60 = [o for o in labs(bundle, "33914-3") if o["valueQuantity"]["value"] < 60]
    assert ckd["onsetDateTime"] >= below_60[0]["effectiveDateTime"][:10]


def test_a_couple_of_glucose_results_are_in_french_units(bundle: dict[str, Any]) -> None:
    units = Counter(o["valueQuantity"]["code"] for o in labs(bundle, "1558-6"))
    assert units["g/L"] == 2
    assert units["mg/dL"] > 2


def test_conditions_carry_snomed_and_icd10_codings(bundle: dict[str, Any]) -> None:
    systems = {"http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10-cm"}
    conditions = {code_of(c): c for c in resources(bundle, "Condition")}
    for condition in conditions.values():
        assert {coding["system"] for coding in condition["code"]["coding"]} == systems
    icd10 = {
        coding["code"]
        for condition in conditions.values()
        for coding in condition["code"]["coding"]
    }
    assert {"E11.9", "I10", "E78.00", "J20.9", "N18.31"} <= icd10
    bronchitis = conditions["10509002"]
    assert bronchitis["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert bronchitis["abatementDateTime"] > bronchitis["onsetDateTime"]


def test_one_medicine_is_stopped_and_the_others_active(bundle: dict[str, Any]) -> None:
    requests = resources(bundle, "MedicationRequest")
    assert Counter(r["status"] for r in requests) == {"active": 3, "stopped": 1}
    for request in requests:
        assert request["dosageInstruction"][0]["text"]
        coding = request["medicationCodeableConcept"]["coding"][0]
        assert coding["system"] == "http://www.nlm.nih.gov/research/umls/rxnorm"


def test_penicillin_allergy_is_high_criticality(bundle: dict[str, Any]) -> None:
    (allergy,) = resources(bundle, "AllergyIntolerance")
    assert allergy["criticality"] == "high"
    assert allergy["reaction"][0]["manifestation"][0]["coding"][0]["code"] == "126485001"


def test_one_inpatient_stay_with_a_discharge(bundle: dict[str, Any]) -> None:
    stays = [e for e in resources(bundle, "Encounter") if e["class"]["code"] == "IMP"]
    assert len(stays) == 1
    assert stays[0]["hospitalization"]["dischargeDisposition"]["coding"][0]["code"] == "home"
    assert stays[0]["period"]["end"] > stays[0]["period"]["start"]


def test_vital_signs_are_taken_at_every_gp_visit(bundle: dict[str, Any]) -> None:
    gp_visits = {
        f"urn:uuid:{e['id']}"
        for e in resources(bundle, "Encounter")
        if e["type"][0]["coding"][0]["code"] in {"390906007", "185345009"}
    }
    pressures = [o for o in resources(bundle, "Observation") if code_of(o) == "85354-9"]
    assert {o["encounter"]["reference"] for o in pressures} == gp_visits
    components = {c["code"]["coding"][0]["code"] for c in pressures[0]["component"]}
    assert components == {"8480-6", "8462-4"}


def test_immunizations_use_cvx_codes(bundle: dict[str, Any]) -> None:
    codes = {r["vaccineCode"]["coding"][0]["code"] for r in resources(bundle, "Immunization")}
    assert {"113", "208"} <= codes
    assert codes & {"140", "150"}


def test_large_bundle_hits_the_target_within_five_percent() -> None:
    first = build_large_bundle(7, 20_000)
    assert abs(len(first["entry"]) - 20_000) <= 1_000
    second = build_large_bundle(7, 20_000)
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert_references_resolve_and_ids_unique(first)
    assert_dates_within(first, years=10, end=dt.date(2026, 10, 1))


def test_too_short_a_span_is_refused() -> None:
    with pytest.raises(ValueError, match="years"):
        build_demo_bundle(years=1)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**63), years=st.integers(min_value=2, max_value=12))
def test_any_seed_gives_a_self_contained_record(seed: int, years: int) -> None:
    bundle = build_demo_bundle(seed=seed, years=years)
    assert_references_resolve_and_ids_unique(bundle)
    assert_dates_within(bundle, years=years, end=dt.date(2026, 10, 1))
    assert sum(flag(o) in {"HH", "LL"} for o in labs(bundle)) == 1
