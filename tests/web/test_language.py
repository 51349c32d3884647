"""Language choice, the bilingual message table, and dates and numbers as each reader writes
them."""

from __future__ import annotations

import string
from decimal import Decimal

import pytest

from healthspace.web.language import Language, choose_language, messages
from healthspace.web.timeline import Quantity, ReferenceRange

FR, EN = Language("fr"), Language("en")


def test_dates_are_written_the_readers_way() -> None:
    assert FR.date("2026-11-23") == "23/11/2026"
    assert EN.date("2026-11-23") == "23 Nov 2026"
    assert FR.date("2020-10-08T08:15:00+02:00") == "08/10/2020"
    assert FR.date_time("2020-10-08T08:15:00+02:00") == "08/10/2020 08:15"


def test_partial_and_unreadable_dates_stay_as_precise_as_the_record() -> None:
    assert EN.date("2024-05") == "May 2024"
    assert FR.date("2024-05") == "mai 2024"
    assert FR.date("2024") == "2024"
    assert FR.date("sometime in spring") == "sometime in spring"
    assert FR.date("2024-02-31") == "2024-02-31"


def test_numbers_use_the_readers_decimal_mark_and_keep_every_digit() -> None:
    assert FR.number(5.4) == "5,4"
    assert EN.number(5.4) == "5.4"
    assert FR.number(Decimal("0.0001")) == "0,0001"
    assert EN.number(1234) == "1,234"


def test_values_of_a_resource_read_naturally() -> None:
    assert FR.value(True) == "Oui" and EN.value(False) == "No"
    assert FR.value("2024-01-15") == "15/01/2024"
    assert FR.value("1558-6") == "1558-6"  # a code that looks like a year stays a code
    assert FR.value(Quantity(5.4, "mmol/L")) == "5,4 mmol/L"


def test_measures_and_reference_ranges() -> None:
    assert EN.measure([Quantity(135, "mmHg"), Quantity(85, "mmHg")]) == "135/85 mmHg"
    assert EN.measure([Quantity(1, "g"), Quantity(2, "mL")]) == "1 g, 2 mL"
    both = ReferenceRange(Quantity(3.5, "mmol/L"), Quantity(5.1, "mmol/L"), None)
    assert FR.reference_range(both) == "3,5–5,1 mmol/L"
    assert EN.reference_range(ReferenceRange(Quantity(60, "mL/min"), None, None)) == "≥ 60 mL/min"
    assert EN.reference_range(ReferenceRange(None, None, "negative")) == "negative"


@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        ("fr", "en", "en-GB", "fr"),
        (None, "fr", "en-GB", "fr"),
        ("de", None, "fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        (None, "xx", "de-DE, en;q=0.5", "en"),
        (None, None, None, "en"),
    ],
)
def test_the_switch_beats_the_cookie_which_beats_the_browser(
    query: str | None, cookie: str | None, header: str | None, expected: str
) -> None:
    assert choose_language(query, cookie, header) == expected


def test_every_message_exists_in_both_languages_with_the_same_blanks() -> None:
    for message_id, texts in messages().items():
        assert texts.get("en") and texts.get("fr"), message_id
        fields = [{f for _, f, _, _ in string.Formatter().parse(texts[c]) if f} for c in texts]
        assert fields[0] == fields[1], message_id


def test_an_unknown_message_falls_back_instead_of_failing() -> None:
    assert FR.resource_type("Observation") == "Résultat ou mesure"
    assert FR.resource_type("NutritionOrder") == "NutritionOrder"
    assert FR.text("no.such.id") == "no.such.id"


def test_every_text_id_the_pages_use_is_in_both_catalogs() -> None:
    """Literal ``t("id")`` calls in templates and page modules name catalog entries (ids built
    at run time, such as ``"type." ~ name``, fall back by design)."""
    import re
    from pathlib import Path

    import healthspace.web as web

    folder = Path(web.__file__).parent
    used: set[str] = set()
    call = re.compile(r"""\b(?:t|text)\(\s*["']([a-z_][\w.]*)["']""")
    for path in [*folder.glob("templates/*.html"), *folder.glob("*.py")]:
        used.update(call.findall(path.read_text("utf-8")))
    table = messages()
    missing = sorted(i for i in used if i not in table and not i.endswith("."))
    assert len(used) > 200
    assert missing == []


def test_the_catalogs_are_gettext_files_babel_reads() -> None:
    from importlib import resources

    from babel.messages.pofile import read_po

    root = resources.files("healthspace.web").joinpath("locale")
    domains = {
        language: sorted(p.name for p in root.joinpath(language, "LC_MESSAGES").iterdir())
        for language in ("en", "fr")
    }
    assert domains["en"] == domains["fr"] and "core.po" in domains["en"]
    for name in domains["fr"]:
        with root.joinpath("fr", "LC_MESSAGES", name).open("rb") as handle:
            catalog = read_po(handle)
        assert str(catalog.locale) == "fr" and len(catalog) > 10
