"""The medication list as pure logic: matching record names to the catalog, current or past,
one entry per medicine, and what each medicine is for."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from healthspace.patient.medications import (
    EXPIRED_AFTER,
    RXNORM,
    Lookups,
    match_concept,
    match_medicine_name,
    medication_list,
    purpose,
)

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "medicine"),
    [
        ("Simvastatin 20 MG Oral Tablet", "simvastatin"),
        ("24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet", "metformin"),
        ("Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet", "amoxicillin_clavulanic_acid"),
        ("Acetaminophen 325 MG / HYDROcodone Bitartrate 5 MG [Vicodin]", "hydrocodone_paracetamol"),
        ("Acetaminophen/Hydrocodone", "hydrocodone_paracetamol"),
        ("Diazepam [Valium]", "diazepam"),
        ("Carbamazepine[Tegretol]", "carbamazepine"),
        ("Lasix 40mg", "furosemide"),
        ("Naproxen sodium 220 MG Oral Tablet", "naproxen"),
        ("Warfarin Sodium 5 MG Oral Tablet", "warfarin"),
        (
            "Abuse-Deterrent 12 HR Oxycodone Hydrochloride 15 MG Extended Release Oral Tablet",
            "oxycodone",
        ),
        ("200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", "salbutamol"),
        (
            "60 ACTUAT Fluticasone propionate 0.25 MG/ACTUAT / salmeterol 0.05 MG/ACTUAT "
            "Dry Powder Inhaler",
            "fluticasone_salmeterol",
        ),
        ("Metformine 500 mg, comprimé", "metformin"),
        ("Doliprane 1000 mg", "paracetamol"),
    ],
)
def test_record_names_match_the_catalog(text: str, medicine: str) -> None:
    found = match_medicine_name(text)
    assert found.medicine is not None and found.medicine.id == medicine


@pytest.mark.parametrize(
    "text",
    [
        "Simvistatin 10 MG",  # Synthea's own misspelling: never guessed
        "Cisplatin 50 MG Injection",  # not in the catalog
        "Paracetamol Ibuprofen",  # two substances are not one
        "",
        "   ",
    ],
)
def test_unknown_names_stay_unknown(text: str) -> None:
    found = match_medicine_name(text)
    assert found.medicine is None and not found.ingredients


def test_a_product_outside_the_catalog_keeps_the_ingredients_it_knows() -> None:
    found = match_medicine_name(
        "Acetaminophen 21.7 MG/ML / Dextromethorphan Hydrobromide 1 MG/ML / doxylamine "
        "succinate 0.417 MG/ML Oral Solution"
    )
    assert found.medicine is None
    assert [i.id for i in found.ingredients] == ["paracetamol"]


def test_rxnorm_code_is_used_only_when_it_is_an_ingredient_code() -> None:
    by_code = match_concept({"coding": [{"system": RXNORM, "code": "6809"}], "text": "Stagid 700"})
    assert by_code.medicine is not None and by_code.medicine.id == "metformin"
    assert by_code.how == "rxnorm"
    # A product-level (SCD) code is not in the catalog: the words decide.
    product = match_concept(
        {
            "coding": [
                {"system": RXNORM, "code": "314231", "display": "Simvastatin 10 MG Oral Tablet"}
            ]
        }
    )
    assert product.medicine is not None and product.medicine.id == "simvastatin"
    assert product.how == "name"


def _request(rid: str, text: str, status: str = "active", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {"text": text},
        "subject": {"reference": "Patient/p"},
        **extra,
    }


def _statement(sid: str, text: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "id": sid,
        "status": status,
        "medicationCodeableConcept": {"text": text},
        "subject": {"reference": "Patient/p"},
        **extra,
    }


def _by_ref(resources: list[dict[str, Any]], lookups: Lookups | None = None) -> dict[str, Any]:
    listed = medication_list(resources, lookups, TODAY)
    return {e.latest.ref: e for e in listed.entries}


def test_current_and_past_follow_status_and_dates() -> None:
    long_ago = (TODAY - EXPIRED_AFTER - timedelta(days=1)).isoformat()
    recently = (TODAY - EXPIRED_AFTER + timedelta(days=1)).isoformat()
    entries = _by_ref(
        [
            _request("active", "Metformin 500 MG Oral Tablet"),
            _request("held", "Amlodipine 5 MG Oral Tablet", "on-hold"),
            _request("stopped", "Ramipril 5 MG", "stopped"),
            _request("done", "Amoxicillin 500 MG Oral Tablet", "completed"),
            _request(
                "expired",
                "Simvastatin 20 MG Oral Tablet",
                dispenseRequest={"validityPeriod": {"start": "2019-01-01", "end": long_ago}},
            ),
            _request(
                "valid",
                "Atorvastatin 20 MG Oral Tablet",
                dispenseRequest={"validityPeriod": {"end": recently}},
            ),
            _statement("planned", "Ibuprofen 200 MG", "intended"),
            _statement("ended", "Paracetamol 1 g", "active", effectivePeriod={"end": "2026-11-01"}),
            _request("mistake", "Warfarin 5 MG", "entered-in-error"),
        ]
    )
    current = {ref for ref, e in entries.items() if e.current}
    assert current == {
        "MedicationRequest/active",
        "MedicationRequest/held",
        "MedicationRequest/valid",
        "MedicationStatement/planned",
    }
    assert entries["MedicationRequest/expired"].latest.expired
    assert entries["MedicationRequest/expired"].latest.status == "active"  # shown as written
    assert "MedicationRequest/mistake" not in entries


def test_the_same_medicine_is_one_entry_and_the_latest_decides() -> None:
    listed = medication_list(
        [
            _request(
                "n1", "Naproxen sodium 220 MG Oral Tablet", "stopped", authoredOn="1997-03-25"
            ),
            _request("n3", "Naproxen sodium 220 MG Oral Tablet", authoredOn="2010-03-07T08:54:18Z"),
            _request("n2", "Naproxen 500 MG Oral Tablet", "stopped", authoredOn="2002-05-17"),
            _request("m1", "Metformin 500 MG Oral Tablet", authoredOn="2020-01-01"),
            _statement(
                "m2",
                "metformine",
                "stopped",
                dateAsserted="2026-11-20T10:00:00+01:00",
                effectivePeriod={"end": "2026-11-20"},
                informationSource={"reference": "Patient/p"},
            ),
        ],
        today=TODAY,
    )
    by_id = {e.medicine.id: e for e in listed.entries if e.medicine}
    assert len(listed.entries) == 2
    naproxen = by_id["naproxen"]
    assert naproxen.current and naproxen.latest.ref == "MedicationRequest/n3"
    assert [u.ref for u in naproxen.history] == ["MedicationRequest/n2", "MedicationRequest/n1"]
    metformin = by_id["metformin"]
    # Told after the prescription: the patient's "I stopped" wins, the prescription is history.
    assert not metformin.current and metformin.latest.patient_reported
    assert [u.ref for u in metformin.history] == ["MedicationRequest/m1"]
    assert [e.medicine.id for e in listed.current if e.medicine] == ["naproxen"]


def test_unmatched_names_group_by_their_words_not_their_strength() -> None:
    listed = medication_list(
        [
            _request("s1", "Simvistatin 10 MG", authoredOn="2001-01-01"),
            _request("s2", "Simvistatin 20 MG", authoredOn="2002-01-01"),
        ],
        today=TODAY,
    )
    assert len(listed.entries) == 1 and listed.entries[0].latest.ref == "MedicationRequest/s2"


def test_reasons_come_from_the_record_first() -> None:
    condition = {
        "resourceType": "Condition",
        "id": "htn",
        "code": {"text": "Hypertension artérielle essentielle"},
    }
    entries = _by_ref(
        [
            _request(
                "a",
                "Amlodipine 5 mg, comprimé",
                reasonReference=[{"reference": "Condition/htn"}],
                dosageInstruction=[{"text": "1 comprimé le matin"}],
            ),
            _request("b", "Metformin 500 MG", reasonCode=[{"text": "Type 2 diabetes"}]),
            _request("c", "Atorvastatin 20 MG"),
            _request("d", "Cisplatin 50 MG Injection"),
        ],
        Lookups.of([condition]),
    )
    amlodipine = entries["MedicationRequest/a"]
    why = purpose(amlodipine, "fr")
    assert why is not None and why.from_record
    assert why.texts == ("Hypertension artérielle essentielle",) and why.refs == ("Condition/htn",)
    assert amlodipine.latest.dosage == ("1 comprimé le matin",)  # as written, never rewritten
    coded = purpose(entries["MedicationRequest/b"], "en")
    assert coded is not None and coded.texts == ("Type 2 diabetes",) and coded.from_record
    general = purpose(entries["MedicationRequest/c"], "en")
    assert general is not None and not general.from_record
    assert general.sources and any("cholesterol" in t for t in general.texts)
    assert purpose(entries["MedicationRequest/d"], "en") is None


def test_products_and_prescribers_are_read_from_referenced_resources() -> None:
    medication = {
        "resourceType": "Medication",
        "id": "med1",
        "code": {"text": "Kardégic 75 mg"},
    }
    practitioner = {
        "resourceType": "Practitioner",
        "id": "gp",
        "name": [{"prefix": ["Dr"], "given": ["Claire"], "family": "Martin"}],
    }
    contained = _request("c", "x")
    del contained["medicationCodeableConcept"]
    contained["contained"] = [
        {
            "resourceType": "Medication",
            "id": "m",
            "ingredient": [{"itemCodeableConcept": {"text": "bisoprolol"}}],
        }
    ]
    contained["medicationReference"] = {"reference": "#m"}
    shared = _request("s", "x", requester={"reference": "Practitioner/gp"})
    del shared["medicationCodeableConcept"]
    shared["medicationReference"] = {"reference": "Medication/med1"}
    entries = _by_ref([contained, shared], Lookups.of([medication, practitioner]))
    aspirin = entries["MedicationRequest/s"]
    assert aspirin.medicine is not None and aspirin.medicine.id == "acetylsalicylic_acid"
    assert aspirin.latest.name == "Kardégic 75 mg"
    assert aspirin.latest.prescriber == "Dr Claire Martin"
    bisoprolol = entries["MedicationRequest/c"]
    assert bisoprolol.medicine is not None and bisoprolol.medicine.id == "bisoprolol"


def test_patient_reported_is_recognised_by_tag_or_source() -> None:
    tagged = _statement(
        "t",
        "ibuprofen",
        "active",
        meta={"tag": [{"system": "urn:healthspace:provenance", "code": "patient-reported"}]},
    )
    told = _statement("s", "ibuprofen 200", "active", informationSource={"reference": "Patient/p"})
    prescribed = _request("r", "ibuprofen 400", requester={"reference": "Practitioner/x"})
    entries = medication_list([tagged, told, prescribed], today=TODAY)
    uses = [entries.entries[0].latest, *entries.entries[0].history]
    assert {u.ref: u.patient_reported for u in uses} == {
        "MedicationStatement/t": True,
        "MedicationStatement/s": True,
        "MedicationRequest/r": False,
    }
