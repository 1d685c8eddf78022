#!/usr/bin/env python3
"""Set up the project's virtualenv on demand, then run one task in it.

Only the Python standard library is used here, so a fresh machine with
Python 3.11+ needs nothing else:

    python3 dev.py synth [--stack dev]   # offline synth of a stack
    python3 dev.py test [pytest args]    # the whole test suite
    python3 dev.py lint                  # ruff (lint + format check) and mypy
    python3 dev.py snapshots             # regenerate the URN snapshots, on purpose
    python3 dev.py bench [--runs N]      # benchmark: synth vs the SDK's own floor
    python3 dev.py wheel                 # build the wheel into dist/ and check what it holds
    python3 dev.py lock                  # re-pin requirements.lock from pyproject.toml
    python3 dev.py scan [--stack prod]   # checkov over each stack's synthesized manifests
    python3 dev.py scan-lock             # re-pin requirements-scan.lock (checkov's own venv)
    python3 dev.py engine                # build or find the real engine; last line: its bin dir
    python3 dev.py cluster up|down|status  # loopback control plane (etcd, apiserver, kwok ...)
    python3 dev.py e2e [pytest args]     # end-to-end: the real engine against that cluster
    python3 dev.py bench-e2e [--runs N]  # pulumi up/preview vs kubectl apply on that cluster

The virtualenv is `.venv` (the one `Pulumi.yaml` names, so `pulumi up` uses
the same interpreter and packages). It is reinstalled only when
`pyproject.toml` or `requirements.lock` change. The scanner, checkov, has its
own `.venv-scan` (its pins conflict with ours), reinstalled when
`requirements-scan.lock` changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"
STAMP = VENV / ".webplatform-installed"
SCAN_VENV = ROOT / ".venv-scan"
SCAN_BIN = SCAN_VENV / ("Scripts" if os.name == "nt" else "bin")
SCAN_LOCK = ROOT / "requirements-scan.lock"
CHECKOV_VERSION = "3.3.30"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "requirements.lock"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def bootstrap() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - runs under any python3 to say this
        sys.exit(f"dev.py: Python 3.11 or newer is required, this is {sys.version.split()[0]}")
    wanted = _fingerprint()
    if STAMP.exists() and STAMP.read_text() == wanted and PY.exists():
        return
    print("dev.py: installing into .venv (first run, or the lock changed) ...", flush=True)
    if not PY.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    pip = [str(PY), "-m", "pip", "--disable-pip-version-check", "-q"]
    # `-c` pins every transitive version from the lock; `-e .[dev]` installs the
    # project itself so `import components` works under `pulumi up` as under pytest.
    subprocess.run(
        [*pip, "install", "-c", "requirements.lock", "-e", ".[dev]"], cwd=ROOT, check=True
    )
    STAMP.write_text(wanted)


def bootstrap_scan() -> None:
    """Create `.venv-scan` with exactly the versions of `requirements-scan.lock`."""
    stamp = SCAN_VENV / ".webplatform-installed"
    wanted = hashlib.sha256(SCAN_LOCK.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted and (SCAN_BIN / "checkov").exists():
        return
    print("dev.py: installing checkov into .venv-scan ...", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(SCAN_VENV)
    subprocess.run(
        [str(SCAN_BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q",
         "install", "-r", str(SCAN_LOCK)],
        cwd=ROOT, check=True,
    )  # fmt: skip
    stamp.write_text(wanted)


def scan_lock() -> int:
    """Pin checkov and everything it pulls in, from a clean virtualenv."""
    venv.EnvBuilder(with_pip=True, clear=True).create(SCAN_VENV)
    py = str(SCAN_BIN / "python")
    pip = [py, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", f"checkov=={CHECKOV_VERSION}"], check=True)
    frozen = subprocess.run([*pip, "freeze"], check=True, capture_output=True, text=True).stdout
    header = SCAN_LOCK.read_text().split("\n")[:3] if SCAN_LOCK.exists() else []
    SCAN_LOCK.write_text("\n".join([*header, frozen]))
    return 0


def run(*args: str) -> int:
    return subprocess.run([str(PY), *args], cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    task, rest = argv[0], argv[1:]
    if task == "scan-lock":
        return scan_lock()
    # The engine and the cluster need only the standard library and Go (tools/engine/).
    if task == "engine":
        return subprocess.run([sys.executable, "tools/engine/build.py", *rest], cwd=ROOT).returncode
    if task == "cluster":
        return subprocess.run(
            [sys.executable, "tools/engine/cluster.py", *rest], cwd=ROOT
        ).returncode
    bootstrap()
    if task == "synth":
        if not any(a == "--stack" or a.startswith("--stack=") for a in rest):
            rest = ["--stack", "dev", *rest]
        return run("-m", "infra.synth", *rest)
    if task == "test":
        return run("-m", "pytest", *rest)
    if task == "lint":
        for step in (
            ("-m", "ruff", "check", "."),
            ("-m", "ruff", "format", "--check", "."),
            ("-m", "mypy"),
        ):
            code = run(*step)
            if code:
                return code
        return 0
    if task == "snapshots":
        os.environ["WEBPLATFORM_UPDATE_SNAPSHOTS"] = "1"
        return run("-m", "pytest", "tests/infra/test_snapshots.py", *rest)
    if task == "wheel":
        return run("tools/check_wheel.py")
    if task == "bench":
        return run("bench/run.py", *rest)
    if task == "e2e":
        # tests/e2e starts (and stops) its own cluster; `dev.py test` never collects it.
        os.environ["WEBPLATFORM_E2E"] = "1"
        return run("-m", "pytest", "tests/e2e", *rest)
    if task == "bench-e2e":
        return run("bench/e2e.py", *rest)
    if task == "lock":
        subprocess.run([str(PY), "-m", "pip", "install", "-q", "pip-tools"], check=True)
        return run(
            "-m", "piptools", "compile", "-q", "--strip-extras", "--extra", "dev",
            "--no-emit-index-url", "--no-emit-find-links",
            "-o", "requirements.lock", "pyproject.toml",
        )  # fmt: skip
    if task == "scan":
        bootstrap_scan()
        return run("-m", "infra.scan", "--checkov", str(SCAN_BIN / "checkov"), *rest)
    print(
        f"dev.py: unknown task {task!r}; tasks: synth, test, lint, snapshots, bench, wheel, lock, scan, scan-lock, "
        "engine, cluster, e2e, bench-e2e"
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
