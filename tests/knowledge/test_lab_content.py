"""Lab test explanations: schema, sources, coverage, readability and search documents."""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from healthspace.knowledge.lab_content import (
    LANGUAGES,
    LIST_SECTIONS,
    content_for,
    documents,
    load_lab_content,
    parse_lab_content,
    render_text,
)
from healthspace.knowledge.registry import DOCUMENT_PROVIDERS, _load_builtin_providers
from healthspace.terminology.labs import load_lab_catalog

DATA_FILE = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "healthspace"
    / "knowledge"
    / "data"
    / "lab_content.json"
)
# Health authorities and public-domain references only; commercial or society sites such as
# Lab Tests Online are not accepted as sources.
ALLOWED_SOURCE_HOSTS = (
    "https://medlineplus.gov/",
    "https://ods.od.nih.gov/",
    "https://www.fda.gov/",
    "https://www.nhs.uk/",
    "https://www.ameli.fr/",
    "https://www.has-sante.fr/",
)
MIN_CODES_COVERED = 180
MAX_AVERAGE_SENTENCE_WORDS = 20
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


def raw_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA_FILE.read_text("utf-8"))
    return data


def _codes(item: dict[str, Any]) -> list[str]:
    return [item["code"]] if "code" in item else list(item["codes"])


def _broken(mutate: Any) -> dict[str, Any]:
    data = copy.deepcopy(raw_data())
    mutate(data)
    return data


# ---------------------------------------------------------------- the shipped file


def test_shipped_file_validates_against_the_catalog() -> None:
    content = load_lab_content()
    assert content.items
    assert content.version


def test_every_item_cites_a_defined_source() -> None:
    content = load_lab_content()
    for item in content.items:
        assert item.sources, item.loinc_codes
        for source_id in item.sources:
            assert source_id in content.sources, (item.loinc_codes, source_id)


def test_every_defined_source_is_cited() -> None:
    data = raw_data()
    cited = {s for item in data["items"] for s in item["sources"]}
    assert set(data["sources"]) == cited


def test_sources_are_health_authorities_reviewed_on_a_date() -> None:
    for source_id, source in load_lab_content().sources.items():
        assert source.url.startswith(ALLOWED_SOURCE_HOSTS), (source_id, source.url)
        assert "labtestsonline" not in source.url, source_id
        assert source.reviewed == date(2026, 11, 23), source_id


def test_every_loinc_code_is_in_the_catalog_and_explained_once() -> None:
    catalog = load_lab_catalog()
    seen: list[str] = []
    for item in raw_data()["items"]:
        assert ("code" in item) != ("codes" in item), item
        seen.extend(_codes(item))
    assert len(seen) == len(set(seen)), "a LOINC code is explained twice"
    assert all(catalog.lab(code) is not None for code in seen)


def test_covers_at_least_the_target_number_of_catalog_codes() -> None:
    covered = load_lab_content().covered_codes()
    assert len(covered) >= MIN_CODES_COVERED, len(covered)


def test_both_languages_everywhere_with_matching_list_lengths() -> None:
    for item in raw_data()["items"]:
        assert item["measures"]["en"].strip() and item["measures"]["fr"].strip(), _codes(item)
        for section in LIST_SECTIONS:
            block = item.get(section, {"en": [], "fr": []})
            assert len(block["en"]) == len(block["fr"]), (_codes(item), section)
            assert all(text.strip() for text in (*block["en"], *block["fr"]))
        assert item["see_doctor"]["en"], _codes(item)


def test_measures_is_one_or_two_sentences() -> None:
    for item in load_lab_content().items:
        for lang in LANGUAGES:
            sentences = _sentences(getattr(item.measures, lang))
            assert 1 <= len(sentences) <= 2, (item.loinc_codes, lang, sentences)


def test_high_and_low_never_state_a_diagnosis() -> None:
    # "can mean" lists describe possibilities; "you have" would read as a verdict.
    for item in load_lab_content().items:
        for section in ("high", "low"):
            block = item.section(section)
            assert not any(re.search(r"\byou have\b", text, re.I) for text in block.en)
            assert not any(re.search(r"\bvous avez\b", text, re.I) for text in block.fr)


def test_critical_analytes_say_when_to_get_help_right_away() -> None:
    # Tests with panic values in practice must tell the reader when not to wait.
    for code in ("2823-3", "2951-2", "2345-7", "10839-9", "718-7", "777-3", "6301-6"):
        item = content_for(code)
        assert item is not None, code
        assert any("right away" in text for text in item.see_doctor.en), code
        assert any("urgence" in text or "immédiatement" in text for text in item.see_doctor.fr)


def test_sentences_are_short_enough_to_read(capsys: pytest.CaptureFixture[str]) -> None:
    averages = {lang: _average_sentence_words(lang) for lang in LANGUAGES}
    with capsys.disabled():
        print(
            "\nlab content readability, average words per sentence: "
            + ", ".join(f"{lang} {value:.1f}" for lang, value in averages.items())
        )
    for lang, value in averages.items():
        assert value <= MAX_AVERAGE_SENTENCE_WORDS, (lang, value)


# ---------------------------------------------------------------- the schema refuses bad data


def test_rejects_an_item_without_a_source() -> None:
    with pytest.raises(ValidationError, match="sources"):
        parse_lab_content(_broken(lambda d: d["items"][0].update(sources=[])))


def test_rejects_an_undefined_source_id() -> None:
    with pytest.raises(ValidationError, match="undefined source ids"):
        parse_lab_content(_broken(lambda d: d["items"][0]["sources"].append("nowhere")))


def test_rejects_a_missing_language() -> None:
    with pytest.raises(ValidationError, match="fr"):
        parse_lab_content(_broken(lambda d: d["items"][0]["measures"].pop("fr")))


def test_rejects_unequal_list_lengths() -> None:
    def drop_one_translation(data: dict[str, Any]) -> None:
        data["items"][0]["high"]["fr"] = data["items"][0]["high"]["fr"][:-1]

    with pytest.raises(ValidationError, match="each entry needs its translation"):
        parse_lab_content(_broken(drop_one_translation))


def test_rejects_a_code_not_in_the_catalog() -> None:
    def unknown_code(data: dict[str, Any]) -> None:
        item = data["items"][0]
        item.pop("codes", None)
        item["code"] = "99999-9"

    with pytest.raises(ValidationError, match="not in the lab catalog"):
        parse_lab_content(_broken(unknown_code))


def test_rejects_a_code_explained_twice() -> None:
    def duplicate(data: dict[str, Any]) -> None:
        data["items"].append(copy.deepcopy(data["items"][0]))

    with pytest.raises(ValidationError, match="more than one item"):
        parse_lab_content(_broken(duplicate))


def test_rejects_both_code_and_codes() -> None:
    def both(data: dict[str, Any]) -> None:
        item = data["items"][0]
        item["code"] = _codes(item)[0]
        item["codes"] = _codes(item)

    with pytest.raises(ValidationError, match="exactly one of"):
        parse_lab_content(_broken(both))


def test_rejects_empty_measures_and_empty_see_doctor() -> None:
    with pytest.raises(ValidationError, match="measures"):
        parse_lab_content(_broken(lambda d: d["items"][0]["measures"].update(en="")))
    with pytest.raises(ValidationError, match="see_doctor"):
        parse_lab_content(_broken(lambda d: d["items"][0].update(see_doctor={"en": [], "fr": []})))


def test_rejects_an_unknown_key() -> None:
    with pytest.raises(ValidationError, match="extra"):
        parse_lab_content(_broken(lambda d: d["items"][0].update(normal_range="3.5-5")))


# ---------------------------------------------------------------- look-ups and search documents


def test_codes_that_share_an_explanation_find_the_same_item() -> None:
    calculated, direct = content_for("13457-7"), content_for("18262-6")  # LDL
    assert calculated is not None and calculated is direct
    assert content_for(" 4548-4 ") is content_for("59261-8")  # HbA1c % and mmol/mol


def test_content_for_an_uncovered_code_is_none() -> None:
    covered = set(load_lab_content().covered_codes())
    uncovered = [lab.code for lab in load_lab_catalog().labs if lab.code not in covered]
    for code in [*uncovered, "99999-9"]:
        assert content_for(code) is None


def test_documents_cover_every_code_with_names_aliases_and_sources() -> None:
    catalog = load_lab_catalog()
    content = load_lab_content()
    docs = {doc.id: doc for doc in documents()}
    assert set(docs) == {f"lab:{code}" for code in content.covered_codes()}
    for code in content.covered_codes():
        doc, lab = docs[f"lab:{code}"], catalog.lab(code)
        assert lab is not None
        assert doc.kind == "lab"
        assert doc.title == {"en": lab.name.en, "fr": lab.name.fr}
        assert doc.sources and all(s.url.startswith("https://") for s in doc.sources)
        assert code in doc.keywords
        assert set(lab.aliases.en) | set(lab.aliases.fr) <= set(doc.keywords)
        assert doc.text["en"].startswith("What it measures:")
        assert doc.text["fr"].startswith("Ce que mesure l'analyse :")


def test_rendered_text_has_each_non_empty_section_once() -> None:
    item = content_for("2823-3")  # potassium
    assert item is not None
    text = render_text(item, "en")
    for heading in ("A high value can mean:", "A low value can mean:", "When to talk to a doctor:"):
        assert text.count(heading) == 1
    egfr = content_for("98979-8")
    assert egfr is not None and not len(egfr.high)
    assert "A high value can mean:" not in render_text(egfr, "en")


def test_registered_as_a_search_provider() -> None:
    _load_builtin_providers()
    assert "lab_content" in DOCUMENT_PROVIDERS


# ---------------------------------------------------------------- helpers


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if _WORD.search(s)]


def _average_sentence_words(lang: str) -> float:
    sentences: list[str] = []
    for item in load_lab_content().items:
        sentences.extend(_sentences(getattr(item.measures, lang)))
        for section in LIST_SECTIONS:
            for entry in item.section(section).in_language(lang):
                sentences.extend(_sentences(entry))
    words = sum(len(_WORD.findall(sentence)) for sentence in sentences)
    return words / len(sentences)
