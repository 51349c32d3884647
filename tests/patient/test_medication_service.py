"""The medicine services on real records (the demo person, a Synthea person), on SQLite and
PostgreSQL: the medication list, a medicine explained against a record, interaction checks."""

from __future__ import annotations

import csv
import gzip
from functools import cache
from pathlib import Path

import pytest

from healthspace.bootstrap import Healthspace
from healthspace.demo.loader import load_demo
from healthspace.errors import NotFoundError
from healthspace.patient.medication_service import (
    current_medications,
    explain_medicine,
    interactions_for_person,
)
from tests.conftest import shared_data

ACTOR = "test"
REMINDER_EN = "This does not replace advice from your doctor or pharmacist."


@pytest.fixture
def demo(hs: Healthspace) -> str:
    return load_demo(hs)


def test_demo_list_has_current_and_past_medicines(hs: Healthspace, demo: str) -> None:
    rows = current_medications(hs, ACTOR, demo, "en").as_json()
    by_medicine = {r["medicine"]: r for r in rows}
    assert {m for m, r in by_medicine.items() if r["current"]} == {
        "metformin",
        "atorvastatin",
        "amlodipine",
    }
    ramipril = by_medicine["ramipril"]
    assert not ramipril["current"] and ramipril["status"] == "stopped"
    assert [r["current"] for r in rows] == sorted((r["current"] for r in rows), reverse=True)
    metformin = by_medicine["metformin"]
    assert metformin["dosage"] == "1 comprimé matin et soir, au milieu des repas"
    assert metformin["name"] == "Metformine 500 mg, comprimé"  # as written
    assert metformin["atc"] == "A10BA02" and metformin["resource"].startswith("MedicationRequest/")
    why = metformin["for"]
    assert why["from_record"] and why["text"] == "Diabète de type 2"
    assert why["record_refs"][0].startswith("Condition/") and why["note"] is None
    french = {r["medicine"] for r in current_medications(hs, ACTOR, demo, "fr").as_json()}
    assert "metformine" in french


def test_explaining_amoxicillin_flags_the_penicillin_allergy(hs: Healthspace, demo: str) -> None:
    answer = explain_medicine(hs, ACTOR, "amoxicillin", "en", demo).as_json()
    assert answer["medicine"] == "amoxicillin"
    [conflict] = answer["allergy_conflicts"]
    assert conflict["level"] == "avoid" and conflict["allergy"] == "Pénicillines"
    assert conflict["resource"].startswith("AllergyIntolerance/")
    assert conflict["resource"] in answer["record_refs"]
    assert any("J01C" in s["url"] for s in conflict["sources"])
    # Safety first: the allergy leads, the reminder closes.
    assert answer["sections"][0]["title"] == "Your allergies"
    assert "Do not take it" in answer["sections"][0]["text"]
    assert answer["sections"][-1]["text"] == REMINDER_EN
    cited = {c["url"] for c in answer["citations"]}
    assert {s["url"] for s in conflict["sources"]} <= cited
    # Augmentin is a penicillin too, through its amoxicillin.
    augmentin = explain_medicine(hs, ACTOR, "Augmentin", "fr", demo).as_json()
    assert [c["level"] for c in augmentin["allergy_conflicts"]] == ["avoid"]
    assert augmentin["sections"][0]["title"] == "Vos allergies"


def test_explaining_a_medicine_the_person_takes_shows_their_record(
    hs: Healthspace, demo: str
) -> None:
    answer = explain_medicine(hs, ACTOR, "Metformine", "fr", demo).as_json()
    record = next(s for s in answer["sections"] if s["title"] == "Dans votre dossier")
    assert "« 1 comprimé matin et soir, au milieu des repas »" in record["text"]
    assert "Diabète de type 2" in record["text"]
    assert record["sources"][0]["resource"] in answer["record_refs"]
    assert answer["allergy_conflicts"] == []
    titles = [s["title"] for s in answer["sections"]]
    assert {"Comment le prendre", "Effets indésirables graves", "Précautions"} <= set(titles)
    for section in answer["sections"]:
        if section["title"] in {"Comment le prendre", "Précautions"}:
            assert section["sources"]


def test_explaining_without_a_person_uses_the_leaflet_only(hs: Healthspace) -> None:
    answer = explain_medicine(hs, ACTOR, "Doliprane", "en").as_json()
    assert answer["medicine"] == "paracetamol"
    assert answer["interactions"] == [] and answer["allergy_conflicts"] == []
    assert answer["record_refs"] == []
    assert answer["citations"] and all(
        set(c) == {"title", "publisher", "url"} for c in answer["citations"]
    )
    assert answer["sections"][-1]["text"] == REMINDER_EN
    assert not any("dans votre dossier" in s["title"].lower() for s in answer["sections"])


def test_an_unknown_medicine_is_a_clear_error(hs: Healthspace) -> None:
    with pytest.raises(NotFoundError, match="not a medicine we recognise"):
        explain_medicine(hs, ACTOR, "zzzyx", "en")
    with pytest.raises(NotFoundError, match="nom sur la boîte"):
        explain_medicine(hs, ACTOR, "zzzyx", "fr")


def test_demo_interactions_keep_the_design_json(hs: Healthspace, demo: str) -> None:
    report = interactions_for_person(hs, ACTOR, demo, ["Kardégic", "zzzyx"], "en").as_json()
    assert set(report) == {"drugs", "unknown", "interactions"}
    assert [d["name"] for d in report["drugs"]] == [
        "amlodipine",
        "metformin",
        "atorvastatin",
        "acetylsalicylic acid",
    ]
    assert report["drugs"][1]["input"] == "Metformine 500 mg, comprimé"
    assert report["unknown"] == ["zzzyx"]
    for item in report["interactions"]:
        assert set(item) == {"drugs", "severity", "effect", "advice", "sources"}


def test_an_unknown_person_is_a_clear_error(hs: Healthspace) -> None:
    with pytest.raises(NotFoundError, match="No person"):
        current_medications(hs, ACTOR, "nobody", "en")


# ------------------------------------------------------------------ Synthea


@cache
def synthea_warfarin_and_nsaid() -> Path:
    """A Synthea person who takes warfarin with an NSAID or aspirin, found in the manifest's
    order by scanning each bundle's bytes (the first match is used)."""
    folder = shared_data("synthea_smart")
    with (folder / "manifest.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle) if int(r["MedicationRequest"] or 0) >= 2]
    for row in rows:
        path = folder / row["file"]
        data = gzip.decompress(path.read_bytes())
        if b"Warfarin" in data and (b"Naproxen" in data or b"Aspirin" in data):
            return path
    pytest.skip("no Synthea person takes warfarin with an NSAID or aspirin")


@pytest.mark.slow
def test_synthea_person_on_warfarin_and_an_nsaid_gets_a_major_interaction(
    hs: Healthspace,
) -> None:
    report = hs.importer.import_paths([synthea_warfarin_and_nsaid()], ACTOR)
    assert not report.errors
    [person] = report.persons
    rows = current_medications(hs, ACTOR, person, "en").as_json()
    assert "warfarin" in {r["medicine"] for r in rows if r["current"]}
    checked = interactions_for_person(hs, ACTOR, person, (), "en").as_json()
    names = {d["name"] for d in checked["drugs"]}
    assert "warfarin" in names
    major = [
        i
        for i in checked["interactions"]
        if "warfarin" in i["drugs"] and i["severity"] in {"major", "contraindicated"}
    ]
    assert major and all(i["sources"] for i in major)
    other = next(d for d in major[0]["drugs"] if d != "warfarin")
    answer = explain_medicine(hs, ACTOR, other, "en", person).as_json()
    assert any("warfarin" in i["drugs"] for i in answer["interactions"])
    assert answer["sections"][0]["title"] == "With your other medicines"  # serious: it leads
