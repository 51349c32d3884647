"""Knowledge commands: ``search`` and ``corpus load`` / ``corpus list``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.table import Table

from healthspace.cli.app import app
from healthspace.cli.output import JSON_OPTION, console, emit
from healthspace.config import Settings
from healthspace.knowledge.corpora import CORPUS_READERS, load_corpus
from healthspace.knowledge.corpora.store import read_info, stored_corpora
from healthspace.knowledge.search import search as search_knowledge

corpus_app = typer.Typer(
    help="Load authority corpora you downloaded (MedlinePlus, openFDA, MedQuAD) for search.",
    no_args_is_help=True,
)
app.add_typer(corpus_app, name="corpus")

# Skipped records listed in a report; the count covers them all.
_SKIPPED_SHOWN = 20


class Language(StrEnum):
    en = "en"
    fr = "fr"


class KindChoice(StrEnum):
    condition = "condition"
    medicine = "medicine"
    lab = "lab"
    glossary = "glossary"
    article = "article"
    code = "code"


class ModeChoice(StrEnum):
    auto = "auto"
    bm25 = "bm25"
    hybrid = "hybrid"


def _corpus_name(value: str) -> str:
    # Checked against the importers' registry, so a new corpus needs no change here.
    if value not in CORPUS_READERS:
        raise typer.BadParameter(f"choose one of: {', '.join(CORPUS_READERS)}")
    return value


@app.command()
def search(
    query: str = typer.Argument(..., help="Words, a question, a medicine or a test name."),
    lang: Language | None = typer.Option(None, "--lang", help="Language of titles and snippets."),
    limit: int = typer.Option(10, "--limit", min=1, max=100, help="How many results."),
    kind: KindChoice | None = typer.Option(None, "--kind", help="Only this kind of document."),
    mode: ModeChoice = typer.Option(
        ModeChoice.auto, "--mode", help="auto: hybrid when embeddings are installed."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Search medicines, lab tests, codes, the glossary and loaded corpora, in French or English."""
    hits = search_knowledge(
        Settings().home,
        query,
        lang=lang.value if lang else None,
        limit=limit,
        kind=kind.value if kind else None,
        mode=mode.value,
    )
    data = [hit.as_json() for hit in hits]

    def render() -> None:
        if not hits:
            console.print("Nothing found. Try other words, or the other language.")
            return
        table = Table("score", "kind", "title", "snippet", "source", show_lines=True)
        for hit in hits:
            source = hit.sources[0].publisher if hit.sources else ""
            table.add_row(f"{hit.score:.3g}", hit.kind, hit.title, hit.snippet, source)
        console.print(table)

    emit(data, as_json, render)


@corpus_app.command("load")
def corpus_load(
    corpus: str = typer.Argument(
        ...,
        callback=_corpus_name,
        help=f"Which corpus the files are: {', '.join(CORPUS_READERS)}.",
    ),
    paths: list[Path] = typer.Argument(
        ..., help="Downloaded files or folders (.xml, .json, .zip)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Read downloaded corpus files and store them for search (replaces an earlier load)."""
    info, skipped = load_corpus(Settings().home, corpus, paths)
    data = {
        **info.as_json(),
        "skipped_items": [
            {"place": place, "reason": reason} for place, reason in skipped[:_SKIPPED_SHOWN]
        ],
    }

    def render() -> None:
        console.print(
            f"Loaded {info.documents} {info.corpus} documents; {info.skipped} records skipped."
        )
        for item in data["skipped_items"]:
            console.print(f"[yellow]skipped[/] {item['place']}: {item['reason']}")
        if info.skipped > _SKIPPED_SHOWN:
            console.print(f"... and {info.skipped - _SKIPPED_SHOWN} more.")

    emit(data, as_json, render)


@corpus_app.command("list")
def corpus_list(as_json: bool = JSON_OPTION) -> None:
    """The corpora loaded in this data folder."""
    infos = [read_info(path) for path in stored_corpora(Settings().home)]
    data = [info.as_json() for info in infos]

    def render() -> None:
        table = Table("corpus", "documents", "skipped", "loaded at", "from")
        for info in infos:
            table.add_row(
                info.corpus, str(info.documents), str(info.skipped), info.loaded_at, info.origin
            )
        console.print(table)

    emit(data, as_json, render)
