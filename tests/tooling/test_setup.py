"""The set-up: uv.lock is the one source of pins, hashed, current, and what Pulumi and dev.py use.

`python3 dev.py` installs `.venv` with `uv sync --locked`; `pulumi install`
(``toolchain: uv``) runs `uv sync` on the same lock into the same `.venv`. These
tests keep the pieces agreeing: the project files, the lock, the pinned uv and
the workflows that put it on PATH for Pulumi.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

UV = ROOT / ".venv-uv" / "bin" / "uv"
PROJECTS = (ROOT, ROOT / "policy")


def _lock(project: Path) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in tomllib.loads((project / "uv.lock").read_text())["package"]}


def test_pulumi_runs_the_program_with_uv_in_dot_venv():
    runtime = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["runtime"]
    assert runtime == {"name": "python", "options": {"toolchain": "uv", "virtualenv": ".venv"}}
    # with a uv.lock present the uv toolchain ignores requirements files: none may linger
    for stale in ("requirements.txt", "requirements.lock", "policy/requirements.txt"):
        assert not (ROOT / stale).exists(), stale


@pytest.mark.parametrize("project", PROJECTS, ids=["project", "policy"])
def test_every_locked_file_is_hashed(project):
    packages = _lock(project)
    registry = {n: p for n, p in packages.items() if "registry" in p["source"]}
    assert len(registry) >= 30
    for name, package in registry.items():
        assert package["source"] == {"registry": "https://pypi.org/simple"}, name
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        assert files, name
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", f["hash"]) for f in files), name


def test_the_dev_tools_are_a_group_that_pulumi_install_also_installs():
    """`uv sync` installs the `dev` group by default; an extra would be removed by it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "optional-dependencies" not in project["project"]
    group = {re.split(r"[<>=\[ ]", d)[0].lower() for d in project["dependency-groups"]["dev"]}
    assert {"pytest", "ruff", "mypy"} <= group
    locked = _lock(ROOT)["webplatform-components"]
    assert {d["name"] for d in locked["dev-dependencies"]["dev"]} == group
    assert locked["source"] == {"editable": "."}  # `import webplatform` from the working tree


@pytest.mark.skipif(not UV.exists(), reason="dev.py installs uv into .venv-uv")
@pytest.mark.parametrize("project", PROJECTS, ids=["project", "policy"])
def test_each_lock_is_current_with_its_pyproject(project):
    """What `uv sync --locked` checks before installing; offline, from the lock alone."""
    done = subprocess.run(
        [str(UV), "lock", "--check", "--offline", "--quiet", "--python", sys.executable],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    )
    assert done.returncode == 0, done.stderr


def test_the_pinned_uv_is_one_version_with_every_wheel_hashed():
    text = (ROOT / "requirements-uv.txt").read_text()
    pins = re.findall(r"^(\S+)==(\S+)", text, re.M)
    assert [name for name, _ in pins] == ["uv"]
    hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", text)
    assert len(hashes) >= 10 and len(set(hashes)) == len(hashes)  # a wheel per platform
    if UV.exists():
        version = subprocess.run([str(UV), "--version"], capture_output=True, text=True).stdout
        assert version.split()[1] == pins[0][1]
    dev = (ROOT / "dev.py").read_text()
    assert "--require-hashes" in dev and "curl" not in dev
    if UV.exists():  # one install per machine and pin, linked from each clone
        assert (ROOT / ".venv-uv").is_symlink()


def test_dev_py_installs_with_uv_sync_locked_and_stays_stdlib_only():
    dev = (ROOT / "dev.py").read_text()
    assert '"sync", "--locked"' in dev
    imports = set(re.findall(r"^(?:import|from) (\w+)", dev, re.M))
    stdlib = {"__future__", "hashlib", "importlib", "os", "pathlib", "shutil", "subprocess", "sys"}
    assert imports <= stdlib | {"venv"}
    readme = (ROOT / "README.md").read_text()
    assert "python3 dev.py synth" in readme and "python3 dev.py test" in readme


@pytest.mark.parametrize("workflow", ["review.yml", "pulumi-up.yml"])  # pull-request.yml: no Pulumi
def test_workflows_put_the_pinned_uv_on_path_before_any_pulumi_step(workflow):
    """`toolchain: uv` makes every Pulumi command look for `uv` on PATH."""
    jobs = yaml.safe_load((ROOT / ".github" / "workflows" / workflow).read_text())["jobs"]
    checked = 0
    for job in jobs.values():
        steps = job.get("steps", [])
        pulumi = [
            i
            for i, s in enumerate(steps)
            if s.get("run") == "pulumi install" or "command" in s.get("with", {})
        ]
        if not pulumi:
            continue
        path = [i for i, s in enumerate(steps) if ".venv-uv/bin" in s.get("run", "")]
        synth = [i for i, s in enumerate(steps) if "python3 dev.py" in s.get("run", "")]
        assert path and synth and synth[0] < path[0] < min(pulumi), workflow
        checked += 1
    assert checked
