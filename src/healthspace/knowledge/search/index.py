"""The BM25 index: posting lists whose BM25F scores are computed once, when the index is built.

Scoring a query is then only additions over the posting lists of its terms, which keeps a
search in pure Python within a few milliseconds over tens of thousands of documents, with no
numeric library to install. Fields are weighted (BM25F): a word in a title or a brand name says
more about a document than the same word deep in its text, and each field's length is
normalised on its own, so a long article is not penalised for its title.
"""

from __future__ import annotations

import heapq
import marshal
import math
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# Bump when the stored shape or the scoring changes: older cache files are then rebuilt.
INDEX_FORMAT = 2

FIELDS = ("title", "keywords", "text")
# (weight, length normalisation b) per field; k1 is shared. Titles and keywords are short and
# of similar length, so they are barely length-normalised.
FIELD_PARAMETERS: Mapping[str, tuple[float, float]] = {
    "title": (3.0, 0.3),
    "keywords": (2.0, 0.3),
    "text": (1.0, 0.75),
}
K1 = 1.2
# A term whose posting list is this many times longer than the documents found so far (and at
# least this long) only adds to those documents; see ``Bm25Index.scores``.
_COMMON_FACTOR = 8
_COMMON_MINIMUM = 2000


@dataclass
class AnalysedDocument:
    """A document as index terms: per field, its terms and its length in words.

    Concept terms (synonym groups) are listed with the words but not counted in the length,
    so recognising a synonym never makes a document look longer.
    """

    terms: dict[str, list[str]] = field(default_factory=dict)
    lengths: dict[str, int] = field(default_factory=dict)


class Bm25Index:
    """BM25F over documents numbered 0..size-1; terms map to (document numbers, impacts)."""

    def __init__(self, size: int, postings: dict[str, tuple[bytes, bytes]]) -> None:
        self.size = size
        self._postings = postings
        self._decoded: dict[str, tuple[array[int], array[float]]] = {}

    @classmethod
    def build(cls, documents: Sequence[AnalysedDocument]) -> Bm25Index:
        size = len(documents)
        average = {
            name: max(1.0, sum(d.lengths.get(name, 0) for d in documents) / max(size, 1))
            for name in FIELDS
        }
        numbers_of: dict[str, list[int]] = {}
        tfs_of: dict[str, list[float]] = {}
        for number, document in enumerate(documents):
            pseudo_tf: dict[str, float] = {}
            for name in FIELDS:
                field_terms = document.terms.get(name)
                if not field_terms:
                    continue
                weight, b = FIELD_PARAMETERS[name]
                length = document.lengths.get(name, len(field_terms))
                scale = weight / (1.0 - b + b * length / average[name])
                for term, count in Counter(field_terms).items():
                    pseudo_tf[term] = pseudo_tf.get(term, 0.0) + count * scale
            for term, tf in pseudo_tf.items():
                numbers = numbers_of.get(term)
                if numbers is None:
                    numbers_of[term] = [number]
                    tfs_of[term] = [tf]
                else:
                    numbers.append(number)
                    tfs_of[term].append(tf)
        postings: dict[str, tuple[bytes, bytes]] = {}
        saturation = K1 + 1.0
        for term, numbers in numbers_of.items():
            df = len(numbers)
            idf = math.log(1.0 + (size - df + 0.5) / (df + 0.5))
            impacts = array("f", [idf * tf * saturation / (tf + K1) for tf in tfs_of[term]])
            postings[term] = (array("i", numbers).tobytes(), impacts.tobytes())
        return cls(size, postings)

    def __contains__(self, term: str) -> bool:
        return term in self._postings

    def document_frequency(self, term: str) -> int:
        entry = self._postings.get(term)
        return len(entry[0]) // array("i").itemsize if entry else 0

    def terms(self) -> Iterable[str]:
        return self._postings.keys()

    def _posting(self, term: str) -> tuple[array[int], array[float]] | None:
        decoded = self._decoded.get(term)
        if decoded is None:
            entry = self._postings.get(term)
            if entry is None:
                return None
            numbers, impacts = array("i"), array("f")
            numbers.frombytes(entry[0])
            impacts.frombytes(entry[1])
            decoded = self._decoded[term] = (numbers, impacts)
        return decoded

    def scores(self, weighted_terms: Mapping[str, float]) -> dict[int, float]:
        """Document number → BM25F score of the query, for documents matching its terms.

        Rare terms are scored first. A term common enough that its posting list dwarfs the
        documents found so far ("symptoms", "treatment") only adds to those documents, looked
        up by bisection, instead of every document it occurs in: a document that matches
        nothing but common words would not reach the first page anyway.
        """
        ordered = sorted(
            (t for t in weighted_terms if t in self._postings), key=self.document_frequency
        )
        totals: dict[int, float] = {}
        get = totals.get
        for term in ordered:
            weight = weighted_terms[term]
            posting = self._posting(term)
            if posting is None:
                continue
            numbers, impacts = posting
            if totals and len(numbers) > max(_COMMON_FACTOR * len(totals), _COMMON_MINIMUM):
                last = len(numbers)
                for number in list(totals):
                    at = bisect_left(numbers, number)
                    if at < last and numbers[at] == number:
                        totals[number] += weight * impacts[at]
                continue
            for number, impact in zip(numbers, impacts, strict=True):
                totals[number] = get(number, 0.0) + weight * impact
        return totals

    def to_bytes(self) -> bytes:
        return marshal.dumps(
            {"format": INDEX_FORMAT, "size": self.size, "postings": self._postings}
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Bm25Index:
        """The index stored by ``to_bytes``; ValueError when the data is not one."""
        try:
            stored = marshal.loads(data)
        except (EOFError, TypeError, ValueError) as error:
            raise ValueError(f"not a search index: {error}") from error
        if not isinstance(stored, dict) or stored.get("format") != INDEX_FORMAT:
            raise ValueError("not a search index of this version")
        size, postings = stored.get("size"), stored.get("postings")
        if not isinstance(size, int) or not isinstance(postings, dict):
            raise ValueError("a search index without its postings")
        return cls(size, postings)


def top(scores: Mapping[int, float], limit: int) -> list[tuple[int, float]]:
    """The ``limit`` best (document, score) pairs, best first; ties by document number."""
    if len(scores) > limit:
        # Find the cut on bare floats first: far cheaper than ranking (document, score) pairs.
        threshold = heapq.nlargest(limit, scores.values())[-1]
        chosen = [(n, s) for n, s in scores.items() if s >= threshold]
    else:
        chosen = list(scores.items())
    chosen.sort(key=lambda item: (-item[1], item[0]))
    return chosen[:limit]
