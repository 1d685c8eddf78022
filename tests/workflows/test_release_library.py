"""Releases of the library: a `lib-vX.Y.Z` tag, checked, built once, attested, released, published.

The workflow file itself is also checked with the others (GitHub's schema,
actionlint, SHA pins, permissions) by test_workflows.py.
"""

from __future__ import annotations

import fnmatch
import io
import json
import subprocess
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.workflows.test_workflows import SCRIPTS, _gh, load, runs, steps, uses
from tools import release_check

WORKFLOW = "release-library.yml"


def test_only_library_tags_start_a_release_and_they_never_start_a_deploy():
    release = load(WORKFLOW)["on"]
    deploy = load("deploy.yml")["on"]["push"]["tags"]
    assert release == {"push": {"tags": ["lib-v*"]}}
    # GitHub's tag filters are globs over the tag name
    assert not any(fnmatch.fnmatchcase("lib-v1.2.0", pattern) for pattern in deploy)
    assert not fnmatch.fnmatchcase("v1.2.0", "lib-v*")
    assert not fnmatch.fnmatchcase("v1.2.0-rc1", "lib-v*")


def test_built_once_then_attested_then_released_then_published():
    jobs = load(WORKFLOW)["jobs"]
    assert list(jobs) == ["build", "attest", "github-release", "pypi"]
    assert (jobs["attest"]["needs"], jobs["github-release"]["needs"], jobs["pypi"]["needs"]) == (
        "build",
        "attest",
        "github-release",
    )
    build = runs(jobs["build"])
    check = build.index('python3 tools/release_check.py "$GITHUB_REF_NAME"\n')
    assert check < build.index("python3 dev.py wheel --sdist")
    assert build.index("--dist dist --notes notes/notes.md") > build.index("dev.py wheel --sdist")
    # the other jobs never build: they take the files the build job uploaded
    for name in ("attest", "github-release", "pypi"):
        assert "dev.py" not in runs(jobs[name]) and "build" not in runs(jobs[name])
        (download, *_) = uses(jobs[name], "actions/download-artifact")
        assert download["with"] == {"name": "dist", "path": "dist/"}
    (attest,) = uses(jobs["attest"], "actions/attest-build-provenance")
    assert attest["with"] == {"subject-path": "dist/*"}
    (release,) = [
        s for s in steps(jobs["github-release"]) if "github-release.sh" in s.get("run", "")
    ]
    assert release["run"] == (
        '.github/scripts/github-release.sh "$GITHUB_REPOSITORY" "$GITHUB_REF_NAME" '
        "notes/notes.md dist/*"
    )
    assert release["env"] == {"GH_TOKEN": "${{ github.token }}"}


def test_an_identity_token_only_where_it_signs_or_publishes_and_never_where_it_builds():
    jobs = load(WORKFLOW)["jobs"]
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["attest"]["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "attestations": "write",
    }
    assert jobs["github-release"]["permissions"] == {"contents": "write"}
    assert jobs["pypi"]["permissions"] == {"contents": "read", "id-token": "write"}


def test_pypi_is_trusted_publishing_switched_on_by_a_repository_variable():
    job = load(WORKFLOW)["jobs"]["pypi"]
    assert job["if"] == "vars.PUBLISH_TO_PYPI == 'true'"
    assert job["environment"]["name"] == "pypi"
    (publish,) = uses(job, "pypa/gh-action-pypi-publish")
    assert publish["with"] == {"packages-dir": "dist/"}  # no user, no password: OIDC
    text = (ROOT / ".github" / "workflows" / WORKFLOW).read_text()
    assert "secrets." not in text and "password" not in text


# --- tools/release_check.py --------------------------------------------------------------


def _repo(tmp_path: Path, version: str = "1.4.0", baseline: str | None = None) -> Path:
    root = tmp_path / "repo"
    (root / "tools" / "compat" / "baseline").mkdir(parents=True)
    (root / "pyproject.toml").write_text(f'[project]\nname = "x"\nversion = "{version}"\n')
    (root / "CHANGELOG.md").write_text(
        "# Changelog\n\n## Unreleased\n\n- next\n\n## 1.4.0 (2027-02-01)\n\n- Added X.\n\n"
        "## 1.3.0\n\n- Added Y.\n"
    )
    (root / "tools" / "compat" / "baseline" / "release.json").write_text(
        json.dumps({"version": baseline or version, "ref": "0" * 40})
    )
    return root


def _problems(root: Path, tag: str, dist: Path | None = None) -> list[str]:
    return release_check.problems(root, tag, dist)[1]


def test_a_tag_that_matches_version_changelog_and_baseline_passes(tmp_path):
    root = _repo(tmp_path)
    assert _problems(root, "lib-v1.4.0") == []
    notes = tmp_path / "notes.md"
    code = release_check.main(["lib-v1.4.0", "--root", str(root), "--notes", str(notes)])
    assert code == 0 and notes.read_text() == "- Added X.\n"


@pytest.mark.parametrize(
    ("tag", "version", "baseline", "expected"),
    [
        ("v1.4.0", "1.4.0", None, "not a library release tag"),
        ("lib-v1.4", "1.4.0", None, "not a library release tag"),
        ("lib-v1.4.1", "1.4.1", None, "no `## 1.4.1` section"),
        ("lib-v1.4.0", "1.5.0", "1.4.0", "pyproject.toml says version 1.5.0, the tag 1.4.0"),
        ("lib-v1.4.0", "1.4.0", "1.3.0", "the compatibility baseline is 1.3.0, not 1.4.0"),
    ],
)
def test_a_tag_that_disagrees_is_refused(tmp_path, tag, version, baseline, expected):
    root = _repo(tmp_path, version, baseline)
    found = _problems(root, tag)
    assert any(expected in problem for problem in found), found
    assert release_check.main([tag, "--root", str(root)]) == 1


def _dist(tmp_path: Path, wheel_version: str, sdist_version: str) -> Path:
    dist = tmp_path / "dist"
    dist.mkdir(parents=True)
    name = release_check.DIST_NAME
    with zipfile.ZipFile(dist / f"{name}-1.4.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr(f"{name}-1.4.0.dist-info/METADATA", f"Name: x\nVersion: {wheel_version}\n")
    with tarfile.open(dist / f"{name}-1.4.0.tar.gz", "w:gz") as sdist:
        data = f"Name: x\nVersion: {sdist_version}\n".encode()
        info = tarfile.TarInfo(f"{name}-1.4.0/PKG-INFO")
        info.size = len(data)
        sdist.addfile(info, io.BytesIO(data))
    return dist


def test_the_built_files_must_carry_the_tags_version_in_their_metadata(tmp_path):
    root = _repo(tmp_path)
    assert _problems(root, "lib-v1.4.0", _dist(tmp_path / "ok", "1.4.0", "1.4.0")) == []
    found = _problems(root, "lib-v1.4.0", _dist(tmp_path / "bad", "1.4.0.dev0", "1.3.9"))
    assert len(found) == 2
    assert (
        "METADATA says Version 1.4.0.dev0" in found[0] and "PKG-INFO says Version 1.3.9" in found[1]
    )
    extra = _dist(tmp_path / "extra", "1.4.0", "1.4.0")
    (extra / "notes.md").write_text("x")
    assert "expected one wheel and one sdist" in _problems(root, "lib-v1.4.0", extra)[0]


def test_this_repository_is_releasable_at_its_version():
    """The version in pyproject.toml has its changelog section and is the recorded baseline."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert _problems(ROOT, f"lib-v{version}") == []


# --- .github/scripts/github-release.sh ---------------------------------------------------


@pytest.mark.parametrize("exists", [False, True])
def test_the_release_is_created_from_the_existing_tag_or_its_files_replaced(tmp_path, exists):
    env = _gh(tmp_path, '[[ "$1 $2" == "release view" ]] && exit "$VIEW"')
    env["VIEW"] = "0" if exists else "1"
    files = [tmp_path / "a.whl", tmp_path / "a.tar.gz"]
    for path in files:
        path.write_text("x")
    result = subprocess.run(
        [
            str(SCRIPTS / "github-release.sh"),
            "acme/web",
            "lib-v1.4.0",
            "notes.md",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "gh.log").read_text().splitlines()
    assert log[0] == "release view lib-v1.4.0 --repo acme/web"
    if exists:
        assert (
            log[1] == f"release upload lib-v1.4.0 {files[0]} {files[1]} --repo acme/web --clobber"
        )
    else:
        assert log[1] == (
            f"release create lib-v1.4.0 {files[0]} {files[1]} --repo acme/web --verify-tag "
            "--title webplatform-components 1.4.0 --notes-file notes.md"
        )


def test_the_release_script_refuses_to_release_nothing(tmp_path):
    env = _gh(tmp_path, "")
    result = subprocess.run(
        [str(SCRIPTS / "github-release.sh"), "acme/web", "lib-v1.4.0", "notes.md"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 2 and "no files to attach" in result.stderr
    assert not (tmp_path / "gh.log").exists()
