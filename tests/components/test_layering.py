"""The layers only point down (DESIGN.md): components are importable into anyone's stack."""

import ast

import pytest

from tests.conftest import ROOT

MODULES = sorted((ROOT / "components").rglob("*.py"))


def imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_components_never_import_infra(path):
    assert not [m for m in imports(path) if m == "infra" or m.startswith("infra.")]


@pytest.mark.parametrize(
    "path", [p for p in MODULES if p.name != "testing.py"], ids=lambda p: str(p.relative_to(ROOT))
)
def test_components_never_read_config_or_the_stack(path):
    source = path.read_text()
    for forbidden in ("pulumi.Config(", "get_stack(", "get_project("):
        assert forbidden not in source, f"{path.name} uses {forbidden}: pass values in through args"


def test_the_check_sees_a_violation():
    bad = ROOT / "build" / "layering_probe.py"
    bad.parent.mkdir(exist_ok=True)
    bad.write_text("from infra.config import parse\n")
    assert list(imports(bad)) == ["infra.config"]
