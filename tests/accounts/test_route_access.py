"""Every route, as every role, against a record it may not see: refused, and the attempt is in
the audit log. The routes are read from the app itself, so a route added later is covered (or
this test fails until it is)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from healthspace.api.app import create_app
from healthspace.bootstrap import Healthspace
from healthspace.web.authorization import PERSON_PARAMETERS
from tests.factories import patient_bundle
from tests.signed_in import bearer, new_account

OWNER_RECORD = "alice-record"
# Framework routes with no data behind them: the schema, the docs pages, static files.
UNGATED = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/static"}
# Values for path parameters other than the person.
SAMPLE_VALUES = {
    "resource_type": "Observation",
    "fhir_id": "glucose-1",
    "code": "2345-7",
    "username": "somebody",
    "name": "metformin",
    "kind": "lab",
    "concept_id": "73211009",
}
# Acts that destroy the owner's record: checked as refusals only.
DESTRUCTIVE = {("DELETE", "/api/v1/persons/{person}"), ("POST", "/persons/{person_id}/erase")}


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    route: APIRoute

    def url(self, person: str) -> str:
        def fill(match: re.Match[str]) -> str:
            name = match.group(1).split(":")[0]
            if name in PERSON_PARAMETERS:
                return person
            return SAMPLE_VALUES.get(name, "x")

        return re.sub(r"\{([^}]+)\}", fill, self.path)

    @property
    def person_in_query(self) -> bool:
        return any(p.name in PERSON_PARAMETERS for p in self.route.dependant.query_params)

    @property
    def person_in_body(self) -> bool:
        for param in self.route.dependant.body_params:
            fields = getattr(param.field_info.annotation, "model_fields", {})
            if "person" in fields:
                return True
        return False

    @property
    def names_a_person(self) -> bool:
        in_path = any(f"{{{name}" in self.path for name in PERSON_PARAMETERS)
        return in_path or self.person_in_query or self.person_in_body


def endpoints(app: FastAPI) -> Iterator[Endpoint]:
    """Every (method, full path) the app serves, through included routers too."""
    for item in app.routes:
        context = getattr(item, "include_context", None)
        if context is not None:
            for route in context.included_router.routes:
                assert isinstance(route, APIRoute), route
                for method in sorted(route.methods or ()):
                    yield Endpoint(method, context.prefix + route.path, route)
        elif isinstance(item, APIRoute):
            for method in sorted(item.methods or ()):
                yield Endpoint(method, item.path, item)
        else:
            assert isinstance(item, Route | Mount), item
            assert item.path in UNGATED, f"{item.path} is served outside the access gate"


def _request(client: TestClient, endpoint: Endpoint, person: str, token: str) -> Any:
    params = {"person": person} if endpoint.person_in_query else None
    body = {"person": person, "question": "x", "text": "x"} if endpoint.person_in_body else None
    return client.request(
        endpoint.method,
        endpoint.url(person),
        params=params,
        content=orjson.dumps(body) if body is not None else None,
        headers={**bearer(token), **({"content-type": "application/json"} if body else {})},
        follow_redirects=False,
    )


@pytest.fixture
def world(hs: Healthspace) -> dict[str, str]:
    """Alice owns a record; Bob owns another; a clinician, a carer and an admin exist, and
    nobody was given Alice's record. Values are bearer tokens."""
    tokens = {"alice": new_account(hs, "person", OWNER_RECORD, "alice")[1]}
    report = hs.importer.import_uploads(
        [("alice.json", orjson.dumps(patient_bundle(OWNER_RECORD)))], "test", OWNER_RECORD
    )
    assert not report.errors
    tokens["bob"] = new_account(hs, "person", "bob-record", "bob")[1]
    tokens["carer"] = new_account(hs, "person", None, "carer")[1]
    tokens["drx"] = new_account(hs, "clinician", None, "drx")[1]
    tokens["admin"] = new_account(hs, "admin", None, "root")[1]
    return tokens


def _denials(hs: Healthspace, person: str) -> list[tuple[str, str]]:
    return [
        (e.actor, e.detail) for e in hs.vault.audit_entries("test", person) if e.action == "denied"
    ]


def test_every_route_is_gated_and_names_the_person_one_way(hs: Healthspace) -> None:
    app = create_app(hs)
    found = list(endpoints(app))
    assert len(found) > 30
    for endpoint in found:
        for name in re.findall(r"\{(\w*person\w*)", endpoint.path):
            assert name in PERSON_PARAMETERS, f"{endpoint.path}: call it person or person_id"


def test_every_person_route_refuses_every_other_role_and_audits_it(
    hs: Healthspace, world: dict[str, str]
) -> None:
    app = create_app(hs)
    client = TestClient(app, raise_server_exceptions=True)
    person_routes = [e for e in endpoints(app) if e.names_a_person]
    assert len(person_routes) >= 15, [e.path for e in person_routes]
    for endpoint in person_routes:
        for role in ("bob", "carer", "drx", "admin"):
            before = len(_denials(hs, OWNER_RECORD))
            response = _request(client, endpoint, OWNER_RECORD, world[role])
            where = f"{endpoint.method} {endpoint.path} as {role}"
            assert response.status_code == 403, f"{where}: {response.status_code}"
            assert OWNER_RECORD not in response.text.replace(f"/{OWNER_RECORD}", ""), where
            denials = _denials(hs, OWNER_RECORD)
            assert len(denials) == before + 1, f"{where}: not audited"
            assert denials[-1][0] == f"account:{'root' if role == 'admin' else role}"
    # The control: the owner (or, in the Workspace, a clinician she shared with) passes the
    # same gate on every route that does not destroy.
    hs.grants.grant("test", OWNER_RECORD, "drx", "clinician")
    for endpoint in person_routes:
        if (endpoint.method, endpoint.path) in DESTRUCTIVE:
            continue
        allowed = "drx" if endpoint.path.startswith("/workspace") else "alice"
        response = _request(client, endpoint, OWNER_RECORD, world[allowed])
        assert response.status_code != 403, f"{endpoint.method} {endpoint.path}: {allowed} refused"


def test_a_record_that_does_not_exist_is_refused_the_same_way(
    hs: Healthspace, world: dict[str, str]
) -> None:
    client = TestClient(create_app(hs))
    for target in (OWNER_RECORD, "no-such-record"):
        response = client.get(f"/api/v1/persons/{target}/resources", headers=bearer(world["bob"]))
        assert response.status_code == 403
        assert response.json()["detail"].startswith("You do not have access to this record.")


def test_grants_open_reading_not_managing_and_revoking_closes_at_once(
    hs: Healthspace, world: dict[str, str]
) -> None:
    client = TestClient(create_app(hs))
    alice, drx, carer = (bearer(world[n]) for n in ("alice", "drx", "carer"))
    resources = f"/api/v1/persons/{OWNER_RECORD}/resources"
    assert (
        client.post(
            f"/api/v1/persons/{OWNER_RECORD}/grants",
            json={"username": "drx", "kind": "clinician"},
            headers=alice,
        ).status_code
        == 201
    )
    assert (
        client.post(
            f"/api/v1/persons/{OWNER_RECORD}/grants",
            json={"username": "carer", "kind": "delegate"},
            headers=alice,
        ).status_code
        == 201
    )
    for reader in (drx, carer):
        assert client.get(resources, headers=reader).status_code == 200
        assert (
            client.get(f"/api/v1/persons/{OWNER_RECORD}/export", headers=reader).status_code == 403
        )
        assert client.delete(f"/api/v1/persons/{OWNER_RECORD}", headers=reader).status_code == 403
    assert [p["id"] for p in client.get("/api/v1/persons", headers=drx).json()] == [OWNER_RECORD]
    # A clinician grant needs a clinician account, a carer grant a person account.
    refused = client.post(
        f"/api/v1/persons/{OWNER_RECORD}/grants",
        json={"username": "bob", "kind": "clinician"},
        headers=alice,
    )
    assert refused.status_code == 422
    assert (
        client.delete(f"/api/v1/persons/{OWNER_RECORD}/grants/drx", headers=alice).status_code
        == 200
    )
    assert client.get(resources, headers=drx).status_code == 403
    assert client.get(resources, headers=carer).status_code == 200
    assert client.get("/api/v1/persons", headers=drx).json() == []
    # The record keeps both consents: the revoked one inactive with its end date.
    consents = client.get(f"{resources}?type=Consent", headers=alice).json()
    by_status = sorted(c["status"] for c in consents)
    assert by_status == ["active", "inactive"]
    ended = next(c for c in consents if c["status"] == "inactive")
    assert ended["provision"]["period"]["end"] >= ended["provision"]["period"]["start"]
    actions = [e.action for e in hs.vault.audit_entries("test", OWNER_RECORD)]
    assert actions.count("grant") == 2 and actions.count("revoke") == 1


def test_the_admin_manages_accounts_and_nobody_else_does(
    hs: Healthspace, world: dict[str, str]
) -> None:
    client = TestClient(create_app(hs))
    made = client.post(
        "/api/v1/accounts",
        json={"username": "newdoc", "password": "long-enough-1", "role": "clinician"},
        headers=bearer(world["admin"]),
    )
    assert made.status_code == 201 and made.json()["role"] == "clinician"
    for role in ("alice", "drx"):
        assert client.get("/api/v1/accounts", headers=bearer(world[role])).status_code == 403
        assert client.get("/admin", headers=bearer(world[role])).status_code == 403
    assert client.get("/api/v1/persons", headers=bearer(world["admin"])).json() == []
