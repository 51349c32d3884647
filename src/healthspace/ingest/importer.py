"""The import service: files in, one transaction per file, a report of what happened.

A file that fails leaves nothing behind and does not stop the batch. A file whose only problem
is a reference to a resource another file of the batch brings (NDJSON exports split by type) is
retried once the others are in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from healthspace.collector import collector_paused
from healthspace.errors import ImportFailedError
from healthspace.ingest.fhir_json import NotFhirFile
from healthspace.ingest.fhir_model import SHARED_TYPES
from healthspace.ingest.formats import expand_paths, parse_source
from healthspace.ingest.linking import ResourceChecker, prepare_unit
from healthspace.ingest.sources import SourceFile, read_source, source_from_bytes
from healthspace.vault.audit import AuditEvent
from healthspace.vault.store import RecordLookupOnConnection, Vault
from healthspace.vault.tables import SHARED_SPACE

Progress = Callable[[Path], None]


@dataclass
class ImportReport:
    """What a batch did; ``as_json`` gives the DESIGN.md shape plus details."""

    persons: list[str] = field(default_factory=list)
    imported: Counter[str] = field(default_factory=Counter)
    unchanged: int = 0
    files_imported: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    kept_references: int = 0

    @property
    def nothing_imported(self) -> bool:
        return self.files_imported == 0

    def as_json(self) -> dict[str, Any]:
        return {
            "person": self.persons[0] if len(self.persons) == 1 else None,
            "persons": self.persons,
            "imported": dict(sorted(self.imported.items())),
            "unchanged": self.unchanged,
            "files_imported": self.files_imported,
            "skipped": len(self.skipped),
            "skipped_items": self.skipped,
            "errors": self.errors,
            "references_kept_as_written": self.kept_references,
        }

    def add_error(self, error: ImportFailedError) -> None:
        for place, reason in [(error.place, error.reason), *error.others]:
            self.errors.append({"path": error.path, "place": place, "reason": reason})


def _type_rank(path: Path) -> tuple[int, str]:
    """Bulk Data files are named by type: import patients, then reference data, then the rest."""
    stem = path.name.split(".", 1)[0]
    if stem == "Patient":
        return (0, path.name)
    if stem in SHARED_TYPES:
        return (1, path.name)
    if stem == "Encounter":
        return (2, path.name)
    return (3, path.name)


class Importer:
    def __init__(
        self, vault: Vault, max_file_bytes: int, schema: ResourceChecker | None = None
    ) -> None:
        self._vault = vault
        self._limit = max_file_bytes
        self._schema = schema
        self._listeners: list[Callable[[set[str]], None]] = []

    def add_listener(self, listener: Callable[[set[str]], None]) -> None:
        """Call ``listener`` with the persons whose record a file changed, after it commits
        (the running app uses it to rebuild summaries in the background)."""
        self._listeners.append(listener)

    def import_paths(
        self,
        paths: Iterable[Path],
        actor: str,
        person: str | None = None,
        progress: Progress | None = None,
    ) -> ImportReport:
        report = ImportReport()
        files, ignored = expand_paths(paths)
        for path in ignored:
            report.skipped.append({"path": str(path), "place": "", "reason": "not a FHIR file"})
        files.sort(key=lambda p: (str(p.parent), *_type_rank(p)))
        persons: set[str] = set()
        deferred: list[tuple[Path, ImportFailedError]] = []
        for path in files:
            error = self._import_file(path, actor, person, report, persons)
            if error is not None and error.missing_references:
                deferred.append((path, error))
            elif error is not None:
                report.add_error(error)
            if progress:
                progress(path)
        while deferred:
            retry, deferred = deferred, []
            for path, _ in retry:
                error = self._import_file(path, actor, person, report, persons)
                if error is not None:
                    deferred.append((path, error))
            if len(deferred) == len(retry):
                break
        for _, error in deferred:
            report.add_error(error)
        report.persons = sorted(persons)
        return report

    def import_uploads(
        self,
        uploads: list[tuple[str, bytes]],
        actor: str,
        person: str | None = None,
        events: Sequence[AuditEvent] = (),
    ) -> ImportReport:
        """Import uploaded files' bytes (gzip allowed); names are used in messages only.

        ``events`` are audited in each file's own transaction: an act the write stands for (a
        signature) is then recorded if and only if the write is."""
        report = ImportReport()
        persons: set[str] = set()
        for name, data in uploads:

            def load(name: str = name, data: bytes = data) -> SourceFile:
                return source_from_bytes(Path(name), data, self._limit)

            error = self._import_file(Path(name), actor, person, report, persons, load, events)
            if error is not None:
                report.add_error(error)
        report.persons = sorted(persons)
        return report

    def _import_file(
        self,
        path: Path,
        actor: str,
        person: str | None,
        report: ImportReport,
        persons: set[str],
        load: Callable[[], SourceFile] | None = None,
        events: Sequence[AuditEvent] = (),
    ) -> ImportFailedError | None:
        with collector_paused():
            return self._import_file_unpaused(path, actor, person, report, persons, load, events)

    def _import_file_unpaused(
        self,
        path: Path,
        actor: str,
        person: str | None,
        report: ImportReport,
        persons: set[str],
        load: Callable[[], SourceFile] | None,
        events: Sequence[AuditEvent] = (),
    ) -> ImportFailedError | None:
        try:
            source = load() if load else read_source(path, self._limit)
            parsed = parse_source(source)
        except ImportFailedError as error:
            return error
        except NotFhirFile as note:
            report.skipped.append({"path": str(path), "place": "", "reason": str(note)})
            return None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return _unforeseen(path, exc)
        try:
            with self._vault.engine.begin() as connection:
                unit = prepare_unit(
                    parsed, RecordLookupOnConnection(connection), person, self._schema
                )
                result = self._vault.store(connection, actor, unit.resources)
                if events:
                    self._vault.audit.append(connection, list(events))
        except ImportFailedError as error:
            return error
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return _unforeseen(path, exc)
        report.files_imported += 1
        report.kept_references += unit.kept_references
        for skipped in parsed.skipped:
            report.skipped.append(
                {"path": str(path), "place": skipped.place, "reason": skipped.reason}
            )
        for (space, resource_type), count in (result.created + result.updated).items():
            report.imported[resource_type] += count
            if space != SHARED_SPACE:
                persons.add(space)
        changed = {space for space, _ in result.created + result.updated} - {SHARED_SPACE}
        if changed:
            for listener in self._listeners:
                listener(changed)
        report.unchanged += result.unchanged
        persons.update(s for s in {r.space for r in unit.resources} if s != SHARED_SPACE)
        return None


def _unforeseen(path: Path, exc: Exception) -> ImportFailedError:
    """Structure the checks did not foresee: reported for that file, never a crashed batch."""
    return ImportFailedError(
        str(path), "", f"has an unexpected structure ({type(exc).__name__}: {exc})"
    )
