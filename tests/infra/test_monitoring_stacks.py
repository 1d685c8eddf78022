"""Defect 1 of issue 19 on the stacks: what the apps' monitoring objects need is there, and
they are the objects that Prometheus, Alertmanager and Grafana actually select."""

import json

import pytest

from tests.conftest import synthesized

EKS = ("staging", "uat", "prod")


@pytest.fixture(scope="module")
def synths():
    return {stack: synthesized(stack) for stack in (*EKS, "local")}


@pytest.mark.parametrize("stack", EKS)
def test_prometheus_selects_the_apps_objects_and_monitoring_may_scrape(synths, stack):
    rec = synths[stack].recording
    release = next(
        r
        for r in rec.by_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["chart"] == "kube-prometheus-stack"
    )
    namespace = release.inputs["namespace"]
    objects = synths[stack].kubernetes_objects()
    watched = [
        o for o in objects if o["kind"] in ("ServiceMonitor", "PrometheusRule", "PodMonitor")
    ]
    assert {o["kind"] for o in watched} >= {"ServiceMonitor", "PrometheusRule"}
    for obj in watched:
        # kube-prometheus-stack's Prometheus selects release: <its release name>.
        assert obj["metadata"]["labels"]["release"] == release.inputs["name"], obj["metadata"]
    (policy,) = [
        o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "web"
    ]
    admitted = [
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for rule in policy["spec"]["ingress"]
        for peer in rule["from"]
    ]
    assert namespace in admitted, "Prometheus's namespace must reach the metrics port"


@pytest.mark.parametrize("stack", (*EKS, "local"))
def test_each_monitored_app_ships_its_dashboard_for_the_sidecar(synths, stack):
    (config_map,) = [
        o
        for o in synths[stack].kubernetes_objects()
        if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "web-grafana"
    ]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    (text,) = config_map["data"].values()
    model = json.loads(text)
    assert {p["title"] for p in model["panels"]} >= {
        "Request rate",
        "Error rate (5xx)",
        "Latency",
        "CPU per pod",
        "Memory per pod",
        "Available pods per colour",
    }


@pytest.mark.parametrize("stack", EKS)
def test_envoys_upstream_metrics_are_scraped(synths, stack):
    """Issue 19, defect 8: the dashboards and the analyses read envoy_cluster_* series."""
    (monitor,) = [o for o in synths[stack].kubernetes_objects() if o["kind"] == "PodMonitor"]
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["envoy-gateway-system"]}
    assert monitor["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "proxy"
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert (endpoint["portNumber"], endpoint["path"]) == (19001, "/stats/prometheus")
