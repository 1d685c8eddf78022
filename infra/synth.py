"""Offline synth: run the program for a stack under mocks and write what it would create.

    python -m infra.synth --stack dev [--config-file FILE] [--out DIR] [--diff OLD_DIR]

Writes ``kubernetes.yaml`` (every Kubernetes object as the provider would send
it) and ``resources.json`` (every resource with its inputs, secrets redacted)
to ``DIR`` (default ``build/synth/<stack>``), prints one count line per resource
type, and exits 0. Invalid configuration: the error on stderr, exit 2, nothing
written. ``--diff`` prints what changed against an older synth, property by
property. No cloud, no credentials, no passphrase: values marked ``secure:``
in the stack file are replaced by a placeholder, and so are secrets an app
references that the stack file does not hold yet (``pulumi up`` refuses those).

The stack file is read strictly, as the Pulumi CLI reads it (``infra.config._source``),
and the program reads it again itself, as under ``pulumi up``: synth only plays the
engine's part (the flat config map). Errors name the file as given to ``--config-file``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.config import (
    NAMESPACE,
    StackConfigError,
    StackSource,
    aws_regions,
    referenced_secret_keys,
)
from infra.config._source import SourceError, UnreadableError, from_file
from webplatform import testing

ROOT = Path(__file__).resolve().parent.parent
#: What synth passes to the program in place of a secret it cannot (and need not) decrypt.
PLACEHOLDER = "synth-placeholder-secret"
EXIT_INVALID = 2


class SynthInputError(Exception):
    """A stack file that cannot be read at all (missing, not YAML, no `config:` map)."""


@dataclass
class Synth:
    stack: str
    project: str
    recording: testing.Recording
    placeholders: list[str]

    def resources(self) -> dict[str, Any]:
        """The ``resources.json`` document."""
        rows = [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "inputs": _clean(r.inputs, r.secret_paths),
                "protect": r.protect,
                # What the engine waits for before creating it (explicit depends_on and the
                # resources its inputs come from): the graph `dev.py rto` walks.
                "dependencies": sorted(
                    {*r.dependencies, *(u for us in r.property_dependencies.values() for u in us)}
                    - {r.urn}
                ),
                "provider": r.provider.rsplit("::", 1)[0] if r.provider else "",
            }
            for r in sorted(self.recording.resources, key=lambda r: r.urn)
        ]
        outputs = {
            k: testing.REDACTED if k in self.recording.secret_outputs else testing.whole_numbers(v)
            for k, v in sorted(self.recording.stack_outputs.items())
        }
        return {"project": self.project, "stack": self.stack, "resources": rows, "outputs": outputs}

    def kubernetes_objects(self) -> list[dict[str, Any]]:
        """Every Kubernetes object, in URN order, secrets redacted."""
        objects = []
        for r in sorted(self.recording.resources, key=lambda r: r.urn):
            if r.custom and r.type.startswith("kubernetes:") and "apiVersion" in r.inputs:
                body = _clean(r.inputs, r.secret_paths)
                head = {k: body.pop(k) for k in ("apiVersion", "kind", "metadata") if k in body}
                objects.append({**head, **dict(sorted(body.items()))})
        return objects


def _clean(value: dict[str, Any], secret_paths: frozenset[str]) -> Any:
    return _sorted(testing.whole_numbers(testing.redact(value, secret_paths)))


def _sorted(value: Any) -> Any:
    """Maps sorted by key at every level: the wire does not keep order, files must be stable."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def read_stack_file(path: Path, project: str, shown: str | None = None) -> StackSource:
    """The stack file read strictly, as the program reads it (see ``infra.config._source``);
    ``secure:`` values replaced by :data:`PLACEHOLDER`. Raises :class:`StackConfigError`."""
    try:
        return from_file(path, project, PLACEHOLDER, shown=shown)
    except SourceError as exc:
        raise StackConfigError(exc.file, exc.problems) from None
    except UnreadableError as exc:
        raise SynthInputError(str(exc)) from None


def project_name() -> str:
    document = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    return str(document["name"])


def referenced_stack_outputs(flat: dict[str, str], project: str) -> dict[str, dict[str, str]]:
    """What the stacks this one references would answer (a placeholder secret): the failover
    origin's stack reads the header of the stack whose CDN fails over to it."""
    from infra.stack import ORIGIN_HEADER_OUTPUT

    try:
        failover = json.loads(flat.get(f"{NAMESPACE}:cdn", "{}")).get("failoverFor") or {}
    except (ValueError, AttributeError):
        return {}  # the program reports the bad value with its key path
    stack = failover.get("stack") if isinstance(failover, dict) else None
    if not isinstance(stack, str):
        return {}
    return {f"organization/{project}/{stack}": {ORIGIN_HEADER_OUTPUT: PLACEHOLDER}}


def synthesize(stack: str, config_file: Path | None = None) -> Synth:
    """Run the program for ``stack``; raises :class:`StackConfigError` on invalid config.

    The program reads the stack file itself, as under ``pulumi up``; synth hands it the
    engine's side: the flat config (secrets as placeholders) built from the same file.
    """
    from infra.stack import main as program

    project = project_name()
    path = config_file or ROOT / f"Pulumi.{stack}.yaml"
    shown = str(config_file) if config_file is not None else path.name
    source = read_stack_file(path, project, shown)
    flat, secret = dict(source.flat), set(source.secret_keys)
    missing = sorted({f"{NAMESPACE}:{k}" for k in referenced_secret_keys(flat)} - set(flat))
    for key in missing:
        flat[key] = PLACEHOLDER
        secret.add(key)
    # AWS mocks answer in the stack's region, so ARNs and endpoints look like the real ones.
    region = flat.get("aws:region")
    if not isinstance(region, str) or region not in aws_regions():
        region = "us-west-2"
    mocks = testing.RecordingMocks(
        region=region, stack_outputs=referenced_stack_outputs(flat, project)
    )
    recording = testing.run(
        lambda: program(config_file=path, shown=shown),
        project=project,
        stack=stack,
        config=flat,
        secret_keys=secret,
        mocks=mocks,
        root_directory=str(ROOT),
    )
    return Synth(stack=stack, project=project, recording=recording, placeholders=missing)


def write(synth: Synth, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    manifests, resources = out / "kubernetes.yaml", out / "resources.json"
    manifests.write_text(
        yaml.safe_dump_all(synth.kubernetes_objects(), sort_keys=False, default_flow_style=False)
    )
    resources.write_text(json.dumps(synth.resources(), indent=2, sort_keys=False) + "\n")
    return manifests, resources


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list) and value:
        flat = {}
        for index, item in enumerate(value):
            flat.update(_flatten(item, f"{prefix}[{index}]"))
        return flat
    return {prefix: value}


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Added (+), removed (-) and changed (~) resources, with each changed property."""
    before = {r["urn"]: r for r in old.get("resources", [])}
    after = {r["urn"]: r for r in new.get("resources", [])}
    lines = [f"+ {urn}" for urn in sorted(after.keys() - before.keys())]
    lines += [f"- {urn}" for urn in sorted(before.keys() - after.keys())]
    for urn in sorted(before.keys() & after.keys()):
        changes = _property_changes(
            {"inputs": before[urn]["inputs"], "protect": before[urn]["protect"]},
            {"inputs": after[urn]["inputs"], "protect": after[urn]["protect"]},
        )
        if changes:
            lines.append(f"~ {urn}")
            lines += [f"    {change}" for change in changes]
    output_changes = _property_changes(old.get("outputs", {}), new.get("outputs", {}))
    if output_changes:
        lines.append("~ outputs")
        lines += [f"    {change}" for change in output_changes]
    return lines


def _property_changes(old: Any, new: Any) -> list[str]:
    a, b = _flatten(old), _flatten(new)
    out = []
    for path in sorted(a.keys() | b.keys()):
        if path not in a:
            out.append(f"{path}: (none) -> {json.dumps(b[path])}")
        elif path not in b:
            out.append(f"{path}: {json.dumps(a[path])} -> (none)")
        elif a[path] != b[path]:
            out.append(f"{path}: {json.dumps(a[path])} -> {json.dumps(b[path])}")
    return out


def main(argv: list[str] | None = None) -> int:
    """The command; the event loop the run used is closed before it returns (issue 25)."""
    try:
        return _main(argv)
    finally:
        testing.close_loop()


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.synth", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--stack", required=True, help="stack name: reads Pulumi.STACK.yaml")
    parser.add_argument("--config-file", type=Path, help="read this stack file instead")
    parser.add_argument("--out", type=Path, help="output directory (default build/synth/STACK)")
    parser.add_argument(
        "--diff", type=Path, metavar="OLD_DIR", help="print changes against an older synth"
    )
    args = parser.parse_args(argv)

    old = None
    if args.diff is not None:
        old_file = args.diff / "resources.json"
        if not old_file.is_file():
            print(f"synth: --diff {args.diff}: no resources.json there", file=sys.stderr)
            return EXIT_INVALID
        old = json.loads(old_file.read_text())
    try:
        synth = synthesize(args.stack, args.config_file)
    except (StackConfigError, SynthInputError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INVALID

    manifests, resources = write(synth, args.out or ROOT / "build" / "synth" / args.stack)
    counts = Counter(r.type for r in synth.recording.resources)
    for type_, count in sorted(counts.items()):
        print(f"{count:5d}  {type_}")
    for key in synth.placeholders:
        print(
            f"note: secret {key} is not set in the stack file; synth used a placeholder "
            f"(pulumi up will ask for it)",
            file=sys.stderr,
        )
    print(f"{sum(counts.values()):5d}  resources; manifests: {manifests}; resources: {resources}")
    if old is not None:
        changes = diff(old, synth.resources())
        print(
            f"diff against {args.diff}: {sum(1 for c in changes if not c.startswith(' '))} change(s)"
        )
        for line in changes:
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
