"""The audit log: who read or changed which person's data, chained so tampering shows.

Each entry's MAC covers the previous entry's MAC and the entry's own fields, keyed with a key
derived from the master key: editing, inserting or deleting an entry breaks the chain, and the
head row catches a deleted tail. Entries hold ids, actions, resource types and counts, never a
name, a value or a file name, so they can outlive an erased person.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from healthspace.vault.tables import audit_head, audit_log

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEvent:
    """What happened; the chain adds the time, sequence number and MAC."""

    actor: str
    action: str
    person: str | None = None
    resource_type: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    person: str | None
    resource_type: str | None
    detail: str


@dataclass(frozen=True)
class AuditReport:
    entries: int
    valid: bool
    first_bad_seq: int | None
    reason: str


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _mac(key: bytes, previous: str, entry: AuditEntry) -> str:
    fields = (
        str(entry.seq),
        entry.at,
        entry.actor,
        entry.action,
        entry.person or "",
        entry.resource_type or "",
        entry.detail,
    )
    message = previous.encode() + b"\x1f" + "\x1f".join(fields).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


class AuditLog:
    """Appends to and verifies the chain. Appends happen inside the caller's transaction."""

    def __init__(self, mac_key: bytes) -> None:
        self._key = mac_key

    def append(self, connection: Connection, events: list[AuditEvent]) -> None:
        """Add events in order; the head row is locked so concurrent writers queue."""
        if not events:
            return
        head = connection.execute(
            select(audit_head.c.seq, audit_head.c.mac).where(audit_head.c.id == 1).with_for_update()
        ).one()
        seq, previous = head.seq, head.mac
        at = now_iso()
        rows = []
        for event in events:
            seq += 1
            entry = AuditEntry(
                seq, at, event.actor, event.action, event.person, event.resource_type, event.detail
            )
            previous = _mac(self._key, previous, entry)
            rows.append({**entry.__dict__, "mac": previous})
        connection.execute(insert(audit_log), rows)
        connection.execute(
            update(audit_head).where(audit_head.c.id == 1).values(seq=seq, mac=previous)
        )

    def entries(self, connection: Connection, person: str | None = None) -> Iterator[AuditEntry]:
        query = select(audit_log).order_by(audit_log.c.seq)
        if person is not None:
            query = query.where(audit_log.c.person == person)
        for row in connection.execute(query):
            yield AuditEntry(
                row.seq, row.at, row.actor, row.action, row.person, row.resource_type, row.detail
            )

    def verify(self, connection: Connection) -> AuditReport:
        """Recompute every MAC from the start; report the first entry that does not match."""
        previous, expected_seq, count = GENESIS, 1, 0
        for row in connection.execute(select(audit_log).order_by(audit_log.c.seq)):
            entry = AuditEntry(
                row.seq, row.at, row.actor, row.action, row.person, row.resource_type, row.detail
            )
            if row.seq != expected_seq:
                return AuditReport(count, False, expected_seq, f"entry {expected_seq} is missing")
            if not hmac.compare_digest(_mac(self._key, previous, entry), row.mac):
                return AuditReport(count, False, row.seq, f"entry {row.seq} was altered")
            previous, expected_seq, count = row.mac, expected_seq + 1, count + 1
        head = connection.execute(select(audit_head).where(audit_head.c.id == 1)).first()
        head_seq, head_mac = (head.seq, head.mac) if head else (-1, "")
        if head_seq != count or head_mac != previous:
            return AuditReport(
                count,
                False,
                min(count, head_seq) + 1,
                f"the chain ends at entry {count} but its head says {head_seq}: entries were "
                "deleted or added outside Healthspace",
            )
        return AuditReport(count, True, None, "the chain is intact")
