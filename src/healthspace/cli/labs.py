"""``healthspace labs`` and ``healthspace explain lab``: a person's results, and one explained.

Thin entrypoints over ``patient.lab_service``: the JSON is the service's, the readable view
only lays it out (words from the same phrase table as the explanations).
"""

from __future__ import annotations

from enum import StrEnum

import typer
from rich.markup import escape
from rich.table import Table

from healthspace.cli.app import app
from healthspace.cli.explain import explain_app
from healthspace.cli.output import JSON_OPTION, console, emit, open_healthspace
from healthspace.patient.lab_service import (
    LabExplanation,
    explain_lab,
    format_date,
    format_number,
    format_quantity,
    list_labs,
    say,
)
from healthspace.patient.labs import LabResult


class Lang(StrEnum):
    en = "en"
    fr = "fr"


_FLAG_STYLES = {
    "critical": "bold white on red",
    "high": "bold red",
    "low": "bold blue",
    "normal": "green",
}
_ARROWS = {"rising": "↗", "falling": "↘", "stable": "→"}


@app.command()
def labs(
    person: str = typer.Argument(..., help="Person id (see: healthspace persons)."),
    code: str | None = typer.Option(
        None, "--code", help="Only this test: a LOINC code or a name ('HbA1c', 'glycémie')."
    ),
    lang: Lang = typer.Option(Lang.en, "--lang", help="Language of test names."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Lab results with unit, normal range, flag and the change since the previous result."""
    hs = open_healthspace()
    results = list_labs(hs, hs.default_actor, person, code, lang.value)
    emit(
        [r.as_json(lang.value) for r in results],
        as_json,
        lambda: _render_table(results, lang.value),
    )


@explain_app.command("lab")
def explain_lab_command(
    person: str = typer.Argument(..., help="Person id (see: healthspace persons)."),
    code: str = typer.Argument(..., help="A LOINC code or a test name ('HbA1c', 'potassium')."),
    lang: Lang = typer.Option(Lang.en, "--lang", help="Language of the explanation."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Explain the latest result of a test in plain words, with sources."""
    hs = open_healthspace()
    explanation = explain_lab(hs, hs.default_actor, person, code, lang.value)
    emit(explanation.as_json(), as_json, lambda: _render_explanation(explanation))


def _value_cell(result: LabResult, lang: str) -> str:
    if isinstance(result.value, float):
        shown = format_quantity(result.value, result.unit, lang)
        return f"{result.comparator} {shown}" if result.comparator else shown
    if isinstance(result.value, str):
        return result.value
    return f"— ({result.absent_reason})" if result.absent_reason else "—"


def _range_cell(result: LabResult, lang: str) -> str:
    if result.low is None and result.high is None:
        return ""
    if result.low is not None and result.high is not None:
        high = format_quantity(result.high, result.unit, lang)
        text = f"{format_number(result.low, lang)}–{high}"
    elif result.high is not None:
        text = f"≤ {format_quantity(result.high, result.unit, lang)}"
    else:
        assert result.low is not None
        text = f"≥ {format_quantity(result.low, result.unit, lang)}"
    who = say("range_from_lab" if result.range_source == "lab" else "range_from_ours", lang)
    return f"{text} ({who})"


def _trend_cell(result: LabResult, lang: str) -> str:
    trend = result.trend
    if trend is None:
        return ""
    arrow = _ARROWS[trend.direction]
    if trend.direction == "stable":
        return arrow
    sign = "+" if trend.change > 0 else "−"
    change = f"{sign}{format_number(abs(trend.change), lang)}"
    if trend.change_percent is not None:
        change += f" ({sign}{format_number(abs(trend.change_percent), lang)} %)"
    return f"{arrow} {change}"


def _render_table(results: list[LabResult], lang: str) -> None:
    if not results:
        console.print(say("no_labs", lang))
        return
    table = Table(
        say("col_date", lang),
        say("col_test", lang),
        say("col_value", lang),
        say("col_range", lang),
        say("col_flag", lang),
        say("col_trend", lang),
    )
    for result in results:
        flag = ""
        if result.flag is not None:
            label = escape(say(f"flag_{result.flag}", lang))
            flag = f"[{_FLAG_STYLES[result.flag]}]{label}[/]"
        table.add_row(
            (result.date or "")[:10],
            escape(result.name.fr if lang == "fr" else result.name.en),
            escape(_value_cell(result, lang)),
            escape(_range_cell(result, lang)),
            flag,
            _trend_cell(result, lang),
        )
    console.print(table)


def _render_explanation(explanation: LabExplanation) -> None:
    lang = explanation.lang
    latest = explanation.latest
    console.print(
        f"[bold]{escape(explanation.name)}[/] (LOINC {escape(explanation.code)}) · "
        f"{escape(format_date(latest.date, lang))}"
    )
    for section in explanation.sections:
        console.print()
        style = "bold white on red" if section.key == "now" else "bold"
        console.print(f"[{style}]{escape(section.title)}[/]")
        console.print(escape(section.text))
    if explanation.citations:
        console.print()
        console.print(f"[dim]{escape(say('sources_label', lang))}[/]")
        for source in explanation.citations:
            console.print(
                f"[dim]  {escape(source.publisher)}, {escape(source.title)} <{source.url}>[/]"
            )
    if explanation.record_refs:
        refs = ", ".join(explanation.record_refs)
        console.print(f"[dim]{escape(say('record_label', lang))} {escape(refs)}[/]")
