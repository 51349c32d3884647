"""Allergies as pure logic: recognising what a record's allergy is about, and which medicines
it puts at risk, each conflict with sources."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from pydantic import ValidationError

from healthspace.patient.allergies import (
    AllergenFile,
    find_allergen,
    find_allergy_conflicts,
    load_allergens,
    read_allergy,
)
from healthspace.terminology.medicines import find_medicine, load_medicine_catalog


def _allergy(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "id": "a1",
        "code": {"text": text},
        "patient": {"reference": "Patient/p"},
        **extra,
    }


def _conflicts(allergy_text: str, medicine_name: str, **extra: Any) -> list[tuple[str, str]]:
    allergy = read_allergy(_allergy(allergy_text, **extra), patient_reported=False)
    assert allergy is not None
    medicine = find_medicine(medicine_name)
    assert medicine is not None, medicine_name
    return [(c.level, c.kind) for c in find_allergy_conflicts(medicine, [allergy])]


def test_shipped_allergens_validate_and_medical_ones_are_sourced() -> None:
    data = load_allergens()
    for allergen in data.allergens:
        assert allergen.everyday or allergen.sources, allergen.id
        for source in allergen.sources:
            assert data.sources[source].url.startswith("https://")
    penicillin = data.allergen("penicillin")
    assert "J01C" in penicillin.covers.atc_prefixes  # ATC J01C: penicillins


def test_a_medical_allergen_without_source_is_refused() -> None:
    raw = json.loads(
        resources.files("healthspace.patient").joinpath("data/allergens.json").read_text("utf-8")
    )
    raw["allergens"][0]["sources"] = []
    with pytest.raises(ValidationError, match="needs sources"):
        AllergenFile.model_validate(raw, context={"catalog": load_medicine_catalog()})


@pytest.mark.parametrize(
    ("name", "allergen"),
    [
        ("penicillin", "penicillin"),
        ("Pénicillines", "penicillin"),
        ("sulfa drugs", "sulfonamide_antibiotic"),
        ("AINS", "nsaid"),
        ("œufs", "egg"),
        ("peanuts", "peanut"),
        ("latex", "latex"),
    ],
)
def test_allergens_are_found_by_their_everyday_names(name: str, allergen: str) -> None:
    found = find_allergen(name)
    assert found is not None and found.id == allergen


@pytest.mark.parametrize(
    ("allergy", "medicine", "expected"),
    [
        ("Pénicillines", "amoxicillin", [("avoid", "group")]),
        ("penicillin", "Augmentin", [("avoid", "group")]),
        ("penicillin", "phenoxymethylpenicillin", [("avoid", "group")]),
        ("penicillin", "cefalexin", [("ask_first", "cross")]),
        ("penicillin", "azithromycin", []),
        ("penicillin", "paracetamol", []),
        # One penicillin counts for all (BNF), and a combination contains its components.
        ("Allergy to amoxicillin", "amoxicillin and clavulanic acid", [("avoid", "contains")]),
        ("amoxicilline", "phenoxymethylpenicillin", [("avoid", "group")]),
        # Aspirin and NSAIDs (NHS): an allergy to one is a reason to avoid the others.
        ("aspirin", "ibuprofen", [("avoid", "group")]),
        ("ibuprofen", "Kardégic", [("avoid", "group")]),
        # Sulfonamide antibiotics only: other sulfonamide medicines are not flagged (Mayo Clinic).
        ("sulfa", "Bactrim", [("avoid", "group")]),
        ("sulfa", "furosemide", []),
        ("sulfa", "glimepiride", []),
        ("peanuts", "amoxicillin", []),
    ],
)
def test_allergy_conflicts(allergy: str, medicine: str, expected: list[tuple[str, str]]) -> None:
    assert _conflicts(allergy, medicine) == expected


def test_every_conflict_is_sourced() -> None:
    for allergy, medicine in [("penicillin", "amoxicillin"), ("penicillin", "cefuroxime")]:
        found = find_allergy_conflicts(
            find_medicine(medicine),  # type: ignore[arg-type]
            [read_allergy(_allergy(allergy), False)],  # type: ignore[list-item]
        )
        assert found and all(c.sources for c in found)


def test_inactive_refuted_and_mistaken_allergies_put_nothing_at_risk() -> None:
    status = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
    verification = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
    resolved = {"clinicalStatus": {"coding": [{"system": status, "code": "resolved"}]}}
    refuted = {"verificationStatus": {"coding": [{"system": verification, "code": "refuted"}]}}
    assert _conflicts("penicillin", "amoxicillin", **resolved) == []
    assert _conflicts("penicillin", "amoxicillin", **refuted) == []
    mistaken = {
        "verificationStatus": {"coding": [{"system": verification, "code": "entered-in-error"}]}
    }
    assert read_allergy(_allergy("penicillin", **mistaken), False) is None


def test_synthea_allergies_are_recognised_by_code() -> None:
    resource = {
        "resourceType": "AllergyIntolerance",
        "id": "s",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91935009"}]},
        "criticality": "low",
        "patient": {"reference": "Patient/p"},
    }
    allergy = read_allergy(resource, False)
    assert allergy is not None and allergy.allergen is not None
    assert allergy.allergen.id == "peanut" and allergy.active
