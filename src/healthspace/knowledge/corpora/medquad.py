"""MedQuAD: NIH consumer-health answers (Ben Abacha and Demner-Fushman, 2019, CC BY 4.0).

One XML file per focus topic: ``<Document id source url>`` with ``<Focus>``, focus synonyms and
``<QAPairs>`` of ``<Question qtype>``/``<Answer>``. A few files of the release spell it
differently (``<DiseaseFile fid>``, or ``<doc docid corpus>`` with ``<doctitle-focus>`` and
lower-case ``<pair>``/``<question>``/``<answer>``); all are read. Three collections had their
answers removed for copyright reasons, so pairs without an answer are skipped, and a topic with
no answer left is skipped as a whole.

Each topic becomes one article titled by its focus, whose text is the answers (the templated
questions add nothing but the focus, which is the title already).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from healthspace.knowledge.citations import Source
from healthspace.knowledge.corpora.reading import CorpusReading, https, tidy
from healthspace.knowledge.documents import SearchDocument

# The ``source`` attribute of a MedQuAD document → who published the page it answers from.
PUBLISHERS = {
    "CancerGov": "National Cancer Institute (NCI)",
    "MPlusHealthTopics": "MedlinePlus (U.S. National Library of Medicine)",
    "NIDDK": "National Institute of Diabetes and Digestive and Kidney Diseases (NIDDK)",
    "NINDS": "National Institute of Neurological Disorders and Stroke (NINDS)",
    "NIHSeniorHealth": "NIHSeniorHealth (National Institute on Aging, NIH)",
    "NHLBI": "National Heart, Lung, and Blood Institute (NHLBI)",
    "CDC": "Centers for Disease Control and Prevention (CDC)",
    "GARD": "Genetic and Rare Diseases Information Center (GARD, NIH)",
    "GHR": "Genetics Home Reference (U.S. National Library of Medicine)",
    "MPlusDrugs": "MedlinePlus (U.S. National Library of Medicine)",
    "MPlusHerbsSupplements": "MedlinePlus (U.S. National Library of Medicine)",
    "ADAM": "MedlinePlus (U.S. National Library of Medicine)",
}


def _find(element: ET.Element, *names: str) -> ET.Element | None:
    for name in names:
        found = element.find(name)
        if found is not None:
            return found
    return None


def _text(element: ET.Element | None) -> str:
    return tidy("".join(element.itertext())) if element is not None else ""


def read_file(path: Path, reviewed: date) -> SearchDocument | str:
    """The article of one MedQuAD file, or the reason it has none."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        return f"not well-formed XML: {error}"
    collection = root.get("source") or root.get("corpus") or ""
    # The file name, not the id attribute: one page split into several focus topics gives
    # several files that share the page's id (CancerGov 0000013_2, 0000013_2_1...).
    local_id = path.stem
    url = https(root.get("url"))
    focus = _text(_find(root, "Focus", "doctitle-focus"))
    if not url:
        return "no https address for the page the answers come from"
    if not focus:
        return "no focus topic"
    answers = []
    for pair in (*root.iter("QAPair"), *root.iter("pair")):
        answer = _text(_find(pair, "Answer", "answer"))
        if answer:
            answers.append(answer)
    if not answers:
        return "no answer (this collection's answers were removed for copyright reasons)"
    synonyms = tuple(dict.fromkeys(_text(s) for s in root.iter("Synonym") if _text(s)))
    publisher = PUBLISHERS.get(collection, f"{collection or 'NIH'} (via MedQuAD)")
    return SearchDocument(
        id=f"medquad:{collection.lower() or 'nih'}:{local_id}",
        kind="article",
        title={"en": focus},
        text={"en": "\n\n".join(dict.fromkeys(answers))},
        sources=(Source(publisher=publisher, title=focus, url=url, reviewed=reviewed),),
        keywords=synonyms,
    )


def _xml_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob("*.xml")) if path.is_dir() else [path])
    return files


def read(paths: Iterable[Path], reviewed: date | None = None) -> CorpusReading:
    """Every MedQuAD file in ``paths`` (files or folders, searched recursively).

    MedQuAD files carry no review date, so ``reviewed`` defaults to the day they are loaded.
    """
    reviewed = reviewed or date.today()
    reading = CorpusReading()
    seen: set[str] = set()
    for path in _xml_files(paths):
        result = read_file(path, reviewed)
        if isinstance(result, str):
            reading.skip(str(path), result)
        elif result.id in seen:
            reading.skip(str(path), f"{result.id} was already read from another file")
        else:
            seen.add(result.id)
            reading.documents.append(result)
    return reading
