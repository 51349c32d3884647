"""The SNOMED CT → ICD-10(-CM) map a release may carry (its ExtendedMap reference set).

The US Edition ships the ICD-10-CM map (refset 6011000124106) and the International Edition the
WHO ICD-10 map (447562003), both in ``der2_iisssccRefset_ExtendedMapSnapshot*.txt``. A
concept's rows are grouped (``mapGroup``: one ICD code per group, several groups when the
concept needs several codes) and ordered (``mapPriority``); a row's ``mapRule`` is ``TRUE``,
``OTHERWISE TRUE`` or a condition on age or sex that only a person's record could decide. When
the file is absent the map is simply not used.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from healthspace.terminology.snomed import SnomedReleaseError

ICD10CM_REFSET = "6011000124106"
ICD10_WHO_REFSET = "447562003"
_PATTERN = "der2_iisssccRefset_ExtendedMapSnapshot*.txt"
_HEADER = (
    "id",
    "effectiveTime",
    "active",
    "moduleId",
    "refsetId",
    "referencedComponentId",
    "mapGroup",
    "mapPriority",
    "mapRule",
    "mapAdvice",
    "mapTarget",
    "correlationId",
    "mapCategoryId",
)
_UNCONDITIONAL = ("TRUE", "OTHERWISE TRUE", "")


@dataclass(frozen=True, slots=True)
class MapTarget:
    """One ICD code a concept maps to; ``conditional`` when its rule depends on the person."""

    code: str
    system: str  # "icd10cm" or "icd10"
    group: int
    priority: int
    conditional: bool
    rule: str


@dataclass(frozen=True)
class IcdMap:
    """Both directions of the map: a concept's ICD codes, an ICD code's concepts."""

    forward: dict[str, tuple[MapTarget, ...]]
    backward: dict[str, tuple[str, ...]]
    files: tuple[str, ...]

    def icd_codes(self, concept_id: str, include_conditional: bool = False) -> list[MapTarget]:
        """The ICD codes for a concept, group by group, unconditional rules first."""
        targets = self.forward.get(concept_id, ())
        return [t for t in targets if include_conditional or not t.conditional]

    def concepts(self, icd_code: str) -> tuple[str, ...]:
        """Concepts whose map leads to this ICD code (with or without its dot)."""
        return self.backward.get(_plain(icd_code), ())


def _plain(code: str) -> str:
    return code.replace(".", "").strip().upper()


def find_map_files(release_dir: Path) -> list[Path]:
    return sorted(release_dir.rglob(_PATTERN)) if release_dir.is_dir() else []


def load_icd_map(release_dir: Path | None) -> IcdMap | None:
    """The map in the release folder, or None when it has no ExtendedMap file."""
    if release_dir is None:
        return None
    files = find_map_files(release_dir)
    if not files:
        return None
    signature = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    return _load(signature)


@lru_cache(maxsize=2)
def _load(signature: tuple[tuple[str, int, int], ...]) -> IcdMap:
    latest: dict[str, tuple[str, list[str]]] = {}
    for path_text, _size, _mtime in signature:
        path = Path(path_text)
        with path.open(encoding="utf-8", newline="") as handle:
            header = tuple(handle.readline().rstrip("\r\n").split("\t"))
            if header != _HEADER:
                raise SnomedReleaseError(path, "the header is not the RF2 ExtendedMap header", 1)
            for number, line in enumerate(handle, start=2):
                row = line.rstrip("\r\n").split("\t")
                if row == [""]:
                    continue
                if len(row) != len(_HEADER):
                    raise SnomedReleaseError(
                        path, f"{len(row)} columns where the map has {len(_HEADER)}", number
                    )
                if row[4] not in (ICD10CM_REFSET, ICD10_WHO_REFSET):
                    continue
                previous = latest.get(row[0])
                if previous is None or row[1] > previous[0]:
                    latest[row[0]] = (row[1], row)
    forward: dict[str, list[MapTarget]] = defaultdict(list)
    backward: dict[str, set[str]] = defaultdict(set)
    has_cm = any(row[4] == ICD10CM_REFSET for _, row in latest.values())
    for _effective, row in latest.values():
        if row[2] != "1" or not row[10].strip():
            continue
        # With both maps present, the ICD-10-CM one speaks for ICD-10-CM codes.
        if has_cm and row[4] != ICD10CM_REFSET:
            continue
        rule = row[8].strip()
        target = MapTarget(
            code=row[10].strip(),
            system="icd10cm" if row[4] == ICD10CM_REFSET else "icd10",
            group=int(row[6] or 0),
            priority=int(row[7] or 0),
            conditional=rule not in _UNCONDITIONAL,
            rule=rule,
        )
        forward[row[5]].append(target)
        if not target.conditional:
            backward[_plain(target.code)].add(row[5])
    return IcdMap(
        forward={
            concept: tuple(sorted(targets, key=lambda t: (t.conditional, t.group, t.priority)))
            for concept, targets in forward.items()
        },
        backward={code: tuple(sorted(concepts)) for code, concepts in backward.items()},
        files=tuple(os.path.basename(p) for p, _s, _m in signature),
    )
