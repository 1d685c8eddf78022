"""Custom resources validated the way the API server would, against their CRDs' OpenAPI v3 schemas.

The CRDs live in ``tests/schemas/`` (see its README for their sources). Built-in
kinds are validated by ``kubernetes_validate`` in ``test_manifests.py``; this
module is the other half, for kinds that schema set cannot know.

Validation is strict: where a schema lists ``properties`` and neither allows
unknown fields (``x-kubernetes-preserve-unknown-fields``) nor says what extra
fields look like (``additionalProperties``), an unknown field fails. The API
server would instead *prune* it silently, so a typo such as ``expresion``
would deploy a rule that does nothing.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMAS = Path(__file__).resolve().parent / "schemas"
#: Custom kinds we render with no CRD schema available offline: their content is asserted in
#: their components' own tests instead. EKS Auto Mode's NodeClass: AWS publishes no CRD
#: source (the cluster serves it); its fields follow the EKS user guide, "create-node-class"
#: (tests/infra/test_auto_mode_network_policy.py).
UNSCHEMED: frozenset[tuple[str, str]] = frozenset({("eks.amazonaws.com/v1", "NodeClass")})
#: API groups under ``k8s.io`` that are served from CRDs, not built in (the Gateway API).
CRD_GROUPS = frozenset({"gateway.networking.k8s.io"})


def is_custom(obj: dict[str, Any]) -> bool:
    """True for kinds served from a CRD: a dotted API group outside ``*.k8s.io``."""
    group = obj["apiVersion"].rpartition("/")[0]
    return "." in group and (not group.endswith(".k8s.io") or group in CRD_GROUPS)


def strict(schema: Any) -> Any:
    """A copy of ``schema`` that rejects fields it does not declare."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) if k not in ("enum", "required", "default", "example") else v
           for k, v in schema.items()}  # fmt: skip
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@functools.cache
def schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the strict OpenAPI v3 schema of every served version of every CRD here."""
    found = {}
    for path in sorted(SCHEMAS.glob("*.yaml")):
        # The C loader when PyYAML has it: the CRDs are large (the SecretStore's is 12k lines).
        crd = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served", True):
                schema = version["schema"]["openAPIV3Schema"]
                found[(f"{group}/{version['name']}", kind)] = strict(schema)
    return found


def errors(obj: dict[str, Any]) -> list[str]:
    """Every schema violation of a custom resource, as ``path: message``; [] when valid."""
    key = (obj["apiVersion"], obj["kind"])
    if key not in schemas():
        return [f"no CRD schema for {key} in {SCHEMAS}"]
    validator = jsonschema.Draft4Validator(schemas()[key])
    return [
        f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.path)))
    ]
