"""Medicine leaflets: every item sourced, bilingual item for item, tied to the catalog, plain."""

from __future__ import annotations

import copy
import json
import re
import statistics
from importlib import resources
from typing import Any

import pytest
from pydantic import ValidationError

from healthspace.knowledge import registry
from healthspace.knowledge.medicine_content import (
    SECTIONS,
    content_for,
    documents,
    load_medicine_content,
    parse_medicine_content,
)
from healthspace.terminology.medicines import load_medicine_catalog

LANGUAGES = ("en", "fr")
# The average sentence a 12-year-old reads comfortably; the figure is printed by the test.
MAX_AVERAGE_SENTENCE_WORDS = 20
# A strength next to a unit reads like a dose instruction; leaflets must never carry one.
DOSE = re.compile(r"\d\s*(?:mg|mcg|µg|ml)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    text = (
        resources.files("healthspace.knowledge")
        .joinpath("data/medicine_content.json")
        .read_text("utf-8")
    )
    data: dict[str, Any] = json.loads(text)
    return data


def _entries(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(medicine, section, language, text) for every entry in the raw file."""
    return [
        (item["medicine"], section, lang, text)
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


def test_shipped_content_validates_against_the_catalog() -> None:
    content = load_medicine_content()
    assert content.items


def test_covers_at_least_200_catalog_medicines() -> None:
    content = load_medicine_content()
    catalog_ids = {m.id for m in load_medicine_catalog().medicines}
    covered = {item.medicine for item in content.items}
    assert len(covered) >= 200
    assert covered <= catalog_ids


def test_every_item_cites_a_source_the_file_defines(raw: dict[str, Any]) -> None:
    for item in raw["items"]:
        assert item["sources"], item["medicine"]
        assert all(s in raw["sources"] for s in item["sources"]), item["medicine"]
    for source_id, source in raw["sources"].items():
        assert source["url"].startswith("https://"), source_id
        assert source["publisher"] and source["title"] and source["reviewed"], source_id


def test_every_section_has_both_languages_item_for_item(raw: dict[str, Any]) -> None:
    for item in raw["items"]:
        for section in SECTIONS:
            lists = item[section]
            assert set(lists) == set(LANGUAGES), (item["medicine"], section)
            assert len(lists["en"]) == len(lists["fr"]), (item["medicine"], section)
        assert item["treats"]["en"] and item["how_to_take"]["en"], item["medicine"]


def test_no_entry_states_a_dose(raw: dict[str, Any]) -> None:
    doses = [(m, text) for m, _, _, text in _entries(raw) if DOSE.search(text)]
    assert not doses


def test_no_entry_is_repeated_within_an_item(raw: dict[str, Any]) -> None:
    for item in raw["items"]:
        for lang in LANGUAGES:
            texts = [t for section in SECTIONS for t in item[section][lang]]
            assert len(texts) == len(set(texts)), (item["medicine"], lang)


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
    del data["items"][0]["how_to_take"]["fr"]


def _unequal_lengths(data: dict[str, Any]) -> None:
    data["items"][0]["precautions"]["en"].append("An extra sentence without its translation.")


def _empty_treats(data: dict[str, Any]) -> None:
    data["items"][0]["treats"] = {"en": [], "fr": []}


def _empty_how_to_take(data: dict[str, Any]) -> None:
    data["items"][0]["how_to_take"] = {"en": [], "fr": []}


def _unknown_medicine(data: dict[str, Any]) -> None:
    data["items"][0]["medicine"] = "unobtainium"


def _undefined_source(data: dict[str, Any]) -> None:
    data["items"][0]["sources"].append("no_such_source")


def _duplicate_medicine(data: dict[str, Any]) -> None:
    data["items"].append(copy.deepcopy(data["items"][0]))


def _blank_entry(data: dict[str, Any]) -> None:
    data["items"][0]["treats"]["fr"][0] = "  "


def _source_without_url(data: dict[str, Any]) -> None:
    first = next(iter(data["sources"]))
    del data["sources"][first]["url"]


@pytest.mark.parametrize(
    "break_it",
    [
        _without_sources,
        _without_french,
        _unequal_lengths,
        _empty_treats,
        _empty_how_to_take,
        _unknown_medicine,
        _undefined_source,
        _duplicate_medicine,
        _blank_entry,
        _source_without_url,
    ],
)
def test_a_broken_file_is_refused(raw: dict[str, Any], break_it: Any) -> None:
    broken = copy.deepcopy(raw)
    break_it(broken)
    with pytest.raises(ValidationError):
        parse_medicine_content(broken)


def test_content_for_finds_a_medicine_and_nothing_for_an_unknown_id() -> None:
    metformin = content_for("metformin")
    assert metformin is not None
    assert metformin.treats.en and metformin.treats.fr
    assert content_for("unobtainium") is None


def test_documents_yield_one_sourced_bilingual_document_per_item() -> None:
    content = load_medicine_content()
    docs = list(documents())
    assert len(docs) == len(content.items)
    assert len({d.id for d in docs}) == len(docs)
    for doc in docs:
        assert doc.kind == "medicine"
        assert doc.id.startswith("medicine:")
        assert doc.sources
        for lang in LANGUAGES:
            assert doc.title[lang] and doc.text[lang]


def test_a_document_is_found_by_its_brand_names() -> None:
    doc = next(d for d in documents() if d.id == "medicine:paracetamol")
    assert {"Doliprane", "Tylenol", "acetaminophen"} <= set(doc.keywords)
    assert doc.title == {"en": "paracetamol", "fr": "paracétamol"}
    assert "Used for:" in doc.text["en"] and "Utilisé pour :" in doc.text["fr"]


def test_the_registry_offers_the_content_documents() -> None:
    registry._load_builtin_providers()
    provider = registry.DOCUMENT_PROVIDERS["medicine_content"]
    assert any(d.id == "medicine:metformin" for d in provider())
