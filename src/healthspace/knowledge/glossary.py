"""The medical glossary: jargon met in reports and letters, said in plain English and French.

The terms live in ``data/glossary.json`` (its ``conventions`` field says how variants work); this
module validates them, looks one word up (``find_term``) and finds every known term in a report's
text (``find_terms_in``), returning spans so a later step can decide how to explain them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import Field, model_validator

from healthspace.knowledge.citations import Frozen, Names, Source
from healthspace.knowledge.documents import SearchDocument
from healthspace.knowledge.folding import fold

Lang = Literal["en", "fr"]
LANGS: tuple[Lang, ...] = ("en", "fr")
Category = Literal[
    "anatomy",
    "symptom",
    "sign",
    "condition",
    "test",
    "imaging",
    "procedure",
    "treatment",
    "medicine_class",
    "abbreviation",
    "report_word",
    "prefix_suffix",
]

# A word is a run of letters or digits: "SpO2", "T2DM" and "HbA1c" stay whole, while "X-ray",
# "d'épanchement" and "b.i.d." split at their punctuation, in a report and in the data alike.
_WORD = re.compile(r"[^\W_]+")
# What may sit between two words of one term: spaces (a report may wrap a line mid-term) or one
# joining mark. A full stop followed by a space ends a sentence, so "pleural. Effusion" is no term.
_JOIN = re.compile(r"\s+|[-‐–'’./()&]")

Key = tuple[str, ...]


class Variant(Frozen):
    """Another way a term is written: plural, spelling, abbreviation."""

    text: str = Field(min_length=1)
    # True where the lower-case form is an ordinary word ("PE" and "pe", "RAS" and "ras"):
    # such a variant only matches a report's text exactly as written.
    case_sensitive: bool = False

    @model_validator(mode="before")
    @classmethod
    def _plain_string_is_a_variant(cls, data: Any) -> Any:
        return {"text": data} if isinstance(data, str) else data


class Variants(Frozen):
    en: tuple[Variant, ...] = ()
    fr: tuple[Variant, ...] = ()


class GlossaryTerm(Frozen):
    """One piece of jargon in both languages, with its plain meaning and where that comes from."""

    id: str = Field(pattern=r"^[a-z0-9]+(_[a-z0-9]+)*$")
    term: Names
    variants: Variants = Variants()
    plain: Names
    explanation: Names | None = None
    category: Category
    see_also: tuple[str, ...] = ()
    sources: tuple[str, ...] = Field(min_length=1)

    def names(self, lang: Lang) -> list[Variant]:
        """The term and its variants in one language; the term itself never needs exact case."""
        return [Variant(text=getattr(self.term, lang)), *getattr(self.variants, lang)]


class Glossary(Frozen):
    version: str = Field(min_length=1)
    conventions: str = Field(min_length=1)
    sources: Mapping[str, Source]
    terms: tuple[GlossaryTerm, ...]

    @model_validator(mode="after")
    def _references_resolve_and_names_are_unambiguous(self) -> Glossary:
        ids = [term.id for term in self.terms]
        known = set(ids)
        if len(known) != len(ids):
            raise ValueError(f"duplicate term ids: {sorted({i for i in ids if ids.count(i) > 1})}")
        for term in self.terms:
            missing = [s for s in term.sources if s not in self.sources]
            if missing:
                raise ValueError(f"{term.id}: undefined source ids {missing}")
            broken = [s for s in term.see_also if s not in known or s == term.id]
            if broken:
                raise ValueError(f"{term.id}: see_also does not resolve: {broken}")
        for lang in LANGS:
            owner: dict[Key, str] = {}
            for term in self.terms:
                for variant in term.names(lang):
                    key = lookup_key(variant.text, affix=term.category == "prefix_suffix")
                    if not key:
                        raise ValueError(f"{term.id}: {variant.text!r} has no letters or digits")
                    other = owner.setdefault(key, term.id)
                    if other != term.id:
                        raise ValueError(
                            f"{lang} {variant.text!r} names both {other} and {term.id}"
                        )
        return self

    def term(self, term_id: str) -> GlossaryTerm | None:
        """The term with this id, if the glossary has it."""
        return next((term for term in self.terms if term.id == term_id), None)


@dataclass(frozen=True)
class TermMatch:
    """Where a glossary term occurs in a text: ``text[start:end]`` is the words as written."""

    term: GlossaryTerm
    start: int
    end: int


@cache
def load_glossary() -> Glossary:
    """The glossary shipped with Healthspace, read once and validated."""
    text = (
        resources.files("healthspace.knowledge").joinpath("data/glossary.json").read_text("utf-8")
    )
    return Glossary.model_validate(json.loads(text))


def lookup_key(text: str, affix: bool = False) -> Key:
    """The case- and accent-free words of a name.

    A word part keeps its hyphen ("-itis", "hyper-") so it never collides with a whole word.
    """
    words = tuple(fold(word) for word in _WORD.findall(text))
    if affix and words:
        stripped = text.strip()
        if stripped.startswith("-"):
            words = ("-" + words[0], *words[1:])
        if stripped.endswith("-"):
            words = (*words[:-1], words[-1] + "-")
    return words


def _singular_keys(words: Key) -> list[Key]:
    """The words without a plural "s" ("effusions", "opacités"), tried after the words as written.

    Short words are left alone so that "pus" or "gas" never lose their last letter.
    """
    stripped = tuple(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words)
    return [stripped] if stripped != words else []


def _singular_exact(words: Key) -> list[Key]:
    """An abbreviation written with a lower-case plural "s" ("PEs", "AVCs") as its singular."""
    stripped = tuple(
        w[:-1] if len(w) > 2 and w[-1] == "s" and w[:-1].isupper() else w for w in words
    )
    return [stripped] if stripped != words else []


@dataclass(frozen=True)
class _Index:
    """Every name of every term, by language, so a scan costs a few dictionary look-ups per word.

    ``exact`` holds case-sensitive variants as written, ``folded`` the other names without case
    or accents (both for scanning a text); ``names`` holds every whole-term name folded and
    ``affixes`` the word parts, for looking up a word a person typed.
    """

    exact: Mapping[Lang, Mapping[Key, GlossaryTerm]]
    folded: Mapping[Lang, Mapping[Key, GlossaryTerm]]
    names: Mapping[Lang, Mapping[Key, GlossaryTerm]]
    affixes: Mapping[Lang, Mapping[Key, GlossaryTerm]]
    longest: int

    def scan_hit(self, lang: Lang, raw: Key, folded: Key) -> GlossaryTerm | None:
        for key in (raw, *_singular_exact(raw)):
            if found := self.exact[lang].get(key):
                return found
        for key in (folded, *_singular_keys(folded)):
            if found := self.folded[lang].get(key):
                return found
        return None


def _build_index(glossary: Glossary) -> _Index:
    exact: dict[Lang, dict[Key, GlossaryTerm]] = {lang: {} for lang in LANGS}
    folded: dict[Lang, dict[Key, GlossaryTerm]] = {lang: {} for lang in LANGS}
    names: dict[Lang, dict[Key, GlossaryTerm]] = {lang: {} for lang in LANGS}
    affixes: dict[Lang, dict[Key, GlossaryTerm]] = {lang: {} for lang in LANGS}
    longest = 1
    for term in glossary.terms:
        for lang in LANGS:
            for variant in term.names(lang):
                if term.category == "prefix_suffix":
                    affixes[lang].setdefault(lookup_key(variant.text, affix=True), term)
                    continue
                key = lookup_key(variant.text)
                names[lang].setdefault(key, term)
                if variant.case_sensitive:
                    exact[lang].setdefault(tuple(_WORD.findall(variant.text)), term)
                else:
                    folded[lang].setdefault(key, term)
                longest = max(longest, len(key))
    return _Index(exact=exact, folded=folded, names=names, affixes=affixes, longest=longest)


@cache
def _default_index() -> _Index:
    return _build_index(load_glossary())


def _index(glossary: Glossary | None) -> _Index:
    if glossary is None or glossary is load_glossary():
        return _default_index()
    return _build_index(glossary)


def find_term(
    text: str, lang: Lang | None = None, glossary: Glossary | None = None
) -> GlossaryTerm | None:
    """The term a word or phrase names, ignoring case and accents, or None.

    A person typing "pe" may mean "PE", so case-sensitive abbreviations are found here in any
    case. Without ``lang`` English names are tried before French ones. A word part is found with
    or without its hyphen ("-itis", "itis"), after any whole term spelled the same.
    """
    index = _index(glossary)
    words = lookup_key(text)
    if not words:
        return None
    langs = LANGS if lang is None else (lang,)
    for each in langs:
        for key in (words, *_singular_keys(words)):
            if found := index.names[each].get(key):
                return found
    candidates = [lookup_key(text, affix=True), ("-" + words[0],), (words[0] + "-",)]
    for each in langs:
        for key in candidates:
            if found := index.affixes[each].get(key):
                return found
    return None


def find_terms_in(
    text: str, lang: Lang | None = None, glossary: Glossary | None = None
) -> list[TermMatch]:
    """Every glossary term in ``text``, longest first and without overlaps, in reading order.

    Matching is word by word: a term never matches inside a longer word ("pe" in "type"), and a
    case-sensitive abbreviation only matches as written. Word parts are not matched. Without
    ``lang`` both languages are tried, English first.
    """
    index = _index(glossary)
    spans = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    raw = [text[start:end] for start, end in spans]
    folded = [fold(word) for word in raw]
    joined = [
        _JOIN.fullmatch(text[spans[i][1] : spans[i + 1][0]]) is not None
        for i in range(len(spans) - 1)
    ]
    langs = LANGS if lang is None else (lang,)
    matches: list[TermMatch] = []
    i = 0
    while i < len(spans):
        reach = 1
        while reach < index.longest and i + reach < len(spans) and joined[i + reach - 1]:
            reach += 1
        hit = _longest_hit(index, langs, raw, folded, i, reach)
        if hit is None:
            i += 1
            continue
        term, size = hit
        matches.append(TermMatch(term=term, start=spans[i][0], end=spans[i + size - 1][1]))
        i += size
    return matches


def _longest_hit(
    index: _Index, langs: tuple[Lang, ...], raw: list[str], folded: list[str], i: int, reach: int
) -> tuple[GlossaryTerm, int] | None:
    for size in range(reach, 0, -1):
        raw_key, folded_key = tuple(raw[i : i + size]), tuple(folded[i : i + size])
        for lang in langs:
            if found := index.scan_hit(lang, raw_key, folded_key):
                return found, size
    return None


def documents() -> Iterator[SearchDocument]:
    """Every term as a search document: titled by the term, its plain meaning as text."""
    glossary = load_glossary()
    for term in glossary.terms:
        text: dict[str, str] = {lang: _plain_text(term, lang) for lang in LANGS}
        keywords = dict.fromkeys(v.text for lang in LANGS for v in getattr(term.variants, lang))
        yield SearchDocument(
            id=f"glossary:{term.id}",
            kind="glossary",
            title={"en": term.term.en, "fr": term.term.fr},
            text=text,
            sources=tuple(glossary.sources[s] for s in term.sources),
            keywords=tuple(keywords),
        )


def _plain_text(term: GlossaryTerm, lang: Lang) -> str:
    plain = getattr(term.plain, lang)
    if term.explanation is None:
        return plain
    return f"{plain}. {getattr(term.explanation, lang)}"
