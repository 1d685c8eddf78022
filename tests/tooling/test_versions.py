"""The library as a versioned product: stated ranges tested at their floors, a consumer on the wheel.

`requirements-lowest.txt` (`python3 dev.py lowest`) must be exactly the floors
`pyproject.toml` states; the consumer example pins the version this tree builds
and CI tests it against that wheel (`python3 dev.py consumer`).
"""

from __future__ import annotations

import re
import tomllib

import pytest

from tests.conftest import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
#: The ranges the issue of record (#23) asks to state and test at both ends.
RANGED = ("pulumi", "pulumi-aws", "pulumi-kubernetes", "pulumi-cloudflare", "pydantic")


def _floors() -> dict[str, str]:
    found = {}
    for spec in PROJECT["dependencies"]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([\d.]+),<(\d+)", spec)
        assert match, f"{spec}: state a floor and a major ceiling (name>=X.Y,<N)"
        found[match[1].lower()] = match[2]
    return found


def _pins(path) -> dict[str, str]:
    return {
        name.lower(): version
        for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", path.read_text(), re.M)
    }


def _padded(version: str) -> tuple[int, ...]:
    parts = tuple(int(p) for p in version.split("."))
    return parts + (0,) * (3 - len(parts))


def test_every_dependency_states_a_supported_range():
    assert set(RANGED) <= set(_floors())


def test_the_lowest_lock_is_every_floor_exactly():
    """Re-lock with `python3 dev.py lock` after changing a floor."""
    pins = _pins(ROOT / "requirements-lowest.txt")
    for name, floor in _floors().items():
        assert _padded(pins[name]) == _padded(floor), (name, pins[name], floor)


def test_the_lowest_lock_is_hashed_and_its_test_tools_are_the_main_locks():
    text = (ROOT / "requirements-lowest.txt").read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", text.split("\n", 2)[2])
    assert len(blocks) >= 30
    assert all("--hash=sha256:" in block for block in blocks), "every pin hashed"
    locked = {
        p["name"]: p["version"] for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]
    }
    pins = _pins(ROOT / "requirements-lowest.txt")
    for tool in ("pytest", "pytest-xdist", "jsonschema", "kubernetes-validate"):
        assert pins[tool] == locked[tool], tool


def test_the_changelog_states_the_ranges_the_metadata_states():
    from tools.compat import changelog_section

    section = changelog_section((ROOT / "CHANGELOG.md").read_text(), "1.0.0") or ""
    for spec in PROJECT["dependencies"]:
        name = spec.split(">=")[0]
        if name.lower() in RANGED:
            assert f"`{spec}`" in section, spec


def test_the_consumer_pins_the_version_this_tree_builds_in_its_own_lock():
    consumer = ROOT / "examples" / "consumer"
    version = PROJECT["version"]
    assert _pins(consumer / "requirements.txt") == {"webplatform-components": version}
    lock = consumer / "requirements.lock"
    pins = _pins(lock)
    assert pins["webplatform-components"] == version
    # the library's own dependencies come with it, hashed, inside its ranges
    for name, floor in _floors().items():
        assert _padded(pins[name]) >= _padded(floor), name
    body = "\n".join(line for line in lock.read_text().splitlines() if not line.startswith("#"))
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", body)
    unhashed = [b.split("==")[0] for b in blocks if "--hash=" not in b]
    assert unhashed == ["webplatform-components"]


def test_ci_runs_the_gate_the_consumer_on_the_wheel_and_the_floors():
    steps = [
        line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines() if "dev.py" in line
    ]
    wheel = steps.index("python3 dev.py wheel")
    for step in ("python3 dev.py compat", "python3 dev.py consumer", "python3 dev.py lowest"):
        assert step in steps, step
    assert steps.index("python3 dev.py consumer") > wheel  # the wheel CI just built
    # the consumer's tests run only against the wheel, not from the source tree
    testpaths = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]
    assert testpaths["ini_options"]["testpaths"] == ["tests"]


@pytest.mark.parametrize("module", ["lowest", "consumer", "_venvs", "release_check"])
def test_the_helpers_run_by_the_system_python_are_stdlib_only(module):
    """dev.py and the release workflow run these before any virtualenv exists."""
    text = (ROOT / "tools" / f"{module}.py").read_text()
    imports = set(re.findall(r"^(?:import|from) (\w+)", text, re.M))
    stdlib = {"__future__", "argparse", "collections", "hashlib", "json", "os", "pathlib", "re"}
    stdlib |= {"subprocess", "sys", "tarfile", "tomllib", "zipfile", "_venvs"}
    assert imports <= stdlib, imports - stdlib


def test_every_workflow_job_that_runs_ci_has_the_history_the_gate_compares_against():
    """The gate reads the baseline's commit; a shallow checkout would have to fetch it."""
    import yaml

    checked = 0
    for path in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            steps = job.get("steps", [])
            if not any(".ci/run" in s.get("run", "") for s in steps):
                continue
            checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
            assert checkout["with"]["fetch-depth"] == 0, f"{path.name}:{name}"
            checked += 1
    assert checked >= 2
