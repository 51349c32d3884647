"""One person, one space: no read ever returns another person's data, whatever the order of
imports, re-imports, reads and erasures across many persons (property-based)."""

from __future__ import annotations

import itertools
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from healthspace.bootstrap import Healthspace
from healthspace.errors import NotFoundError
from tests.factories import patient_bundle

PERSONS = 6
_run = itertools.count()

operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("import"),
            st.integers(0, PERSONS - 1),
            st.lists(
                st.floats(2.0, 30.0, allow_nan=False).map(lambda v: round(v, 2)),
                min_size=1,
                max_size=4,
            ),
        ),
        st.tuples(st.just("read"), st.integers(0, PERSONS - 1), st.none()),
        st.tuples(st.just("export"), st.integers(0, PERSONS - 1), st.none()),
        st.tuples(st.just("erase"), st.integers(0, PERSONS - 1), st.none()),
    ),
    min_size=1,
    max_size=25,
)


def _values(resources: list[dict[str, Any]]) -> list[float]:
    return sorted(
        r["valueQuantity"]["value"] for r in resources if r["resourceType"] == "Observation"
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_reads_only_ever_return_the_persons_own_data(hs: Healthspace, ops: list[Any]) -> None:
    run = next(_run)
    ids = [f"iso{run}-p{i}" for i in range(PERSONS)]
    expected: dict[str, list[float]] = {}
    for action, index, values in ops:
        person = ids[index]
        if action == "import":
            bundle = patient_bundle(person, family=f"Family{index}", glucose_values=tuple(values))
            report = hs.importer.import_uploads([(f"{person}.json", orjson.dumps(bundle))], "t")
            assert report.errors == [] and report.persons == [person]
            # Same ids, new values: the person's observations are those of the latest import
            # for the first len(values) slots, earlier extra slots stay.
            previous = expected.get(person, [])
            merged = list(values) + previous[len(values) :]
            expected[person] = merged
            continue
        if person not in expected:
            try:
                hs.vault.resources("t", person)
            except NotFoundError:
                continue
            raise AssertionError(f"{person} was never imported but could be read")
        if action == "read":
            found = hs.vault.resources("t", person)
        elif action == "export":
            found = [e["resource"] for e in hs.vault.export("t", person)["entry"]]
        else:
            hs.vault.erase("t", person)
            del expected[person]
            continue
        patients = [r for r in found if r["resourceType"] == "Patient"]
        assert [p["id"] for p in patients] == [person]
        assert patients[0]["name"][0]["family"] == f"Family{index}"
        for resource in found:
            if resource["resourceType"] == "Observation":
                assert resource["subject"]["reference"] == f"Patient/{person}"
        assert _values(found) == sorted(expected[person])
    listed = {p.id for p in hs.vault.persons("t") if p.id.startswith(f"iso{run}-")}
    assert listed == set(expected)
    assert hs.vault.verify_audit().valid
