"""Progressive delivery with Argo Rollouts: blue-green with analysis, or a stepped canary.

For clusters that run the Argo Rollouts controller. The ``Rollout`` replaces
the Deployment and carries the same hardened pod template; Argo, not Pulumi,
moves traffic: a release is a new image in the stack file and ``pulumi up``;
promotion (``kubectl argo rollouts promote``) and automatic abort on failed
analysis are the controller's job. Use the plain
:class:`webplatform.delivery.blue_green.BlueGreenService` where that controller is absent.

- blue-green (reference 000): ``activeService``/``previewService``,
  ``autoPromotionEnabled: false`` (a person promotes), ``scaleDownDelaySeconds: 30``
  (the old ReplicaSet stays up while clients and load balancers drain), and the
  success-rate analysis before promotion (against the preview Service) and after
  it (against the active Service); a failed analysis aborts and keeps the old
  version serving.
- canary (reference 003): weights 10 → 25 → 50 → 75 → 100 %, a pause and the
  success-rate analysis after each step but the last, ``stableService`` and
  ``canaryService``, and optionally nginx traffic routing (exact weights
  through a canary Ingress instead of approximating them with pod counts).

An autoscaler, when present, must target the Rollout (``scale_target``), not a
Deployment: there is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from webplatform._labels import app_labels, selector_labels
from webplatform.workloads.service import Service, ServiceArgs
from webplatform.workloads.workload import WorkloadArgs, pod_template, service_account

ArgoStrategy = Literal["blueGreen", "canary"]
API_VERSION = "argoproj.io/v1alpha1"
DEFAULT_CANARY_WEIGHTS: tuple[int, ...] = (10, 25, 50, 75, 100)
#: Success rate of HTTP requests that reach the service, from the nginx ingress controller's
#: metrics; ``{{args.service-name}}`` is filled in by the Rollout for each analysis run.
DEFAULT_SUCCESS_QUERY = (
    'sum(rate(nginx_ingress_controller_requests{service="{{args.service-name}}",status!~"5.."}[2m]))'
    ' / sum(rate(nginx_ingress_controller_requests{service="{{args.service-name}}"}[2m]))'
)


@dataclass(frozen=True, kw_only=True)
class AnalysisArgs:
    """The success-rate check run before/after promotion or between canary steps."""

    prometheus_address: str
    """Prometheus base URL, e.g. ``http://prometheus.monitoring.svc:9090``. Required: only
    the cluster's operators know it."""
    success_rate: float = 0.95
    """Minimum fraction of non-5xx requests; default 0.95."""
    query: str = DEFAULT_SUCCESS_QUERY
    """PromQL returning the success rate for ``{{args.service-name}}``; default from ingress-nginx."""
    interval_seconds: int = 60
    """Time between measurements; default 60 s."""
    count: int = 5
    """Measurements per analysis run; default 5."""
    failure_limit: int = 1
    """Failed measurements tolerated before the run fails (and the release aborts); default 1."""

    def __post_init__(self) -> None:
        if not self.prometheus_address.startswith(("http://", "https://")):
            raise ValueError(
                f"prometheus_address={self.prometheus_address!r}: must be an http(s) URL"
            )
        if not 0 < self.success_rate <= 1:
            raise ValueError(f"success_rate={self.success_rate!r}: must be in (0, 1]")
        if self.interval_seconds < 1 or self.count < 1 or self.failure_limit < 0:
            raise ValueError("interval_seconds and count must be >= 1, failure_limit >= 0")
        if self.failure_limit >= self.count:
            raise ValueError(
                f"failure_limit={self.failure_limit} >= count={self.count}: the analysis could never fail"
            )


@dataclass(frozen=True, kw_only=True)
class ArgoRelease:
    """How Argo Rollouts releases a new version of the app."""

    strategy: ArgoStrategy
    """``blueGreen`` or ``canary``."""
    analysis: AnalysisArgs
    """The success-rate analysis (required: an unchecked progressive release is a plain rollout)."""
    scale_down_delay_seconds: int = 30
    """Blue-green: how long the old version stays up after promotion; default 30 s (reference 000)."""
    canary_weights: tuple[int, ...] = DEFAULT_CANARY_WEIGHTS
    """Canary: traffic percentages, strictly increasing, ending at 100; default 10/25/50/75/100."""
    canary_pause_seconds: int = 300
    """Canary: pause after each weight before its analysis; default 300 s."""
    nginx_stable_ingress: str | None = None
    """Canary: name of the app's Ingress for nginx traffic routing; default ``-`` (weights by pod count)."""

    def __post_init__(self) -> None:
        if self.strategy not in ("blueGreen", "canary"):
            raise ValueError(f"strategy={self.strategy!r}: must be 'blueGreen' or 'canary'")
        if self.scale_down_delay_seconds < 0:
            raise ValueError("scale_down_delay_seconds: must be 0 or more")
        weights = self.canary_weights
        if (
            not weights
            or any(not 0 < w <= 100 for w in weights)
            or list(weights) != sorted(set(weights))
            or weights[-1] != 100
        ):
            raise ValueError(
                f"canary_weights={weights!r}: must be strictly increasing percentages ending at 100"
            )
        if self.canary_pause_seconds < 0:
            raise ValueError("canary_pause_seconds: must be 0 or more")
        if self.strategy == "blueGreen" and self.nginx_stable_ingress is not None:
            raise ValueError(
                "nginx_stable_ingress: traffic routing applies to the canary strategy only"
            )


@dataclass(frozen=True, kw_only=True)
class RolloutArgs:
    workload: WorkloadArgs
    """The pod (image, port, resources, probes, settings) and replicas (``None`` with an autoscaler)."""
    release: ArgoRelease
    service_port: int = 80
    """Port of the Services; default 80."""


class ArgoRollout(pulumi.ComponentResource):
    """A ``Rollout``, its ``AnalysisTemplate`` and its two Services."""

    rollout_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    """The stable/active Service: the app's DNS name."""
    preview_service_name: pulumi.Output[str]
    """The preview (blue-green) or canary Service."""
    scale_target: dict[str, str]
    """``apiVersion``/``kind``/``name`` for an autoscaler's ``scaleTargetRef``."""

    def __init__(
        self, name: str, args: RolloutArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:rollout:ArgoRollout", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        base, release = args.workload, args.release
        app = base.app
        labels = app_labels(app, base.extra_labels)
        selector = {**selector_labels(app), **base.extra_selector}
        stable_name = app
        second_name = f"{app}-{'preview' if release.strategy == 'blueGreen' else 'canary'}"

        services = {
            role: Service(
                f"{name}-{role}",
                ServiceArgs(
                    app=app,
                    namespace=base.namespace,
                    service_name=service_name,
                    # Argo adds the rollouts-pod-template-hash to the selector at run time.
                    selector=selector,
                    port=args.service_port,
                    metrics_port=base.metrics_port,
                    extra_labels={**base.extra_labels, "webplatform.io/role": role},
                ),
                opts=child,
            )
            for role, service_name in (
                ("active" if release.strategy == "blueGreen" else "stable", stable_name),
                ("preview" if release.strategy == "blueGreen" else "canary", second_name),
            )
        }
        template_name = f"{app}-success-rate"
        analysis = k8s.apiextensions.CustomResource(
            f"{name}-analysis-template",
            api_version=API_VERSION,
            kind="AnalysisTemplate",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=template_name, namespace=base.namespace, labels=labels
            ),
            spec=_analysis_spec(release.analysis),
            opts=child,
        )
        account = service_account(name, base, child)
        rollout = k8s.apiextensions.CustomResource(
            f"{name}-rollout",
            api_version=API_VERSION,
            kind="Rollout",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=app, namespace=base.namespace, labels=labels),
            spec={
                **({"replicas": base.replicas} if base.replicas is not None else {}),
                "revisionHistoryLimit": 5,
                "selector": {"matchLabels": selector},
                "template": pod_template(base, labels, account),
                "strategy": _strategy(release, stable_name, second_name, template_name),
            },
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[analysis, *(s.service for s in services.values())]
            ),
        )
        # Derived from the resource so that whatever uses the name waits for the Rollout.
        self.rollout_name = rollout.id.apply(lambda _: app)
        self.service_name = next(iter(services.values())).service_name
        self.preview_service_name = list(services.values())[1].service_name
        self.scale_target = {"apiVersion": API_VERSION, "kind": "Rollout", "name": app}
        self.register_outputs(
            {
                "rollout_name": self.rollout_name,
                "service_name": self.service_name,
                "preview_service_name": self.preview_service_name,
            }
        )


def _analysis_spec(analysis: AnalysisArgs) -> dict[str, Any]:
    return {
        "args": [{"name": "service-name"}],
        "metrics": [
            {
                "name": "success-rate",
                "interval": f"{analysis.interval_seconds}s",
                "count": analysis.count,
                "failureLimit": analysis.failure_limit,
                "successCondition": f"result[0] >= {analysis.success_rate}",
                "provider": {
                    "prometheus": {"address": analysis.prometheus_address, "query": analysis.query}
                },
            }
        ],
    }


def _analysis(template: str, service: str) -> dict[str, Any]:
    return {
        "templates": [{"templateName": template}],
        "args": [{"name": "service-name", "value": service}],
    }


def _strategy(args: ArgoRelease, stable: str, second: str, template: str) -> dict[str, Any]:
    if args.strategy == "blueGreen":
        return {
            "blueGreen": {
                "activeService": stable,
                "previewService": second,
                "autoPromotionEnabled": False,
                "scaleDownDelaySeconds": args.scale_down_delay_seconds,
                "prePromotionAnalysis": _analysis(template, second),
                "postPromotionAnalysis": _analysis(template, stable),
            }
        }
    steps: list[dict[str, Any]] = []
    for weight in args.canary_weights:
        steps.append({"setWeight": weight})
        if weight < 100:
            steps.append({"pause": {"duration": f"{args.canary_pause_seconds}s"}})
            steps.append({"analysis": _analysis(template, second)})
    canary: dict[str, Any] = {"stableService": stable, "canaryService": second, "steps": steps}
    if args.nginx_stable_ingress is not None:
        canary["trafficRouting"] = {"nginx": {"stableIngress": args.nginx_stable_ingress}}
    return {"canary": canary}
