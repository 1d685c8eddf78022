"""The program's layers only point down (issue 24): reading a stack file, the models and
the stack's rules, composition, the tools that run the program, the review command.

Imports under ``if TYPE_CHECKING:`` are annotations only and do not count; an import
inside a function does (it runs).
"""

import ast

import pytest

from tests.conftest import ROOT

#: Lowest first. A module may import modules of its own layer or of a layer before it.
LAYERS = [
    ["infra.config._source"],
    ["infra.config._base"],
    ["infra.config.apps", "infra.config.edge", "infra.config.cluster", "infra.config.secrets"],
    ["infra.config.review"],
    ["infra.config.stack"],
    ["infra.config.keys", "infra.config.names"],
    ["infra.config.secret_values"],
    ["infra.config.report"],
    ["infra.config.loader"],
    ["infra.config"],
    ["infra", "infra.stack", "infra.__main__"],
    [
        "infra.synth",
        "infra.cost",
        "infra.scan",
        "infra.recovery",
        "infra.prerequisites",
        "infra.schema",
    ],
    ["infra.review"],
]
LAYER = {module: index for index, modules in enumerate(LAYERS) for module in modules}
PATHS = sorted((ROOT / "infra").rglob("*.py"))


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name):
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports(path):
    """The ``infra`` modules a file imports at run time: ``from infra.config import review``
    is an import of the module ``infra.config.review``, ``from infra.config import parse``
    one of ``infra.config``."""
    found = set()

    def visit(node):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node = ast.Module(body=node.orelse, type_ignores=[])
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                found.add(name if _is_module(name) else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return {m for m in found if m.split(".")[0] == "infra"}


GRAPH = {module_name(p): imports(p) - {module_name(p)} for p in PATHS}


def test_every_infra_module_has_a_layer():
    assert sorted(set(GRAPH) - set(LAYER)) == []


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_a_module_imports_only_its_layer_or_below(module):
    above = sorted(m for m in GRAPH[module] if LAYER.get(m, -1) > LAYER[module])
    assert above == [], f"{module} imports {above}, of a layer above its own"


def cycle(graph):
    """One import cycle of ``graph`` (module -> modules it imports) as a path, or None."""
    state: dict[str, str] = {}

    def visit(module, path):
        state[module] = "open"
        for other in sorted(graph.get(module, ())):
            if state.get(other) == "open":
                return [*path, module, other]
            found = visit(other, [*path, module]) if other not in state else None
            if found:
                return found
        state[module] = "done"
        return None

    return next(filter(None, (visit(m, []) for m in sorted(graph) if m not in state)), None)


def test_no_import_cycle_among_infra_modules():
    assert cycle(GRAPH) is None


def test_the_checks_see_a_violation_and_a_cycle(tmp_path):
    bad = tmp_path / "probe.py"
    bad.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from infra.stack import build\n"
        "def f():\n    from infra.config import review, parse\n"
    )
    assert imports(bad) == {"infra.config", "infra.config.review"}
    assert LAYER["infra.config.review"] < LAYER["infra.config"]
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
