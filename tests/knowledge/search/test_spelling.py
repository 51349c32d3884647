"""Typo tolerance: close words are found through deletions, never by scanning the vocabulary."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from healthspace.knowledge.search.spelling import SpellingIndex, edit_distance

VOCABULARY = {"metformin": 3, "metoprolol": 2, "amoxicillin": 2, "paracetamol": 5, "rein": 1}


def test_a_transposition_is_one_edit() -> None:
    assert edit_distance("metfromin", "metformin", 2) == 1
    assert edit_distance("abc", "xyz", 1) == 2  # capped at the limit plus one


def test_common_slips_are_corrected() -> None:
    index = SpellingIndex(VOCABULARY)
    assert index.corrections("metfromin") == ["metformin"]
    assert index.corrections("amoxicilin") == ["amoxicillin"]
    assert index.corrections("paracetamole") == ["paracetamol"]


def test_short_words_and_far_words_are_left_alone() -> None:
    index = SpellingIndex(VOCABULARY)
    assert index.corrections("sein") == []  # "rein" is one edit away, and a different organ
    assert index.corrections("zzzzzzzzz") == []
    assert index.corrections("metformin") == []  # known words need no correction


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", max_size=14))
def test_corrections_are_known_words_within_the_allowed_distance(word: str) -> None:
    index = SpellingIndex(VOCABULARY)
    for candidate in index.corrections(word):
        assert candidate in VOCABULARY
        assert edit_distance(word, candidate, 2) <= (1 if len(word) < 8 else 2)
