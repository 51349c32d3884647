"""The words drafts are written with, in English and French.

Clinician documents (SOAP, discharge, referral, prior authorization) use short clinical
labels; the after-visit summary speaks to the patient in short sentences and everyday words
(aimed at a 12-year-old reader). The record's own words (a condition's name, a medicine's
label) are quoted as the record writes them.
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from healthspace.clinician.drafts.model import Kind, Language

TYPE_LABELS: dict[Kind, dict[Language, str]] = {
    "soap": {"en": "SOAP progress note", "fr": "Note d'évolution (SOAP)"},
    "discharge": {"en": "Discharge summary", "fr": "Compte rendu d'hospitalisation"},
    "referral": {"en": "Referral letter", "fr": "Lettre d'adressage"},
    "after_visit": {"en": "After-visit summary", "fr": "Résumé de votre consultation"},
    "prior_auth": {
        "en": "Prior authorization request",
        "fr": "Demande d'accord préalable",
    },
}

# Section key → (title in each language, LOINC section code and display or None).
SECTIONS: dict[str, tuple[dict[Language, str], tuple[str, str] | None]] = {
    # SOAP (C-CDA progress note sections)
    "subjective": ({"en": "Subjective", "fr": "Subjectif"}, ("61150-9", "Subjective Narrative")),
    "objective": ({"en": "Objective", "fr": "Objectif"}, ("61149-1", "Objective Narrative")),
    "assessment": ({"en": "Assessment", "fr": "Évaluation"}, ("51848-0", "Evaluation note")),
    "plan": ({"en": "Plan", "fr": "Plan"}, ("18776-5", "Plan of care note")),
    # discharge summary
    "stay": ({"en": "Hospital stay", "fr": "Séjour"}, ("8648-8", "Hospital course Narrative")),
    "admission_reason": (
        {"en": "Reason for admission", "fr": "Motif d'hospitalisation"},
        ("46241-6", "Hospital admission diagnosis Narrative"),
    ),
    "problems": (
        {"en": "Problems", "fr": "Problèmes"},
        ("11450-4", "Problem list - Reported"),
    ),
    "procedures": ({"en": "Procedures", "fr": "Actes"}, ("47519-4", "History of Procedures")),
    "results": ({"en": "Results", "fr": "Résultats"}, ("30954-2", "Relevant diagnostic tests")),
    "discharge_medications": (
        {"en": "Medicines on discharge", "fr": "Traitement de sortie"},
        ("10183-2", "Hospital discharge medications Narrative"),
    ),
    "follow_up": ({"en": "Follow-up", "fr": "Suivi"}, ("18776-5", "Plan of care note")),
    # referral letter
    "addressee": ({"en": "To", "fr": "Destinataire"}, None),
    "referral_reason": (
        {"en": "Reason for referral", "fr": "Motif"},
        ("42349-1", "Reason for referral"),
    ),
    "medications": (
        {"en": "Current medicines", "fr": "Traitement en cours"},
        ("10160-0", "History of Medication use"),
    ),
    "allergies": (
        {"en": "Allergies and intolerances", "fr": "Allergies et intolérances"},
        ("48765-2", "Allergies and adverse reactions"),
    ),
    # after-visit summary (for the patient)
    "visit": ({"en": "Why you came", "fr": "Pourquoi vous êtes venu"}, None),
    "findings": ({"en": "What your doctor noted", "fr": "Ce que votre médecin a noté"}, None),
    "tests": ({"en": "Your tests", "fr": "Vos examens"}, None),
    "your_medicines": ({"en": "Your medicines", "fr": "Vos médicaments"}, None),
    "your_allergies": ({"en": "Your allergies", "fr": "Vos allergies"}, None),
    "next_steps": ({"en": "What happens next", "fr": "La suite"}, None),
    # prior authorization
    "request": ({"en": "Requested treatment", "fr": "Traitement demandé"}, None),
    "diagnosis": ({"en": "Diagnosis (ICD-10-CM)", "fr": "Diagnostic (CIM-10-CM)"}, None),
    "tried_treatments": (
        {"en": "Treatments tried", "fr": "Traitements déjà essayés"},
        ("10160-0", "History of Medication use"),
    ),
    "justification": ({"en": "Justification", "fr": "Justification"}, None),
}

PHRASES: dict[str, dict[Language, str]] = {
    # clinician documents
    "to_complete": {
        "en": "Nothing in the record for this section: to be completed by the clinician.",
        "fr": "Rien dans le dossier pour cette partie : à compléter par le clinicien.",
    },
    "visit_reason": {"en": "Reason for visit: {reason}", "fr": "Motif : {reason}"},
    "procedure": {"en": "Procedure: {text}", "fr": "Acte : {text}"},
    "prescribed": {"en": "Prescribed: {text}", "fr": "Prescrit : {text}"},
    "ordered": {"en": "Ordered: {text}", "fr": "Demandé : {text}"},
    "stay": {
        "en": "Admitted {start}, discharged {end} ({kind})",
        "fr": "Entrée le {start}, sortie le {end} ({kind})",
    },
    "disposition": {"en": "Discharged to: {text}", "fr": "Sortie vers : {text}"},
    "diagnosis_of_stay": {"en": "Diagnosis of the stay: {text}", "fr": "Diagnostic : {text}"},
    "addressee": {"en": "To: {text}", "fr": "À : {text}"},
    "requested": {"en": "Requested: {text}", "fr": "Demandé : {text}"},
    "requested_in_record": {
        "en": "In the record: {text}",
        "fr": "Dans le dossier : {text}",
    },
    "icd": {"en": "{code} {description}", "fr": "{code} {description}"},
    "icd_in_record": {
        "en": "{code} {description} — recorded as {text}",
        "fr": "{code} {description} — noté : {text}",
    },
    "no_icd": {
        "en": "No ICD-10-CM code in the record for this request: to be chosen by the clinician.",
        "fr": "Aucun code CIM-10-CM dans le dossier pour cette demande : à choisir.",
    },
    "no_tried": {
        "en": "No earlier treatment for this indication is recorded: to be completed.",
        "fr": "Aucun traitement antérieur pour cette indication dans le dossier : à compléter.",
    },
    "known_since": {
        "en": "{text}: recorded since {date}",
        "fr": "{text} : noté depuis le {date}",
    },
    "tried_count": {
        "en": "{count} earlier treatment(s) recorded for this indication",
        "fr": "{count} traitement(s) antérieur(s) noté(s) pour cette indication",
    },
    "why_now": {
        "en": "Why this treatment is needed now: to be written by the clinician.",
        "fr": "Pourquoi ce traitement est nécessaire maintenant : à rédiger par le clinicien.",
    },
    # after-visit summary: short sentences, everyday words
    "avs_visit": {
        "en": "You had a visit on {date}: {kind}.",
        "fr": "Vous avez eu une consultation le {date} : {kind}.",
    },
    "avs_reason": {
        "en": "The reason for the visit was: {text}.",
        "fr": "La raison de la consultation : {text}.",
    },
    "avs_found": {"en": "Your doctor noted: {text}.", "fr": "Votre médecin a noté : {text}."},
    "avs_test": {"en": "{name}: {value}.", "fr": "{name} : {value}."},
    "avs_test_flag": {
        "en": "{name}: {value}. This is {flag}.",
        "fr": "{name} : {value}. C'est {flag}.",
    },
    "avs_procedure": {
        "en": "Done during the visit: {text}.",
        "fr": "Fait pendant la consultation : {text}.",
    },
    "avs_new_medicine": {
        "en": "New medicine from this visit: {text}.",
        "fr": "Nouveau médicament de cette consultation : {text}.",
    },
    "avs_how": {"en": "How to take it: {text}.", "fr": "Comment le prendre : {text}."},
    "avs_medicine": {"en": "You take: {text}.", "fr": "Vous prenez : {text}."},
    "avs_allergy": {
        "en": "You are allergic to: {text}. Tell every doctor and pharmacist.",
        "fr": "Vous êtes allergique à : {text}. Dites-le à chaque médecin et pharmacien.",
    },
    "avs_next": {"en": "Next: {text}.", "fr": "Ensuite : {text}."},
    "avs_next_missing": {
        "en": "Your doctor will add what to do next.",
        "fr": "Votre médecin ajoutera ce qu'il faut faire ensuite.",
    },
    "avs_nothing": {
        "en": "Nothing was written down about this.",
        "fr": "Rien n'a été noté à ce sujet.",
    },
}

FLAGS: dict[str, dict[Language, str]] = {
    "normal": {"en": "in the usual range", "fr": "dans les valeurs habituelles"},
    "high": {"en": "higher than usual", "fr": "plus haut que d'habitude"},
    "low": {"en": "lower than usual", "fr": "plus bas que d'habitude"},
    "critical": {
        "en": "far from the usual range: your doctor will talk to you about it",
        "fr": "très loin des valeurs habituelles : votre médecin vous en parlera",
    },
}


def phrase(key: str, lang: Language, **values: object) -> str:
    return PHRASES[key][lang].format(**values)


def day_text(value: str | None, lang: Language, plain: bool = False) -> str:
    """A record date as a day: "2024-05-10", or "10 May 2024" / "10 mai 2024" for patients."""
    if not value:
        return "?"
    try:
        # The day as the record wrote it: converting to UTC first could move it by one.
        day = date.fromisoformat(value[:10])
    except ValueError:
        return value[:10]
    return format_date(day, format="long", locale=lang) if plain else day.isoformat()
