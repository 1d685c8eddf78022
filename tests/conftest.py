"""Shared helpers: build components inside each test, never at import time."""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests._shared import SHARED, once_per_run

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("dev", "staging", "uat", "prod", "prod-dr")

# tests/e2e needs the real engine and a cluster (minutes): only `python3 dev.py e2e`
# (which sets WEBPLATFORM_E2E) collects it, never a plain `dev.py test`.
collect_ignore = [] if os.environ.get("WEBPLATFORM_E2E") else ["e2e"]


_made = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    if SHARED not in os.environ:  # set: a worker, which inherited its controller's
        os.environ[SHARED] = config.stash[_made] = tempfile.mkdtemp(prefix="webplatform-tests-")


def pytest_unconfigure(config: pytest.Config) -> None:
    made = config.stash.get(_made, None)
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)
        del os.environ[SHARED]


#: The modules that take longest (seconds of real processes each: `--durations=0`), handed
#: out first. `dev.py test` gives whole files to the two workers in collection order, so a
#: long file collected last kept one worker busy for seconds after the other ran out of work.
FIRST = (
    "tests/infra/test_cdn.py",
    "tests/tooling/test_compat.py",
    "tests/infra/test_event_loop.py",
    "tests/infra/test_bad_stacks.py",
    "tests/workflows/test_workflows.py",
    "tests/infra/test_release.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(FIRST)))  # stable


@functools.cache
def synthesized(stack: str) -> Any:
    """The offline synth of a committed stack, once per run, read by every worker.

    The most expensive step of the suite (the program under mocks, provider SDK imports
    included); the stack tests of every module read the same result and never change it.
    """
    from infra import synth

    return once_per_run(f"synth:{stack}", lambda: synth.synthesize(stack))


def load_stack_file(stack: str) -> dict[str, Any]:
    """A deep copy of a committed stack file, to derive variants from."""
    return copy.deepcopy(yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()))


def synth_process(stack: str, config_file: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """``python -m infra.synth`` as a user runs it: a real process, so that what it prints at
    interpreter exit (issue 25) is in its stderr too."""
    command = [sys.executable, "-m", "infra.synth", "--stack", stack]
    return subprocess.run(
        [*command, "--config-file", str(config_file), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def write_stack(tmp_path: Path):
    """Write a stack document to a temporary ``Pulumi.<stack>.yaml`` and return its path."""

    def write(stack: str, document: dict[str, Any]) -> Path:
        path = tmp_path / f"Pulumi.{stack}.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    return write


#: One fresh process that records which provider SDKs are loaded after each step: importing
#: the library, the config models, then synthesizing dev and prod in turn. A test per claim
#: reads it (dev loads neither SDK, prod AWS and no Cloudflare); one process, not one per
#: claim, because each costs seconds of SDK imports. The two synths it has to run anyway are
#: the run's shared ones (``synthesized``) unless another worker got there first.
_IMPORT_STEPS = r"""
import json, sys
from tests._shared import once_per_run
SDKS = ("pulumi_aws", "pulumi_cloudflare")
def loaded():
    return sorted(m for m in sys.modules if m.split(".")[0] in SDKS)
report = {}
import webplatform
report["import webplatform"] = loaded()
from infra import config
report["import infra.config"] = loaded()
from infra import synth
for stack in ("dev", "prod"):
    rec = once_per_run(f"synth:{stack}", lambda: synth.synthesize(stack), run_anyway=True).recording
    assert "kubernetes:apps/v1:Deployment" in {r.type for r in rec.resources}, stack  # it ran
    report[stack] = loaded()
print(json.dumps(report))
"""


@pytest.fixture(scope="session")
def sdk_imports() -> dict[str, list[str]]:
    """Step -> the provider SDK modules (submodules included) loaded after it, cumulatively."""

    def steps() -> dict[str, list[str]]:
        result = subprocess.run(
            [sys.executable, "-c", _IMPORT_STEPS], cwd=ROOT, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout.strip().splitlines()[-1]))

    return once_per_run("sdk-imports", steps)
