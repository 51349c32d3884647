"""The input formats the importer reads, registered in one place.

Adding a format (lab results as CSV, C-CDA, an Apple Health export...) is one module whose
``parse`` turns a ``SourceFile`` into a ``ParsedFile`` of FHIR resources, plus one line in
``FORMATS``. A folder is walked for the files some format takes; other files (README, licences)
are named in the report rather than silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from healthspace.ingest.fhir_json import ParsedFile, parse_json, parse_ndjson
from healthspace.ingest.sources import SourceFile


@dataclass(frozen=True)
class InputFormat:
    name: str
    suffixes: tuple[str, ...]  # file name endings, before any ".gz"
    parse: Callable[[SourceFile], ParsedFile]


FORMATS: tuple[InputFormat, ...] = (
    InputFormat("fhir-ndjson", (".ndjson", ".jsonl"), parse_ndjson),
    InputFormat("fhir-json", (".json",), parse_json),
)
# Uploads named otherwise ("upload", "export.txt") are read as FHIR JSON, the common case.
DEFAULT_FORMAT = FORMATS[-1]


def format_for(path: Path) -> InputFormat | None:
    name = path.name.lower().removesuffix(".gz")
    return next((f for f in FORMATS if name.endswith(f.suffixes)), None)


def parse_source(source: SourceFile) -> ParsedFile:
    """Parse a file with the format its name says; raise ImportFailedError on bad content."""
    return (format_for(source.path) or DEFAULT_FORMAT).parse(source)


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Files to import (folders walked in name order) and files in folders no format takes."""
    chosen: list[Path] = []
    ignored: list[Path] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if format_for(child) and not child.name.startswith("."):
                    chosen.append(child)
                else:
                    ignored.append(child)
        else:
            chosen.append(path)
    return chosen, ignored
