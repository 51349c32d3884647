"""The reader's language, the bilingual message table and locale-aware dates and numbers.

Every text a page prints goes through ``Language.text``, which reads the gettext catalogs
(``web/locale``) once.
Dates and numbers go through Babel so French readers see 23/11/2026 and 5,4.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any

from babel.dates import format_date, format_skeleton
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from healthspace.web.timeline import Quantity, ReferenceRange

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"
COOKIE = "lang"

# Babel locale and date style per language: English dates as "23 Nov 2026" (day first, never
# ambiguous across countries), French as "23/11/2026".
_LOCALES = {"en": ("en_GB", "medium"), "fr": ("fr_FR", "short")}

# FHIR date, dateTime and instant: "2024", "2024-05", "2024-05-01", "2024-05-01T08:00:00+01:00".
FHIR_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?)?)?$")
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"T(\d{2}:\d{2})")


@functools.cache
def messages() -> dict[str, dict[str, str]]:
    """The message table, message id -> {language: text}, from the gettext catalogs
    ``web/locale/<language>/LC_MESSAGES/<area>.po`` (one domain per area of the app: core,
    accounts, health, chat, entry, workspace_tools).

    The catalogs are read with Babel at start-up, so there is no compile step; translators can
    use any PO editor. The msgid is the id templates pass to ``t()``. An id defined in two areas
    is an error, not a silent override.
    """
    table: dict[str, dict[str, str]] = {}
    owner: dict[str, str] = {}
    root = resources.files("healthspace.web").joinpath("locale")
    for language in LANGUAGES:
        folder = root.joinpath(language, "LC_MESSAGES")
        for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
            if not item.name.endswith(".po"):
                continue
            with item.open("rb") as handle:
                catalog = read_po(handle, locale=language, domain=item.name[:-3])
            for message in catalog:
                if not message.id or not isinstance(message.id, str):
                    continue
                area = owner.setdefault(message.id, item.name)
                if area != item.name:
                    raise ValueError(f"message {message.id!r} is in both {area} and {item.name}")
                if language in table.get(message.id, {}):
                    raise ValueError(f"{item.name} repeats message {message.id!r}")
                table.setdefault(message.id, {})[language] = str(message.string or "")
    return table


def choose_language(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """``?lang=`` first (the switch), then the remembered cookie, then the browser's wish."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    for part in (accept_language or "").split(","):
        primary = part.split(";", 1)[0].strip().lower()[:2]
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Language:
    """Everything a template needs to speak one language: texts, dates and numbers."""

    code: str

    @property
    def locale(self) -> str:
        return _LOCALES[self.code][0]

    def text(self, message_id: str, default: str | None = None, **values: Any) -> str:
        """The message in this language; ``default`` for ids outside the table (a new FHIR
        type, say), else the id itself so a missing text shows up instead of crashing a page."""
        entry = messages().get(message_id)
        if entry is None:
            template = default if default is not None else message_id
        else:
            template = entry.get(self.code) or entry[DEFAULT_LANGUAGE]
        return template.format(**values) if values else template

    def resource_type(self, resource_type: str) -> str:
        """A FHIR resource type in words ("Observation" -> "Result")."""
        return self.text(f"type.{resource_type}", default=resource_type)

    def date(self, value: str | dt.date | None) -> str:
        """A FHIR date or dateTime as the reader writes dates; partial dates stay partial."""
        if value is None:
            return ""
        if isinstance(value, dt.date):
            return format_date(value, _LOCALES[self.code][1], locale=self.locale)
        match = FHIR_DATE.match(value.strip())
        if match is None:
            return value
        year, month, day = match.groups()
        try:
            if day:
                return self.date(dt.date(int(year), int(month), int(day)))
            if month:
                first = dt.date(int(year), int(month), 1)
                return str(format_skeleton("yMMM", first, locale=self.locale))
        except ValueError:
            return value
        return year

    def date_time(self, value: str) -> str:
        """A FHIR dateTime as date and wall-clock time as recorded (no zone conversion: the
        time printed on the lab's report is the one the reader knows)."""
        date = self.date(value)
        time = _TIME.search(value)
        return f"{date} {time.group(1)}" if time and date != value else date

    def value(self, value: str | int | float | bool | Quantity) -> str:
        """A value of a resource as the reader reads it: yes/no, local numbers and dates."""
        if isinstance(value, Quantity):
            return self.measure([value])
        if isinstance(value, bool):
            return self.text("yes" if value else "no")
        if isinstance(value, int | float):
            return self.number(value)
        if _FULL_DATE.match(value) and FHIR_DATE.match(value):
            return self.date_time(value)
        return value

    def number(self, value: float | int | Decimal | str) -> str:
        """A number with the reader's decimal mark, keeping every digit the record gave."""
        try:
            decimal = value if isinstance(value, Decimal) else Decimal(str(value))
        except InvalidOperation:
            return str(value)
        return str(format_decimal(decimal, locale=self.locale, decimal_quantization=False))

    def measure(self, values: Sequence[Quantity]) -> str:
        """Measured values as read aloud: "135/85 mmHg" when the units agree, else each with
        its own unit."""
        if not values:
            return ""
        units = {q.unit for q in values}
        if len(units) == 1:
            return f"{'/'.join(self.number(q.value) for q in values)} {values[0].unit}".strip()
        return ", ".join(f"{self.number(q.value)} {q.unit}".strip() for q in values)

    def reference_range(self, bounds: ReferenceRange) -> str:
        """ "70–99 mg/dL", "≥ 60 mL/min", "≤ 5 mg/L", or the lab's own words."""
        low, high = bounds.low, bounds.high
        if low and high:
            unit = high.unit if low.unit in ("", high.unit) else ""
            if unit:
                return f"{self.number(low.value)}–{self.number(high.value)} {unit}"
            return f"{self.measure([low])} – {self.measure([high])}"
        if low:
            return f"≥ {self.measure([low])}"
        if high:
            return f"≤ {self.measure([high])}"
        return bounds.text or ""

    def other(self) -> list[str]:
        """The languages the reader can switch to."""
        return [code for code in LANGUAGES if code != self.code]
