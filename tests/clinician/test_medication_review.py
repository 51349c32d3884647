"""The clinician's medication review on records built with real codes, on SQLite and
PostgreSQL: interactions, duplicates, allergies, kidney function, pregnancy and age."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from healthspace.bootstrap import Healthspace
from healthspace.clinician.alternatives import load_alternatives_data
from healthspace.clinician.medication_review import load_review_data, medication_review
from healthspace.demo.loader import load_demo
from healthspace.errors import NotFoundError
from tests.clinician.medication_records import Record
from tests.conftest import shared_data

ACTOR = "test"
TODAY = date(2026, 11, 23)


def review(hs: Healthspace, person: str, lang: str = "en") -> dict[str, Any]:
    return medication_review(hs, ACTOR, person, TODAY).as_json(lang)  # type: ignore[arg-type]


def by_rule(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["rule"]: f for f in answer["findings"]}


def test_interactions_and_duplicates(hs: Healthspace, tmp_path: Path) -> None:
    record = Record("mr-dup")
    warfarin = record.medicine("Warfarin Sodium 5 MG Oral Tablet")
    ibuprofen = record.medicine("Ibuprofen 400 MG Oral Tablet")
    omeprazole = record.medicine("Omeprazole 20 MG Delayed Release Oral Capsule")
    esomeprazole = record.medicine("Inexium 20 mg")
    paracetamol = record.medicine("Doliprane 1000 mg")
    record.medicine("Dafalgan Codéiné")
    record.medicine("Kardégic 75 mg")
    record.medicine("Clopidogrel 75 MG Oral Tablet")
    record.medicine("Ventoline")
    record.medicine("Salmeterol 50 MCG Inhalation Powder")
    record.medicine("Simvastatin 20 MG Oral Tablet", status="stopped")
    answer = review(hs, record.load(hs, tmp_path))
    interactions = [f for f in answer["findings"] if f["kind"] == "interaction"]
    warfarin_nsaid = next(
        f for f in interactions if {m["id"] for m in f["medicines"]} == {"warfarin", "ibuprofen"}
    )
    assert warfarin_nsaid["severity"] in {"contraindicated", "major"}
    assert set(warfarin_nsaid["record_refs"]) == {warfarin, ibuprofen}
    assert warfarin_nsaid["sources"]
    duplicates = [f for f in answer["findings"] if f["kind"] == "duplicate"]
    rules = {f["rule"]: f for f in duplicates}
    ppi = rules["same_atc_A02BC"]
    assert set(ppi["record_refs"]) == {omeprazole, esomeprazole}
    assert "A02BC" in ppi["text"] and ppi["severity"] == "moderate"
    same = rules["same_ingredient"]
    assert paracetamol in same["record_refs"] and "paracetamol" in same["text"]
    assert same["severity"] == "major"
    pairs = [{m["id"] for m in f["medicines"]} for f in duplicates]
    # Sourced legitimate combinations are not duplicates; a stopped statin is not current.
    assert {"acetylsalicylic_acid", "clopidogrel"} not in pairs
    assert {"salbutamol", "salmeterol"} not in pairs
    assert "simvastatin" not in {m["id"] for f in answer["findings"] for m in f["medicines"]}
    # Serious first; every finding has its record items and sources, in both languages.
    ranks = ["contraindicated", "major", "moderate", "minor"]
    severities = [ranks.index(f["severity"]) for f in answer["findings"]]
    assert severities == sorted(severities)
    assert all(f["sources"] and f["record_refs"] for f in answer["findings"])
    french = review(hs, "mr-dup", "fr")
    assert "même groupe ATC A02BC" in by_rule(french)["same_atc_A02BC"]["text"]
    assert french["counts"]["duplicate"] == answer["counts"]["duplicate"] >= 2


def test_penicillin_allergy_against_amoxicillin(hs: Healthspace, tmp_path: Path) -> None:
    record = Record("mr-allergy")
    allergy = record.allergy("Penicillin")
    record.allergy("Aspirin", clinical="resolved")
    amoxicillin = record.medicine("Amoxicillin 500 MG Oral Capsule")
    record.medicine("Ibuprofen 200 MG Oral Tablet")
    answer = review(hs, record.load(hs, tmp_path))
    [finding] = [f for f in answer["findings"] if f["kind"] == "allergy"]
    assert finding["severity"] == "contraindicated"
    assert finding["record_refs"] == [amoxicillin, allergy]
    assert "Penicillin" in finding["text"] and finding["sources"]


def test_kidney_thresholds_show_the_egfr(hs: Healthspace, tmp_path: Path) -> None:
    record = Record("mr-kidney")
    metformin = record.medicine("Metformin hydrochloride 500 MG Oral Tablet")
    record.medicine("Nitrofurantoin 100 MG Oral Capsule")
    record.lab("62238-1", 70, "mL/min/{1.73_m2}", "2025-01-10")
    egfr = record.lab("62238-1", 25, "mL/min/{1.73_m2}", "2026-10-02")
    answer = review(hs, record.load(hs, tmp_path))
    rules = by_rule(answer)
    # Only the lowest threshold crossed is reported for metformin.
    assert "metformin_egfr_below_45" not in rules and "metformin_egfr_below_60" not in rules
    finding = rules["metformin_egfr_below_30"]
    assert finding["severity"] == "contraindicated"
    assert finding["record_refs"] == [metformin, egfr]
    assert "25 mL/min/1.73 m²" in finding["text"] or "25 mL/min" in finding["text"]
    assert "October 2, 2026" in finding["text"]
    assert "creatinine clearance" in rules["nitrofurantoin_crcl_below_60"]["text"]
    assert (
        answer["context"]["egfr"]["value"] == 25 and answer["context"]["egfr"]["resource"] == egfr
    )
    french = by_rule(review(hs, "mr-kidney", "fr"))["metformin_egfr_below_30"]
    assert "2 octobre 2026" in french["text"]


def test_creatinine_without_egfr_is_shown(hs: Healthspace, tmp_path: Path) -> None:
    record = Record("mr-creat")
    record.medicine("Metformin 850 MG Oral Tablet")
    creatinine = record.lab("2160-0", 2.4, "mg/dL", "2026-09-01")
    answer = review(hs, record.load(hs, tmp_path))
    finding = by_rule(answer)["kidney_function_unknown"]
    assert creatinine in finding["record_refs"] and "2.4" in finding["text"]


def test_pregnancy_condition_and_test(hs: Healthspace, tmp_path: Path) -> None:
    record = Record("mr-preg", birth_date="1992-03-04")
    pregnancy = record.condition("77386006", "Pregnancy")
    ramipril = record.medicine("Ramipril 5 MG Oral Capsule")
    record.medicine("Atorvastatin 20 MG Oral Tablet")
    record.medicine("Paracetamol 500 mg")
    answer = review(hs, record.load(hs, tmp_path))
    rules = by_rule(answer)
    assert rules["pregnancy_renin_angiotensin"]["severity"] == "contraindicated"
    assert rules["pregnancy_renin_angiotensin"]["record_refs"] == [ramipril, pregnancy]
    assert rules["pregnancy_statin"]["severity"] == "major"
    assert answer["counts"]["pregnancy"] == 2

    tested = Record("mr-hcg", birth_date="1992-03-04")
    test = tested.pregnancy_test("2026-10-15")
    tested.pregnancy_test("2026-11-01", positive=False)
    tested.medicine("Warfarin 5 MG Oral Tablet")
    answer = review(hs, tested.load(hs, tmp_path))
    finding = by_rule(answer)["pregnancy_vitamin_k_antagonist"]
    assert test in finding["record_refs"] and answer["context"]["pregnancy"]["kind"] == "test"

    resolved = Record("mr-past", birth_date="1992-03-04")
    resolved.condition("77386006", "Pregnancy", clinical="resolved")
    resolved.pregnancy_test("2023-01-15")  # positive, but long ago
    resolved.medicine("Ramipril 5 MG Oral Capsule")
    assert review(hs, resolved.load(hs, tmp_path))["counts"]["pregnancy"] == 0


def test_older_person_cautions(hs: Healthspace, tmp_path: Path) -> None:
    record = Record("mr-age", birth_date="1940-06-30")
    diazepam = record.medicine("Diazepam 5 MG Oral Tablet")
    record.medicine("Naproxen 250 MG Oral Tablet")
    record.medicine("Amlodipine 5 MG Oral Tablet")
    answer = review(hs, record.load(hs, tmp_path))
    rules = by_rule(answer)
    assert answer["context"]["age"] == 86
    assert {"older_benzodiazepine", "older_nsaid"} <= set(rules)
    assert rules["older_benzodiazepine"]["record_refs"] == [diazepam, "Patient/mr-age"]
    assert "86" in rules["older_nsaid"]["text"]
    young = Record("mr-young", birth_date="1990-01-01")
    young.medicine("Diazepam 5 MG Oral Tablet")
    assert review(hs, young.load(hs, tmp_path))["counts"]["age"] == 0


def test_demo_person_review(hs: Healthspace) -> None:
    person = load_demo(hs)
    answer = review(hs, person)
    assert {m["medicine"] for m in answer["medicines"]} == {
        "metformin",
        "atorvastatin",
        "amlodipine",
    }
    rules = by_rule(answer)
    assert "metformin_egfr_below_60" in rules  # her eGFR fell to the mid-50s
    assert answer["context"]["egfr"]["code"] == "33914-3"
    assert answer["counts"]["allergy"] == 0  # penicillin allergy, no penicillin taken
    assert "dosing change" in answer["label"]


def test_unknown_person_is_a_clear_error(hs: Healthspace) -> None:
    with pytest.raises(NotFoundError):
        medication_review(hs, ACTOR, "nobody", TODAY)


def _assert_sourced(sources: Any, ids: Any) -> None:
    for source_id in ids:
        source = sources[source_id]
        assert source.publisher and source.url.startswith("https://") and source.reviewed


def test_every_data_item_has_sources_and_both_languages() -> None:
    data = load_review_data()
    for rule in data.all_rules():
        _assert_sourced(data.sources, rule.sources)
        assert rule.text.en.strip() and rule.text.fr.strip() and rule.text.en != rule.text.fr
    for pair in data.duplicate.legitimate_pairs:
        _assert_sourced(data.sources, pair.sources)
        assert pair.why.en and pair.why.fr
    for key, phrase in data.phrases.items():
        assert phrase.en.strip() and phrase.fr.strip(), key
    alternatives = load_alternatives_data()
    for group in alternatives.groups:
        _assert_sourced(alternatives.sources, group.sources)
        assert group.label.fr and group.indication.fr
    for switch in alternatives.switches:
        _assert_sourced(alternatives.sources, switch.sources)
        assert switch.why.en and switch.why.fr and switch.problem.fr


def _synthea_files(limit: int) -> list[Path]:
    folder = shared_data("synthea_smart")
    with (folder / "manifest.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle) if int(r["MedicationRequest"] or 0) >= 3]
    rows.sort(key=lambda r: int(r["bytes"]))
    return [folder / r["file"] for r in rows[:limit]]


def test_synthea_persons_do_not_crash(hs_sqlite: Healthspace) -> None:
    files = _synthea_files(4)
    report = hs_sqlite.importer.import_paths(files, ACTOR)
    assert report.persons
    for person in report.persons:
        for lang in ("en", "fr"):
            answer = review(hs_sqlite, person, lang)
            assert answer["person"] == person
            for finding in answer["findings"]:
                assert finding["sources"] and finding["record_refs"] and finding["title"]
