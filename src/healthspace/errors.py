"""Every error Healthspace raises on purpose, each with a message a person can act on.

HealthspaceError
├── ConfigurationError        the data folder, key or database cannot be used
├── NotFoundError             an unknown person or resource
├── ImportFailedError         a file could not be imported (carries path, place, reason)
├── KeyDestroyedError         data whose key was erased (crypto-shredded)
├── AuditIntegrityError       the audit chain does not verify
└── AccessDeniedError         the actor may not see this person's data

Subclasses live beside the code that raises them (each names its parent), for example
terminology.labs.UnknownUnitError, terminology.medicines.UnknownMedicineClassError,
patient.memory.StatementNotUnderstoodError, knowledge.search.engine.EmbeddingsNotInstalledError.

The surfaces translate these: the CLI prints the message on stderr with a non-zero exit code,
the API answers with problem JSON. Anything else reaching a surface is a bug.
"""

from __future__ import annotations


class HealthspaceError(Exception):
    """Base class: ``str(error)`` is the message shown to the user."""

    http_status = 500


class ConfigurationError(HealthspaceError):
    http_status = 500


class NotFoundError(HealthspaceError):
    http_status = 404


class ImportFailedError(HealthspaceError):
    """A file, or a place in it, that cannot be imported; nothing of the file was stored."""

    http_status = 422

    def __init__(
        self, path: str, place: str, reason: str, others: list[tuple[str, str]] | None = None
    ) -> None:
        self.path = path
        self.place = place
        self.reason = reason
        # Further (place, reason) problems found in the same file.
        self.others = others or []
        # True when every problem is a reference to something not stored yet: the importer
        # retries such a file after the rest of its batch.
        self.missing_references = False
        where = f"{path} at {place}" if place else path
        more = f" (and {len(self.others)} more problems)" if self.others else ""
        super().__init__(f"{where}: {reason}{more}")


class KeyDestroyedError(HealthspaceError):
    http_status = 410


class AuditIntegrityError(HealthspaceError):
    http_status = 500


class AccessDeniedError(HealthspaceError):
    http_status = 403
