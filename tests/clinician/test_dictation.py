"""SOAP statements from dictations and visit conversations: evidence, negation, medicines."""

from __future__ import annotations

import csv
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthspace.clinician.dictation import (
    DictatedStatement,
    DictationError,
    find_medicines,
    statements_from_dictation,
)
from healthspace.coding.tokens import tokenize

REPO = Path(__file__).resolve().parents[2]
ACI = REPO.parent / "shared" / "data" / "aci_bench"

FRAGMENTS = [
    "[doctor] ",
    "[patient] ",
    "\n",
    " . ",
    " ? ",
    ", ",
    "Plan: ",
    "Examen : ",
    "denies chest pain",
    "no",
    "yes",
    "any fever",
    "start metformin 500 mg twice a day",
    "lisinopril 40 milligrams",
    "blood pressure 150 over 90",
    "TA 150/90",
    "on exam the lungs are clear",
    "assessment: type 2 diabetes",
    "follow up in two weeks",
    "je prescris amlodipine 5 mg par jour",
    "pas de dyspnée",
    "order an x-ray",
    "é",
    "  ",
]


def _by_section(statements: list[DictatedStatement], section: str) -> list[str]:
    return [s.text for s in statements if s.section == section]


def _assert_exact(text: str, statements: list[DictatedStatement]) -> None:
    for statement in statements:
        assert statement.evidence
        for item in statement.evidence:
            assert 0 <= item.start < item.end <= len(text)
            assert text[item.start : item.end] == item.text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=300),
        st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join),
    ),
    st.sampled_from(["en", "fr"]),
)
def test_any_text_gives_exact_evidence(text: str, language: str) -> None:
    _assert_exact(text, statements_from_dictation(text, language))


def test_denied_symptom_is_stated_as_denied() -> None:
    text = "Patient reports a headache since Monday. She denies chest pain and fever."
    statements = statements_from_dictation(text)
    subjective = _by_section(statements, "subjective")
    assert "Denies chest pain." in subjective
    assert "Denies fever." in subjective
    assert not any(s.startswith("Reports chest pain") for s in subjective)
    _assert_exact(text, statements)


def test_question_counts_only_through_the_answer() -> None:
    text = (
        "[doctor] any chest pain ?\n[patient] no , not that i've noticed .\n"
        "[doctor] and any fever ?\n[patient] yeah , a little .\n"
        "[doctor] any cough ?\n[doctor] okay ."
    )
    statements = statements_from_dictation(text)
    subjective = _by_section(statements, "subjective")
    assert "Denies chest pain." in subjective
    assert "Reports fever." in subjective
    assert not any("cough" in s for s in subjective)  # asked, never answered
    denied = next(s for s in statements if s.text == "Denies chest pain.")
    assert [e.text for e in denied.evidence] == ["chest pain", "no"]


def test_medicines_and_doses_come_only_from_the_text() -> None:
    text = (
        "[doctor] so for your blood pressure i want to increase your lisinopril to 40 milligrams "
        "a day , okay ?\n[patient] okay .\n[doctor] and continue the metformin ."
    )
    statements = statements_from_dictation(text)
    plan = _by_section(statements, "plan")
    assert "Increase lisinopril 40 milligrams a day." in plan
    assert "Continue metformin." in plan  # no dose was said, none is made up
    for statement in statements:
        named = {m.value for m in find_medicines(tokenize(statement.text))}
        in_evidence = {
            m.value for e in statement.evidence for m in find_medicines(tokenize(e.text))
        }
        assert named <= in_evidence
        for dose in re.findall(r"\d+\s*\w+", statement.text):
            assert any(dose in e.text for e in statement.evidence)


def test_no_medicine_said_no_medicine_stated() -> None:
    text = "Patient with a sore throat for three days. On exam the throat is red. Rest and fluids."
    statements = statements_from_dictation(text)
    assert statements
    assert not [s for s in statements if find_medicines(tokenize(s.text))]
    assert not [s for s in statements if re.search(r"\d", s.text)]


def test_headings_route_dictated_sections() -> None:
    text = (
        "Subjective: cough for two weeks, denies fever.\n"
        "Objective: BP 128/82, pulse 76.\n"
        "Assessment: acute bronchitis.\n"
        "Plan: albuterol 2 puffs every 4 hours as needed. Follow up in 2 weeks."
    )
    statements = statements_from_dictation(text)
    assert "Denies fever." in _by_section(statements, "subjective")
    assert "Blood pressure: 128/82." in _by_section(statements, "objective")
    assert "Acute bronchitis." in _by_section(statements, "assessment")
    plan = _by_section(statements, "plan")
    assert "Medicine: albuterol 2 puffs every 4 hours as needed." in plan
    assert "Follow up in 2 weeks." in plan
    assert [s.section for s in statements] == sorted(
        (s.section for s in statements),
        key=["subjective", "objective", "assessment", "plan"].index,
    )


def test_french_dictation() -> None:
    text = (
        "Patiente de 62 ans, consulte pour des douleurs thoraciques depuis 3 jours. "
        "Pas de dyspnée.\n"
        "Examen : TA 150/90, FC 88. Abdomen souple.\n"
        "Conclusion : angor stable probable.\n"
        "Conduite à tenir : je prescris amlodipine 5 mg par jour, poursuite du Kardégic 75 mg. "
        "ECG. Revoir dans 3 mois."
    )
    statements = statements_from_dictation(text, "fr")
    assert "Pas de dyspnée." in _by_section(statements, "subjective")
    objective = _by_section(statements, "objective")
    assert "Tension artérielle : 150/90." in objective
    assert "Examen : Abdomen souple." in objective
    assert "Possible angor stable." in _by_section(statements, "assessment")
    plan = _by_section(statements, "plan")
    assert "Débuter amlodipine 5 mg par jour." in plan
    assert "Poursuivre Kardégic 75 mg." in plan
    assert "Demander ECG." in plan
    assert "Revoir dans 3 mois." in plan
    _assert_exact(text, statements)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(DictationError, match="'en' or 'fr'"):
        statements_from_dictation("Patient denies chest pain.", "de")


def _notes_bench() -> ModuleType:
    if "notes_bench" in sys.modules:
        return sys.modules["notes_bench"]
    spec = importlib.util.spec_from_file_location("notes_bench", REPO / "bench" / "notes_bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["notes_bench"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_aci_bench_drafts_name_nothing_unsupported() -> None:
    if not (ACI / "valid.csv").exists():
        pytest.skip(f"{ACI} is absent: the ACI-Bench sample comes with the project's workspace")
    bench = _notes_bench()
    with (ACI / "valid.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:4]
    audited = bench.Audit()
    for row in rows:
        statements = statements_from_dictation(row["dialogue"])
        _assert_exact(row["dialogue"], statements)
        bench.audit(
            row["encounter_id"], statements, bench.conversation_facts(row["dialogue"]), audited
        )
    assert audited.statements > 20
    assert audited.checked_medicines + audited.checked_diagnoses > 10
    assert audited.unsupported == []


def test_audit_catches_a_medicine_the_conversation_never_names() -> None:
    bench = _notes_bench()
    facts = bench.conversation_facts("[doctor] keep taking the lisinopril 20 mg .\n[patient] ok")
    audited = bench.Audit()
    made_up = DictatedStatement("plan", "Start metformin 500 mg.", ())
    bench.audit("test", [made_up], facts, audited)
    assert {u["problem"] for u in audited.unsupported} == {"medicine metformin", "dose 500 mg"}
