"""``healthspace explain report FILE|-``: a report's words, abbreviations and numbers explained.

The command only reads the text and prints; the explanation itself is
``healthspace.patient.reports.explain_report``, the same function the API calls.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path

import typer
from rich.text import Text

from healthspace.cli.explain import explain_app
from healthspace.cli.output import JSON_OPTION, console, emit
from healthspace.patient.report_data import load_report_phrases
from healthspace.patient.reports import (
    MAX_REPORT_CHARS,
    Annotation,
    ExplainedReport,
    ReportTextError,
    decode_report_bytes,
    explain_report,
)

STDIN = "-"


class ReportLanguage(StrEnum):
    en = "en"
    fr = "fr"


@explain_app.command("report")
def report(
    source: str = typer.Argument(
        ...,
        metavar="FILE|-",
        help="A text file with the report (imaging, discharge or clinic letter), or - for stdin.",
    ),
    lang: ReportLanguage | None = typer.Option(
        None, "--lang", help="The report's language; detected from the text when not given."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Explain a report in plain words: terms, abbreviations, numbers, and what it says."""
    text = read_report(source)
    explained = explain_report(text, lang.value if lang else None)
    emit(explained.as_json(), as_json, lambda: render(explained))


def read_report(source: str) -> str:
    """The text of a report file (or of standard input with "-"), or an error naming the file
    when it cannot be read as text."""
    if source == STDIN:
        return decode_report_bytes(
            _read_bounded(sys.stdin.buffer.read, "standard input"), "standard input"
        )
    path = Path(source)
    if not path.exists():
        raise ReportTextError(
            f"{path}: no such file. Check the path, or use '-' to read the report from "
            "standard input."
        )
    if path.is_dir():
        raise ReportTextError(f"{path} is a folder: give the report's text file.")
    try:
        with path.open("rb") as handle:
            data = _read_bounded(handle.read, str(path))
    except OSError as exc:
        raise ReportTextError(f"{path} cannot be read: {exc.strerror or exc}.") from exc
    return decode_report_bytes(data, str(path))


def _read_bounded(read: Callable[[int], bytes], name: str) -> bytes:
    """At most what a report can hold, so a huge file or stream is refused without being read."""
    limit = MAX_REPORT_CHARS * 4  # UTF-8 takes at most four bytes a character
    data = read(limit + 1)
    if len(data) > limit:
        raise ReportTextError(
            f"{name} is larger than one report can be ({MAX_REPORT_CHARS} characters): "
            "explain it one document at a time."
        )
    return data


def render(explained: ExplainedReport) -> None:
    """The report with its explained words highlighted and numbered, the notes, then the
    summary: for a person reading in a terminal."""
    messages = load_report_phrases().messages[explained.lang]
    numbers: dict[tuple[str, str], int] = {}
    notes: list[tuple[int, Annotation]] = []
    body = Text()
    position = 0
    for annotation in explained.annotations:
        key = (annotation.term_id or annotation.text, annotation.plain)
        if key not in numbers:
            numbers[key] = len(numbers) + 1
            notes.append((numbers[key], annotation))
        body.append(explained.text[position : annotation.start])
        style = "bold magenta" if annotation.kind == "number" else "bold cyan"
        body.append(explained.text[annotation.start : annotation.end], style=style)
        body.append(f"[{numbers[key]}]", style="dim")
        position = annotation.end
    body.append(explained.text[position:])
    console.print(body)
    console.rule(messages["heading_terms"])
    for number, annotation in notes:
        line = Text(f"[{number}] ", style="dim")
        line.append(annotation.text, style="bold")
        line.append(f" — {annotation.plain}")
        publishers = ", ".join(dict.fromkeys(s.publisher for s in annotation.sources))
        if publishers:
            line.append(f" ({publishers})", style="dim")
        console.print(line)
    console.rule(messages["heading_summary"])
    for sentence in explained.summary:
        console.print(Text(f"• {sentence.text}"))
    console.print(Text(explained.note, style="italic"))
