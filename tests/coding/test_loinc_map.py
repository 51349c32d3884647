"""LOINC codes for local lab names: known mappings, the unit's property, specimen, and any text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthspace.terminology.labs import load_lab_catalog, name_keys, normalise_name
from healthspace.terminology.loinc_map import (
    LoincMapError,
    load_loinc_mapper,
    load_mapping_vocabulary,
    map_local_name,
    unit_property,
)

HELD_OUT = Path(__file__).resolve().parents[2] / "bench" / "data" / "loinc_map_heldout.json"


def best(name: str, unit: str | None = None, specimen: str | None = None) -> str:
    return map_local_name(name, unit, specimen)[0].code


@pytest.mark.parametrize(
    ("name", "unit", "code"),
    [
        ("Hémoglobine glyquée", "%", "4548-4"),
        ("HbA1c", None, "4548-4"),
        ("HbA1c", "mmol/mol", "59261-8"),  # IFCC units: the other LOINC code
        ("Glycémie à jeun", "g/L", "1558-6"),
        ("Glycémie à jeun", "mmol/L", "14771-0"),
        ("Creat", "mg/dL", "2160-0"),
        ("Creat", "µmol/L", "14682-9"),  # molar unit, molar code
        ("Créat", None, "2160-0"),
        ("TSH us", "mUI/L", "3016-3"),
        ("GAMMA GT", "UI/L", "2324-2"),
        ("V.G.M.", "fL", "787-2"),
        ("Fer sérique", "µmol/L", "14798-3"),
        ("Total cholesterol", "mmol/L", "14647-2"),
    ],
)
def test_known_local_names_map_to_their_loinc_code(name: str, unit: str | None, code: str) -> None:
    assert best(name, unit) == code


def test_a_specimen_given_or_in_the_name_picks_the_urine_test() -> None:
    assert best("Créatinine", "mmol/L", "urine") == "14683-7"
    assert best("Créatinine urinaire", "mg/dL") == "2161-8"
    assert best("Sodium", "mmol/L", "UR") == "2955-3"
    assert best("Sodium", "mmol/L") == "2951-2"


def test_each_suggestion_says_why() -> None:
    top = map_local_name("Creat", "µmol/L")[0]
    reasons = {r.kind: r for r in top.reasons}
    assert reasons["name"].detail == "matched 'Creat'"
    assert reasons["name"].match == "analyte"  # the alias belongs to the mass-unit twin
    assert reasons["unit"].match == "exact"
    assert "SCnc" in reasons["unit"].detail
    assert reasons["specimen"].match == "none"
    data = top.as_json()
    assert data["system"] == "http://loinc.org" and data["code"] == "14682-9"
    assert {r["kind"] for r in data["reasons"]} == {"name", "unit", "specimen"}


def test_a_unit_of_the_wrong_property_lowers_the_score() -> None:
    right = map_local_name("Glucose", "mg/dL")[0]
    wrong = next(s for s in map_local_name("Glucose", "mm/h", limit=50) if s.code == "2345-7")
    assert right.code == "2345-7"
    assert wrong.score < right.score
    assert {r.kind: r.match for r in wrong.reasons}["unit"] == "mismatch"


@pytest.mark.parametrize(
    ("unit", "prop"),
    [
        ("mg/dL", "MCnc"),
        ("g/L", "MCnc"),
        ("µmol/l", "SCnc"),
        ("mmol/L", "SCnc"),
        ("UI/L", "ACnc"),
        ("U/L", "CCnc"),
        ("G/L", "NCnc"),
        ("x10^9/L", "NCnc"),
        ("%", "Fr"),
        ("mmol/mol", "SFr"),
        ("mL/min/1,73m²", "VRat"),
        ("s", "Time"),
        ("furlongs", None),
        ("", None),
        (None, None),
    ],
)
def test_unit_property_follows_ucum(unit: str | None, prop: str | None) -> None:
    assert unit_property(unit) == prop


def test_nothing_like_a_test_name_gets_nothing() -> None:
    assert map_local_name("zzzz qqqq") == []
    with pytest.raises(LoincMapError, match="test name"):
        map_local_name("   ")
    with pytest.raises(LoincMapError, match="at most"):
        load_loinc_mapper().map("x" * 501)


def test_vocabulary_expands_to_catalog_words() -> None:
    vocabulary = load_mapping_vocabulary()
    catalog_words = set(load_loinc_mapper()._weight)
    unknown = {
        word
        for expansion in vocabulary.abbreviations.values()
        for word in expansion
        if word not in catalog_words
    }
    assert unknown == set(), f"abbreviations expand to words no catalog name has: {unknown}"


def test_bench_held_out_names_are_not_catalog_names() -> None:
    items = json.loads(HELD_OUT.read_text("utf-8"))["items"]
    assert len(items) >= 40
    known = {key for lab in load_lab_catalog().labs for key in name_keys(lab)}
    assert [i["name"] for i in items if normalise_name(i["name"]) in known] == []
    codes = {lab.code for lab in load_lab_catalog().labs}
    assert {i["code"] for i in items} <= codes


@settings(max_examples=150, deadline=None)
@given(
    name=st.text(max_size=80),
    unit=st.one_of(st.none(), st.text(max_size=15)),
    specimen=st.one_of(st.none(), st.text(max_size=15)),
)
def test_any_text_maps_without_error_and_scores_stay_in_range(
    name: str, unit: str | None, specimen: str | None
) -> None:
    found = load_loinc_mapper().map(name, unit, specimen, limit=5)
    assert len(found) <= 5
    for suggestion in found:
        assert 0.0 <= suggestion.score <= 1.0
        assert all(0.0 <= r.score <= 1.0 for r in suggestion.reasons)
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([lab for lab in load_lab_catalog().labs if lab.unit]),
    st.booleans(),
)
def test_a_catalog_name_with_its_unit_finds_its_test(lab: object, french: bool) -> None:
    from healthspace.terminology.labs import LabTest

    assert isinstance(lab, LabTest)
    name = lab.name.fr if french else lab.name.en
    codes = [s.code for s in map_local_name(name, lab.unit, limit=3)]
    same_name = {
        other.code
        for other in load_lab_catalog().labs
        if other.unit == lab.unit
        and normalise_name(name) in {normalise_name(other.name.en), normalise_name(other.name.fr)}
    }
    assert codes[0] in same_name
