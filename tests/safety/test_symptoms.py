"""The finder: what a message says, with negation, durations, ages, pregnancy and temperatures."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from healthspace.safety.symptoms import (
    DEFAULT_AGE,
    SymptomFindings,
    find_symptoms,
    normalise,
)


def findings_for(text: str) -> SymptomFindings:
    return find_symptoms(text)


def negated(text: str, concept: str) -> bool:
    found = [f for f in find_symptoms(text).concepts if f.concept == concept]
    assert found, f"{concept} not found in {text!r}"
    return all(f.negated for f in found)


def durations_of(text: str, concept: str) -> set[float]:
    return {
        round(d, 3)
        for f in find_symptoms(text).concepts
        if f.concept == concept
        for d in f.durations
    }


# --- normalisation and evidence --------------------------------------------------------------


def test_normalising_folds_case_accents_and_splits_french_elisions() -> None:
    assert normalise("J'AI Mal À La Tête").text == "j' ai mal a la tete"
    assert normalise("n’arrive-t-il pas").text == "n' arrive t il pas"


def test_decimal_commas_stay_and_other_commas_become_words() -> None:
    assert normalise("fièvre à 38,5, toux (sèche)").text == "fievre a 38,5 , toux seche"


@given(st.text(max_size=200))
def test_every_normalised_character_points_back_into_the_original(text: str) -> None:
    norm = normalise(text)
    assert len(norm.origin) == len(norm.text)
    assert all(0 <= index < len(text) for index in norm.origin)
    assert list(norm.origin) == sorted(norm.origin)


def test_evidence_is_the_persons_own_words() -> None:
    text = "Depuis hier, j'ai une Douleur Thoracique qui serre."
    finding = next(f for f in find_symptoms(text).concepts if f.concept == "chest_pain")
    assert finding.span.text == text[finding.span.start : finding.span.end]
    assert finding.span.text.startswith("Douleur Thoracique")


# --- negation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("no chest pain", "chest_pain"),
        ("He denies chest pain, fever or shortness of breath", "breathless"),
        ("I don't have a fever", "fever"),
        ("I'm not short of breath", "breathless"),
        ("without any vomiting", "vomiting"),
        ("negative for neck stiffness", "stiff_neck"),
        ("Pas de douleur thoracique", "chest_pain"),
        ("je n'ai pas de fièvre", "fever"),
        ("Il ne tousse pas", "cough"),
        ("sans fièvre ni vomissements", "vomiting"),
        ("aucune raideur de la nuque", "stiff_neck"),
        ("Il n'a plus de fièvre", "fever"),
        ("Je ne suis pas essoufflé", "breathless"),
        ("fever: absent", "fever"),
    ],
)
def test_negated_symptoms_are_marked_negated(text: str, concept: str) -> None:
    assert negated(text, concept)


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("no fever but crushing chest pain", "chest_pain"),
        ("pas de fièvre mais une douleur dans la poitrine", "chest_pain"),
        ("I can't stop vomiting", "vomiting"),
        ("il vomit sans arrêt", "vomiting"),
        ("he is not breathing and his lips are blue", "blue_lips"),
        ("il ne respire plus et il a les lèvres bleues", "blue_lips"),
        ("not sure why, but I have a headache", "headache"),
        ("no rash. I have a stiff neck", "stiff_neck"),
    ],
)
def test_negation_stops_at_but_a_new_clause_or_a_new_sentence(text: str, concept: str) -> None:
    assert not negated(text, concept)


def test_a_phrase_that_contains_its_own_negation_is_the_symptom() -> None:
    assert "severe_breathing" in findings_for("He is not breathing").present
    assert "severe_breathing" in findings_for("Elle n'arrive plus à respirer").present
    assert "reduced_fetal_movements" in findings_for("je ne sens plus bouger mon bébé").present


@pytest.mark.parametrize(
    "text",
    ["I had a seizure as a child", "Il a fait un AVC l'an dernier", "chest pain 2 years ago"],
)
def test_a_symptom_placed_in_the_past_does_not_count(text: str) -> None:
    found = find_symptoms(text).concepts
    assert found and all(f.historical and not f.present for f in found)


def test_a_past_symptom_that_is_back_counts() -> None:
    assert "seizure" in findings_for("I had a seizure last year and again today").present


def test_past_history_does_not_count_but_a_duration_history_does() -> None:
    assert "headache" not in findings_for("history of migraine headaches").present
    assert "lung_disease" in findings_for("with a history of COPD").present
    assert durations_of("a 2-month history of stomach pain", "abdominal_pain") == {60.0}


# --- durations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "concept", "days"),
    [
        ("cough for 3 weeks", "cough", 21.0),
        ("je tousse depuis 2 semaines", "cough", 14.0),
        ("fever since yesterday", "fever", 1.0),
        ("fièvre depuis 48h", "fever", 2.0),
        ("je tousse depuis plus d'un mois", "cough", 30.0),
        ("a 12-day history of cough", "cough", 12.0),
        ("headache for a couple of days", "headache", 2.0),
        ("mal de tête depuis quelques jours", "headache", 3.0),
        ("chest pain for half an hour", "chest_pain", round(1 / 48, 3)),
        ("back pain for 2 years", "back_pain", 730.0),
    ],
)
def test_durations_are_read_in_days(text: str, concept: str, days: float) -> None:
    assert days in durations_of(text, concept)


def test_a_short_sentence_with_only_a_duration_belongs_to_the_sentence_before() -> None:
    assert 5.0 in durations_of("My son has a fever. It started 5 days ago.", "fever")


def test_a_duration_in_another_long_sentence_is_not_borrowed() -> None:
    text = "I have had a runny nose and a cough for 6 days. I also had fevers as high as 38.2."
    assert durations_of(text, "fever") == set()


def test_an_age_in_years_is_not_a_duration() -> None:
    found = findings_for("J'ai 45 ans et mal au dos")
    assert [d.days for d in found.durations] == []


# --- ages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("a 45-year-old woman", 45.0),
        ("45 yo male with cough", 45.0),
        ("I'm 45 and have a cough", 45.0),
        ("my son is 12", 12.0),
        ("j'ai 45 ans", 45.0),
        ("mon fils de 3 ans tousse", 3.0),
        ("a 6-month-old baby", 0.5),
        ("mon bébé de 6 semaines", round(6 * 7 / 365, 3)),
        ("elle a 18 mois", 1.5),
        ("ma grand-mère de 80 ans", 80.0),
    ],
)
def test_ages_are_read_in_years(text: str, years: float) -> None:
    ages = findings_for(text).age_ranges
    assert [(round(low, 3), round(high, 3)) for low, high in ages] == [(years, years)]


def test_words_give_an_age_range_when_no_number_is_given() -> None:
    assert findings_for("my baby has a cough").age_ranges == ((0.0, 1.0),)
    assert findings_for("mon nourrisson tousse").age_ranges == ((0.0, 1.0),)


def test_weeks_of_pregnancy_are_not_an_age_and_no_age_means_an_adult() -> None:
    found = findings_for("I'm 28 weeks pregnant with a headache")
    assert found.age_assumed and found.age_ranges == (DEFAULT_AGE,)


# --- pregnancy, temperature, sex ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pregnant", "weeks"),
    [
        ("I'm pregnant and dizzy", True, None),
        ("28 weeks pregnant, headache", True, 28.0),
        ("enceinte de 12 semaines", True, 12.0),
        ("grossesse de 30 SA", True, 30.0),
        ("enceinte de 5 mois", True, 21.8),
        ("I am not pregnant", False, None),
        ("je ne suis pas enceinte", False, None),
        ("back pain since my pregnancy", False, None),
    ],
)
def test_pregnancy_and_its_weeks(text: str, pregnant: bool, weeks: float | None) -> None:
    found = findings_for(text)
    assert found.pregnant is pregnant
    assert found.pregnancy_weeks == weeks


@pytest.mark.parametrize(
    ("text", "celsius"),
    [
        ("fever of 39.5", 39.5),
        ("temp 102°F", 38.9),
        ("fièvre à 40", 40.0),
        ("38,4 de fièvre", 38.4),
        ("fevers as high as 100.8", 38.2),
        ("elle a 38,2", 38.2),
        ("39 °C", 39.0),
    ],
)
def test_temperatures_in_celsius(text: str, celsius: float) -> None:
    assert findings_for(text).max_temperature == celsius


def test_a_temperature_of_38_or_more_is_a_fever_and_less_is_not() -> None:
    assert "fever" in findings_for("temperature 38.1").present
    assert "fever" not in findings_for("temperature 37.9").present
    assert findings_for("I weigh 38.5 kg").max_temperature is None


def test_the_sex_of_the_person_described() -> None:
    assert findings_for("My husband has chest pain").sex == "male"
    assert findings_for("Ma fille tousse").sex == "female"
