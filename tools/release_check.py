"""Check that a library release tag is what it says, before anything is published.

    python3 tools/release_check.py lib-v1.2.0 [--dist dist] [--notes build/notes.md]

A library release is a tag ``lib-vX.Y.Z`` (deploys of our stacks take the ``v*``
tags; ``lib-v`` never matches those). The tag is refused (exit 1, one line per
problem) unless:

- ``pyproject.toml``'s version is ``X.Y.Z``;
- ``CHANGELOG.md`` has a ``## X.Y.Z`` section with at least one entry;
- the compatibility baseline (``tools/compat/baseline/release.json``) is this
  version: a release records itself as the baseline the gate compares the next
  changes against (``python3 dev.py compat --update`` in the release commit);
- with ``--dist``: the folder holds exactly one wheel and one sdist of the
  package, each with ``Version: X.Y.Z`` in its own metadata (what an index and
  pip read, whatever the file name says).

``--notes FILE`` writes the changelog section, the GitHub release's notes.
Standard library only: the release workflow runs it before any install.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAG = re.compile(r"lib-v(\d+\.\d+\.\d+)")
DIST_NAME = "webplatform_components"


def changelog_section(text: str, version: str) -> str | None:
    """The body of ``## <version>`` (the heading may go on: ``## 1.0.0 (2026-12-04)``)."""
    match = re.search(rf"^## {re.escape(version)}(?:\s.*)?$", text, re.M)
    if not match:
        return None
    rest = text[match.end() :]
    after = re.search(r"^## ", rest, re.M)
    return (rest[: after.start()] if after else rest).strip()


def _metadata_version(text: str) -> str | None:
    match = re.search(r"^Version: (\S+)$", text, re.M)
    return match[1] if match else None


def dist_problems(dist: Path, version: str) -> list[str]:
    wheels = sorted(dist.glob("*.whl"))
    sdists = sorted(dist.glob("*.tar.gz"))
    others = sorted(p.name for p in dist.iterdir() if p not in {*wheels, *sdists})
    problems = []
    if len(wheels) != 1 or len(sdists) != 1 or others:
        names = sorted(p.name for p in dist.iterdir())
        return [f"{dist}: expected one wheel and one sdist, found {names}"]
    (wheel,), (sdist,) = wheels, sdists
    with zipfile.ZipFile(wheel) as archive:
        name = next((n for n in archive.namelist() if n.endswith(".dist-info/METADATA")), "")
        found = _metadata_version(archive.read(name).decode()) if name else None
    if found != version:
        problems.append(f"{wheel.name}: METADATA says Version {found}, the tag {version}")
    with tarfile.open(sdist) as archive:
        member = f"{DIST_NAME}-{version}/PKG-INFO"
        try:
            extracted = archive.extractfile(member)
        except KeyError:
            extracted = None
        found = _metadata_version(extracted.read().decode()) if extracted else None
    if found != version:
        problems.append(f"{sdist.name}: {member} says Version {found}, the tag {version}")
    return problems


def problems(root: Path, tag: str, dist: Path | None) -> tuple[str | None, list[str]]:
    match = TAG.fullmatch(tag)
    if not match:
        return None, [f"tag {tag!r} is not a library release tag (lib-vMAJOR.MINOR.PATCH)"]
    version = match[1]
    found = []
    declared = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    if declared != version:
        found.append(f"pyproject.toml says version {declared}, the tag {version}")
    section = changelog_section((root / "CHANGELOG.md").read_text(), version)
    if not section or not re.search(r"^[-*] \S", section, re.M):
        found.append(f"CHANGELOG.md has no `## {version}` section with entries")
    baseline = root / "tools" / "compat" / "baseline" / "release.json"
    recorded = json.loads(baseline.read_text())["version"] if baseline.exists() else None
    if recorded != version:
        found.append(
            f"the compatibility baseline is {recorded}, not {version}: run "
            "`python3 dev.py compat --update` in the release commit"
        )
    if dist is not None:
        found += dist_problems(dist, version)
    return version, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tag")
    parser.add_argument("--dist", type=Path, help="folder with the built wheel and sdist")
    parser.add_argument("--notes", type=Path, help="write the changelog section here")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    version, found = problems(args.root, args.tag, args.dist)
    for problem in found:
        print(f"release: {problem}", file=sys.stderr)
    if found or version is None:
        return 1
    if args.notes:
        args.notes.parent.mkdir(parents=True, exist_ok=True)
        text = changelog_section((args.root / "CHANGELOG.md").read_text(), version) or ""
        args.notes.write_text(text + "\n")
    print(f"release: {args.tag} is webplatform-components {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
