"""What search indexes: every content module offers its items as ``SearchDocument``s.

A content module registers one function returning its documents in ``DOCUMENT_PROVIDERS``
(``knowledge/registry.py``); the search index never needs to know the module's own schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from healthspace.knowledge.citations import Source

Kind = Literal["condition", "medicine", "lab", "glossary", "article", "code"]


@dataclass(frozen=True)
class SearchDocument:
    """One searchable item; ``title`` and ``text`` by language code ("en", "fr")."""

    id: str  # unique across kinds, e.g. "medicine:metformin", "lab:4548-4", "glossary:hepatomegaly"
    kind: Kind
    title: dict[str, str]
    text: dict[str, str]
    sources: tuple[Source, ...]
    # Extra words that should find this document (brand names, abbreviations, codes).
    keywords: tuple[str, ...] = field(default=())
