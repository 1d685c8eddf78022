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

from tests._shared import ROOT, SHARED, once_per_run

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
    return copy.deepcopy(_committed_document(stack))


@functools.cache
def _committed_document(stack: str) -> dict[str, Any]:
    """Parsed once per process: the bad-stack cases derive hundreds of variants from each."""
    loaded: dict[str, Any] = yaml.load(
        (ROOT / f"Pulumi.{stack}.yaml").read_text(),
        Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader),
    )
    return loaded


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


#: The commands run by the fresh process below, in this order: (module, argv).
PROBED_COMMANDS = {
    "synth dev": ("synth", ["--stack", "dev", "--out", "{out}/dev"]),
    "synth prod": ("synth", ["--stack", "prod", "--out", "{out}/prod"]),
    "cost prod": ("cost", ["--stack", "prod", "--format", "json"]),
}

#: One fresh process, steps one after the other, each costing seconds of imports alone:
#: importing the library, then the config models, then the commands as a user runs them.
#: After each step it records the provider SDK modules loaded so far (cumulatively: dev
#: loads neither SDK, prod AWS and no Cloudflare) and, after each command, its exit code and
#: the event loops left open (issue 25: none). Each test reads the claim it makes. The
#: synths the commands run are the run's shared ones (``synthesized``), unless another
#: process offered them first.
_FRESH_PROCESS = r"""
import asyncio, contextlib, gc, importlib, io, json, sys, tempfile
from tests._shared import offer
COMMANDS = json.loads(sys.argv[1])
SDKS = ("pulumi_aws", "pulumi_cloudflare")
def loaded():
    return sorted(m for m in sys.modules if m.split(".")[0] in SDKS)
imports, loops = {}, {}
import webplatform
imports["import webplatform"] = loaded()
from infra import config
imports["import infra.config"] = loaded()
from infra import synth
synthesize = synth.synthesize
def offering(stack, config_file=None):
    done = synthesize(stack, config_file)
    if config_file is None:
        offer("synth:" + stack, done)
    return done
synth.synthesize = offering  # what `synth` and `cost` call
out = tempfile.mkdtemp(prefix="probe-")
for name, (module, argv) in COMMANDS.items():
    main = importlib.import_module("infra." + module).main
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main([a.format(out=out) for a in argv])
    gc.collect()
    open_loops = [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop)]
    loops[name] = {"code": code, "open": sum(not loop.is_closed() for loop in open_loops)}
    if name.startswith("synth "):
        imports[name.removeprefix("synth ")] = loaded()
print(json.dumps({"imports": imports, "loops": loops}))
"""


def fresh_process_report() -> dict[str, dict[str, Any]]:
    """What the fresh process above recorded, once per run: {"imports": ..., "loops": ...}."""

    def run() -> dict[str, dict[str, Any]]:
        result = subprocess.run(
            [sys.executable, "-c", _FRESH_PROCESS, json.dumps(PROBED_COMMANDS)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout.strip().splitlines()[-1]))

    return once_per_run("fresh-process", run)


@pytest.fixture(scope="session")
def sdk_imports() -> dict[str, list[str]]:
    """Step -> the provider SDK modules (submodules included) loaded after it, cumulatively."""
    return fresh_process_report()["imports"]
