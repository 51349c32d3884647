"""A search engine over the shipped lab and medicine catalogs plus a few MedQuAD-shaped articles.

Built once per test session without a cache folder or an embedder, so tests see BM25 alone and
never depend on what other content modules register.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from healthspace.knowledge.corpora import medquad
from healthspace.knowledge.documents import SearchDocument
from healthspace.knowledge.providers import lab_documents, medicine_documents
from healthspace.knowledge.search import SearchEngine
from tests.knowledge.corpus_samples import write_medquad


def sample_articles(folder: Path) -> list[SearchDocument]:
    """The MedQuAD sample (English only): Heart Attack, High Blood Pressure, two more."""
    return medquad.read([write_medquad(folder)], reviewed=date(2026, 1, 2)).documents


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    articles = sample_articles(tmp_path_factory.mktemp("medquad"))
    return SearchEngine([*lab_documents(), *medicine_documents(), *articles], embedder=None)
