#!/usr/bin/env bash
# Mask every value inside a JSON object held in an environment variable.
#
#   .github/scripts/mask-json.sh VARIABLE_NAME
#
# GitHub masks a secret's value as a whole; the single values inside a structured secret
# (REVIEW_CONFIG_SECRETS = {"webDatabaseUrl": "postgres://..."}) would print in clear if a
# command echoed one. This registers each value, and each line of a multi-line value, with
# `::add-mask::`. Keys are names, not secrets: they are not masked. Prints nothing else.
set -euo pipefail

name="${1:?usage: mask-json.sh VARIABLE_NAME}"
python3 - "$name" <<'PY'
import json
import os
import sys

document = json.loads(os.environ.get(sys.argv[1]) or "{}")
if not isinstance(document, dict):
    sys.exit(f"{sys.argv[1]} must be a JSON object of name -> value")


def leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)
    elif value is not None and str(value).strip():
        yield value if isinstance(value, str) else json.dumps(value)


for value in leaves(document):
    for line in value.splitlines():
        if line.strip():
            print(f"::add-mask::{line}")
PY
