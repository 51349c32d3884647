"""Triage: from what the finder saw to a level, red flags, reasons, advice and a number to call.

This is the "act" half (STYLE.md §2): ``find_symptoms`` returns evidence, ``match_rules`` checks
each rule of the data file against it, and ``decide`` keeps the most urgent level any rule
reaches. Nothing here knows a symptom by name; the medicine is in ``data/triage_rules.json``.

Two choices keep it safe. The most urgent rule always wins, so adding a symptom can only raise
the level. A message where nothing is recognised, or where no rule applies, gets "non urgent"
with advice to call a doctor or advice line: silence is never read as "self-care".

``triage`` is a pure function of its arguments (the rules are read once), so ``ask`` can run it
on every message before answering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from healthspace.errors import HealthspaceError
from healthspace.knowledge.citations import Names, Source
from healthspace.safety.symptoms import ConceptFinding, SymptomFindings, find_symptoms
from healthspace.safety.triage_rules import (
    Language,
    Level,
    PhoneNumbers,
    Rule,
    TriageRules,
    level_rank,
    load_triage_rules,
)

# A message longer than this is refused rather than read slowly: symptoms fit in far less, and
# a surface exposed to the network must not spend seconds on one request.
MAX_TEXT_CHARS = 10_000

# Without a country, French text is most likely read in France; for English we cannot guess,
# so the default entry (112, which works across Europe and on most mobile phones) is used.
_COUNTRY_BY_LANGUAGE: dict[str, str] = {"fr": "FR"}


class TriageTextTooLongError(HealthspaceError, ValueError):
    """A message too long to triage."""

    http_status = 422

    def __init__(self, length: int) -> None:
        self.length = length
        super().__init__(
            f"The message is {length} characters long; triage reads at most {MAX_TEXT_CHARS}. "
            "Describe the symptoms in a few sentences."
        )


@dataclass(frozen=True)
class RuleMatch:
    """A rule whose conditions hold, with the findings that satisfied it."""

    rule: Rule
    evidence: tuple[ConceptFinding, ...]


def _age_holds(rule: Rule, findings: SymptomFindings) -> bool:
    when = rule.when
    ranges = findings.age_ranges
    if when.age_min is not None and not any(high >= when.age_min for _, high in ranges):
        return False
    return when.age_max is None or any(low <= when.age_max for low, _ in ranges)


def _durations_hold(rule: Rule, evidence: Sequence[ConceptFinding]) -> bool:
    when = rule.when
    days = [d for finding in evidence for d in finding.durations]
    if when.duration_min_days is not None and not any(d >= when.duration_min_days for d in days):
        return False
    if when.duration_max_days is not None and days:
        return any(d <= when.duration_max_days for d in days)
    return True


def rule_applies(rule: Rule, findings: SymptomFindings) -> RuleMatch | None:
    """The match when every condition of the rule holds for these findings, else None."""
    when = rule.when
    present = findings.present
    if not set(when.all) <= present:
        return None
    if when.any and not present.intersection(when.any):
        return None
    if present.intersection(when.none):
        return None
    if when.pregnant is not None and findings.pregnant != when.pregnant:
        return None
    if not _age_holds(rule, findings):
        return None
    if when.temperature_min is not None:
        hottest = findings.max_temperature
        if hottest is None or hottest < when.temperature_min:
            return None
    evidence = findings.evidence_for(when.all + when.any)
    if not _durations_hold(rule, evidence):
        return None
    return RuleMatch(rule, evidence)


def match_rules(findings: SymptomFindings, rules: TriageRules) -> list[RuleMatch]:
    """Every rule that applies, most urgent first (file order within a level)."""
    matches = [m for rule in rules.rules if (m := rule_applies(rule, findings)) is not None]
    return sorted(matches, key=lambda m: level_rank(m.rule.level))


@dataclass(frozen=True)
class TriageResult:
    """The decision and everything needed to explain it."""

    level: Level
    red_flags: tuple[str, ...]
    reasons: tuple[str, ...]
    advice: str
    call: str | None
    lang: Language
    country: str | None
    numbers: PhoneNumbers
    rules_version: str
    sources: tuple[Source, ...]
    matches: tuple[RuleMatch, ...]
    findings: SymptomFindings

    @property
    def is_emergency(self) -> bool:
        return self.level == "emergency"

    def as_json(self) -> dict[str, Any]:
        """The machine interface of DESIGN.md (``healthspace triage --json``)."""
        return {
            "level": self.level,
            "red_flags": list(self.red_flags),
            "reasons": list(self.reasons),
            "advice": self.advice,
            "call": self.call,
            "lang": self.lang,
            "country": self.country,
            "rules_version": self.rules_version,
            "sources": [source.model_dump(mode="json") for source in self.sources],
        }


def _say(names: Names, lang: Language) -> str:
    return names.en if lang == "en" else names.fr


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _advice(
    level: Level,
    matches: Sequence[RuleMatch],
    rules: TriageRules,
    numbers: PhoneNumbers,
    known_country: bool,
    lang: Language,
) -> str:
    """The level's advice with the country's numbers, plus a crisis line when a rule asks."""
    messages = rules.messages
    if numbers.advice:
        contact = _say(messages.contact_advice_line, lang).format(advice=numbers.advice)
    else:
        contact = _say(messages.contact_doctor, lang)
    both = numbers.general and numbers.general != numbers.emergency
    call = _say(messages.emergency_call_or if both else messages.emergency_call, lang).format(
        emergency=numbers.emergency, general=numbers.general
    )
    text = _say(rules.advice[level], lang).format(emergency_call=call, contact=contact)
    if level == "emergency" and not known_country:
        text += " " + _say(messages.local_number, lang)
    if numbers.crisis and any(m.rule.also_call == "crisis" for m in matches):
        text += " " + _say(messages.crisis_line, lang).format(crisis=numbers.crisis)
    return text


def decide(
    findings: SymptomFindings,
    rules: TriageRules,
    lang: Language = "en",
    country: str | None = None,
) -> TriageResult:
    """The level of the most urgent rule that applies, with its red flags, reasons and sources."""
    country = (country or _COUNTRY_BY_LANGUAGE.get(lang) or "").upper() or None
    known_country = country is not None and country in rules.emergency_numbers
    numbers = rules.numbers_for(country)
    matches = match_rules(findings, rules)
    if matches:
        level = matches[0].rule.level
        shown = [m for m in matches if m.rule.level in ("emergency", "urgent")]
        red_flags = _unique([_say(m.rule.red_flag, lang) for m in shown if m.rule.red_flag])
        at_level = [m for m in matches if m.rule.level == level]
        reasons = _unique([_say(m.rule.reason, lang) for m in at_level])
        source_ids = _unique([s for m in (*shown, *at_level) for s in m.rule.sources])
    else:
        # Nothing to go on is not a reason to reassure: ask a person who can examine.
        level = "non_urgent"
        red_flags = ()
        message = rules.messages.no_rule if findings.recognised else rules.messages.unrecognised
        reasons = (_say(message, lang),)
        source_ids = rules.messages.sources
    advice = _advice(level, matches, rules, numbers, known_country, lang)
    return TriageResult(
        level=level,
        red_flags=red_flags,
        reasons=reasons,
        advice=advice,
        call=numbers.emergency if level == "emergency" else None,
        lang=lang,
        country=country,
        numbers=numbers,
        rules_version=rules.version,
        sources=tuple(rules.sources[s] for s in source_ids),
        matches=tuple(matches),
        findings=findings,
    )


def triage(
    text: str,
    lang: Language = "en",
    country: str | None = None,
    rules: TriageRules | None = None,
) -> TriageResult:
    """Orient a message about symptoms: emergency, urgent, non urgent or self-care.

    Pure apart from reading the rules file once; ``ask`` calls it on every message. Raises
    ``TriageTextTooLongError`` for a message over ``MAX_TEXT_CHARS`` characters.
    """
    if len(text) > MAX_TEXT_CHARS:
        raise TriageTextTooLongError(len(text))
    rules = rules or load_triage_rules()
    return decide(find_symptoms(text, rules), rules, lang, country)
