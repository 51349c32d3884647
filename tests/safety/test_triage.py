"""Triage: the rules file, the policy, and the CLI and API that show it."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthspace.bootstrap import Healthspace
from healthspace.safety.triage import (
    MAX_TEXT_CHARS,
    TriageResult,
    TriageTextTooLongError,
    triage,
)
from healthspace.safety.triage_rules import (
    LEVELS,
    compile_pattern,
    level_rank,
    load_triage_rules,
    parse_triage_rules,
)
from tests.server import HEALTHSPACE, cli_env
from tests.signed_in import signed_in_client

RULES_FILE = Path(__file__).resolve().parents[2] / "src/healthspace/safety/data/triage_rules.json"
JSON_KEYS = {
    "level",
    "red_flags",
    "reasons",
    "advice",
    "call",
    "lang",
    "country",
    "rules_version",
    "sources",
}


def level(text: str, lang: str = "en", country: str | None = None) -> str:
    return triage(text, lang, country).level  # type: ignore[arg-type]


def rules_applied(text: str) -> set[str]:
    return {m.rule.id for m in triage(text).matches}


# --- the rules file --------------------------------------------------------------------------


def test_the_rules_file_loads_and_every_reference_resolves() -> None:
    rules = load_triage_rules()
    concept_ids = {c.id for c in rules.concepts}
    for rule in rules.rules:
        assert rule.level in LEVELS
        assert rule.sources and all(s in rules.sources for s in rule.sources), rule.id
        assert set(rule.when.concepts()) <= concept_ids, rule.id
        assert rule.reason.en and rule.reason.fr
        if rule.level in ("emergency", "urgent"):
            assert rule.red_flag is not None and rule.red_flag.en and rule.red_flag.fr
    for source in rules.sources.values():
        assert source.url.startswith("https://")


def test_every_concept_has_english_and_french_patterns_that_compile() -> None:
    for concept in load_triage_rules().concepts:
        assert concept.patterns.en and concept.patterns.fr, concept.id
        for pattern in concept.patterns.all():
            assert pattern.isascii(), f"{concept.id}: patterns are over folded text: {pattern}"
            re.compile(compile_pattern(pattern))


def test_every_concept_is_used_by_a_rule() -> None:
    rules = load_triage_rules()
    used = {c for rule in rules.rules for c in rule.when.concepts()}
    assert {c.id for c in rules.concepts} - used == set()


def test_every_country_has_an_emergency_number_and_a_default_exists() -> None:
    numbers = load_triage_rules().emergency_numbers
    assert "default" in numbers
    assert all(entry.emergency for entry in numbers.values())
    assert numbers["FR"].emergency == "15" and numbers["FR"].general == "112"
    assert numbers["US"].emergency == "911"
    assert numbers["GB"].emergency == "999" and numbers["GB"].advice == "111"


def test_every_level_has_advice_in_both_languages() -> None:
    rules = load_triage_rules()
    for level_name in LEVELS:
        assert rules.advice[level_name].en and rules.advice[level_name].fr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["rules"][0]["when"].update(any=["no_such_concept"]), "unknown concepts"),
        (lambda d: d["rules"][0].update(sources=["no_such_source"]), "undefined source"),
        (lambda d: d["rules"][0].pop("red_flag"), "needs a red_flag"),
        (lambda d: d["rules"][0]["reason"].pop("fr"), "fr"),
        (lambda d: d["emergency_numbers"].pop("default"), "default"),
        (lambda d: d["rules"].append(d["rules"][0]), "duplicate rule ids"),
    ],
)
def test_a_broken_rules_file_is_refused(change: Any, message: str) -> None:
    data = json.loads(RULES_FILE.read_text("utf-8"))
    assert data["rules"][0]["level"] == "emergency"
    change(data)
    with pytest.raises(ValueError, match=message):
        parse_triage_rules(data)


# --- levels ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I have chest pain", "emergency"),
        ("no chest pain, just a runny nose", "self_care"),
        ("J'ai mal à la poitrine", "emergency"),
        ("Pas de douleur thoracique, le nez qui coule", "self_care"),
        ("He denies chest pain; heartburn after meals for two months", "non_urgent"),
    ],
)
def test_negation_changes_the_level(text: str, expected: str) -> None:
    assert level(text, "fr" if "'" in text or "Pas" in text else "en") == expected


PAIRS = [
    (
        "Crushing chest pain spreading to my left arm",
        "Douleur dans la poitrine qui serre et descend dans le bras gauche",
    ),
    (
        "My face is drooping and my speech is slurred",
        "J'ai la bouche de travers et je parle difficilement",
    ),
    (
        "I can't breathe and my lips are blue",
        "Je n'arrive plus à respirer et j'ai les lèvres bleues",
    ),
    ("My 2 month old baby has a fever of 38.5", "Mon bébé de 2 mois a 38,5 de fièvre"),
    (
        "Burning when I pee with a fever and back pain",
        "Brûlures en urinant avec de la fièvre et mal au dos",
    ),
    ("I have had a cough for 5 weeks", "Je tousse depuis 5 semaines"),
    ("I found a lump in my breast", "J'ai trouvé une boule dans le sein"),
    ("Runny nose and sneezing since yesterday", "Le nez qui coule et des éternuements depuis hier"),
    ("Sore throat for 2 days, no fever", "Mal à la gorge depuis 2 jours, pas de fièvre"),
    (
        "I'm 30 weeks pregnant and the baby is moving less",
        "Enceinte de 30 semaines, le bébé bouge moins",
    ),
    ("I want to end my life", "Je veux mettre fin à mes jours"),
    ("Small cut on my finger", "Petite coupure au doigt"),
]


@pytest.mark.parametrize(("english", "french"), PAIRS)
def test_english_and_french_get_the_same_level(english: str, french: str) -> None:
    assert level(english, "en") == level(french, "fr")


def test_a_baby_under_3_months_with_fever_is_seen_today_as_the_nhs_says() -> None:
    for text, lang in (
        ("my 2 month old baby has a temperature of 38.5", "en"),
        ("mon bébé de 2 mois a 38,5 de fièvre", "fr"),
    ):
        result = triage(text, lang)  # type: ignore[arg-type]
        assert result.level in ("emergency", "urgent")
        assert "baby_under_3_months_fever" in {m.rule.id for m in result.matches}
        urls = {s.url for s in result.sources}
        assert "https://www.nhs.uk/conditions/fever-in-children/" in urls


def test_an_adult_with_a_day_of_fever_at_38_5_is_not_urgent() -> None:
    assert level("I'm 35 and have had a fever of 38.5 since yesterday") in (
        "self_care",
        "non_urgent",
    )


def test_the_same_fever_becomes_urgent_when_it_lasts() -> None:
    assert level("I'm 35 and have had a fever of 38.5 for 4 days") == "urgent"
    assert level("my 4 year old has had a fever for 6 days") == "urgent"
    assert level("my 4 year old has had a fever for 2 days, drinking well") == "self_care"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm 30 weeks pregnant and bleeding a little", "urgent"),
        ("I'm 10 weeks pregnant, bleeding and very dizzy", "emergency"),
        ("34 weeks pregnant with a terrible headache and blurred vision", "emergency"),
        ("enceinte de 32 semaines, mon bébé ne bouge plus depuis ce matin", "emergency"),
        ("enceinte de 20 semaines, brûlures en urinant", "urgent"),
        ("I'm pregnant with mild morning sickness, keeping fluids down", "self_care"),
    ],
)
def test_pregnancy_changes_the_level(text: str, expected: str) -> None:
    assert level(text, "fr" if "enceinte" in text else "en") == expected


def test_bleeding_gums_out_of_pregnancy_do_not_use_the_pregnancy_rule() -> None:
    assert "pregnancy_bleeding" not in rules_applied("my gums are bleeding a little")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cough for 4 weeks", "non_urgent"),
        ("cough for 4 days", "self_care"),
        ("chest pain since an hour", "emergency"),
        ("chest pain on the left side for 5 days, no other symptoms", "urgent"),
        ("sore throat for 2 weeks", "non_urgent"),
        ("vomiting for 3 days", "urgent"),
        ("changement du transit depuis 2 mois", "non_urgent"),
    ],
)
def test_duration_changes_the_level(text: str, expected: str) -> None:
    assert level(text) == expected


def test_immunosuppression_and_chemotherapy_raise_a_fever() -> None:
    assert level("I have a fever of 38.3") == "self_care"
    assert (
        level("I'm on immunosuppressants after a transplant and have a fever of 38.3") == "urgent"
    )
    assert level("I'm having chemotherapy and have a fever of 38.3") == "emergency"


def test_nothing_recognised_is_never_self_care() -> None:
    result = triage("blah blah blah")
    assert result.level == "non_urgent"
    assert "could not recognise" in result.reasons[0]
    assert "111" in triage("blah", country="GB").advice
    assert "116 117" in triage("bla bla", "fr").advice


def test_only_denied_symptoms_are_not_reassurance_either() -> None:
    result = triage("no fever, no chest pain")
    assert result.level == "non_urgent" and result.red_flags == ()
    assert "no warning sign" in result.reasons[0]


def test_a_message_too_long_is_refused_with_a_message_to_act_on() -> None:
    with pytest.raises(TriageTextTooLongError, match="at most"):
        triage("a" * (MAX_TEXT_CHARS + 1))


# --- numbers to call -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "lang", "call", "in_advice"),
    [
        ("FR", "fr", "15", "le 15 (ou le 112)"),
        ("US", "en", "911", "Call 911 now"),
        ("GB", "en", "999", "Call 999 (or 112) now"),
        ("CH", "fr", "144", "le 144 (ou le 112)"),
        ("ZZ", "en", "112", "local emergency number"),
        (None, "fr", "15", "le 15"),
    ],
)
def test_the_number_to_call_follows_the_country(
    country: str | None, lang: str, call: str, in_advice: str
) -> None:
    result = triage("crushing chest pain", lang, country)  # type: ignore[arg-type]
    assert result.call == call
    assert in_advice in result.advice


def test_no_number_is_given_when_it_is_not_an_emergency() -> None:
    assert triage("runny nose", country="FR").call is None


def test_suicidal_thoughts_add_the_crisis_line_of_the_country() -> None:
    assert "3114" in triage("je pense à me suicider", "fr", "FR").advice
    assert "988" in triage("I want to kill myself", "en", "US").advice
    assert triage("I want to kill myself", "en", "US").call == "911"


# --- the machine interface -------------------------------------------------------------------


def test_the_json_has_the_documented_shape() -> None:
    data = triage("J'ai une douleur dans la poitrine", "fr", "FR").as_json()
    assert set(data) == JSON_KEYS
    assert data["level"] == "emergency" and data["call"] == "15"
    assert data["lang"] == "fr" and data["country"] == "FR"
    assert data["red_flags"] and data["reasons"]
    assert data["rules_version"] == load_triage_rules().version
    assert all(set(s) == {"publisher", "title", "url", "reviewed"} for s in data["sources"])
    json.dumps(data)


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HEALTHSPACE), "triage", *args],
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_cli_prints_exactly_one_json_document(tmp_path: Path) -> None:
    result = _cli(
        tmp_path / "home",
        "Douleur thoracique qui serre",
        "--lang",
        "fr",
        "--country",
        "FR",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == JSON_KEYS
    assert (data["level"], data["call"], data["country"]) == ("emergency", "15", "FR")


def test_the_cli_shows_the_number_first_and_refuses_a_bad_country(tmp_path: Path) -> None:
    shown = _cli(tmp_path / "home", "I can't breathe", "--country", "US")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.lstrip().startswith("EMERGENCY: CALL 911 NOW")
    refused = _cli(tmp_path / "home", "cough", "--country", "France")
    assert refused.returncode == 2
    assert "two-letter country code" in refused.stderr


@pytest.fixture
def client(hs_sqlite: Healthspace) -> Iterator[TestClient]:
    with signed_in_client(hs_sqlite) as test_client:
        yield test_client


def test_the_api_answers_post_and_get_with_the_cli_json(client: TestClient) -> None:
    posted = client.post(
        "/api/v1/triage", json={"text": "I can't breathe", "lang": "en", "country": "GB"}
    )
    assert posted.status_code == 200
    assert set(posted.json()) == JSON_KEYS
    assert (posted.json()["level"], posted.json()["call"]) == ("emergency", "999")
    got = client.get("/api/v1/triage", params={"text": "nez qui coule", "lang": "fr"})
    assert got.status_code == 200 and got.json()["level"] == "self_care"
    assert client.get("/api/v1/triage", params={"text": "x", "country": "FRA"}).status_code == 422
    assert client.post("/api/v1/triage", json={"text": ""}).status_code == 422


# --- properties ------------------------------------------------------------------------------

# Emergencies on their own, whatever surrounds them: no age, duration or pregnancy condition.
RED_FLAG_SENTENCES = [
    "He is not breathing.",
    "Her lips have turned blue.",
    "He collapsed and is unconscious.",
    "I have crushing chest pain and I am sweating.",
    "Il a la bouche de travers et n'arrive plus à parler.",
    "Je pense à me suicider.",
    "She is having a seizure.",
    "Il vomit du sang.",
]
NEGATED_SENTENCES = [
    "No chest pain.",
    "Pas de douleur thoracique.",
    "She is not confused.",
    "No fever.",
    "Il n'a pas de raideur de la nuque.",
    "I am not short of breath.",
]
# Text made of real symptom words as well as noise, so properties meet negations and numbers.
WORDS = st.sampled_from(
    "no not pas de sans chest pain fever 39.5 baby 2 months pregnant enceinte cough for weeks "
    "days depuis semaines headache mal tête stiff neck rash vomiting blood bleeding and but mais "
    "my son is 3 ans history of confused . , ; ! ? \n".split(" ")
)
MESSAGES = st.one_of(st.text(max_size=300), st.lists(WORDS, max_size=40).map(" ".join))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MESSAGES, st.sampled_from(["en", "fr"]), st.sampled_from([None, "FR", "US", "GB", "ZZ"]))
def test_any_text_gets_a_level_and_never_crashes(text: str, lang: str, country: str | None) -> None:
    result = triage(text, lang, country)  # type: ignore[arg-type]
    assert isinstance(result, TriageResult)
    assert result.level in LEVELS
    assert (result.call is not None) == (result.level == "emergency")
    assert set(result.as_json()) == JSON_KEYS


def test_each_red_flag_sentence_is_an_emergency_on_its_own() -> None:
    for sentence in RED_FLAG_SENTENCES:
        assert level(sentence) == "emergency", sentence


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MESSAGES, st.sampled_from(RED_FLAG_SENTENCES))
def test_adding_a_red_flag_never_lowers_the_level(text: str, red_flag: str) -> None:
    before = level(text)
    after = level(f"{text}. {red_flag}")
    assert level_rank(after) <= level_rank(before)  # type: ignore[arg-type]
    assert after == "emergency"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MESSAGES, st.sampled_from(NEGATED_SENTENCES))
def test_adding_a_denied_symptom_never_raises_the_level(text: str, denial: str) -> None:
    before = level(text)
    after = level(f"{text}. {denial}")
    assert level_rank(after) >= level_rank(before)  # type: ignore[arg-type]
