"""Condition leaflets: every item sourced, bilingual item for item, coded, cross-linked, plain."""

from __future__ import annotations

import copy
import json
import re
import statistics
from importlib import resources
from typing import Any
from urllib.parse import urlparse

import pytest
from pydantic import ValidationError

from healthspace.knowledge import registry
from healthspace.knowledge.conditions import (
    SECTIONS,
    conditions_for_code,
    documents,
    find_condition,
    icd10cm_lineage,
    load_conditions,
    name_key,
    parse_conditions,
)

LANGUAGES = ("en", "fr")
MIN_CONDITIONS = 80
# The average sentence a 12-year-old reads comfortably; the figure is printed by the test.
MAX_AVERAGE_SENTENCE_WORDS = 20
# A strength next to a unit reads like a dose instruction; leaflets must never carry one.
DOSE = re.compile(r"\d\s*(?:mg|mcg|µg|ml|g|iu|ui)\b", re.IGNORECASE)
# Health authorities and public-domain references the issue accepts as sources.
AUTHORITIES = (
    "medlineplus.gov",
    "www.nhs.uk",
    "www.who.int",
    "www.cdc.gov",
    "www.ameli.fr",
    "www.has-sante.fr",
    "www.santepubliquefrance.fr",
)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    text = (
        resources.files("healthspace.knowledge").joinpath("data/conditions.json").read_text("utf-8")
    )
    data: dict[str, Any] = json.loads(text)
    return data


def _entries(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(condition, section, language, text) for every entry in the raw file."""
    return [
        (item["id"], section, lang, text)
        for item in data["items"]
        for section in SECTIONS
        for lang in LANGUAGES
        for text in item.get(section, {}).get(lang, [])
    ]


def _sentence_lengths(data: dict[str, Any], lang: str) -> list[int]:
    lengths = []
    for _, _, entry_lang, text in _entries(data):
        if entry_lang == lang:
            lengths += [len(s.split()) for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    return lengths


def test_shipped_file_validates() -> None:
    assert load_conditions().items


def test_covers_at_least_80_conditions() -> None:
    count = len(load_conditions().items)
    print(f"{count} conditions")
    assert count >= MIN_CONDITIONS


def test_every_item_cites_a_source_the_file_defines(raw: dict[str, Any]) -> None:
    for item in raw["items"]:
        assert item["sources"], item["id"]
        assert all(s in raw["sources"] for s in item["sources"]), item["id"]
    cited = {s for item in raw["items"] for s in item["sources"]}
    assert cited == set(raw["sources"]), "a source no item cites"


def test_every_source_is_a_health_authority_with_a_review_date(raw: dict[str, Any]) -> None:
    for source_id, source in raw["sources"].items():
        url = urlparse(source["url"])
        assert url.scheme == "https" and url.hostname in AUTHORITIES, source_id
        assert source["publisher"] and source["title"] and source["reviewed"], source_id


def test_every_section_has_both_languages_item_for_item(raw: dict[str, Any]) -> None:
    for item in raw["items"]:
        assert item["name"]["en"] and item["name"]["fr"], item["id"]
        for section in SECTIONS:
            lists = item[section]
            assert set(lists) == set(LANGUAGES), (item["id"], section)
            assert len(lists["en"]) == len(lists["fr"]), (item["id"], section)
            assert lists["en"], (item["id"], section)


def test_every_code_is_in_the_icd10cm_release(raw: dict[str, Any]) -> None:
    # Imported here: the package parses its whole XML release on import (seconds).
    import simple_icd_10_cm as cm

    invalid = [
        (item["id"], code)
        for item in raw["items"]
        for code in item["icd10cm"]
        if not cm.is_valid_item(code)
    ]
    assert not invalid


def test_no_entry_states_a_dose(raw: dict[str, Any]) -> None:
    doses = [(c, text) for c, _, _, text in _entries(raw) if DOSE.search(text)]
    assert not doses


def test_no_entry_is_repeated_within_an_item(raw: dict[str, Any]) -> None:
    for item in raw["items"]:
        for lang in LANGUAGES:
            texts = [t for section in SECTIONS for t in item[section][lang]]
            assert len(texts) == len(set(texts)), (item["id"], lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_sentences_are_short_enough_to_read(raw: dict[str, Any], lang: str) -> None:
    lengths = _sentence_lengths(raw, lang)
    average = statistics.mean(lengths)
    print(f"{lang}: {len(lengths)} sentences, average {average:.1f} words, longest {max(lengths)}")
    assert average <= MAX_AVERAGE_SENTENCE_WORDS


# Each broken copy of the file must be refused: these are the mistakes CI has to catch.
def _without_sources(data: dict[str, Any]) -> None:
    data["items"][0]["sources"] = []


def _without_french(data: dict[str, Any]) -> None:
    del data["items"][0]["overview"]["fr"]


def _without_french_name(data: dict[str, Any]) -> None:
    del data["items"][0]["name"]["fr"]


def _unequal_lengths(data: dict[str, Any]) -> None:
    data["items"][0]["usual_care"]["en"].append("An extra sentence without its translation.")


def _empty_overview(data: dict[str, Any]) -> None:
    data["items"][0]["overview"] = {"en": [], "fr": []}


def _empty_urgent_signs(data: dict[str, Any]) -> None:
    data["items"][0]["urgent_signs"] = {"en": [], "fr": []}


def _undefined_source(data: dict[str, Any]) -> None:
    data["items"][0]["sources"].append("no_such_source")


def _see_also_unknown(data: dict[str, Any]) -> None:
    data["items"][0]["see_also"].append("unobtainium-syndrome")


def _see_also_itself(data: dict[str, Any]) -> None:
    data["items"][0]["see_also"].append(data["items"][0]["id"])


def _duplicate_id(data: dict[str, Any]) -> None:
    twin = copy.deepcopy(data["items"][0])
    twin["name"] = {"en": "Twin", "fr": "Jumeau"}
    twin["also_called"] = {"en": [], "fr": []}
    data["items"].append(twin)


def _name_claimed_twice(data: dict[str, Any]) -> None:
    # Case and accents do not make a name different: "hta" would be ambiguous.
    first, second = data["items"][0], data["items"][1]
    second["also_called"]["fr"].append(first["name"]["fr"].upper())


def _code_without_dot(data: dict[str, Any]) -> None:
    data["items"][0]["icd10cm"] = ["E119"]


def _no_codes(data: dict[str, Any]) -> None:
    data["items"][0]["icd10cm"] = []


def _blank_entry(data: dict[str, Any]) -> None:
    data["items"][0]["overview"]["fr"][0] = "  "


def _source_without_url(data: dict[str, Any]) -> None:
    first = next(iter(data["sources"]))
    del data["sources"][first]["url"]


@pytest.mark.parametrize(
    "break_it",
    [
        _without_sources,
        _without_french,
        _without_french_name,
        _unequal_lengths,
        _empty_overview,
        _empty_urgent_signs,
        _undefined_source,
        _see_also_unknown,
        _see_also_itself,
        _duplicate_id,
        _name_claimed_twice,
        _code_without_dot,
        _no_codes,
        _blank_entry,
        _source_without_url,
    ],
)
def test_a_broken_file_is_refused(raw: dict[str, Any], break_it: Any) -> None:
    broken = copy.deepcopy(raw)
    break_it(broken)
    with pytest.raises(ValidationError):
        parse_conditions(broken)


@pytest.mark.parametrize(
    ("name", "condition_id"),
    [
        ("HTA", "hypertension"),
        ("high blood pressure", "hypertension"),
        ("Hypertension artérielle", "hypertension"),
        ("diabète de type 2", "type-2-diabetes"),
        ("DIABETE DE TYPE 2", "type-2-diabetes"),
        ("T2DM", "type-2-diabetes"),
        ("BPCO", "copd"),
        ("AVC", "stroke"),
        ("Crohns", "crohns-disease"),
        ("maladie d'Alzheimer", "alzheimers-disease"),
        ("type-1-diabetes", "type-1-diabetes"),
    ],
)
def test_find_condition_by_any_name_in_either_language(name: str, condition_id: str) -> None:
    found = find_condition(name)
    assert found is not None and found.id == condition_id


def test_find_condition_returns_none_for_an_unknown_name() -> None:
    assert find_condition("unobtainium syndrome") is None
    assert find_condition("   ") is None


def test_a_code_finds_the_condition_listing_its_ancestor() -> None:
    assert [c.id for c in conditions_for_code("E11.9")] == ["type-2-diabetes"]
    assert [c.id for c in conditions_for_code("e119")] == ["type-2-diabetes"]
    assert [c.id for c in conditions_for_code("I82.401")] == ["deep-vein-thrombosis"]
    assert conditions_for_code("Z00.00") == []


def test_a_more_general_code_does_not_match_a_more_specific_item() -> None:
    # The DVT item lists I82.4 (deep veins of the leg); I82 alone also covers other veins.
    assert "deep-vein-thrombosis" not in {c.id for c in conditions_for_code("I82")}


def test_lineage_runs_from_the_code_to_its_category() -> None:
    assert icd10cm_lineage("T78.2XXA") == ["T78.2XXA", "T78.2XX", "T78.2X", "T78.2", "T78"]
    assert icd10cm_lineage("E11") == ["E11"]
    assert icd10cm_lineage("E1") == []


def test_name_key_ignores_case_accents_and_punctuation() -> None:
    assert name_key("Maladie  cœliaque") == name_key("MALADIE COELIAQUE")
    assert name_key("Crohn’s disease") == name_key("crohns disease")


def test_documents_yield_one_sourced_bilingual_document_per_item() -> None:
    conditions = load_conditions()
    docs = list(documents())
    assert {d.id for d in docs} == {f"condition:{c.id}" for c in conditions.items}
    assert len(docs) == len(conditions.items)
    for doc in docs:
        assert doc.kind == "condition"
        assert doc.sources
        for lang in LANGUAGES:
            assert doc.title[lang] and doc.text[lang]


def test_a_document_is_found_by_its_lay_names_and_codes() -> None:
    doc = next(d for d in documents() if d.id == "condition:hypertension")
    assert {"HTA", "HTN", "I10"} <= set(doc.keywords)
    assert doc.title == {"en": "High blood pressure", "fr": "Hypertension artérielle"}
    assert "Usual care:" in doc.text["en"]
    assert "Prise en charge habituelle :" in doc.text["fr"]
    assert "Signes d'alerte" in doc.text["fr"]


def test_the_registry_offers_the_condition_documents() -> None:
    registry._load_builtin_providers()
    provider = registry.DOCUMENT_PROVIDERS["conditions"]
    assert any(d.id == "condition:type-2-diabetes" for d in provider())
