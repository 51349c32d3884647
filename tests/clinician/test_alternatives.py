"""Therapeutic alternatives: sourced options that avoid the reason for a change, checked
against a person's record on SQLite and PostgreSQL, and the CLI's JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from healthspace.bootstrap import Healthspace
from healthspace.cli.app import _register_commands, app
from healthspace.clinician.alternatives import alternatives_for
from healthspace.patient.medication_service import UnknownMedicineNameError
from tests.clinician.medication_records import Record

ACTOR = "test"


def options(answer: dict[str, Any]) -> list[str]:
    return [o["id"] for o in answer["options"]]


def excluded(answer: dict[str, Any]) -> list[str]:
    return [o["id"] for o in answer["excluded"]]


def test_ace_inhibitor_cough_points_to_sartans() -> None:
    answer = alternatives_for(None, ACTOR, "Triatec", "side_effect").as_json()
    assert answer["drug"]["id"] == "ramipril" and answer["drug"]["input"] == "Triatec"
    assert answer["label"] == "Options for the clinician's judgement, not a prescription."
    first = answer["options"][0]
    assert first["preferred"] and first["id"] in {"losartan", "valsartan", "candesartan"}
    assert {"losartan", "valsartan", "irbesartan"} <= set(options(answer))
    assert {"lisinopril", "perindopril"} <= set(excluded(answer))  # cough is a class effect
    assert "ramipril" not in options(answer) + excluded(answer)
    assert all(o["reasons"] and o["reasons"][0]["sources"] for o in answer["options"])
    assert answer["guidance"] and answer["guidance"][0]["sources"]
    french = alternatives_for(None, ACTOR, "ramipril", "side_effect", lang="fr").as_json()
    assert french["label"].startswith("Options soumises au jugement du clinicien")
    assert "toux" in french["guidance"][0]["text"].lower()


def test_interaction_with_a_named_drug() -> None:
    answer = alternatives_for(None, ACTOR, "omeprazole", "interaction", "Plavix").as_json()
    assert answer["with"]["id"] == "clopidogrel"
    assert options(answer)[0] == "pantoprazole"
    assert "esomeprazole" in excluded(answer)
    statins = alternatives_for(None, ACTOR, "simvastatin", "interaction", "clarithromycin")
    data = statins.as_json()
    assert {"rosuvastatin", "pravastatin"} <= {o["id"] for o in data["options"] if o["preferred"]}
    assert "lovastatin" in excluded(data)
    why = next(o for o in data["excluded"] if o["id"] == "lovastatin")["why_not"]
    assert why[0]["kind"] == "interaction" and why[0]["severity"] in {"contraindicated", "major"}


def test_penicillin_allergy_and_nsaids() -> None:
    answer = alternatives_for(None, ACTOR, "amoxicillin", "allergy").as_json()
    preferred = {o["id"] for o in answer["options"] if o["preferred"]}
    assert {"clarithromycin", "azithromycin", "doxycycline"} <= preferred
    assert "phenoxymethylpenicillin" in excluded(answer)
    cephalosporin = next(o for o in answer["options"] if o["id"] == "cefuroxime")
    assert cephalosporin["cautions"][0]["severity"] == "moderate"  # ask first, sourced
    pain = alternatives_for(None, ACTOR, "ibuprofen", "contraindication").as_json()
    assert options(pain) == ["paracetamol"] and "naproxen" in excluded(pain)


def test_common_classes_have_options() -> None:
    for drug in (
        "atorvastatin", "omeprazole", "sertraline", "apixaban", "bisoprolol",
        "amlodipine", "cetirizine", "clarithromycin", "losartan", "warfarin",
    ):  # fmt: skip
        answer = alternatives_for(None, ACTOR, drug, "side_effect").as_json()
        assert answer["groups"] and len(answer["options"]) >= 1, drug
        assert all(g["sources"] for g in answer["groups"])


def test_unknown_drug_is_a_clear_error() -> None:
    with pytest.raises(UnknownMedicineNameError):
        alternatives_for(None, ACTOR, "zzzyx", "side_effect")


def test_options_are_checked_against_the_record(hs: Healthspace, tmp_path: Path) -> None:
    record = Record("alt-person", birth_date="1990-05-05")
    record.condition("77386006", "Pregnancy")
    record.medicine("Ramipril 5 MG Oral Capsule")
    warfarin = record.medicine("Warfarin Sodium 5 MG Oral Tablet")
    record.allergy("Clarithromycin")
    person = record.load(hs, tmp_path)
    # ACE inhibitor in pregnancy: sartans carry the same boxed warning, so none is an option.
    answer = alternatives_for(hs, ACTOR, "ramipril", "contraindication", person=person).as_json()
    assert answer["person"] == person
    assert "losartan" in excluded(answer)
    why = next(o for o in answer["excluded"] if o["id"] == "losartan")["why_not"]
    assert any(n["kind"] == "pregnancy" and n["record_refs"] for n in why)
    # Penicillin allergy: clarithromycin is excluded by the recorded allergy, and the
    # macrolides that interact with warfarin say so with the record item.
    antibiotics = alternatives_for(hs, ACTOR, "amoxicillin", "allergy", person=person).as_json()
    assert "clarithromycin" in excluded(antibiotics)
    notes = [
        n
        for o in antibiotics["options"] + antibiotics["excluded"]
        for n in o["cautions"] + o["why_not"]
    ]
    assert any(n["kind"] == "interaction" and warfarin in n["record_refs"] for n in notes)
    assert warfarin in antibiotics["record_refs"]


def test_cli_alternatives_prints_one_json_document() -> None:
    _register_commands()
    result = CliRunner().invoke(
        app,
        ["alternatives", "Mopral", "--reason", "interaction", "--with", "clopidogrel", "--json"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["options"][0]["id"] == "pantoprazole"
    assert set(data) == {
        "drug", "reason", "with", "person", "label", "groups", "guidance", "options",
        "excluded", "record_refs",
    }  # fmt: skip
