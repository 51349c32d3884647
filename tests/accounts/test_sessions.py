"""Signing in through the pages: argon2 hashes, session cookies, CSRF on every form, the login
throttle, first-run setup, and tokens."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthspace.accounts.passwords import verify_password
from healthspace.accounts.store import AccountError
from healthspace.api.app import create_app
from healthspace.bootstrap import Healthspace
from healthspace.vault.tables import account_sessions, accounts, api_tokens
from healthspace.web.throttle import LoginThrottle
from tests.signed_in import PASSWORD, bearer, new_account

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(page: str) -> str:
    match = _CSRF.search(page)
    assert match, "the page has no CSRF field"
    return match.group(1)


def _sign_in(client: TestClient, username: str, password: str = PASSWORD) -> object:
    token = _csrf(client.get("/login").text)
    return client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": password},
        follow_redirects=False,
    )


def test_passwords_and_secrets_are_stored_as_hashes_only(hs_sqlite: Healthspace) -> None:
    name, token = new_account(hs_sqlite, "person")
    client = TestClient(create_app(hs_sqlite))
    response = _sign_in(client, name)
    secret = response.cookies["hs_session"]  # type: ignore[attr-defined]
    with hs_sqlite.vault.engine.connect() as connection:
        stored = connection.execute(accounts.select()).first()
        sessions = [r.token_digest for r in connection.execute(account_sessions.select())]
        tokens = [r.token_digest for r in connection.execute(api_tokens.select())]
    assert stored is not None and stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash and verify_password(stored.password_hash, PASSWORD)
    assert secret not in sessions and len(sessions) == 1
    assert token not in tokens and len(tokens) == 1


def test_a_session_cookie_is_httponly_lax_and_sign_out_ends_it(hs_sqlite: Healthspace) -> None:
    name, _ = new_account(hs_sqlite, "person")
    client = TestClient(create_app(hs_sqlite))
    response = _sign_in(client, name)
    assert response.status_code == 303  # type: ignore[attr-defined]
    header = response.headers["set-cookie"].lower()  # type: ignore[attr-defined]
    assert "hs_session=" in header and "httponly" in header and "samesite=lax" in header
    home = client.get("/")
    assert home.status_code == 200 and "Sign out" in home.text
    client.post("/logout", data={"csrf_token": _csrf(home.text)}, follow_redirects=False)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_every_form_post_needs_the_session_csrf_token(hs_sqlite: Healthspace) -> None:
    name, _ = new_account(hs_sqlite, "person")
    client = TestClient(create_app(hs_sqlite))
    _sign_in(client, name)
    settings_page = client.get("/settings").text
    form = {"action": "preferences", "language": "fr", "country": "FR"}
    assert client.post("/settings", data=form).status_code == 403
    assert client.post("/settings", data={**form, "csrf_token": "forged"}).status_code == 403
    ok = client.post("/settings", data={**form, "csrf_token": _csrf(settings_page)})
    assert ok.status_code == 200 and hs_sqlite.accounts.get(name).language == "fr"
    # The login form itself is protected by its own pre-sign-in token.
    fresh = TestClient(create_app(hs_sqlite))
    refused = fresh.post("/login", data={"username": name, "password": PASSWORD})
    assert refused.status_code == 403


def test_wrong_passwords_are_throttled_and_audited(hs_sqlite: Healthspace) -> None:
    name, _ = new_account(hs_sqlite, "person")
    client = TestClient(create_app(hs_sqlite))
    statuses = [
        _sign_in(client, name, "wrong-password").status_code  # type: ignore[attr-defined]
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    # Even the right password waits out the pause.
    blocked = _sign_in(client, name)
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    actions = [e.action for e in hs_sqlite.vault.audit_entries("test", None)]
    assert actions.count("login-failed") == 5 and "login-throttled" in actions


def test_throttle_counts_per_account_and_per_address() -> None:
    throttle = LoginThrottle(account_limit=2, address_limit=3, window=60)
    throttle.failed("a", "1.1.1.1")
    throttle.failed("a", "2.2.2.2")
    assert throttle.retry_after("a", "3.3.3.3") > 0
    assert throttle.retry_after("b", "3.3.3.3") == 0
    throttle.failed("b", "4.4.4.4")
    throttle.failed("c", "4.4.4.4")
    throttle.failed("d", "4.4.4.4")
    assert throttle.retry_after("e", "4.4.4.4") > 0
    throttle.succeeded("a")
    assert throttle.retry_after("a", "5.5.5.5") == 0


def test_setup_creates_the_first_account_once(hs_sqlite: Healthspace) -> None:
    client = TestClient(create_app(hs_sqlite))
    page = client.get("/setup")
    form = {
        "csrf_token": _csrf(page.text),
        "username": "owner",
        "password": "a-long-pass",
        "password_again": "a-long-pass",
    }
    assert client.post("/setup", data=form, follow_redirects=False).status_code == 303
    assert hs_sqlite.accounts.get("owner").role == "person"
    again = client.post("/setup", data={**form, "username": "intruder"}, follow_redirects=False)
    assert again.headers["location"] == "/login" and hs_sqlite.accounts.find("intruder") is None


def test_a_revoked_token_stops_working(hs_sqlite: Healthspace) -> None:
    name, token = new_account(hs_sqlite, "person")
    client = TestClient(create_app(hs_sqlite))
    assert client.get("/api/v1/me", headers=bearer(token)).json()["username"] == name
    ((token_id, _, _),) = hs_sqlite.accounts.tokens(name)
    hs_sqlite.accounts.revoke_token("test", name, token_id)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=80))
def test_usernames_are_checked_not_trusted(hs_sqlite: Healthspace, username: str) -> None:
    try:
        account = hs_sqlite.accounts.create("test", username, PASSWORD, "person")
    except AccountError:
        return
    assert re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,63}", account.username)
    hs_sqlite.accounts.delete("test", account.username)


def test_open_redirects_after_sign_in_are_refused(hs_sqlite: Healthspace) -> None:
    name, _ = new_account(hs_sqlite, "person")
    client = TestClient(create_app(hs_sqlite))
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        token = _csrf(client.get("/login").text)
        response = client.post(
            "/login",
            data={"csrf_token": token, "username": name, "password": PASSWORD, "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/"
        client.cookies.clear()


@pytest.mark.parametrize("role", ["clinician", "admin"])
def test_only_person_accounts_own_a_record(hs_sqlite: Healthspace, role: str) -> None:
    with pytest.raises(AccountError):
        hs_sqlite.accounts.create("test", f"x-{role}", PASSWORD, role, None, "some-record")
