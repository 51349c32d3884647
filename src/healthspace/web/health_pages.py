"""The My health pages about one person's health: the home with what needs attention, the lab
results by group, one test's trend chart with its explanation, and the medicines.

Handlers stay thin: they read through the same services as the CLI (``patient.lab_service``,
``patient.medication_service``), leave the choices to ``web.health_views`` and the drawing to
``web.charts``, and only turn results into words in the reader's language here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal, cast

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from healthspace.bootstrap import Healthspace
from healthspace.errors import NotFoundError
from healthspace.knowledge.citations import Source
from healthspace.knowledge.interactions import InteractionReport
from healthspace.knowledge.medicine_content import SECTIONS, content_for, sources_of
from healthspace.patient.lab_service import (
    compose_explanation,
    format_unit,
    gather_inputs,
    read_person_labs,
    select_results,
)
from healthspace.patient.labs import LabResult, lab_results, latest, person_facts
from healthspace.patient.medication_service import (
    interactions_for_person,
    phrase,
    read_person_medicines,
    sentence_case,
    status_label,
)
from healthspace.patient.medications import MedicationEntry, medicine_label, purpose
from healthspace.web.charts import ChartPoint, ChartText, trend_chart
from healthspace.web.health_views import (
    chart_history,
    coming_appointments,
    group_latest,
    lab_codes,
    out_of_range,
    recent_changes,
    side_of,
)
from healthspace.web.identity import request_actor
from healthspace.web.language import Language
from healthspace.web.pages import PagePerson, person_for_page
from healthspace.web.rendering import page_language, render
from healthspace.web.timeline import build_timeline

router = APIRouter(include_in_schema=False)

Lang = Literal["en", "fr"]
_FLAG_LETTERS = {"high": "health.flag.letter_high", "low": "health.flag.letter_low"}


def _hs(request: Request) -> Healthspace:
    hs: Healthspace = request.app.state.hs
    return hs


def _code(language: Language) -> Lang:
    return cast(Lang, language.code)


# --- results in words -----------------------------------------------------------------------


@dataclass(frozen=True)
class ResultView:
    """One lab result as a page prints it."""

    code: str
    name: str
    value: str
    range: str
    flag: str | None  # low, normal, high, critical
    flag_text: str
    trend: str
    date: str | None
    resource: str

    @property
    def fhir_id(self) -> str:
        return self.resource.partition("/")[2]

    @property
    def out(self) -> bool:
        return self.flag in ("low", "high", "critical")


def _quantity(language: Language, value: float, unit: str | None) -> str:
    shown = format_unit(unit, language.code)
    return f"{language.number(value)} {shown}".strip()


def _value_text(result: LabResult, language: Language) -> str:
    if isinstance(result.value, float):
        shown = _quantity(language, result.value, result.unit)
        return f"{result.comparator} {shown}" if result.comparator else shown
    if isinstance(result.value, str):
        return result.value
    return language.text("health.labs.no_value")


def _range_text(result: LabResult, language: Language) -> str:
    low, high = result.low, result.high
    if low is not None and high is not None:
        unit = format_unit(result.unit, language.code)
        return f"{language.number(low)}–{language.number(high)} {unit}".strip()
    if low is not None:
        return f"≥ {_quantity(language, low, result.unit)}"
    if high is not None:
        return f"≤ {_quantity(language, high, result.unit)}"
    return ""


def _trend_text(result: LabResult, language: Language) -> str:
    trend = result.trend
    if trend is None:
        return ""
    return language.text(f"health.trend.{trend.direction}", date=language.date(trend.previous_date))


def result_view(result: LabResult, language: Language) -> ResultView:
    flag = result.flag
    return ResultView(
        code=result.code,
        name=result.name.fr if language.code == "fr" else result.name.en,
        value=_value_text(result, language),
        range=_range_text(result, language),
        flag=flag,
        flag_text=language.text(f"health.flag.{flag}") if flag else "",
        trend=_trend_text(result, language),
        date=result.date,
        resource=result.resource,
    )


@dataclass(frozen=True)
class SourceView:
    publisher: str
    title: str
    url: str
    reviewed: str


def source_view(source: Source, language: Language) -> SourceView:
    return SourceView(source.publisher, source.title, source.url, language.date(source.reviewed))


@dataclass(frozen=True)
class Block:
    """A paragraph, or a bulleted list of an explanation's text."""

    items: tuple[str, ...]
    bullets: bool


def text_blocks(text: str) -> list[Block]:
    """An explanation's plain text ("- " starts a bullet) as paragraphs and lists."""
    blocks: list[Block] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if not line:
            continue
        bullet = line.startswith("- ")
        item = line[2:].strip() if bullet else line
        if bullet and blocks and blocks[-1].bullets:
            blocks[-1] = Block((*blocks[-1].items, item), True)
        else:
            blocks.append(Block((item,), bullet))
    return blocks


# --- the person's home ----------------------------------------------------------------------


@router.get("/persons/{person_id}", response_class=HTMLResponse, name="person_page")
def person_page(request: Request, person_id: str, type: str | None = None) -> HTMLResponse:
    """A person's home: what needs attention, then the record as a timeline, newest first."""
    person = person_for_page(request, person_id)
    actor = request_actor(request)
    language = page_language(request)
    records = _hs(request).vault.resources(actor, person.id)
    patient = next(
        (r for r in records if r.get("resourceType") == "Patient" and r.get("id") == person.id),
        None,
    )
    results = lab_results(records, person_facts(patient))
    report = interactions_for_person(_hs(request), actor, person.id, lang=_code(language))
    now = dt.datetime.now(dt.UTC)
    context = {
        "person": person,
        "timeline": build_timeline(records, type or None),
        "only_type": type or None,
        "lab_codes": lab_codes(results),
        "attention": {
            "results": [result_view(r, language) for r in out_of_range(results, now.date())],
            "interactions": _interaction_views(report, language),
            "appointments": coming_appointments(records, now),
            "changes": recent_changes(records, now.date()),
        },
    }
    return render(request, "person.html", context)


# --- lab results ----------------------------------------------------------------------------


@router.get("/persons/{person_id}/labs", response_class=HTMLResponse, name="labs_page")
def labs_page(request: Request, person_id: str) -> HTMLResponse:
    """The latest result of each test, grouped, out-of-range ones flagged in words."""
    person = person_for_page(request, person_id)
    language = page_language(request)
    labs = read_person_labs(_hs(request), request_actor(request), person.id)
    groups = [
        (group.key, [result_view(r, language) for r in group.results])
        for group in group_latest(labs.results, language.code)
    ]
    counts = {code: 0 for code in {r.code for r in labs.results}}
    for result in labs.results:
        counts[result.code] += 1
    context = {"person": person, "groups": groups, "counts": counts, "nav": "labs"}
    return render(request, "labs.html", context)


@router.get("/persons/{person_id}/labs/{code}", response_class=HTMLResponse, name="lab_chart_page")
def lab_chart_page(request: Request, person_id: str, code: str) -> HTMLResponse:
    """One test over time: the chart, the same data as a table, and the explanation."""
    person = person_for_page(request, person_id)
    language = page_language(request)
    lang = _code(language)
    labs = read_person_labs(_hs(request), request_actor(request), person.id)
    chosen = select_results(labs.results, code)
    newest = latest(chosen)
    if newest is None:
        raise NotFoundError(language.text("health.lab.not_found", code=code))
    history = [r for r in chosen if r.code == newest.code]
    explanation = compose_explanation(gather_inputs(history, labs.facts, lang), lang)
    plotted = chart_history(history, newest)
    view = result_view(newest, language)
    chart = _chart(plotted, newest, view, language) if plotted else None
    context = {
        "person": person,
        "nav": "labs",
        "latest": view,
        "rows": [result_view(r, language) for r in reversed(plotted)],
        "others": [
            result_view(r, language)
            for r in sorted(history, key=lambda r: r.date or "", reverse=True)
            if r not in plotted
        ],
        "chart": chart,
        "sections": [(s.title, text_blocks(s.text)) for s in explanation.sections],
        "sources": [source_view(s, language) for s in explanation.citations],
    }
    return render(request, "lab_chart.html", context)


def _chart(
    plotted: list[LabResult], newest: LabResult, view: ResultView, language: Language
) -> Any:
    values = [float(r.value) for r in plotted if isinstance(r.value, float)]
    flagged = sum(1 for r in plotted if side_of(r))
    summary = language.text(
        "health.chart.summary",
        name=view.name,
        count=language.number(len(plotted)),
        start=language.date(plotted[0].date),
        end=language.date(plotted[-1].date),
        low=_quantity(language, min(values), newest.unit),
        high=_quantity(language, max(values), newest.unit),
        flagged=language.number(flagged),
    )
    if view.range:
        summary += " " + language.text("health.chart.summary_range", range=view.range)
    points = [
        ChartPoint(
            r.at,
            float(r.value),
            side_of(r),
            " · ".join(
                part
                for part in (
                    language.date(r.date),
                    _value_text(r, language),
                    language.text(f"health.flag.{r.flag}") if r.flag else "",
                )
                if part
            ),
        )
        for r in plotted
        if r.at is not None and isinstance(r.value, float)
    ]
    text = ChartText(
        title=summary,
        band=language.text("health.chart.band"),
        flag_letters={side: language.text(key) for side, key in _FLAG_LETTERS.items()},
    )
    return trend_chart(
        points,
        newest.low,
        newest.high,
        text,
        format_value=language.number,
        format_date=lambda moment: language.date(moment.date()),
    )


# --- medicines ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InteractionView:
    severity: str
    severity_text: str
    drugs: tuple[str, str]
    effect: str
    advice: str
    sources: tuple[SourceView, ...]


def _interaction_views(report: InteractionReport, language: Language) -> list[InteractionView]:
    lang = _code(language)
    return [
        InteractionView(
            severity=i.severity,
            severity_text=phrase(i.severity, lang, "severity"),
            drugs=(report.name_of(i.drugs[0]), report.name_of(i.drugs[1])),
            effect=i.effect.fr if lang == "fr" else i.effect.en,
            advice=i.advice.fr if lang == "fr" else i.advice.en,
            sources=tuple(source_view(s, language) for s in i.sources),
        )
        for i in report.interactions
    ]


@dataclass(frozen=True)
class MedicineView:
    name: str
    medicine: str | None
    status: str
    dosage: str
    since: str | None
    until: str | None
    resource: str
    purpose: tuple[str, ...]
    purpose_from_record: bool
    sections: tuple[tuple[str, tuple[str, ...]], ...]
    sources: tuple[SourceView, ...]


def medicine_view(entry: MedicationEntry, language: Language) -> MedicineView:
    lang = _code(language)
    latest_use = entry.latest
    medicine = entry.medicine
    why = purpose(entry, lang)
    content = content_for(medicine.id) if medicine else None
    sections = tuple(
        (phrase(name, lang, "titles"), content.section(name).in_language(lang))
        for name in SECTIONS
        if content is not None and name != "treats" and content.section(name).in_language(lang)
    )
    sources = [*(why.sources if why else ()), *(sources_of(content) if content else ())]
    return MedicineView(
        name=latest_use.name,
        medicine=medicine_label(medicine, lang) if medicine else None,
        status=sentence_case(
            status_label("expired" if latest_use.expired else latest_use.status, lang)
        ),
        dosage="; ".join(latest_use.dosage),
        since=latest_use.since,
        until=latest_use.until,
        resource=latest_use.ref,
        purpose=why.texts if why else (),
        purpose_from_record=bool(why and why.from_record),
        sections=sections,
        sources=tuple(source_view(s, language) for s in dict.fromkeys(sources)),
    )


@router.get("/persons/{person_id}/medicines", response_class=HTMLResponse, name="medicines_page")
def medicines_page(request: Request, person_id: str) -> HTMLResponse:
    """Interaction warnings first, then the medicines taken now and those stopped."""
    person: PagePerson = person_for_page(request, person_id)
    language = page_language(request)
    actor = request_actor(request)
    record = read_person_medicines(_hs(request), actor, person.id)
    report = interactions_for_person(_hs(request), actor, person.id, lang=_code(language))
    context = {
        "person": person,
        "nav": "medicines",
        "interactions": _interaction_views(report, language),
        "unchecked": list(report.unknown),
        "current": [medicine_view(e, language) for e in record.medications.current],
        "past": [medicine_view(e, language) for e in record.medications.past],
    }
    return render(request, "medicines.html", context)
