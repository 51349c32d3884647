"""Encrypted at rest: nothing identifying or clinical can be read from the database file."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
import pytest
from sqlalchemy import text

from healthspace.bootstrap import Healthspace, build
from healthspace.errors import ConfigurationError, NotFoundError
from tests.conftest import make_settings
from tests.factories import patient_bundle

SECRET_NAME = "Quintessa"
SECRET_FAMILY = "Vandermeulenbeek"
SECRET_BIRTH = "1953-07-29"
SECRET_VALUE = 13.987


def _import(hs: Healthspace, tmp_path: Path) -> str:
    bundle = patient_bundle(
        "enc-1",
        family=SECRET_FAMILY,
        given=SECRET_NAME,
        birth_date=SECRET_BIRTH,
        glucose_values=(SECRET_VALUE,),
    )
    report = hs.importer.import_uploads([("enc.json", orjson.dumps(bundle))], "test")
    assert report.errors == []
    return report.persons[0]


def _raw_database_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in home.glob("healthspace.db*"))


def test_sqlite_file_holds_no_name_birth_date_or_value(
    hs_sqlite: Healthspace, tmp_path: Path
) -> None:
    person = _import(hs_sqlite, tmp_path)
    # The record really holds them, decrypted on read...
    patient = hs_sqlite.vault.resources("test", person, "Patient")[0]
    assert patient["name"][0]["given"] == [SECRET_NAME]
    # ...and the database files (main file and write-ahead log) do not, in any encoding.
    raw = _raw_database_bytes(hs_sqlite.settings.home)
    assert len(raw) > 10_000
    for secret in (SECRET_NAME, SECRET_FAMILY, SECRET_BIRTH, str(SECRET_VALUE), "1953"):
        assert secret.encode() not in raw
        assert secret.encode("utf-16-le") not in raw


def test_postgresql_rows_hold_no_name_birth_date_or_value(
    tmp_path: Path, postgres_schema_url: str
) -> None:
    hs = build(make_settings(tmp_path / "home", postgres_schema_url))
    try:
        _import(hs, tmp_path)
        with hs.vault.engine.connect() as connection:
            dump = b""
            for table in ("spaces", "resources", "resource_history", "audit_log", "audit_head"):
                for row in connection.execute(text(f"SELECT * FROM {table}")):
                    dump += repr(tuple(row)).encode()
        assert SECRET_NAME in repr(hs.vault.persons("test"))
        for secret in (SECRET_NAME, SECRET_FAMILY, SECRET_BIRTH, str(SECRET_VALUE)):
            assert secret.encode() not in dump
    finally:
        hs.close()


def test_wrong_master_key_cannot_read(tmp_path: Path) -> None:
    home = tmp_path / "home"
    hs = build(make_settings(home))
    person = _import(hs, tmp_path)
    hs.close()
    other = build(make_settings(home, master_key=base64.b64encode(b"b" * 32).decode()))
    with pytest.raises(ConfigurationError, match="master key"):
        other.vault.resources("test", person)
    other.close()


def test_master_key_file_is_created_private(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home", master_key=None)
    hs = build(settings)
    key_file = settings.master_key_path
    assert key_file.stat().st_mode & 0o777 == 0o600
    hs.close()
    key_file.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        build(settings)


def test_erase_destroys_key_and_rows(hs: Healthspace, tmp_path: Path) -> None:
    person = _import(hs, tmp_path)
    other = hs.importer.import_uploads(
        [("other.json", orjson.dumps(patient_bundle("enc-2")))], "test"
    ).persons[0]
    assert hs.vault.erase("test", person) == 2
    with hs.vault.engine.connect() as connection:
        left = connection.execute(
            text("SELECT count(*) FROM resources WHERE space = :p"), {"p": person}
        ).scalar()
        keys = connection.execute(
            text("SELECT count(*) FROM spaces WHERE id = :p"), {"p": person}
        ).scalar()
    assert (left, keys) == (0, 0)
    with pytest.raises(NotFoundError):
        hs.vault.resources("test", person)
    assert [p.id for p in hs.vault.persons("test")] == [other]
    # The audit keeps the fact of the erasure, without identifying details.
    erased = [e for e in hs.vault.audit_entries("test", person) if e.action == "erase"]
    assert erased and erased[0].detail == "count=2"
    assert hs.vault.verify_audit().valid


def test_erased_person_leaves_no_plaintext_in_sqlite(
    hs_sqlite: Healthspace, tmp_path: Path
) -> None:
    person = _import(hs_sqlite, tmp_path)
    hs_sqlite.vault.erase("test", person)
    raw = _raw_database_bytes(hs_sqlite.settings.home)
    for secret in (SECRET_NAME, SECRET_FAMILY, SECRET_BIRTH):
        assert secret.encode() not in raw
