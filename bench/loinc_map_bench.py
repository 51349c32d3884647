"""LOINC mapping benchmark: top-1 and top-3 accuracy of local lab names, and speed.

Why: a laboratory's local names must land on the right LOINC code, and the unit must pick the
mass or molar code. Two sets: every name and alias of the catalog (``terminology/labs.py``),
queried with the test's own unit and without a unit, which shows the ranking is sound on names
it knows; and ``bench/data/loinc_map_heldout.json``, local names as reports print them, kept out
of the alias list (checked here), which shows how it does on names it has never seen. Prints
JSON and writes bench/results/loinc_map_bench.json.

    .venv/bin/python bench/loinc_map_bench.py
"""

from __future__ import annotations

import json
import platform
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from healthspace.terminology.labs import load_lab_catalog, name_keys, normalise_name
from healthspace.terminology.loinc_map import load_loinc_mapper

BENCH = Path(__file__).resolve().parent


def _catalog_items() -> list[dict[str, Any]]:
    """Each distinct name or alias with its unit; a name several tests share (with the same
    unit) accepts any of them."""
    catalog = load_lab_catalog()
    by_name: dict[tuple[str, str | None], set[str]] = defaultdict(set)
    texts: dict[tuple[str, str | None], str] = {}
    for lab in catalog.labs:
        for text in (lab.name.en, lab.name.fr, *lab.aliases.en, *lab.aliases.fr):
            key = (normalise_name(text), lab.unit)
            by_name[key].add(lab.code)
            texts.setdefault(key, text)
    return [
        {"name": texts[key], "unit": key[1], "codes": sorted(codes)}
        for key, codes in by_name.items()
        if key[0]
    ]


def _accuracy(items: list[dict[str, Any]], with_unit: bool) -> dict[str, Any]:
    mapper = load_loinc_mapper()
    top1 = top3 = 0
    misses: list[dict[str, Any]] = []
    began = time.perf_counter()
    for item in items:
        found = mapper.map(
            item["name"], item.get("unit") if with_unit else None, item.get("specimen"), limit=3
        )
        codes = [s.code for s in found]
        gold = set(item["codes"])
        top1 += bool(codes[:1] and codes[0] in gold)
        top3 += bool(gold & set(codes))
        if not (codes[:1] and codes[0] in gold):
            misses.append({"name": item["name"], "unit": item.get("unit"), "gold": item["codes"],
                           "got": codes})  # fmt: skip
    elapsed = time.perf_counter() - began
    return {
        "items": len(items),
        "top1": round(top1 / len(items), 3),
        "top3": round(top3 / len(items), 3),
        "ms_per_name": round(1000 * elapsed / len(items), 2),
        "top1_misses": misses,
    }


def main() -> None:
    began = time.perf_counter()
    load_loinc_mapper()
    build_s = round(time.perf_counter() - began, 3)
    catalog_items = _catalog_items()
    held = json.loads((BENCH / "data/loinc_map_heldout.json").read_text("utf-8"))["items"]
    known = {key for lab in load_lab_catalog().labs for key in name_keys(lab)}
    overlap = [item["name"] for item in held if normalise_name(item["name"]) in known]
    held_items = [
        {"name": i["name"], "unit": i.get("unit") or None, "specimen": i.get("specimen"),
         "codes": [i["code"]]}
        for i in held
    ]  # fmt: skip
    catalog_with_unit = _accuracy(catalog_items, with_unit=True)
    catalog_without_unit = _accuracy(catalog_items, with_unit=False)
    heldout = _accuracy(held_items, with_unit=True)
    heldout_without_unit = _accuracy(held_items, with_unit=False)
    for figures in (catalog_with_unit, catalog_without_unit, heldout_without_unit):
        figures["top1_misses"] = figures["top1_misses"][:15]  # examples, not the whole list
    result = {
        "machine": {"python": platform.python_version(), "cpu": platform.processor() or "?"},
        "mapper_build_s": build_s,
        "heldout_names_found_in_catalog": overlap,
        "catalog_names_with_unit": catalog_with_unit,
        "catalog_names_without_unit": catalog_without_unit,
        "heldout_with_unit": heldout,
        "heldout_without_unit": heldout_without_unit,
    }
    out = BENCH / "results" / "loinc_map_bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
