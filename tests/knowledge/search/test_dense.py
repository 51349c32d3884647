"""Hybrid search with a small in-memory embedder (the ``Embedder`` port), when numpy is there.

The real embedder is an optional extra; these tests check the plumbing (vectors per language,
caching, fusion, filters) with a deterministic bag-of-words embedder instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from healthspace.knowledge.citations import Source
from healthspace.knowledge.documents import SearchDocument
from healthspace.knowledge.search import SearchEngine
from healthspace.knowledge.search.analysis import terms

np = pytest.importorskip("numpy")

SOURCE = Source(publisher="T", title="T", url="https://example.org/", reviewed=date(2026, 1, 1))


class WordHashEmbedder:
    """Each word adds to one of 64 dimensions; enough to make similar texts near."""

    name = "word-hash-test"

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> Any:
        self.calls += 1
        matrix = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in terms(text):
                matrix[row, hashlib.blake2b(word.encode()).digest()[0] % 64] += 1.0
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms == 0, 1.0, norms)


DOCS = [
    SearchDocument(
        "article:gout", "article", {"en": "Gout"}, {"en": "Uric acid crystals."}, (SOURCE,)
    ),
    SearchDocument(
        "article:asthma", "article", {"en": "Asthma", "fr": "Asthme"}, {"en": "Airways."}, (SOURCE,)
    ),
    SearchDocument("code:J45", "code", {"en": "Asthma"}, {"en": "Asthma"}, (SOURCE,)),
]


def test_hybrid_fuses_both_rankings_and_caches_vectors(tmp_path: Path) -> None:
    embedder = WordHashEmbedder()
    engine = SearchEngine(DOCS, cache_dir=tmp_path, embedder=embedder)
    hits = engine.search("uric acid crystals", mode="hybrid")
    assert hits[0].id == "article:gout"
    assert 0 < hits[0].score < 1  # a fused score, not BM25's
    assert list(tmp_path.glob("search-*.word-hash-test.npz"))
    calls = embedder.calls
    again = SearchEngine(DOCS, cache_dir=tmp_path, embedder=embedder)
    assert [h.id for h in again.search("uric acid crystals", mode="hybrid")] == [h.id for h in hits]
    assert embedder.calls == calls + 1  # only the query was embedded: vectors came from cache


def test_auto_fills_a_short_bm25_list_from_the_dense_ranking() -> None:
    engine = SearchEngine(DOCS, embedder=WordHashEmbedder())
    hits = engine.search("gout", limit=5)
    assert hits[0].id == "article:gout" and hits[0].score > 1  # BM25 first, unchanged
    assert [hit.id for hit in hits[1:]] == ["article:asthma"]  # filled; codes have no vector
    assert hits[1].score < hits[0].score


def test_bm25_mode_ignores_the_embedder() -> None:
    engine = SearchEngine(DOCS, embedder=WordHashEmbedder())
    hits = engine.search("gout", mode="bm25")
    assert hits[0].id == "article:gout" and hits[0].score > 1


def test_hybrid_respects_the_kind_filter_and_skips_codes_in_vectors() -> None:
    engine = SearchEngine(DOCS, embedder=WordHashEmbedder())
    assert {hit.kind for hit in engine.search("asthma", kind="code")} == {"code"}
    dense = engine.dense()
    assert dense is not None
    assert 2 not in {number for number, _ in dense.ranking(np.ones(64) / 8.0, 10)}
