"""The report explainer's data files: section headings, its own words, substitutions, units.

``data/report_sections.json`` holds the headings that open a report's sections and the
sign-offs of a letter; ``data/report_phrases.json`` holds every sentence the explainer adds, the
plain substitutions of the summary, and the word lists it decides with (their ``conventions``
fields say how). Both are validated when first read; the substitutions and units are checked
against the glossary, so a typo in a data file is an error, not a silent gap.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import Field, model_validator

from healthspace.knowledge.citations import Frozen, Names, Source
from healthspace.knowledge.folding import fold
from healthspace.knowledge.glossary import load_glossary, lookup_key

Lang = Literal["en", "fr"]
LANGS: tuple[Lang, ...] = ("en", "fr")
UnitKind = Literal["size", "dose", "weight", "volume", "temperature", "percent", "pressure", "rate"]


class LangStrings(Frozen):
    en: tuple[str, ...] = ()
    fr: tuple[str, ...] = ()


class SectionCatalog(Frozen):
    version: str = Field(min_length=1)
    conventions: str = Field(min_length=1)
    kinds: Mapping[str, LangStrings]
    closings: LangStrings
    no_break_after: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _headings_name_one_kind(self) -> SectionCatalog:
        owner: dict[str, str] = {}
        for kind, names in self.kinds.items():
            for name in (*names.en, *names.fr):
                other = owner.setdefault(heading_key(name), kind)
                if other != kind:
                    raise ValueError(f"heading {name!r} names both {other} and {kind}")
        return self


class Substitution(Frozen):
    """Plain words for a glossary term as written in a report, for the summary only: in its
    place ("replace") or in brackets after it ("gloss")."""

    term: str = Field(min_length=1)
    mode: Literal["replace", "gloss"]
    forms: Mapping[str, str]


class Unit(Frozen):
    """A unit a number may carry outside lab results, and where its meaning comes from."""

    spellings: tuple[str, ...] = Field(min_length=1)
    kind: UnitKind
    source: str | None = None
    glossary: str | None = None
    names: Mapping[str, Names] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_origin(self) -> Unit:
        if (self.source is None) == (self.glossary is None):
            raise ValueError(f"{self.spellings}: give exactly one of 'source' or 'glossary'")
        if self.source is not None:
            missing = [s for s in self.spellings if s not in self.names]
            if missing:
                raise ValueError(f"{self.spellings}: no names for {missing}")
        return self


class ReportPhrases(Frozen):
    version: str = Field(min_length=1)
    conventions: str = Field(min_length=1)
    sources: Mapping[str, Source]
    messages: Mapping[Lang, Mapping[str, str]]
    substitutions: Mapping[Lang, tuple[Substitution, ...]]
    replace_after_negation: LangStrings
    ordinary_words: LangStrings
    not_followed_by: Mapping[Lang, Mapping[str, tuple[str, ...]]]
    finding_terms: tuple[str, ...]
    stop_words: LangStrings
    negation_words: LangStrings
    units: tuple[Unit, ...]

    @model_validator(mode="after")
    def _consistent(self) -> ReportPhrases:
        if set(self.messages.get("en", {})) != set(self.messages.get("fr", {})):
            raise ValueError("English and French messages must have the same keys")
        for unit in self.units:
            if unit.source is not None and unit.source not in self.sources:
                raise ValueError(f"{unit.spellings}: undefined source {unit.source!r}")
        return self

    def message(self, lang: Lang, key: str, **values: object) -> str:
        return self.messages[lang][key].format(**values)


@cache
def load_section_catalog() -> SectionCatalog:
    """The section headings shipped with Healthspace, read once and validated."""
    return SectionCatalog.model_validate(json.loads(_read_data("report_sections.json")))


@cache
def load_report_phrases() -> ReportPhrases:
    """The explainer's own words and word lists, read once, validated against the glossary."""
    phrases = ReportPhrases.model_validate(json.loads(_read_data("report_phrases.json")))
    glossary = load_glossary()
    known = {term.id for term in glossary.terms}
    for lang in LANGS:
        for entry in phrases.substitutions.get(lang, ()):
            if entry.term not in known:
                raise ValueError(f"substitution for unknown glossary term {entry.term!r}")
    for unit in phrases.units:
        if unit.glossary is not None and unit.glossary not in known:
            raise ValueError(f"unit {unit.spellings} cites unknown glossary term {unit.glossary!r}")
    unknown = [t for t in phrases.finding_terms if t not in known]
    if unknown:
        raise ValueError(f"finding_terms not in the glossary: {unknown}")
    return phrases


def _read_data(name: str) -> str:
    return resources.files("healthspace.patient").joinpath(f"data/{name}").read_text("utf-8")


def heading_key(text: str) -> str:
    """How a heading is compared: no case, accents, bold marks or trailing punctuation."""
    folded = fold(text.replace("’", "'")).replace("*", " ").replace("_", " ")
    return " ".join(folded.split()).strip(" .:-–—")


def form_key(text: str) -> str:
    """How a term as written is compared with the data's forms: its words, folded."""
    return " ".join(lookup_key(text))
