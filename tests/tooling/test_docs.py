"""The documentation site (`python3 dev.py docs`): generated from the models, strict about links.

Every setting is described once, in its model; the reference pages are made from the
models, so a field without a description is a hole in the docs and fails here. The
site's own checks (nav, links, anchors, Mermaid) are tested on pages broken on purpose.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from tests.conftest import ROOT, synthesized
from tools import docs


@pytest.fixture(scope="module")
def stack_model() -> type[BaseModel]:
    return docs.infra_adapter().stack_model


@pytest.fixture(scope="module")
def models(stack_model: type[BaseModel]) -> list[type[BaseModel]]:
    """The exported component models, every model the stack file nests, and every `Args`
    of the library or the program (not one a test of this process defined as a probe)."""
    from webplatform._model import Args

    found = dict.fromkeys([*docs.component_models(), *docs.stack_models(stack_model)])
    subclasses = list(Args.__subclasses__())
    while subclasses:
        model = subclasses.pop()
        subclasses += model.__subclasses__()
        if model.__module__.split(".")[0] in ("webplatform", "infra"):
            model.model_rebuild()
            found[model] = None
    return list(found)


def test_every_model_field_has_a_description(models):
    fields = sum(len(m.model_fields) for m in models)
    assert len(models) >= 60 and fields >= 400, (len(models), fields)  # the walk found them
    missing = docs.undescribed(models)
    assert not missing, f"fields without a description: {missing}"


def test_a_field_without_a_description_is_reported():
    class Sample(BaseModel):
        described: int = Field(default=1, description="Has one.")
        bare: int = 2

    assert docs.undescribed([Sample]) == ["Sample.bare"]


def test_the_stack_file_reference_has_every_top_level_key(stack_model):
    page = docs.stack_file_page(stack_model)
    for name, field in stack_model.model_fields.items():
        assert f"## `webplatform:{field.alias or name}`" in page, name
    assert "`apps.<name>.port`" in page  # nested keys, as paths
    assert "when provider: cloudfront" in page  # each variant of the CDN union


def test_the_component_reference_has_every_exported_args_model():
    import webplatform

    page = docs.components_page(docs.component_models())
    exported = [n for n in dir(webplatform) if n.endswith("Args") and not n.startswith("_")]
    assert len(exported) >= 25
    for name in exported:
        assert f"### {name}\n" in page, name
    # type, default, bounds and description of one field, as the model declares them
    row = next(line for line in page.splitlines() if line.startswith("| `port` | `port` |"))
    assert "integer" in row and "≥ 1" in row and "≤ 65535" in row and "**required**" in row


def _site(tmp_path: Path) -> Path:
    """The hand-written pages, the home page and the generated ones (stack pages stubbed)."""
    out = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", out)
    (out / "index.md").write_text(docs.home_page((ROOT / "README.md").read_text()))
    (out / "reference").mkdir()
    (out / "reference" / "components.md").write_text(docs.components_page(docs.component_models()))
    (out / "reference" / "stack-file.md").write_text(
        docs.stack_file_page(docs.infra_adapter().stack_model)
    )
    (out / "stacks").mkdir()
    for stack in docs.STACKS:
        (out / "stacks" / f"{stack}.md").write_text(docs.stack_page(stack, {"resources": []}, ""))
    (out / "stacks" / "index.md").write_text("# Stacks\n")
    return out


def test_the_committed_pages_and_nav_have_no_broken_link(tmp_path):
    site = _site(tmp_path)
    assert docs.check_site(site) == []
    assert len(docs.nav_pages()) >= 25
    assert {"guides/recovery.md", "reference/stack-file.md", "stacks/prod.md"} <= set(
        docs.nav_pages()
    )


def test_a_broken_link_anchor_or_nav_entry_fails_the_check(tmp_path):
    site = _site(tmp_path)
    (site / "guides" / "broken.md").write_text(
        "# Broken\n\n## A section\n\n[fine](#a-section), [fine too](cost.md#cost), "
        "[outside](https://example.com), `[code](nowhere.md)`\n\n"
        "[gone](no-such-page.md) and [no anchor](cost.md#no-such-anchor)\n\n"
        "```text\n[in a fence](fenced.md)\n```\n"
    )
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        (ROOT / "mkdocs.yml")
        .read_text()
        .replace(
            "  - Architecture: architecture.md", "  - Architecture: architecture.md\n  - X: gone.md"
        )
    )
    problems = docs.check_site(site, config)
    assert problems == [
        "mkdocs.yml nav: no page gone.md",
        "guides/broken.md: link to a missing page: no-such-page.md",
        "guides/broken.md: link to a missing anchor: cost.md#no-such-anchor",
    ]


def test_slugs_follow_the_headings_as_the_site_generator_makes_them():
    assert (
        docs.slug("Recovery: RPO 15 minutes, RTO 4 hours") == "recovery-rpo-15-minutes-rto-4-hours"
    )
    assert docs.slug("## `webplatform:cdn`".lstrip("# ")) == "webplatformcdn"
    assert docs.anchors("# A\n\n## A\n\n```\n# not a heading\n```\n") == {"a", "a_1"}


def test_a_stack_page_counts_every_resource_of_the_synth_and_shows_its_cost():
    document = synthesized("prod").resources()
    cost = docs.infra_adapter().cost_markdown("prod", document)
    page = docs.stack_page("prod", document, cost)
    counts = [int(n) for n in re.findall(r"^\| `[^`]+` \| (\d+) \|$", page, re.M)]
    assert sum(counts) == len(document["resources"]) > 100
    assert "Monthly cost of `prod`" in page and "| **total** |" in page
    assert "nothing to price" in docs.stack_page("local", {"resources": []}, None)


@pytest.fixture(scope="module")
def mermaid() -> Path:
    if not docs.mermaid_available():
        if os.environ.get("WEBPLATFORM_REQUIRE_MERMAID") == "1":
            pytest.fail("node and npm are required here (WEBPLATFORM_REQUIRE_MERMAID=1)")
        pytest.skip("no node/npm: the Mermaid check cannot run")
    return docs.install_mermaid()


def test_the_mermaid_check_rejects_a_broken_diagram(mermaid):
    good = "flowchart LR\n  a[DNS] --> b[CDN]\n"
    broken = "flowchart LR\n  a[DNS] --> \n  b -->> [c\n"
    problems = docs.check_mermaid([("good", good), ("broken", broken)], mermaid)
    assert len(problems) == 1 and "broken.mmd" in problems[0], problems


def test_the_architecture_diagrams_parse(mermaid):
    blocks = docs.diagrams(ROOT / "docs")
    assert {name for name, _ in blocks} >= {"architecture-1", "architecture-2"}
    assert docs.check_mermaid(blocks, mermaid) == []


def test_dev_py_builds_the_docs_in_their_own_venv_and_ci_requires_the_diagram_check():
    dev = (ROOT / "dev.py").read_text()
    assert "python3 dev.py docs [--serve]" in dev and "docs, docs-lock" in dev
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(
        r"dev\.py wheel\n(.*\n)*WEBPLATFORM_REQUIRE_MERMAID=1 python3 dev\.py docs", ci
    )
    assert docs.SERVE_ADDRESS.startswith("127.0.0.1:")
    lock = (ROOT / "requirements-docs.lock").read_text()
    pins = re.findall(r"^([a-z0-9-]+)==\S+ ?.*\\$", lock, re.M)
    assert "zensical" in pins and lock.count("--hash=sha256:") >= 2 * len(pins)
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "build/" in ignored and ".venv-docs/" in ignored


def test_the_readme_is_a_landing_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 70
    assert "python3 dev.py docs --serve" in readme and "127.0.0.1" in readme
    # the one place the folder/import-name mapping is explained
    assert "**`components/` is imported as `webplatform`.**" in readme
    for page in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / page).is_file(), page
