"""The CLI as a user runs it: each command's --json prints exactly one JSON document."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import orjson

from tests.factories import patient_bundle
from tests.server import HEALTHSPACE, cli_env


def run(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(HEALTHSPACE), *args], env=cli_env(home), capture_output=True, text=True, timeout=120
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def run_json(home: Path, *args: str) -> Any:
    return json.loads(run(home, *args, "--json").stdout)


def test_record_commands_end_to_end(tmp_path: Path) -> None:
    home = tmp_path / "home"
    source = tmp_path / "alex.json"
    source.write_bytes(orjson.dumps(patient_bundle("cli-1", glucose_values=(5.0, 6.5, 8.1))))

    report = run_json(home, "import", str(source))
    assert report["person"] == "cli-1"
    assert report["imported"] == {"Observation": 3, "Patient": 1}
    assert report["skipped"] == 0 and report["errors"] == []

    assert run_json(home, "persons") == [
        {"id": "cli-1", "name": "Alex Testperson", "birth_date": "1970-01-01", "resources": 4}
    ]
    observations = run_json(home, "resources", "cli-1", "--type", "Observation")
    assert len(observations) == 3 and {o["subject"]["reference"] for o in observations} == {
        "Patient/cli-1"
    }
    table = run(home, "resources", "cli-1").stdout
    assert "Observation" in table and "Patient" in table

    exported = tmp_path / "export.json"
    run(home, "export", "cli-1", "--output", str(exported))
    bundle = json.loads(exported.read_text())
    assert bundle["type"] == "collection" and len(bundle["entry"]) == 4
    assert json.loads(run(home, "export", "cli-1").stdout)["entry"] == bundle["entry"]

    audit = run_json(home, "audit", "cli-1")
    assert {"create", "read", "export"} <= {e["action"] for e in audit}
    verify = run_json(home, "audit", "verify")
    assert verify["valid"] is True and verify["entries"] > len(audit)

    assert run_json(home, "erase", "cli-1") == {"erased": "cli-1", "resources": 4}
    assert run_json(home, "persons") == []
    missing = run(home, "resources", "cli-1", check=False)
    assert missing.returncode == 1
    assert "No person with id 'cli-1'" in missing.stderr and missing.stdout == ""


def test_tampered_audit_makes_verify_fail(tmp_path: Path) -> None:
    import sqlite3

    home = tmp_path / "home"
    source = tmp_path / "a.json"
    source.write_bytes(orjson.dumps(patient_bundle("cli-2")))
    run(home, "import", str(source))
    with sqlite3.connect(home / "healthspace.db") as connection:
        connection.execute("UPDATE audit_log SET detail = 'count=0' WHERE seq = 1")
    result = run(home, "audit", "verify", "--json", check=False)
    assert result.returncode == 2
    assert json.loads(result.stdout)["first_bad_entry"] == 1


def test_nothing_is_written_outside_the_data_folder(tmp_path: Path) -> None:
    """With HOME and the working folder empty, only HEALTHSPACE_HOME receives files."""
    user_home, workdir, data = tmp_path / "user", tmp_path / "work", tmp_path / "user" / "hs"
    user_home.mkdir()
    workdir.mkdir()
    source = tmp_path / "in.json"
    source.write_bytes(orjson.dumps(patient_bundle("cli-3")))
    env = {**cli_env(data), "HOME": str(user_home), "XDG_CACHE_HOME": str(user_home / ".cache")}
    for args in (["import", str(source)], ["persons"], ["export", "cli-3"], ["audit", "verify"]):
        result = subprocess.run(
            [str(HEALTHSPACE), *args, "--json"],
            env=env,
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
    assert [p.name for p in user_home.iterdir()] == ["hs"]
    assert list(workdir.iterdir()) == []
    assert {p.name for p in data.iterdir()} <= {
        "healthspace.db",
        "healthspace.db-wal",
        "healthspace.db-shm",
    }
