"""The lab services: list a person's results and explain the latest one in plain words.

``list_labs`` and ``explain_lab`` read the vault (each read audited) and call pure code: the
domain in ``patient.labs`` and ``compose_explanation`` here, which builds the explanation from
the result, its history, the sourced content of ``knowledge.lab_content`` and a bilingual phrase
table (``data/lab_phrases.json``). French and English come from the same code path: only the
phrase table and the content know the language.

What an explanation may say is limited on purpose: what the test measures, where the value
sits against its range, what the content lists for a high or a low value ("can happen
with..."), never a diagnosis; how it moved, with dates and numbers from the record; and what to
do. A critical value leads with what to do now.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from pydantic import Field, model_validator

from healthspace.bootstrap import Healthspace
from healthspace.errors import NotFoundError
from healthspace.knowledge.citations import Frozen, Names, Source
from healthspace.knowledge.lab_content import LabContent, content_for, sources_of
from healthspace.patient.labs import (
    LabResult,
    PersonFacts,
    first_comparable,
    lab_results,
    latest,
    parse_moment,
    person_facts,
    trend_between,
)
from healthspace.safety.triage_rules import load_triage_rules
from healthspace.terminology.labs import LabCatalog, find_lab, load_lab_catalog, normalise_name

# --- the phrase table ----------------------------------------------------------------------


class DisplayNames(Frozen):
    """A unit as a patient reads it; may be empty (the unit "1" prints nothing)."""

    en: str
    fr: str


class Months(Frozen):
    """The twelve month names of each language, January first."""

    en: tuple[str, ...] = Field(min_length=12, max_length=12)
    fr: tuple[str, ...] = Field(min_length=12, max_length=12)


class LabPhrases(Frozen):
    """The sentences and formats of lab explanations, each in English and French."""

    version: str = Field(min_length=1)
    comment: str = ""
    phrases: Mapping[str, Names]
    months: Months
    date_format: Names
    percent_format: Names
    decimal_separator: Names
    unit_display: Mapping[str, DisplayNames] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _same_placeholders_in_both_languages(self) -> LabPhrases:
        for key, names in self.phrases.items():
            if _fields(names.en) != _fields(names.fr):
                raise ValueError(f"phrase {key!r}: English and French placeholders differ")
        return self

    def say(self, key: str, lang: str, **values: str) -> str:
        """The phrase ``key`` in ``lang`` with its placeholders filled."""
        names = self.phrases[key]
        return (names.fr if lang == "fr" else names.en).format(**values)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@cache
def load_lab_phrases() -> LabPhrases:
    """The phrase table shipped with Healthspace, read once and validated."""
    text = (
        resources.files("healthspace.patient").joinpath("data/lab_phrases.json").read_text("utf-8")
    )
    return LabPhrases.model_validate(json.loads(text))


def say(key: str, lang: str, **values: str) -> str:
    """A sentence of the shipped phrase table (the CLI uses it for its headings too)."""
    return load_lab_phrases().say(key, lang, **values)


def format_number(value: float, lang: str) -> str:
    """A number as a person writes it: no trailing zeros, the language's decimal mark."""
    text = f"{value:.6g}" if abs(value) < 1e6 else f"{value:.0f}"
    if "e" in text:
        text = f"{value:f}".rstrip("0").rstrip(".")
    phrases = load_lab_phrases()
    separator = phrases.decimal_separator.fr if lang == "fr" else phrases.decimal_separator.en
    return text.replace(".", separator)


def format_unit(unit: str | None, lang: str) -> str:
    """A UCUM unit as printed for a person (``m[IU]/L`` → ``mIU/L`` / ``mUI/L``)."""
    if not unit:
        return ""
    shown = load_lab_phrases().unit_display.get(unit)
    if shown is None:
        return unit
    return shown.fr if lang == "fr" else shown.en


def format_quantity(value: float, unit: str | None, lang: str) -> str:
    """A value with its unit for a sentence ("6.7%", "6,7 %", "4.5 mmol/L")."""
    unit_text = format_unit(unit, lang)
    number = format_number(value, lang)
    if unit == "%":
        return _percent(number, lang)
    return f"{number} {unit_text}" if unit_text else number


def _percent(number: str, lang: str) -> str:
    formats = load_lab_phrases().percent_format
    return (formats.fr if lang == "fr" else formats.en).format(number=number)


def format_date(moment: str | None, lang: str) -> str:
    """A FHIR date as words ("May 10, 2024" / "10 mai 2024"); the record's own day is kept."""
    parsed = parse_moment(moment)
    if moment is None or parsed is None:
        return say("no_date", lang)
    # The calendar day printed on the report, before any time-zone shift.
    day = date.fromisoformat(moment[:10]) if len(moment) >= 10 else parsed.date()
    phrases = load_lab_phrases()
    months = phrases.months.fr if lang == "fr" else phrases.months.en
    pattern = phrases.date_format.fr if lang == "fr" else phrases.date_format.en
    day_text = "1er" if lang == "fr" and day.day == 1 else str(day.day)
    return pattern.format(day=day_text, month=months[day.month - 1], year=day.year)


# --- the explanation -----------------------------------------------------------------------


@dataclass(frozen=True)
class RecordRef:
    """A record item a sentence rests on."""

    resource: str
    date: str | None

    def as_json(self) -> dict[str, Any]:
        return {"resource": self.resource, "date": self.date}


@dataclass(frozen=True)
class Section:
    """One titled paragraph of an explanation with what backs it."""

    key: str
    title: str
    text: str
    sources: tuple[Source, ...] = ()
    records: tuple[RecordRef, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "text": self.text,
            "sources": [citation(s) for s in self.sources] + [r.as_json() for r in self.records],
        }


def citation(source: Source) -> dict[str, str]:
    """A knowledge source as DESIGN.md cites it."""
    return {"title": source.title, "publisher": source.publisher, "url": source.url}


@dataclass(frozen=True)
class LabExplanation:
    """The latest result of one test explained; when ``critical``, the first section says what
    to do now."""

    code: str
    name: str
    latest: LabResult
    sections: tuple[Section, ...]
    critical: bool
    lang: str
    citations: tuple[Source, ...] = field(default=())
    record_refs: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "latest": self.latest.as_json(self.lang),
            "sections": [s.as_json() for s in self.sections],
            "critical": self.critical,
            "citations": [citation(s) for s in self.citations],
            "record_refs": list(self.record_refs),
        }


@dataclass(frozen=True)
class ExplanationInputs:
    """Everything ``compose_explanation`` needs, gathered by the service (or a test)."""

    history: Sequence[LabResult]  # every result of the test, any order
    content: LabContent | None = None
    content_sources: tuple[Source, ...] = ()
    catalog_sources: tuple[Source, ...] = ()
    # The catalog source of each Healthspace range, by source id.
    range_sources: Mapping[str, Source] = field(default_factory=dict)
    emergency_number: str | None = None


def compose_explanation(inputs: ExplanationInputs, lang: str) -> LabExplanation:
    """The explanation of the latest result in ``inputs.history``; pure, no I/O."""
    last = latest(inputs.history)
    if last is None:
        raise ValueError("an explanation needs at least one result")
    name = last.name.fr if lang == "fr" else last.name.en
    record = RecordRef(last.resource, last.date)
    sections: list[Section] = []
    critical = last.flag == "critical"
    content = inputs.content

    if critical:
        call = (
            say("critical_call", lang, number=inputs.emergency_number)
            if inputs.emergency_number
            else say("critical_call_neutral", lang)
        )
        sections.append(
            Section(
                "now",
                say("title_now", lang),
                f"{say('critical_lead', lang)} {call}",
                inputs.content_sources,
                (record,),
            )
        )

    sections.append(_result_section(last, inputs, lang, record))
    if content is not None:
        measures = content.measures.fr if lang == "fr" else content.measures.en
        sections.append(
            Section("measures", say("title_measures", lang), measures, inputs.content_sources)
        )
    else:
        sections.append(Section("measures", say("title_measures", lang), say("no_content", lang)))
    sections.append(_meaning_section(last, content, inputs, lang, record))
    sections.append(_trend_section(last, inputs.history, lang))
    if content is not None:
        for key, title in (("affected_by", "title_affects"), ("see_doctor", "title_doctor")):
            entries = content.section(key).in_language(lang)
            if entries:
                sections.append(
                    Section(key, say(title, lang), _bullets(entries), inputs.content_sources)
                )
    # The reminder closes an answer that does not already send the person to a clinician.
    if not any(s.key in ("now", "see_doctor") for s in sections):
        sections.append(Section("reminder", say("title_reminder", lang), say("reminder", lang)))

    citations = _unique([*inputs.catalog_sources, *(s for sec in sections for s in sec.sources)])
    refs = list(dict.fromkeys(r.resource for sec in sections for r in sec.records))
    return LabExplanation(
        code=last.code,
        name=name,
        latest=last,
        sections=tuple(sections),
        critical=critical,
        lang=lang,
        citations=tuple(citations),
        record_refs=tuple(refs),
    )


def _unique(sources: Iterable[Source]) -> list[Source]:
    return list(dict.fromkeys(sources))


def _bullets(entries: Iterable[str]) -> str:
    return "\n".join(f"- {entry}" for entry in entries)


def _value_text(result: LabResult, lang: str) -> str:
    if isinstance(result.value, float):
        shown = format_quantity(result.value, result.unit, lang)
        return f"{result.comparator} {shown}" if result.comparator else shown
    return str(result.value)


def _result_section(
    last: LabResult, inputs: ExplanationInputs, lang: str, record: RecordRef
) -> Section:
    when = format_date(last.date, lang)
    sentences: list[str] = []
    sources: list[Source] = []
    if isinstance(last.value, float):
        sentences.append(say("result_value", lang, date=when, value=_value_text(last, lang)))
        if last.original is not None:
            original = format_quantity(last.original.value, last.original.unit, lang)
            shown = format_quantity(last.value, last.unit, lang)
            sentences.append(say("converted", lang, original=original, value=shown))
        sentences.append(_range_sentence(last, lang))
        cited = inputs.range_sources.get(last.range_citation or "")
        if last.range_source == "healthspace" and cited is not None:
            sources.append(cited)
    elif isinstance(last.value, str):
        sentences.append(say("result_text", lang, date=when, value=last.value))
    elif last.absent_reason:
        sentences.append(say("result_absent", lang, date=when, reason=last.absent_reason))
    else:
        sentences.append(say("result_absent_no_reason", lang, date=when))
    return Section(
        "result", say("title_result", lang), " ".join(sentences), tuple(sources), (record,)
    )


def _range_sentence(result: LabResult, lang: str) -> str:
    if result.low is None and result.high is None:
        return say("range_none", lang)
    who = "lab" if result.range_source == "lab" else "ours"
    low = format_quantity(result.low, result.unit, lang) if result.low is not None else ""
    high = format_quantity(result.high, result.unit, lang) if result.high is not None else ""
    if result.low is not None and result.high is not None:
        return say(f"range_{who}_both", lang, low=low, high=high)
    if result.high is not None:
        return say(f"range_{who}_high", lang, high=high)
    return say(f"range_{who}_low", lang, low=low)


def _direction_of(result: LabResult) -> str | None:
    """Which side of the range a flagged value lies on (a critical value too)."""
    if result.flag in ("high", "low"):
        return result.flag
    if result.flag == "critical" and isinstance(result.value, float):
        if result.high is not None and result.value > result.high:
            return "high"
        if result.low is not None and result.value < result.low:
            return "low"
        if result.interpretation == "HH":
            return "high"
        if result.interpretation == "LL":
            return "low"
    return None


def _meaning_section(
    last: LabResult,
    content: LabContent | None,
    inputs: ExplanationInputs,
    lang: str,
    record: RecordRef,
) -> Section:
    title = say("title_meaning", lang)
    if isinstance(last.value, str):
        return Section("meaning", title, say("meaning_text", lang), (), (record,))
    if last.value is None:
        return Section("meaning", title, say("meaning_absent", lang), (), (record,))
    side = _direction_of(last)
    if side is None:
        key = "meaning_normal" if last.flag == "normal" else "meaning_unknown"
        return Section("meaning", title, say(key, lang), (), (record,))
    parts = [say(f"meaning_{side}", lang)]
    causes = content.section(side).in_language(lang) if content is not None else ()
    sources: tuple[Source, ...] = ()
    if causes:
        parts.append(f"{say(f'{side}_causes', lang)}\n{_bullets(causes)}")
        parts.append(say("not_a_diagnosis", lang))
        sources = inputs.content_sources
    else:
        parts.append(say("causes_none", lang))
    return Section("meaning", title, "\n".join(parts), sources, (record,))


def _trend_section(last: LabResult, history: Sequence[LabResult], lang: str) -> Section:
    title = say("title_trend", lang)
    records: list[RecordRef] = [RecordRef(last.resource, last.date)]
    sentences: list[str] = []
    numbers = [r for r in history if r.trendable and r.unit == last.unit and r.at is not None]
    if len(history) == 1:
        sentences.append(say("trend_first", lang))
    elif last.trend is None:
        sentences.append(say("trend_no_previous", lang))
    else:
        trend = last.trend
        previous = format_quantity(trend.previous_value, last.unit, lang)
        when = format_date(trend.previous_date, lang)
        records.append(RecordRef(trend.previous_resource, trend.previous_date))
        if trend.direction == "stable":
            sentences.append(say("trend_stable", lang, date=when, value=previous))
        else:
            change = format_quantity(abs(trend.change), last.unit, lang)
            if trend.change_percent is not None:
                percent = _percent(format_number(abs(trend.change_percent), lang), lang)
                change = say("change_with_percent", lang, change=change, percent=percent)
            sentences.append(
                say(f"trend_{trend.direction}", lang, date=when, value=previous, change=change)
            )
    first = first_comparable(history, last)
    if first is not None and len(numbers) > 2 and trend_between(first, last) is not None:
        records.append(RecordRef(first.resource, first.date))
        assert isinstance(first.value, float) and isinstance(last.value, float)
        sentences.append(
            say(
                "trend_period",
                lang,
                count=str(len(numbers)),
                start=format_date(first.date, lang),
                end=format_date(last.date, lang),
                first=format_quantity(first.value, first.unit, lang),
                last=format_quantity(last.value, last.unit, lang),
            )
        )
    if last.flag != "critical":
        earlier = [r for r in history if r.flag == "critical" and r.resource != last.resource]
        for result in sorted(earlier, key=lambda r: r.at.isoformat() if r.at else "")[-1:]:
            records.append(RecordRef(result.resource, result.date))
            sentences.append(
                say(
                    "trend_earlier_critical",
                    lang,
                    date=format_date(result.date, lang),
                    value=_value_text(result, lang),
                )
            )
    return Section("trend", title, " ".join(sentences), (), tuple(dict.fromkeys(records)))


# --- emergency numbers ---------------------------------------------------------------------


def emergency_number(country: str | None, lang: str) -> str | None:
    """The number(s) to call in the person's country ("15 or 112"), from the triage rules.

    None when the record gives no country or the rules do not list it: the explanation then
    says "your local emergency number" rather than guess.
    """
    if not country:
        return None
    numbers = load_triage_rules().emergency_numbers.get(country.upper())
    if numbers is None:
        return None
    if numbers.general and numbers.general != numbers.emergency:
        return say("number_or", lang, first=numbers.emergency, second=numbers.general)
    return numbers.emergency


# --- services ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonLabs:
    """A person's lab results with the facts that chose their ranges."""

    facts: PersonFacts
    results: list[LabResult]


def read_person_labs(hs: Healthspace, actor: str, person: str) -> PersonLabs:
    """The person's lab results; reads Patient, Observation and DiagnosticReport (audited)."""
    patients = hs.vault.resources(actor, person, "Patient")
    observations = hs.vault.resources(actor, person, "Observation")
    reports = hs.vault.resources(actor, person, "DiagnosticReport")
    patient = next(
        (p for p in patients if p.get("id") == person), patients[0] if patients else None
    )
    facts = person_facts(patient)
    return PersonLabs(facts, lab_results([*observations, *reports], facts))


def _sorted_for(results: Iterable[LabResult], lang: str) -> list[LabResult]:
    def key(result: LabResult) -> tuple[str, str, str, str]:
        name = result.name.fr if lang == "fr" else result.name.en
        when = result.at.isoformat() if result.at else ""
        return (normalise_name(name), result.code, when, result.resource)

    return sorted(results, key=key)


def select_results(results: Sequence[LabResult], query: str) -> list[LabResult]:
    """The results a LOINC code or a test name refers to.

    A name is looked up in the catalog (names and aliases, French and English) and matched
    against the names the record itself prints. An unknown name is an error, an unknown code
    just finds nothing.
    """
    wanted = query.strip()
    codes: set[str] = set()
    lab = find_lab(wanted)
    if lab is not None:
        codes.add(lab.code)
    key = normalise_name(wanted)
    codes.update(
        r.code
        for r in results
        if r.code == wanted or key in (normalise_name(r.name.en), normalise_name(r.name.fr))
    )
    if not codes:
        if _looks_like_code(wanted):
            return []
        raise NotFoundError(
            f"No lab test called {wanted!r}. Give a LOINC code (such as 4548-4) or a name "
            "such as 'HbA1c' or 'glycémie'."
        )
    return [r for r in results if r.code in codes]


def _looks_like_code(text: str) -> bool:
    return bool(text) and all(ch.isdigit() or ch == "-" for ch in text)


def list_labs(
    hs: Healthspace, actor: str, person: str, code: str | None = None, lang: str = "en"
) -> list[LabResult]:
    """Every lab result of ``person`` (or of one test), by test name then date."""
    results = read_person_labs(hs, actor, person).results
    if code:
        results = select_results(results, code)
    return _sorted_for(results, lang)


def explain_lab(
    hs: Healthspace, actor: str, person: str, code: str, lang: str = "en"
) -> LabExplanation:
    """The latest result of a test explained in plain words, with sources and record refs."""
    labs = read_person_labs(hs, actor, person)
    if not labs.results:
        raise NotFoundError(
            f"Person {person} has no lab results in their record. Import a lab report first "
            "(healthspace import FILE)."
        )
    chosen = select_results(labs.results, code)
    if not chosen:
        raise NotFoundError(
            f"Person {person} has no result for {code!r}. See their tests with: "
            f"healthspace labs {person}"
        )
    newest = latest(chosen)
    assert newest is not None
    history = [r for r in chosen if r.code == newest.code]
    return compose_explanation(gather_inputs(history, labs.facts, lang), lang)


def gather_inputs(
    history: Sequence[LabResult],
    facts: PersonFacts,
    lang: str,
    catalog: LabCatalog | None = None,
) -> ExplanationInputs:
    """The content, sources and emergency number for a test's history (data files only)."""
    catalog = catalog or load_lab_catalog()
    code = history[0].code
    lab = catalog.lab(code)
    content = content_for(code) if lab is not None else None
    catalog_sources = tuple(catalog.sources[s] for s in lab.sources) if lab else ()
    return ExplanationInputs(
        history=history,
        content=content,
        content_sources=tuple(sources_of(content)) if content else (),
        catalog_sources=catalog_sources,
        range_sources={
            r.range_citation: catalog.sources[r.range_citation]
            for r in history
            if r.range_citation and r.range_citation in catalog.sources
        },
        emergency_number=emergency_number(facts.country, lang),
    )
