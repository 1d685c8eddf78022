"""What reads the apps' ServiceMonitors and PrometheusRules: kube-prometheus-stack, pinned.

The apps render Prometheus Operator objects (:mod:`webplatform.guardrails.monitoring`):
a ``ServiceMonitor``, a ``PrometheusRule`` and a Grafana dashboard ConfigMap.
Without the operator's CRDs the first ``pulumi up`` fails on them; without a
Prometheus and an Alertmanager nothing reads them. This component installs
both, and where the alerts go:

- the **kube-prometheus-stack** chart (prometheus-community), one Helm release
  at a pinned version: the Prometheus Operator and its CRDs, a Prometheus
  (retention and an encrypted gp3 volume from the stack file), Alertmanager,
  kube-state-metrics and node-exporter (the series the apps' alerts read) and
  Grafana, whose dashboard sidecar loads every ConfigMap labelled
  ``grafana_dashboard: "1"`` in any namespace (the apps' dashboards);
- the **receiver**: Alertmanager routes every alert to one receiver (Slack,
  PagerDuty or a webhook) set in the stack file. Its credential (webhook URL,
  routing key) is a Pulumi secret written to a Kubernetes Secret that
  Alertmanager mounts and reads with ``*_file`` settings, so the chart's values
  (and the Helm release stored in the cluster) never hold it;
- a **PodMonitor** for Envoy Gateway's proxies (``envoy_cluster_*`` on port
  19001, ``/stats/prometheus``): the request panels of the dashboards and the
  Argo analysis read those series, and no chart scrapes them by default;
- a **StorageClass** for Prometheus's volume: EKS Auto Mode's block storage
  driver (``ebs.csi.eks.amazonaws.com``) comes with no StorageClass.

Why in-cluster and not Amazon Managed Service for Prometheus: the apps'
objects are the Prometheus Operator's, which the managed scraper does not read
(it takes a scrape configuration; rules are separate rule-group namespaces in
another API), so the managed path would mean a second definition of every
alert and scrape, and an Amazon Managed Grafana workspace needs IAM Identity
Center before the first apply. One chart keeps one definition, works the same
on every cluster, and costs a few hundred millicores (in the NodePool's
reserve). The price: Prometheus's data is on one volume in one zone (alerts
and recent history, not long-term storage).

Selectors: the chart's Prometheus selects ServiceMonitors, PodMonitors and
rules labelled ``release: <release name>`` (its default), which is what the
stacks' ``monitoring.prometheusLabels`` say; the release is named
:data:`RELEASE` for that reason.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, model_validator

from webplatform._model import Args, Input, at
from webplatform.cluster._checks import ChartVersion
from webplatform.guardrails.monitoring import DASHBOARD_LABEL, DASHBOARD_LABEL_VALUE
from webplatform.guardrails.namespace import Namespace, NamespaceArgs

__all__ = ["AlertReceiver", "MonitoringStack", "MonitoringStackArgs"]

CHART = "kube-prometheus-stack"
REPO = "https://prometheus-community.github.io/helm-charts"
#: The release name; the chart's default selectors match ``release: kube-prometheus-stack``.
RELEASE = "kube-prometheus-stack"
NAMESPACE = "monitoring"
#: The Secret holding the receiver's credential, mounted by Alertmanager at this path.
RECEIVER_SECRET = "alertmanager-receiver"
RECEIVER_KEY = "credential"
_MOUNTED = f"/etc/alertmanager/secrets/{RECEIVER_SECRET}/{RECEIVER_KEY}"
#: Envoy Gateway's proxy pods (its labels) and their Prometheus endpoint.
PROXY_NAMESPACE = "envoy-gateway-system"
PROXY_LABELS = {
    "app.kubernetes.io/name": "envoy",
    "app.kubernetes.io/component": "proxy",
    "app.kubernetes.io/managed-by": "envoy-gateway",
}
PROXY_METRICS_PORT = 19001
#: Auto Mode's block storage provisioner (not the EBS CSI add-on's ``ebs.csi.aws.com``).
AUTO_MODE_EBS = "ebs.csi.eks.amazonaws.com"
Duration = Annotated[str, Field(pattern=r"^[0-9]+(h|d|w|y)$")]


class AlertReceiver(Args):
    """Where Alertmanager sends every alert (``cluster.monitoring.receiver``)."""

    kind: Literal["slack", "pagerduty", "webhook"]
    """``slack`` (incoming webhook), ``pagerduty`` (Events API v2) or ``webhook``; required."""
    credential: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]
    """Name of the stack's secret config key holding the Slack webhook URL, the PagerDuty
    routing key or the webhook URL (``pulumi config set --secret <name> ...``); required."""
    channel: Annotated[str, Field(pattern=r"^#[a-z0-9_-]+$")] | None = None
    """Slack channel (``#alerts``); default the webhook's own. Only with kind ``slack``."""
    send_resolved: bool = True
    """Also notify when an alert resolves; default true."""

    @model_validator(mode="after")
    def _channel(self) -> AlertReceiver:
        if self.channel is not None and self.kind != "slack":
            raise at("channel", message=f"only with kind slack (not {self.kind})")
        return self

    def config(self) -> dict[str, Any]:
        """The Alertmanager receiver; the credential is read from the mounted Secret's file."""
        common = {"send_resolved": self.send_resolved}
        if self.kind == "slack":
            slack: dict[str, Any] = {**common, "api_url_file": _MOUNTED}
            if self.channel is not None:
                slack["channel"] = self.channel
            return {"name": self.kind, "slack_configs": [slack]}
        if self.kind == "pagerduty":
            return {
                "name": self.kind,
                "pagerduty_configs": [{**common, "routing_key_file": _MOUNTED}],
            }
        return {"name": self.kind, "webhook_configs": [{**common, "url_file": _MOUNTED}]}


class MonitoringSettings(Args):
    """What a stack file says about its monitoring (``cluster.monitoring``)."""

    version: ChartVersion
    """Exact kube-prometheus-stack chart version; required (an upgrade is a reviewed change)."""
    receiver: AlertReceiver
    """Where alerts go; required (alerts nobody receives are not alerts)."""
    retention: Duration = "15d"
    """How long Prometheus keeps samples; default ``15d``."""
    storage_gib: Annotated[int, Field(ge=5, le=16384)] = 50
    """Prometheus's volume in GiB (encrypted gp3); default 50."""


class MonitoringStackArgs(MonitoringSettings):
    """:class:`MonitoringSettings` plus the wiring: the receiver's credential."""

    credential: Input[str]
    """The receiver's credential, a Pulumi secret (``Config.require_secret``)."""


class MonitoringStack(pulumi.ComponentResource):
    """kube-prometheus-stack (operator, CRDs, Prometheus, Alertmanager, Grafana), a receiver
    and a StorageClass; see the module docstring."""

    release: k8s.helm.v3.Release
    """For ``depends_on``: the CRDs of ServiceMonitor, PodMonitor and PrometheusRule."""
    namespace: str

    def __init__(
        self, name: str, args: MonitoringStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:cluster:MonitoringStack", name, None, opts)
        # The component's depends_on (the NodePool) gates its children: pods need nodes.
        after = list(opts.depends_on) if opts and isinstance(opts.depends_on, list) else []
        child = pulumi.ResourceOptions(parent=self, depends_on=after)
        # node-exporter reads the host's /proc and /sys: baseline is not enough for it either,
        # so the namespace is privileged and warns/audits at restricted (the chart's own pods).
        namespace = Namespace(
            f"{name}-namespace",
            NamespaceArgs(name=NAMESPACE, enforce="privileged"),
            opts=child,
        )
        storage = k8s.storage.v1.StorageClass(
            f"{name}-storage-class",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="monitoring-gp3"),
            provisioner=AUTO_MODE_EBS,
            volume_binding_mode="WaitForFirstConsumer",
            reclaim_policy="Retain",
            allow_volume_expansion=True,
            parameters={"type": "gp3", "encrypted": "true"},
            opts=child,
        )
        credential = k8s.core.v1.Secret(
            f"{name}-receiver",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=RECEIVER_SECRET, namespace=namespace.name),
            type="Opaque",
            string_data={RECEIVER_KEY: pulumi.Output.secret(args.credential)},
            opts=child,
        )
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            k8s.helm.v3.ReleaseArgs(
                name=RELEASE,
                chart=CHART,
                version=args.version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=REPO),
                namespace=namespace.name,
                values=chart_values(args),
                atomic=True,
                cleanup_on_fail=True,
                max_history=10,
                timeout=900,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*after, storage, credential]),
        )
        k8s.apiextensions.CustomResource(
            f"{name}-envoy-proxies",
            api_version="monitoring.coreos.com/v1",
            kind="PodMonitor",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="envoy-proxies", namespace=namespace.name, labels={"release": RELEASE}
            ),
            spec={
                "namespaceSelector": {"matchNames": [PROXY_NAMESPACE]},
                "selector": {"matchLabels": PROXY_LABELS},
                "podMetricsEndpoints": [
                    {
                        "portNumber": PROXY_METRICS_PORT,
                        "path": "/stats/prometheus",
                        "interval": "30s",
                        # Only the upstream-cluster series the dashboards and analyses read.
                        "metricRelabelings": [
                            {
                                "sourceLabels": ["__name__"],
                                "regex": "envoy_cluster_upstream_rq.*",
                                "action": "keep",
                            }
                        ],
                    }
                ],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
        )
        self.namespace = NAMESPACE
        self.register_outputs({"namespace": self.namespace, "release": self.release.status})


def chart_values(settings: MonitoringSettings) -> dict[str, Any]:
    """The chart's values: no secret in them (the credential is a mounted file)."""
    receiver = settings.receiver.config()
    return {
        "crds": {"enabled": True},
        "prometheus": {
            "prometheusSpec": {
                "retention": settings.retention,
                # The apps' objects carry release: <RELEASE>, the chart's default selector.
                "serviceMonitorSelectorNilUsesHelmValues": True,
                "podMonitorSelectorNilUsesHelmValues": True,
                "ruleSelectorNilUsesHelmValues": True,
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {
                            "storageClassName": "monitoring-gp3",
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": f"{settings.storage_gib}Gi"}},
                        }
                    }
                },
            }
        },
        "alertmanager": {
            "alertmanagerSpec": {"secrets": [RECEIVER_SECRET]},
            "config": {
                "route": {
                    "receiver": receiver["name"],
                    "group_by": ["alertname", "namespace"],
                    "group_wait": "30s",
                    "group_interval": "5m",
                    "repeat_interval": "4h",
                    # The chart's always-firing Watchdog goes nowhere: it is a heartbeat.
                    "routes": [{"receiver": "null", "matchers": ['alertname = "Watchdog"']}],
                },
                "receivers": [{"name": "null"}, receiver],
            },
        },
        "grafana": {
            "sidecar": {
                "dashboards": {
                    "enabled": True,
                    "label": DASHBOARD_LABEL,
                    "labelValue": DASHBOARD_LABEL_VALUE,
                    "searchNamespace": "ALL",
                }
            },
        },
    }
