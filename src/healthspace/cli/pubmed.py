"""``healthspace pubmed``: search the medical literature; the one command that needs a network.

Only the words typed are sent to NCBI; nothing from the record is read or sent.
"""

from __future__ import annotations

import typer
from rich.markup import escape

from healthspace.cli.app import app
from healthspace.cli.output import JSON_OPTION, console, emit
from healthspace.clinician.literature import MAX_LIMIT, Article, search_pubmed
from healthspace.config import Settings


@app.command()
def pubmed(
    query: str = typer.Argument(..., help="What to search for, in PubMed's query syntax."),
    limit: int = typer.Option(10, "--limit", min=1, max=MAX_LIMIT, help="How many articles."),
    as_json: bool = JSON_OPTION,
) -> None:
    """PubMed articles for QUERY, best match first (needs a network; sends only QUERY)."""
    # No vault is opened: a literature search has nothing to do with the record.
    articles = search_pubmed(Settings(), query, limit)
    emit([a.as_json() for a in articles], as_json, lambda: _render(articles))


def _render(articles: list[Article]) -> None:
    if not articles:
        console.print("No PubMed articles match this search.")
        return
    for article in articles:
        year = f" ({article.year})" if article.year else ""
        console.print(f"[bold]{escape(article.title)}[/]")
        console.print(
            f"[dim]{escape(article.journal)}{year} · PMID {article.pmid} · {article.url}[/]"
        )
        if article.abstract:
            console.print(escape(article.abstract))
        console.print()
