"""Progressive delivery with Argo Rollouts: blue-green with analysis, or a stepped canary.

For clusters that run the Argo Rollouts controller. The ``Rollout`` replaces
the Deployment and carries the same hardened pod template; Argo, not Pulumi,
moves traffic: a release is a new image in the stack file and ``pulumi up``;
promotion (``kubectl argo rollouts promote``) and automatic abort on failed
analysis are the controller's job. Use the plain
:class:`webplatform.delivery.blue_green.BlueGreenService` where that controller is absent.

- blue-green (reference 000): ``activeService``/``previewService``,
  ``autoPromotionEnabled: false`` (a person promotes), ``scaleDownDelaySeconds: 30``
  (the old ReplicaSet stays up while clients and load balancers drain), and a
  success-rate analysis before promotion and after it; a failed analysis aborts
  and keeps the old version serving. Before promotion the route carries only
  the active (old) version's traffic, so its Envoy cluster would grade the old
  version (or give NaN on an idle route): the pre-promotion template
  (``<app>-preview-rate``) reads the app's own request metric on the new
  version's pods only (``rollouts_pod_template_hash`` = the new ReplicaSet's
  hash, which Argo passes in; the app's ServiceMonitor keeps that pod label).
  After promotion the route carries the new version, and its cluster is right.
- canary (reference 003): weights 10 → 25 → 50 → 75 → 100 %, a pause and the
  success-rate analysis after each step but the last, ``stableService`` and
  ``canaryService``, and, when the app has an HTTPRoute, exact weights set on
  that route's two backends by the Argo Rollouts Gateway API traffic-router
  plugin (``argoproj-labs/gatewayAPI``) instead of approximated by pod counts.
  The ingress-nginx traffic routing is gone with ingress-nginx (retired March 2026).

An autoscaler, when present, must target the Rollout (``scale_target``), not a
Deployment: there is none.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator, model_validator

from webplatform._labels import app_labels, selector_labels
from webplatform._model import Args, Items, at
from webplatform._types import DnsLabel, Port
from webplatform.workloads.service import Service, ServiceArgs
from webplatform.workloads.workload import WorkloadArgs, pod_template, service_account

ArgoStrategy = Literal["blueGreen", "canary"]
API_VERSION = "argoproj.io/v1alpha1"
#: The Argo Rollouts traffic-router plugin for the Gateway API (argoproj-labs/rollouts-plugin-
#: trafficrouter-gatewayapi); the controller must list it in its ``trafficRouterPlugins``.
GATEWAY_API_PLUGIN = "argoproj-labs/gatewayAPI"
DEFAULT_CANARY_WEIGHTS: tuple[int, ...] = (10, 25, 50, 75, 100)
#: Success rate of the app's public traffic, from Envoy Gateway's proxy metrics:
#: ``envoy_cluster_upstream_rq_xx`` counts upstream responses by ``envoy_response_code_class``
#: (1-5), and Envoy Gateway names a route rule's upstream cluster
#: ``httproute/<namespace>/<route>/rule/<index>`` (label ``envoy_cluster_name``). The
#: Rollout fills ``{{args.route-cluster}}``. Stable and canary are endpoints of that one
#: cluster, so this is the route's rate, the canary's errors diluted by its weight: at 10 %
#: a canary failing every request still shows 90 %. Keep ``successRate`` high, or give a
#: query on the app's own metrics.
DEFAULT_SUCCESS_QUERY = (
    "sum(rate(envoy_cluster_upstream_rq_xx{"
    'envoy_cluster_name="{{args.route-cluster}}",envoy_response_code_class!="5"}[2m]))'
    " / sum(rate(envoy_cluster_upstream_rq_xx{"
    'envoy_cluster_name="{{args.route-cluster}}"}[2m]))'
)


#: Success rate of the new (preview) version alone, before it takes the route's traffic: the
#: app's own ``http_requests_total`` (the Prometheus client libraries' name, with a ``code``
#: label) on the pods of the ReplicaSet whose hash the Rollout fills in as
#: ``{{args.preview-hash}}`` (its ``podTemplateHashValue: Latest``). Give ``previewQuery``
#: when the app names its metric otherwise.
DEFAULT_PREVIEW_QUERY = (
    'sum(rate(http_requests_total{namespace="{{args.namespace}}",'
    'rollouts_pod_template_hash="{{args.preview-hash}}",code!~"5.."}[2m]))'
    ' / sum(rate(http_requests_total{namespace="{{args.namespace}}",'
    'rollouts_pod_template_hash="{{args.preview-hash}}"}[2m]))'
)


class AnalysisArgs(Args):
    """The success-rate check run before/after promotion or between canary steps."""

    prometheus_address: Annotated[str, Field(pattern=r"^https?://[^\s/]+(/\S*)?$")]
    """Prometheus base URL, e.g. ``http://prometheus.monitoring.svc:9090``; required: only
    the cluster's operators know it."""
    success_rate: Annotated[float, Field(gt=0, le=1)] = 0.95
    """Minimum fraction of non-5xx responses, above 0 and at most 1; default 0.95."""
    query: Annotated[str, Field(min_length=1)] = DEFAULT_SUCCESS_QUERY
    """PromQL returning the success rate; may use ``{{args.service-name}}`` and
    ``{{args.route-cluster}}``; default Envoy Gateway's per-route response classes. Used
    after a blue-green promotion and between canary steps, when the route carries the new
    version."""
    preview_query: Annotated[str, Field(min_length=1)] = DEFAULT_PREVIEW_QUERY
    """Blue-green pre-promotion PromQL, on the new version's pods alone: may use
    ``{{args.preview-hash}}`` (its pod-template-hash) and ``{{args.namespace}}``; default
    the app's ``http_requests_total`` by ``code`` (see :data:`DEFAULT_PREVIEW_QUERY`)."""
    interval_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    """Time between measurements; default 60 s."""
    count: Annotated[int, Field(ge=1, le=100)] = 5
    """Measurements per analysis run; default 5."""
    failure_limit: Annotated[int, Field(ge=0, le=99)] = 1
    """Failed measurements tolerated before the run fails (and the release aborts); default 1."""

    @model_validator(mode="after")
    def _can_fail(self) -> AnalysisArgs:
        if self.failure_limit >= self.count:
            raise at(
                "failure_limit",
                message="must be below count, or the analysis could never fail",
            )
        return self


class ArgoRelease(Args):
    """How Argo Rollouts releases a new version: analysis, and the strategy's own timings."""

    analysis: AnalysisArgs
    """The success-rate analysis (required: an unchecked progressive release is a plain rollout)."""
    scale_down_delay_seconds: Annotated[int, Field(ge=0, le=86400)] = 30
    """Blue-green: how long the old version stays up after promotion; default 30 s (reference 000)."""
    canary_weights: Items[Annotated[int, Field(ge=1, le=100)]] = DEFAULT_CANARY_WEIGHTS
    """Canary: traffic percentages, strictly increasing, ending at 100; default 10/25/50/75/100."""
    canary_pause_seconds: Annotated[int, Field(ge=0, le=86400)] = 300
    """Canary: pause after each weight before its analysis; default 300 s."""

    @field_validator("canary_weights")
    @classmethod
    def _increasing(cls, weights: tuple[int, ...]) -> tuple[int, ...]:
        if not weights or list(weights) != sorted(set(weights)) or weights[-1] != 100:
            raise ValueError("must be strictly increasing percentages ending at 100")
        return weights


class RolloutArgs(Args):
    """A Rollout, its AnalysisTemplate and its two Services."""

    workload: WorkloadArgs
    """The pod (image, port, resources, probes, settings) and replicas (``None`` with an autoscaler)."""
    strategy: ArgoStrategy
    """``blueGreen`` or ``canary``; required."""
    release: ArgoRelease
    """Analysis and timings."""
    service_port: Port = 80
    """Port of the Services; default 80."""
    http_route: DnsLabel | None = None
    """Name of the app's HTTPRoute (in the app's namespace); default ``-``. Canary: the Gateway
    API plugin sets its backends' weights at each step (without it, weights are approximated
    by pod counts). Both strategies: the default analysis reads that route's metrics."""

    @staticmethod
    def object_names(app: str, strategy: ArgoStrategy) -> dict[str, list[str]]:
        """The objects a Rollout of ``app`` creates, by kind."""
        second = f"{app}-{'preview' if strategy == 'blueGreen' else 'canary'}"
        return {
            "Rollout": [app],
            "AnalysisTemplate": [f"{app}-success-rate"]
            + ([f"{app}-preview-rate"] if strategy == "blueGreen" else []),
            "Service": [app, second],
            "ServiceAccount": [app],
        }


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
        base, release, strategy = args.workload, args.release, args.strategy
        app = base.app
        labels = app_labels(app, base.extra_labels)
        selector = {**selector_labels(app), **base.extra_selector}
        stable_name = app
        second_name = f"{app}-{'preview' if strategy == 'blueGreen' else 'canary'}"

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
                ("active" if strategy == "blueGreen" else "stable", stable_name),
                ("preview" if strategy == "blueGreen" else "canary", second_name),
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
        templates: list[pulumi.Resource] = [analysis]
        if strategy == "blueGreen":
            templates.append(
                k8s.apiextensions.CustomResource(
                    f"{name}-preview-analysis-template",
                    api_version=API_VERSION,
                    kind="AnalysisTemplate",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=f"{app}-preview-rate", namespace=base.namespace, labels=labels
                    ),
                    spec=_preview_analysis_spec(release.analysis),
                    opts=child,
                )
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
                "strategy": _strategy(
                    args, stable_name, second_name, template_name, base.namespace
                ),
            },
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*templates, *(s.service for s in services.values())]
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
        "args": [{"name": "service-name"}, {"name": "route-cluster", "value": "none"}],
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


def _preview_analysis_spec(analysis: AnalysisArgs) -> dict[str, Any]:
    spec = _analysis_spec(analysis)
    spec["args"] = [{"name": "namespace"}, {"name": "preview-hash"}]
    spec["metrics"][0]["name"] = "preview-success-rate"
    spec["metrics"][0]["provider"]["prometheus"]["query"] = analysis.preview_query
    return spec


def _preview_analysis(template: str, namespace: pulumi.Input[str]) -> dict[str, Any]:
    """The new version's own success rate: Argo fills in its ReplicaSet's pod-template-hash."""
    return {
        "templates": [{"templateName": template}],
        "args": [
            {"name": "namespace", "value": namespace},
            {"name": "preview-hash", "valueFrom": {"podTemplateHashValue": "Latest"}},
        ],
    }


def _analysis(
    template: str, service: str, route_cluster: pulumi.Input[str] | None
) -> dict[str, Any]:
    args: list[dict[str, Any]] = [{"name": "service-name", "value": service}]
    if route_cluster is not None:
        args.append({"name": "route-cluster", "value": route_cluster})
    return {"templates": [{"templateName": template}], "args": args}


def _strategy(
    args: RolloutArgs, stable: str, second: str, template: str, namespace: pulumi.Input[str]
) -> dict[str, Any]:
    release = args.release
    # The Envoy Gateway cluster of the app's route's only rule (see DEFAULT_SUCCESS_QUERY).
    route_cluster = (
        None
        if args.http_route is None
        else pulumi.Output.format("httproute/{0}/{1}/rule/0", namespace, args.http_route)
    )
    if args.strategy == "blueGreen":
        return {
            "blueGreen": {
                "activeService": stable,
                "previewService": second,
                "autoPromotionEnabled": False,
                "scaleDownDelaySeconds": release.scale_down_delay_seconds,
                # Before promotion the route still carries only the old version (see above).
                "prePromotionAnalysis": _preview_analysis(
                    f"{args.workload.app}-preview-rate", namespace
                ),
                "postPromotionAnalysis": _analysis(template, stable, route_cluster),
            }
        }
    steps: list[dict[str, Any]] = []
    for weight in release.canary_weights:
        steps.append({"setWeight": weight})
        if weight < 100:
            steps.append({"pause": {"duration": f"{release.canary_pause_seconds}s"}})
            steps.append({"analysis": _analysis(template, second, route_cluster)})
    canary: dict[str, Any] = {"stableService": stable, "canaryService": second, "steps": steps}
    if args.http_route is not None:
        canary["trafficRouting"] = {
            "plugins": {GATEWAY_API_PLUGIN: {"httpRoute": args.http_route, "namespace": namespace}}
        }
    return {"canary": canary}
