"""The medical glossary: schema and sources, look-up in both languages, scanning a report's text."""

from __future__ import annotations

import json
import re
import time
from importlib import resources
from typing import Any, get_args
from urllib.parse import urlparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from healthspace.knowledge import registry
from healthspace.knowledge.glossary import (
    LANGS,
    Category,
    Glossary,
    GlossaryTerm,
    find_term,
    find_terms_in,
    load_glossary,
    lookup_key,
)

GLOSSARY = load_glossary()
TERMS = GLOSSARY.terms
# Health authorities and public-domain references the glossary may cite.
AUTHORITIES = (
    "medlineplus.gov",
    "cancer.gov",
    "nih.gov",
    "nhs.uk",
    "cdc.gov",
    "fda.gov",
    "who.int",
    "has-sante.fr",
    "ameli.fr",
    "ansm.sante.fr",
    "santepubliquefrance.fr",
    "academie-medecine.fr",
)


def term(term_id: str) -> GlossaryTerm:
    found = GLOSSARY.term(term_id)
    assert found is not None, term_id
    return found


def spans(text: str, lang: Any = None) -> list[tuple[str, str]]:
    """What a scan found, as (words as written, term id)."""
    return [(text[m.start : m.end], m.term.id) for m in find_terms_in(text, lang)]


def raw_data() -> dict[str, Any]:
    text = (
        resources.files("healthspace.knowledge").joinpath("data/glossary.json").read_text("utf-8")
    )
    data: dict[str, Any] = json.loads(text)
    return data


# ---------------------------------------------------------------------------- schema and sources


def test_glossary_has_at_least_500_terms() -> None:
    assert len(TERMS) >= 500


def test_every_term_is_named_and_explained_in_both_languages() -> None:
    for item in TERMS:
        for lang in LANGS:
            assert getattr(item.term, lang).strip(), (item.id, lang)
            assert getattr(item.plain, lang).strip(), (item.id, lang)
            if item.explanation is not None:
                assert getattr(item.explanation, lang).strip(), (item.id, lang)


def test_every_term_cites_a_defined_source_from_a_health_authority() -> None:
    for item in TERMS:
        assert item.sources, item.id
        for source_id in item.sources:
            assert source_id in GLOSSARY.sources, (item.id, source_id)
    for source_id, source in GLOSSARY.sources.items():
        host = urlparse(source.url).hostname or ""
        assert any(host == a or host.endswith("." + a) for a in AUTHORITIES), (source_id, host)


def test_every_defined_source_is_cited() -> None:
    cited = {source_id for item in TERMS for source_id in item.sources}
    assert set(GLOSSARY.sources) == cited


def test_every_cross_reference_resolves_to_another_term() -> None:
    ids = {item.id for item in TERMS}
    for item in TERMS:
        for other in item.see_also:
            assert other in ids and other != item.id, (item.id, other)


def test_no_name_belongs_to_two_terms_in_one_language() -> None:
    for lang in LANGS:
        owner: dict[tuple[str, ...], str] = {}
        for item in TERMS:
            for variant in item.names(lang):
                key = lookup_key(variant.text, affix=item.category == "prefix_suffix")
                assert owner.setdefault(key, item.id) == item.id, (lang, variant.text, item.id)


def test_plain_words_are_short() -> None:
    for item in TERMS:
        for lang in LANGS:
            assert len(getattr(item.plain, lang).split()) <= 25, (item.id, lang)
            if item.explanation is not None:
                explanation = getattr(item.explanation, lang)
                assert len(explanation.split()) <= 40, (item.id, lang)
                assert len(re.findall(r"[.!?](\s|$)", explanation)) <= 2, (item.id, lang)


def test_no_plain_definition_repeats_its_own_term() -> None:
    for item in TERMS:
        if item.category == "prefix_suffix":
            continue
        for lang in LANGS:
            name = " ".join(lookup_key(getattr(item.term, lang)))
            plain = " ".join(lookup_key(getattr(item.plain, lang)))
            assert f" {name} " not in f" {plain} ", (item.id, lang)


def test_every_category_has_terms() -> None:
    assert {item.category for item in TERMS} == set(get_args(Category))


def test_the_abbreviations_reports_use_are_known_in_both_languages() -> None:
    french = (
        "HTA DT2 BPCO IRM TDM ECG NFS CRP VS IDM AVC IC FA EP TVP FC SpO2 IMC DFG ATCD RAS ttt CAT"
    )
    english = (
        "BP HR T2DM COPD CBC MRI CT MI CVA DVT PE AF CHF BMI eGFR PRN bid tid qd NPO SOB HPI PMH"
    )
    for lang, words in (("fr", french), ("en", english)):
        for word in words.split():
            assert [found for _, found in spans(word, lang)], (lang, word)


def test_a_term_without_a_source_fails_validation() -> None:
    data = raw_data()
    data["terms"][0]["sources"] = []
    with pytest.raises(ValidationError):
        Glossary.model_validate(data)


def test_a_term_without_french_fails_validation() -> None:
    data = raw_data()
    del data["terms"][0]["plain"]["fr"]
    with pytest.raises(ValidationError):
        Glossary.model_validate(data)


def test_an_undefined_source_fails_validation() -> None:
    data = raw_data()
    data["terms"][0]["sources"] = ["no_such_source"]
    with pytest.raises(ValidationError, match="undefined source"):
        Glossary.model_validate(data)


def test_a_broken_cross_reference_fails_validation() -> None:
    data = raw_data()
    data["terms"][0]["see_also"] = ["no_such_term"]
    with pytest.raises(ValidationError, match="see_also"):
        Glossary.model_validate(data)


def test_a_name_shared_by_two_terms_fails_validation() -> None:
    data = raw_data()
    data["terms"][1]["variants"]["fr"].append(data["terms"][2]["term"]["fr"])
    with pytest.raises(ValidationError, match="names both"):
        Glossary.model_validate(data)


# ---------------------------------------------------------------------------- find_term


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("hépatomégalie", "fr", "hepatomegaly"),
        ("HEPATOMEGALIE", None, "hepatomegaly"),
        ("hepatomegaly", "en", "hepatomegaly"),
        ("enlarged liver", None, "hepatomegaly"),
        ("épanchements", "fr", "effusion"),
        ("  Pleural effusions ", "en", "pleural_effusion"),
        ("HTA", "fr", "hypertension"),
        ("hta", None, "hypertension"),
        ("EKG", "en", "electrocardiogram"),
        ("IRM", "fr", "mri"),
        ("pe", "en", "pulmonary_embolism"),
        ("angine de poitrine", "fr", "angina"),
        ("angine", "fr", "tonsillitis"),
        ("brûlures mictionnelles", "fr", "dysuria"),
        ("dysurie", "fr", "urinary_hesitancy"),
        ("-itis", "en", "suffix_itis"),
        ("itis", None, "suffix_itis"),
        ("-ite", "fr", "suffix_itis"),
        ("hyper", None, "prefix_hyper"),
        ("mégalie", "fr", "suffix_megaly"),
    ],
)
def test_find_term_in_either_language(text: str, lang: Any, expected: str) -> None:
    found = find_term(text, lang)
    assert found is not None and found.id == expected


def test_find_term_keeps_to_the_language_asked() -> None:
    assert find_term("HTA", "en") is None
    assert find_term("hypertension artérielle", "en") is None


@pytest.mark.parametrize("text", ["", "   ", "--", "zzzz", "the"])
def test_find_term_returns_none_for_unknown_words(text: str) -> None:
    assert find_term(text) is None


# ---------------------------------------------------------------------------- find_terms_in


def test_a_french_ultrasound_report_is_scanned_with_exact_spans() -> None:
    text = "Échographie abdominale : hépatomégalie homogène, pas d'épanchement."
    assert spans(text, "fr") == [
        ("Échographie abdominale", "ultrasound"),
        ("hépatomégalie", "hepatomegaly"),
        ("homogène", "homogeneous"),
        ("épanchement", "effusion"),
    ]
    matches = find_terms_in(text, "fr")
    assert (matches[1].start, matches[1].end) == (25, 38)


def test_an_english_ct_report_prefers_the_longest_term() -> None:
    text = "CT chest: small bilateral pleural effusions, no PE."
    assert spans(text, "en") == [
        ("CT", "ct_scan"),
        ("bilateral", "bilateral"),
        ("pleural effusions", "pleural_effusion"),
        ("PE", "pulmonary_embolism"),
    ]


def test_a_french_consultation_letter_is_scanned() -> None:
    text = "ATCD : HTA, DT2, BPCO. IDM en 2019, FA sous AOD. RAS. CAT : NFS, CRP, VS, IRM."
    assert [found for _, found in spans(text, "fr")] == [
        "past_medical_history",
        "hypertension",
        "type_2_diabetes",
        "copd",
        "myocardial_infarction",
        "atrial_fibrillation",
        "doac",
        "no_abnormality_detected",
        "management_plan",
        "complete_blood_count",
        "crp",
        "esr",
        "mri",
    ]


def test_an_english_note_with_abbreviations_is_scanned() -> None:
    text = "HPI: SOB. PMH: T2DM, HTN, CHF. BP 150/90, HR 110 bpm, SpO2 92%. Metoprolol bid PRN."
    assert [found for _, found in spans(text, "en")] == [
        "history_of_present_illness",
        "dyspnea",
        "past_medical_history",
        "type_2_diabetes",
        "hypertension",
        "heart_failure",
        "blood_pressure",
        "heart_rate",
        "beats_per_minute",
        "oxygen_saturation",
        "bid",
        "as_needed",
    ]


def test_a_longer_french_term_wins_over_its_first_word() -> None:
    assert spans("infarctus du myocarde ancien", "fr") == [
        ("infarctus du myocarde", "myocardial_infarction")
    ]
    assert spans("angine de poitrine stable", "fr")[0] == ("angine de poitrine", "angina")
    assert spans("une angine virale", "fr") == [("angine", "tonsillitis")]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("type of pipe, ripe apples, the pe kit", "en"),
        ("Pe was here; mi amigo", "en"),
        ("le chat dort, un cat ou une cat", "fr"),
        ("à ras du sol, un ic, une fa, ep", "fr"),
        ("versus vs. VSx", "fr"),
    ],
)
def test_case_sensitive_abbreviations_never_match_ordinary_words(text: str, lang: Any) -> None:
    found = {term_id for _, term_id in spans(text, lang)}
    assert not found & {
        "pulmonary_embolism",
        "myocardial_infarction",
        "management_plan",
        "no_abnormality_detected",
        "heart_failure",
        "atrial_fibrillation",
        "esr",
    }


def test_abbreviations_match_next_to_punctuation_and_in_plural() -> None:
    assert spans("(PE)", "en") == [("PE", "pulmonary_embolism")]
    assert spans("two PEs", "en") == [("PEs", "pulmonary_embolism")]
    assert spans("l'IRM", "fr") == [("IRM", "mri")]


def test_a_sentence_break_splits_a_term() -> None:
    assert spans("pleural. Effusion", "en") == [("pleural", "pleura"), ("Effusion", "effusion")]
    assert spans("pleural\neffusion", "en") == [("pleural\neffusion", "pleural_effusion")]


def test_word_parts_are_not_matched_in_running_text() -> None:
    assert all(m.term.category != "prefix_suffix" for m in find_terms_in("itis ite hyper- -algia"))


def test_without_a_language_both_are_scanned() -> None:
    assert [found for _, found in spans("HTA and COPD")] == ["hypertension", "copd"]


def test_scanning_a_long_report_is_fast() -> None:
    paragraph = (
        "Échographie abdominale : hépatomégalie homogène, pas d'épanchement. Patient hypertendu, "
        "DT2 sous insuline. NFS normale, CRP à 12. Scanner thoracique : nodule pulmonaire, "
        "opacités en verre dépoli bilatérales, pas d'embolie pulmonaire. "
    )
    text = paragraph * 100  # about 2,700 words
    find_terms_in(text, "fr")
    started = time.perf_counter()
    matches = find_terms_in(text, "fr")
    assert len(matches) >= 1000
    assert time.perf_counter() - started < 0.5


_NAMES = sorted(
    {
        variant.text
        for item in TERMS
        if item.category != "prefix_suffix"
        for lang in LANGS
        for variant in item.names(lang)
    }
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(_NAMES),
            st.text(alphabet="abcdeépPEIRMSstu ", max_size=12),
        ),
        max_size=25,
    ),
    st.sampled_from([" ", ", ", ". ", "\n", "-", "/", "'", ""]),
    st.sampled_from([None, "en", "fr"]),
)
def test_spans_are_the_text_as_written_and_never_overlap(
    pieces: list[str], separator: str, lang: Any
) -> None:
    text = separator.join(pieces)
    previous_end = 0
    for match in find_terms_in(text, lang):
        assert previous_end <= match.start < match.end <= len(text)
        found = text[match.start : match.end]
        assert found == found.strip() and found[0].isalnum() and found[-1].isalnum()
        assert match.start == 0 or not text[match.start - 1].isalnum()
        assert match.end == len(text) or not text[match.end].isalnum()
        previous_end = match.end


# ---------------------------------------------------------------------------- search documents


def test_every_term_is_a_search_document_with_sources() -> None:
    from healthspace.knowledge.glossary import documents

    docs = list(documents())
    assert len(docs) == len(TERMS)
    assert len({doc.id for doc in docs}) == len(docs)
    hepatomegaly = next(doc for doc in docs if doc.id == "glossary:hepatomegaly")
    assert hepatomegaly.kind == "glossary"
    assert hepatomegaly.title == {"en": "hepatomegaly", "fr": "hépatomégalie"}
    assert "foie plus gros" in hepatomegaly.text["fr"]
    assert "enlarged liver" in hepatomegaly.keywords
    assert all(doc.sources and set(doc.text) == {"en", "fr"} for doc in docs)


def test_the_glossary_registers_with_the_knowledge_registry() -> None:
    registry._load_builtin_providers()
    assert "glossary" in registry.DOCUMENT_PROVIDERS
    first = next(iter(registry.DOCUMENT_PROVIDERS["glossary"]()))
    assert first.id.startswith("glossary:")
