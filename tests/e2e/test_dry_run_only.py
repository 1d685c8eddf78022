"""The preview identity cannot change the cluster: proven on a real API server.

The stack's :class:`~webplatform.guardrails.dry_run_only.DryRunOnly` (a
ValidatingAdmissionPolicy, its binding and the group's RBAC) is created by the real
engine; then kubectl, impersonating a user of the preview group (``--as``/``--as-group``,
as EKS maps the preview role's access entry), is refused a real write and admitted the
same write as a server-side dry-run, which is what ``pulumi preview`` sends.
"""

from __future__ import annotations

import time
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from tests.e2e.conftest import CONTEXT, Engine, Kube, pulumi_env
from webplatform.guardrails.dry_run_only import DryRunOnly, DryRunOnlyArgs

GROUP = "webplatform:preview"
AS_PREVIEW = ("--as", "github-preview", "--as-group", GROUP)
CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: dry-run-probe
  namespace: default
data:
  changed: "yes"
"""


def _program() -> None:
    provider = k8s.Provider("local", context=CONTEXT, enable_server_side_apply=True)
    DryRunOnly("preview", DryRunOnlyArgs(), opts=pulumi.ResourceOptions(provider=provider))


def _refused(kube: Kube, *args: str, stdin: str | None = None) -> str:
    """Wait until the policy is loaded (admission reads policies from an informer), then
    return the refusal's message; fail if the write keeps being admitted."""
    deadline = time.monotonic() + 60
    while True:
        result = kube(*args, *AS_PREVIEW, check=False, input=stdin)
        if result.returncode != 0 and "may only dry-run" in result.stderr:
            return result.stderr
        assert result.returncode != 0 or time.monotonic() < deadline, (
            f"kubectl {' '.join(args)} as the preview group was admitted: {result.stdout}"
        )
        if result.returncode == 0:  # admitted before the policy was loaded: undo, retry
            kube("delete", "configmap", "dry-run-probe", "-n", "default", "--ignore-not-found")
        assert time.monotonic() < deadline, result.stderr
        time.sleep(1)


def test_the_preview_group_may_dry_run_but_not_write(engine: Engine, kube: Kube, tmp_path: Path):
    work = tmp_path / "guard"
    work.mkdir()
    (work / "Pulumi.yaml").write_text("name: guard\nruntime: python\n")
    env = pulumi_env(engine.bindir, kube.kubeconfig, tmp_path / "pulumi")
    guard = Engine(engine.bindir, env, work, "guard", _program, transcript=engine.transcript)
    guard.cli("stack", "init", "e2e")
    assert guard.up("e2e").summary.result == "succeeded"
    try:
        policy = kube.json("get", "validatingadmissionpolicy", "webplatform-preview-dry-run-only")
        # The API server compiled and type-checked every CEL expression without a warning.
        assert not policy.get("status", {}).get("typeChecking", {}).get("expressionWarnings")

        # A real create: refused at admission, with the policy's message.
        message = _refused(kube, "apply", "--server-side", "-f", "-", stdin=CONFIGMAP)
        assert "webplatform-preview-dry-run-only" in message
        assert kube("get", "configmap", "dry-run-probe", "-n", "default", check=False).returncode

        # The same apply as a server-side dry-run (what `pulumi preview` sends): admitted.
        dry = kube(
            "apply", "--server-side", "--dry-run=server", "-f", "-", *AS_PREVIEW, input=CONFIGMAP
        )
        assert "(server dry run)" in dry.stdout

        # An object someone else made: the group may not change or delete it.
        kube("apply", "--server-side", "-f", "-", input=CONFIGMAP)
        patch = ("patch", "configmap", "dry-run-probe", "-n", "default", "-p", '{"data":{"a":"b"}}')
        assert "may only dry-run" in kube(*patch, *AS_PREVIEW, check=False).stderr
        assert (
            "may only dry-run"
            in kube(
                "delete", "configmap", "dry-run-probe", "-n", "default", *AS_PREVIEW, check=False
            ).stderr
        )
        kube(*patch, "--dry-run=server", *AS_PREVIEW)
        # ... and cannot raise its own rights (RBAC, not admission: no escalate/bind/impersonate).
        escalate = kube(
            "create",
            "clusterrolebinding",
            "mine",
            "--clusterrole=cluster-admin",
            f"--group={GROUP}",
            "--dry-run=server",
            *AS_PREVIEW,
            check=False,
        )
        assert escalate.returncode != 0 and "forbidden" in escalate.stderr.lower()
        # Everyone else is not this policy's business: the admin's real write goes through.
        assert kube(*patch).returncode == 0
        assert kube.json("get", "configmap", "dry-run-probe", "-n", "default")["data"]["a"] == "b"
    finally:
        kube("delete", "configmap", "dry-run-probe", "-n", "default", "--ignore-not-found")
        guard.destroy("e2e")
    assert (
        kube(
            "get", "validatingadmissionpolicy", "webplatform-preview-dry-run-only", check=False
        ).returncode
        != 0
    )
