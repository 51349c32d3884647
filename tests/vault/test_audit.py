"""The audit chain records every access and detects any edited, inserted or deleted entry."""

from __future__ import annotations

import orjson
from sqlalchemy import text

from healthspace.bootstrap import Healthspace
from tests.factories import patient_bundle


def _populate(hs: Healthspace) -> str:
    report = hs.importer.import_uploads(
        [("a.json", orjson.dumps(patient_bundle("audit-1", glucose_values=(5.0, 6.0))))], "alice"
    )
    person = report.persons[0]
    hs.vault.resources("bob", person, "Observation")
    hs.vault.export("carol", person)
    return person


def test_reads_and_writes_are_recorded_with_actor_action_and_type(hs: Healthspace) -> None:
    person = _populate(hs)
    entries = hs.vault.audit_entries("auditor", person)
    seen = {(e.actor, e.action, e.resource_type) for e in entries}
    assert ("alice", "create", "Patient") in seen
    assert ("alice", "create", "Observation") in seen
    assert ("bob", "read", "Observation") in seen
    assert ("carol", "export", "Observation") in seen
    assert all(e.at.endswith("+00:00") for e in entries)
    assert hs.vault.verify_audit().valid


def test_audit_holds_no_identifying_detail(hs: Healthspace) -> None:
    _populate(hs)
    with hs.vault.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM audit_log")).all()
    dump = repr(rows)
    assert "Testperson" not in dump and "1970-01-01" not in dump and "a.json" not in dump


def test_edited_entry_is_detected(hs: Healthspace) -> None:
    _populate(hs)
    with hs.vault.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"))
    report = hs.vault.verify_audit()
    assert not report.valid and report.first_bad_seq == 2


def test_deleted_middle_entry_is_detected(hs: Healthspace) -> None:
    _populate(hs)
    with hs.vault.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    report = hs.vault.verify_audit()
    assert not report.valid and report.first_bad_seq == 3


def test_deleted_tail_is_detected(hs: Healthspace) -> None:
    _populate(hs)
    with hs.vault.engine.begin() as connection:
        last = connection.execute(text("SELECT max(seq) FROM audit_log")).scalar()
        connection.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": last})
    assert not hs.vault.verify_audit().valid


def test_recomputed_plain_hash_cannot_forge_an_entry(hs: Healthspace) -> None:
    """The chain is keyed: rewriting an entry and its MAC without the key still fails."""
    _populate(hs)
    import hashlib

    with hs.vault.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_log SET action = 'read', mac = :m WHERE seq = 1"),
            {"m": hashlib.sha256(b"forged").hexdigest()},
        )
    assert not hs.vault.verify_audit().valid


def test_concurrent_writers_keep_one_unbroken_chain(hs: Healthspace) -> None:
    """Threads importing and reading at once: every access is audited, the chain verifies."""
    from concurrent.futures import ThreadPoolExecutor

    def work(index: int) -> None:
        person = f"conc-{index}"
        data = orjson.dumps(patient_bundle(person, glucose_values=(5.0 + index,)))
        hs.importer.import_uploads([(f"{person}.json", data)], f"worker-{index}")
        for _ in range(3):
            hs.vault.resources(f"worker-{index}", person)

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(work, range(12)))
    report = hs.vault.verify_audit()
    assert report.valid, report.reason
    with hs.vault.engine.connect() as connection:
        reads = connection.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'read'")
        ).scalar()
    assert reads == 12 * 3 * 2  # Patient and Observation read, three times, by twelve workers
