"""A tiny SNOMED CT release in the real RF2 Snapshot format, written by the tests.

Real concept ids and RF2 headers, tab-separated, CRLF line ends, with the cases a loader must
get right: an inactivated concept, an inactivated description, a description whose term was
changed in a later release (two rows, one id), an inactivated is-a relationship, a relationship
that is not is-a, a French description file and a language reference set.
"""

from __future__ import annotations

import uuid
from pathlib import Path

MODULE = "900000000000207008"
PRIMITIVE = "900000000000074008"
FSN = "900000000000003001"
SYNONYM = "900000000000013009"
CASE = "900000000000448009"
IS_A = "116680003"
FINDING_SITE = "363698007"
INFERRED = "900000000000011006"
EXISTENTIAL = "900000000000451002"
US_ENGLISH = "900000000000509007"
PREFERRED = "900000000000548007"
ACCEPTABLE = "900000000000549004"

CONCEPT_HEADER = "id\teffectiveTime\tactive\tmoduleId\tdefinitionStatusId"
DESCRIPTION_HEADER = (
    "id\teffectiveTime\tactive\tmoduleId\tconceptId\tlanguageCode\ttypeId\tterm\tcaseSignificanceId"
)
RELATIONSHIP_HEADER = (
    "id\teffectiveTime\tactive\tmoduleId\tsourceId\tdestinationId\trelationshipGroup\ttypeId"
    "\tcharacteristicTypeId\tmodifierId"
)
LANGUAGE_HEADER = (
    "id\teffectiveTime\tactive\tmoduleId\trefsetId\treferencedComponentId\tacceptabilityId"
)

# id, fsn, preferred synonym
CONCEPTS = [
    ("138875005", "SNOMED CT Concept (SNOMED RT+CTV3)", "SNOMED CT Concept"),
    ("404684003", "Clinical finding (finding)", "Clinical finding"),
    ("64572001", "Disease (disorder)", "Disease"),
    ("73211009", "Diabetes mellitus (disorder)", "Diabetes mellitus"),
    ("44054006", "Diabetes mellitus type 2 (disorder)", "Type 2 diabetes mellitus"),
    ("46635009", "Diabetes mellitus type 1 (disorder)", "Type 1 diabetes mellitus"),
    ("38341003", "Hypertensive disorder, systemic arterial (disorder)", "Hypertension"),
    ("22298006", "Myocardial infarction (disorder)", "Heart attack"),
    ("195967001", "Asthma (disorder)", "Asthma"),
]
PARENTS = {
    "404684003": "138875005",
    "64572001": "404684003",
    "73211009": "64572001",
    "44054006": "73211009",
    "46635009": "73211009",
    "38341003": "64572001",
    "22298006": "64572001",
    "195967001": "64572001",
}
INACTIVATED_CONCEPT = "190368000"  # Type I diabetes mellitus with ulcer: retired in 2020


def _member(description_id: str) -> str:
    """Reference set members are identified by UUIDs."""
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"language:{description_id}"))


def _write(path: Path, header: str, rows: list[list[str]]) -> None:
    lines = [header, *("\t".join(row) for row in rows)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))


def write_release(root: Path, version: str = "20250101") -> Path:
    """Write the sample under ``root`` in the folder layout of an International release."""
    terminology = root / f"SnomedCT_InternationalRF2_PRODUCTION_{version}T120000Z"
    terminology = terminology / "Snapshot" / "Terminology"
    refsets = terminology.parent / "Refset" / "Language"
    terminology.mkdir(parents=True)
    refsets.mkdir(parents=True)

    concepts = [[cid, "20020131", "1", MODULE, PRIMITIVE] for cid, _, _ in CONCEPTS]
    # Retired concept: its latest row is inactive, so it is not part of the release.
    concepts.append([INACTIVATED_CONCEPT, "20020131", "1", MODULE, PRIMITIVE])
    concepts.append([INACTIVATED_CONCEPT, "20200131", "0", MODULE, PRIMITIVE])
    _write(terminology / f"sct2_Concept_Snapshot_INT_{version}.txt", CONCEPT_HEADER, concepts)

    descriptions: list[list[str]] = []
    language: list[list[str]] = []
    for number, (cid, fsn, preferred) in enumerate(CONCEPTS):
        fsn_id, syn_id = f"{1000 + number}011", f"{2000 + number}017"
        descriptions.append([fsn_id, "20020131", "1", MODULE, cid, "en", FSN, fsn, CASE])
        descriptions.append([syn_id, "20020131", "1", MODULE, cid, "en", SYNONYM, preferred, CASE])
        language.append([_member(fsn_id), "20020131", "1", MODULE, US_ENGLISH, fsn_id, PREFERRED])
        language.append([_member(syn_id), "20020131", "1", MODULE, US_ENGLISH, syn_id, PREFERRED])
    # A term corrected in a later release: same description id, the latest row wins.
    descriptions.append(
        ["5000011", "20020131", "1", MODULE, "44054006", "en", SYNONYM, "NIDDM", CASE]
    )
    descriptions.append(
        [
            "5000011",
            "20180131",
            "1",
            MODULE,
            "44054006",
            "en",
            SYNONYM,
            "Non-insulin dependent diabetes mellitus",
            CASE,
        ]
    )
    language.append(
        [_member("5000011"), "20180131", "1", MODULE, US_ENGLISH, "5000011", ACCEPTABLE]
    )
    # A synonym inactivated later: not a name of the concept any more.
    descriptions.append(
        ["5000022", "20020131", "1", MODULE, "44054006", "en", SYNONYM, "Type II diabetes", CASE]
    )
    descriptions.append(
        ["5000022", "20170731", "0", MODULE, "44054006", "en", SYNONYM, "Type II diabetes", CASE]
    )
    # Names of the retired concept go with it.
    descriptions.append(
        [
            "5000033",
            "20020131",
            "1",
            MODULE,
            INACTIVATED_CONCEPT,
            "en",
            SYNONYM,
            "Diabetic ulcer retired",
            CASE,
        ]
    )
    _write(
        terminology / f"sct2_Description_Snapshot-en_INT_{version}.txt",
        DESCRIPTION_HEADER,
        descriptions,
    )
    french = [
        ["6000011", "20240101", "1", MODULE, "73211009", "fr", SYNONYM, "diabète sucré", CASE],
        [
            "6000022",
            "20240101",
            "1",
            MODULE,
            "38341003",
            "fr",
            SYNONYM,
            "hypertension artérielle",
            CASE,
        ],
    ]
    _write(
        terminology / f"sct2_Description_Snapshot-fr_INT_{version}.txt",
        DESCRIPTION_HEADER,
        french,
    )
    _write(
        refsets / f"der2_cRefset_LanguageSnapshot-en_INT_{version}.txt",
        LANGUAGE_HEADER,
        language,
    )

    relationships = [
        [f"{7000 + n}024", "20020131", "1", MODULE, child, parent, "0", IS_A, INFERRED, EXISTENTIAL]
        for n, (child, parent) in enumerate(PARENTS.items())
    ]
    # An is-a relationship retired later: myocardial infarction is not a hypertensive disorder.
    relationships.append(
        [
            "8000021",
            "20020131",
            "1",
            MODULE,
            "22298006",
            "38341003",
            "0",
            IS_A,
            INFERRED,
            EXISTENTIAL,
        ]
    )
    relationships.append(
        [
            "8000021",
            "20100131",
            "0",
            MODULE,
            "22298006",
            "38341003",
            "0",
            IS_A,
            INFERRED,
            EXISTENTIAL,
        ]
    )
    # Not is-a: a finding site, to a concept outside the sample.
    relationships.append(
        ["8000032", "20020131", "1", MODULE, "22298006", "74281007", "1", FINDING_SITE, INFERRED,
         EXISTENTIAL]
    )  # fmt: skip
    # The retired concept's is-a goes with it.
    relationships.append(
        ["8000043", "20020131", "1", MODULE, INACTIVATED_CONCEPT, "46635009", "0", IS_A, INFERRED,
         EXISTENTIAL]
    )  # fmt: skip
    _write(
        terminology / f"sct2_Relationship_Snapshot_INT_{version}.txt",
        RELATIONSHIP_HEADER,
        relationships,
    )
    return root
