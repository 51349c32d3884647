"""Common conditions in plain English and French: what they are, the usual care, when to get help.

The facts live in ``data/conditions.json``: for each condition a short overview, the usual care
and the warning signs that need urgent care, each a list of short sentences written for a patient
(no diagnosis, no doses), with the lay names and abbreviations people and letters use ("HTA",
"T2DM", "high blood pressure") and the ICD-10-CM codes it covers, so a coded problem list can be
explained. Loading validates the file: an item without a source, a missing translation, a
cross-reference to an unknown condition or a name claimed by two conditions fails at load time
and in CI rather than reaching a patient.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

from pydantic import Field, PrivateAttr, model_validator

from healthspace.knowledge.citations import Frozen, Names, Source
from healthspace.knowledge.documents import SearchDocument
from healthspace.knowledge.folding import fold
from healthspace.knowledge.medicine_content import BilingualList

LANGS = ("en", "fr")

# Section headings used when an item is turned into searchable (and displayable) text.
# French typography puts a space before the colon.
_HEADINGS: Mapping[str, Mapping[str, str]] = {
    "overview": {"en": "", "fr": ""},
    "usual_care": {"en": "Usual care:", "fr": "Prise en charge habituelle :"},
    "urgent_signs": {
        "en": "Warning signs, get urgent care (call emergency services):",
        "fr": "Signes d'alerte, consultez en urgence (secours : 15 ou 112 en France) :",
    },
}
SECTIONS = tuple(_HEADINGS)

_ID = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# ICD-10-CM shape only (letter, two characters, optional dot and up to four more); whether the
# code exists in the release is checked by the schema test, which can afford to load it.
_ICD10CM = r"^[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?$"
_WORD = re.compile(r"[^\W_]+")
# English possessives: "Crohn's", "Crohns" and "CROHN’S" name the same disease.
_POSSESSIVE = re.compile(r"['’]s\b")
# French typography puts a space before a semicolon too.
_LIST_SEPARATOR = {"en": "; ", "fr": " ; "}


class AlsoCalled(Frozen):
    """Other names by language: lay words, abbreviations, older terms. Lists need not align."""

    en: tuple[str, ...] = ()
    fr: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _no_blank_name(self) -> AlsoCalled:
        if any(not name.strip() for name in (*self.en, *self.fr)):
            raise ValueError("empty name in also_called")
        return self


class Condition(Frozen):
    """One condition as a patient should first meet it, with the sources it rests on."""

    id: str = Field(pattern=_ID)
    name: Names
    also_called: AlsoCalled = AlsoCalled()
    icd10cm: tuple[str, ...] = Field(min_length=1)
    overview: BilingualList
    usual_care: BilingualList
    urgent_signs: BilingualList
    see_also: tuple[str, ...] = ()
    sources: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _is_complete(self) -> Condition:
        # Every section matters to a patient: what it is, what is usually done, and above all
        # when not to wait.
        for section in SECTIONS:
            if not len(getattr(self, section)):
                raise ValueError(f"{self.id}: {section} is empty")
        bad = [code for code in self.icd10cm if not re.match(_ICD10CM, code)]
        if bad:
            raise ValueError(f"{self.id}: not ICD-10-CM codes (write them with a dot): {bad}")
        return self

    def section(self, name: str) -> BilingualList:
        """One of ``SECTIONS`` by name."""
        if name not in _HEADINGS:
            raise KeyError(name)
        value: BilingualList = getattr(self, name)
        return value

    def names(self) -> tuple[str, ...]:
        """Every name the condition is known by, in both languages, the main names first."""
        return tuple(
            dict.fromkeys((self.name.en, self.name.fr, *self.also_called.en, *self.also_called.fr))
        )


class ConditionsFile(Frozen):
    """The whole data file, with its cross-references checked and its look-ups indexed."""

    version: str = Field(min_length=1)
    comment: str = ""
    sources: Mapping[str, Source]
    items: tuple[Condition, ...]
    _by_id: dict[str, Condition] = PrivateAttr(default_factory=dict)
    _by_name: dict[str, Condition] = PrivateAttr(default_factory=dict)
    _by_code: dict[str, list[Condition]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._by_id = {item.id: item for item in self.items}
        self._by_name = {
            key: item for item in self.items for key in map(name_key, (item.id, *item.names()))
        }
        by_code: dict[str, list[Condition]] = {}
        for item in self.items:
            for code in item.icd10cm:
                by_code.setdefault(code, []).append(item)
        self._by_code = by_code

    @model_validator(mode="after")
    def _references_resolve(self) -> ConditionsFile:
        ids = [item.id for item in self.items]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate condition ids {duplicates}")
        known = set(ids)
        owner: dict[str, str] = {}
        for item in self.items:
            missing = [s for s in item.sources if s not in self.sources]
            if missing:
                raise ValueError(f"{item.id}: undefined source ids {missing}")
            unknown = [c for c in item.see_also if c not in known or c == item.id]
            if unknown:
                raise ValueError(f"{item.id}: see_also does not resolve to another item {unknown}")
            # A name that folds to the same key in two conditions would make find_condition
            # depend on file order; the file must say which condition a word means.
            for name in (item.id, *item.names()):
                key = name_key(name)
                if not key:
                    raise ValueError(f"{item.id}: name {name!r} has no letters or digits")
                if owner.setdefault(key, item.id) != item.id:
                    raise ValueError(f"name {name!r} belongs to both {owner[key]} and {item.id}")
        return self

    def item(self, condition_id: str) -> Condition | None:
        """The condition with this id, if the file has it."""
        return self._by_id.get(condition_id)

    def find(self, name: str) -> Condition | None:
        """The condition known by this name or abbreviation, in either language."""
        return self._by_name.get(name_key(name))

    def for_code(self, code: str) -> list[Condition]:
        """Conditions listing this ICD-10-CM code or one of its ancestors, most specific first."""
        found: dict[str, Condition] = {}
        for candidate in icd10cm_lineage(code):
            for item in self._by_code.get(candidate, ()):
                found.setdefault(item.id, item)
        return list(found.values())


def name_key(text: str) -> str:
    """A name folded for look-up: case, accents and punctuation do not change which it is."""
    return " ".join(_WORD.findall(_POSSESSIVE.sub("s", fold(text))))


def icd10cm_lineage(code: str) -> list[str]:
    """The code and its ancestors, most specific first: "E11.65" → E11.65, E11.6, E11.

    Accepts the undotted form reports often print ("E1165").
    """
    compact = re.sub(r"[\s.]", "", code).upper()
    if len(compact) < 3:
        return []
    category, rest = compact[:3], compact[3:]
    return [f"{category}.{rest[:n]}" for n in range(len(rest), 0, -1)] + [category]


def parse_conditions(data: Any) -> ConditionsFile:
    """Validate a decoded conditions file."""
    return ConditionsFile.model_validate(data)


@cache
def load_conditions() -> ConditionsFile:
    """The conditions shipped with Healthspace, read once and validated."""
    text = (
        resources.files("healthspace.knowledge").joinpath("data/conditions.json").read_text("utf-8")
    )
    return parse_conditions(json.loads(text))


def find_condition(name: str) -> Condition | None:
    """The condition a patient or a letter names ("HTA", "diabète de type 2"), or None."""
    return load_conditions().find(name)


def conditions_for_code(icd10_code: str) -> list[Condition]:
    """The conditions that explain an ICD-10-CM code: "E11.9" finds type 2 diabetes via E11."""
    return load_conditions().for_code(icd10_code)


def sources_of(item: Condition, conditions: ConditionsFile | None = None) -> list[Source]:
    """The Source records an item cites, in the order it cites them."""
    conditions = conditions or load_conditions()
    return [conditions.sources[s] for s in item.sources]


def render_text(item: Condition, lang: str) -> str:
    """The item as one paragraph per section in ``lang``, for search and plain display."""
    parts = []
    for name in SECTIONS:
        entries = item.section(name).in_language(lang)
        heading = _HEADINGS[name][lang]
        body = _join(entries, lang)
        parts.append(f"{heading} {body}" if heading else body)
    return "\n".join(parts)


def _join(entries: tuple[str, ...], lang: str) -> str:
    # Urgent signs are short phrases and read best as one list after the heading's colon, so
    # their capital goes (unless it starts an abbreviation: "AVC", "HbA1c"); sentences stay whole.
    phrases = [_lower_first(e.strip()) for e in entries if e.strip()[-1] not in ".!?"]
    sentences = [e.strip() for e in entries if e.strip()[-1] in ".!?"]
    listed = [_LIST_SEPARATOR[lang].join(phrases) + "."] if phrases else []
    return " ".join(sentences + listed)


def _lower_first(phrase: str) -> str:
    if len(phrase) > 1 and phrase[1].islower():
        return phrase[0].lower() + phrase[1:]
    return phrase


def documents() -> Iterator[SearchDocument]:
    """One search document per condition, found by its lay names, abbreviations and codes."""
    conditions = load_conditions()
    for item in conditions.items:
        keywords = dict.fromkeys((*item.also_called.en, *item.also_called.fr, *item.icd10cm))
        yield SearchDocument(
            id=f"condition:{item.id}",
            kind="condition",
            title={"en": item.name.en, "fr": item.name.fr},
            text={lang: render_text(item, lang) for lang in LANGS},
            sources=tuple(sources_of(item, conditions)),
            keywords=tuple(keywords),
        )
