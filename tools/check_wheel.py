"""Build the wheel with ``python -m build`` and check it is what importers need.

Fails (exit 1) when the wheel lacks the ``webplatform`` package (built from
``components/``) with its ``py.typed`` marker and every area subpackage, or
metadata (version, dependencies), or when it ships tests, or a top-level
package other than ``webplatform`` (``components`` or ``infra`` would collide
with a team's own packages of those names). Run by ``python3 dev.py wheel`` and CI.

``--sdist`` builds the sdist too and the wheel from it (what a release publishes,
and what an index's users build from when no wheel fits).
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
    "webplatform/__init__.py",
    "webplatform/py.typed",
    "webplatform/testing.py",
    *(
        f"webplatform/{area}/__init__.py"
        for area in ("cluster", "delivery", "edge", "guardrails", "secrets", "workloads")
    ),
)


def main(argv: list[str]) -> int:
    shutil.rmtree(DIST, ignore_errors=True)
    kinds = [] if "--sdist" in argv else ["--wheel"]  # no flag: the sdist, then its wheel
    subprocess.run(
        [sys.executable, "-m", "build", *kinds, "--outdir", str(DIST), str(ROOT)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (wheel,) = DIST.glob("webplatform_components-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    problems = [f"missing {name}" for name in REQUIRED if name not in names]
    tops = {
        name.split("/", 1)[0]
        for name in names
        if not name.split("/", 1)[0].endswith((".dist-info", ".data"))
    }
    problems += [f"ships top-level {top!r}" for top in sorted(tops - {"webplatform"})]
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
    sys.exit(main(sys.argv[1:]))
