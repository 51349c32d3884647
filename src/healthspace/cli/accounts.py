"""``healthspace accounts``: create accounts, issue API tokens, share a record.

The command line is the machine owner's tool (it holds the master key), so it needs no sign-in;
what it does is audited under the local user's name like every other command.
"""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from healthspace.accounts.grants import Grant
from healthspace.cli.app import app
from healthspace.cli.output import JSON_OPTION, console, emit, open_healthspace

accounts_app = typer.Typer(help="Accounts, API tokens and sharing a record.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = typer.prompt("Password", hide_input=True)
    if typer.prompt("Password again", hide_input=True) != first:
        raise typer.BadParameter("the two passwords are not the same")
    return str(first)


@accounts_app.command("create")
def create(
    username: str = typer.Argument(...),
    role: str = typer.Option("person", "--role", help="person, clinician or admin."),
    name: str | None = typer.Option(None, "--name", help="The name shown in pages."),
    person: str | None = typer.Option(
        None, "--person", help="For a person account: the record it owns (default: a new one)."
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create an account (the password is asked for, or read with --password-stdin)."""
    hs = open_healthspace()
    account = hs.accounts.create(
        hs.default_actor, username, _password(password_stdin), role, name, person
    )
    emit(
        account.__dict__,
        as_json,
        lambda: console.print(
            f"Account [bold]{account.username}[/] ({account.role})"
            + (f" owns record {account.person}" if account.person else "")
        ),
    )


@accounts_app.command("list")
def list_accounts(as_json: bool = JSON_OPTION) -> None:
    """Every account, with its role and the record it owns."""
    hs = open_healthspace()
    accounts = hs.accounts.all()

    def render() -> None:
        table = Table("username", "name", "role", "record")
        for a in accounts:
            table.add_row(a.username, a.display_name, a.role, a.person or "")
        console.print(table)

    emit([a.__dict__ for a in accounts], as_json, render)


@accounts_app.command("token")
def token(
    username: str = typer.Argument(...),
    label: str = typer.Option("api", "--label"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Issue an API bearer token for an account (shown once)."""
    hs = open_healthspace()
    value = hs.accounts.issue_token(hs.default_actor, username, label)
    emit({"username": username, "token": value}, as_json, lambda: console.print(value))


@accounts_app.command("passwd")
def passwd(
    username: str = typer.Argument(...),
    password_stdin: bool = typer.Option(False, "--password-stdin"),
) -> None:
    """Set a new password (ends the account's open sessions)."""
    hs = open_healthspace()
    hs.accounts.set_password(hs.default_actor, username, _password(password_stdin))
    console.print(f"New password set for {username}.")


@accounts_app.command("delete")
def delete(username: str = typer.Argument(...)) -> None:
    """Delete an account with its sessions, tokens and grants (its record stays)."""
    hs = open_healthspace()
    hs.accounts.delete(hs.default_actor, username)
    console.print(f"Account {username} deleted.")


def _grant_json(grant: Grant) -> dict[str, object]:
    return {
        "person": grant.person,
        "grantee": grant.grantee,
        "kind": grant.kind,
        "consent": f"Consent/{grant.consent_id}",
        "granted_at": grant.granted_at,
        "revoked_at": grant.revoked_at,
    }


@accounts_app.command("grant")
def grant(
    person: str = typer.Argument(..., help="The record to share."),
    username: str = typer.Argument(..., help="Who may see it."),
    kind: str = typer.Option("clinician", "--as", help="clinician or delegate (a carer)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Share a record with a clinician or a carer (recorded as a FHIR Consent)."""
    hs = open_healthspace()
    given = hs.grants.grant(hs.default_actor, person, username, kind)
    emit(
        _grant_json(given),
        as_json,
        lambda: console.print(f"{username} may now see {person} as {kind}."),
    )


@accounts_app.command("revoke")
def revoke(
    person: str = typer.Argument(...),
    username: str = typer.Argument(...),
    as_json: bool = JSON_OPTION,
) -> None:
    """Stop sharing a record with someone, effective at once."""
    hs = open_healthspace()
    ended = hs.grants.revoke(hs.default_actor, person, username)
    emit(
        [_grant_json(g) for g in ended],
        as_json,
        lambda: console.print(f"{username} can no longer see {person}."),
    )


@accounts_app.command("grants")
def grants(person: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    """Who may see a record, now and before."""
    hs = open_healthspace()
    items = hs.grants.for_person(person)

    def render() -> None:
        table = Table("who", "as", "since", "until")
        for g in items:
            table.add_row(g.grantee, g.kind, g.granted_at, g.revoked_at or "")
        console.print(table)

    emit([_grant_json(g) for g in items], as_json, render)
