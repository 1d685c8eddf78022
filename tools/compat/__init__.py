"""The compatibility gate: what an importer of ``webplatform`` would see break, against the last release.

A break of a Pulumi component library has two faces, and the gate checks both
against the baseline in ``tools/compat/baseline/`` (the last release):

- the Python API: griffe's breaking-change check (``griffe.find_breaking_changes``,
  what ``griffe check`` runs) over the public ``webplatform`` API, private
  modules and names (``_model``, ``_checks``...) excluded. The baseline's source
  is the git commit recorded in ``baseline/release.json``: a committed API dump
  would be a megabyte of griffe JSON that griffe itself does not read back
  whole, while a commit of ``main`` is in every clone CI makes (a shallow clone
  fetches that one commit);
- the resource graph: the URNs each program of :mod:`tools.compat.examples`
  registers under the recording mocks, against ``baseline/urns/<example>.urns``.
  A URN of the baseline that is gone (type token, child name or parent changed)
  is a live resource that ``pulumi up`` would delete and create again in every
  importer's stack. New URNs are additions, not breaks.

A break passes only when the version in ``pyproject.toml`` raises the major part
over the baseline's (before 1.0: the minor part) and the changelog section of
that version has a ``### Breaking`` subsection with at least one entry, which
says what importers must do (aliases, renamed arguments).

``python3 dev.py compat`` checks; ``python3 dev.py compat --update`` records the
working tree as the new baseline (its commit, its version, its URNs): run it when
a release is cut, and after merging component changes that are meant to be in
the promise. ``--examples a,b`` limits the URN part to some examples (tests).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tools.release_check import changelog_section

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BASELINE = HERE / "baseline"
RELEASE = BASELINE / "release.json"
URNS = BASELINE / "urns"
PACKAGE = "webplatform"
SOURCE = "components"  # the folder the `webplatform` package is built from


@dataclass
class Report:
    """What the gate found; ``breaks`` decide, ``notes`` only inform."""

    breaks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- versions and the changelog ----------------------------------------------------------


def parse_version(text: str) -> tuple[int, int, int]:
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", text.strip())
    if not match:
        raise ValueError(f"version {text!r} is not MAJOR.MINOR.PATCH")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def project_version(root: Path) -> str:
    return str(tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"])


def allows_breaking(baseline: str, current: str) -> bool:
    """Semantic versioning: a new major; before 1.0, a new minor is the breaking step."""
    old, new = parse_version(baseline), parse_version(current)
    if new[0] > old[0]:
        return True
    return old[0] == 0 and new[0] == 0 and new[1] > old[1]


def breaking_entries(section: str) -> list[str]:
    """The bullets of the section's ``### Breaking`` subsection."""
    match = re.search(r"^### Breaking\s*$", section, re.M)
    if not match:
        return []
    body = section[match.end() :]
    after = re.search(r"^#{2,3} ", body, re.M)
    body = body[: after.start()] if after else body
    return [line for line in body.splitlines() if re.match(r"^[-*] \S", line)]


# --- the Python API ----------------------------------------------------------------------


def _source_link(root: Path, where: Path) -> Path:
    """A folder holding ``webplatform`` -> ``<root>/components``, for griffe and imports."""
    link = where / PACKAGE
    if link.is_symlink() and link.resolve() == (root / SOURCE).resolve():
        return where
    where.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(root / SOURCE, target_is_directory=True)
    return where


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)


def baseline_source(root: Path, ref: str, out: Path) -> Path:
    """The baseline's ``components/`` at ``ref``, extracted as ``<out>/webplatform``."""
    if _git(root, "cat-file", "-e", f"{ref}^{{commit}}").returncode:
        # A shallow clone (actions/checkout's default) lacks it: fetch that one commit.
        _git(root, "fetch", "--quiet", "--depth=1", "origin", ref)
    archive = _git(root, "archive", "--format=tar", ref, SOURCE)
    if archive.returncode:
        raise SystemExit(
            f"compat: the baseline commit {ref} (tools/compat/baseline/release.json) is not in "
            f"this clone and could not be fetched: {archive.stderr.decode().strip()}"
        )
    target = out / ref
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")
    (target / SOURCE).rename(target / PACKAGE)
    return target


def api_changes(old_path: Path, new_path: Path) -> Report:
    """griffe's breaking changes of the public API from ``old_path`` to ``new_path``.

    A changed value of a public attribute (a model field's default: a newer chart or
    Kubernetes version) is a note, not a break: the API still accepts every call it
    did, and a default is what a release may move forward (announced in the changelog;
    importers who need the old value set it). Everything else griffe reports breaks.
    """
    import griffe  # the dev group's; imported here so `--help` needs nothing

    def load(path: Path) -> griffe.Object:
        return griffe.load(
            PACKAGE,
            search_paths=[str(path)],
            resolve_aliases=True,
            resolve_external=False,
            allow_inspection=False,
        )

    old, new = load(old_path), load(new_path)
    report = Report()
    for breakage in griffe.find_breaking_changes(old, new):
        change = ""
        if breakage.kind is not griffe.BreakageKind.OBJECT_REMOVED:
            change = f": {_shown(breakage.old_value)} -> {_shown(breakage.new_value)}"
        line = f"API: {breakage.obj.path}: {breakage.kind.value}{change}"
        if breakage.kind is griffe.BreakageKind.ATTRIBUTE_CHANGED_VALUE:
            report.notes.append(line)
        else:
            report.breaks.append(line)
    report.breaks, report.notes = sorted(set(report.breaks)), sorted(set(report.notes))
    return report


def _shown(value: object) -> str:
    """A breakage's old or new value in one line (griffe's own explanations are coloured)."""
    shown = getattr(value, "path", None) or getattr(value, "name", None) or str(value)
    return " ".join(str(shown).split())


# --- the resource graph ------------------------------------------------------------------


def example_urns(names: list[str]) -> dict[str, list[str] | str]:
    """Each example's URNs, or the error that stopped it (a new required argument...)."""
    from tools.compat.examples import CONFIG, EXAMPLES
    from webplatform import testing

    found: dict[str, list[str] | str] = {}
    for name in names:
        try:
            rec = testing.run(EXAMPLES[name], project="importer", stack="compat", config=CONFIG)
        except Exception as error:  # any failure to build is what an importer would hit
            found[name] = f"{type(error).__name__}: {error}".splitlines()[0]
            continue
        found[name] = sorted(rec.urns)
    return found


def urn_breaks(current: dict[str, list[str] | str], names: list[str]) -> Report:
    report = Report()
    recorded = sorted(p.stem for p in URNS.glob("*.urns"))
    for name in recorded:
        if name not in names:
            if name not in _example_names():
                report.breaks.append(f"URNs: example {name} is gone (was its component removed?)")
            continue
        expected = (URNS / f"{name}.urns").read_text().split()
        got = current[name]
        if isinstance(got, str):
            report.breaks.append(f"URNs: example {name} no longer builds: {got}")
            continue
        for urn in sorted(set(expected) - set(got)):
            report.breaks.append(f"URNs: {name}: gone (would be replaced): {urn}")
        for urn in sorted(set(got) - set(expected)):
            report.notes.append(f"URNs: {name}: new: {urn}")
    for name in names:
        if name not in recorded:
            report.notes.append(f"URNs: example {name} has no baseline yet (`compat --update`)")
    return report


def _example_names() -> list[str]:
    from tools.compat.examples import EXAMPLES

    return list(EXAMPLES)


# --- the gate ----------------------------------------------------------------------------


def check(root: Path, names: list[str]) -> Report:
    release = json.loads(RELEASE.read_text())
    current_version = project_version(root)
    build = root / "build" / "compat"
    old = baseline_source(root, release["ref"], build / "baseline")
    new = _source_link(root, build / "current")
    report = api_changes(old, new)
    urns = urn_breaks(example_urns(names), names)
    report.breaks += urns.breaks
    report.notes += urns.notes
    if not report.breaks:
        return report
    baseline_version = release["version"]
    why = []
    if not allows_breaking(baseline_version, current_version):
        step = "minor (before 1.0)" if parse_version(baseline_version)[0] == 0 else "major"
        why.append(
            f"the version {current_version} (pyproject.toml) does not raise the {step} part "
            f"over the last release's {baseline_version}"
        )
    section = changelog_section((root / "CHANGELOG.md").read_text(), current_version)
    if section is None or not breaking_entries(section):
        why.append(
            f"CHANGELOG.md has no `## {current_version}` section with a `### Breaking` "
            "subsection saying what importers must do (aliases, renamed arguments)"
        )
    if why:
        report.breaks.append("not allowed: " + "; ".join(why))
    else:
        report.notes += [f"allowed: {b}" for b in report.breaks]
        report.breaks = []
    return report


def update(root: Path, names: list[str]) -> int:
    """Record the working tree as the baseline: HEAD's commit, the version and the URNs."""
    dirty = _git(root, "status", "--porcelain", "--", SOURCE).stdout.decode().strip()
    if dirty:
        print(f"compat: commit {SOURCE}/ first (the baseline is a commit):\n{dirty}")
        return 1
    head = _git(root, "rev-parse", "HEAD").stdout.decode().strip()
    version = project_version(root)
    urns = example_urns(names)
    failed = {n: e for n, e in urns.items() if isinstance(e, str)}
    if failed:
        for name, error in failed.items():
            print(f"compat: example {name} does not build: {error}")
        return 1
    URNS.mkdir(parents=True, exist_ok=True)
    for name, found in urns.items():
        (URNS / f"{name}.urns").write_text("\n".join(found) + "\n")
    RELEASE.write_text(json.dumps({"version": version, "ref": head}, indent=2) + "\n")
    print(f"compat: baseline is now {version} at {head[:12]}, {len(urns)} examples' URNs")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dev.py compat", description=__doc__.split("\n")[0])
    parser.add_argument("--update", action="store_true", help="record the baseline")
    parser.add_argument("--examples", help="comma-separated example names (default: all)")
    args = parser.parse_args(argv)
    # Check the tree this file is in, whatever `webplatform` the interpreter has installed.
    sys.path.insert(0, str(_source_link(ROOT, ROOT / "build" / "compat" / "current")))
    sys.path.insert(0, str(ROOT))
    names = args.examples.split(",") if args.examples else _example_names()
    if args.update:
        return update(ROOT, names)
    report = check(ROOT, names)
    for line in report.notes:
        print(f"compat: {line}")
    for line in report.breaks:
        print(f"compat: BREAKING {line}")
    print(f"compat: {len(report.breaks)} breaking change(s) not allowed, {len(report.notes)} notes")
    return 1 if report.breaks else 0
