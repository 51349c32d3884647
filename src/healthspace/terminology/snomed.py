"""SNOMED CT from the user's own RF2 release: concepts, descriptions and the is-a hierarchy.

SNOMED CT cannot ship with Healthspace (its licence is per country or organisation), so a
licensed user points Healthspace at their release folder. Loading reads the Snapshot files
once (concepts, descriptions in every language, language reference sets, inferred
relationships), keeps for each id its row with the latest effectiveTime when that row is
active, and writes an SQLite file under the data folder, with a full-text index of the terms.
Later look-ups open that file directly, so a full release loads once.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from healthspace.errors import HealthspaceError, NotFoundError
from healthspace.knowledge.folding import fold

log = logging.getLogger(__name__)

IS_A = "116680003"
FULLY_SPECIFIED_NAME = "900000000000003001"
SYNONYM = "900000000000013009"
PREFERRED = "900000000000548007"
ACCEPTABLE = "900000000000549004"
# US English first, then GB English, when both language reference sets prefer a term.
_DIALECT_ORDER = ("900000000000509007", "900000000000508004")
_STORE_FORMAT = 1

_COLUMNS = {
    "concept": ("id", "effectiveTime", "active", "moduleId", "definitionStatusId"),
    "description": (
        "id",
        "effectiveTime",
        "active",
        "moduleId",
        "conceptId",
        "languageCode",
        "typeId",
        "term",
        "caseSignificanceId",
    ),
    "relationship": (
        "id",
        "effectiveTime",
        "active",
        "moduleId",
        "sourceId",
        "destinationId",
        "relationshipGroup",
        "typeId",
        "characteristicTypeId",
        "modifierId",
    ),
    "language": (
        "id",
        "effectiveTime",
        "active",
        "moduleId",
        "refsetId",
        "referencedComponentId",
        "acceptabilityId",
    ),
}
_PATTERNS = {
    "concept": "sct2_Concept_Snapshot*.txt",
    "description": "sct2_Description_Snapshot*.txt",
    "relationship": "sct2_Relationship_Snapshot*.txt",
    "language": "der2_cRefset_LanguageSnapshot*.txt",
}
_SCTID = re.compile(r"^[1-9][0-9]{5,17}$")
_EFFECTIVE_TIME = re.compile(r"^[0-9]{8}$")

DescriptionType = Literal["fsn", "synonym"]
Acceptability = Literal["preferred", "acceptable"]


class SnomedError(HealthspaceError):
    """Base of the SNOMED CT errors."""


class SnomedNotLoadedError(SnomedError):
    http_status = 409

    def __init__(self) -> None:
        super().__init__(
            "No SNOMED CT release is loaded. SNOMED CT needs a licence, so Healthspace cannot "
            "ship it: load your own RF2 release with `healthspace snomed load /path/to/release` "
            "or set HEALTHSPACE_SNOMED_DIR to its folder."
        )


class SnomedReleaseError(SnomedError):
    """A release folder or file that is not a readable RF2 Snapshot."""

    http_status = 422

    def __init__(self, path: Path | str, reason: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{path} line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")


class UnknownConceptError(NotFoundError, SnomedError):
    def __init__(self, concept_id: str) -> None:
        self.concept_id = concept_id
        super().__init__(
            f"'{concept_id}' is not an active concept of the loaded SNOMED CT release. Check "
            "the id, or search by words with `healthspace snomed search`."
        )


@dataclass(frozen=True, slots=True)
class Description:
    id: str
    term: str
    type: DescriptionType
    lang: str
    acceptability: Acceptability | None


@dataclass(frozen=True, slots=True)
class Concept:
    """An active concept with its names and direct is-a parents."""

    id: str
    fsn: str | None
    preferred_term: str | None
    descriptions: tuple[Description, ...]
    parents: tuple[str, ...]

    @property
    def synonyms(self) -> tuple[str, ...]:
        return tuple(d.term for d in self.descriptions if d.type == "synonym")


@dataclass(frozen=True, slots=True)
class ConceptHit:
    concept_id: str
    term: str  # the description that matched
    preferred_term: str | None
    score: float

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.concept_id,
            "term": self.term,
            "preferred_term": self.preferred_term,
            "score": self.score,
        }


@dataclass(frozen=True)
class ReleaseFiles:
    """The Snapshot files of a release folder, found anywhere below it."""

    concepts: tuple[Path, ...]
    descriptions: tuple[Path, ...]
    relationships: tuple[Path, ...]
    languages: tuple[Path, ...] = field(default=())

    def all(self) -> tuple[Path, ...]:
        return (*self.concepts, *self.descriptions, *self.relationships, *self.languages)

    def signature(self) -> list[list[Any]]:
        """Names, sizes and modification times: a changed release gets loaded again."""
        return [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in sorted(self.all())]


@dataclass(frozen=True)
class LoadReport:
    release: str
    store: str
    concepts: int
    descriptions: int
    is_a: int
    seconds: float
    reused: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "store": self.store,
            "concepts": self.concepts,
            "descriptions": self.descriptions,
            "is_a": self.is_a,
            "seconds": self.seconds,
            "reused": self.reused,
        }


def find_release_files(folder: Path) -> ReleaseFiles:
    """The Snapshot files under ``folder``; concepts, descriptions and relationships are needed."""
    if not folder.is_dir():
        raise SnomedReleaseError(folder, "is not a folder: give the folder of an RF2 release")
    found = {kind: tuple(sorted(folder.rglob(pattern))) for kind, pattern in _PATTERNS.items()}
    missing = [_PATTERNS[k] for k in ("concept", "description", "relationship") if not found[k]]
    if missing:
        raise SnomedReleaseError(
            folder,
            f"no {', '.join(missing)} file found: give the folder of an RF2 release "
            "(its Snapshot/Terminology files)",
        )
    return ReleaseFiles(
        found["concept"], found["description"], found["relationship"], found["language"]
    )


def _rows(path: Path, kind: str) -> Iterator[list[str]]:
    """The rows of one RF2 file after checking its header and each row's shape."""
    columns = _COLUMNS[kind]
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as error:
        raise SnomedReleaseError(path, f"cannot be read ({error.strerror})") from error
    with handle:
        try:
            header = handle.readline().rstrip("\r\n").split("\t")
            if tuple(header) != columns:
                raise SnomedReleaseError(
                    path, f"the header is not the RF2 {kind} header {'/'.join(columns)}", 1
                )
            for number, line in enumerate(handle, start=2):
                row = line.rstrip("\r\n").split("\t")
                if row == [""]:
                    continue
                if len(row) != len(columns):
                    raise SnomedReleaseError(
                        path, f"{len(row)} columns where RF2 has {len(columns)}", number
                    )
                if not _EFFECTIVE_TIME.match(row[1]) or row[2] not in ("0", "1"):
                    raise SnomedReleaseError(
                        path, "effectiveTime must be YYYYMMDD and active 0 or 1", number
                    )
                yield row
        except UnicodeDecodeError as error:
            raise SnomedReleaseError(path, "is not UTF-8 text") from error


_SCHEMA = """
CREATE TABLE staging_concept (id TEXT, effective TEXT, active INTEGER);
CREATE TABLE staging_description (
    id TEXT, effective TEXT, active INTEGER, concept TEXT, lang TEXT, type TEXT, term TEXT);
CREATE TABLE staging_relationship (
    id TEXT, effective TEXT, active INTEGER, source TEXT, destination TEXT, type TEXT);
CREATE TABLE staging_language (
    id TEXT, effective TEXT, active INTEGER, refset TEXT, description TEXT, acceptability TEXT);
"""

# For each id, the row with the latest effectiveTime; kept only when that row is active.
_LATEST = """
CREATE TABLE {table} AS SELECT {columns} FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY effective DESC) AS version
    FROM staging_{table}
) WHERE version = 1 AND active = 1;
"""

_FINAL = """
CREATE UNIQUE INDEX concept_id ON concept (id);
DELETE FROM description WHERE concept NOT IN (SELECT id FROM concept)
    OR type NOT IN ('{fsn}', '{synonym}');
UPDATE description SET type = CASE type WHEN '{fsn}' THEN 'fsn' ELSE 'synonym' END;
CREATE INDEX description_concept ON description (concept);
DELETE FROM relationship WHERE type != '{is_a}'
    OR source NOT IN (SELECT id FROM concept) OR destination NOT IN (SELECT id FROM concept);
CREATE INDEX relationship_source ON relationship (source);
CREATE INDEX relationship_destination ON relationship (destination);
CREATE INDEX language_description ON language (description);
CREATE VIRTUAL TABLE term_index USING fts5(
    term, content='description', tokenize='unicode61 remove_diacritics 2');
INSERT INTO term_index (rowid, term) SELECT rowid, term FROM description;
DROP TABLE staging_concept;
DROP TABLE staging_description;
DROP TABLE staging_relationship;
DROP TABLE staging_language;
"""


_STAGING_COLUMNS = {
    "staging_concept": 3,
    "staging_description": 7,
    "staging_relationship": 6,
    "staging_language": 6,
}


def _stage(connection: sqlite3.Connection, files: ReleaseFiles) -> None:
    """Every row of every file into staging tables: choosing versions is left to SQL."""

    def insert(table: str, rows: Iterator[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * _STAGING_COLUMNS[table])
        connection.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)

    for path in files.concepts:
        insert("staging_concept", ((r[0], r[1], int(r[2])) for r in _rows(path, "concept")))
    for path in files.descriptions:
        insert(
            "staging_description",
            ((r[0], r[1], int(r[2]), r[4], r[5], r[6], r[7]) for r in _rows(path, "description")),
        )
    for path in files.relationships:
        # Only is-a rows are kept (a relationship's type never changes between versions):
        # the other attribute relationships are most of the file and not needed here.
        insert(
            "staging_relationship",
            (
                (r[0], r[1], int(r[2]), r[4], r[5], r[7])
                for r in _rows(path, "relationship")
                if r[7] == IS_A
            ),
        )
    for path in files.languages:
        insert(
            "staging_language",
            ((r[0], r[1], int(r[2]), r[4], r[5], r[6]) for r in _rows(path, "language")),
        )


def store_path(home: Path) -> Path:
    """Where the parsed release lives: inside the data folder."""
    return home / "snomed" / "snomed-ct.sqlite"


def _read_meta(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = connection.execute("SELECT value FROM meta WHERE key = 'load'").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return None
    meta: dict[str, Any] = orjson.loads(row[0]) if row else {}
    return meta


def load_release(folder: Path, home: Path) -> LoadReport:
    """Parse the release in ``folder`` into the store under ``home``, unless already done.

    The store is written aside and renamed into place, so a failed load leaves the previous
    store (or none) untouched.
    """
    began = time.perf_counter()
    files = find_release_files(folder)
    target = store_path(home)
    signature = files.signature()
    meta = _read_meta(target)
    if meta and meta.get("signature") == signature and meta.get("format") == _STORE_FORMAT:
        return _report(target, meta, time.perf_counter() - began, reused=True)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    connection = sqlite3.connect(partial)
    try:
        connection.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
        connection.executescript(_SCHEMA)
        _stage(connection, files)
        latest = {
            "concept": "id",
            "description": "id, concept, lang, type, term",
            "relationship": "id, source, destination, type",
            "language": "id, refset, description, acceptability",
        }
        for table, columns in latest.items():
            connection.executescript(_LATEST.format(table=table, columns=columns))
        connection.executescript(
            _FINAL.format(fsn=FULLY_SPECIFIED_NAME, synonym=SYNONYM, is_a=IS_A)
        )
        counts = {
            "concepts": _count(connection, "concept"),
            "descriptions": _count(connection, "description"),
            "is_a": _count(connection, "relationship"),
        }
        meta = {
            "format": _STORE_FORMAT,
            "release": str(folder.resolve()),
            "signature": signature,
            **counts,
        }
        connection.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        connection.execute("INSERT INTO meta VALUES ('load', ?)", (orjson.dumps(meta).decode(),))
        connection.commit()
        connection.execute("VACUUM")
    except BaseException:
        connection.close()
        partial.unlink(missing_ok=True)
        raise
    connection.close()
    os.replace(partial, target)
    log.info("SNOMED CT release loaded: %s concepts", counts["concepts"])
    return _report(target, meta, time.perf_counter() - began, reused=False)


def _count(connection: sqlite3.Connection, table: str) -> int:
    return int(connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def _report(target: Path, meta: dict[str, Any], seconds: float, reused: bool) -> LoadReport:
    return LoadReport(
        release=str(meta.get("release", "")),
        store=str(target),
        concepts=int(meta.get("concepts", 0)),
        descriptions=int(meta.get("descriptions", 0)),
        is_a=int(meta.get("is_a", 0)),
        seconds=round(seconds, 3),
        reused=reused,
    )


class SnomedStore:
    """Read-only queries over a loaded release."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise SnomedNotLoadedError()
        self.path = path
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SnomedStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def has(self, concept_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM concept WHERE id = ?", (concept_id,)).fetchone()
        return row is not None

    def concept(self, concept_id: str) -> Concept:
        """The active concept with this id, its names and its direct parents."""
        concept_id = concept_id.strip()
        if not _SCTID.match(concept_id) or not self.has(concept_id):
            raise UnknownConceptError(concept_id)
        rows = self._db.execute(
            "SELECT id, term, type, lang FROM description WHERE concept = ? ORDER BY type, id",
            (concept_id,),
        ).fetchall()
        acceptability = self._acceptability([r[0] for r in rows])
        descriptions = tuple(
            Description(r[0], r[1], r[2], r[3], acceptability.get(r[0])) for r in rows
        )
        fsn = next((d.term for d in descriptions if d.type == "fsn"), None)
        synonyms = [d for d in descriptions if d.type == "synonym"]
        preferred = next((d for d in synonyms if d.acceptability == "preferred"), None)
        preferred = preferred or next((d for d in synonyms if d.lang == "en"), None)
        preferred = preferred or (synonyms[0] if synonyms else None)
        return Concept(
            id=concept_id,
            fsn=fsn,
            preferred_term=preferred.term if preferred else fsn,
            descriptions=descriptions,
            parents=tuple(self.parents(concept_id)),
        )

    def _acceptability(self, description_ids: list[str]) -> dict[str, Acceptability]:
        if not description_ids:
            return {}
        marks = ", ".join("?" * len(description_ids))
        rows = self._db.execute(
            f"SELECT description, refset, acceptability FROM language WHERE description IN "
            f"({marks})",
            description_ids,
        ).fetchall()

        def dialect(refset: str) -> int:
            return _DIALECT_ORDER.index(refset) if refset in _DIALECT_ORDER else len(_DIALECT_ORDER)

        result: dict[str, Acceptability] = {}
        for description, _refset, value in sorted(rows, key=lambda r: dialect(r[1]), reverse=True):
            if value == PREFERRED:
                result[description] = "preferred"
            elif value == ACCEPTABLE:
                result[description] = "acceptable"
        return result

    def preferred_term(self, concept_id: str) -> str | None:
        return self.concept(concept_id).preferred_term

    def parents(self, concept_id: str) -> list[str]:
        """Direct is-a parents."""
        rows = self._db.execute(
            "SELECT DISTINCT destination FROM relationship WHERE source = ? ORDER BY destination",
            (concept_id,),
        ).fetchall()
        return [r[0] for r in rows]

    def children(self, concept_id: str) -> list[str]:
        rows = self._db.execute(
            "SELECT DISTINCT source FROM relationship WHERE destination = ? ORDER BY source",
            (concept_id,),
        ).fetchall()
        return [r[0] for r in rows]

    def ancestors(self, concept_id: str) -> list[str]:
        """Every concept above, through all is-a paths (the transitive closure)."""
        if not self.has(concept_id):
            raise UnknownConceptError(concept_id)
        rows = self._db.execute(
            """
            WITH RECURSIVE up(id) AS (
                SELECT destination FROM relationship WHERE source = ?
                UNION
                SELECT r.destination FROM relationship r JOIN up ON r.source = up.id
            )
            SELECT id FROM up ORDER BY id
            """,
            (concept_id,),
        ).fetchall()
        return [r[0] for r in rows]

    def is_a(self, concept_id: str, ancestor_id: str) -> bool:
        """Whether ``concept_id`` is ``ancestor_id`` or one of its descendants."""
        if not self.has(ancestor_id):
            raise UnknownConceptError(ancestor_id)
        return concept_id == ancestor_id or ancestor_id in self.ancestors(concept_id)

    def search(self, query: str, limit: int = 20) -> list[ConceptHit]:
        """Concepts with a term holding every word of ``query`` (a word also finds longer
        words it begins), best first: an exact term, then the words as a phrase, then shorter
        terms; preferred terms before other synonyms."""
        words = re.findall(r"[^\W_]+", query.casefold())
        if not words:
            raise SnomedError("The search has no words: give at least one word, e.g. 'asthma'.")
        match = " ".join(f'"{w}"*' for w in words)
        rows = self._db.execute(
            """
            SELECT d.concept, d.term, d.type, d.id FROM term_index
            JOIN description d ON d.rowid = term_index.rowid
            WHERE term_index MATCH ? ORDER BY bm25(term_index) LIMIT ?
            """,
            (match, max(limit * 20, 200)),
        ).fetchall()
        acceptability = self._acceptability([r[3] for r in rows])
        folded_query = " ".join(_fold_words(query))
        best: dict[str, tuple[float, str]] = {}
        for concept_id, term, kind, description_id in rows:
            folded = " ".join(_fold_words(term))
            score = (
                0.5 * min(1.0, len(folded_query) / max(len(folded), 1))
                + 0.25 * (folded == folded_query)
                + 0.15 * (folded_query in folded)
                + 0.1 * (acceptability.get(description_id) == "preferred" or kind == "fsn")
            )
            if concept_id not in best or score > best[concept_id][0]:
                best[concept_id] = (score, term)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
        return [
            ConceptHit(concept_id, term, self.concept(concept_id).preferred_term, round(score, 3))
            for concept_id, (score, term) in ranked
        ]

    def describe(self, concept_id: str) -> dict[str, Any]:
        """Everything about one concept, as the CLI and the API print it."""
        concept = self.concept(concept_id)

        def named(ids: list[str] | tuple[str, ...]) -> list[dict[str, str | None]]:
            return [{"id": i, "term": self.concept(i).preferred_term} for i in ids]

        return {
            "id": concept.id,
            "fsn": concept.fsn,
            "preferred_term": concept.preferred_term,
            "synonyms": list(concept.synonyms),
            "descriptions": [
                {
                    "id": d.id,
                    "term": d.term,
                    "type": d.type,
                    "lang": d.lang,
                    "acceptability": d.acceptability,
                }
                for d in concept.descriptions
            ],
            "parents": named(concept.parents),
            "ancestors": named(self.ancestors(concept.id)),
        }

    def stats(self) -> dict[str, Any]:
        return _read_meta(self.path) or {}


def _fold_words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", fold(text))


def configured_release_dir(settings: object) -> Path | None:
    """The release folder named by HEALTHSPACE_SNOMED_DIR, if any."""
    value = getattr(settings, "snomed_dir", None) or os.environ.get("HEALTHSPACE_SNOMED_DIR")
    return Path(value) if value else None


def open_store(home: Path, release_dir: Path | None = None) -> SnomedStore:
    """The loaded release; with ``release_dir`` it is loaded (or reloaded if it changed) first."""
    if release_dir is not None:
        load_release(release_dir, home)
    return SnomedStore(store_path(home))
