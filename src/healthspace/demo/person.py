"""A deterministic, fictitious patient record as a FHIR R4 collection Bundle.

Why: the demo server, the tests and the benchmarks need a record that looks like a real one
(years of visits, lab trends, out-of-range and critical values, stopped medicines, French
units) without ever touching a real person's data. Everything derives from the seed: the same
seed gives a byte-identical bundle, so tests can pin values and benchmarks compare like with like.

The story, scaled to the ``years`` before ``end``: a French woman born in 1962, known
hypertensive from the first visit (ramipril), high LDL treated with atorvastatin, an acute
bronchitis that resolves, type 2 diabetes whose HbA1c climbs to 8.2 % before metformin brings it
back to about 6.8 %, a hospital stay for hyperkalaemia (potassium 6.3 mmol/L, the only critical
value) after which ramipril is stopped and amlodipine started, and a slow fall of eGFR from about
85 to the mid-50s that ends in a CKD stage 3a diagnosis.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["build_demo_bundle", "build_large_bundle"]

Resource = dict[str, Any]
Reference = dict[str, str]

DEFAULT_END = dt.date(2026, 10, 1)
DEMO_SYSTEM = "urn:healthspace:demo"

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
UCUM = "http://unitsofmeasure.org"
_TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
OBSERVATION_CATEGORY = _TERMINOLOGY + "observation-category"
INTERPRETATION = _TERMINOLOGY + "v3-ObservationInterpretation"
CONDITION_CLINICAL = _TERMINOLOGY + "condition-clinical"
CONDITION_VERIFICATION = _TERMINOLOGY + "condition-ver-status"
CONDITION_CATEGORY = _TERMINOLOGY + "condition-category"
ACT_CODE = _TERMINOLOGY + "v3-ActCode"
PARTICIPATION_TYPE = _TERMINOLOGY + "v3-ParticipationType"

# Where each event of the story falls, as a fraction of the record's span.
STATIN_AT = 0.12
BRONCHITIS_AT = 0.27
TETANUS_AT = 0.30
METFORMIN_AT = 0.45
HOSPITAL_AT = 0.60

BIRTH_YEAR = 1962
MIN_YEARS = 2


# --- codes and lab definitions -------------------------------------------------------------


@dataclass(frozen=True)
class Code:
    """One coding of a code system."""

    system: str
    code: str
    display: str

    def coding(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}


def concept(*codes: Code, text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept; ``text`` is the wording a French record would print."""
    result: dict[str, Any] = {"coding": [code.coding() for code in codes]}
    if text:
        result["text"] = text
    return result


@dataclass(frozen=True)
class LabTest:
    """A laboratory test as the demo lab reports it: LOINC code, UCUM unit and its ranges."""

    loinc: str
    display: str
    label_fr: str
    unit: str
    low: float | None
    high: float | None
    decimals: int = 0
    critical_low: float | None = None
    critical_high: float | None = None


# Reference ranges as a typical lab prints them (adult woman); only potassium carries critical
# limits, so the single critical value of the story is the only one a reader can find.
LAB_TESTS: dict[str, LabTest] = {
    "hba1c": LabTest(
        "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "Hémoglobine glyquée (HbA1c)",
        "%", 4.0, 5.6, 1,
    ),
    "glucose": LabTest(
        "1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma", "Glycémie à jeun",
        "mg/dL", 70, 99,
    ),
    "cholesterol": LabTest(
        "2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "Cholestérol total",
        "mg/dL", 100, 199,
    ),
    "ldl": LabTest(
        "13457-7", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation",
        "LDL-cholestérol (calculé)", "mg/dL", 0, 99,
    ),
    "hdl": LabTest(
        "2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "HDL-cholestérol",
        "mg/dL", 40, None,
    ),
    "triglycerides": LabTest(
        "2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "Triglycérides",
        "mg/dL", 0, 149,
    ),
    "creatinine": LabTest(
        "2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "Créatinine",
        "mg/dL", 0.57, 1.00, 2,
    ),
    "egfr": LabTest(
        "33914-3",
        "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum or Plasma "
        "by Creatinine-based formula (MDRD)",
        "Débit de filtration glomérulaire estimé (MDRD)", "mL/min/{1.73_m2}", 60, None,
    ),
    "potassium": LabTest(
        "2823-3", "Potassium [Moles/volume] in Serum or Plasma", "Potassium",
        "mmol/L", 3.5, 5.1, 1, critical_low=2.8, critical_high=6.0,
    ),
    "sodium": LabTest(
        "2951-2", "Sodium [Moles/volume] in Serum or Plasma", "Sodium", "mmol/L", 136, 145,
    ),
    "alt": LabTest(
        "1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
        "ALAT (transaminase)", "U/L", 0, 32,
    ),
    "ast": LabTest(
        "1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
        "ASAT (transaminase)", "U/L", 0, 40,
    ),
    "tsh": LabTest(
        "3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "TSH",
        "m[IU]/L", 0.45, 4.5, 2,
    ),
    "hemoglobin": LabTest(
        "718-7", "Hemoglobin [Mass/volume] in Blood", "Hémoglobine", "g/dL", 11.1, 15.9, 1,
    ),
    "leukocytes": LabTest(
        "6690-2", "Leukocytes [#/volume] in Blood by Automated count", "Leucocytes",
        "10*3/uL", 3.4, 10.8, 1,
    ),
    "platelets": LabTest(
        "777-3", "Platelets [#/volume] in Blood by Automated count", "Plaquettes",
        "10*3/uL", 150, 450,
    ),
    "uacr": LabTest(
        "9318-7", "Albumin/Creatinine [Mass Ratio] in Urine", "Rapport albuminurie/créatininurie",
        "mg/g", 0, 29,
    ),
}

# Fasting glucose as French labs print it (g/L); same LOINC code, the property is still
# mass concentration, so only the unit differs.
GLUCOSE_FRENCH = LabTest(
    "1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma", "Glycémie à jeun",
    "g/L", 0.70, 1.10, 2,
)


@dataclass(frozen=True)
class LabPanel:
    """A LOINC panel: one DiagnosticReport grouping its member results."""

    code: Code
    label_fr: str
    members: tuple[str, ...]


PANELS: dict[str, LabPanel] = {
    "hba1c": LabPanel(
        Code(LOINC, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
        "Hémoglobine glyquée", ("hba1c",),
    ),
    "bmp": LabPanel(
        Code(LOINC, "51990-0", "Basic metabolic panel - Blood"),
        "Ionogramme, glycémie et fonction rénale",
        ("glucose", "creatinine", "egfr", "potassium", "sodium"),
    ),
    "lipids": LabPanel(
        Code(LOINC, "24331-1", "Lipid 1996 panel - Serum or Plasma"),
        "Bilan lipidique", ("cholesterol", "ldl", "hdl", "triglycerides"),
    ),
    "hepatic": LabPanel(
        Code(LOINC, "24325-3", "Hepatic function 2000 panel - Serum or Plasma"),
        "Bilan hépatique", ("alt", "ast"),
    ),
    "cbc": LabPanel(
        Code(LOINC, "58410-2", "CBC panel - Blood by Automated count"),
        "Numération formule sanguine", ("hemoglobin", "leukocytes", "platelets"),
    ),
    "uacr": LabPanel(
        Code(LOINC, "9318-7", "Albumin/Creatinine [Mass Ratio] in Urine"),
        "Microalbuminurie", ("uacr",),
    ),
    "tsh": LabPanel(
        Code(LOINC, "3016-3", "Thyrotropin [Units/volume] in Serum or Plasma"), "TSH", ("tsh",),
    ),
}
ROUTINE_PANELS = ("hba1c", "bmp", "lipids", "hepatic", "cbc", "uacr")

INTERPRETATIONS = {
    "N": "Normal",
    "H": "High",
    "L": "Low",
    "HH": "Critical high",
    "LL": "Critical low",
}


@dataclass(frozen=True)
class Diagnosis:
    """A condition coded in both SNOMED CT and ICD-10-CM."""

    snomed: Code
    icd10: Code
    label_fr: str

    def code(self) -> dict[str, Any]:
        return concept(self.snomed, self.icd10, text=self.label_fr)


def _diagnosis(sct: str, sct_display: str, icd: str, icd_display: str, fr: str) -> Diagnosis:
    return Diagnosis(Code(SNOMED, sct, sct_display), Code(ICD10CM, icd, icd_display), fr)


HYPERTENSION = _diagnosis(
    "59621000", "Essential hypertension", "I10", "Essential (primary) hypertension",
    "Hypertension artérielle essentielle",
)
HYPERCHOLESTEROLAEMIA = _diagnosis(
    "13644009", "Hypercholesterolemia", "E78.00", "Pure hypercholesterolemia, unspecified",
    "Hypercholestérolémie",
)
TYPE_2_DIABETES = _diagnosis(
    "44054006", "Diabetes mellitus type 2", "E11.9",
    "Type 2 diabetes mellitus without complications", "Diabète de type 2",
)
ACUTE_BRONCHITIS = _diagnosis(
    "10509002", "Acute bronchitis", "J20.9", "Acute bronchitis, unspecified",
    "Bronchite aiguë",
)
HYPERKALAEMIA = _diagnosis(
    "14140009", "Hyperkalemia", "E87.5", "Hyperkalemia", "Hyperkaliémie",
)
CKD_STAGE_3A = _diagnosis(
    "700378005", "Chronic kidney disease stage 3A", "N18.31",
    "Chronic kidney disease, stage 3a", "Maladie rénale chronique stade 3A",
)


@dataclass(frozen=True)
class Medicine:
    """A prescribed product: RxNorm ingredient code, French label and the usual instruction."""

    rxnorm: Code
    label_fr: str
    instruction_fr: str
    per_day: int
    dose_form: Code


TABLET = Code(_TERMINOLOGY + "v3-orderableDrugForm", "TAB", "Tablet")
CAPSULE = Code(_TERMINOLOGY + "v3-orderableDrugForm", "CAP", "Capsule")
ORAL_ROUTE = Code(SNOMED, "26643006", "Oral route")

RAMIPRIL = Medicine(
    Code(RXNORM, "35296", "ramipril"), "Ramipril 5 mg, gélule",
    "1 gélule le matin", 1, CAPSULE,
)
ATORVASTATIN = Medicine(
    Code(RXNORM, "83367", "atorvastatin"), "Atorvastatine 20 mg, comprimé",
    "1 comprimé le soir", 1, TABLET,
)
METFORMIN = Medicine(
    Code(RXNORM, "6809", "metformin"), "Metformine 500 mg, comprimé",
    "1 comprimé matin et soir, au milieu des repas", 2, TABLET,
)
AMLODIPINE = Medicine(
    Code(RXNORM, "17767", "amlodipine"), "Amlodipine 5 mg, comprimé",
    "1 comprimé le matin", 1, TABLET,
)
PARACETAMOL = Code(RXNORM, "161", "acetaminophen")

INFLUENZA_QUADRIVALENT = Code(
    CVX, "150", "Influenza, injectable, quadrivalent, preservative free"
)
INFLUENZA_TRIVALENT = Code(CVX, "140", "Influenza, seasonal, injectable, preservative free")
TETANUS_DIPHTHERIA = Code(
    CVX, "113", "Td (adult), 5 Lf tetanus toxoid, preservative free, adsorbed"
)
COVID_MRNA = Code(
    CVX, "208",
    "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose",
)
COVID_BIVALENT = Code(
    CVX, "300", "SARS-COV-2 (COVID-19) vaccine, mRNA, bivalent, original and omicron BA.4/BA.5"
)
COVID_UNSPECIFIED = Code(CVX, "213", "SARS-COV-2 (COVID-19) vaccine, UNSPECIFIED FORMULATION")
# France's campaigns: primary series and booster in 2021, then one autumn dose a year.
COVID_CAMPAIGN: tuple[tuple[dt.date, Code], ...] = (
    (dt.date(2021, 4, 12), COVID_MRNA),
    (dt.date(2021, 5, 17), COVID_MRNA),
    (dt.date(2021, 11, 22), COVID_MRNA),
    (dt.date(2022, 10, 17), COVID_BIVALENT),
    (dt.date(2023, 10, 16), COVID_UNSPECIFIED),
    (dt.date(2024, 10, 21), COVID_UNSPECIFIED),
    (dt.date(2025, 10, 20), COVID_UNSPECIFIED),
)


# --- time ----------------------------------------------------------------------------------


def _last_sunday(year: int, month: int) -> dt.date:
    last = dt.date(year, month, 31)
    return last - dt.timedelta(days=(last.weekday() + 1) % 7)


def paris_offset(day: dt.date) -> str:
    """UTC offset in France: summer time from the last Sunday of March to that of October."""
    summer = _last_sunday(day.year, 3) <= day < _last_sunday(day.year, 10)
    return "+02:00" if summer else "+01:00"


def fhir_datetime(moment: dt.datetime) -> str:
    """A FHIR dateTime (also a valid instant) in French local time with its offset."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}{paris_offset(moment.date())}"


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _fraction(start: dt.date, end: dt.date, at: float) -> dt.date:
    return start + dt.timedelta(days=round((end - start).days * at))


def _not_sunday(day: dt.date) -> dt.date:
    """Practices and labs are closed on Sunday; move to the Saturday before."""
    return day - dt.timedelta(days=1) if day.weekday() == 6 else day


def _time_of_day(rng: random.Random, day: dt.date, earliest: str, latest: str) -> dt.datetime:
    """A moment on ``day`` between two "HH:MM" times, on a five-minute grid."""
    first = int(earliest[:2]) * 60 + int(earliest[3:])
    last = int(latest[:2]) * 60 + int(latest[3:])
    minutes = rng.randrange(first, last + 1, 5)
    return dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60))


def _interpolate(knots: Sequence[tuple[dt.datetime, float]], moment: dt.datetime) -> float:
    """Piecewise-linear curve through (moment, value) knots, flat outside them."""
    if moment <= knots[0][0]:
        return knots[0][1]
    for (t0, v0), (t1, v1) in zip(knots, knots[1:], strict=False):
        if moment <= t1:
            share = (moment - t0) / (t1 - t0) if t1 > t0 else 1.0
            return v0 + (v1 - v0) * share
    return knots[-1][1]


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


# --- the schedule of care ------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """A routine GP visit and the fasting blood draw that prepares it."""

    at: dt.datetime
    draw_at: dt.datetime


@dataclass(frozen=True)
class Stay:
    """The hospital stay: a control draw finds potassium 6.3, admission the same day."""

    alert_draw_at: dt.datetime
    admitted_at: dt.datetime
    discharged_at: dt.datetime
    ward_draws: tuple[dt.datetime, ...]

    def overlaps(self, day: dt.date) -> bool:
        first = self.alert_draw_at.date() - dt.timedelta(days=1)
        last = self.discharged_at.date() + dt.timedelta(days=1)
        return first <= day <= last


@dataclass(frozen=True)
class Schedule:
    """When each encounter and each draw happens; values are decided later."""

    start: dt.date
    end: dt.date
    visits: tuple[Visit, ...]
    acute_at: dt.datetime
    stay: Stay
    cardiology: tuple[dt.datetime, ...]
    statin_visit: int
    metformin_visit: int


def _quarterly_days(rng: random.Random, start: dt.date, end: dt.date) -> list[dt.date]:
    """GP visits every three to four months, as for a stable chronic patient."""
    days = []
    day = start + dt.timedelta(days=rng.randint(10, 30))
    while day <= end - dt.timedelta(days=5):
        days.append(_not_sunday(day))
        day += dt.timedelta(days=rng.randint(91, 122))
    return days


def _spread_days(rng: random.Random, start: dt.date, end: dt.date, count: int) -> list[dt.date]:
    """``count`` visits spread evenly over the span, for records scaled to a target size."""
    first = start + dt.timedelta(days=10)
    gap = ((end - dt.timedelta(days=5)) - first).days / count
    return [
        _not_sunday(first + dt.timedelta(days=int((i + rng.uniform(0.25, 0.75)) * gap)))
        for i in range(count)
    ]


def _plan_stay(rng: random.Random, start: dt.date, end: dt.date) -> Stay:
    alert_day = _not_sunday(_fraction(start, end, HOSPITAL_AT) + dt.timedelta(rng.randint(-10, 10)))
    discharge_day = alert_day + dt.timedelta(days=2)
    return Stay(
        alert_draw_at=_time_of_day(rng, alert_day, "07:30", "08:30"),
        admitted_at=_time_of_day(rng, alert_day, "14:00", "16:00"),
        discharged_at=_time_of_day(rng, discharge_day, "10:30", "12:00"),
        ward_draws=tuple(
            _time_of_day(rng, alert_day + dt.timedelta(days=n), "06:00", "06:45") for n in (1, 2)
        ),
    )


def _first_visit_from(visits: Sequence[Visit], day: dt.date, minimum: int = 0) -> int:
    for index, visit in enumerate(visits):
        if index >= minimum and visit.at.date() >= day:
            return index
    return len(visits) - 1


def plan_schedule(
    rng: random.Random, start: dt.date, end: dt.date, routine_visits: int | None
) -> Schedule:
    """Place every encounter in time; ``routine_visits`` overrides the quarterly rhythm."""
    if routine_visits is None:
        days = _quarterly_days(rng, start, end)
    else:
        days = _spread_days(rng, start, end, routine_visits)
    dense = len(days) > 1 and (days[-1] - days[0]).days / (len(days) - 1) < 14
    stay = _plan_stay(rng, start, end)
    visits = []
    for day in days:
        at = _time_of_day(rng, day, "08:30", "17:30")
        if dense:  # a visit every few days: the draw is the same morning
            draw_at = _time_of_day(rng, day, "07:30", "08:15")
        else:
            draw_day = _not_sunday(day - dt.timedelta(days=rng.randint(2, 6)))
            draw_at = _time_of_day(rng, draw_day, "07:30", "09:00")
        if not (stay.overlaps(day) or stay.overlaps(draw_at.date())):
            visits.append(Visit(at, draw_at))
    acute_day = _not_sunday(_fraction(start, end, BRONCHITIS_AT) + dt.timedelta(rng.randint(-10, 10)))
    cardiology = []
    for year in range((end - start).days // 365):
        day = _not_sunday(start + dt.timedelta(days=365 * year + rng.randint(150, 250)))
        if day < end and not stay.overlaps(day):
            cardiology.append(_time_of_day(rng, day, "09:00", "17:00"))
    statin_visit = _first_visit_from(visits, _fraction(start, end, STATIN_AT), minimum=1)
    return Schedule(
        start=start,
        end=end,
        visits=tuple(visits),
        acute_at=_time_of_day(rng, acute_day, "09:00", "18:00"),
        stay=stay,
        cardiology=tuple(cardiology),
        statin_visit=statin_visit,
        metformin_visit=_first_visit_from(visits, _fraction(start, end, METFORMIN_AT)),
    )


# --- lab values ----------------------------------------------------------------------------


@dataclass
class Draw:
    """One blood (and urine) sample and the results the lab reported for it."""

    at: dt.datetime
    panels: tuple[str, ...]
    setting: str  # "routine", "control" (outpatient, unscheduled) or "ward"
    visit: int | None = None
    values: dict[str, float] = field(default_factory=dict)
    french_glucose: bool = False


def mdrd_egfr(creatinine: float, age: float) -> float:
    """IDMS-traceable MDRD study equation for a woman (LOINC 33914-3 names this method)."""
    return 175.0 * creatinine**-1.154 * age**-0.203 * 0.742


def creatinine_for_egfr(egfr: float, age: float) -> float:
    """The serum creatinine (mg/dL) that the MDRD equation turns into ``egfr``."""
    return (egfr / (175.0 * age**-0.203 * 0.742)) ** (-1 / 1.154)


@dataclass(frozen=True)
class Story:
    """The curves the results follow, anchored on the schedule's events."""

    birth_date: dt.date
    start: dt.datetime
    end: dt.datetime
    ramipril_from: dt.datetime
    statin_from: dt.datetime
    peak_draw: dt.datetime
    stay: Stay

    def share(self, moment: dt.datetime) -> float:
        return (moment - self.start) / (self.end - self.start)

    def age(self, moment: dt.datetime) -> float:
        return (moment.date() - self.birth_date).days / 365.25

    def hba1c(self, moment: dt.datetime) -> float:
        rise = self.start + (self.peak_draw - self.start) * 0.6
        settled = self.peak_draw + dt.timedelta(days=180)
        knots = [
            (self.start, 5.9),
            (rise, 6.3),
            (self.peak_draw, 8.2),
            (settled, 6.9),
            (max(self.end, settled + dt.timedelta(days=1)), 6.8),
        ]
        return _interpolate(knots, moment)

    def egfr_target(self, moment: dt.datetime) -> float:
        share = self.share(moment)
        return _interpolate(
            [(self.start, 86.0), (self._at(0.6), 71.0), (self._at(0.75), 59.0), (self.end, 56.0)],
            moment,
        ) + 0 * share

    def uacr(self, moment: dt.datetime) -> float:
        return _interpolate([(self.start, 11.0), (self._at(0.6), 22.0), (self.end, 46.0)], moment)

    def statin_effect(self, moment: dt.datetime) -> float:
        """0 before atorvastatin, 1 six weeks after it started (full LDL lowering)."""
        return min(max((moment - self.statin_from) / dt.timedelta(days=42), 0.0), 1.0)

    def _at(self, share: float) -> dt.datetime:
        return self.start + (self.end - self.start) * share


def _kidney_values(rng: random.Random, story: Story, draw: Draw) -> dict[str, float]:
    """Creatinine from the eGFR curve, then eGFR recomputed from the rounded creatinine."""
    target = story.egfr_target(draw.at) + rng.uniform(-1.0, 1.0)
    if draw.setting != "routine":  # dehydration and hyperkalaemia: a transient dip
        days = (draw.at.date() - story.stay.alert_draw_at.date()).days
        target -= (10.0, 6.0, 3.0)[min(days, 2)]
    age = story.age(draw.at)
    creatinine = round(creatinine_for_egfr(target, age), 2)
    return {"creatinine": creatinine, "egfr": round(mdrd_egfr(creatinine, age))}


def _potassium(rng: random.Random, story: Story, draw: Draw) -> float:
    """Creeps up on ramipril, peaks at the one critical value, settles once it is stopped."""
    alert = story.stay.alert_draw_at
    if draw.at == alert:
        return 6.3
    if draw.setting == "ward":
        return 5.3 if draw.at == story.stay.ward_draws[0] else 4.7
    if draw.at < alert:
        share = (draw.at - story.start) / (alert - story.start)
        return min(round(4.2 + 0.9 * share + rng.uniform(-0.15, 0.15), 1), 5.4)
    return round(4.4 + 0.2 * story.share(draw.at) + rng.uniform(-0.15, 0.15), 1)


def _lipids(rng: random.Random, story: Story, draw: Draw) -> dict[str, float]:
    """LDL about 160 before atorvastatin and 95 on it; total cholesterol by Friedewald."""
    effect = story.statin_effect(draw.at)
    ldl = round(162 - 66 * effect + rng.uniform(-6, 6))
    hdl = round(50 + 2 * effect + rng.uniform(-3, 3))
    triglycerides = round(195 - 60 * effect + rng.uniform(-15, 15))
    return {
        "ldl": ldl,
        "hdl": hdl,
        "triglycerides": triglycerides,
        "cholesterol": round(ldl + hdl + triglycerides / 5),
    }


def _glycaemia(rng: random.Random, story: Story, draw: Draw) -> dict[str, float]:
    """HbA1c along its curve (exactly 8.2 at the peak draw) and a fasting glucose to match."""
    hba1c = story.hba1c(draw.at)
    values: dict[str, float] = {}
    if "hba1c" in draw.panels:
        if draw.at == story.peak_draw:
            hba1c = 8.2
        else:  # keep the peak the single highest result
            hba1c = min(round(hba1c + rng.uniform(-0.1, 0.1), 1), 8.1)
        values["hba1c"] = hba1c
    values["glucose"] = round(20 * hba1c - 8 + rng.uniform(-6, 6))
    return values


def _other_values(rng: random.Random, story: Story, hba1c: float) -> dict[str, float]:
    share = story.share(story.start)
    alt = round(22 + 10 * max(hba1c - 5.9, 0.0) / 2.3 + rng.uniform(-3, 3))
    return {
        "sodium": 140 + rng.randint(-2, 2),
        "alt": alt,
        "ast": round(20 + 0.5 * (alt - 22) + rng.uniform(-2, 2)),
        "tsh": round(rng.uniform(1.4, 2.8), 2),
        "leukocytes": round(rng.uniform(5.2, 8.4), 1),
        "platelets": rng.randint(210, 290),
        "hemoglobin": round(13.5 - 0.9 * share + rng.uniform(-0.3, 0.3), 1),
    }


def measure_draw(rng: random.Random, story: Story, draw: Draw) -> None:
    """Fill ``draw.values`` for the panels the draw holds."""
    values = _glycaemia(rng, story, draw)
    values.update(_kidney_values(rng, story, draw))
    values["potassium"] = _potassium(rng, story, draw)
    values.update(_lipids(rng, story, draw))
    values.update(_other_values(rng, story, values.get("hba1c", story.hba1c(draw.at))))
    values["hemoglobin"] = round(13.5 - 0.9 * story.share(draw.at) + rng.uniform(-0.3, 0.3), 1)
    values["uacr"] = round(story.uacr(draw.at) + rng.uniform(-3, 3))
    wanted = {member for panel in draw.panels for member in PANELS[panel].members}
    draw.values = {name: value for name, value in values.items() if name in wanted}


def plan_draws(rng: random.Random, schedule: Schedule, story: Story) -> list[Draw]:
    """Every sample in time order: routine draws, the control that found 6.3, ward controls."""
    draws = []
    tsh_years: set[int] = set()
    for index, visit in enumerate(schedule.visits):
        panels = ROUTINE_PANELS
        if visit.draw_at.year not in tsh_years:  # thyroid checked once a year
            tsh_years.add(visit.draw_at.year)
            panels = (*panels, "tsh")
        # The second and fourth reports come from the lab's French template (glucose in g/L).
        draws.append(Draw(visit.draw_at, panels, "routine", index, french_glucose=index in (1, 3)))
    draws.append(Draw(schedule.stay.alert_draw_at, ("bmp",), "control"))
    draws.extend(Draw(at, ("bmp",), "ward") for at in schedule.stay.ward_draws)
    draws.sort(key=lambda draw: draw.at)
    for draw in draws:
        measure_draw(rng, story, draw)
    return draws


def interpret(test: LabTest, value: float) -> str:
    """The v3 ObservationInterpretation code of a value against the test's limits."""
    if test.critical_high is not None and value >= test.critical_high:
        return "HH"
    if test.critical_low is not None and value <= test.critical_low:
        return "LL"
    if test.high is not None and value > test.high:
        return "H"
    if test.low is not None and value < test.low:
        return "L"
    return "N"


# --- resources -----------------------------------------------------------------------------


class Record:
    """The bundle under construction: hands out seeded UUIDs and collects entries."""

    def __init__(self, seed: int) -> None:
        # A stream of its own, so ids do not shift when a clinical value draws one more number.
        self._ids = random.Random(f"healthspace-demo-ids:{seed}")
        self.entries: list[Resource] = []

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def add(self, resource: Resource, resource_id: str | None = None) -> Reference:
        resource_id = resource_id or self.new_id()
        resource = {"resourceType": resource.pop("resourceType"), "id": resource_id, **resource}
        self.entries.append({"fullUrl": f"urn:uuid:{resource_id}", "resource": resource})
        return ref(resource_id)


def ref(resource_id: str) -> Reference:
    return {"reference": f"urn:uuid:{resource_id}"}


def quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def patient(seed: int, birth_date: dt.date, gp: Reference) -> Resource:
    """The fictitious person: the name says "Demo" so nobody mistakes her for a real one."""
    return {
        "resourceType": "Patient",
        "identifier": [{"system": DEMO_SYSTEM, "value": f"demo-{seed}"}],
        "active": True,
        "name": [
            {
                "use": "official",
                "text": "Camille Demo-Durand",
                "family": "Demo-Durand",
                "given": ["Camille"],
            }
        ],
        "gender": "female",
        "birthDate": birth_date.isoformat(),
        "address": [
            {
                "use": "home",
                "line": ["12 rue de l'Exemple"],
                "city": "Lyon",
                "postalCode": "69003",
                "country": "FR",
            }
        ],
        "communication": [
            {
                "language": {
                    "coding": [{"system": "urn:ietf:bcp:47", "code": "fr", "display": "French"}],
                    "text": "français",
                },
                "preferred": True,
            }
        ],
        "generalPractitioner": [gp],
    }


def practitioner(key: str, given: str, family: str, occupation: Code, label_fr: str) -> Resource:
    """Shared reference data: a fictitious clinician (identifier in the demo system)."""
    return {
        "resourceType": "Practitioner",
        "identifier": [{"system": DEMO_SYSTEM, "value": key}],
        "active": True,
        "name": [{"text": f"Dr {given} {family}", "family": family, "given": [given], "prefix": ["Dr"]}],
        "gender": "female" if given in {"Jeanne", "Claire"} else "male",
        "address": [{"city": "Lyon", "postalCode": "69003", "country": "FR"}],
        "qualification": [{"code": concept(occupation, text=label_fr)}],
    }


def organization() -> Resource:
    """Shared reference data: the medical laboratory that performs every analysis."""
    return {
        "resourceType": "Organization",
        "identifier": [{"system": DEMO_SYSTEM, "value": "lab-demo-biologie"}],
        "active": True,
        "type": [concept(Code(_TERMINOLOGY + "organization-type", "prov", "Healthcare Provider"),
                         text="Laboratoire de biologie médicale")],
        "name": "Laboratoire Démo Biologie",
        "address": [
            {"line": ["1 place de la Fiction"], "city": "Lyon", "postalCode": "69003", "country": "FR"}
        ],
    }


ENCOUNTER_KINDS: dict[str, tuple[Code, Code, str]] = {
    "routine": (
        Code(ACT_CODE, "AMB", "ambulatory"),
        Code(SNOMED, "390906007", "Follow-up encounter"),
        "Consultation de suivi, médecine générale",
    ),
    "acute": (
        Code(ACT_CODE, "AMB", "ambulatory"),
        Code(SNOMED, "185345009", "Encounter for symptom"),
        "Consultation pour symptôme, médecine générale",
    ),
    "cardiology": (
        Code(ACT_CODE, "AMB", "ambulatory"),
        Code(SNOMED, "11429006", "Consultation"),
        "Consultation de cardiologie",
    ),
    "hospital": (
        Code(ACT_CODE, "IMP", "inpatient encounter"),
        Code(SNOMED, "32485007", "Hospital admission"),
        "Hospitalisation en médecine interne",
    ),
}


def encounter(
    kind: str,
    start: dt.datetime,
    end: dt.datetime,
    subject: Reference,
    clinician: Reference,
    reasons: Sequence[Reference] = (),
) -> Resource:
    """An encounter of one of the ENCOUNTER_KINDS, with its clinician as primary performer."""
    actclass, kind_code, label_fr = ENCOUNTER_KINDS[kind]
    role = ("ATND", "attender") if kind == "hospital" else ("PPRF", "primary performer")
    resource: Resource = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": actclass.coding(),
        "type": [concept(kind_code, text=label_fr)],
        "subject": subject,
        "participant": [
            {
                "type": [concept(Code(PARTICIPATION_TYPE, *role))],
                "individual": clinician,
            }
        ],
        "period": {"start": fhir_datetime(start), "end": fhir_datetime(end)},
    }
    if reasons:
        resource["reasonReference"] = list(reasons)
    return resource


def hospitalization(resource: Resource, diagnosis: Reference) -> Resource:
    """Add what only an inpatient stay has: admission source, discharge and its diagnosis."""
    resource["hospitalization"] = {
        "admitSource": concept(
            Code(_TERMINOLOGY + "admit-source", "gp", "General Practitioner referral")
        ),
        "dischargeDisposition": concept(
            Code(_TERMINOLOGY + "discharge-disposition", "home", "Home"), text="Retour à domicile"
        ),
    }
    resource["diagnosis"] = [
        {
            "condition": diagnosis,
            "use": concept(Code(_TERMINOLOGY + "diagnosis-role", "DD", "Discharge diagnosis")),
            "rank": 1,
        }
    ]
    return resource


def condition(
    diagnosis: Diagnosis,
    subject: Reference,
    onset: dt.datetime,
    recorded: dt.datetime,
    seen_at: Reference,
    asserter: Reference,
    resolved: dt.datetime | None = None,
) -> Resource:
    """A problem-list condition, or a resolved encounter diagnosis when ``resolved`` is set."""
    status = "resolved" if resolved else "active"
    category = ("encounter-diagnosis", "Encounter Diagnosis") if resolved else (
        "problem-list-item", "Problem List Item"
    )
    resource: Resource = {
        "resourceType": "Condition",
        "clinicalStatus": concept(Code(CONDITION_CLINICAL, status, status.capitalize())),
        "verificationStatus": concept(Code(CONDITION_VERIFICATION, "confirmed", "Confirmed")),
        "category": [concept(Code(CONDITION_CATEGORY, *category))],
        "code": diagnosis.code(),
        "subject": subject,
        "encounter": seen_at,
        "onsetDateTime": fhir_datetime(onset),
        "recordedDate": fhir_datetime(recorded),
        "asserter": asserter,
    }
    if resolved:
        resource["abatementDateTime"] = fhir_datetime(resolved)
    return resource


def medication_request(
    medicine: Medicine,
    subject: Reference,
    authored: dt.datetime,
    requester: Reference,
    seen_at: Reference,
    reason: Reference,
    stopped: tuple[dt.datetime, str] | None = None,
) -> Resource:
    """A long-term prescription; ``stopped`` gives when and why it was stopped."""
    resource: Resource = {
        "resourceType": "MedicationRequest",
        "status": "stopped" if stopped else "active",
        "intent": "order",
        "category": [
            concept(Code(_TERMINOLOGY + "medicationrequest-category", "community", "Community"))
        ],
        "medicationCodeableConcept": concept(medicine.rxnorm, text=medicine.label_fr),
        "subject": subject,
        "encounter": seen_at,
        "authoredOn": fhir_datetime(authored),
        "requester": requester,
        "reasonReference": [reason],
        "courseOfTherapyType": concept(
            Code(_TERMINOLOGY + "medicationrequest-course-of-therapy", "continuous",
                 "Continuous long term therapy")
        ),
        "dosageInstruction": [
            {
                "text": medicine.instruction_fr,
                "timing": {"repeat": {"frequency": medicine.per_day, "period": 1, "periodUnit": "d"}},
                "route": concept(ORAL_ROUTE),
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": 1,
                            "unit": medicine.dose_form.display.lower(),
                            "system": medicine.dose_form.system,
                            "code": medicine.dose_form.code,
                        }
                    }
                ],
            }
        ],
    }
    if stopped:
        when, why = stopped
        resource["statusReason"] = {"text": why}
        resource["note"] = [{"time": fhir_datetime(when), "text": f"Arrêt : {why}."}]
    return resource


def medication_statement(
    subject: Reference, start: dt.datetime, seen_at: Reference, reason: Reference
) -> Resource:
    """Self-medication the patient reported during her bronchitis."""
    return {
        "resourceType": "MedicationStatement",
        "status": "completed",
        "medicationCodeableConcept": concept(PARACETAMOL, text="Paracétamol 1 g"),
        "subject": subject,
        "context": seen_at,
        "effectivePeriod": {
            "start": fhir_datetime(start - dt.timedelta(days=3)),
            "end": fhir_datetime(start + dt.timedelta(days=5)),
        },
        "dateAsserted": fhir_datetime(start),
        "informationSource": subject,
        "reasonReference": [reason],
        "dosage": [{"text": "1 g jusqu'à trois fois par jour si fièvre ou douleurs"}],
    }


def allergy(subject: Reference, recorded: dt.datetime, recorder: Reference) -> Resource:
    """Penicillin allergy known since childhood: high criticality, urticaria."""
    return {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": concept(
            Code(_TERMINOLOGY + "allergyintolerance-clinical", "active", "Active")
        ),
        "verificationStatus": concept(
            Code(_TERMINOLOGY + "allergyintolerance-verification", "confirmed", "Confirmed")
        ),
        "type": "allergy",
        "category": ["medication"],
        "criticality": "high",
        "code": concept(Code(RXNORM, "70618", "penicillin"), text="Pénicillines"),
        "patient": subject,
        "onsetString": "Dans l'enfance",
        "recordedDate": fhir_datetime(recorded),
        "recorder": recorder,
        "reaction": [
            {
                "manifestation": [concept(Code(SNOMED, "126485001", "Urticaria"), text="Urticaire")],
                "severity": "moderate",
            }
        ],
    }


def immunization(
    vaccine: Code, label_fr: str, subject: Reference, at: dt.datetime, performer: Reference, lot: str
) -> Resource:
    return {
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": concept(vaccine, text=label_fr),
        "patient": subject,
        "occurrenceDateTime": fhir_datetime(at),
        "primarySource": True,
        "lotNumber": lot,
        "performer": [{"actor": performer}],
    }


def procedure(
    code: Code,
    label_fr: str,
    subject: Reference,
    at: dt.datetime,
    performer: Reference | None = None,
    seen_at: Reference | None = None,
    outcome_fr: str | None = None,
) -> Resource:
    resource: Resource = {
        "resourceType": "Procedure",
        "status": "completed",
        "code": concept(code, text=label_fr),
        "subject": subject,
        "performedDateTime": fhir_datetime(at),
    }
    if seen_at:
        resource["encounter"] = seen_at
    if performer:
        resource["performer"] = [{"actor": performer}]
    if outcome_fr:
        resource["outcome"] = {"text": outcome_fr}
    return resource


def _category(code: str, display: str) -> list[dict[str, Any]]:
    return [concept(Code(OBSERVATION_CATEGORY, code, display))]


def lab_observation(
    test: LabTest, value: float, subject: Reference, draw: Draw, issued: dt.datetime,
    lab: Reference, seen_at: Reference | None,
) -> Resource:
    """One result with its unit, the lab's reference range and an H/L/N/HH/LL flag."""
    flag = interpret(test, value)
    reference_range: dict[str, Any] = {}
    if test.low is not None:
        reference_range["low"] = quantity(test.low, test.unit)
    if test.high is not None:
        reference_range["high"] = quantity(test.high, test.unit)
    resource: Resource = {
        "resourceType": "Observation",
        "status": "final",
        "category": _category("laboratory", "Laboratory"),
        "code": concept(Code(LOINC, test.loinc, test.display), text=test.label_fr),
        "subject": subject,
        "effectiveDateTime": fhir_datetime(draw.at),
        "issued": fhir_datetime(issued),
        "performer": [lab],
        "valueQuantity": quantity(value, test.unit),
        "interpretation": [concept(Code(INTERPRETATION, flag, INTERPRETATIONS[flag]))],
        "referenceRange": [reference_range],
    }
    if seen_at:
        resource["encounter"] = seen_at
    return resource


def diagnostic_report(
    panel: LabPanel, subject: Reference, draw: Draw, issued: dt.datetime, lab: Reference,
    results: list[Reference], seen_at: Reference | None,
) -> Resource:
    resource: Resource = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "category": [concept(Code(_TERMINOLOGY + "v2-0074", "LAB", "Laboratory"))],
        "code": concept(panel.code, text=panel.label_fr),
        "subject": subject,
        "effectiveDateTime": fhir_datetime(draw.at),
        "issued": fhir_datetime(issued),
        "performer": [lab],
        "result": results,
    }
    if seen_at:
        resource["encounter"] = seen_at
    return resource


def vital_signs(
    subject: Reference, at: dt.datetime, seen_at: Reference, clinician: Reference,
    systolic: int, diastolic: int, weight: float, height: float | None, bmi: float,
) -> list[Resource]:
    """The vital-signs observations taken at a GP visit (height once a year)."""

    def vital(code: Code, label_fr: str, **value: Any) -> Resource:
        return {
            "resourceType": "Observation",
            "status": "final",
            "category": _category("vital-signs", "Vital Signs"),
            "code": concept(code, text=label_fr),
            "subject": subject,
            "encounter": seen_at,
            "effectiveDateTime": fhir_datetime(at),
            "performer": [clinician],
            **value,
        }

    def pressure(code: str, display: str, value: int) -> dict[str, Any]:
        return {"code": concept(Code(LOINC, code, display)), "valueQuantity": {
            "value": value, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"}}

    observations = [
        vital(
            Code(LOINC, "85354-9", "Blood pressure panel with all children optional"),
            "Pression artérielle",
            component=[
                pressure("8480-6", "Systolic blood pressure", systolic),
                pressure("8462-4", "Diastolic blood pressure", diastolic),
            ],
        ),
        vital(Code(LOINC, "29463-7", "Body weight"), "Poids", valueQuantity=quantity(weight, "kg")),
    ]
    if height is not None:
        observations.append(
            vital(Code(LOINC, "8302-2", "Body height"), "Taille", valueQuantity=quantity(height, "cm"))
        )
    observations.append(
        vital(
            Code(LOINC, "39156-5", "Body mass index (BMI) [Ratio]"),
            "Indice de masse corporelle",
            valueQuantity={"value": bmi, "unit": "kg/m2", "system": UCUM, "code": "kg/m2"},
        )
    )
    return observations


# --- assembling the record -----------------------------------------------------------------


@dataclass
class People:
    """References to the shared reference data and the patient."""

    patient: Reference
    gp: Reference
    cardiologist: Reference
    lab: Reference


def add_people(record: Record, seed: int, birth_date: dt.date) -> People:
    gp_id = record.new_id()
    patient_ref = record.add(patient(seed, birth_date, ref(gp_id)))
    gp = record.add(
        practitioner(
            "gp-exemple-martin", "Jeanne", "Exemple-Martin",
            Code(SNOMED, "62247001", "General practitioner"), "Médecin généraliste",
        ),
        gp_id,
    )
    cardiologist = record.add(
        practitioner(
            "cardio-fictif-bernard", "Paul", "Fictif-Bernard",
            Code(SNOMED, "17561000", "Cardiologist"), "Cardiologue",
        )
    )
    return People(patient_ref, gp, cardiologist, record.add(organization()))


def _bp(rng: random.Random, schedule: Schedule, at: dt.datetime) -> tuple[int, int]:
    """Untreated 154/95, about 136/85 on ramipril, about 131/79 on amlodipine."""
    if at > schedule.stay.discharged_at:
        systolic, diastolic = 131.0, 79.0
    else:
        first = schedule.visits[0].at
        effect = min(max((at - first) / dt.timedelta(days=42), 0.0), 1.0)
        systolic, diastolic = 154 - 18 * effect, 95 - 10 * effect
    return round(systolic + rng.uniform(-6, 6)), round(diastolic + rng.uniform(-4, 4))


def add_gp_encounters(
    record: Record, rng: random.Random, schedule: Schedule, story: Story, people: People,
    visit_ids: list[str], acute_id: str, reasons: dict[str, Reference],
) -> None:
    """Routine and acute GP encounters, each with its vital signs."""
    peak = schedule.visits[schedule.metformin_visit].at
    weight_knots = [(story.start, 82.0), (peak, 86.0), (story.end, 80.5)]
    moments = [(visit.at, visit_ids[i], "routine") for i, visit in enumerate(schedule.visits)]
    moments.append((schedule.acute_at, acute_id, "acute"))
    moments.sort()
    height_years: set[int] = set()
    for at, encounter_id, kind in moments:
        reason = reasons["bronchitis"] if kind == "acute" else reasons["hypertension"]
        finish = at + dt.timedelta(minutes=20)
        seen_at = record.add(
            encounter(kind, at, finish, people.patient, people.gp, [reason]), encounter_id
        )
        height = None
        if at.year not in height_years:
            height_years.add(at.year)
            height = round(163.0 + rng.uniform(-0.5, 0.5), 1)
        measured_height = height or 163.0
        weight = round(_interpolate(weight_knots, at) + rng.uniform(-0.6, 0.6), 1)
        systolic, diastolic = _bp(rng, schedule, at)
        bmi = round(weight / (measured_height / 100) ** 2, 1)
        for observation in vital_signs(
            people.patient, at + dt.timedelta(minutes=5), seen_at, people.gp,
            systolic, diastolic, weight, height, bmi,
        ):
            record.add(observation)


def add_labs(
    record: Record, rng: random.Random, draws: list[Draw], people: People, stay_ref: Reference
) -> None:
    """Every result of every draw, grouped by panel into DiagnosticReports."""
    for draw in draws:
        issued = _time_of_day(rng, draw.at.date(), "11:00", "18:00")
        if issued <= draw.at:
            issued = draw.at + dt.timedelta(hours=3)
        seen_at = stay_ref if draw.setting == "ward" else None
        for panel_key in draw.panels:
            panel = PANELS[panel_key]
            results = []
            for member in panel.members:
                test, value = LAB_TESTS[member], draw.values[member]
                if member == "glucose" and draw.french_glucose:
                    test, value = GLUCOSE_FRENCH, round(value / 100, 2)
                results.append(
                    record.add(
                        lab_observation(test, value, people.patient, draw, issued, people.lab, seen_at)
                    )
                )
            record.add(
                diagnostic_report(panel, people.patient, draw, issued, people.lab, results, seen_at)
            )


def add_immunizations(
    record: Record, rng: random.Random, schedule: Schedule, people: People
) -> None:
    """Flu every autumn, one tetanus-diphtheria booster, COVID-19 doses of each campaign."""

    def lot() -> str:
        return f"DEMO-{rng.randrange(16**6):06X}"

    start, end = schedule.start, schedule.end
    doses: list[tuple[dt.datetime, Code, str]] = []
    for year in range(start.year, end.year + 1):
        day = _not_sunday(dt.date(year, 10, 15) + dt.timedelta(days=rng.randint(0, 45)))
        if start <= day <= end:
            vaccine = INFLUENZA_QUADRIVALENT if year < 2024 else INFLUENZA_TRIVALENT
            doses.append((_time_of_day(rng, day, "09:00", "18:00"), vaccine, "Vaccin grippe saisonnière"))
    tetanus_day = _not_sunday(_fraction(start, end, TETANUS_AT))
    doses.append(
        (_time_of_day(rng, tetanus_day, "09:00", "18:00"), TETANUS_DIPHTHERIA, "Rappel diphtérie-tétanos")
    )
    for day, vaccine in COVID_CAMPAIGN:
        day = _not_sunday(day + dt.timedelta(days=rng.randint(0, 6)))
        if start <= day <= end:
            doses.append((_time_of_day(rng, day, "09:00", "18:00"), vaccine, "Vaccin COVID-19"))
    for at, vaccine, label_fr in sorted(doses, key=lambda dose: dose[0]):
        record.add(immunization(vaccine, label_fr, people.patient, at, people.gp, lot()))


def add_cardiology(
    record: Record, rng: random.Random, schedule: Schedule, people: People, hypertension: Reference
) -> None:
    """The yearly cardiology visit, each with an ECG."""
    for at in schedule.cardiology:
        seen_at = record.add(
            encounter("cardiology", at, at + dt.timedelta(minutes=30), people.patient,
                      people.cardiologist, [hypertension])
        )
        record.add(
            procedure(
                Code(SNOMED, "29303009", "Electrocardiographic procedure"),
                "Électrocardiogramme", people.patient, at + dt.timedelta(minutes=10),
                people.cardiologist, seen_at, "Rythme sinusal, pas d'anomalie aiguë",
            )
        )


def add_retinal_exams(
    record: Record, rng: random.Random, people: People, diagnosed: dt.datetime, end: dt.date
) -> None:
    """Yearly diabetic retinopathy screening from the year of the diagnosis."""
    day = diagnosed.date() + dt.timedelta(days=rng.randint(30, 90))
    while day < end:
        record.add(
            procedure(
                Code(SNOMED, "134395001", "Diabetic retinopathy screening"),
                "Rétinographie de dépistage", people.patient,
                _time_of_day(rng, _not_sunday(day), "09:00", "17:00"),
                outcome_fr="Pas de rétinopathie diabétique",
            )
        )
        day += dt.timedelta(days=365)


def _first_draw(draws: list[Draw], test: str, predicate: Callable[[float], bool]) -> Draw:
    routine = [draw for draw in draws if draw.setting == "routine" and test in draw.values]
    return next((draw for draw in routine if predicate(draw.values[test])), routine[-1])


def _build(seed: int, years: int, end: dt.date, routine_visits: int | None) -> Resource:
    """The whole record; ``routine_visits`` replaces the quarterly rhythm for large records."""
    start = _years_before(end, years)
    if years < MIN_YEARS:
        raise ValueError(f"years must be at least {MIN_YEARS} for the story to unfold, got {years}")
    if start.year - BIRTH_YEAR < 18:
        raise ValueError(f"the record must start in adulthood: years={years} reaches {start}")
    rng = random.Random(seed)
    record = Record(seed)
    birth_date = dt.date(BIRTH_YEAR, rng.randint(1, 12), rng.randint(1, 28))
    schedule = plan_schedule(rng, start, end, routine_visits)
    visits, stay = schedule.visits, schedule.stay
    story = Story(
        birth_date=birth_date,
        start=_midnight(start),
        end=_midnight(end),
        ramipril_from=visits[0].at,
        statin_from=visits[schedule.statin_visit].at,
        peak_draw=visits[schedule.metformin_visit].draw_at,
        stay=stay,
    )
    draws = plan_draws(rng, schedule, story)
    people = add_people(record, seed, birth_date)
    visit_ids = [record.new_id() for _ in visits]
    acute_id, stay_id = record.new_id(), record.new_id()
    first = visits[0]

    def at_visit(index: int) -> Reference:
        return ref(visit_ids[index])

    record.add(allergy(people.patient, first.at, people.gp))
    hypertension = record.add(
        condition(HYPERTENSION, people.patient, first.at, first.at, at_visit(0), people.gp)
    )
    cholesterol = record.add(
        condition(HYPERCHOLESTEROLAEMIA, people.patient, first.draw_at, first.at, at_visit(0), people.gp)
    )
    onset = schedule.acute_at - dt.timedelta(days=4)
    bronchitis = record.add(
        condition(ACUTE_BRONCHITIS, people.patient, onset, schedule.acute_at, ref(acute_id),
                  people.gp, resolved=schedule.acute_at + dt.timedelta(days=21))
    )
    diabetes_draw = _first_draw(draws, "hba1c", lambda value: value >= 6.5)
    assert diabetes_draw.visit is not None
    diabetes = record.add(
        condition(TYPE_2_DIABETES, people.patient, diabetes_draw.at, visits[diabetes_draw.visit].at,
                  at_visit(diabetes_draw.visit), people.gp)
    )
    hyperkalaemia = record.add(
        condition(HYPERKALAEMIA, people.patient, stay.alert_draw_at, stay.admitted_at, ref(stay_id),
                  people.cardiologist, resolved=stay.discharged_at)
    )
    # CKD needs three months of eGFR below 60: recorded at the first visit after that.
    ckd_draw = _first_draw(draws, "egfr", lambda value: value < 60)
    assert ckd_draw.visit is not None
    confirmed = ckd_draw.at + dt.timedelta(days=90)
    ckd_visit = next(
        (i for i, visit in enumerate(visits) if visit.at >= confirmed), len(visits) - 1
    )
    ckd_visit = max(ckd_visit, ckd_draw.visit)
    record.add(
        condition(CKD_STAGE_3A, people.patient, ckd_draw.at, visits[ckd_visit].at,
                  at_visit(ckd_visit), people.gp)
    )

    record.add(
        medication_request(RAMIPRIL, people.patient, first.at, people.gp, at_visit(0), hypertension,
                           stopped=(stay.discharged_at, "hyperkaliémie sous ramipril"))
    )
    statin = schedule.statin_visit
    record.add(
        medication_request(ATORVASTATIN, people.patient, visits[statin].at, people.gp,
                           at_visit(statin), cholesterol)
    )
    metformin = schedule.metformin_visit
    record.add(
        medication_request(METFORMIN, people.patient, visits[metformin].at, people.gp,
                           at_visit(metformin), diabetes)
    )
    record.add(
        medication_request(AMLODIPINE, people.patient, stay.discharged_at, people.cardiologist,
                           ref(stay_id), hypertension)
    )
    record.add(medication_statement(people.patient, schedule.acute_at, ref(acute_id), bronchitis))
    add_immunizations(record, rng, schedule, people)

    reasons = {"hypertension": hypertension, "bronchitis": bronchitis}
    add_gp_encounters(record, rng, schedule, story, people, visit_ids, acute_id, reasons)
    add_cardiology(record, rng, schedule, people, hypertension)
    stay_ref = record.add(
        hospitalization(
            encounter("hospital", stay.admitted_at, stay.discharged_at, people.patient,
                      people.cardiologist, [hyperkalaemia]),
            hyperkalaemia,
        ),
        stay_id,
    )
    add_retinal_exams(record, rng, people, diabetes_draw.at, end)
    add_labs(record, rng, draws, people, stay_ref)

    return {
        "resourceType": "Bundle",
        "id": record.new_id(),
        "meta": {"tag": [{"system": DEMO_SYSTEM, "code": "synthetic", "display": "Synthetic demo data"}]},
        "type": "collection",
        "timestamp": fhir_datetime(dt.datetime.combine(end, dt.time(20, 0))),
        "entry": record.entries,
    }


def build_demo_bundle(
    seed: int = 2026, years: int = 6, end: dt.date = DEFAULT_END
) -> dict[str, Any]:
    """A FHIR R4 Bundle of type 'collection' for one synthetic person."""
    return _build(seed, years, end, routine_visits=None)


def build_large_bundle(seed: int, target_resources: int, years: int = 10) -> dict[str, Any]:
    """Same kind of person, with enough encounters/labs/vitals that the bundle holds about
    target_resources entries (within 5%); used by benches (e.g. 20,000 resources)."""

    def size(visits: int) -> int:
        return len(_build(seed, years, DEFAULT_END, visits)["entry"])

    # Each routine visit adds about the same number of resources: measure it on two small
    # records, then solve for the visit count (one correction covers rounding effects).
    small, larger = 20, 40
    base = size(small)
    per_visit = (size(larger) - base) / (larger - small)
    visits = small + round((target_resources - base) / per_visit)
    if visits < small:
        raise ValueError(
            f"target_resources={target_resources} is too small: a {years}-year record "
            f"holds at least {base} resources"
        )
    bundle = _build(seed, years, DEFAULT_END, visits)
    error = len(bundle["entry"]) - target_resources
    if abs(error) > target_resources * 0.01:
        bundle = _build(seed, years, DEFAULT_END, visits - round(error / per_visit))
    return bundle
