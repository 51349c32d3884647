"""MedlinePlus health topics: the XML file the U.S. National Library of Medicine publishes.

The file (``mplus_topics_YYYY-MM-DD.xml``, or its zip) is
``<health-topics date-generated="MM/DD/YYYY HH:MM:SS">`` holding ``<health-topic title url id
language meta-desc>`` elements, each with ``<also-called>``, ``<see-reference>``, MeSH
``<descriptor>``s and a ``<full-summary>`` of escaped HTML. English topics are read; Spanish
ones are skipped (Healthspace speaks French and English). The file is streamed, so its tens of
megabytes are never all in memory as a tree.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

from healthspace.errors import ImportFailedError
from healthspace.knowledge.citations import Source
from healthspace.knowledge.corpora.reading import CorpusReading, https, open_data, plain_text, tidy
from healthspace.knowledge.documents import SearchDocument

PUBLISHER = "MedlinePlus (U.S. National Library of Medicine)"


def _generated(value: str | None) -> date | None:
    """The file's ``date-generated`` ("08/10/2024 02:30:32"), or None."""
    if not value:
        return None
    try:
        return datetime.strptime(value.split()[0], "%m/%d/%Y").date()
    except ValueError:
        return None


def _topic(element: ET.Element, reviewed: date) -> SearchDocument | str:
    language = element.get("language", "English")
    if language != "English":
        return f"{language} topic (only English topics are read)"
    title = tidy(element.get("title") or "")
    url = https(element.get("url"))
    if not title or not url:
        return "no title or no https address"
    summary_element = element.find("full-summary")
    summary = plain_text(summary_element.text or "") if summary_element is not None else ""
    summary = summary or tidy(element.get("meta-desc") or "")
    if not summary:
        return "no summary"
    names = [
        tidy("".join(e.itertext()))
        for e in (
            *element.findall("also-called"),
            *element.findall("see-reference"),
            *element.iter("descriptor"),
        )
    ]
    keywords = tuple(dict.fromkeys(n for n in names if n and n != title))
    return SearchDocument(
        id=f"medlineplus:{element.get('id') or url.rsplit('/', 1)[-1]}",
        kind="article",
        title={"en": title},
        text={"en": summary},
        sources=(Source(publisher=PUBLISHER, title=title, url=url, reviewed=reviewed),),
        keywords=keywords,
    )


def read_file(path: Path, reading: CorpusReading) -> None:
    """Add the English topics of one health-topics file to ``reading``."""
    reviewed = date.today()
    number = 0
    with open_data(path, (".xml",)) as stream:
        try:
            for event, element in ET.iterparse(stream, events=("start", "end")):
                if event == "start":
                    if element.tag == "health-topics":
                        reviewed = _generated(element.get("date-generated")) or reviewed
                    continue
                if element.tag != "health-topic":
                    continue
                number += 1
                result = _topic(element, reviewed)
                if isinstance(result, str):
                    reading.skip(f"{path} health-topic #{number}", result)
                else:
                    reading.documents.append(result)
                element.clear()  # streamed: drop what is done
        except ET.ParseError as error:
            raise ImportFailedError(str(path), f"line {error.position[0]}", str(error)) from error
    if number == 0:
        raise ImportFailedError(
            str(path), "", "no <health-topic> element: is this the MedlinePlus health topics XML?"
        )


def read(paths: Iterable[Path]) -> CorpusReading:
    """Every English topic of the given health-topics files.

    ``reviewed`` on each source is the date MedlinePlus generated the file.
    """
    reading = CorpusReading()
    for path in paths:
        read_file(path, reading)
    return reading
