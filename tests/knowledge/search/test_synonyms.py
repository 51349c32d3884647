"""The synonym data file: enough groups, each cited or a plain translation, both languages."""

from __future__ import annotations

from healthspace.knowledge.search.analysis import terms
from healthspace.knowledge.search.expansion import (
    PhraseMatcher,
    SynonymGroup,
    load_synonyms,
    query_concepts,
)


def test_every_group_is_sourced_or_a_noted_translation_in_both_languages() -> None:
    catalog = load_synonyms()
    assert len(catalog.groups) >= 300
    for group in catalog.groups:
        assert group.en and group.fr
        assert group.sources or (group.linguistic and group.note), group.id
        assert all(source in catalog.sources for source in group.sources), group.id
    medical = [g for g in catalog.groups if g.sources]
    assert len(medical) >= 300


def test_a_group_without_source_or_note_is_refused() -> None:
    try:
        SynonymGroup(id="x", en=("a thing",), fr=("une chose",))
    except ValueError as error:
        assert "sources" in str(error)
    else:
        raise AssertionError("a group without a source was accepted")


def concepts(query: str) -> dict[str, float]:
    return query_concepts(terms(query), PhraseMatcher(load_synonyms().groups)).weights


def test_lay_medical_and_foreign_words_meet_in_one_concept() -> None:
    assert concepts("sucre dans le sang")["#glucose"] == 1.0
    assert concepts("blood sugar")["#glucose"] == 1.0
    assert concepts("glycémie")["#glucose"] == 1.0
    assert concepts("crise cardiaque")["#myocardial_infarction"] == 1.0
    assert concepts("heart attack")["#myocardial_infarction"] == 1.0
    assert concepts("tension artérielle")["#blood_pressure"] == 1.0
    assert concepts("rein")["#kidney"] == 1.0
    assert concepts("foie")["#liver"] == 1.0


def test_a_word_inside_a_longer_phrase_counts_less() -> None:
    found = concepts("sucre dans le sang")
    assert found["#blood"] < found["#glucose"]
    matched = query_concepts(terms("tension artérielle"), PhraseMatcher(load_synonyms().groups))
    assert matched.phrase_positions == {0, 1}  # both words belong to the phrase
