"""What tools/lowest.py and tools/consumer.py share: the pinned uv's environment, a fresh
virtualenv, uv.lock's versions and the `--uv UV lock|test` command line dev.py calls.

Standard library only: dev.py runs these with the system Python.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def uv_env(venv: Path | None = None) -> dict[str, str]:
    """uv never downloads a Python, and works on ``venv`` (or only what it is told)."""
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    for name in ("VIRTUAL_ENV", "UV_PYTHON", "UV_FROZEN", "UV_NO_SYNC"):
        env.pop(name, None)
    if venv is not None:
        env["VIRTUAL_ENV"] = str(venv)
    return env


def python(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / "python"


def new_venv(uv: str, venv: Path) -> None:
    """An empty virtualenv on this interpreter (replacing whatever was there)."""
    subprocess.run(
        [uv, "venv", "--quiet", "--clear", "--python", sys.executable, str(venv)],
        env=uv_env(venv), check=True,
    )  # fmt: skip


def locked_versions() -> dict[str, str]:
    """uv.lock's version of each package (the test tools are taken at these)."""
    packages = tomllib.loads((ROOT / "uv.lock").read_text())["package"]
    return {p["name"]: p["version"] for p in packages if "version" in p}


def cli(
    argv: list[str], doc: str, lock: Callable[[str], int], test: Callable[[str, list[str]], int]
) -> int:
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--uv", required=True, help="the pinned uv (dev.py passes it)")
    parser.add_argument("task", choices=["lock", "test"])
    args, rest = parser.parse_known_args(argv)
    return lock(args.uv) if args.task == "lock" else test(args.uv, rest)
