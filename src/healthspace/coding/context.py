"""Whether a mention is current, negated, historical, a relative's, or only a hypothesis.

A NegEx/ConText-style rule engine: triggers ("denies", "pas de", "antécédent de", "mère",
"suspicion de") open a scope over nearby words; a mention inside a scope takes its status.
The trigger lists and scope words are data (``data/context_triggers.json``); this module only
finds triggers, draws their scopes and picks a status, so a test can reach each step.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import Field, model_validator

from healthspace.coding.tokens import PhraseMatch, PhraseMatcher, Token, longest_first, tokenize
from healthspace.knowledge.citations import Frozen, Source

Status = Literal["current", "negated", "historical", "family", "hypothetical"]
Language = Literal["en", "fr"]
Direction = Literal["forward", "backward", "both"]
_Role = Literal[
    "negated", "historical", "family", "hypothetical", "pseudo", "terminator", "negation_terminator"
]

LANGUAGES: tuple[Language, ...] = ("en", "fr")
_FRENCH_LETTERS = frozenset("éèêëàâùûçôîïœ")
# When scopes overlap, the status that most changes what the mention means wins: a denied
# family history is negated, a relative's possible disease is the relative's.
STATUS_PRIORITY: tuple[Status, ...] = ("negated", "family", "hypothetical", "historical")
# Triggers at most this many words apart, with no mention between them, read as one:
# "no family history of", "denies any history of", "pas d'antécédent de".
_CHAIN_GAP = 2


class TriggerSpec(Frozen):
    """A trigger whose scope is shorter than the default (in words, both directions)."""

    phrase: str = Field(min_length=1)
    max_scope: int | None = Field(default=None, ge=1)


Entry = str | TriggerSpec


class Directions(Frozen):
    forward: tuple[Entry, ...] = ()
    backward: tuple[Entry, ...] = ()
    both: tuple[Entry, ...] = ()


class StatusTriggers(Frozen):
    negated: Directions
    historical: Directions
    family: Directions
    hypothetical: Directions
    pseudo: tuple[str, ...] = ()


class LanguageRules(Frozen):
    sources: tuple[str, ...] = Field(min_length=1)
    markers: tuple[str, ...] = Field(min_length=1)
    triggers: StatusTriggers
    terminators: tuple[str, ...] = ()
    negation_terminators: tuple[str, ...] = ()


class ContextRuleFile(Frozen):
    version: str = Field(min_length=1)
    conventions: str = Field(min_length=1)
    sources: Mapping[str, Source]
    max_scope: int = Field(ge=1)
    max_backward_scope: int = Field(ge=1)
    languages: Mapping[Language, LanguageRules]

    @model_validator(mode="after")
    def _sources_defined(self) -> ContextRuleFile:
        for lang, rules in self.languages.items():
            missing = [s for s in rules.sources if s not in self.sources]
            if missing:
                raise ValueError(f"{lang}: undefined source ids {missing}")
        return self


@dataclass(frozen=True, slots=True)
class Trigger:
    """One phrase of the rule file with what it does."""

    phrase: str
    lang: Language
    role: _Role
    direction: Direction
    forward_scope: int  # in words
    backward_scope: int


@dataclass(frozen=True, slots=True)
class Modifier:
    """A trigger found in the text (tokens ``start``..``end``) and the tokens it governs."""

    trigger: Trigger
    start: int
    end: int
    scope_start: int
    scope_end: int  # excluded

    def covers(self, start: int, end: int) -> bool:
        return start < self.scope_end and end > self.scope_start


@dataclass(frozen=True, slots=True)
class Context:
    status: Status
    modifier: Modifier | None


class ContextRules:
    """The trigger lists compiled into one phrase matcher per language."""

    def __init__(self, rule_file: ContextRuleFile) -> None:
        self.rule_file = rule_file
        self._matchers: dict[Language, PhraseMatcher[Trigger]] = {}
        self._markers: dict[Language, frozenset[str]] = {}
        for lang, rules in rule_file.languages.items():
            triggers = _compile(lang, rules, rule_file.max_scope, rule_file.max_backward_scope)
            matcher: PhraseMatcher[Trigger] = PhraseMatcher()
            for trigger in triggers:
                matcher.add(trigger.phrase, trigger)
            self._matchers[lang] = matcher
            self._markers[lang] = frozenset(m.casefold() for m in rules.markers)

    def detect_language(self, tokens: list[Token]) -> Language:
        """French or English, by counting each language's common words (and, for French,
        words with French accents: telegraphic notes have few common words); English on a tie.
        """
        counts = {
            lang: sum(1 for t in tokens if t.text.casefold() in markers)
            for lang, markers in self._markers.items()
        }
        accented = sum(1 for t in tokens if _FRENCH_LETTERS.intersection(t.text.casefold()))
        return "fr" if counts.get("fr", 0) + accented > counts.get("en", 0) else "en"

    def find_modifiers(
        self,
        tokens: list[Token],
        sentences: list[int],
        clauses: list[int],
        lang: Language,
        blocked: Iterable[int] = (),
        mixed: bool = False,
    ) -> list[Modifier]:
        """Triggers in the text with their scopes: a forward scope runs to the end of the
        sentence (lists after "denies" or "antécédents :" are common), a backward one only
        back to the start of the clause ("toux, pneumopathie écartée" clears only pneumopathie).

        ``blocked`` tokens (inside a mention, such as the "non" of "non-insulin-dependent
        diabetes") never start a trigger. With ``mixed`` the other language's triggers apply
        too (notes mix "denies chest pain" and "antécédent de"), except one-word triggers that
        are common words of ``lang`` (English "son" in French text is "his").
        """
        blocked_set = set(blocked)
        matches = self._matchers[lang].find_all(tokens)
        if mixed:
            markers = self._markers[lang]
            for other in LANGUAGES:
                if other != lang and other in self._matchers:
                    matches += [
                        m
                        for m in self._matchers[other].find_all(tokens)
                        if not all(t.text.casefold() in markers for t in tokens[m.start : m.end])
                    ]
        found = [m for m in longest_first(matches) if blocked_set.isdisjoint(range(m.start, m.end))]
        modifiers: list[Modifier] = []
        for index, match in enumerate(found):
            trigger = match.value
            if trigger.role in ("pseudo", "terminator", "negation_terminator"):
                continue
            if trigger.direction in ("forward", "both"):
                end = _forward_end(match.end, trigger, found[index + 1 :], sentences, blocked_set)
                modifiers.append(Modifier(trigger, match.start, match.end, match.end, end))
            if trigger.direction in ("backward", "both"):
                start = _backward_start(match.start, trigger, found[:index], clauses)
                modifiers.append(Modifier(trigger, match.start, match.end, start, match.start))
        return modifiers


def status_of(start: int, end: int, modifiers: Iterable[Modifier]) -> Context:
    """The status of the mention on tokens ``start``..``end``: the highest-priority scope
    covering it, or "current" when none does."""
    covering = [m for m in modifiers if m.covers(start, end)]
    for status in STATUS_PRIORITY:
        for modifier in covering:
            if modifier.trigger.role == status:
                return Context(status, modifier)
    return Context("current", None)


def _stops_scope(trigger: Trigger, other: Trigger) -> bool:
    if other.role == "terminator":
        return True
    if other.role == "negation_terminator":
        return trigger.role == "negated"
    return other.role != trigger.role


def _forward_end(
    start: int,
    trigger: Trigger,
    later: list[PhraseMatch[Trigger]],
    sentences: list[int],
    mentions: set[int],
) -> int:
    """Where a forward scope opened at token ``start`` ends (excluded)."""
    sentence = sentences[start - 1]
    end = min(start + trigger.forward_scope, len(sentences))
    for other in later:
        if other.start >= end:
            break
        chained = (
            other.start - start <= _CHAIN_GAP
            and mentions.isdisjoint(range(start, other.start))
            and other.value.role not in ("terminator", "negation_terminator")
        )
        if not chained and _stops_scope(trigger, other.value):
            end = other.start
            break
    for position in range(start, end):
        if sentences[position] != sentence:
            return position
    return end


def _backward_start(
    end: int, trigger: Trigger, earlier: list[PhraseMatch[Trigger]], clauses: list[int]
) -> int:
    """Where a backward scope closed at token ``end`` begins."""
    clause = clauses[end]
    start = max(end - trigger.backward_scope, 0)
    for other in reversed(earlier):
        if other.end <= start:
            break
        if _stops_scope(trigger, other.value):
            start = other.end
            break
    for position in range(end - 1, start - 1, -1):
        if clauses[position] != clause:
            return position + 1
    return start


def _compile(
    lang: Language, rules: LanguageRules, forward_scope: int, backward_scope: int
) -> list[Trigger]:
    """One Trigger per phrase; a phrase listed both forward and backward works both ways."""
    merged: dict[str, Trigger] = {}  # by matching form

    def put(entry: Entry, role: _Role, direction: Direction) -> None:
        phrase, scope = (entry, None) if isinstance(entry, str) else (entry.phrase, entry.max_scope)
        trigger = Trigger(
            phrase, lang, role, direction, scope or forward_scope, scope or backward_scope
        )
        # Phrases that match alike ("rule out", "rules out") must mean the same.
        key = " ".join(t.key for t in tokenize(phrase))
        previous = merged.get(key)
        if previous is None:
            merged[key] = trigger
            return
        if previous.role != role:
            raise ValueError(f"{lang}: {phrase!r} is both {previous.role} and {role}")
        merged[key] = Trigger(
            previous.phrase,
            lang,
            role,
            direction if previous.direction == direction else "both",
            min(previous.forward_scope, trigger.forward_scope),
            min(previous.backward_scope, trigger.backward_scope),
        )

    statuses: dict[str, Directions] = {
        "negated": rules.triggers.negated,
        "historical": rules.triggers.historical,
        "family": rules.triggers.family,
        "hypothetical": rules.triggers.hypothetical,
    }
    for role, directions in statuses.items():
        for direction in ("forward", "backward", "both"):
            for entry in getattr(directions, direction):
                put(entry, role, direction)  # type: ignore[arg-type]  # keys of a Literal
    for phrase in rules.triggers.pseudo:
        put(phrase, "pseudo", "forward")
    for phrase in rules.terminators:
        put(phrase, "terminator", "forward")
    for phrase in rules.negation_terminators:
        put(phrase, "negation_terminator", "forward")
    return list(merged.values())


def parse_context_rules(text: str) -> ContextRules:
    """Validate a rule file's JSON text and compile it."""
    return ContextRules(ContextRuleFile.model_validate(json.loads(text)))


@cache
def load_context_rules() -> ContextRules:
    """The rules shipped with Healthspace, read once."""
    text = (
        resources.files("healthspace.coding")
        .joinpath("data/context_triggers.json")
        .read_text("utf-8")
    )
    return parse_context_rules(text)
