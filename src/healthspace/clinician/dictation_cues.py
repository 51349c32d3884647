"""The wording cues of a dictation or a visit conversation, compiled for finding.

The words themselves are data (``data/dictation_cues.json``): section headings, the phrases that
move a visit from history to examination to assessment, vital-sign names, exam and result words,
plan verbs, tests, units and frequencies, in English and French. This module validates the file
and turns each list into a phrase matcher or a regular expression; it holds no word of its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import Field

from healthspace.coding.tokens import PhraseMatcher, match_key, words
from healthspace.knowledge.citations import Frozen

Section = Literal["subjective", "objective", "assessment", "plan"]
Action = Literal["start", "increase", "decrease", "continue", "stop", "order", "refer"]
CueLanguage = Literal["en", "fr"]


class Headings(Frozen):
    subjective: tuple[str, ...]
    objective: tuple[str, ...]
    assessment: tuple[str, ...]
    plan: tuple[str, ...]


class PhaseCues(Frozen):
    objective: tuple[str, ...]
    assessment: tuple[str, ...]


class PlanVerbs(Frozen):
    start: tuple[str, ...]
    increase: tuple[str, ...]
    decrease: tuple[str, ...]
    continue_: tuple[str, ...] = Field(alias="continue")
    stop: tuple[str, ...]
    order: tuple[str, ...]
    refer: tuple[str, ...]


class Labels(Frozen):
    reports: str
    denies: str
    history: str
    family: str
    possible: str
    condition: str
    complaint: str
    takes: str
    not_taking: str
    vital: str
    exam: str
    result: str
    order: str
    refer: str
    follow_up: str
    story: str
    plan_note: str
    actions: Mapping[str, str]


class LanguageCues(Frozen):
    headings: Headings
    phase_cues: PhaseCues
    vitals: Mapping[str, tuple[str, ...]]
    vital_units: tuple[str, ...]
    exam_cues: tuple[str, ...]
    finding_words: tuple[str, ...]
    result_cues: tuple[str, ...]
    plan_verbs: PlanVerbs
    plan_markers: tuple[str, ...]
    tests: tuple[str, ...]
    specialists: tuple[str, ...]
    dose_units: tuple[str, ...]
    frequencies: tuple[str, ...]
    number_words: tuple[str, ...]
    durations: tuple[str, ...]
    follow_up: tuple[str, ...]
    answers_no: tuple[str, ...]
    answers_yes: tuple[str, ...]
    fillers: tuple[str, ...]
    complaint_cues: tuple[str, ...]
    question_tags: tuple[str, ...]
    commands: tuple[str, ...]
    leading_words: tuple[str, ...]
    third_person: Mapping[str, str]
    review_cues: tuple[str, ...]
    result_verbs: tuple[str, ...]
    labels: Labels


class CueFile(Frozen):
    version: str = Field(min_length=1)
    conventions: str = Field(min_length=1)
    languages: Mapping[CueLanguage, LanguageCues]


def _alternation(phrases: Iterable[str]) -> str:
    """A regex alternative of ``phrases``, longest first, spaces matching any blank run."""
    ordered = sorted(set(phrases), key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(part) for part in p.split()) for p in ordered)


def _matcher(phrases: Iterable[str], value: str = "") -> PhraseMatcher[str]:
    matcher: PhraseMatcher[str] = PhraseMatcher()
    for phrase in phrases:
        matcher.add(phrase, value or phrase)
    return matcher


@dataclass(frozen=True)
class Cues:
    """One language's cues, compiled."""

    lang: CueLanguage
    labels: Labels
    headings: dict[str, Section]  # folded heading → section
    phase: PhraseMatcher[str]
    vitals: PhraseMatcher[str]  # → label
    exam: PhraseMatcher[str]
    finding_words: PhraseMatcher[str]
    results: PhraseMatcher[str]
    plan_verbs: PhraseMatcher[str]  # → action
    plan_markers: PhraseMatcher[str]
    tests: PhraseMatcher[str]
    specialists: PhraseMatcher[str]
    complaint: PhraseMatcher[str]
    review: PhraseMatcher[str]
    commands: PhraseMatcher[str]
    result_verbs: PhraseMatcher[str]
    dose: re.Pattern[str]
    frequency: re.Pattern[str]
    vital_value: re.Pattern[str]
    follow_up: re.Pattern[str]
    answer_no: re.Pattern[str]
    answer_yes: re.Pattern[str]
    fillers: re.Pattern[str]
    question_tag: re.Pattern[str]
    leading: re.Pattern[str]
    third_person: Mapping[str, str]
    pronouns: re.Pattern[str] | None


def _compile(lang: CueLanguage, cues: LanguageCues) -> Cues:
    headings: dict[str, Section] = {}
    for section in ("subjective", "objective", "assessment", "plan"):
        for phrase in getattr(cues.headings, section):
            headings[_heading_key(phrase)] = section
    phase: PhraseMatcher[str] = PhraseMatcher()
    for phrase in cues.phase_cues.objective:
        phase.add(phrase, "objective")
    for phrase in cues.phase_cues.assessment:
        phase.add(phrase, "assessment")
    vitals: PhraseMatcher[str] = PhraseMatcher()
    for label, phrases in cues.vitals.items():
        for phrase in phrases:
            vitals.add(phrase, label)
    verbs: PhraseMatcher[str] = PhraseMatcher()
    for action in ("start", "increase", "decrease", "continue", "stop", "order", "refer"):
        field = "continue_" if action == "continue" else action
        for phrase in getattr(cues.plan_verbs, field):
            verbs.add(phrase, action)

    # Numbers as written or said: "40", "0,5", "1/2", "twenty", "a half".
    number = (
        rf"(?:\d+(?:[.,]\d+)?(?:\s*/\s*\d+)?|(?:{_alternation(cues.number_words)})(?![^\W\d_]))"
    )
    span = rf"{number}(?:\s*(?:-|to|or|à|ou)\s*{number})?"
    units = _alternation(cues.dose_units)
    dose = re.compile(rf"(?<![\w.,]){span}\s*(?:{units})(?![^\W\d_])", re.IGNORECASE)
    times = (
        rf"every\s+{number}\s+(?:hours?|days?|weeks?)|toutes\s+les\s+{number}\s+(?:heures?|h\b)"
        rf"|{number}\s+(?:times|fois)\s+(?:a|per|par)\s+(?:day|jour|week|semaine)"
    )
    frequency = re.compile(
        rf"(?<![\w])(?:{times}|{_alternation(cues.frequencies)})(?![^\W\d_])", re.IGNORECASE
    )
    vital_units = _alternation(cues.vital_units)
    vital_value = re.compile(
        rf"[^\d.?!]{{0,45}}?(?<![\w.,])(?P<value>\d+(?:[.,]\d+)?"
        rf"(?:\s*(?:/|over|sur)\s*\d+(?:[.,]\d+)?)?(?:\s*(?:{vital_units})(?![^\W\d_]))?)",
        re.IGNORECASE,
    )
    durations = _alternation(cues.durations)
    when = (
        rf"(?:about\s+|environ\s+|a\s+couple\s+of\s+|quelques\s+)?(?:{number}|an?)\s+"
        rf"(?:{durations})(?![^\W\d_])"
    )
    follow_up = re.compile(
        rf"(?<![\w])(?:{_alternation(cues.follow_up)})(?![^\W\d_])[^.?!;]{{0,30}}?"
        rf"(?<![\w])(?:in|within|dans|d'ici)\s+(?P<when>{when})",
        re.IGNORECASE,
    )
    answer = r"[\s,.\-]*(?:{})(?![^\W\d_])"
    return Cues(
        lang=lang,
        labels=cues.labels,
        headings=headings,
        phase=phase,
        vitals=vitals,
        exam=_matcher(cues.exam_cues),
        finding_words=_matcher(cues.finding_words),
        results=_matcher(cues.result_cues),
        plan_verbs=verbs,
        plan_markers=_matcher(cues.plan_markers),
        tests=_matcher(cues.tests),
        specialists=_matcher(cues.specialists),
        complaint=_matcher(cues.complaint_cues),
        review=_matcher(cues.review_cues),
        commands=_matcher(cues.commands),
        result_verbs=_matcher(cues.result_verbs),
        dose=dose,
        frequency=frequency,
        vital_value=vital_value,
        follow_up=follow_up,
        answer_no=re.compile(answer.format(_alternation(cues.answers_no)), re.IGNORECASE),
        answer_yes=re.compile(answer.format(_alternation(cues.answers_yes)), re.IGNORECASE),
        fillers=re.compile(
            rf"(?<![\w'])(?:{_alternation(cues.fillers)})(?![\w'])\s*,?", re.IGNORECASE
        ),
        third_person={k.casefold(): v for k, v in cues.third_person.items()},
        pronouns=(
            re.compile(rf"(?<![\w'])(?:{_alternation(cues.third_person)})(?![\w'])", re.I)
            if cues.third_person
            else None
        ),
        leading=re.compile(
            rf"^(?:(?:{_alternation(cues.leading_words)})(?![\w'])[\s,]*)+", re.IGNORECASE
        ),
        question_tag=re.compile(
            rf"[\s,.]*(?:{_alternation(cues.question_tags)})\s*\?+\s*$", re.IGNORECASE
        ),
    )


def _heading_key(text: str) -> str:
    return " ".join(match_key(word) for word in words(text))


def parse_cue_file(text: str) -> CueFile:
    """Validate the cue file's JSON text."""
    return CueFile.model_validate(json.loads(text))


@cache
def load_cues(lang: CueLanguage) -> Cues:
    """The shipped cues of ``lang``, read and compiled once."""
    text = (
        resources.files("healthspace.clinician")
        .joinpath("data/dictation_cues.json")
        .read_text("utf-8")
    )
    return _compile(lang, parse_cue_file(text).languages[lang])


def heading_section(cues: Cues, heading: str) -> Section | None:
    """The SOAP section a heading such as "Physical exam" or "Conduite à tenir" opens."""
    return cues.headings.get(_heading_key(heading))
