"""Negation, history, family and hypothesis in English and French (NegEx/ConText rules)."""

from __future__ import annotations

import pytest

from healthspace.coding.icd10_coder import load_icd10_coder

CODER = load_icd10_coder()


def statuses(text: str, lang: str | None = None) -> dict[str, str]:
    """Evidence → status of every mention, current or not."""
    found = CODER.suggest(text, lang=lang, include_all=True)
    return {s.evidence: s.status for s in found}


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("Patient denies chest pain.", "en", {"chest pain": "negated"}),
        ("No fever.", "en", {"fever": "negated"}),
        ("Negative for pneumonia.", "en", {"pneumonia": "negated"}),
        ("Pulmonary embolism was ruled out.", "en", {"Pulmonary embolism": "negated"}),
        ("COVID negative", "en", {"COVID": "negated"}),
        ("pas de fièvre", "fr", {"fièvre": "negated"}),
        ("Absence de douleur thoracique.", "fr", {"douleur thoracique": "negated"}),
        ("Patient sans fièvre.", "fr", {"fièvre": "negated"}),
        ("Ne présente pas de dyspnée.", "fr", {"dyspnée": "negated"}),
        ("Embolie pulmonaire écartée.", "fr", {"Embolie pulmonaire": "negated"}),
        ("Ni fièvre ni toux.", "fr", {"fièvre": "negated", "toux": "negated"}),
    ],
)
def test_negation(text: str, lang: str, expected: dict[str, str]) -> None:
    assert statuses(text, lang) == expected
    assert CODER.suggest(text, lang=lang) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("History of myocardial infarction.", {"myocardial infarction": "historical"}),
        ("PMH: asthma, GERD.", {"asthma": "historical", "GERD": "historical"}),
        ("s/p stroke", {"stroke": "historical"}),
        ("Antécédent d'infarctus.", {"infarctus": "historical"}),
        ("Antécédents d'asthme.", {"asthme": "historical"}),
        ("ATCD de pneumopathie.", {"pneumopathie": "historical"}),
        (
            "ATCD : HTA, DT2, BPCO.",
            {"HTA": "historical", "DT2": "historical", "BPCO": "historical"},
        ),
        ("Family history of colon cancer.", {"colon cancer": "family"}),
        ("Mother has diabetes.", {"diabetes": "family"}),
        ("Mère diabétique.", {"diabétique": "family"}),
        ("Antécédents familiaux : cancer du sein.", {"cancer du sein": "family"}),
        ("Diabète chez sa mère.", {"Diabète": "family"}),
        ("Possible pneumonia.", {"pneumonia": "hypothetical"}),
        ("Rule out pulmonary embolism.", {"pulmonary embolism": "hypothetical"}),
        ("Suspicion de méningite et de pneumonie.", {"pneumonie": "hypothetical"}),
        ("Suspicion d'embolie pulmonaire.", {"embolie pulmonaire": "hypothetical"}),
        ("Appendicite à éliminer.", {"Appendicite": "hypothetical"}),
        ("Return if fever develops.", {"fever": "hypothetical"}),
        ("Pneumopathie probable.", {"Pneumopathie": "hypothetical"}),
        ("Findings consistent with pneumonia.", {"pneumonia": "hypothetical"}),
        ("Image compatible avec une pneumopathie.", {"pneumopathie": "hypothetical"}),
    ],
)
def test_history_family_and_hypothesis(text: str, expected: dict[str, str]) -> None:
    assert statuses(text) == expected


def test_scope_ends_at_but_and_mais() -> None:
    assert statuses("pas de fièvre mais toux") == {"fièvre": "negated", "toux": "current"}
    assert statuses("No fever but cough.") == {"fever": "negated", "cough": "current"}
    assert statuses("Denies chest pain; has dyspnea.") == {
        "chest pain": "negated",
        "dyspnea": "current",
    }


def test_a_reason_for_visit_ends_a_history_scope() -> None:
    assert statuses("Hx of asthma, here for cough.") == {"asthma": "historical", "cough": "current"}
    assert statuses("ATCD d'asthme, consulte pour toux.") == {
        "asthme": "historical",
        "toux": "current",
    }


def test_scope_ends_at_the_sentence() -> None:
    assert statuses("No fever. Cough for two days.") == {"fever": "negated", "Cough": "current"}
    assert statuses("Antécédent d'asthme.\nToux ce jour.") == {
        "asthme": "historical",
        "Toux": "current",
    }


def test_a_heading_list_stays_in_scope_across_lines() -> None:
    text = "Antécédents :\n- HTA\n- diabète de type 2\nConsulte pour toux."
    assert statuses(text) == {
        "HTA": "historical",
        "diabète de type 2": "historical",
        "toux": "current",
    }


def test_a_negated_list_is_negated_to_its_end() -> None:
    assert statuses("Denies fever, chills, cough or chest pain.") == {
        "fever": "negated",
        "chills": "negated",
        "cough": "negated",
        "chest pain": "negated",
    }


def test_chained_triggers_read_as_one() -> None:
    assert statuses("No family history of diabetes.") == {"diabetes": "negated"}
    assert statuses("Pas d'antécédent de diabète.") == {"diabète": "negated"}


def test_a_backward_trigger_governs_only_its_clause() -> None:
    assert statuses("Toux, fièvre, pneumopathie écartée.") == {
        "Toux": "current",
        "fièvre": "current",
        "pneumopathie": "negated",
    }


def test_pseudo_triggers_do_not_negate() -> None:
    assert statuses("No change in his asthma.") == {"asthma": "current"}
    assert statuses("Toux sans amélioration.") == {"Toux": "current"}
    assert statuses("Cough, not improved with inhaler.") == {"Cough": "current"}


def test_a_trigger_inside_a_condition_name_is_not_a_trigger() -> None:
    assert statuses("Non-insulin-dependent diabetes.") == {
        "Non-insulin-dependent diabetes": "current"
    }


def test_mixed_language_notes_use_both_rule_sets() -> None:
    assert statuses("Patient denies chest pain. Antécédent d'infarctus.") == {
        "chest pain": "negated",
        "infarctus": "historical",
    }
    # English "son" is French "his": not a relative in French text.
    assert statuses("Son diabète est équilibré, pas de fièvre.") == {
        "diabète": "current",
        "fièvre": "negated",
    }


def test_the_trigger_is_reported_as_written() -> None:
    [found] = CODER.suggest("Patient DENIES chest pain.", include_all=True)
    assert found.trigger == "DENIES" and found.status == "negated"
    [current] = CODER.suggest("Chest pain.", include_all=True)
    assert current.trigger is None
