"""Benchmark: what our stacks cost against what the Pulumi SDK alone costs.

    python3 dev.py bench [--runs 5] [--skip-tests]

Every figure is the median of ``--runs`` fresh processes (wall clock), so
imports are paid each time, as in a real ``pulumi preview``:

- **floor**: a generated program that imports pulumi and the same provider
  modules the stack imports, and registers the same resources (same types,
  same inputs, as plain dicts) under the same recording mocks, with none of
  our logic: no config, no validation, no components.
  What the SDK itself costs for that stack.
- **synth**: ``infra.synth`` for the stack, split into import time (everything
  before the program runs) and program evaluation.
- **ratio**: synth total / floor total.
- **apps**: evaluation of one stack with 1, 10 and 100 apps (generated stack
  files), to show how cost grows with work.
- **tests**: the full test suite's wall time.

Prints a table; it is not a test and asserts nothing, so a busy machine
changes the numbers, not the verdict of CI.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("dev", "staging", "prod")

# Runs in a fresh process: import what synth imports, then evaluate; print both times.
SYNTH_PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import pulumi, webplatform  # what the floor imports too
ta = time.perf_counter()
import infra.config  # the stack model (on top of pulumi and the components)
tb = time.perf_counter()
from infra import synth, stack  # the program and everything it imports at module level
t1 = time.perf_counter()
loading = []
def timed_load(*args, _load=stack.load, **kwargs):  # read + validate the stack file
    started = time.perf_counter()
    found = _load(*args, **kwargs)
    loading.append(time.perf_counter() - started)
    return found
stack.load = timed_load
result = synth.synthesize(sys.argv[1], __import__("pathlib").Path(sys.argv[2]) if len(sys.argv) > 2 else None)
t2 = time.perf_counter()
synth.testing.close_loop()
# every provider module the run loaded, submodules included (the SDKs load them lazily)
# (not those only registered lazily and never executed: the floor would pay what synth did not)
modules = sorted(m for m, mod in sys.modules.items() if m.split(".")[0].startswith("pulumi_")
                 and type(mod).__name__ != "_LazyModule")
print(json.dumps({"import": t1 - t0, "eval": t2 - t1, "config_import": tb - ta,
                  "validation": sum(loading), "count": len(result.recording.resources),
                  "types": [[r.type, r.custom, r.inputs if r.custom else {}]
                            for r in result.recording.resources],
                  "providers": modules}, default=str))
"""

# A program with none of our logic: same provider imports, same registrations, same mocks.
FLOOR_PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
spec = json.loads(open(sys.argv[1]).read())
import importlib
import pulumi
from webplatform import testing
for module in spec["providers"]:
    importlib.import_module(module)
t1 = time.perf_counter()

def program():
    for i, (type_, custom, inputs) in enumerate(spec["types"]):
        if custom:
            pulumi.CustomResource(type_, f"r{i}", inputs)
        else:
            pulumi.ComponentResource(type_, f"r{i}")

testing.run(program, stack="floor")
t2 = time.perf_counter()
testing.close_loop()
print(json.dumps({"import": t1 - t0, "eval": t2 - t1}))
"""


def _python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _probe(script: str, *args: str) -> dict:
    out = subprocess.run(
        [_python(), "-c", script, *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def _timed(script: str, runs: int, *args: str) -> dict:
    return _median([_probe(script, *args) for _ in range(runs)])


def _median(samples: list[dict]) -> dict:
    result = dict(samples[0])
    for key in ("import", "eval", "config_import", "validation"):
        if key in result:
            result[key] = statistics.median(s[key] for s in samples)
    result["total"] = result["import"] + result["eval"]
    return result


def _apps_stack(count: int, directory: Path) -> Path:
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    apps = document["config"]["webplatform:apps"]
    template = apps.pop("web")
    for i in range(count):
        app = apps[f"app{i:03d}"] = copy.deepcopy(template)
        # A host routes to one app, and a Gateway holds 64 listeners (two per host): own hosts
        # for the first 30 apps, the others internal only.
        if "route" in app and i < 30:
            app["route"]["hosts"] = [f"app{i:03d}.{host}" for host in app["route"]["hosts"]]
        else:
            app.pop("route", None)
    path = directory / f"Pulumi.dev-{count}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per figure (median)")
    parser.add_argument("--skip-tests", action="store_true", help="do not time the test suite")
    parser.add_argument("--skip-apps", action="store_true", help="only the stacks against floor")
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; median of {args.runs} fresh processes, "
        "synth and floor interleaved"
    )
    print(f"load average (1/5/15 min) at the start: {_load()}")
    print()
    print(
        "| stack | resources | floor import s | floor eval s | floor total s | synth import s "
        "| of which `import infra.config` s | synth eval s | of which validation s "
        "| synth total s | synth / floor (target <= 1.5) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        for stack in STACKS:
            # One synth first (the floor replays what it registered), then the two alternately,
            # so a change of the machine's load hits both alike.
            synths = [_probe(SYNTH_PROBE, stack)]
            spec = tmpdir / f"{stack}.json"
            types = synths[0]["types"]
            spec.write_text(json.dumps({"types": types, "providers": synths[0]["providers"]}))
            floors = []
            for i in range(args.runs):
                floors.append(_probe(FLOOR_PROBE, str(spec)))
                if i:
                    synths.append(_probe(SYNTH_PROBE, stack))
            synth, floor = _median(synths), _median(floors)
            print(
                f"| {stack} | {synth['count']} | {floor['import']:.3f} | {floor['eval']:.3f} "
                f"| {floor['total']:.3f} | {synth['import']:.3f} | {synth['config_import']:.3f} "
                f"| {synth['eval']:.3f} | {synth['validation']:.3f} | {synth['total']:.3f} "
                f"| {synth['total'] / floor['total']:.2f} |",
                flush=True,
            )
        if args.skip_apps:
            print(f"\nload average (1/5/15 min) at the end: {_load()}")
            return 0
        scaling = {
            n: _timed(SYNTH_PROBE, args.runs, "dev", str(_apps_stack(n, tmpdir)))
            for n in (1, 10, 100)
        }
    print()
    print("| apps in one stack | resources | eval s | eval per app ms |")
    print("| ---: | ---: | ---: | ---: |")
    for n, result in scaling.items():
        print(
            f"| {n} | {result['count']} | {result['eval']:.3f} | {1000 * result['eval'] / n:.1f} |"
        )
    ratio = scaling[100]["eval"] / scaling[10]["eval"]
    print(f"\n100 apps / 10 apps evaluation: {ratio:.1f}x")
    if not args.skip_tests:
        start = time.perf_counter()
        subprocess.run(
            [
                _python(),
                "-m",
                "pytest",
                "-q",
                "-n",
                "auto",
                "--dist",
                "loadfile",
            ],  # as `dev.py test`
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"full test suite: {time.perf_counter() - start:.1f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
