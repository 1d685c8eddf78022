"""Load the policy pack's plain check module by path, as the policy analyzer does.

``policy/`` is not an installed package (the pack runs in its own virtualenv),
so the tests import ``policy/checks.py`` from its file.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"


def load_checks() -> ModuleType:
    name = "webplatform_policy_checks"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, POLICY_DIR / "checks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module
