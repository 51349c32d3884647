"""Properties of the importer over generated input: it never crashes, whatever the bytes; a bad
file is reported with its path, place and reason and leaves nothing; a valid file always goes in
whole, once, in either of its FHIR forms (Bundle or NDJSON)."""

from __future__ import annotations

import gzip
import uuid
from typing import Any

import orjson
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from healthspace.bootstrap import Healthspace
from healthspace.ingest.importer import ImportReport
from healthspace.vault.tables import resources


def reusing_the_vault(max_examples: int) -> settings:
    """One Healthspace per test serves every example: each example's data stays apart by its
    ids, and the properties hold whatever an earlier example stored."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


NAMES = st.sampled_from(["x.json", "x.ndjson", "x.json.gz", "x.ndjson.gz"])


def _stored(hs: Healthspace) -> int:
    with hs.vault.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(resources)).scalar_one())


def _assert_imported_or_clearly_refused(report: ImportReport, name: str) -> None:
    event("refused" if report.errors else "imported" if report.imported else "nothing to store")
    if report.errors:
        assert report.files_imported == 0 and not report.imported
        for error in report.errors:
            assert error["path"] == name
            assert isinstance(error["place"], str)
            assert isinstance(error["reason"], str) and error["reason"].strip()
    else:
        assert report.files_imported == 1 or report.skipped


# -- (a) arbitrary bytes --------------------------------------------------------------------------

# Single bytes that matter to a JSON parser (NUL, invalid UTF-8, a BOM's first byte) and tokens.
JSON_TOKENS = [bytes([byte]) for byte in b'{}[],:"\\\n \x00\xff\xc3\xef'] + [
    b'"resourceType"', b'"Patient"', b'"Bundle"', b'"entry"', b'"resource"', b"null", b"1e999",
    b"-0", b"true", b"\xef\xbb\xbf",
]  # fmt: skip
JSONISH_BYTES = st.lists(st.sampled_from(JSON_TOKENS), max_size=40).map(b"".join)
ANY_BYTES = st.one_of(
    st.binary(max_size=600),
    JSONISH_BYTES,
    st.binary(max_size=300).map(gzip.compress),
    st.binary(min_size=1, max_size=300).map(lambda b: gzip.compress(b)[: max(2, len(b) // 2)]),
)


@reusing_the_vault(200)
@given(name=NAMES, data=ANY_BYTES)
def test_arbitrary_bytes_are_imported_or_refused_with_a_reason(
    hs_sqlite: Healthspace, name: str, data: bytes
) -> None:
    stored = _stored(hs_sqlite)

    report = hs_sqlite.importer.import_uploads([(name, data)], "test")

    _assert_imported_or_clearly_refused(report, name)
    if report.errors:
        assert _stored(hs_sqlite) == stored


# -- (b) arbitrary JSON, shaped like FHIR more often than chance would -------------------------

FHIR_KEYS = st.sampled_from([
    "id", "resourceType", "subject", "patient", "reference", "name", "given", "family", "text",
    "use", "birthDate", "gender", "status", "code", "coding", "system", "valueQuantity", "value",
    "unit", "effectiveDateTime", "identifier", "entry", "resource", "fullUrl", "request",
    "method", "type", "search", "mode", "medicationCodeableConcept", "vaccineCode",
    "occurrenceDateTime", "issued", "class", "intent",
])  # fmt: skip
RESOURCE_TYPES = st.sampled_from([
    "Patient", "Observation", "Bundle", "Condition", "Encounter", "Practitioner",
    "MedicationRequest", "Immunization", "OperationOutcome", "Patien", "patient", "",
])  # fmt: skip
REFERENCES = st.one_of(
    st.sampled_from([
        "Patient/p1", "Patient/p2", "Observation/o1", "#contained", "Patient?x=1",
        "Patient?identifier=s|1", "http://example.org/fhir/Patient/p1",
        "urn:uuid:00000000-0000-4000-8000-000000000001", "urn:oid:1.2.3", "",
    ]),
    st.text(max_size=12),
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from([
        "p1", "p2", "1970-01-01", "2024-02-30", "final", "male", "POST", "DELETE", "collection",
        "transaction", "outcome",
    ]),
    REFERENCES,
)  # fmt: skip
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(FHIR_KEYS, st.text(max_size=6)), children, max_size=5),
        st.fixed_dictionaries({"reference": REFERENCES}),
    ),
    max_leaves=25,
)


def _resource(resource_type: str, body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "resourceType": resource_type}


RESOURCES = st.builds(
    _resource, RESOURCE_TYPES, st.dictionaries(FHIR_KEYS, JSON_VALUES, max_size=8)
)
ENTRIES = st.one_of(
    st.builds(
        lambda resource, extra: {"resource": resource, **extra},
        RESOURCES,
        st.dictionaries(
            st.sampled_from(["fullUrl", "request", "search", "response"]), JSON_VALUES, max_size=2
        ),
    ),
    JSON_VALUES,
)
BUNDLES = st.builds(
    lambda bundle_type, entries: {"resourceType": "Bundle", "type": bundle_type, "entry": entries},
    st.one_of(
        st.sampled_from(["collection", "transaction", "searchset", "batch-response"]), JSON_VALUES
    ),
    st.one_of(st.lists(ENTRIES, max_size=5), JSON_VALUES),
)
DOCUMENTS = st.one_of(BUNDLES, RESOURCES, JSON_VALUES)


@reusing_the_vault(200)
@given(document=DOCUMENTS)
def test_arbitrary_json_is_imported_or_refused_with_a_place_and_reason(
    hs_sqlite: Healthspace, document: Any
) -> None:
    stored = _stored(hs_sqlite)

    report = hs_sqlite.importer.import_uploads([("x.json", orjson.dumps(document))], "test")

    _assert_imported_or_clearly_refused(report, "x.json")
    if report.errors:
        assert _stored(hs_sqlite) == stored
        for error in report.errors:
            # The file is valid JSON: every problem in it has a place, never a bare crash text.
            assert error["place"], error
            assert "unexpected structure" not in error["reason"], error


@reusing_the_vault(100)
@given(lines=st.lists(st.one_of(RESOURCES, JSON_VALUES), max_size=5))
def test_arbitrary_ndjson_lines_are_imported_or_refused_with_the_line(
    hs_sqlite: Healthspace, lines: list[Any]
) -> None:
    stored = _stored(hs_sqlite)
    data = b"\n".join(orjson.dumps(line) for line in lines)

    report = hs_sqlite.importer.import_uploads([("x.ndjson", data)], "test")

    _assert_imported_or_clearly_refused(report, "x.ndjson")
    if report.errors:
        assert _stored(hs_sqlite) == stored
        for error in report.errors:
            assert error["place"].startswith("line "), error


# -- (c) and (d) valid records: all in once, in either form ----------------------------------

FINITE = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
OBSERVATIONS = st.lists(
    st.fixed_dictionaries(
        {
            "status": st.sampled_from(["final", "preliminary", "amended", "registered"]),
            "code": st.builds(
                lambda code, text: {
                    "coding": [{"system": "http://loinc.org", "code": code}],
                    "text": text,
                },
                st.from_regex(r"[1-9][0-9]{2,4}-[0-9]", fullmatch=True),
                st.text(max_size=20),
            ),
            "effectiveDateTime": st.one_of(
                st.builds(
                    lambda moment, offset: moment.isoformat(timespec="seconds") + offset,
                    st.datetimes(),
                    st.sampled_from(["Z", "+01:00", "-05:00", "+05:30", "+14:00", "-12:00"]),
                ),
                st.dates().map(lambda day: day.isoformat()),
            ),
            "valueQuantity": st.builds(
                lambda value, unit: {"value": value, "unit": unit},
                st.one_of(FINITE, st.integers(-(10**9), 10**9)),
                st.sampled_from(["mmol/L", "mg/dL", "%", "kg", "mm[Hg]", "10*9/L"]),
            ),
        }
    ),
    max_size=12,
)
BIRTH_DATES = st.dates().map(lambda day: day.isoformat()) | st.sampled_from(["1970", "1985-06"])


def _record(observations: list[dict[str, Any]], birth_date: str) -> list[dict[str, Any]]:
    """A new person's Patient and Observations, with ids, as stored (relative references)."""
    person = str(uuid.uuid4())
    patient = {"resourceType": "Patient", "id": person, "birthDate": birth_date}
    return [patient] + [
        {
            "resourceType": "Observation",
            "id": str(uuid.uuid5(uuid.UUID(person), str(index))),
            "subject": {"reference": f"Patient/{person}"},
            **observation,
        }
        for index, observation in enumerate(observations)
    ]


def _as_bundle(record: list[dict[str, Any]], bundle_type: str) -> bytes:
    """The Bundle form: fullUrl urn:uuid on every entry, references to them."""
    person_url = f"urn:uuid:{record[0]['id']}"
    entries = []
    for resource in record:
        resource = dict(resource)
        if "subject" in resource:
            resource["subject"] = {"reference": person_url}
        entries.append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
    return orjson.dumps({"resourceType": "Bundle", "type": bundle_type, "entry": entries})


def _counts(record: list[dict[str, Any]]) -> dict[str, int]:
    counts = {"Patient": 1}
    if len(record) > 1:
        counts["Observation"] = len(record) - 1
    return counts


@reusing_the_vault(40)
@given(
    observations=OBSERVATIONS,
    birth_date=BIRTH_DATES,
    bundle_type=st.sampled_from(["collection", "transaction", "batch", "searchset"]),
)
def test_valid_bundle_imports_whole_and_a_second_import_adds_nothing(
    hs_sqlite: Healthspace, observations: list[dict[str, Any]], birth_date: str, bundle_type: str
) -> None:
    record = _record(observations, birth_date)
    data = _as_bundle(record, bundle_type)

    first = hs_sqlite.importer.import_uploads([("bundle.json", data)], "test")
    second = hs_sqlite.importer.import_uploads([("bundle.json", data)], "test")

    assert first.errors == [], first.errors
    assert dict(first.imported) == _counts(record) and first.unchanged == 0
    assert first.persons == [record[0]["id"]]
    assert second.errors == [] and not second.imported
    assert second.unchanged == len(record)
    stored = hs_sqlite.vault.resources("test", record[0]["id"])
    assert sorted((r["resourceType"], r["id"]) for r in stored) == sorted(
        (r["resourceType"], r["id"]) for r in record
    )


@reusing_the_vault(40)
@given(
    observations=OBSERVATIONS,
    birth_date=BIRTH_DATES,
    order=st.randoms(use_true_random=False),
    blanks=st.lists(st.sampled_from([b"", b"  ", b"\t", b" \r"]), max_size=6),
    newline=st.sampled_from([b"\n", b"\r\n"]),
    zipped=st.booleans(),
)
def test_ndjson_with_blank_lines_in_any_order_stores_what_the_bundle_stores(
    hs_sqlite: Healthspace,
    observations: list[dict[str, Any]],
    birth_date: str,
    order: Any,
    blanks: list[bytes],
    newline: bytes,
    zipped: bool,
) -> None:
    record = _record(observations, birth_date)
    lines = [orjson.dumps(resource) for resource in record] + blanks
    order.shuffle(lines)
    ndjson = newline.join(lines)
    name = "record.ndjson"
    if zipped:
        ndjson, name = gzip.compress(ndjson), "record.ndjson.gz"

    from_ndjson = hs_sqlite.importer.import_uploads([(name, ndjson)], "test")
    from_bundle = hs_sqlite.importer.import_uploads(
        [("record.json", _as_bundle(record, "collection"))], "test"
    )

    assert from_ndjson.errors == [], from_ndjson.errors
    assert dict(from_ndjson.imported) == _counts(record)
    assert from_ndjson.persons == [record[0]["id"]]
    # The Bundle form brings the very same resources, byte for byte once stored: nothing new.
    assert from_bundle.errors == [], from_bundle.errors
    assert not from_bundle.imported and from_bundle.unchanged == len(record)
