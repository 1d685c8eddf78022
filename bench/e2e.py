"""Benchmark (a script, not a timed test): the real engine against plain kubectl.

    python3 dev.py bench-e2e [--runs 3] [--apps 50] [--large-runs 1]

On the loopback control plane (started and stopped here, like tests/e2e), per
run of the ``local`` stack (one app, a new stack each run):

- ``up`` from empty, a no-change ``preview``, a flip (``activeColor`` blue to
  green, ``up``) and the rollback (green to blue, ``up``);
- beside them, the kubectl floor of each: ``kubectl apply --server-side`` of
  the same manifests (the offline synth's ``kubernetes.yaml``) plus ``rollout
  status`` of every Deployment, and ``kubectl patch`` of the two Services'
  selectors (what a flip changes on the wire).

Then the same stack generated with ``--apps`` apps (``--large-runs`` runs):
``up`` from empty, the flip of every app at once, and a no-change
``preview``, beside the 1-app figures and the per-app ratio. Each figure is the
median of its runs with its spread (min-max) and the load average. The
targets (issue 21): flip and rollback <= 5 s, ``up`` from empty <= 10 s, and no
step growing faster than the number of apps.

The Pulumi program runs through the Automation API's inline program, as in
tests/e2e; the project's ``refresh: always`` applies (each operation reads the
cluster first, as a user's does).

The ``file://`` backend writes the whole checkpoint after every step of an
operation (about five writes per resource), so an ``up``'s bytes written grow
with the square of the stack (10 apps: 1,605 writes, 0.79 GB; 20 apps: 3,165
writes, 3.1 GB). ``--skip-checkpoints`` sets the engine's
``PULUMI_SKIP_CHECKPOINTS`` (the state is written once, at the end) to measure
the engine without that: a figure to compare, not a setting for real stacks,
whose state must survive a killed engine (bench/README.md, issue 21).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import (  # noqa: E402
    Engine,
    Kube,
    engine_build,
    engine_cluster,
    project_copy,
    pulumi_env,
    webplatform_program,
)

NS = "web-local"
#: Issue 21's targets, seconds.
TARGETS = {"up": 10.0, "flip": 5.0, "rollback": 5.0}
#: A Gateway holds at most 64 listeners, two per public host: the generated stack gives a
#: route to this many apps and keeps the others internal.
MAX_ROUTED_APPS = 30


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of the 1-app stack (median)")
    parser.add_argument("--apps", type=int, default=50, help="apps in the generated stack; 0: none")
    parser.add_argument("--large-runs", type=int, default=1, help="runs of the generated stack")
    parser.add_argument(
        "--skip-checkpoints",
        action="store_true",
        help="PULUMI_SKIP_CHECKPOINTS: state written once per operation (unsafe on a crash)",
    )
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so the `finally` below stops the cluster's processes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    bindir = engine_build.ensure()
    with tempfile.TemporaryDirectory(prefix="webplatform-bench-") as tmp_name:
        tmp = Path(tmp_name)
        local = engine_cluster.Cluster(tmp / "cluster", bindir)
        local.up()
        try:
            return run(bindir, local.kubeconfig, tmp, args)
        finally:
            local.down()


def generated_stack(apps: int) -> dict[str, Any]:
    """The local stack file with ``apps`` copies of its app, each 2 replicas (HPA 2-3).

    Two replicas (production's minimum) and a budget of 1 keep 4 x ``apps`` fake pods within
    the one fake node's 250 pods and 64 CPUs; routes only on the first :data:`MAX_ROUTED_APPS`.
    """
    document = yaml.safe_load((ROOT / "Pulumi.local.yaml").read_text())
    config = document["config"]
    template = config["webplatform:apps"].pop("web")
    template["replicas"] = 2
    template["autoscaling"]["maxReplicas"] = 3
    template["disruptionBudget"] = {"minAvailable": 1}
    for i in range(apps):
        app = copy.deepcopy(template)
        if i < MAX_ROUTED_APPS:
            app["route"]["hosts"] = [f"web{i:03d}.local.example.com"]
        else:
            app.pop("route")
        config["webplatform:apps"][f"web{i:03d}"] = app
    return document


class Project:
    """One project directory and Pulumi home: a fresh ``local`` stack per :meth:`init`."""

    def __init__(
        self,
        bindir: Path,
        kubeconfig: Path,
        work: Path,
        stack_doc: dict | None,
        skip_checkpoints: bool = False,
    ) -> None:
        self.work = work
        self.skip_checkpoints = skip_checkpoints
        work.mkdir(parents=True)
        project_copy(work)
        self.stack_doc = stack_doc
        self.bindir, self.kubeconfig = bindir, kubeconfig
        self.count = 0

    def init(self) -> Engine:
        self.count += 1
        stack_file = self.work / "Pulumi.local.yaml"
        if self.stack_doc is not None:
            stack_file.write_text(yaml.safe_dump(self.stack_doc, sort_keys=False))
        else:
            stack_file.write_text((ROOT / "Pulumi.local.yaml").read_text())
        home = self.work.parent / f"{self.work.name}-pulumi-{self.count}"
        env = pulumi_env(self.bindir, self.kubeconfig, home)
        if self.skip_checkpoints:
            env["PULUMI_SKIP_CHECKPOINTS"] = "true"
        self.state_dir = home / "state"
        engine = Engine(self.bindir, env, self.work, "webplatform", webplatform_program)
        engine.cli("stack", "init", "local")
        engine.cli("config", "set", "--stack", "local", "--secret", "webDatabaseUrl", "x://bench")
        return engine

    def flip_all(self, color: str) -> None:
        """Every app's ``activeColor``, written into the stack file (one edit, not N CLI calls)."""
        path = self.work / "Pulumi.local.yaml"
        document = yaml.safe_load(path.read_text())
        for app in document["config"]["webplatform:apps"].values():
            app["blueGreen"]["activeColor"] = color
        path.write_text(yaml.safe_dump(document, sort_keys=False))


def synth_manifests(tmp: Path, stack_doc: dict | None, name: str) -> tuple[str, Path, list[str]]:
    """Namespace document, the rest, and the Deployment names, from the offline synth."""
    out = tmp / f"synth-{name}"
    cmd = [sys.executable, "-m", "infra.synth", "--stack", "local", "--out", str(out)]
    if stack_doc is not None:
        config = tmp / f"Pulumi.local-{name}.yaml"
        config.write_text(yaml.safe_dump(stack_doc, sort_keys=False))
        cmd += ["--config-file", str(config)]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    manifests = out / "kubernetes.yaml"
    docs = [d for d in yaml.safe_load_all(manifests.read_text()) if d]
    namespace = next(d for d in docs if d["kind"] == "Namespace")
    deployments = [d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"]
    return yaml.safe_dump(namespace), manifests, deployments


def stats(samples: list[float]) -> str:
    median = statistics.median(samples)
    if len(samples) == 1:
        return f"{median:.2f}"
    return f"{median:.2f} ({min(samples):.2f}-{max(samples):.2f})"


def run(bindir: Path, kubeconfig: Path, tmp: Path, args: argparse.Namespace) -> int:
    # The cluster installed the local stack's prerequisites at `up`, and nothing else.
    kube = Kube(bindir, kubeconfig, [])

    def gone() -> None:
        kube("delete", "namespace", NS, "--ignore-not-found", "--wait=true", "--timeout=300s")

    def kubectl_up(namespace_doc: str, manifests: Path, deployments: list[str]) -> None:
        kube("apply", "--server-side", "-f", "-", input=namespace_doc)
        kube("apply", "--server-side", "-f", str(manifests))
        kube(
            "rollout", "status", "-n", NS, "--timeout=600s",
            *(f"deployment/{d}" for d in deployments),
        )  # fmt: skip

    def kubectl_flip(services: list[tuple[str, str]]) -> None:
        for name, color in services:
            kube(
                "patch", "service", name, "-n", NS, "--type=merge",
                "-p", json.dumps({"spec": {"selector": {"webplatform.io/color": color}}}),
            )  # fmt: skip

    figures: dict[str, dict[str, list[float]]] = {}

    def measure(label: str, runs: int, stack_doc: dict | None, apps: int) -> None:
        found: dict[str, list[float]] = {
            k: [] for k in ("up", "preview", "flip", "rollback", "kubectl up", "kubectl flip")
        }
        namespace_doc, manifests, deployments = synth_manifests(tmp, stack_doc, label)
        project = Project(
            bindir, kubeconfig, tmp / f"project-{label}", stack_doc, args.skip_checkpoints
        )
        names = [f"web{i:03d}" for i in range(apps)] if stack_doc is not None else ["web"]
        for i in range(runs):
            engine = project.init()
            found["up"].append(timed(lambda e=engine: e.up("local")))
            # What each checkpoint write of the next operation serializes.
            stacks = project.state_dir / ".pulumi" / "stacks"
            state_mb = sum(p.stat().st_size for p in stacks.rglob("*.json")) / 1e6
            found["preview"].append(timed(lambda e=engine: e.preview("local")))
            project.flip_all("green")
            found["flip"].append(timed(lambda e=engine: e.up("local")))
            project.flip_all("blue")
            found["rollback"].append(timed(lambda e=engine: e.up("local")))
            engine.destroy("local")
            gone()
            found["kubectl up"].append(
                timed(lambda: kubectl_up(namespace_doc, manifests, deployments))
            )
            to_green = [(n, "green") for n in names] + [(f"{n}-preview", "blue") for n in names]
            found["kubectl flip"].append(timed(lambda s=to_green: kubectl_flip(s)))
            gone()
            print(
                f"{label} run {i + 1}: "
                + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in found.items())
                + f" (state {state_mb:.1f} MB, load {load()})",
                flush=True,
            )
        figures[label] = found

    load_before = load()
    measure("1 app", args.runs, None, 1)
    if args.apps:
        measure(f"{args.apps} apps", args.large_runs, generated_stack(args.apps), args.apps)
    load_after = load()

    print()
    print(f"load average (1/5/15 min) before {load_before}, after {load_after}")
    print(
        "checkpoints: "
        + ("skipped (PULUMI_SKIP_CHECKPOINTS)" if args.skip_checkpoints else "every step")
    )
    print("median (min-max) seconds; pulumi figures beside the kubectl floor of the same change")
    print()
    print("| path | " + " | ".join(figures) + " | target (1 app) |")
    print("| --- |" + " ---: |" * len(figures) + " ---: |")
    rows = (
        ("`up` from empty", "up", "kubectl up"),
        ("flip (`activeColor` blue to green, `up`)", "flip", "kubectl flip"),
        ("rollback (green to blue, `up`)", "rollback", "kubectl flip"),
        ("no-change `preview`", "preview", None),
        ("kubectl apply + rollout status (floor of `up`)", "kubectl up", None),
        ("kubectl patch of the Services' selectors (floor of a flip)", "kubectl flip", None),
    )
    for title, key, _ in rows:
        target = TARGETS.get(key)
        print(
            f"| {title} | "
            + " | ".join(stats(f[key]) for f in figures.values())
            + (f" | <= {target:.0f} s |" if target else " | - |")
        )
    if len(figures) == 2:
        (small, one), (large, many) = figures.items()
        apps = args.apps
        print()
        print(f"growth from {small} to {large} ({apps}x the apps; linear would be {apps}x):")
        for title, key, _ in rows[:4]:
            ratio = statistics.median(many[key]) / statistics.median(one[key])
            print(f"- {title}: {ratio:.1f}x")
    result = {
        label: {k: round(statistics.median(v), 2) for k, v in found.items()}
        for label, found in figures.items()
    }
    print(
        json.dumps(
            {
                "median_s": result,
                "skip_checkpoints": args.skip_checkpoints,
                "load_before": load_before,
                "load_after": load_after,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
