"""The lexicon and context rule files: valid, sourced, bilingual, and every code real."""

from __future__ import annotations

import json
import warnings
from importlib import resources
from typing import Any

import pytest
from pydantic import ValidationError

from healthspace.coding.context import LANGUAGES, load_context_rules, parse_context_rules
from healthspace.coding.icd10_coder import load_condition_lexicon, parse_condition_lexicon

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # the package's importlib.resources use
    import simple_icd_10_cm as cm

LEXICON = load_condition_lexicon()


def _lexicon_json() -> dict[str, Any]:
    text = resources.files("healthspace.coding").joinpath("data/condition_terms.json")
    return dict(json.loads(text.read_text("utf-8")))


def _rules_json() -> dict[str, Any]:
    text = resources.files("healthspace.coding").joinpath("data/context_triggers.json")
    return dict(json.loads(text.read_text("utf-8")))


def test_every_mapped_code_exists_and_is_billable_in_simple_icd_10_cm() -> None:
    for term in LEXICON.conditions:
        assert cm.is_valid_item(term.code), term.code
        assert cm.is_leaf(term.code), f"{term.code} is a category: map to a billable code"


def test_the_lexicon_has_at_least_250_phrases_in_both_languages() -> None:
    english = sum(len(t.en) for t in LEXICON.conditions)
    french = sum(len(t.fr) for t in LEXICON.conditions)
    assert english >= 250 and french >= 250
    assert len({t.code for t in LEXICON.conditions}) >= 250
    for term in LEXICON.conditions:
        assert term.en and term.fr, f"{term.code} needs phrases in English and in French"


@pytest.mark.parametrize(
    "phrase",
    [
        "type 2 diabetes",
        "T2DM",
        "diabète de type 2",
        "DT2",
        "hypertension",
        "HTA",
        "high blood pressure",
        "chest pain",
        "douleur thoracique",
        "fever",
        "fièvre",
        "COPD",
        "BPCO",
        "asthma",
        "pneumonia",
        "heart failure",
        "insuffisance cardiaque",
        "atrial fibrillation",
        "fibrillation auriculaire",
        "CKD stage 3a",
    ],
)
def test_the_phrases_the_issue_names_are_there(phrase: str) -> None:
    assert any(phrase in (*t.en, *t.fr) for t in LEXICON.conditions)


def test_every_term_cites_a_defined_source() -> None:
    for term in LEXICON.conditions:
        assert term.sources and all(s in LEXICON.sources for s in term.sources)


def test_a_phrase_naming_two_codes_is_refused() -> None:
    data = _lexicon_json()
    data["conditions"] = [*data["conditions"], {**data["conditions"][0], "code": "I10"}]
    with pytest.raises(ValidationError, match="names both"):
        parse_condition_lexicon(json.dumps(data))


def test_an_undefined_source_is_refused() -> None:
    data = _lexicon_json()
    data["conditions"][0] = {**data["conditions"][0], "sources": ["nowhere"]}
    with pytest.raises(ValidationError, match="undefined source"):
        parse_condition_lexicon(json.dumps(data))


def test_the_rules_cover_every_status_in_both_languages() -> None:
    rules = load_context_rules().rule_file
    assert set(rules.languages) == set(LANGUAGES)
    for lang, language in rules.languages.items():
        for status in ("negated", "historical", "family", "hypothetical"):
            directions = getattr(language.triggers, status)
            assert directions.forward, (lang, status)
        assert language.terminators, lang


def test_a_phrase_with_two_meanings_is_refused() -> None:
    data = _rules_json()
    data["languages"]["en"]["triggers"]["historical"]["forward"].append("denies")
    with pytest.raises(ValueError, match="both negated and historical"):
        parse_context_rules(json.dumps(data))
