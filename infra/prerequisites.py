"""Who serves each kind a stack applies: the Kubernetes version, a chart the stack installs,
EKS Auto Mode, or a documented prerequisite of an existing cluster.

Issue 19: a fresh EKS stack applied ``monitoring.coreos.com/v1`` objects to a
cluster nothing had given those CRDs, and the e2e harness hid it by installing
every vendored CRD first. :func:`unserved` is the check, offline on a synth:
every ``(apiVersion, kind)`` must be

- built into the cluster's Kubernetes version (it has an OpenAPI schema there), or
- served by a CRD of a Helm release the same stack installs (:data:`CHART_KINDS`),
  and the object waits for that release (it depends on it, directly or through
  its namespace), or
- provided by EKS Auto Mode itself on an ``eks`` stack (:data:`AUTO_MODE_KINDS`), or
- on an ``existing`` cluster, served by the documented prerequisites, which the
  local control plane installs and nothing else does
  (``tools/engine/cluster.py``: ``PREREQUISITE_CRDS``, the one list).
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
Kind = tuple[str, str]

#: Helm chart (the Release's ``chart``, last path segment) -> the kinds its CRDs serve, of
#: those our stacks apply. Each chart installs them itself (``crds.enabled``/``installCRDs``).
CHART_KINDS: dict[str, frozenset[Kind]] = {
    "gateway-helm": frozenset(
        {
            ("gateway.networking.k8s.io/v1", "GatewayClass"),
            ("gateway.networking.k8s.io/v1", "Gateway"),
            ("gateway.networking.k8s.io/v1", "HTTPRoute"),
            ("gateway.envoyproxy.io/v1alpha1", "BackendTrafficPolicy"),
            ("gateway.envoyproxy.io/v1alpha1", "ClientTrafficPolicy"),
            ("gateway.envoyproxy.io/v1alpha1", "EnvoyProxy"),
            ("gateway.envoyproxy.io/v1alpha1", "SecurityPolicy"),
        }
    ),
    "cert-manager": frozenset({("cert-manager.io/v1", "ClusterIssuer")}),
    "argo-rollouts": frozenset(
        {("argoproj.io/v1alpha1", "Rollout"), ("argoproj.io/v1alpha1", "AnalysisTemplate")}
    ),
    "external-secrets": frozenset(
        {("external-secrets.io/v1", "ExternalSecret"), ("external-secrets.io/v1", "SecretStore")}
    ),
    "kube-prometheus-stack": frozenset(
        {
            ("monitoring.coreos.com/v1", "ServiceMonitor"),
            ("monitoring.coreos.com/v1", "PodMonitor"),
            ("monitoring.coreos.com/v1", "PrometheusRule"),
        }
    ),
}

#: What EKS Auto Mode serves on every cluster it runs (the AWS EKS user guide:
#: "create-node-pool", "create-node-class"): Karpenter's NodePool and AWS's NodeClass.
AUTO_MODE_KINDS: frozenset[Kind] = frozenset(
    {("karpenter.sh/v1", "NodePool"), ("eks.amazonaws.com/v1", "NodeClass")}
)


def _cluster_tool() -> Any:
    """``tools/engine/cluster.py`` by path (it is a standalone script, not a package)."""
    name = "webplatform_engine_cluster"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "engine" / "cluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def existing_cluster_kinds(crd_files: tuple[str, ...] | None = None) -> frozenset[Kind]:
    """The kinds the documented prerequisites of an existing cluster serve."""
    names = _cluster_tool().PREREQUISITE_CRDS if crd_files is None else crd_files
    return frozenset(kind for name in names for kind in _crd_kinds(name))


@functools.cache
def _crd_kinds(name: str) -> frozenset[Kind]:
    """The kinds one CRD file serves (parsed once: some are megabytes of schema)."""
    text = (_cluster_tool().SCHEMAS / name).read_text()
    crd = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return frozenset(
        (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
        for version in crd["spec"]["versions"]
        if version.get("served", True)
    )


def built_in(obj: dict[str, Any], version: str) -> bool:
    """Whether the Kubernetes ``version`` (``"1.35"``) serves the object's kind itself."""
    return _built_in(obj["apiVersion"], obj["kind"], version)


@functools.cache
def _built_in(api_version: str, kind: str, version: str) -> bool:
    """Asked of a bare object of the kind, once per kind: whether a schema exists is the
    question (the object's validity is test_manifests.py's business)."""
    import kubernetes_validate

    bare = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "probe"}}
    try:
        kubernetes_validate.validate(bare, f"{version}.0", strict=False)
    except kubernetes_validate.SchemaNotFoundError:
        return False
    except kubernetes_validate.ValidationError:
        return True  # a known kind; the bare object lacks its required fields
    return True


def unserved(
    resources: list[Any],
    objects: list[tuple[str, dict[str, Any]]],
    *,
    mode: str,
    version: str,
    existing_kinds: frozenset[Kind] | None = None,
) -> list[str]:
    """Problems, one line each: kinds nothing serves, or objects that do not wait for the
    release serving their kind. ``resources``: the recording's; ``objects``: (urn, object)."""
    by_urn = {r.urn: r for r in resources}
    releases = {
        r.urn: str(r.inputs.get("chart", "")).rsplit("/", 1)[-1]
        for r in resources
        if r.type == "kubernetes:helm.sh/v3:Release"
    }
    problems = []
    if mode != "eks" and existing_kinds is None:
        existing_kinds = existing_cluster_kinds()
    for urn, obj in objects:
        kind: Kind = (obj["apiVersion"], obj["kind"])
        if built_in(obj, version):
            continue
        if mode == "eks" and kind in AUTO_MODE_KINDS:
            continue
        if mode != "eks":
            if existing_kinds is None or kind not in existing_kinds:
                problems.append(f"{urn}: {kind} is not built in, and not a prerequisite")
            continue
        serving = {u for u, chart in releases.items() if kind in CHART_KINDS.get(chart, ())}
        if not serving:
            problems.append(f"{urn}: {kind} is served by no chart this stack installs")
        elif not serving & _ancestors(urn, by_urn):
            problems.append(f"{urn}: {kind} does not wait for the release that serves it")
    return problems


def _ancestors(urn: str, by_urn: dict[str, Any]) -> set[str]:
    """Every URN ``urn`` depends on, transitively (dependencies of dependencies)."""
    seen: set[str] = set()
    todo = [urn]
    while todo:
        resource = by_urn.get(todo.pop())
        if resource is None:
            continue
        for dep in (
            *resource.dependencies,
            *(d for ds in resource.property_dependencies.values() for d in ds),
        ):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen
