"""Printing results: exactly one JSON document with --json, a readable view otherwise."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson
import typer
from rich.console import Console

from healthspace.bootstrap import Healthspace, build

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document on stdout.")
_COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")


def _two_letter_country(value: str | None) -> str | None:
    if value is not None and not _COUNTRY_CODE.match(value):
        raise typer.BadParameter(
            f"{value!r} is not a two-letter country code: use FR, US, GB, BE, CH, CA..."
        )
    return value


# The country whose emergency numbers an answer gives (triage, ask).
COUNTRY_OPTION = typer.Option(
    None,
    "--country",
    help="Two-letter country code for the numbers to call (FR, US, GB...).",
    callback=_two_letter_country,
)
console = Console()
# Messages name files and places: never fold them at 80 columns when stderr is not a terminal.
errors_console = Console(stderr=True, soft_wrap=True)


def emit(data: Any, as_json: bool, render: Callable[[], None]) -> None:
    if as_json:
        typer.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
    else:
        render()


def open_healthspace() -> Healthspace:
    return build()
