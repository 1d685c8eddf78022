"""Shared helpers: build components inside each test, never at import time."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("dev", "staging", "uat", "prod", "prod-dr")

# tests/e2e needs the real engine and a cluster (minutes): only `python3 dev.py e2e`
# (which sets WEBPLATFORM_E2E) collects it, never a plain `dev.py test`.
collect_ignore = [] if os.environ.get("WEBPLATFORM_E2E") else ["e2e"]


def load_stack_file(stack: str) -> dict[str, Any]:
    """A deep copy of a committed stack file, to derive variants from."""
    return copy.deepcopy(yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()))


@pytest.fixture
def write_stack(tmp_path: Path):
    """Write a stack document to a temporary ``Pulumi.<stack>.yaml`` and return its path."""

    def write(stack: str, document: dict[str, Any]) -> Path:
        path = tmp_path / f"Pulumi.{stack}.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    return write
