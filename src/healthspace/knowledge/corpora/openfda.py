"""openFDA drug labels: the JSON files of FDA's ``drug/label`` download (or their zips).

Each file is ``{"meta": ..., "results": [label, ...]}``; a label has ``openfda`` names
(``brand_name``, ``generic_name``, ``substance_name``, ``pharm_class_epc``...), its sections as
lists of text (``indications_and_usage``, ``warnings``, ``adverse_reactions``...),
``effective_time`` (YYYYMMDD) and ``set_id``. Many labels describe the same product from
different labellers (hundreds of ibuprofen labels), so one label per brand and generic name is
kept: the most recent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson

from healthspace.errors import ImportFailedError
from healthspace.knowledge.citations import Source
from healthspace.knowledge.corpora.reading import CorpusReading, open_data, tidy
from healthspace.knowledge.documents import SearchDocument

PUBLISHER = "U.S. Food and Drug Administration (openFDA drug labels)"
# Sections worth searching, in reading order, with a heading for the text.
SECTIONS = (
    ("purpose", "Purpose"),
    ("indications_and_usage", "Uses"),
    ("boxed_warning", "Boxed warning"),
    ("contraindications", "Contraindications"),
    ("do_not_use", "Do not use"),
    ("warnings_and_cautions", "Warnings and precautions"),
    ("warnings", "Warnings"),
    ("ask_doctor", "Ask a doctor before use"),
    ("stop_use", "Stop use"),
    ("pregnancy_or_breast_feeding", "Pregnancy or breast-feeding"),
    ("adverse_reactions", "Side effects"),
    ("drug_interactions", "Interactions"),
)
# Labels run to tens of thousands of characters; the opening of each section is what a search
# needs, and it keeps the stored corpus compact.
SECTION_CHARACTERS = 3000


def _names(openfda: dict[str, Any], key: str) -> list[str]:
    values = openfda.get(key) or []
    return [tidy(str(v)) for v in values if str(v).strip()] if isinstance(values, list) else []


def _effective(value: Any) -> date | None:
    try:
        return datetime.strptime(str(value), "%Y%m%d").date()
    except ValueError:
        return None


def _label(label: Any) -> tuple[tuple[str, str], date, SearchDocument] | str:
    if not isinstance(label, dict):
        return "not a label object"
    openfda = label.get("openfda")
    if not isinstance(openfda, dict):
        openfda = {}
    brands = _names(openfda, "brand_name")
    generics = _names(openfda, "generic_name")
    set_id = str(label.get("set_id") or "").strip()
    if not set_id or not set_id.replace("-", "").isalnum():
        return "no set_id"
    if not brands and not generics:
        return "no brand or generic name (openfda section empty)"
    effective = _effective(label.get("effective_time"))
    if effective is None:
        return "no valid effective_time"
    parts = []
    for key, heading in SECTIONS:
        values = label.get(key)
        if isinstance(values, list) and values:
            body = tidy(" ".join(str(v) for v in values))[:SECTION_CHARACTERS]
            if body:
                parts.append(f"{heading}: {body}")
    if not parts:
        return "no indication, warning or side-effect text"
    generic = generics[0].title() if generics else ""
    brand = brands[0] if brands else ""
    title = f"{brand} ({generic})" if brand and generic and brand != generic else brand or generic
    keywords = dict.fromkeys(
        (
            *brands,
            *generics,
            *_names(openfda, "substance_name"),
            *_names(openfda, "pharm_class_epc"),
        )
    )
    document = SearchDocument(
        id=f"openfda:{set_id}",
        kind="article",
        title={"en": title},
        text={"en": "\n\n".join(parts)},
        sources=(
            Source(
                publisher=PUBLISHER,
                title=f"{title} drug label",
                url=f"https://dailymed.nlm.nih.gov/dailymed/drugInfo.cfm?setid={set_id}",
                reviewed=effective,
            ),
        ),
        keywords=tuple(k for k in keywords if k != title),
    )
    return (brand.casefold(), generic.casefold()), effective, document


def read(paths: Iterable[Path]) -> CorpusReading:
    """The labels of the given download files, one per product name (the newest label)."""
    reading = CorpusReading()
    newest: dict[tuple[str, str], tuple[date, SearchDocument]] = {}
    for path in paths:
        with open_data(path, (".json",)) as stream:
            try:
                data = orjson.loads(stream.read())
            except orjson.JSONDecodeError as error:
                raise ImportFailedError(str(path), "", f"not JSON: {error}") from error
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise ImportFailedError(
                str(path), "", "no 'results' list: is this an openFDA drug label file?"
            )
        for number, label in enumerate(results):
            result = _label(label)
            place = f"{path} results[{number}]"
            if isinstance(result, str):
                reading.skip(place, result)
                continue
            key, effective, document = result
            kept = newest.get(key)
            if kept is None or effective > kept[0]:
                if kept is not None:
                    reading.skip(kept[1].id, f"an older label of {document.title['en']}")
                newest[key] = (effective, document)
            else:
                reading.skip(place, f"an older label of {document.title['en']}")
    reading.documents.extend(document for _, document in newest.values())
    return reading
