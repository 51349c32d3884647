"""The sealed summary cache: built on the first call, read after, gone with any change."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import func, select

from healthspace.bootstrap import Healthspace
from healthspace.clinician.summary_service import CACHE_KIND, cache_basis, summarize
from healthspace.demo.person import build_demo_bundle
from healthspace.vault.tables import derived, spaces

ACTOR = "test"


@pytest.fixture(scope="module")
def demo_bytes() -> bytes:
    return orjson.dumps(build_demo_bundle())


def _import(hs: Healthspace, data: bytes) -> str:
    report = hs.importer.import_uploads([("demo.json", data)], ACTOR)
    assert not report.errors, report.errors
    return report.persons[0]


def _cached_rows(hs: Healthspace, person: str) -> list[bytes]:
    with hs.vault.engine.connect() as connection:
        return [
            bytes(row.payload)
            for row in connection.execute(
                select(derived.c.payload).where(derived.c.space == person)
            )
        ]


def _texts(data: dict[str, object]) -> str:
    return orjson.dumps(data).decode()


def _a_problem(hs: Healthspace, person: str) -> tuple[str, str]:
    condition = next(
        c
        for c in hs.vault.resources(ACTOR, person, "Condition")
        if c.get("clinicalStatus", {}).get("coding", [{}])[0].get("code") == "active"
    )
    return str(condition["id"]), str(condition["code"]["coding"][0]["display"])


def test_the_second_call_reads_the_sealed_cache(hs: Healthspace, demo_bytes: bytes) -> None:
    person = _import(hs, demo_bytes)
    built = summarize(hs, ACTOR, person)
    rows = _cached_rows(hs, person)
    assert len(rows) == 1
    # Sealed: no line of the summary appears in the stored bytes.
    first_line = built["sections"][0]["items"][0]["text"]
    assert first_line.encode() not in rows[0] and b"sections" not in rows[0]

    again = summarize(hs, ACTOR, person)
    assert again == built == summarize(hs, ACTOR, person, cached=False)
    cached_reads = [e for e in hs.vault.audit_entries(ACTOR, person) if e.detail == "cached"]
    assert len(cached_reads) == 1 and cached_reads[0].resource_type == CACHE_KIND


def test_a_new_resource_invalidates_and_rebuilds(hs: Healthspace, demo_bytes: bytes) -> None:
    person = _import(hs, demo_bytes)
    before = summarize(hs, ACTOR, person)
    revision, _ = cache_basis(hs, person)
    condition = {
        "resourceType": "Condition",
        "id": "cache-test-gout",
        "subject": {"reference": f"Patient/{person}"},
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {"text": "Gout of the left big toe"},
        "onsetDateTime": "2026-01-02",
    }
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": condition}]}
    hs.importer.import_uploads([("more.json", orjson.dumps(bundle))], ACTOR, person=person)

    assert cache_basis(hs, person)[0] == revision + 1
    assert _cached_rows(hs, person) == []  # the store dropped the stale summary at once
    after = summarize(hs, ACTOR, person)
    assert "Gout of the left big toe" in _texts(after)
    assert "Gout of the left big toe" not in _texts(before)
    assert summarize(hs, ACTOR, person) == after


def test_a_deleted_resource_leaves_the_summary(hs: Healthspace, demo_bytes: bytes) -> None:
    person = _import(hs, demo_bytes)
    fhir_id, _ = _a_problem(hs, person)
    assert f"Condition/{fhir_id}" in _texts(summarize(hs, ACTOR, person))

    hs.vault.delete_resource(ACTOR, person, "Condition", fhir_id)

    assert _cached_rows(hs, person) == []
    assert f"Condition/{fhir_id}" not in _texts(summarize(hs, ACTOR, person))


def test_a_reimport_of_the_same_file_keeps_the_cache(hs: Healthspace, demo_bytes: bytes) -> None:
    person = _import(hs, demo_bytes)
    summarize(hs, ACTOR, person)
    revision, _ = cache_basis(hs, person)
    _import(hs, demo_bytes)  # nothing changes: no new revision, the cache stays
    assert cache_basis(hs, person)[0] == revision
    assert len(_cached_rows(hs, person)) == 1


def test_a_build_from_an_older_revision_is_not_cached(hs: Healthspace, demo_bytes: bytes) -> None:
    person = _import(hs, demo_bytes)
    revision, basis = cache_basis(hs, person)
    assert not hs.vault.write_derived(person, CACHE_KIND, revision - 1, basis, b"{}")
    assert hs.vault.write_derived(person, CACHE_KIND, revision, basis, b'{"sections": []}')
    assert hs.vault.read_derived(ACTOR, person, CACHE_KIND, basis) == b'{"sections": []}'
    assert hs.vault.read_derived(ACTOR, person, CACHE_KIND, basis + "x") is None


def test_erase_destroys_the_cache(hs: Healthspace, demo_bytes: bytes) -> None:
    person = _import(hs, demo_bytes)
    summarize(hs, ACTOR, person)
    assert len(_cached_rows(hs, person)) == 1
    hs.vault.erase(ACTOR, person)
    with hs.vault.engine.connect() as connection:
        left = connection.execute(
            select(func.count()).select_from(derived).where(derived.c.space == person)
        ).scalar_one()
        space = connection.execute(select(spaces.c.id).where(spaces.c.id == person)).first()
    assert left == 0 and space is None


def test_a_record_made_again_after_erase_never_repeats_a_revision(
    hs: Healthspace, demo_bytes: bytes
) -> None:
    """A summary built from the erased record (a background rebuild racing the erase) carries
    the old revision, which the new record under the same id never has."""
    person = _import(hs, demo_bytes)
    old_revision, basis = cache_basis(hs, person)
    hs.vault.erase(ACTOR, person)
    assert _import(hs, demo_bytes) == person
    new_revision, _ = cache_basis(hs, person)
    assert new_revision != old_revision
    assert not hs.vault.write_derived(person, CACHE_KIND, old_revision, basis, b'{"old": 1}')
