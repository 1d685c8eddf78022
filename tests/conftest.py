"""Shared helpers: build components inside each test, never at import time."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("dev", "staging", "uat", "prod")


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
