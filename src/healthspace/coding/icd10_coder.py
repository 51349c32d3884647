"""ICD-10-CM codes for the conditions a clinical text mentions, each with the span that says so.

Find, then act (STYLE.md §2): a candidate finder matches the bilingual lexicon
(``data/condition_terms.json``) and, for English, the ICD-10-CM descriptions and inclusion
terms themselves; the context rules give each mention a status; ranking scores the mentions,
keeps one per code and status, and drops an unspecified code when the text names a more
specific one of the same category.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from healthspace.coding.context import (
    ContextRules,
    Language,
    Modifier,
    Status,
    load_context_rules,
    status_of,
)
from healthspace.coding.tokens import (
    PhraseMatcher,
    Token,
    clause_numbers,
    longest_first,
    match_key,
    sentence_numbers,
    tokenize,
    words,
)
from healthspace.knowledge.citations import Frozen, Source
from healthspace.terminology.icd10cm import (
    SYSTEM,
    Icd10cm,
    Icd10Code,
    cache_file,
    load_icd10cm,
    read_cache,
    write_cache,
)

Origin = Literal["lexicon", "description", "inclusion_term"]

# How much a kind of match is worth before specificity: a curated phrase is what clinicians
# write; an ICD-10-CM description found verbatim is precise but rarer; an inclusion term is a
# looser synonym.
_QUALITY: dict[Origin, float] = {"lexicon": 0.9, "description": 0.8, "inclusion_term": 0.75}
# Chapters left to the lexicon: injuries and poisonings (S, T) need a 7th character the text
# rarely gives, and external causes (V-Y) say how an injury happened, not what it is.
_NOT_CONDITIONS = ("S", "T", "V", "W", "X", "Y")
_ICD_CODE = r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$"
_DROPPED_SEGMENT = re.compile(
    r",\s*(?:unspecified|not specified|site not specified|not elsewhere classified)[^,]*",
    re.IGNORECASE,
)
_DROPPED_WORDS = re.compile(r"\(([^()]*)\)|\[[^\[\]]*\]|\bunspecified\b|\bNOS\b", re.IGNORECASE)
# Bump when the way description phrases are derived changes, so old caches are not used.
_PHRASES_FORMAT = 1
_DEFAULT_WORDS = ("unspecified", "without complication", "uncomplicated", "nos")
_EXCLUSIVE_WORDS = ("without complication", "uncomplicated")


class ConditionTerm(Frozen):
    """The phrases, in each language, that name one billable ICD-10-CM code."""

    code: str = Field(pattern=_ICD_CODE)
    en: tuple[str, ...] = ()
    fr: tuple[str, ...] = ()
    sources: tuple[str, ...] = Field(min_length=1)


class ConditionLexicon(Frozen):
    version: str = Field(min_length=1)
    conventions: str = Field(min_length=1)
    sources: Mapping[str, Source]
    conditions: tuple[ConditionTerm, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ConditionLexicon:
        seen: dict[tuple[str, ...], str] = {}
        for term in self.conditions:
            missing = [s for s in term.sources if s not in self.sources]
            if missing:
                raise ValueError(f"{term.code}: undefined source ids {missing}")
            if not term.en and not term.fr:
                raise ValueError(f"{term.code}: no phrase in any language")
            for phrase in (*term.en, *term.fr):
                key = tuple(t.key for t in tokenize(phrase))
                if not key:
                    raise ValueError(f"{term.code}: the phrase {phrase!r} has no words")
                if seen.setdefault(key, term.code) != term.code:
                    raise ValueError(
                        f"{phrase!r} names both {seen[key]} and {term.code}: keep one meaning"
                    )
        return self


@dataclass(frozen=True, slots=True)
class Candidate:
    """A mention found in the text: tokens ``start``..``end`` name ``code``."""

    start: int
    end: int
    code: str
    origin: Origin
    term: str


@dataclass(frozen=True, slots=True)
class CodeSuggestion:
    """A code with the exact text that supports it: ``evidence == text[start:end]``."""

    system: str
    code: str
    display: str
    score: float
    evidence: str
    start: int
    end: int
    status: Status
    trigger: str | None  # the words that made the mention not current, as written

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
        }


def _core_phrase(text: str) -> str:
    """A description as a note would word it: "Chest pain, unspecified" → "Chest pain"."""
    text = _DROPPED_SEGMENT.sub("", text)
    return " ".join(_DROPPED_WORDS.sub(" ", text).split())


def _default_descendant(table: Icd10cm, code: str) -> Icd10Code | None:
    """The billable code a coder picks for a category named without detail: its
    "unspecified"/"without complications" child, level by level."""
    item = table.lookup(code)
    for _ in range(4):
        if item.billable:
            return item
        children = table.children(item.code)
        chosen = next(
            (c for c in children if any(w in c.description.lower() for w in _DEFAULT_WORDS)),
            None,
        )
        if chosen is None:
            return None
        item = chosen
    return item if item.billable else None


class Icd10Coder:
    """Suggests ICD-10-CM codes for a text; build once, then call ``suggest`` many times."""

    def __init__(
        self,
        table: Icd10cm,
        lexicon: ConditionLexicon,
        rules: ContextRules,
        cache_dir: Path | None = None,
    ) -> None:
        self.table = table
        # The description phrases take a second to derive: kept beside the code set's cache.
        self._phrases_file = (
            cache_file(cache_dir, f"phrases-v{_PHRASES_FORMAT}") if cache_dir else None
        )
        self.lexicon = lexicon
        self.rules = rules
        self._lexicon_matcher: PhraseMatcher[tuple[str, Origin, str]] = PhraseMatcher()
        for term in lexicon.conditions:
            for phrase in (*term.en, *term.fr):
                self._lexicon_matcher.add(phrase, (term.code, "lexicon", phrase))

    @cached_property
    def _description_matcher(self) -> PhraseMatcher[tuple[str, Origin, str]]:
        """ICD-10-CM descriptions and inclusion terms as phrases, each key to one code."""
        saved = read_cache(self._phrases_file)
        phrases = saved if isinstance(saved, list) else None
        if phrases is None:
            phrases = self._description_phrases()
            write_cache(self._phrases_file, phrases)
        matcher: PhraseMatcher[tuple[str, Origin, str]] = PhraseMatcher()
        for keys, code, origin in phrases:
            matcher.add_keys(tuple(keys), (code, origin, " ".join(keys)))
        return matcher

    def _description_phrases(self) -> list[tuple[list[str], str, Origin]]:
        """[matching keys, code, origin] for every description worth finding in a note."""
        best: dict[tuple[str, ...], tuple[tuple[bool, bool, int], str, Origin]] = {}
        for order, item in enumerate(self.table):
            if item.kind not in ("category", "subcategory") or item.code.startswith(
                _NOT_CONDITIONS
            ):
                continue
            target = item if item.billable else _default_descendant(self.table, item.code)
            if target is None:
                continue
            texts: list[tuple[str, Origin]] = [(item.description, "description")]
            texts += [(s, "inclusion_term") for s in item.synonyms]
            for text, origin in texts:
                key = tuple(match_key(w) for w in words(_core_phrase(text)))
                if not key or key[0] == "other":
                    continue  # residual categories ("Other chest pain") are not written so
                if len(key) == 1 and len(key[0]) < 5:
                    continue
                # Among codes worded alike, prefer a description to an inclusion term, a code
                # named directly to a default descendant, then classification order.
                rank = (origin != "description", target is not item, order)
                if key not in best or rank < best[key][0]:
                    best[key] = (rank, target.code, origin)
        return [(list(key), code, origin) for key, (_rank, code, origin) in best.items()]

    def find_candidates(self, tokens: list[Token], lang: Language) -> list[Candidate]:
        """Mentions of conditions, longest first where they overlap; a lexicon phrase wins a
        tie with a description because its code was chosen by a person."""
        matches = self._lexicon_matcher.find_all(tokens)
        if lang == "en":
            matches += self._description_matcher.find_all(tokens)
        kept = longest_first(matches)
        return [Candidate(m.start, m.end, m.value[0], m.value[1], m.value[2]) for m in kept]

    def suggest(
        self, text: str, lang: Language | None = None, include_all: bool = False
    ) -> list[CodeSuggestion]:
        """Codes for ``text``, best first; only current mentions unless ``include_all``."""
        tokens = tokenize(text)
        if not tokens:
            return []
        # Without a language, the likelier one leads and the other's triggers still apply.
        language = lang or self.rules.detect_language(tokens)
        candidates = self.find_candidates(tokens, language)
        blocked = {i for c in candidates for i in range(c.start, c.end)}
        modifiers = self.rules.find_modifiers(
            tokens,
            sentence_numbers(text, tokens),
            clause_numbers(text, tokens),
            language,
            blocked,
            mixed=lang is None,
        )
        suggestions = [self._suggestion(text, tokens, c, modifiers) for c in candidates]
        ranked = _rank(suggestions, self.table)
        return ranked if include_all else [s for s in ranked if s.status == "current"]

    def _suggestion(
        self, text: str, tokens: list[Token], candidate: Candidate, modifiers: list[Modifier]
    ) -> CodeSuggestion:
        context = status_of(candidate.start, candidate.end, modifiers)
        start, end = tokens[candidate.start].start, tokens[candidate.end - 1].end
        trigger = None
        if context.modifier is not None:
            first, last = tokens[context.modifier.start], tokens[context.modifier.end - 1]
            trigger = text[first.start : last.end]
        return CodeSuggestion(
            system=SYSTEM,
            code=candidate.code,
            display=self.table.lookup(candidate.code).description,
            score=_score(candidate),
            evidence=text[start:end],
            start=start,
            end=end,
            status=context.status,
            trigger=trigger,
        )


def _score(candidate: Candidate) -> float:
    """Match quality plus specificity: more words matched, a more detailed code."""
    words = candidate.end - candidate.start
    detail = len(candidate.code.replace(".", "")) - 3
    score = _QUALITY[candidate.origin] + 0.02 * min(words - 1, 3) + 0.01 * min(detail, 4)
    return round(min(score, 1.0), 3)


def _vagueness(item: Icd10Code) -> int:
    """How many "unspecified"-type words a description has: the coder's default choice.
    "Without complications" counts twice: any other code of its category names one."""
    description = item.description.lower()
    vague = sum(word in description for word in _DEFAULT_WORDS)
    return vague + sum(word in description for word in _EXCLUSIVE_WORDS)


def _rank(suggestions: list[CodeSuggestion], table: Icd10cm) -> list[CodeSuggestion]:
    """One suggestion per code and status (the best scored, then the first); a current code
    is dropped when a vaguer word than a current code of the same category ("diabetes" next
    to "diabetic nephropathy": E11.9 goes, E11.21 stays). Best first."""
    best: dict[tuple[str, str], CodeSuggestion] = {}
    for item in suggestions:
        key = (item.code, item.status)
        if key not in best or item.score > best[key].score:
            best[key] = item
    vagueness = {code: _vagueness(table.lookup(code)) for code, _status in best}
    current = [code for code, status in best if status == "current"]

    def superseded(s: CodeSuggestion) -> bool:
        return s.status == "current" and any(
            other[:3] == s.code[:3] and vagueness[other] < vagueness[s.code] for other in current
        )

    kept = [s for s in best.values() if not superseded(s)]
    return sorted(kept, key=lambda s: (-s.score, s.start))


def parse_condition_lexicon(text: str) -> ConditionLexicon:
    """Validate the lexicon file's JSON text."""
    return ConditionLexicon.model_validate(json.loads(text))


@cache
def load_condition_lexicon() -> ConditionLexicon:
    """The lexicon shipped with Healthspace, read once."""
    text = (
        resources.files("healthspace.coding")
        .joinpath("data/condition_terms.json")
        .read_text("utf-8")
    )
    return parse_condition_lexicon(text)


_BUILT: dict[str, Icd10Coder] = {}


def load_icd10_coder(cache_dir: Path | None = None) -> Icd10Coder:
    """The coder on the shipped lexicon, rules and code set, built once per process: they are
    the same whatever ``cache_dir``, which only keeps a fast copy between processes."""
    coder = _BUILT.get("coder")
    if coder is None:
        coder = Icd10Coder(
            load_icd10cm(cache_dir), load_condition_lexicon(), load_context_rules(), cache_dir
        )
        _BUILT["coder"] = coder
    return coder
