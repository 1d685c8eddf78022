"""JSON Schema of a stack file (``Pulumi.<stack>.yaml``), generated from the models.

    python3 dev.py schema            # writes schema/stack.schema.json
    python -m infra.schema           # the same

Editors check stack files against it through the YAML language server: the first line
of each stack file is ``# yaml-language-server: $schema=schema/stack.schema.json``.
The schema is a help for the editor; the program's validation (strict, with the
stack-level rules) stays the judge. A generator built on the models, like the offline
synth and the docs' reference, so it sits beside them, above :mod:`infra.config`.

Shape: a Pulumi stack file whose ``config:`` holds ``webplatform:<key>`` entries that
follow :class:`infra.config.StackConfig` (camelCase keys, as the program reads them),
other ``webplatform:`` keys only as secrets (values an app's ``secretEnv`` names), and
any provider's keys (``aws:region``...). A ``secure:`` value (``pulumi config set
--secret [--path]``) is allowed anywhere a string is.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from infra.config._base import NAMESPACE
from infra.config.stack import StackConfig

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "schema" / "stack.schema.json"
SECURE = {
    "type": "object",
    "description": "An encrypted value: pulumi config set --secret [--path] KEY VALUE.",
    "properties": {"secure": {"type": "string"}},
    "required": ["secure"],
    "additionalProperties": False,
}


def _with_secure(node: Any) -> Any:
    """Every string schema also takes a ``{secure: ...}`` value."""
    if isinstance(node, list):
        return [_with_secure(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _with_secure(v) for k, v in node.items()}
    if out.get("type") == "string":
        meta = {k: out.pop(k) for k in ("description", "default", "title") if k in out}
        return {**meta, "anyOf": [out, {"$ref": "#/$defs/secure"}]}
    return out


def stack_schema() -> dict[str, Any]:
    model = StackConfig.model_json_schema(by_alias=True, mode="validation")
    model = _with_secure(model)
    defs = model.pop("$defs", {})
    defs["secure"] = SECURE
    fields = list(model["properties"])
    config = {
        "type": "object",
        "description": "Stack configuration: webplatform:<key> settings and provider keys.",
        "properties": {f"{NAMESPACE}:{k}": v for k, v in model["properties"].items()},
        "required": [f"{NAMESPACE}:{k}" for k in model.get("required", [])],
        "patternProperties": {
            # Other webplatform: keys are secrets an app's secretEnv names.
            rf"^{NAMESPACE}:(?!({'|'.join(map(re.escape, fields))})$)[A-Za-z][A-Za-z0-9_-]*$": {
                "$ref": "#/$defs/secure"
            },
            # Provider keys (aws:region, kubernetes:..., cloudflare:apiToken): the providers'.
            rf"^(?!{NAMESPACE}:)[A-Za-z][A-Za-z0-9_-]*:.+$": {},
        },
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/example/webplatform/schema/stack.schema.json",
        "title": "webplatform stack file (Pulumi.<stack>.yaml)",
        "description": "Generated from infra/config by `python3 dev.py schema`; do not edit.",
        "type": "object",
        "properties": {
            "config": config,
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "environment": {},
        },
        "additionalProperties": False,
        "$defs": defs,
    }


def render() -> str:
    return json.dumps(stack_schema(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    SCHEMA_FILE.parent.mkdir(exist_ok=True)
    SCHEMA_FILE.write_text(render())
    print(f"wrote {SCHEMA_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
