"""Benchmark (a script, not a timed test): the real engine against plain kubectl.

    python3 dev.py bench-e2e [--runs 3]

On the loopback control plane (started and stopped here, like tests/e2e):

- ``pulumi up`` of the ``local`` stack from empty (a new stack each run), and
  a no-change ``pulumi preview`` after it;
- ``kubectl apply --server-side`` of the same manifests (the offline synth's
  ``kubernetes.yaml``, namespace first) plus ``kubectl rollout status`` of
  both Deployments.

Prints the median of each over ``--runs`` runs and the ratios to the kubectl
path. The issue's goal: ``up`` at most 1.5x the kubectl path. The Pulumi
program runs through the Automation API's inline program (as in tests/e2e).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import (  # noqa: E402
    CRDS,
    Engine,
    Kube,
    engine_build,
    engine_cluster,
    project_copy,
    pulumi_env,
    webplatform_program,
)

NS = "web-local"


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    bindir = engine_build.ensure()
    with tempfile.TemporaryDirectory(prefix="webplatform-bench-") as tmp_name:
        tmp = Path(tmp_name)
        local = engine_cluster.Cluster(tmp / "cluster", bindir)
        local.up()
        try:
            return run(bindir, local.kubeconfig, tmp, args.runs)
        finally:
            local.down()


def run(bindir: Path, kubeconfig: Path, tmp: Path, runs: int) -> int:
    kube = Kube(bindir, kubeconfig, [])
    kube("apply", "--server-side", *(a for crd in CRDS for a in ("-f", str(crd))))
    kube(
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        *(a for c in CRDS for a in ("-f", str(c))),
    )
    synth_dir = tmp / "synth"
    subprocess.run(
        [sys.executable, "-m", "infra.synth", "--stack", "local", "--out", str(synth_dir)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    docs = (synth_dir / "kubernetes.yaml").read_text()
    namespace_doc = next(d for d in docs.split("\n---\n") if "kind: Namespace" in d)
    manifests = synth_dir / "kubernetes.yaml"

    def gone() -> None:
        kube("delete", "namespace", NS, "--ignore-not-found", "--wait=true", "--timeout=120s")

    ups, previews, kubectls = [], [], []
    for i in range(runs):
        work = tmp / f"project-{i}"
        work.mkdir()
        project_copy(work)
        env = pulumi_env(bindir, kubeconfig, tmp / f"pulumi-{i}")
        engine = Engine(bindir, env, work, "webplatform", webplatform_program)
        engine.cli("stack", "init", "local")
        engine.cli(
            "config", "set", "--stack", "local", "--secret", "webDatabaseUrl", "postgres://bench"
        )
        ups.append(timed(lambda e=engine: e.up("local")))
        previews.append(timed(lambda e=engine: e.preview("local")))
        engine.destroy("local")
        gone()

        def kubectl_path() -> None:
            kube("apply", "--server-side", "-f", "-", input=namespace_doc)
            kube("apply", "--server-side", "-f", str(manifests))
            kube(
                "rollout",
                "status",
                "-n",
                NS,
                "deployment/web-blue",
                "deployment/web-green",
                "--timeout=300s",
            )

        kubectls.append(timed(kubectl_path))
        gone()
        print(
            f"run {i + 1}: up {ups[-1]:.1f}s, preview {previews[-1]:.1f}s, kubectl {kubectls[-1]:.1f}s",
            flush=True,
        )
    up, preview, kubectl = (statistics.median(x) for x in (ups, previews, kubectls))
    result = {
        "runs": runs,
        "pulumi_up_s": round(up, 2),
        "pulumi_preview_no_change_s": round(preview, 2),
        "kubectl_apply_rollout_s": round(kubectl, 2),
        "up_ratio": round(up / kubectl, 2),
        "preview_ratio": round(preview / kubectl, 2),
    }
    print(json.dumps(result, indent=2))
    print(
        f"median of {runs}: pulumi up {up:.1f}s / kubectl apply+rollout {kubectl:.1f}s = {up / kubectl:.2f}x (goal <= 1.5x); "
        f"no-change preview {preview:.1f}s = {preview / kubectl:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
