"""Authority corpora the user downloads and loads: MedlinePlus, openFDA labels, MedQuAD.

``load_corpus`` reads the downloaded files with the corpus's importer and stores the documents
in the data folder; search picks every stored corpus up. Corpora belong to a data folder (the
demo has its own), which is why search reads them from ``HEALTHSPACE_HOME`` rather than from
the process-wide document registry. Adding a corpus is one importer module plus one line in
``CORPUS_READERS``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from healthspace.errors import ImportFailedError
from healthspace.knowledge.corpora import medlineplus, medquad, openfda
from healthspace.knowledge.corpora.reading import CorpusReading
from healthspace.knowledge.corpora.store import (
    CorpusInfo,
    corpus_path,
    read_documents,
    read_info,
    save_corpus,
    signature,
    stored_corpora,
)
from healthspace.knowledge.documents import SearchDocument

__all__ = [
    "CORPUS_READERS",
    "CorpusInfo",
    "CorpusReading",
    "corpus_documents",
    "load_corpus",
    "load_demo_corpora",
    "signature",
]

CorpusReader = Callable[[Sequence[Path]], CorpusReading]

CORPUS_READERS: dict[str, CorpusReader] = {
    "medlineplus": medlineplus.read,
    "openfda": openfda.read,
    "medquad": medquad.read,
}

# Where the project's workspace keeps the MedQuAD collections, next to the repository.
_SHARED_MEDQUAD = Path(__file__).resolve().parents[5] / "shared" / "data" / "medquad"


def load_corpus(
    home: Path, corpus: str, paths: Sequence[Path]
) -> tuple[CorpusInfo, list[tuple[str, str]]]:
    """Read downloaded files with the corpus's importer and store them in the data folder.

    Returns what was stored and the (place, reason) of every record skipped. Loading a corpus
    again replaces it.
    """
    reader = CORPUS_READERS[corpus]
    for path in paths:
        if not path.exists():
            raise ImportFailedError(str(path), "", "no such file or folder")
    reading = reader(paths)
    if not reading.documents:
        reasons = "; ".join(sorted({reason for _, reason in reading.skipped})[:3])
        raise ImportFailedError(
            ", ".join(str(p) for p in paths),
            "",
            f"no {corpus} document could be read ({reasons or 'the files are empty'})",
        )
    origin = ", ".join(p.name for p in paths)
    info = save_corpus(home, corpus, reading.documents, len(reading.skipped), origin)
    return info, reading.skipped


_cache_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[int, int], list[SearchDocument]]] = {}


def corpus_documents(home: Path) -> list[SearchDocument]:
    """The documents of every corpus stored in a data folder (each file read once per change)."""
    documents: list[SearchDocument] = []
    for path in stored_corpora(home):
        stat = path.stat()
        key = (stat.st_size, stat.st_mtime_ns)
        with _cache_lock:
            cached = _cache.get(path)
        if cached is None or cached[0] != key:
            cached = (key, read_documents(path))
            with _cache_lock:
                _cache[path] = cached
        documents.extend(cached[1])
    return documents


def load_demo_corpora(hs_home: Path, medquad_dir: Path | None = None) -> int:
    """Load the MedQuAD collections into a demo data folder; the number of articles stored.

    Idempotent and cheap on a second start: an already stored MedQuAD corpus is kept. Returns 0
    when the collections are not there (a checkout without the project's shared data).
    """
    source = medquad_dir or _SHARED_MEDQUAD
    stored = corpus_path(hs_home, "medquad")
    if stored.exists():
        return read_info(stored).documents
    if not source.is_dir():
        return 0
    info, _ = load_corpus(hs_home, "medquad", [source])
    return info.documents
