"""Small corpus files in the real download formats, written by tests into a temporary folder.

The texts are short paraphrases written for the tests; the shapes (elements, attributes, JSON
keys) are those of the MedlinePlus health-topics XML, openFDA drug-label JSON and MedQuAD.
"""

from __future__ import annotations

import zipfile
from html import escape
from pathlib import Path
from typing import Any

import orjson

MEDLINEPLUS_GENERATED = "08/10/2024 02:30:32"


def _topic(
    topic_id: str, title: str, url: str, summary_html: str, also: list[str], language: str
) -> str:
    also_called = "".join(f"<also-called>{escape(a)}</also-called>" for a in also)
    return (
        f'<health-topic meta-desc="{escape(title)}" title="{escape(title)}" url="{url}" '
        f'id="{topic_id}" language="{language}" date-created="01/11/2001">'
        f"{also_called}<full-summary>{escape(summary_html)}</full-summary>"
        f'<group url="https://medlineplus.gov/heartandcirculation.html" id="8">'
        f"Heart and Circulation</group>"
        f'<mesh-heading><descriptor id="D006973">{escape(title)}</descriptor></mesh-heading>'
        f'<primary-institute url="https://www.nhlbi.nih.gov/">National Heart, Lung, and Blood '
        f"Institute</primary-institute>"
        f"</health-topic>"
    )


def medlineplus_xml() -> str:
    """Two English topics and one Spanish topic, summaries as escaped HTML."""
    topics = [
        _topic(
            "6189",
            "High Blood Pressure",
            "https://medlineplus.gov/highbloodpressure.html",
            "<p>Blood pressure is the force of your blood pushing against the walls of your "
            "arteries.</p><ul><li>High blood pressure often has no symptoms.</li></ul>"
            '<p style="font-size:10px">NIH: National Heart, Lung, and Blood Institute</p>',
            ["Hypertension", "HBP"],
            "English",
        ),
        _topic(
            "3061",
            "Heart Attack",
            "https://medlineplus.gov/heartattack.html",
            "<p>A heart attack happens when blood flow to the heart muscle is blocked.</p>",
            ["Myocardial infarction", "MI"],
            "English",
        ),
        _topic(
            "6190",
            "Presión arterial alta",
            "https://medlineplus.gov/spanish/highbloodpressure.html",
            "<p>La presión arterial es la fuerza de la sangre.</p>",
            ["Hipertensión"],
            "Spanish",
        ),
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE health-topics PUBLIC "-//NLM//DTD health-topics //EN" '
        '"https://medlineplus.gov/xml/mplus_topics.dtd">\n'
        f'<health-topics total="{len(topics)}" date-generated="{MEDLINEPLUS_GENERATED}">'
        + "".join(topics)
        + "</health-topics>\n"
    )


def write_medlineplus(folder: Path, zipped: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    xml = medlineplus_xml()
    if not zipped:
        path = folder / "mplus_topics_2024-08-10.xml"
        path.write_text(xml, encoding="utf-8")
        return path
    path = folder / "mplus_topics_compressed_2024-08-10.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mplus_topics_2024-08-10.xml", xml)
    return path


def openfda_label(
    set_id: str, brand: str | None, generic: str | None, effective: str, **sections: str
) -> dict[str, Any]:
    openfda: dict[str, Any] = {}
    if brand:
        openfda["brand_name"] = [brand]
    if generic:
        openfda["generic_name"] = [generic]
        openfda["substance_name"] = [generic]
    return {
        "set_id": set_id,
        "id": f"{set_id}-label",
        "version": "3",
        "effective_time": effective,
        "openfda": openfda,
        **{key: [value] for key, value in sections.items()},
    }


def openfda_json() -> bytes:
    """Three labels: an older and a newer one of the same product, one without names."""
    results = [
        openfda_label(
            "0b1c7a2e-1111-4b8f-9d7e-3f0a5c2d9e01",
            "Glucophage",
            "METFORMIN HYDROCHLORIDE",
            "20190412",
            indications_and_usage="Metformin is indicated to improve glycemic control in adults.",
            warnings="Lactic acidosis has occurred rarely.",
        ),
        openfda_label(
            "0b1c7a2e-2222-4b8f-9d7e-3f0a5c2d9e02",
            "Glucophage",
            "METFORMIN HYDROCHLORIDE",
            "20230615",
            indications_and_usage="Metformin is indicated to improve glycemic control in "
            "adults and children with type 2 diabetes mellitus.",
            adverse_reactions="The most common adverse reactions are diarrhea and nausea.",
        ),
        openfda_label(
            "0b1c7a2e-3333-4b8f-9d7e-3f0a5c2d9e03",
            None,
            None,
            "20220101",
            indications_and_usage="Unapproved product without openfda names.",
        ),
    ]
    meta = {"disclaimer": "Do not rely on openFDA to make decisions.", "last_updated": "2024-08-09"}
    return orjson.dumps({"meta": meta, "results": results})


def write_openfda(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "drug-label-0001-of-0001.json"
    path.write_bytes(openfda_json())
    return path


def _medquad_document(
    doc_id: str, source: str, url: str, focus: str, pairs: list[tuple[str, str]]
) -> str:
    qa = "".join(
        f'<QAPair pid="{n}"><Question qid="{doc_id}-{n}" qtype="information">{escape(q)}'
        f"</Question><Answer>{escape(a)}</Answer></QAPair>"
        for n, (q, a) in enumerate(pairs, 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document id="{doc_id}" source="{source}" url="{url}">\n<Focus>{escape(focus)}</Focus>\n'
        "<FocusAnnotations><Category>Disease</Category><Synonyms>"
        f"<Synonym>{escape(focus)} (disorder)</Synonym></Synonyms></FocusAnnotations>\n"
        f"<QAPairs>{qa}</QAPairs>\n</Document>\n"
    )


def write_medquad(folder: Path) -> Path:
    """A MedQuAD-shaped folder: two collections, the three spellings, one answerless topic."""
    mplus = folder / "4_MPlus_Health_Topics_QA"
    ninds = folder / "6_NINDS_QA"
    cdc = folder / "9_CDC_QA"
    for sub in (mplus, ninds, cdc):
        sub.mkdir(parents=True, exist_ok=True)
    (mplus / "0000442.xml").write_text(
        _medquad_document(
            "0000442",
            "MPlusHealthTopics",
            "https://www.nlm.nih.gov/medlineplus/heartattack.html",
            "Heart Attack",
            [
                (
                    "What is (are) Heart Attack ?",
                    "Each year almost 800,000 Americans have a heart attack. A heart attack "
                    "happens when blood flow to the heart suddenly becomes blocked. Call 911 "
                    "if you have chest pain that lasts more than a few minutes.",
                )
            ],
        ),
        encoding="utf-8",
    )
    (mplus / "0000471.xml").write_text(
        _medquad_document(
            "0000471",
            "MPlusHealthTopics",
            "http://www.nlm.nih.gov/medlineplus/highbloodpressure.html",
            "High Blood Pressure",
            [
                (
                    "What is (are) High Blood Pressure ?",
                    "Blood pressure is the force of your blood pushing against the walls of "
                    "your arteries. High blood pressure usually has no symptoms.",
                ),
                ("What are the treatments for High Blood Pressure ?", ""),
            ],
        ),
        encoding="utf-8",
    )
    (mplus / "0000999.xml").write_text(
        _medquad_document(
            "0000999",
            "MPlusDrugs",
            "https://medlineplus.gov/druginfo/meds/a696005.html",
            "Metformin",
            [("What is Metformin ?", "")],
        ),
        encoding="utf-8",
    )
    (ninds / "0000007.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<doc docid="0000007" corpus="NINDS" '
        'url="http://www.ninds.nih.gov/disorders/holmes_adie/holmes_adie.htm">\n'
        "<doctitle-focus>Holmes-Adie</doctitle-focus>\n<qaPairs>\n"
        '<pair pid="1"><question qid="0000007-1" qtype="information">what is holmes-adie '
        "syndrome ?</question><answer>Holmes-Adie syndrome is a neurological disorder "
        "affecting the pupil of the eye.</answer></pair>\n</qaPairs>\n</doc>\n",
        encoding="utf-8",
    )
    (cdc / "0000397.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<DiseaseFile fid="0000397" source="CDC" url="http://www.cdc.gov/parasites/taeniasis/">\n'
        '<Focus>Parasites - Taeniasis</Focus>\n<QAPairs><QAPair pid="1">'
        '<Question qid="0000397-1" qtype="information">What is (are) Parasites - Taeniasis ?'
        "</Question><Answer>Taeniasis is a parasitic infection caused by tapeworms.</Answer>"
        "</QAPair></QAPairs>\n</DiseaseFile>\n",
        encoding="utf-8",
    )
    return folder
