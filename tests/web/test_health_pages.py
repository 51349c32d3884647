"""The health pages in-process on both databases: the lab list with flags in words, a test's
chart (band, flagged points, table rows against the data), French dates and decimal commas,
interaction warnings on the medicines page, and the home's "Needs attention" panel."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from healthspace.api.app import create_app
from healthspace.bootstrap import Healthspace
from healthspace.patient.lab_service import read_person_labs
from healthspace.web.authorization import SESSION_COOKIE
from tests.factories import patient_bundle

PERSON = "hp-1"
# Fasting glucose in mmol/L; the catalog's adult range is 70-99 mg/dL (3.9-5.5 mmol/L).
GLUCOSE = (5.0, 6.5, 7.2, 4.8, 3.5)  # normal, high, high, normal, low
UCUM = "http://unitsofmeasure.org"


def _resource(bundle: dict[str, Any], resource: dict[str, Any]) -> None:
    resource_id = str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"hp/{resource['resourceType']}/{len(bundle['entry'])}")
    )
    resource = {**resource, "id": resource_id}
    bundle["entry"].append(
        {
            "fullUrl": f"urn:uuid:{resource_id}",
            "resource": resource,
            "request": {"method": "POST", "url": resource["resourceType"]},
        }
    )


def _medicine(bundle: dict[str, Any], name: str, status: str) -> None:
    patient = bundle["entry"][0]["fullUrl"]
    _resource(
        bundle,
        {
            "resourceType": "MedicationRequest",
            "status": status,
            "intent": "order",
            "subject": {"reference": patient},
            "medicationCodeableConcept": {"text": name},
            "authoredOn": "2024-03-01",
        },
    )


def _appointment(bundle: dict[str, Any], start: dt.datetime, description: str) -> None:
    patient = bundle["entry"][0]["fullUrl"]
    _resource(
        bundle,
        {
            "resourceType": "Appointment",
            "status": "booked",
            "description": description,
            "start": start.isoformat(timespec="seconds"),
            "end": (start + dt.timedelta(minutes=30)).isoformat(timespec="seconds"),
            "participant": [{"actor": {"reference": patient}, "status": "accepted"}],
        },
    )


def _hba1c(bundle: dict[str, Any], when: dt.datetime, percent: float) -> None:
    patient = bundle["entry"][0]["fullUrl"]
    _resource(
        bundle,
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
            "subject": {"reference": patient},
            "effectiveDateTime": when.isoformat(timespec="seconds"),
            "valueQuantity": {"value": percent, "unit": "%", "system": UCUM, "code": "%"},
        },
    )


@pytest.fixture
def client(hs: Healthspace) -> Iterator[TestClient]:
    bundle = patient_bundle(PERSON, glucose_values=GLUCOSE)
    _medicine(bundle, "Warfarin 5 mg tablet", "active")
    _medicine(bundle, "Ibuprofen 400 mg tablet", "active")
    _medicine(bundle, "Amoxicillin 500 mg capsule", "completed")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    _appointment(bundle, now + dt.timedelta(days=20), "Kidney clinic follow-up")
    _appointment(bundle, now - dt.timedelta(days=20), "Old eye check")
    _hba1c(bundle, now - dt.timedelta(days=10), 7.5)
    report = hs.importer.import_uploads([("hp.json", orjson.dumps(bundle))], "test")
    assert not report.errors, report.errors
    with TestClient(create_app(hs), raise_server_exceptions=False) as test_client:
        sign_in(test_client, hs)
        yield test_client


def sign_in(client: TestClient, hs: Healthspace) -> None:
    """A session for the owner of the record, as the login page would open it."""
    account = hs.accounts.create("test", "hp-owner", "a long test password", "person", None, PERSON)
    secret, _ = hs.accounts.open_session(account)
    client.cookies.set(SESSION_COOKIE, secret)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_lab_list_groups_tests_flags_the_latest_in_words_and_links_to_charts(
    client: TestClient,
) -> None:
    page = client.get(f"/persons/{PERSON}/labs")
    assert page.status_code == 200
    assert '<h2 id="group-diabetes">Blood sugar</h2>' in page.text
    # The latest glucose (3.5 mmol/L = 63.06 mg/dL) is low: said in words, not colour only.
    row = re.search(r'<tr class="out-of-range">.*?</tr>', page.text, re.S)
    assert row is not None
    assert "Fasting glucose" in row.group(0) and ">Low</span>" in row.group(0)
    assert "63.06 mg/dL" in row.group(0) and "70–99 mg/dL" in row.group(0)
    assert f'href="/persons/{PERSON}/labs/1558-6"' in row.group(0)
    assert "5 results" in _text(row.group(0))
    missing = client.get(f"/persons/{PERSON}/labs/9999-9")
    assert missing.status_code == 404 and "9999-9" in missing.text


def test_chart_has_band_flagged_points_and_one_table_row_per_point(
    client: TestClient, hs: Healthspace
) -> None:
    page = client.get(f"/persons/{PERSON}/labs/1558-6").text
    svg = re.search(r"<svg .*?</svg>", page, re.S)
    assert svg is not None
    chart = svg.group(0)
    assert 'role="img"' in chart and 'aria-label="Fasting glucose: 5 results' in chart
    assert chart.count('class="chart-band"') == 1

    results = [r for r in read_person_labs(hs, "test", PERSON).results if r.code == "1558-6"]
    flagged = [r for r in results if r.flag in ("low", "high", "critical")]
    assert len(flagged) == 3  # the data says 2 high, 1 low
    assert chart.count("<polygon") == len(flagged)
    assert chart.count('class="chart-flag chart-flag-high"') == 2
    assert chart.count('class="chart-flag chart-flag-low"') == 1
    assert chart.count('<circle class="chart-point"') == len(results) - len(flagged)

    table = re.search(r'<table class="labs-table chart-table">.*?</table>', page, re.S)
    assert table is not None
    assert table.group(0).count("<tr") - 1 == len(GLUCOSE)  # minus the header row
    assert _text(table.group(0)).count(" High ") == 2
    # The explanation and its sources (publisher, link, review date) follow.
    assert "What this result means" in page and 'class="sources"' in page
    assert re.search(r"MedlinePlus[^<]*: <a href=\"https://medlineplus.gov/", page)
    assert "(reviewed " in page


def test_french_chart_page_has_french_dates_and_decimal_commas(client: TestClient) -> None:
    page = client.get(f"/persons/{PERSON}/labs/1558-6?lang=fr").text
    assert '<html lang="fr">' in page
    assert "15/05/2024" in page and "63,06 mg/dL" in page
    assert "63.06" not in _text(page)
    assert "Bas" in page and "Ce que signifie ce résultat" in page


def test_medicines_page_warns_of_interactions_first(client: TestClient) -> None:
    page = client.get(f"/persons/{PERSON}/medicines").text
    warnings = page.index('id="interactions-heading"')
    assert warnings < page.index('id="current-heading"') < page.index('id="past-heading"')
    section = page[warnings : page.index('id="current-heading"')]
    assert re.search(
        r">Major</span>\s*<strong>(ibuprofen \+ warfarin|warfarin \+ ibuprofen)<", section
    )
    assert "dailymed.nlm.nih.gov" in section
    past = page[page.index('id="past-heading"') :]
    assert "Amoxicillin 500 mg capsule" in past and "Warfarin" not in past


def test_needs_attention_lists_a_coming_appointment_not_a_past_one(client: TestClient) -> None:
    page = client.get(f"/persons/{PERSON}").text
    start = page.index('id="attention-heading"')
    panel = page[start : page.index("</section>", start)]
    assert "Kidney clinic follow-up" in panel and "Old eye check" not in panel
    assert re.search(
        r">Major</span>\s*<a [^>]+>(ibuprofen \+ warfarin|warfarin \+ ibuprofen)<", panel
    )
    # The recent HbA1c is out of range and links to its chart; the 2024 glucose is history.
    results = panel[
        panel.index('id="attention-results"') : panel.index('id="attention-interactions"')
    ]
    assert f'href="/persons/{PERSON}/labs/4548-4"' in results and ">High</span>" in results
    assert "Fasting glucose" not in results
    changes = panel[panel.index('id="attention-changes"') :]
    assert "Hemoglobin A1c" in changes or "4548-4" in changes
    assert "Kidney clinic" not in changes  # a future appointment is not a change that happened
    # The person's sub-navigation, and each lab row of the timeline leads to its chart.
    assert f'href="/persons/{PERSON}/labs"' in page
    assert page.count(f'class="explain-link" href="/persons/{PERSON}/labs/1558-6"') == 5
