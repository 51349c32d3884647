"""Medical synonyms and translations: lay words, medical terms and the other language meet.

Spelling cannot tell that "sucre dans le sang", "glycémie", "blood sugar" and "glucose" mean the
same thing, so ``data/synonyms.json`` groups them. Each group becomes one concept term
(``#glucose``): a document gets it wherever one of the group's phrases appears in its text, a
query wherever one appears in the query. Matching concepts rather than adding every synonym's
words to the query keeps multi-word phrases precise ("blood" alone does not mean glucose) and
makes a French query meet an English-only text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import Field, model_validator

from healthspace.knowledge.citations import Frozen, Source
from healthspace.knowledge.search.analysis import terms

Language = Literal["en", "fr"]
CONCEPT_PREFIX = "#"  # cannot start a word term, so concept terms never collide with words
_SLUG = r"^[a-z0-9]+(?:_[a-z0-9]+)*$"


class SynonymGroup(Frozen):
    """Terms that mean the same thing, in English and French; cited, or a plain translation."""

    id: str = Field(pattern=_SLUG)
    en: tuple[str, ...] = Field(min_length=1)
    fr: tuple[str, ...] = Field(min_length=1)
    sources: tuple[str, ...] = ()
    # A dictionary equivalence ("médecin" = "doctor") needs no medical source, only a note.
    linguistic: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _cited_or_linguistic(self) -> SynonymGroup:
        if not self.sources and not (self.linguistic and self.note):
            raise ValueError(f"{self.id}: give sources, or mark it linguistic with a note")
        for phrase in (*self.en, *self.fr):
            if not terms(phrase):
                raise ValueError(f"{self.id}: the phrase {phrase!r} has only stop words")
        return self


class SynonymCatalog(Frozen):
    version: str = Field(min_length=1)
    comment: str = ""
    sources: Mapping[str, Source]
    groups: tuple[SynonymGroup, ...]

    @model_validator(mode="after")
    def _ids_unique_and_sources_defined(self) -> SynonymCatalog:
        seen: set[str] = set()
        for group in self.groups:
            if group.id in seen:
                raise ValueError(f"duplicate synonym group id {group.id}")
            seen.add(group.id)
            missing = [s for s in group.sources if s not in self.sources]
            if missing:
                raise ValueError(f"{group.id}: undefined source ids {missing}")
        return self


def synonyms_text() -> str:
    """The raw data file (its bytes also version the search index)."""
    return (
        resources.files("healthspace.knowledge").joinpath("data/synonyms.json").read_text("utf-8")
    )


@cache
def load_synonyms() -> SynonymCatalog:
    """The synonym groups shipped with Healthspace, read once and validated."""
    return SynonymCatalog.model_validate(json.loads(synonyms_text()))


@dataclass(frozen=True)
class ConceptMatch:
    """A synonym group found in a sequence of terms, at ``terms[start:end]``."""

    group: str
    start: int
    end: int

    @property
    def term(self) -> str:
        return CONCEPT_PREFIX + self.group


class PhraseMatcher:
    """Finds the groups whose phrases occur in a sequence of analysed terms.

    Phrases are analysed like any text (folded, stop words dropped, stemmed), so "sucre dans le
    sang" matches "sucres dans le sang" and "sucre du sang" alike.
    """

    def __init__(self, groups: Iterable[SynonymGroup]) -> None:
        # language → first term → phrase length → phrase terms → group ids
        self._phrases: dict[str, dict[str, dict[int, dict[tuple[str, ...], tuple[str, ...]]]]]
        self._phrases = {"en": {}, "fr": {}}
        for group in groups:
            for language, phrases in (("en", group.en), ("fr", group.fr)):
                for phrase in phrases:
                    key = tuple(terms(phrase))
                    by_length = self._phrases[language].setdefault(key[0], {})
                    table = by_length.setdefault(len(key), {})
                    table[key] = tuple(dict.fromkeys((*table.get(key, ()), group.id)))
        self._firsts = {language: frozenset(table) for language, table in self._phrases.items()}

    def find(self, sequence: list[str], language: Language | None = None) -> list[ConceptMatch]:
        """Every phrase occurrence; ``language`` None looks for the phrases of both languages."""
        languages = ("en", "fr") if language is None else (language,)
        found: dict[tuple[str, int, int], ConceptMatch] = {}
        for lang in languages:
            firsts = self._firsts[lang]
            phrases = self._phrases[lang]
            for start in [i for i, term in enumerate(sequence) if term in firsts]:
                for length, table in phrases[sequence[start]].items():
                    group_ids = table.get(tuple(sequence[start : start + length]))
                    if group_ids is None:
                        continue
                    end = start + length
                    for group in group_ids:
                        found.setdefault((group, start, end), ConceptMatch(group, start, end))
        return list(found.values())


@dataclass(frozen=True)
class QueryConcepts:
    """The concepts a query names (term → weight) and the query positions their phrases span."""

    weights: dict[str, float]
    phrase_positions: frozenset[int]


def query_concepts(sequence: list[str], matcher: PhraseMatcher) -> QueryConcepts:
    """Concept terms of a query with their weights.

    A match inside a longer match counts less: in "sucre dans le sang" the phrase means glucose,
    and "sang" (blood) on its own would pull in every text about blood. The positions covered
    by phrases of two words or more are returned so their words can count less than the
    concept they form together ("tension artérielle" is about blood pressure, not arteries).
    """
    matches = matcher.find(sequence)
    weights: dict[str, float] = {}
    positions: set[int] = set()
    for match in matches:
        covered = any(
            other.start <= match.start
            and match.end <= other.end
            and (other.end - other.start) > (match.end - match.start)
            for other in matches
        )
        weight = 0.3 if covered else 1.0
        weights[match.term] = max(weights.get(match.term, 0.0), weight)
        if match.end - match.start > 1:
            positions.update(range(match.start, match.end))
    return QueryConcepts(weights, frozenset(positions))


@cache
def default_matcher() -> PhraseMatcher:
    """The matcher over the shipped synonym groups, built once per process."""
    return PhraseMatcher(load_synonyms().groups)


@cache
def group_words() -> dict[str, frozenset[str]]:
    """Group id → the terms of all its phrases (to pick the snippet that shows the concept)."""
    return {
        group.id: frozenset(t for phrase in (*group.en, *group.fr) for t in terms(phrase))
        for group in load_synonyms().groups
    }
