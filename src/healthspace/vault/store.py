"""The vault service: store, read, export and erase a person's resources, auditing each access.

Every public method runs in one transaction that includes its audit entries, so an access that
cannot be audited does not happen. Payloads are sealed with the space's data key.
"""

from __future__ import annotations

import secrets
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from healthspace.errors import NotFoundError
from healthspace.ingest.linking import Key, PreparedResource
from healthspace.vault.audit import AuditEntry, AuditEvent, AuditLog, AuditReport, now_iso
from healthspace.vault.keys import DataKey, MasterKey, new_data_key
from healthspace.vault.tables import SHARED_SPACE, derived, resource_history, resources, spaces

_CHUNK = 500
EXPORT_BASE = "http://healthspace.localhost/fhir"


@dataclass(frozen=True)
class PersonSummary:
    id: str
    name: str | None
    birth_date: str | None
    resources: int


@dataclass(frozen=True)
class ResourceVersion:
    """One stored version of a resource (``Vault.resource_versions``)."""

    version: int
    updated_at: str
    resource: dict[str, Any]


@dataclass(frozen=True)
class StoreResult:
    """Counts by space and type of what one file added, changed, or left as it was."""

    created: Counter[tuple[str, str]]
    updated: Counter[tuple[str, str]]
    unchanged: int


def _context(space: str, resource_type: str, fhir_id: str) -> bytes:
    # Binds each ciphertext to its row: a payload moved to another person does not decrypt.
    return f"{space}/{resource_type}/{fhir_id}".encode()


def _chunks(items: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _by_type(keys: Iterable[Key]) -> Iterator[tuple[str, list[str]]]:
    """Keys grouped by type, in chunks: ``type = ? AND fhir_id IN (...)`` uses the indexes on
    both databases, where a row-value IN of (type, id) pairs made SQLite scan."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for resource_type, fhir_id in keys:
        grouped[resource_type].append(fhir_id)
    for resource_type, ids in sorted(grouped.items()):
        for chunk in _chunks(sorted(set(ids))):
            yield resource_type, chunk


def patient_profile(patient: dict[str, Any]) -> dict[str, str | None]:
    """The name and birth date shown in person lists (sealed like everything else)."""
    names = patient.get("name") or []
    chosen = next((n for n in names if n.get("use") == "official"), names[0] if names else None)
    name = None
    if isinstance(chosen, dict):
        name = (
            chosen.get("text")
            or " ".join([*chosen.get("given", []), chosen.get("family", "")]).strip()
            or None
        )
    return {"name": name, "birth_date": patient.get("birthDate")}


class RecordLookupOnConnection:
    """``linking.RecordLookup`` answered from the database, inside the import's transaction."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def spaces_of_patients(self, patient_ids: set[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(patient_ids)):
            rows = self._connection.execute(
                select(resources.c.fhir_id, resources.c.space).where(
                    resources.c.resource_type == "Patient", resources.c.fhir_id.in_(chunk)
                )
            )
            found.update({row.fhir_id: row.space for row in rows})
        return found

    def existing(self, keys: set[Key], spaces_: set[str]) -> set[tuple[str, str, str]]:
        found: set[tuple[str, str, str]] = set()
        for resource_type, ids in _by_type(keys):
            rows = self._connection.execute(
                select(resources.c.space, resources.c.resource_type, resources.c.fhir_id).where(
                    resources.c.resource_type == resource_type,
                    resources.c.fhir_id.in_(ids),
                    resources.c.space.in_(sorted(spaces_)),
                )
            )
            found.update((row.space, row.resource_type, row.fhir_id) for row in rows)
        return found

    def space_exists(self, space: str) -> bool:
        return (
            self._connection.execute(select(spaces.c.id).where(spaces.c.id == space)).first()
            is not None
        )


class Vault:
    """The record store. One instance per process; data keys are cached once unwrapped."""

    def __init__(self, engine: Engine, master_key: MasterKey) -> None:
        self.engine = engine
        self._master = master_key
        self._keys: dict[str, DataKey] = {}
        self.audit = AuditLog(master_key.audit_mac_key())

    # -- keys and spaces -------------------------------------------------------------------

    def _key(self, connection: Connection, space: str) -> DataKey:
        key = self._keys.get(space)
        if key is None:
            row = connection.execute(
                select(spaces.c.wrapped_key).where(spaces.c.id == space)
            ).first()
            if row is None:
                raise NotFoundError(
                    f"No person with id {space!r}. List them with: healthspace persons"
                )
            key = self._master.unwrap(row.wrapped_key, space)
            self._keys[space] = key
        return key

    def _ensure_space(self, connection: Connection, space: str) -> tuple[DataKey, bool]:
        """The space's key, and whether the space was created just now (so holds nothing)."""
        exists = connection.execute(select(spaces.c.id).where(spaces.c.id == space)).first()
        if exists is None:
            key = new_data_key()
            connection.execute(
                insert(spaces).values(
                    id=space,
                    kind="shared" if space == SHARED_SPACE else "person",
                    wrapped_key=self._master.wrap(key, space),
                    created_at=now_iso(),
                    # A random start, not 0: a record erased and made again under the same id
                    # never repeats an old revision, so a summary built from the erased record
                    # while it was being erased cannot be cached as the new one's.
                    revision=secrets.randbelow(1 << 30),
                )
            )
            self._keys[space] = key
            return key, True
        return self._key(connection, space), False

    def _require_person(self, connection: Connection, person: str) -> DataKey:
        if person == SHARED_SPACE:
            raise NotFoundError(f"No person with id {person!r}.")
        return self._key(connection, person)

    # -- writing -----------------------------------------------------------------------------

    def store(
        self, connection: Connection, actor: str, items: list[PreparedResource]
    ) -> StoreResult:
        """Insert new resources, version changed ones, skip identical ones; audit by type."""
        by_space: dict[str, list[PreparedResource]] = defaultdict(list)
        for item in items:
            by_space[item.space].append(item)
        created: Counter[tuple[str, str]] = Counter()
        updated: Counter[tuple[str, str]] = Counter()
        unchanged = 0
        at = now_iso()
        for space, group in by_space.items():
            key, is_new = self._ensure_space(connection, space)
            for chunk in _chunks(group):
                existing = {} if is_new else self._stored_rows(connection, space, chunk)
                new_rows = []
                for item in chunk:
                    sealed_context = _context(space, item.resource_type, item.fhir_id)
                    old = existing.get((item.resource_type, item.fhir_id))
                    if old is None:
                        new_rows.append(
                            {
                                "space": space,
                                "resource_type": item.resource_type,
                                "fhir_id": item.fhir_id,
                                "version": 1,
                                "payload": key.seal(item.payload, sealed_context),
                                "updated_at": at,
                            }
                        )
                        created[(space, item.resource_type)] += 1
                    elif _same_content(key.open(old.payload, sealed_context), item.payload):
                        unchanged += 1
                    else:
                        self._new_version(connection, key, space, item, old, at)
                        updated[(space, item.resource_type)] += 1
                if new_rows:
                    connection.execute(insert(resources), new_rows)
            patients = [i for i in group if i.resource_type == "Patient"]
            if patients and space != SHARED_SPACE:
                profile = patient_profile(orjson.loads(patients[-1].payload))
                connection.execute(
                    update(spaces)
                    .where(spaces.c.id == space)
                    .values(profile=key.seal(orjson.dumps(profile), b"profile:" + space.encode()))
                )
        for space in sorted({s for s, _ in created} | {s for s, _ in updated}):
            self._changed(connection, space)
        events = [
            AuditEvent(actor, "create", _person(space), rtype, f"count={n}")
            for (space, rtype), n in sorted(created.items())
        ] + [
            AuditEvent(actor, "update", _person(space), rtype, f"count={n}")
            for (space, rtype), n in sorted(updated.items())
        ]
        self.audit.append(connection, events)
        return StoreResult(created, updated, unchanged)

    def _stored_rows(
        self, connection: Connection, space: str, items: list[PreparedResource]
    ) -> dict[Key, Any]:
        """The rows already stored for these resources of a space, by (type, id)."""
        found: dict[Key, Any] = {}
        for resource_type, ids in _by_type((i.resource_type, i.fhir_id) for i in items):
            rows = connection.execute(
                select(
                    resources.c.pk,
                    resources.c.resource_type,
                    resources.c.fhir_id,
                    resources.c.version,
                    resources.c.payload,
                    resources.c.updated_at,
                ).where(
                    resources.c.space == space,
                    resources.c.resource_type == resource_type,
                    resources.c.fhir_id.in_(ids),
                )
            )
            found.update({(row.resource_type, row.fhir_id): row for row in rows})
        return found

    def _new_version(
        self,
        connection: Connection,
        key: DataKey,
        space: str,
        item: PreparedResource,
        old: Any,
        at: str,
    ) -> None:
        """Keep the previous version in history; nothing is silently overwritten."""
        connection.execute(
            insert(resource_history).values(
                space=space,
                resource_type=item.resource_type,
                fhir_id=item.fhir_id,
                version=old.version,
                payload=old.payload,
                updated_at=old.updated_at,
            )
        )
        connection.execute(
            update(resources)
            .where(resources.c.pk == old.pk)
            .values(
                version=old.version + 1,
                payload=key.seal(item.payload, _context(space, item.resource_type, item.fhir_id)),
                updated_at=at,
            )
        )

    # -- reading ------------------------------------------------------------------------------

    def persons(self, actor: str, only: Iterable[str] | None = None) -> list[PersonSummary]:
        """Every person, or only those in ``only`` (the ones a caller may see): only the
        persons listed are decrypted and audited."""
        wanted = None if only is None else set(only)
        if wanted is not None and not wanted:
            return []
        with self.engine.begin() as connection:
            counts: dict[str, int] = dict(
                connection.execute(
                    select(resources.c.space, func.count()).group_by(resources.c.space)
                ).all()
            )
            result = []
            query = select(spaces.c.id, spaces.c.profile).where(spaces.c.kind == "person")
            if wanted is not None:
                query = query.where(spaces.c.id.in_(sorted(wanted)))
            rows = connection.execute(query.order_by(spaces.c.id)).all()
            for row in rows:
                profile: dict[str, Any] = {}
                if row.profile is not None:
                    key = self._key(connection, row.id)
                    profile = orjson.loads(key.open(row.profile, b"profile:" + row.id.encode()))
                result.append(
                    PersonSummary(
                        row.id,
                        profile.get("name"),
                        profile.get("birth_date"),
                        counts.get(row.id, 0),
                    )
                )
            self.audit.append(
                connection,
                [AuditEvent(actor, "read", p.id, "Patient", "person list") for p in result],
            )
        return result

    def resources(
        self, actor: str, person: str, resource_type: str | None = None
    ) -> list[dict[str, Any]]:
        with self.engine.begin() as connection:
            found = list(self._read(connection, person, resource_type))
            counts = Counter(r["resourceType"] for r in found)
            self.audit.append(
                connection,
                [
                    AuditEvent(actor, "read", person, t, f"count={n}")
                    for t, n in sorted(counts.items())
                ]
                or [AuditEvent(actor, "read", person, resource_type, "count=0")],
            )
        return found

    def resource(self, actor: str, person: str, resource_type: str, fhir_id: str) -> dict[str, Any]:
        with self.engine.begin() as connection:
            key = self._require_person(connection, person)
            row = connection.execute(
                select(resources.c.payload).where(
                    resources.c.space == person,
                    resources.c.resource_type == resource_type,
                    resources.c.fhir_id == fhir_id,
                )
            ).first()
            if row is None:
                raise NotFoundError(f"{resource_type}/{fhir_id} is not in this person's record.")
            self.audit.append(
                connection, [AuditEvent(actor, "read", person, resource_type, "count=1")]
            )
            return dict(
                orjson.loads(key.open(row.payload, _context(person, resource_type, fhir_id)))
            )

    def _read(
        self, connection: Connection, space: str, resource_type: str | None
    ) -> Iterator[dict[str, Any]]:
        key = (
            self._require_person(connection, space)
            if space != SHARED_SPACE
            else self._key(connection, space)
        )
        query = select(resources.c.resource_type, resources.c.fhir_id, resources.c.payload).where(
            resources.c.space == space
        )
        if resource_type:
            query = query.where(resources.c.resource_type == resource_type)
        for row in connection.execute(query.order_by(resources.c.pk)):
            yield orjson.loads(
                key.open(row.payload, _context(space, row.resource_type, row.fhir_id))
            )

    def _read_shared(self, connection: Connection, keys: Iterable[Key]) -> list[dict[str, Any]]:
        wanted = set(keys)
        if not wanted:
            return []
        exists = connection.execute(select(spaces.c.id).where(spaces.c.id == SHARED_SPACE)).first()
        if exists is None:
            return []
        key = self._key(connection, SHARED_SPACE)
        found: list[dict[str, Any]] = []
        for resource_type, ids in _by_type(wanted):
            rows = connection.execute(
                select(resources.c.resource_type, resources.c.fhir_id, resources.c.payload)
                .where(
                    resources.c.space == SHARED_SPACE,
                    resources.c.resource_type == resource_type,
                    resources.c.fhir_id.in_(ids),
                )
                .order_by(resources.c.pk)
            )
            found.extend(
                orjson.loads(
                    key.open(r.payload, _context(SHARED_SPACE, r.resource_type, r.fhir_id))
                )
                for r in rows
            )
        return found

    def export(self, actor: str, person: str) -> dict[str, Any]:
        """A collection Bundle of the person's record plus the reference data it points to."""
        from healthspace.ingest.linking import referenced_keys

        with self.engine.begin() as connection:
            own = list(self._read(connection, person, None))
            shared = self._read_shared(connection, referenced_keys(own))
            # Reference data can point to more reference data (PractitionerRole → Organization).
            seen = {(r["resourceType"], r["id"]) for r in shared}
            while True:
                more = [k for k in referenced_keys(shared) if k not in seen]
                extra = self._read_shared(connection, more)
                if not extra:
                    break
                seen.update((r["resourceType"], r["id"]) for r in extra)
                shared.extend(extra)
            counts = Counter(r["resourceType"] for r in own)
            self.audit.append(
                connection,
                [
                    AuditEvent(actor, "export", person, t, f"count={n}")
                    for t, n in sorted(counts.items())
                ]
                or [AuditEvent(actor, "export", person, None, "count=0")],
            )
        return {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": now_iso(),
            "entry": [
                {"fullUrl": f"{EXPORT_BASE}/{r['resourceType']}/{r['id']}", "resource": r}
                for r in [*own, *shared]
            ],
        }

    def delete_resource(self, actor: str, person: str, resource_type: str, fhir_id: str) -> None:
        """Remove one resource and its earlier versions from a person's record (audited)."""
        with self.engine.begin() as connection:
            self._require_person(connection, person)
            removed = connection.execute(
                delete(resources).where(
                    resources.c.space == person,
                    resources.c.resource_type == resource_type,
                    resources.c.fhir_id == fhir_id,
                )
            ).rowcount
            if not removed:
                raise NotFoundError(f"{resource_type}/{fhir_id} is not in this person's record.")
            self._changed(connection, person)
            connection.execute(
                delete(resource_history).where(
                    resource_history.c.space == person,
                    resource_history.c.resource_type == resource_type,
                    resource_history.c.fhir_id == fhir_id,
                )
            )
            self.audit.append(
                connection, [AuditEvent(actor, "delete", person, resource_type, "count=1")]
            )

    # -- erasing -------------------------------------------------------------------------------

    def erase(self, actor: str, person: str) -> int:
        """Destroy the person's data key and delete their rows; the audit keeps counts only."""
        with self.engine.begin() as connection:
            self._require_person(connection, person)
            removed = connection.execute(
                delete(resources).where(resources.c.space == person)
            ).rowcount
            connection.execute(delete(resource_history).where(resource_history.c.space == person))
            connection.execute(delete(derived).where(derived.c.space == person))
            connection.execute(delete(spaces).where(spaces.c.id == person))
            self.audit.append(
                connection, [AuditEvent(actor, "erase", person, None, f"count={removed}")]
            )
        self._keys.pop(person, None)
        if self.engine.dialect.name == "sqlite":
            # Move the WAL's copies of erased pages into the (scrubbed) database file.
            raw = self.engine.raw_connection()
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
        return int(removed)

    # -- derived caches ---------------------------------------------------------------------------
    # A view's result (the patient summary) sealed with the space's key. Any change to the space
    # bumps its revision and deletes its cached results, so none outlives the data it shows.

    def _changed(self, connection: Connection, space: str) -> None:
        connection.execute(
            update(spaces).where(spaces.c.id == space).values(revision=spaces.c.revision + 1)
        )
        connection.execute(delete(derived).where(derived.c.space == space))

    def revisions(self, *spaces_: str) -> dict[str, int]:
        """Each space's revision; 0 for a space that does not exist (yet)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(spaces.c.id, spaces.c.revision).where(spaces.c.id.in_(spaces_))
            ).all()
            connection.rollback()
        found = {row.id: int(row.revision) for row in rows}
        return {space: found.get(space, 0) for space in spaces_}

    def read_derived(self, actor: str, person: str, kind: str, basis: str) -> bytes | None:
        """The cached ``kind`` built from ``basis``, audited as a read; None when absent/stale."""
        with self.engine.begin() as connection:
            key = self._require_person(connection, person)
            row = connection.execute(
                select(derived.c.payload).where(
                    derived.c.space == person, derived.c.kind == kind, derived.c.basis == basis
                )
            ).first()
            if row is None:
                return None
            self.audit.append(connection, [AuditEvent(actor, "read", person, kind, "cached")])
            return key.open(row.payload, _derived_context(person, kind))

    def write_derived(
        self, person: str, kind: str, revision: int, basis: str, payload: bytes
    ) -> bool:
        """Cache ``payload`` unless the record changed since ``revision`` was read."""
        with self.engine.begin() as connection:
            key = self._require_person(connection, person)
            # The space's row lock (PostgreSQL; SQLite's writer lock) orders this after or
            # before any change to the record, and between two writers of the same cache.
            current = connection.execute(
                select(spaces.c.revision).where(spaces.c.id == person).with_for_update()
            ).scalar_one()
            if current != revision:
                return False
            connection.execute(
                delete(derived).where(derived.c.space == person, derived.c.kind == kind)
            )
            connection.execute(
                insert(derived).values(
                    space=person,
                    kind=kind,
                    revision=revision,
                    basis=basis,
                    payload=key.seal(payload, _derived_context(person, kind)),
                    updated_at=now_iso(),
                )
            )
        return True

    # -- versions (added for clinician drafts: clinician/drafts/service.py) ------------------

    def resource_versions(
        self, actor: str, person: str, resource_type: str, fhir_id: str
    ) -> list[ResourceVersion]:
        """Every stored version of one resource, oldest first, the current one last (audited)."""
        with self.engine.begin() as connection:
            key = self._require_person(connection, person)
            where = (
                (resource_history.c.space == person)
                & (resource_history.c.resource_type == resource_type)
                & (resource_history.c.fhir_id == fhir_id)
            )
            rows = list(
                connection.execute(
                    select(
                        resource_history.c.version,
                        resource_history.c.payload,
                        resource_history.c.updated_at,
                    )
                    .where(where)
                    .order_by(resource_history.c.version)
                )
            )
            current = connection.execute(
                select(resources.c.version, resources.c.payload, resources.c.updated_at).where(
                    resources.c.space == person,
                    resources.c.resource_type == resource_type,
                    resources.c.fhir_id == fhir_id,
                )
            ).first()
            if current is None:
                raise NotFoundError(f"{resource_type}/{fhir_id} is not in this person's record.")
            rows.append(current)
            context = _context(person, resource_type, fhir_id)
            found = [
                ResourceVersion(
                    row.version, row.updated_at, orjson.loads(key.open(row.payload, context))
                )
                for row in rows
            ]
            self.audit.append(
                connection,
                [AuditEvent(actor, "read-history", person, resource_type, f"count={len(found)}")],
            )
        return found

    # -- audit ----------------------------------------------------------------------------------

    def record_event(
        self,
        actor: str,
        action: str,
        person: str | None,
        resource_type: str | None = None,
        detail: str = "",
    ) -> None:
        """Audit something that is not a read or write of resources: a refused access, a
        signature, a consent given or revoked. Its own transaction: it is kept even when the
        request that caused it fails."""
        with self.engine.begin() as connection:
            self.audit.append(
                connection, [AuditEvent(actor, action, person, resource_type, detail[:256])]
            )

    def audit_entries(self, actor: str, person: str | None) -> list[AuditEntry]:
        with self.engine.begin() as connection:
            entries = list(self.audit.entries(connection, person))
            self.audit.append(connection, [AuditEvent(actor, "read-audit", person, None, "")])
        return entries

    def verify_audit(self) -> AuditReport:
        with self.engine.begin() as connection:
            return self.audit.verify(connection)


def _same_content(stored: bytes, incoming: bytes) -> bool:
    """Byte-equal is the common case (a re-import); else compare as JSON, ignoring key order."""
    return stored == incoming or orjson.loads(stored) == orjson.loads(incoming)


def _derived_context(space: str, kind: str) -> bytes:
    return f"derived:{space}/{kind}".encode()


def _person(space: str) -> str | None:
    return None if space == SHARED_SPACE else space
