"""The app's Grafana dashboard as code: a JSON model for Grafana's dashboard sidecar.

Reference 001 describes the dashboard (request rate, error rate, latency, CPU,
memory, pods) but ships none; this builds it from the same series the alerts
and the Argo analysis read, so the dashboard, the alerts and the release gate
agree on what "errors" means:

- request rate, error rate and latency from Envoy Gateway's proxies
  (``envoy_cluster_upstream_rq_*`` of the route's cluster
  ``httproute/<namespace>/<route>/rule/0``; scraped by the PodMonitor of
  :mod:`webplatform.cluster.monitoring_stack`). Only with a route:
  an app without one has no request series at the edge;
- CPU and memory per pod from cAdvisor (``container_*``), against the limit;
- available pods per colour (per Deployment) from kube-state-metrics.

The JSON is Grafana's dashboard model (``schemaVersion`` 39); the sidecar
loads it from a ConfigMap labelled ``grafana_dashboard: "1"`` in any namespace
(:mod:`webplatform.cluster.monitoring_stack`). The data source is a variable,
so the same JSON works with any Prometheus data source.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA_VERSION = 39
_DS = {"type": "prometheus", "uid": "${datasource}"}


def route_cluster(namespace: str, route: str) -> str:
    """Envoy Gateway's name for the upstream cluster of a route's first rule."""
    return f"httproute/{namespace}/{route}/rule/0"


def _panel(title: str, unit: str, targets: list[tuple[str, str]], x: int, y: int) -> dict[str, Any]:
    return {
        "type": "timeseries",
        "title": title,
        "datasource": _DS,
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": _DS, "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def dashboard(
    app: str, namespace: str, deployments: tuple[str, ...], route: str | None
) -> dict[str, Any]:
    """The dashboard model of one app (see the module docstring)."""
    container = f'namespace="{namespace}", container="{app}"'
    panels: list[tuple[str, str, list[tuple[str, str]]]] = []
    if route is not None:
        cluster = f'envoy_cluster_name="{route_cluster(namespace, route)}"'
        panels += [
            (
                "Request rate",
                "reqps",
                [(f"sum(rate(envoy_cluster_upstream_rq_total{{{cluster}}}[5m]))", "requests/s")],
            ),
            (
                "Error rate (5xx)",
                "percentunit",
                [
                    (
                        f'sum(rate(envoy_cluster_upstream_rq_xx{{{cluster}, envoy_response_code_class="5"}}[5m]))'
                        f" / sum(rate(envoy_cluster_upstream_rq_xx{{{cluster}}}[5m]))",
                        "5xx share",
                    )
                ],
            ),
            (
                "Latency",
                "ms",
                [
                    (
                        f"histogram_quantile({q}, sum by (le) "
                        f"(rate(envoy_cluster_upstream_rq_time_bucket{{{cluster}}}[5m])))",
                        f"p{int(q * 100)}",
                    )
                    for q in (0.5, 0.95, 0.99)
                ],
            ),
        ]
    panels += [
        (
            "CPU per pod",
            "cores",
            [
                (
                    f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{container}}}[5m]))",
                    "{{pod}}",
                ),
                (
                    f'max(kube_pod_container_resource_limits{{{container}, resource="cpu"}})',
                    "limit",
                ),
            ],
        ),
        (
            "Memory per pod",
            "bytes",
            [
                (f"sum by (pod) (container_memory_working_set_bytes{{{container}}})", "{{pod}}"),
                (
                    f'max(kube_pod_container_resource_limits{{{container}, resource="memory"}})',
                    "limit",
                ),
            ],
        ),
        (
            "Available pods per colour",
            "short",
            [
                (
                    "sum by (deployment) (kube_deployment_status_replicas_available"
                    f'{{namespace="{namespace}", deployment=~"{"|".join(deployments)}"}})',
                    "{{deployment}}",
                )
            ],
        ),
    ]
    return {
        "uid": f"webplatform-{namespace}-{app}"[:40],
        "title": f"{app} ({namespace})",
        "tags": ["webplatform", app],
        "timezone": "utc",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Data source",
                }
            ]
        },
        "panels": [
            _panel(title, unit, targets, x=12 * (i % 2), y=8 * (i // 2)) | {"id": i + 1}
            for i, (title, unit, targets) in enumerate(panels)
        ],
    }


def dashboard_json(
    app: str, namespace: str, deployments: tuple[str, ...], route: str | None
) -> str:
    """:func:`dashboard` as the JSON text the ConfigMap carries (stable key order)."""
    return json.dumps(dashboard(app, namespace, deployments, route), indent=1, sort_keys=True)
