"""Accounts, sessions and API tokens in the database.

Roles: a *person* owns one record (a space in the vault); a *clinician* sees only the records
whose owners granted them access; an *admin* manages accounts and never reads a record. A
person account can also be a carer (delegate) for other people who granted it access.

Session and token secrets are random 256-bit values given to the client once; the database
keeps their SHA-256 digests only.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

from sqlalchemy import Engine, Row, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from healthspace.accounts.passwords import hash_password, password_problem, verify_password
from healthspace.errors import HealthspaceError, NotFoundError
from healthspace.vault.audit import now_iso
from healthspace.vault.store import Vault
from healthspace.vault.tables import account_sessions, accounts, api_tokens, grants

Role = Literal["person", "clinician", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
SESSION_HOURS = 12
TOKEN_PREFIX = "hs_"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_LANGUAGES = ("en", "fr")


class AccountError(HealthspaceError):
    """An account cannot be created or changed as asked (the message says why)."""

    http_status = 422


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    role: str
    person: str | None
    language: str
    country: str

    @property
    def actor(self) -> str:
        """The name the audit log gives this account's actions."""
        return f"account:{self.username}"


@dataclass(frozen=True)
class Session:
    account: Account
    csrf: str


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


_COLUMNS = (
    accounts.c.username,
    accounts.c.display_name,
    accounts.c.role,
    accounts.c.person,
    accounts.c.language,
    accounts.c.country,
)
_FIELDS = tuple(column.name for column in _COLUMNS)


def _account(row: Row[*tuple[Any, ...]]) -> Account:
    return Account(**{name: row._mapping[name] for name in _FIELDS})


class AccountStore:
    def __init__(self, engine: Engine, vault: Vault) -> None:
        self.engine = engine
        self.vault = vault

    # -- accounts -------------------------------------------------------------------------------

    def create(
        self,
        actor: str,
        username: str,
        password: str,
        role: str,
        display_name: str | None = None,
        person: str | None = None,
    ) -> Account:
        """A new account; a person account owns ``person`` (a new record id when not given)."""
        username = username.strip().lower()
        if not _USERNAME.match(username):
            raise AccountError(
                f"{username!r} cannot be a username: use 2 to 64 lowercase letters, digits, "
                "dots, dashes or underscores, starting with a letter or digit."
            )
        if role not in ROLES:
            raise AccountError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
        problem = password_problem(password)
        if problem:
            raise AccountError(problem)
        if role != "person" and person is not None:
            raise AccountError("Only a person account owns a record; leave the person out.")
        if role == "person":
            person = person or f"p-{secrets.token_hex(8)}"
            if not _FHIR_ID.match(person):
                raise AccountError(f"{person!r} is not a valid record id.")
        values = {
            "username": username,
            "display_name": (display_name or username).strip()[:128],
            "role": role,
            "person": person,
            "password_hash": hash_password(password),
            "created_at": now_iso(),
        }
        try:
            with self.engine.begin() as connection:
                taken = connection.execute(
                    select(accounts.c.username).where(
                        (accounts.c.username == username)
                        | ((accounts.c.person == person) & accounts.c.person.is_not(None))
                    )
                ).first()
                if taken is not None:
                    raise AccountError(
                        f"The username {username!r} is taken."
                        if taken.username == username
                        else f"The record {person!r} already belongs to an account."
                    )
                connection.execute(insert(accounts).values(**values))
        except IntegrityError as exc:  # a concurrent create of the same name
            raise AccountError(f"The username {username!r} is taken.") from exc
        self.vault.record_event(actor, "account-create", None, None, f"{username} role={role}")
        return self.get(username)

    def get(self, username: str) -> Account:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(*_COLUMNS).where(accounts.c.username == username.strip().lower())
            ).first()
        if row is None:
            raise NotFoundError(f"No account named {username!r}.")
        return _account(row)

    def find(self, username: str) -> Account | None:
        try:
            return self.get(username)
        except NotFoundError:
            return None

    def all(self) -> list[Account]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(*_COLUMNS).order_by(accounts.c.username)).all()
        return [_account(row) for row in rows]

    def count(self) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(accounts)).scalar() or 0)

    def owner_of(self, person: str) -> Account | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(*_COLUMNS).where(accounts.c.person == person)).first()
        return _account(row) if row else None

    def authenticate(self, username: str, password: str) -> Account | None:
        """The account when the password matches; the same work whether or not it exists."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(accounts.c.password_hash).where(
                    accounts.c.username == username.strip().lower()
                )
            ).first()
        if not verify_password(row.password_hash if row else None, password):
            return None
        return self.get(username)

    def set_password(self, actor: str, username: str, password: str) -> None:
        problem = password_problem(password)
        if problem:
            raise AccountError(problem)
        account = self.get(username)
        with self.engine.begin() as connection:
            connection.execute(
                update(accounts)
                .where(accounts.c.username == account.username)
                .values(password_hash=hash_password(password))
            )
            # A new password ends every open session of the account.
            connection.execute(
                delete(account_sessions).where(account_sessions.c.username == account.username)
            )
        self.vault.record_event(actor, "account-password", None, None, account.username)

    def set_preferences(
        self, username: str, language: str | None = None, country: str | None = None
    ) -> Account:
        values: dict[str, str] = {}
        if language is not None:
            if language not in _LANGUAGES:
                raise AccountError(f"Unknown language {language!r}: choose en or fr.")
            values["language"] = language
        if country is not None:
            if not re.fullmatch(r"[A-Z]{2}", country):
                raise AccountError(f"{country!r} is not a two-letter country code.")
            values["country"] = country
        if values:
            with self.engine.begin() as connection:
                connection.execute(
                    update(accounts).where(accounts.c.username == username).values(**values)
                )
        return self.get(username)

    def delete(self, actor: str, username: str) -> None:
        """Remove an account, its sessions, tokens and grants. Its record is not touched:
        erasing a record is the owner's own act (``erase``)."""
        account = self.get(username)
        with self.engine.begin() as connection:
            for table in (account_sessions, api_tokens):
                connection.execute(delete(table).where(table.c.username == account.username))
            connection.execute(
                update(grants)
                .where(grants.c.grantee == account.username, grants.c.revoked_at.is_(None))
                .values(revoked_at=now_iso())
            )
            connection.execute(delete(accounts).where(accounts.c.username == account.username))
        self.vault.record_event(actor, "account-delete", None, None, account.username)

    # -- sessions -------------------------------------------------------------------------------

    def open_session(self, account: Account) -> tuple[str, str]:
        """A new session: (cookie secret, CSRF token)."""
        secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self.engine.begin() as connection:
            connection.execute(
                delete(account_sessions).where(
                    account_sessions.c.expires_at < now.isoformat(timespec="seconds")
                )
            )
            connection.execute(
                insert(account_sessions).values(
                    token_digest=digest(secret),
                    username=account.username,
                    csrf=csrf,
                    created_at=now.isoformat(timespec="seconds"),
                    expires_at=(now + timedelta(hours=SESSION_HOURS)).isoformat(timespec="seconds"),
                )
            )
        self.vault.record_event(account.actor, "login", account.person, None, "")
        return secret, csrf

    def session(self, secret: str) -> Session | None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self.engine.connect() as connection:
            row = connection.execute(
                select(*_COLUMNS, account_sessions.c.csrf)
                .join(accounts, accounts.c.username == account_sessions.c.username)
                .where(
                    account_sessions.c.token_digest == digest(secret),
                    account_sessions.c.expires_at > now,
                )
            ).first()
        return Session(_account(row), row.csrf) if row else None

    def close_session(self, secret: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                delete(account_sessions).where(account_sessions.c.token_digest == digest(secret))
            )

    # -- API tokens -----------------------------------------------------------------------------

    def issue_token(self, actor: str, username: str, label: str = "api") -> str:
        """A bearer token for the API, shown once; only its digest is kept."""
        account = self.get(username)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.engine.begin() as connection:
            connection.execute(
                insert(api_tokens).values(
                    token_digest=digest(token),
                    username=account.username,
                    label=label.strip()[:64] or "api",
                    created_at=now_iso(),
                )
            )
        self.vault.record_event(actor, "token-create", None, None, f"{account.username} {label}")
        return token

    def token_account(self, token: str) -> Account | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(*_COLUMNS)
                .join(api_tokens, api_tokens.c.username == accounts.c.username)
                .where(api_tokens.c.token_digest == digest(token))
            ).first()
        return _account(row) if row else None

    def tokens(self, username: str) -> list[tuple[str, str, str]]:
        """(digest prefix, label, created) of each token: enough to recognise and revoke."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(api_tokens.c.token_digest, api_tokens.c.label, api_tokens.c.created_at)
                .where(api_tokens.c.username == username)
                .order_by(api_tokens.c.created_at)
            ).all()
        return [(row.token_digest[:12], row.label, row.created_at) for row in rows]

    def revoke_token(self, actor: str, username: str, digest_prefix: str) -> None:
        if len(digest_prefix) < 12:
            raise AccountError("Give the token's 12-character id.")
        with self.engine.begin() as connection:
            removed = connection.execute(
                delete(api_tokens).where(
                    api_tokens.c.username == username,
                    api_tokens.c.token_digest.startswith(digest_prefix, autoescape=True),
                )
            ).rowcount
        if not removed:
            raise NotFoundError(f"No token {digest_prefix!r} for {username!r}.")
        self.vault.record_event(actor, "token-revoke", None, None, f"{username} {digest_prefix}")
