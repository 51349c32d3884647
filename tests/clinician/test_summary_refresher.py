"""The running app rebuilds a person's summary after an import, so the next one is a cache hit."""

from __future__ import annotations

import orjson

from healthspace.bootstrap import Healthspace
from healthspace.clinician.summary_refresher import REFRESH_ACTOR, SummaryRefresher
from healthspace.clinician.summary_service import build_summary, summarize
from tests.factories import patient_bundle


def _import(hs: Healthspace, person: str, values: tuple[float, ...]) -> None:
    bundle = patient_bundle(person, glucose_values=values)
    report = hs.importer.import_uploads([(f"{person}.json", orjson.dumps(bundle))], "test")
    assert not report.errors


def _last_summary_read(hs: Healthspace, person: str) -> tuple[str, str]:
    entries = [e for e in hs.vault.audit_entries("test", person) if e.resource_type == "summary"]
    return entries[-1].actor, entries[-1].detail


def test_an_import_is_followed_by_a_background_rebuild(hs: Healthspace) -> None:
    refresher = SummaryRefresher(hs)
    hs.importer.add_listener(refresher.schedule)
    _import(hs, "p-refresh", (5.4,))
    assert refresher.wait_idle(timeout=60)
    # The refresher's own read is audited under its name...
    actors = {e.actor for e in hs.vault.audit_entries("test", "p-refresh")}
    assert REFRESH_ACTOR in actors
    # ...and the next summary is read from the cache, equal to one built from the record.
    summary = summarize(hs, "reader", "p-refresh")
    assert _last_summary_read(hs, "p-refresh") == ("reader", "cached")
    assert summary == build_summary(hs, "reader", "p-refresh")
    # A change drops the cache and the refresher builds the new one, with the new value.
    february = "2024-02-15T08:00:00+01:00"
    assert february not in orjson.dumps(summary).decode()
    _import(hs, "p-refresh", (5.4, 9.9))
    assert refresher.wait_idle(timeout=60)
    assert summarize(hs, "reader", "p-refresh") == build_summary(hs, "reader", "p-refresh")
    assert _last_summary_read(hs, "p-refresh")[1] == "cached"
    assert february in orjson.dumps(summarize(hs, "reader", "p-refresh")).decode()


def test_without_a_refresher_the_first_summary_is_built(hs: Healthspace) -> None:
    _import(hs, "p-plain", (5.4,))
    summarize(hs, "reader", "p-plain")
    entries = [e.detail for e in hs.vault.audit_entries("test", "p-plain") if e.actor == "reader"]
    assert "cached" not in entries
