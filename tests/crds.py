"""Validate custom resources against the CRDs in tests/schemas/crds, as the API server would.

Beyond the schema, unknown fields are errors: the API server prunes fields a
structural schema does not declare, so a misspelt key would silently do nothing.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

CRDS = Path(__file__).resolve().parent / "schemas" / "crds"


@functools.cache
def _schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> openAPIV3Schema, for every served version of every CRD."""
    found = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            found[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return found


def known(obj: dict[str, Any]) -> bool:
    return (obj.get("apiVersion"), obj.get("kind")) in _schemas()


def validate(obj: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` or ``ValueError`` (unknown field) for an invalid object."""
    schema = _schemas()[(obj["apiVersion"], obj["kind"])]
    jsonschema.Draft7Validator(schema).validate(obj)
    unknown = _unknown_fields(obj, schema, "")
    if unknown:
        raise ValueError(f"{obj['kind']} {obj['metadata'].get('name')}: unknown fields {unknown}")


def _unknown_fields(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    if isinstance(value, dict):
        if "properties" in schema:
            found = [f"{path}.{k}".lstrip(".") for k in value if k not in schema["properties"]]
            for key, item in value.items():
                if key in schema["properties"]:
                    found += _unknown_fields(item, schema["properties"][key], f"{path}.{key}")
            return found
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return [f for k, v in value.items() for f in _unknown_fields(v, extra, f"{path}.{k}")]
        return []
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [
            f
            for i, v in enumerate(value)
            for f in _unknown_fields(v, schema["items"], f"{path}[{i}]")
        ]
    return []
