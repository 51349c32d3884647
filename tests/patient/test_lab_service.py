"""The lab services on real records (demo person, Synthea), on SQLite and PostgreSQL, and their
CLI and API surfaces."""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

from healthspace.bootstrap import Healthspace
from healthspace.demo.loader import load_demo
from healthspace.demo.person import build_demo_bundle
from healthspace.errors import NotFoundError
from healthspace.patient.lab_service import (
    ExplanationInputs,
    LabPhrases,
    compose_explanation,
    explain_lab,
    list_labs,
    load_lab_phrases,
)
from healthspace.patient.labs import TREND_TOLERANCE, PersonFacts, lab_results
from tests.conftest import shared_data
from tests.factories import patient_bundle
from tests.server import HEALTHSPACE, cli_env
from tests.signed_in import signed_in_client

ACTOR = "test"
HBA1C, POTASSIUM, FASTING_GLUCOSE = "4548-4", "2823-3", "1558-6"
ROW_KEYS = {
    "code",
    "name",
    "value",
    "unit",
    "low",
    "high",
    "flag",
    "date",
    "trend",
    "original",
    "range_source",
    "resource",
    "comparator",
    "absent_reason",
    "interpretation",
}
EXPLANATION_KEYS = {"code", "name", "latest", "sections", "critical", "citations", "record_refs"}


@pytest.fixture
def demo(hs: Healthspace) -> str:
    """The demo person imported into ``hs``; returns their id."""
    return load_demo(hs)


def critical_potassium(person: str, value: float = 6.8) -> dict[str, Any]:
    """A new potassium result, after the demo record ends, that the lab marks critical high."""
    unit = {"unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"}
    return {
        "resourceType": "Observation",
        "id": "potassium-critical-new",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": POTASSIUM}]},
        "subject": {"reference": f"Patient/{person}"},
        "effectiveDateTime": "2026-09-20T08:00:00+02:00",
        "valueQuantity": {"value": value, **unit},
        "interpretation": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                        "code": "HH",
                    }
                ]
            }
        ],
        "referenceRange": [{"low": {"value": 3.5, **unit}, "high": {"value": 5.1, **unit}}],
    }


def add(hs: Healthspace, person: str, resource: dict[str, Any]) -> None:
    report = hs.importer.import_uploads([("extra.json", orjson.dumps(resource))], ACTOR, person)
    assert report.errors == [], report.errors


# --- the phrase table and the composer (pure) ------------------------------------------------


def test_every_phrase_has_the_same_placeholders_in_both_languages() -> None:
    phrases = load_lab_phrases()
    assert phrases.say("trend_period", "fr", count="3", start="a", end="b", first="1", last="2")
    data = phrases.model_dump(mode="json")
    data["phrases"]["critical_call"]["fr"] = "Appelez le {numero}."
    with pytest.raises(ValueError, match="placeholders differ"):
        LabPhrases.model_validate(data)


def test_explaining_a_text_result_and_a_missing_one() -> None:
    def observation(when: str, **value: Any) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "id": when,
            "status": "final",
            "category": [{"coding": [{"code": "laboratory"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "5778-6"}]},
            "effectiveDateTime": when,
            **value,
        }

    history = lab_results(
        [
            observation("2024-01-02", valueString="Yellow"),
            observation("2024-03-04", dataAbsentReason={"text": "Sample lost"}),
        ],
        PersonFacts(),
    )
    explanation = compose_explanation(ExplanationInputs(history), "en")
    texts = {s.key: s.text for s in explanation.sections}
    assert texts["result"] == (
        "Your latest result, on March 4, 2024, has no value. The lab gave this reason: Sample lost."
    )
    assert texts["meaning"] == "There is no value to explain."
    assert not explanation.critical and explanation.record_refs == ("Observation/2024-03-04",)
    assert explanation.sections[-1].key == "reminder"


# --- listing ---------------------------------------------------------------------------------


def test_hba1c_rises_to_its_peak_then_falls_at_the_end(hs: Healthspace, demo: str) -> None:
    rows = list_labs(hs, ACTOR, demo, HBA1C)
    assert len(rows) >= 8 and {r.code for r in rows} == {HBA1C}
    values = [r.value for r in rows if isinstance(r.value, float)]
    assert len(values) == len(rows)
    peak = values.index(max(values))
    assert 0 < peak < len(rows) - 1
    directions = [r.trend.direction if r.trend else None for r in rows]
    assert directions[0] is None
    assert directions[peak] == "rising"
    # Metformin brings it down after the peak; then it holds about steady.
    assert directions[peak + 1] == "falling"
    assert "rising" not in directions[peak + 1 :]
    assert all(r.flag == "high" and r.range_source == "lab" for r in rows)
    last = rows[-1]
    assert last.trend is not None and last.trend.direction in {"stable", "falling"}
    assert abs(last.trend.change) <= TREND_TOLERANCE * last.trend.previous_value


def test_french_glucose_is_shown_in_mg_per_dl_with_the_labs_grams(
    hs: Healthspace, demo: str
) -> None:
    rows = list_labs(hs, ACTOR, demo, "glycémie à jeun", lang="fr")
    assert {r.code for r in rows} == {FASTING_GLUCOSE}
    assert {r.unit for r in rows} == {"mg/dL"}
    converted = [r for r in rows if r.original is not None]
    assert converted and all(r.original and r.original.unit == "g/L" for r in converted)
    # The lab's French range (0.70-1.10 g/L) is converted too.
    assert {(r.low, r.high) for r in converted} == {(70.0, 110.0)}


def test_the_demo_has_exactly_one_critical_result(hs: Healthspace, demo: str) -> None:
    rows = list_labs(hs, ACTOR, demo)
    critical = [r for r in rows if r.flag == "critical"]
    assert [(r.code, r.value) for r in critical] == [(POTASSIUM, 6.3)]
    assert {r.flag for r in rows} >= {"low", "normal", "high"}
    # Every row points at a stored Observation of the person.
    sample = rows[0].resource.split("/")
    assert hs.vault.resource(ACTOR, demo, sample[0], sample[1])["resourceType"] == "Observation"


def test_reading_labs_is_audited(hs: Healthspace, demo: str) -> None:
    list_labs(hs, "auditor-check", demo)
    reads = {
        e.resource_type
        for e in hs.vault.audit_entries(ACTOR, demo)
        if e.actor == "auditor-check" and e.action == "read"
    }
    assert reads == {"Patient", "Observation", "DiagnosticReport"}


def test_names_follow_the_language(hs: Healthspace, demo: str) -> None:
    english = {r.as_json("en")["name"] for r in list_labs(hs, ACTOR, demo, HBA1C, "en")}
    french = {r.as_json("fr")["name"] for r in list_labs(hs, ACTOR, demo, HBA1C, "fr")}
    assert english == {"Hemoglobin A1c"} and french == {"Hémoglobine glyquée (HbA1c)"}


# --- explaining ------------------------------------------------------------------------------


def test_a_critical_potassium_leads_with_what_to_do_now(hs: Healthspace, demo: str) -> None:
    add(hs, demo, critical_potassium(demo))
    english = explain_lab(hs, ACTOR, demo, "potassium", "en")
    french = explain_lab(hs, ACTOR, demo, "kaliémie", "fr")
    for explanation in (english, french):
        assert explanation.critical and explanation.latest.flag == "critical"
        assert explanation.sections[0].key == "now"
        assert explanation.latest.resource == "Observation/potassium-critical-new"
    # The demo person lives in France: 15 (SAMU) or 112, from the triage rules.
    assert english.sections[0].text == (
        "This result is marked critical. Contact your doctor or the lab today. "
        "If you feel unwell, call 15 or 112."
    )
    assert french.sections[0].title == "Que faire maintenant"
    assert "15" in french.sections[0].text and "112" in french.sections[0].text


def test_a_critical_value_without_a_country_gives_a_neutral_number(hs: Healthspace) -> None:
    bundle = patient_bundle("no-country", glucose_values=())
    hs.importer.import_uploads([("p.json", orjson.dumps(bundle))], ACTOR)
    add(hs, "no-country", critical_potassium("no-country"))
    explanation = explain_lab(hs, ACTOR, "no-country", POTASSIUM, "en")
    assert explanation.critical
    assert explanation.sections[0].text.endswith("call your local emergency number.")


def test_an_old_critical_value_is_told_calmly(hs: Healthspace, demo: str) -> None:
    explanation = explain_lab(hs, ACTOR, demo, POTASSIUM, "en")
    assert not explanation.critical and explanation.latest.flag == "normal"
    assert all(s.key != "now" for s in explanation.sections)
    trend = next(s for s in explanation.sections if s.key == "trend")
    assert "An earlier result, on May 10, 2024, was marked critical: 6.3 mmol/L." in trend.text


def test_french_and_english_are_both_present_different_and_sourced(
    hs: Healthspace, demo: str
) -> None:
    english = explain_lab(hs, ACTOR, demo, "HbA1c", "en").as_json()
    french = explain_lab(hs, ACTOR, demo, "hémoglobine glyquée", "fr").as_json()
    assert set(english) == set(french) == EXPLANATION_KEYS
    assert english["code"] == french["code"] == HBA1C
    assert english["record_refs"] == french["record_refs"]
    assert len(english["sections"]) == len(french["sections"])
    for en, fr in zip(english["sections"], french["sections"], strict=True):
        assert en["title"] != fr["title"] and en["text"] != fr["text"]
        assert en["sources"] and en["sources"] == fr["sources"]
    assert "Your latest result, on August 29, 2026, is 6.7%." in english["sections"][0]["text"]
    assert "du 29 août 2026, est de 6,7 %" in french["sections"][0]["text"]
    publishers = {c["publisher"] for c in english["citations"]}
    assert "Regenstrief Institute" in publishers and any("MedlinePlus" in p for p in publishers)
    # The record references are the latest, the previous and the first HbA1c results.
    assert english["latest"]["resource"] == english["record_refs"][0]
    assert all(ref.startswith("Observation/") for ref in english["record_refs"])


def test_a_high_value_lists_what_it_can_happen_with_never_a_diagnosis(
    hs: Healthspace, demo: str
) -> None:
    explanation = explain_lab(hs, ACTOR, demo, HBA1C, "en")
    meaning = next(s for s in explanation.sections if s.key == "meaning")
    assert meaning.text.startswith("This value is above the normal range.")
    assert "A high value can happen with:" in meaning.text
    assert "This list is not a diagnosis." in meaning.text
    trend = next(s for s in explanation.sections if s.key == "trend")
    assert "Last time, on May 8, 2026, it was 6.7%." in trend.text
    assert "from October 8, 2020 to August 29, 2026, it went from 5.9% to 6.7%" in trend.text
    # It sends the person to a doctor already, so no separate reminder.
    assert explanation.sections[-1].key == "see_doctor"


def test_a_test_without_content_ends_with_the_reminder(hs: Healthspace) -> None:
    bundle = patient_bundle("no-content", glucose_values=())
    hs.importer.import_uploads([("p.json", orjson.dumps(bundle))], ACTOR)
    resource = critical_potassium("no-content")
    resource.update(
        id="odd-test",
        code={"coding": [{"system": "http://loinc.org", "code": "99999-9"}], "text": "Odd test"},
        interpretation=[],
    )
    add(hs, "no-content", resource)
    explanation = explain_lab(hs, ACTOR, "no-content", "odd test", "fr")
    assert explanation.name == "Odd test"
    assert explanation.sections[-1].key == "reminder"
    assert explanation.sections[-1].text == "Cette explication ne remplace pas l'avis d'un médecin."


def test_a_person_with_no_labs(hs: Healthspace) -> None:
    bundle = patient_bundle("no-labs", glucose_values=())
    hs.importer.import_uploads([("p.json", orjson.dumps(bundle))], ACTOR)
    assert list_labs(hs, ACTOR, "no-labs") == []
    assert list_labs(hs, ACTOR, "no-labs", HBA1C) == []
    with pytest.raises(NotFoundError, match="has no lab results"):
        explain_lab(hs, ACTOR, "no-labs", HBA1C, "en")


def test_unknown_tests_and_persons_are_clear_errors(hs: Healthspace, demo: str) -> None:
    with pytest.raises(NotFoundError, match="No lab test called 'blood unicorns'"):
        explain_lab(hs, ACTOR, demo, "blood unicorns", "en")
    with pytest.raises(NotFoundError, match="has no result for 'ferritin'"):
        explain_lab(hs, ACTOR, demo, "ferritin", "en")
    with pytest.raises(NotFoundError, match="No person"):
        list_labs(hs, ACTOR, "nobody")


# --- Synthea ---------------------------------------------------------------------------------


def _synthea_file_with_labs() -> Path:
    folder = shared_data("synthea_smart", "bundles")
    for path in sorted(folder.glob("*.json.gz"))[:20]:
        bundle = orjson.loads(gzip.decompress(path.read_bytes()))
        codes = {
            coding.get("code")
            for entry in bundle["entry"]
            if entry["resource"]["resourceType"] == "Observation"
            for coding in entry["resource"]["code"].get("coding", [])
        }
        if HBA1C in codes or "33914-3" in codes:
            return path
    pytest.skip("no Synthea sample with HbA1c or eGFR among the first 20")


def test_a_synthea_person_has_labs_explained(hs: Healthspace) -> None:
    report = hs.importer.import_paths([_synthea_file_with_labs()], ACTOR)
    assert report.errors == []
    person = report.persons[0]
    rows = list_labs(hs, ACTOR, person)
    assert len(rows) > 20
    recognised = [r for r in rows if r.lab is not None]
    assert len(recognised) / len(rows) > 0.5
    # Synthea gives no ranges: ours are used, by the person's sex and age.
    assert {r.range_source for r in rows} <= {"healthspace", None}
    assert any(r.range_source == "healthspace" and r.flag for r in rows)
    assert all(
        r.trend is None or r.trend.direction in {"rising", "falling", "stable"} for r in rows
    )
    code = next(c for c in (HBA1C, "33914-3") if any(r.code == c for r in rows))
    explanation = explain_lab(hs, ACTOR, person, code, "en")
    assert explanation.citations and explanation.record_refs
    assert explanation.latest.unit == ("%" if code == HBA1C else "mL/min/{1.73_m2}")


# --- API -------------------------------------------------------------------------------------


def test_api_lists_and_explains_labs(hs: Healthspace, demo: str) -> None:
    client = signed_in_client(hs, demo)
    rows = client.get(f"/api/v1/persons/{demo}/labs", params={"code": "HbA1c", "lang": "fr"})
    assert rows.status_code == 200
    body = rows.json()
    assert body and set(body[0]) == ROW_KEYS and body[0]["name"] == "Hémoglobine glyquée (HbA1c)"
    explained = client.get(f"/api/v1/persons/{demo}/labs/{HBA1C}/explanation")
    assert explained.status_code == 200 and set(explained.json()) == EXPLANATION_KEYS
    # The owner of a record with nothing in it yet: theirs, and not found.
    missing = signed_in_client(hs, "nobody").get("/api/v1/persons/nobody/labs")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


# --- CLI -------------------------------------------------------------------------------------


def _run(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(HEALTHSPACE), *args], env=cli_env(home), capture_output=True, text=True, timeout=120
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_cli_labs_and_explain_lab(tmp_path: Path) -> None:
    home = tmp_path / "home"
    source = tmp_path / "demo.json"
    source.write_bytes(orjson.dumps(build_demo_bundle()))
    person = json.loads(_run(home, "import", str(source), "--json").stdout)["person"]

    rows = json.loads(_run(home, "labs", person, "--code", HBA1C, "--json").stdout)
    assert rows and all(set(row) == ROW_KEYS for row in rows)
    assert rows[-1]["trend"]["period"]["end"] == rows[-1]["date"]
    assert set(rows[-1]["trend"]) == {"direction", "change", "change_percent", "previous", "period"}

    explained = json.loads(_run(home, "explain", "lab", person, "HbA1c", "--json").stdout)
    assert set(explained) == EXPLANATION_KEYS
    assert set(explained["latest"]) == ROW_KEYS
    assert all(set(s) == {"title", "text", "sources"} for s in explained["sections"])
    assert all(set(c) == {"title", "publisher", "url"} for c in explained["citations"])
    assert explained["critical"] is False

    french = _run(home, "explain", "lab", person, HBA1C, "--lang", "fr").stdout
    assert "Votre résultat" in french and "6,7 %" in french
    table = _run(home, "labs", person, "--code", "potassium").stdout
    assert "CRITICAL" in table and "↘" in table

    failed = _run(home, "explain", "lab", person, "ferritin", check=False)
    assert failed.returncode == 1 and "has no result for 'ferritin'" in failed.stderr
    assert failed.stdout == ""
