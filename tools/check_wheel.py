"""Build the wheel with ``python -m build`` and check it is what importers need.

Fails (exit 1) when the wheel lacks ``components`` with its ``py.typed`` marker,
the ``infra`` program, or metadata (version, dependencies), or when it ships
tests. Run by ``python3 dev.py wheel`` and CI.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
REQUIRED = (
    "components/__init__.py",
    "components/py.typed",
    "components/testing.py",
    "infra/__main__.py",
)


def main() -> int:
    shutil.rmtree(DIST, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(DIST), str(ROOT)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (wheel,) = DIST.glob("webplatform_components-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    problems = [f"missing {name}" for name in REQUIRED if name not in names]
    problems += [
        f"ships {name}" for name in names if name.startswith(("tests/", "examples/", "bench/"))
    ]
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    for needle in ("Version: ", "Requires-Dist: pulumi<4", "Requires-Python: >=3.11"):
        if needle not in text:
            problems.append(f"METADATA lacks {needle!r}")
    for problem in problems:
        print(f"wheel: {problem}", file=sys.stderr)
    if not problems:
        print(
            f"wheel: {wheel.relative_to(ROOT)} ({wheel.stat().st_size // 1024} KiB, {len(names)} files) ok"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
