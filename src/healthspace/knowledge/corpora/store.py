"""Loaded corpora on disk: one compact file per corpus under ``<HEALTHSPACE_HOME>/corpora/``.

A corpus is public reference text the user downloaded (MedlinePlus, openFDA, MedQuAD), so it
is stored in the clear, as gzip-compressed JSON lines: a header line (corpus name, counts,
when and from what it was loaded), then one search document per line. Parsing the original
XML or JSON again at every start would cost seconds; reading this file costs a fraction of one.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from healthspace.errors import ConfigurationError
from healthspace.knowledge.citations import Source
from healthspace.knowledge.documents import SearchDocument

STORE_FORMAT = 1
SUFFIX = ".jsonl.gz"


@dataclass(frozen=True)
class CorpusInfo:
    """What a stored corpus holds, read from its header line alone."""

    corpus: str
    documents: int
    skipped: int
    loaded_at: str
    origin: str
    path: Path

    def as_json(self) -> dict[str, Any]:
        return {
            "corpus": self.corpus,
            "documents": self.documents,
            "skipped": self.skipped,
            "loaded_at": self.loaded_at,
            "origin": self.origin,
            "path": str(self.path),
        }


def corpora_dir(home: Path) -> Path:
    return home / "corpora"


def corpus_path(home: Path, corpus: str) -> Path:
    return corpora_dir(home) / f"{corpus}{SUFFIX}"


def _document_json(document: SearchDocument) -> dict[str, Any]:
    return {
        "id": document.id,
        "kind": document.kind,
        "title": document.title,
        "text": document.text,
        "keywords": list(document.keywords),
        "sources": [source.model_dump(mode="json") for source in document.sources],
    }


def save_corpus(
    home: Path, corpus: str, documents: Iterable[SearchDocument], skipped: int, origin: str
) -> CorpusInfo:
    """Write a corpus file atomically (a crash leaves the previous file, never half of one)."""
    folder = corpora_dir(home)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = corpus_path(home, corpus)
    lines = [orjson.dumps(_document_json(document)) for document in documents]
    info = CorpusInfo(
        corpus=corpus,
        documents=len(lines),
        skipped=skipped,
        loaded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        origin=origin,
        path=target,
    )
    header = {"format": STORE_FORMAT, **info.as_json()}
    del header["path"]
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{corpus}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
            out.write(orjson.dumps(header) + b"\n")
            for line in lines:
                out.write(line + b"\n")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return info


def _damaged(path: Path, reason: str) -> ConfigurationError:
    return ConfigurationError(
        f"The stored corpus {path} cannot be read ({reason}). Delete it and load the corpus "
        "again with: healthspace corpus load NAME PATH"
    )


def read_info(path: Path) -> CorpusInfo:
    """The header of a stored corpus."""
    try:
        with gzip.open(path, "rb") as stream:
            header = orjson.loads(stream.readline())
    except (OSError, EOFError, orjson.JSONDecodeError) as error:
        raise _damaged(path, str(error)) from error
    if not isinstance(header, dict) or header.get("format") != STORE_FORMAT:
        raise _damaged(path, "unknown format")
    return CorpusInfo(
        corpus=str(header.get("corpus")),
        documents=int(header.get("documents", 0)),
        skipped=int(header.get("skipped", 0)),
        loaded_at=str(header.get("loaded_at")),
        origin=str(header.get("origin")),
        path=path,
    )


def read_documents(path: Path) -> list[SearchDocument]:
    """Every document of a stored corpus, validated again (the file may have been edited)."""
    documents: list[SearchDocument] = []
    try:
        with gzip.open(path, "rb") as stream:
            header = orjson.loads(stream.readline())
            if not isinstance(header, dict) or header.get("format") != STORE_FORMAT:
                raise _damaged(path, "unknown format")
            for number, line in enumerate(stream, start=2):
                item = orjson.loads(line)
                try:
                    sources = tuple(Source.model_validate(s) for s in item["sources"])
                    documents.append(
                        SearchDocument(
                            id=str(item["id"]),
                            kind=item["kind"],
                            title={str(k): str(v) for k, v in item["title"].items()},
                            text={str(k): str(v) for k, v in item["text"].items()},
                            sources=sources,
                            keywords=tuple(str(k) for k in item["keywords"]),
                        )
                    )
                except (KeyError, TypeError, AttributeError, ValidationError) as error:
                    raise _damaged(path, f"line {number}: {error}") from error
    except (OSError, EOFError, orjson.JSONDecodeError) as error:
        raise _damaged(path, str(error)) from error
    return documents


def stored_corpora(home: Path) -> list[Path]:
    """The corpus files of a data folder, by name."""
    folder = corpora_dir(home)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"*{SUFFIX}"))


def signature(home: Path) -> tuple[tuple[str, int, int], ...]:
    """Changes whenever a corpus is loaded, replaced or removed (names, sizes, times)."""
    entries = []
    for path in stored_corpora(home):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        entries.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(entries)
