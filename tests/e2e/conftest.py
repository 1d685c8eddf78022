"""The real engine against a real API server: shared fixtures.

The session builds or finds the engine (``tools/engine/build.py``), starts the
loopback control plane (``tools/engine/cluster.py``, which installs the local
stack's documented prerequisites and nothing else) unless
``WEBPLATFORM_E2E_KUBECONFIG`` names a cluster of yours (then the same
prerequisites are applied to it), and stops the cluster at the end. The suite
installs nothing the stack should: a CRD the stack needs and does not install
is listed in ``cluster.PREREQUISITE_CRDS`` or the stack fails here as on a
real cluster.

Pulumi runs with a ``file://`` backend, a passphrase, its own ``PULUMI_HOME``
and no network: ``PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION`` makes a missing
plugin fail at once; the provider comes from the engine's bin directory on
PATH. Commands that do not run the program (stack init, config, export,
state) go through the CLI as a user types them. Those that run it (preview,
up, destroy) go through the Automation API's inline program, because the
Python language host cannot be built here (see docs/guides/end-to-end.md); where a
``pulumi-language-python`` is on PATH the CLI could run them itself.

Every command's output is kept (``Engine.transcript``) so the canary test can
prove a secret never appears in any of it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _engine_tool(name: str) -> ModuleType:
    """``tools/engine/<name>.py`` by path (a plain ``import build`` would depend on the cwd)."""
    spec = importlib.util.spec_from_file_location(
        f"webplatform_engine_{name}", ROOT / "tools" / "engine" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


engine_build = _engine_tool("build")
engine_cluster = _engine_tool("cluster")

PASSPHRASE = "e2e-passphrase-not-a-secret"
CONTEXT = engine_cluster.CONTEXT
NEVER_READY_IMAGE = engine_cluster.NEVER_READY_IMAGE


@dataclass
class Kube:
    bindir: Path
    kubeconfig: Path
    transcript: list[str]

    def __call__(
        self, *args: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [
                str(self.bindir / "kubectl"),
                "--kubeconfig",
                str(self.kubeconfig),
                "--context",
                CONTEXT,
                *args,
            ],
            capture_output=True,
            text=True,
            input=input,
            timeout=300,
        )
        self.transcript += [proc.stdout, proc.stderr]
        if check and proc.returncode:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "-o", "json").stdout)

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.5)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@dataclass
class Engine:
    """One Pulumi project directory (a copy: config edits never touch the repository)."""

    bindir: Path
    env: dict[str, str]
    workdir: Path
    project: str
    program: Callable[[], None]
    transcript: list[str] = field(default_factory=list)

    def cli(
        self, *args: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(self.bindir / "pulumi"), *args, "--non-interactive"],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            input=input,
            timeout=900,
        )
        self.transcript += [proc.stdout, proc.stderr]
        if check and proc.returncode:
            raise AssertionError(f"pulumi {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def stack(self, name: str) -> Any:
        from pulumi import automation as auto

        return auto.select_stack(
            stack_name=name,
            project_name=self.project,
            program=self.program,
            opts=auto.LocalWorkspaceOptions(
                work_dir=str(self.workdir),
                pulumi_home=self.env["PULUMI_HOME"],
                env_vars=self.env,
                pulumi_command=auto.PulumiCommand(
                    root=str(self.bindir.parent), skip_version_check=True
                ),
            ),
        )

    def _run(self, op: str, stack: str, **kwargs: Any) -> Any:
        """``preview``/``up``/``destroy`` through the inline program; output kept."""
        lines: list[str] = []
        target = self.stack(stack)
        try:
            result = getattr(target, op)(on_output=lines.append, color="never", **kwargs)
        except Exception as exc:
            self.transcript += [*lines, str(exc)]
            raise
        self.transcript += [
            *lines,
            getattr(result, "stdout", "") or "",
            getattr(result, "stderr", "") or "",
        ]
        return result

    def preview(self, stack: str, **kwargs: Any) -> Any:
        return self._run("preview", stack, **kwargs)

    def up(self, stack: str, **kwargs: Any) -> Any:
        return self._run("up", stack, **kwargs)

    def destroy(self, stack: str, **kwargs: Any) -> Any:
        return self._run("destroy", stack, **kwargs)

    def export(self, stack: str) -> dict[str, Any]:
        return dict(json.loads(self.cli("stack", "export", "--stack", stack).stdout))

    def set_path(self, stack: str, path: str, value: str) -> None:
        self.cli("config", "set", "--stack", stack, "--path", path, value)


@pytest.fixture(scope="session")
def bindir() -> Path:
    return engine_build.ensure()


@pytest.fixture(scope="session")
def kubeconfig(bindir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    given = os.environ.get("WEBPLATFORM_E2E_KUBECONFIG")
    if given:
        yield Path(given)
        return
    local = engine_cluster.Cluster(tmp_path_factory.mktemp("cluster") / "cluster", bindir)
    local.up()
    try:
        yield local.kubeconfig
    finally:
        local.down()


@pytest.fixture(scope="session")
def transcript() -> list[str]:
    """Every command's output in the session (the canary test reads it)."""
    return []


@pytest.fixture(scope="session")
def kube(bindir: Path, kubeconfig: Path) -> Kube:
    # Its own transcript: the tests' kubectl reads the Secret, which is where the canary belongs.
    kube = Kube(bindir, kubeconfig, [])
    if os.environ.get("WEBPLATFORM_E2E_KUBECONFIG"):
        # A cluster of yours: the same documented prerequisites the local one gets at `up`.
        engine_cluster.install_prerequisites(kube)
    return kube


def pulumi_env(bindir: Path, kubeconfig: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    (home / "state").mkdir(parents=True, exist_ok=True)
    env.update(
        PATH=f"{bindir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        KUBECONFIG=str(kubeconfig),
        PULUMI_HOME=str(home / "home"),
        PULUMI_BACKEND_URL=f"file://{home / 'state'}",
        PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK="true",
    )
    # The state stays plain JSON (compression only with PULUMI_DIY_BACKEND_GZIP or _ZSTD), and
    # every step is checkpointed, as for a real stack: the recovery drills need the pending
    # operations a killed engine leaves (no PULUMI_SKIP_CHECKPOINTS here).
    return env


def project_copy(work: Path) -> Path:
    """The project and stack files in ``work``: `config set` writes there, not to the repo.

    ``infra`` is linked in because the CLI checks that ``main: infra/`` exists even when the
    Automation API runs the program inline.
    """
    for name in ("Pulumi.yaml", "Pulumi.local.yaml", "Pulumi.dev.yaml"):
        shutil.copy(ROOT / name, work / name)
    (work / "infra").symlink_to(ROOT / "infra")
    return work


def webplatform_program() -> None:
    from infra.stack import main

    main()


@pytest.fixture(scope="session")
def engine(
    bindir: Path, kube: Kube, tmp_path_factory: pytest.TempPathFactory, transcript: list[str]
) -> Engine:
    work = project_copy(tmp_path_factory.mktemp("webplatform"))
    env = pulumi_env(bindir, kube.kubeconfig, tmp_path_factory.mktemp("pulumi"))
    eng = Engine(bindir, env, work, "webplatform", webplatform_program)
    eng.transcript = transcript
    return eng
