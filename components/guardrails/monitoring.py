"""Alerts and scraping for one app: a ``PrometheusRule`` and a ``ServiceMonitor`` (Prometheus Operator).

The alerts read kube-state-metrics and cAdvisor series, which every
kube-prometheus-stack install has, so they work before the app exports a
single metric of its own:

- ``HighCPUAgainstLimit``: CPU used relative to the container's *limit*.
  Reference 001 alerts on ``rate(container_cpu_usage_seconds_total) > 0.8``,
  i.e. 0.8 cores whatever the limit; at a 500m limit that can never fire, and
  by then the container has been throttled for a long time.
- ``ReplicasBelowDesired`` and ``NoReplicasAvailable``: available pods under
  the Deployment's desired count, and none at all. Reference 001 uses
  ``up{job=...} == 0``, which needs scraping to work and goes quiet when the
  target disappears.
- ``AutoscalerAtMaximum``: the HPA has sat at ``maxReplicas`` for a while,
  i.e. it can no longer absorb load (only when an HPA is given).
- ``ContainerRestarting``: restarts (crash loops, OOM kills) in the last 15 minutes.

With ``dashboard`` (the default) a ConfigMap ``<app>-grafana`` carries the
app's Grafana dashboard (:mod:`webplatform.guardrails.dashboard`), labelled for
Grafana's dashboard sidecar.

Series are selected by namespace and container name (the app's name), not by
pod-name regex: ``pod=~"web-.*"`` would also match an app called ``web-api``.
"""

from __future__ import annotations

from typing import Annotated, Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from webplatform._labels import app_labels, selector_labels
from webplatform._model import Args, Input, Items
from webplatform._types import DnsLabel, Labels, ServiceName
from webplatform.guardrails.dashboard import dashboard_json

#: The label Argo Rollouts puts on each ReplicaSet's pods (Prometheus: rollouts_pod_template_hash).
ROLLOUT_HASH_LABEL = "rollouts-pod-template-hash"
#: The label Grafana's dashboard sidecar loads ConfigMaps by (kube-prometheus-stack's default).
DASHBOARD_LABEL = "grafana_dashboard"
DASHBOARD_LABEL_VALUE = "1"

API_VERSION = "monitoring.coreos.com/v1"
Duration = Annotated[str, Field(pattern=r"^([0-9]+(ms|s|m|h|d|w|y))+$")]
"""A Prometheus duration like ``30s``, ``5m`` or ``1h30m``."""


class Alerting(Args):
    """Thresholds and durations of the alerts, and how Prometheus finds the objects."""

    cpu_limit_ratio: Annotated[float, Field(gt=0, le=1)] = 0.8
    """Alert when CPU use exceeds this fraction of the limit (above 0, at most 1); default 0.8."""
    cpu_for: Duration = "10m"
    """... for this long; default ``10m``."""
    replicas_below_desired_for: Duration = "10m"
    """Available pods under the desired count for this long (longer than a rollout); default ``10m``."""
    no_replicas_for: Duration = "2m"
    """No available pod for this long (critical); default ``2m``."""
    autoscaler_at_max_for: Duration = "15m"
    """HPA at ``maxReplicas`` for this long; default ``15m``."""
    restarts: Annotated[int, Field(ge=1, le=1000)] = 3
    """Container restarts within 15 minutes that raise an alert; default 3."""
    scrape_interval: Duration = "30s"
    """How often the metrics port is scraped; default ``30s``."""
    metrics_path: Annotated[str, Field(pattern=r"^/\S*$")] = "/metrics"
    """Path of the metrics endpoint; default ``/metrics``."""
    prometheus_labels: Labels = {}
    """Labels the Prometheus ``ruleSelector`` / ``serviceMonitorSelector`` match
    (kube-prometheus-stack: ``release: <helm release>``); default none."""
    dashboard: bool = True
    """A Grafana dashboard ConfigMap for the sidecar (request rate, errors, latency, CPU,
    memory, pods per colour); default true."""


class MonitoringArgs(Args):
    """A PrometheusRule (and ServiceMonitor) for one app."""

    app: ServiceName
    """The app's name: its container name, and the objects' names."""
    namespace: Input[str]
    """Namespace of the rule, the monitor and the app."""
    deployments: Items[DnsLabel] = ()
    """Deployments that run the app (every colour of a blue-green pair); default ``(app,)``."""
    hpa_names: Items[DnsLabel] = ()
    """The app's HPAs (one per blue-green colour), for ``AutoscalerAtMaximum``; default none
    (no such alert). All of them are matched, so a colour switch does not change the rules."""
    service_labels: Labels = {}
    """Labels of the Service(s) to scrape; default the app's selector labels."""
    metrics_port_name: (
        Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=15)] | None
    ) = "metrics"
    """Name of the Service port to scrape; default ``metrics``. ``None``: no ServiceMonitor."""
    alerting: Alerting = Alerting()
    """Thresholds and selectors; see :class:`Alerting`."""
    route_name: DnsLabel | None = None
    """The app's HTTPRoute, whose Envoy cluster the dashboard's request panels read; default
    none (no request panels)."""


def _rule(alert: str, expr: str, severity: str, summary: str, for_: str | None) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "alert": alert,
        "expr": expr,
        "labels": {"severity": severity},
        "annotations": {"summary": summary},
    }
    if for_ is not None:
        rule["for"] = for_
    return rule


def alert_rules(
    app: str, namespace: str, deployments: tuple[str, ...], hpas: tuple[str, ...], a: Alerting
) -> list[dict[str, Any]]:
    """The alerting rules, as ``PrometheusRule`` ``spec.groups[].rules`` entries."""
    container = f'namespace="{namespace}", container="{app}"'
    deploy = f'namespace="{namespace}", deployment=~"{"|".join(deployments)}"'
    rules = [
        _rule(
            "HighCPUAgainstLimit",
            f"sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{{{container}}}[5m]))"
            f' / sum by (namespace, pod) (kube_pod_container_resource_limits{{{container}, resource="cpu"}})'
            f" > {a.cpu_limit_ratio}",
            "warning",
            f"{app}: pod {{{{ $labels.pod }}}} uses {{{{ $value | humanizePercentage }}}} of its CPU limit",
            a.cpu_for,
        ),
        _rule(
            "ReplicasBelowDesired",
            f"kube_deployment_status_replicas_available{{{deploy}}}"
            f" < kube_deployment_spec_replicas{{{deploy}}}",
            "warning",
            f"{app}: deployment {{{{ $labels.deployment }}}} has fewer available pods than desired",
            a.replicas_below_desired_for,
        ),
        _rule(
            "NoReplicasAvailable",
            f"sum(kube_deployment_status_replicas_available{{{deploy}}}) == 0",
            "critical",
            f"{app}: no pod is available in namespace {namespace}",
            a.no_replicas_for,
        ),
        _rule(
            "ContainerRestarting",
            f"increase(kube_pod_container_status_restarts_total{{{container}}}[15m]) >= {a.restarts}",
            "warning",
            f"{app}: pod {{{{ $labels.pod }}}} restarted {{{{ $value }}}} times in 15 minutes",
            None,
        ),
    ]
    if hpas:
        selector = f'namespace="{namespace}", horizontalpodautoscaler=~"{"|".join(hpas)}"'
        rules.insert(
            3,
            _rule(
                "AutoscalerAtMaximum",
                f"kube_horizontalpodautoscaler_status_current_replicas{{{selector}}}"
                f" >= kube_horizontalpodautoscaler_spec_max_replicas{{{selector}}}",
                "warning",
                f"{app}: autoscaler {{{{ $labels.horizontalpodautoscaler }}}} has been at its maximum; raise maxReplicas or find the load",
                a.autoscaler_at_max_for,
            ),
        )
    for rule in rules:
        rule["labels"]["app"] = app
    return rules


class Monitoring(pulumi.ComponentResource):
    """A PrometheusRule with the app's alerts and, with a metrics port, a ServiceMonitor."""

    rule_name: str
    """The PrometheusRule's name (the app's name)."""

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:monitoring:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        alerting = args.alerting
        labels = app_labels(args.app, dict(alerting.prometheus_labels))
        deployments = args.deployments or (args.app,)
        namespace = pulumi.Output.from_input(args.namespace)
        k8s.apiextensions.CustomResource(
            f"{name}-prometheus-rule",
            api_version=API_VERSION,
            kind="PrometheusRule",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.app, namespace=args.namespace, labels=labels
            ),
            spec=namespace.apply(
                lambda ns: {
                    "groups": [
                        {
                            "name": f"{args.app}.rules",
                            "rules": alert_rules(
                                args.app, ns, deployments, args.hpa_names, alerting
                            ),
                        }
                    ]
                }
            ),
            opts=child,
        )
        if args.metrics_port_name is not None:
            k8s.apiextensions.CustomResource(
                f"{name}-service-monitor",
                api_version=API_VERSION,
                kind="ServiceMonitor",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=args.app, namespace=args.namespace, labels=labels
                ),
                spec={
                    "selector": {
                        "matchLabels": dict(args.service_labels or selector_labels(args.app))
                    },
                    "namespaceSelector": {"matchNames": [args.namespace]},
                    # An Argo Rollout's versions differ by this pod label: kept on the series,
                    # pre-promotion analysis measures the new version alone (issue 19).
                    "podTargetLabels": [ROLLOUT_HASH_LABEL],
                    "endpoints": [
                        {
                            "port": args.metrics_port_name,
                            "path": alerting.metrics_path,
                            "interval": alerting.scrape_interval,
                            "scheme": "http",
                        }
                    ],
                },
                opts=child,
            )
        if alerting.dashboard:
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"{args.app}-grafana",
                    namespace=args.namespace,
                    labels=app_labels(args.app, {DASHBOARD_LABEL: DASHBOARD_LABEL_VALUE}),
                ),
                data=namespace.apply(
                    lambda ns: {
                        f"{args.app}.json": dashboard_json(
                            args.app, ns, deployments, args.route_name
                        )
                    }
                ),
                opts=child,
            )
        self.rule_name = args.app
        self.register_outputs({"rule_name": self.rule_name})
