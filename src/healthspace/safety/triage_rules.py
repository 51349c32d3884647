"""The triage rules: a versioned, sourced data file and the models that validate it.

``data/triage_rules.json`` holds everything medical about triage, so that a clinician can review
it without reading code (STYLE.md §4):

- ``concepts``: what a symptom, a condition or a context is called, as English and French
  patterns over folded text (lower case, no accents; see ``compile_pattern`` for the syntax);
- ``rules``: which concepts, with which age, pregnancy, duration and temperature, call for which
  level, with the red flag and the reason in both languages and the sources that say so;
- ``emergency_numbers`` by country, ``advice`` per level, and the messages used when no rule
  applies.

The file is validated when loaded: every rule cites known sources and concepts and every
country has an emergency number. Patterns are compiled by the finder on first use (compiling
them twice made every command start a second slower); a test compiles each one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import Field, model_validator

from healthspace.knowledge.citations import Frozen, Names, Source

Language = Literal["en", "fr"]
Level = Literal["emergency", "urgent", "non_urgent", "self_care"]
# Most urgent first: the policy keeps the most urgent level any rule reaches.
LEVELS: tuple[Level, ...] = ("emergency", "urgent", "non_urgent", "self_care")
_LEVEL_RANK: dict[str, int] = {level: rank for rank, level in enumerate(LEVELS)}
_ID = r"^[a-z0-9]+(?:_[a-z0-9]+)*$"
_COUNTRY = re.compile(r"^(?:[A-Z]{2}|default)$")

# Words a gap in a pattern may not cross: a pattern "lips ~ swollen" must not read
# "lip but no tongue swelling" as swollen lips.
_GAP_STOP = (
    "but|no|not|nor|never|without|except|denies|denied|none|"
    "mais|pas|sans|ni|sauf|aucun|aucune|jamais"
)
_GAP_WORD = rf"(?!(?:{_GAP_STOP})(?![a-z0-9']))[a-z0-9'°.,]+"


def level_rank(level: Level) -> int:
    """0 for emergency, 3 for self-care: a lower rank is more urgent."""
    return _LEVEL_RANK[level]


def compile_pattern(pattern: str) -> str:
    """Turn a data-file pattern into a regular expression over normalised text.

    Patterns are regular expressions written over folded text in which words are separated by
    single spaces, apostrophes of French elisions are followed by a space ("n' arrive"), a comma
    is a word of its own (" , ") and colons and brackets are gone. Shorthands keep them
    readable: `` ~ `` stands for up to three words, `` ~~ `` for up to six and `` ~~~ `` for up
    to ten, never a negation or "but" (patterns only ever match within one sentence). A match
    must start and end on a word boundary.
    """
    body = pattern.replace(" ~~~ ", f" (?:{_GAP_WORD} ){{0,10}}")
    body = body.replace(" ~~ ", f" (?:{_GAP_WORD} ){{0,6}}")
    body = body.replace(" ~ ", f" (?:{_GAP_WORD} ){{0,3}}")
    return rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])"


class ConceptPatterns(Frozen):
    """How a concept is said in each language (both are searched whatever the answer language)."""

    en: tuple[str, ...] = Field(min_length=1)
    fr: tuple[str, ...] = Field(min_length=1)

    def all(self) -> tuple[str, ...]:
        return self.en + self.fr


class Concept(Frozen):
    """A symptom, a known condition or a context (an injury, an allergen) the finder looks for."""

    id: str = Field(pattern=_ID)
    # A symptom mentioned as past history ("history of migraine") does not count; a condition
    # ("history of COPD") and a context do.
    kind: Literal["symptom", "condition", "context"] = "symptom"
    label: Names
    patterns: ConceptPatterns
    # A measured temperature at or above this many degrees Celsius counts as this concept.
    temperature_min: float | None = Field(default=None, ge=35, le=43)


class When(Frozen):
    """The conditions of a rule; every condition given must hold.

    Ages are in years (months as decimals) and bound inclusively: ``age_max: 0.24`` is "younger
    than 3 months". Durations are in days and are those stated next to the rule's symptoms.
    """

    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    # Concepts that, when present, mean the rule does not apply (say chickenpox for the rule
    # about a rash with fever). Use sparingly: they let a mention lower a level.
    none: tuple[str, ...] = ()
    age_min: float | None = Field(default=None, ge=0)
    age_max: float | None = Field(default=None, ge=0)
    pregnant: bool | None = None
    duration_min_days: float | None = Field(default=None, ge=0)
    duration_max_days: float | None = Field(default=None, ge=0)
    temperature_min: float | None = Field(default=None, ge=35, le=43)

    @model_validator(mode="after")
    def _has_concepts(self) -> When:
        if not self.all and not self.any:
            raise ValueError("a rule needs at least one concept in 'all' or 'any'")
        return self

    def concepts(self) -> tuple[str, ...]:
        return self.all + self.any + self.none


class Rule(Frozen):
    """One sourced statement: in this situation, this level, because of this."""

    id: str = Field(pattern=_ID)
    level: Level
    when: When
    # What the person is told was found; required when the rule escalates.
    red_flag: Names | None = None
    reason: Names
    sources: tuple[str, ...] = Field(min_length=1)
    # Also give this number of the country's (a crisis line for suicidal thoughts).
    also_call: Literal["crisis"] | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _red_flag_when_escalating(self) -> Rule:
        if self.level in ("emergency", "urgent") and self.red_flag is None:
            raise ValueError(f"rule {self.id}: an {self.level} rule needs a red_flag")
        return self


class PhoneNumbers(Frozen):
    """Numbers to call in one country."""

    emergency: str = Field(min_length=2)
    general: str | None = None  # the other emergency number (112 in France)
    advice: str | None = None  # a medical advice line for what can wait (111, 116 117)
    crisis: str | None = None  # a suicide and crisis line


class Messages(Frozen):
    """Fixed sentences of the policy, with ``{advice}``-style placeholders filled per country."""

    unrecognised: Names
    no_rule: Names
    contact_advice_line: Names
    contact_doctor: Names
    crisis_line: Names
    local_number: Names
    # How the emergency number is said ("le 15" in French), alone or with the other number.
    emergency_call: Names
    emergency_call_or: Names
    sources: tuple[str, ...] = Field(min_length=1)


class TriageRules(Frozen):
    """The whole data file, checked for internal consistency."""

    version: str = Field(min_length=1)
    comment: str = ""
    sources: Mapping[str, Source]
    emergency_numbers: Mapping[str, PhoneNumbers]
    concepts: tuple[Concept, ...] = Field(min_length=1)
    rules: tuple[Rule, ...] = Field(min_length=1)
    advice: Mapping[Level, Names]
    messages: Messages

    @model_validator(mode="after")
    def _references_resolve(self) -> TriageRules:
        concept_ids = [concept.id for concept in self.concepts]
        rule_ids = [rule.id for rule in self.rules]
        for kind, ids in (("concept", concept_ids), ("rule", rule_ids)):
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"duplicate {kind} ids {duplicates}")
        known = set(concept_ids)
        for rule in self.rules:
            unknown = [c for c in rule.when.concepts() if c not in known]
            if unknown:
                raise ValueError(f"rule {rule.id}: unknown concepts {unknown}")
            missing = [s for s in rule.sources if s not in self.sources]
            if missing:
                raise ValueError(f"rule {rule.id}: undefined source ids {missing}")
        missing = [s for s in self.messages.sources if s not in self.sources]
        if missing:
            raise ValueError(f"messages: undefined source ids {missing}")
        if "default" not in self.emergency_numbers:
            raise ValueError("emergency_numbers needs a 'default' entry")
        strange = [c for c in self.emergency_numbers if not _COUNTRY.match(c)]
        if strange:
            raise ValueError(f"emergency_numbers: {strange} are not ISO 3166 alpha-2 codes")
        absent = [level for level in LEVELS if level not in self.advice]
        if absent:
            raise ValueError(f"advice is missing for levels {absent}")
        return self

    def concept(self, concept_id: str) -> Concept:
        for concept in self.concepts:
            if concept.id == concept_id:
                return concept
        raise KeyError(concept_id)

    def numbers_for(self, country: str | None) -> PhoneNumbers:
        """The country's numbers, or the default (112) for a country the file does not list."""
        if country and country.upper() in self.emergency_numbers:
            return self.emergency_numbers[country.upper()]
        return self.emergency_numbers["default"]


def parse_triage_rules(data: Any) -> TriageRules:
    """Validate a decoded rules file (tests use this to check a modified copy)."""
    return TriageRules.model_validate(data)


@cache
def load_triage_rules() -> TriageRules:
    """The triage rules shipped with Healthspace, read once and validated."""
    text = (
        resources.files("healthspace.safety").joinpath("data/triage_rules.json").read_text("utf-8")
    )
    return parse_triage_rules(json.loads(text))
