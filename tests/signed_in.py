"""Signed-in clients for tests: since every route passes the access gate, a test speaks as an
account, the way a real caller does (a bearer token for the API and pages alike)."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from healthspace.api.app import create_app
from healthspace.bootstrap import Healthspace

PASSWORD = "test-password-1"


def new_account(
    hs: Healthspace, role: str = "person", person: str | None = None, username: str | None = None
) -> tuple[str, str]:
    """Create an account; its (username, bearer token)."""
    name = username or f"{role}-{uuid.uuid4().hex[:10]}"
    hs.accounts.create("test", name, PASSWORD, role, None, person)
    return name, hs.accounts.issue_token("test", name)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed_in_client(
    hs: Healthspace,
    person: str | None = None,
    role: str = "person",
    app: FastAPI | None = None,
    **client_options: Any,
) -> TestClient:
    """A TestClient speaking as a new account: by default the owner of ``person``'s record
    (a new empty record when ``person`` is None)."""
    _, token = new_account(hs, role, person if role == "person" else None)
    return TestClient(app or create_app(hs), headers=bearer(token), **client_options)


def server_token(
    home: Path, person: str | None = None, role: str = "person", database_url: str | None = None
) -> dict[str, str]:
    """Bearer headers for a running ``healthspace serve`` on ``home``: the account is made with
    the CLI, as an owner would."""
    from tests.server import HEALTHSPACE, cli_env

    name = f"{role}-{uuid.uuid4().hex[:10]}"
    env = cli_env(home, database_url)
    create = [str(HEALTHSPACE), "accounts", "create", name, "--role", role, "--password-stdin"]
    if person and role == "person":
        create += ["--person", person]
    subprocess.run(
        create, input=PASSWORD + "\n", env=env, check=True, capture_output=True, text=True
    )
    made = subprocess.run(
        [str(HEALTHSPACE), "accounts", "token", name, "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return bearer(json.loads(made.stdout)["token"])
