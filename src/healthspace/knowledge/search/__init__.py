"""Knowledge search: BM25 with synonyms, translations and typo tolerance, optionally hybrid.

``search(home, query, ...)`` is the service the CLI and the API call; ``SearchEngine`` is the
index over a given list of documents (tests and the bench build their own).
"""

from healthspace.knowledge.search.engine import (
    KINDS,
    EmbeddingsNotInstalledError,
    Mode,
    SearchEngine,
    SearchHit,
    engine_for,
    search,
)

__all__ = [
    "KINDS",
    "EmbeddingsNotInstalledError",
    "Mode",
    "SearchEngine",
    "SearchHit",
    "engine_for",
    "search",
]
