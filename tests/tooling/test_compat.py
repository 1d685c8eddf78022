"""The compatibility gate (`python3 dev.py compat`): importers' breaks fail unless released as breaks.

The gate runs for real on a copy of the repository in a temporary git repo:
the baseline is recorded there, then the copy's components are changed the way
a maintainer might, and the gate must say no, until the version and the
changelog say yes.
"""

from __future__ import annotations

import inspect
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest

import webplatform
from tests.conftest import ROOT
from tools import compat
from tools.compat import examples

GIT = ["git", "-c", "user.name=compat", "-c", "user.email=compat@example.com"]


def _copy(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(
        ROOT / "components", repo / "components", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(
        ROOT / "tools" / "compat",
        repo / "tools" / "compat",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for name in ("pyproject.toml", "CHANGELOG.md", "tools/release_check.py"):
        shutil.copy(ROOT / name, repo / name)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    _commit(repo, "baseline")
    return repo


def _commit(repo: Path, message: str) -> None:
    subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", message], cwd=repo, check=True)


def _gate(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.compat", "--examples", "namespace", *args],
        cwd=repo,
        capture_output=True,
        text=True,
    )


def _edit(path: Path, *edits: tuple[str, str]) -> None:
    text = path.read_text()
    for old, new in edits:
        assert text.count(old) == 1, f"{path}: {old!r} not found once; update this test"
        text = text.replace(old, new)
    path.write_text(text)


def _release(repo: Path, version: str, section: str) -> None:
    current = compat.project_version(repo)
    _edit(repo / "pyproject.toml", (f'version = "{current}"', f'version = "{version}"'))
    changelog = repo / "CHANGELOG.md"
    text = changelog.read_text()
    first = text.index("\n## ")
    changelog.write_text(f"{text[:first]}\n## {version}\n\n{section}\n{text[first:]}")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """The copy with its baseline recorded and committed, once per module (two gate runs)."""
    repo = _copy(tmp_path_factory.mktemp("compat"))
    done = _gate(repo, "--update")
    assert done.returncode == 0, done.stdout + done.stderr
    release = json.loads((repo / "tools/compat/baseline/release.json").read_text())
    assert release["version"] == compat.project_version(ROOT)
    _commit(repo, "record the baseline")
    done = _gate(repo)
    assert done.returncode == 0, done.stdout + done.stderr  # unchanged: nothing to say
    return repo


@pytest.fixture
def repo(recorded, tmp_path):
    """A test's own copy of the recorded repository (its git history included) to change."""
    return Path(shutil.copytree(recorded, tmp_path / "repo", symlinks=True))


#: `NamespaceArgs.labels` renamed to `extra_labels`, completely (the component still builds).
RENAME = [
    ("    labels: Labels = {}", "    extra_labels: Labels = {}"),
    ('@field_validator("labels")', '@field_validator("extra_labels")'),
    ("**args.labels,", "**args.extra_labels,"),
]
CHILD = ('f"{name}-namespace"', 'f"{name}-ns"')


def test_a_renamed_argument_fails_the_gate(repo):
    _edit(repo / "components/guardrails/namespace.py", *RENAME)
    done = _gate(repo)
    assert done.returncode == 1, done.stdout
    assert re.search(r"BREAKING API: .*NamespaceArgs\.labels.*removed", done.stdout), done.stdout
    assert "does not raise the" in done.stdout


def test_a_changed_child_name_fails_the_gate(repo):
    _edit(repo / "components/guardrails/namespace.py", CHILD)
    done = _gate(repo)
    assert done.returncode == 1, done.stdout
    assert (
        "BREAKING URNs: namespace: gone (would be replaced): urn:pulumi:compat::importer::"
        "webplatform:namespace:Namespace$kubernetes:core/v1:Namespace::team-namespace"
    ) in done.stdout
    assert "BREAKING API" not in done.stdout


def test_both_pass_after_a_major_bump_with_a_breaking_entry(repo):
    _edit(repo / "components/guardrails/namespace.py", *RENAME)
    _edit(repo / "components/guardrails/namespace.py", CHILD)
    major = compat.parse_version(compat.project_version(repo))[0] + 1
    # a bump alone is not enough: importers need to be told what to do
    _release(repo, f"{major}.0.0", "- Namespaces are renamed.")
    done = _gate(repo)
    assert done.returncode == 1 and "with a `### Breaking` subsection" in done.stdout, done.stdout
    assert "does not raise" not in done.stdout
    _release(
        repo,
        f"{major + 1}.0.0",
        "### Breaking\n\n- `NamespaceArgs.labels` is `extra_labels`; the Namespace child is "
        '`<name>-ns`: add `aliases=[pulumi.Alias(name=f"{name}-namespace")]` to keep it.',
    )
    done = _gate(repo)
    assert done.returncode == 0, done.stdout
    assert "allowed: API:" in done.stdout and "allowed: URNs: namespace: gone" in done.stdout


def test_a_breaking_entry_without_the_major_bump_is_not_enough(repo):
    _edit(repo / "components/guardrails/namespace.py", CHILD)
    version = compat.project_version(repo)
    major, minor, patch = compat.parse_version(version)
    _release(
        repo, f"{major}.{minor}.{patch + 1}", "### Breaking\n\n- The Namespace child is renamed."
    )
    done = _gate(repo)
    assert done.returncode == 1 and "does not raise the" in done.stdout, done.stdout


def test_additions_are_not_breaks(repo):
    _edit(
        repo / "components/guardrails/namespace.py",
        ("    labels: Labels = {}", "    labels: Labels = {}\n    annotations: Labels = {}"),
    )
    done = _gate(repo)
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize(
    ("baseline", "current", "allowed"),
    [
        ("1.0.0", "2.0.0", True),
        ("1.0.0", "1.1.0", False),
        ("1.2.3", "1.2.4", False),
        ("0.1.0", "0.2.0", True),  # before 1.0 the minor part is the breaking step
        ("0.1.0", "0.1.1", False),
        ("0.9.0", "1.0.0", True),
    ],
)
def test_which_version_steps_may_break(baseline, current, allowed):
    assert compat.allows_breaking(baseline, current) is allowed


def test_the_changelog_breaking_subsection_is_read_per_version():
    text = (
        "# Changelog\n\n## 2.0.0 (2027-01-10)\n\n- Added X.\n\n### Breaking\n\n- Y renamed: use Z.\n\n"
        "## 1.0.0\n\n### Breaking\n\n- old\n"
    )
    assert compat.breaking_entries(compat.changelog_section(text, "2.0.0") or "") == [
        "- Y renamed: use Z."
    ]
    assert compat.changelog_section(text, "1.5.0") is None
    assert compat.breaking_entries("- Breaking: but not a subsection\n") == []


def test_every_public_component_has_an_example():
    """A component without an example would have no URN promise at all."""
    components = {
        name
        for name in webplatform.__all__
        if inspect.isclass(obj := getattr(webplatform, name))
        and issubclass(obj, pulumi.ComponentResource)
    }
    recorded = "\n".join(p.read_text() for p in compat.URNS.glob("*.urns"))
    tokens = set(re.findall(r"webplatform:\w+:(\w+)", recorded))
    assert components <= tokens, sorted(components - tokens)
    assert sorted(p.stem for p in compat.URNS.glob("*.urns")) == sorted(examples.EXAMPLES)


def test_the_baseline_is_a_commit_of_this_history_no_newer_than_the_package():
    release = json.loads(compat.RELEASE.read_text())
    assert re.fullmatch(r"[0-9a-f]{40}", release["ref"])
    assert compat.parse_version(release["version"]) <= compat.parse_version(
        compat.project_version(ROOT)
    )
    shallow = subprocess.run(
        ["git", "rev-parse", "--is-shallow-repository"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    if shallow == "false":  # a full clone (CI's) must hold it; a shallow one fetches it
        found = subprocess.run(["git", "cat-file", "-e", f"{release['ref']}^{{commit}}"], cwd=ROOT)
        assert found.returncode == 0, f"baseline commit {release['ref']} is not in this history"


def test_a_changed_default_is_a_note_not_a_break(repo):
    """Defaults move forward in minor releases (a newer chart); the API still takes every call."""
    _edit(
        repo / "components/guardrails/namespace.py",
        ('    version: str = "latest"', '    version: str = "v1.35"'),
    )
    done = _gate(repo)
    assert done.returncode == 0, done.stdout
    assert "BREAKING" not in done.stdout
