"""SNOMED CT concepts for the condition mentions the ICD-10-CM coder finds in a text.

The ICD-10-CM coder finds the spans and their context (negated, historical, family...); each
span is then looked up among the descriptions of the user's loaded release: the words as
written first, then the ICD-10-CM description's core words. When the release carries the
ICD-10 map (see ``snomed_map``), a concept that maps back to the span's ICD-10-CM code scores
higher, and a span no description matches falls back on the map alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from healthspace.coding.icd10_coder import CodeSuggestion, _core_phrase
from healthspace.coding.snomed_map import IcdMap, load_icd_map
from healthspace.coding.tokens import words
from healthspace.knowledge.folding import fold
from healthspace.terminology.snomed import SnomedError, SnomedStore

SYSTEM = "snomed"
SYSTEM_URI = "http://snomed.info/sct"
# Semantic tags of concepts a problem list holds (SNOMED CT editorial guide, "Clinical finding"
# and "Situation with explicit context" hierarchies).
_CONDITION_TAGS = ("disorder", "finding", "situation")
_SEMANTIC_TAG = re.compile(r"\(([^()]+)\)\s*$")
# ICD-10-CM's "without complications" says what is absent; SNOMED CT names the condition.
_NO_DETAIL = re.compile(r"\b(?:without complications?|uncomplicated)\b", re.IGNORECASE)
_MAP_BONUS = 0.05
_MAP_ONLY_SCORE = 0.6


@dataclass(frozen=True, slots=True)
class SnomedSuggestion:
    """A concept for a span of the text, with the ICD codes the release maps it to."""

    code: str
    display: str
    score: float
    evidence: str
    start: int
    end: int
    status: str
    trigger: str | None
    matched: str  # the description (or "map") that led to the concept
    icd10cm: tuple[str, ...]
    system: str = SYSTEM

    def as_json(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "code": self.code,
            "display": self.display,
            "score": self.score,
            "evidence": self.evidence,
            "start": self.start,
            "end": self.end,
            "status": self.status,
            "trigger": self.trigger,
            "matched": self.matched,
            "icd10cm": list(self.icd10cm),
        }


def semantic_tag(fsn: str | None) -> str | None:
    """ "Asthma (disorder)" → "disorder"."""
    found = _SEMANTIC_TAG.search(fsn or "")
    return found.group(1) if found else None


class SnomedCoder:
    """Concepts for ICD-10-CM coder spans, over one loaded release (and its map, if any)."""

    def __init__(self, store: SnomedStore, icd_map: IcdMap | None) -> None:
        self.store = store
        self.icd_map = icd_map

    @classmethod
    def for_store(cls, store: SnomedStore, release_dir: Path | None = None) -> SnomedCoder:
        """The coder with the map of ``release_dir``, else of the folder the store came from."""
        if release_dir is None:
            loaded_from = store.stats().get("release")
            release_dir = Path(loaded_from) if loaded_from else None
        return cls(store, load_icd_map(release_dir))

    def icd_codes_for(self, concept_id: str) -> tuple[str, ...]:
        """The unconditional ICD codes the release maps a concept to (none without a map)."""
        if self.icd_map is None:
            return ()
        return tuple(dict.fromkeys(t.code for t in self.icd_map.icd_codes(concept_id)))

    def _condition(self, concept_id: str) -> tuple[bool, str | None]:
        concept = self.store.concept(concept_id)
        tag = semantic_tag(concept.fsn)
        return (tag is None or tag in _CONDITION_TAGS), concept.preferred_term

    def _lookups(self, phrase: str) -> list[tuple[str, str, float]]:
        """(concept, matched term, score) for the conditions a phrase names, best first."""
        if not words(phrase):
            return []
        try:
            hits = self.store.search(phrase, limit=5)
        except SnomedError:
            return []
        wanted = " ".join(words(fold(phrase)))
        found = []
        for hit in hits:
            is_condition, _ = self._condition(hit.concept_id)
            if not is_condition:
                continue
            # A description that is the phrase itself (case and accents aside) is a sure match.
            exact = " ".join(words(fold(hit.term))) == wanted
            found.append((hit.concept_id, hit.term, 1.0 if exact else hit.score))
        return found

    def suggest(self, icd_suggestions: list[CodeSuggestion]) -> list[SnomedSuggestion]:
        """One concept per span (the best), keeping the span's context status."""
        best: dict[tuple[str, str], SnomedSuggestion] = {}
        for item in icd_suggestions:
            chosen = self._concept_for(item)
            if chosen is None:
                continue
            concept_id, matched, match_score = chosen
            _, preferred = self._condition(concept_id)
            score = round(min(1.0, 0.6 * item.score + 0.4 * match_score), 3)
            suggestion = SnomedSuggestion(
                code=concept_id,
                display=preferred or matched,
                score=score,
                evidence=item.evidence,
                start=item.start,
                end=item.end,
                status=item.status,
                trigger=item.trigger,
                matched=matched,
                icd10cm=self.icd_codes_for(concept_id),
            )
            key = (concept_id, item.status)
            if key not in best or suggestion.score > best[key].score:
                best[key] = suggestion
        return sorted(best.values(), key=lambda s: (-s.score, s.start))

    def _concept_for(self, item: CodeSuggestion) -> tuple[str, str, float] | None:
        mapped = set(self.icd_map.concepts(item.code)) if self.icd_map else set()
        for phrase, weight in _phrases(item):
            found = self._lookups(phrase)
            if found:
                ranked = sorted(
                    found, key=lambda f: -(f[2] + (_MAP_BONUS if f[0] in mapped else 0.0))
                )
                concept_id, term, score = ranked[0]
                bonus = _MAP_BONUS if concept_id in mapped else 0.0
                return concept_id, term, min(1.0, score * weight + bonus)
        for concept_id in sorted(mapped):
            if self.store.has(concept_id) and self._condition(concept_id)[0]:
                return concept_id, "map", _MAP_ONLY_SCORE
        return None


def _phrases(item: CodeSuggestion) -> list[tuple[str, float]]:
    """What to look up for a span, with how much a match is worth: the words as written, then
    the ICD-10-CM description's core, then that core without its leading qualifiers ("Acute
    myocardial infarction" → "myocardial infarction"), as a release in another language or
    with other wording still names the condition."""
    phrases = [(item.evidence, 1.0)]
    core = words(_NO_DETAIL.sub(" ", _core_phrase(item.display)))
    for dropped in range(len(core)):
        phrases.append((" ".join(core[dropped:]), 0.95 * 0.9**dropped))
    return phrases
