"""Analysis: folding, stop words and light stemming that make French and English spellings meet."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from healthspace.knowledge.folding import fold
from healthspace.knowledge.search.analysis import fold_text, stem, terms


def test_case_and_accents_do_not_matter() -> None:
    assert terms("Hémoglobine GLYQUÉE") == terms("hemoglobine glyquee")
    assert terms("ŒDÈME") == terms("oedeme")


def test_stop_words_of_both_languages_are_dropped() -> None:
    assert terms("le sucre dans le sang") == ["sucr", "sang"]
    assert terms("What are the symptoms of gout?") == terms("symptoms gout")


def test_plural_and_feminine_forms_share_a_stem() -> None:
    assert stem("renales") == stem("renale") == stem("renal") == stem("renaux")
    assert stem("allergies") == stem("allergie") == stem("allergy")
    assert stem("arterielle") == stem("arteriel")
    assert stem("kidneys") == stem("kidney")


def test_french_and_english_spellings_of_a_drug_meet() -> None:
    assert terms("ibuprofène") == terms("ibuprofen")
    assert terms("metformine") == terms("metformin")
    assert terms("diabète") == terms("diabetes")


def test_english_ing_and_ed_forms_meet_their_verb() -> None:
    assert stem("bleeding") == stem("bleed")
    assert stem("swelling") == stem("swell")
    assert stem("infected") == stem("infect")


def test_words_with_digits_are_kept_whole() -> None:
    assert terms("HbA1c B12 COVID-19") == ["hba1c", "b12", "covid", "19"]


def test_a_letter_naming_a_vitamin_or_hepatitis_is_kept() -> None:
    assert terms("vitamine D") == ["vitamin", "d"]
    assert terms("hépatite A") == ["hepatit", "a"]
    assert "d" not in terms("taux d'urée")


@given(st.text(max_size=60))
def test_fast_folding_folds_like_the_shared_fold(text: str) -> None:
    assert fold_text(text) == fold(text).lower()
