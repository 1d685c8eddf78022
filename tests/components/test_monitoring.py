import pytest

from tests import crds
from tests.model_errors import rejects
from webplatform import Alerting, Monitoring, MonitoringArgs, testing

RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"


def monitoring(**overrides):
    args = MonitoringArgs(**{"app": "web", "namespace": "team", **overrides})
    return testing.run(lambda: Monitoring("web", args))


def rules(rec):
    (group,) = rec.one(RULE).inputs["spec"]["groups"]
    return {r["alert"]: r for r in group["rules"]}


def test_the_four_kinds_of_alert_with_an_hpa():
    found = rules(monitoring(hpa_names=("web",)))
    assert list(found) == [
        "HighCPUAgainstLimit",
        "ReplicasBelowDesired",
        "NoReplicasAvailable",
        "AutoscalerAtMaximum",
        "ContainerRestarting",
    ]
    cpu = found["HighCPUAgainstLimit"]
    assert 'container_cpu_usage_seconds_total{namespace="team", container="web"}' in cpu["expr"]
    assert (
        'kube_pod_container_resource_limits{namespace="team", container="web", resource="cpu"}'
        in cpu["expr"]
    )
    assert cpu["expr"].endswith("> 0.8") and cpu["for"] == "10m"
    below = found["ReplicasBelowDesired"]["expr"]
    assert below == (
        'kube_deployment_status_replicas_available{namespace="team", deployment=~"web"}'
        ' < kube_deployment_spec_replicas{namespace="team", deployment=~"web"}'
    )
    assert found["NoReplicasAvailable"]["labels"] == {"severity": "critical", "app": "web"}
    hpa = found["AutoscalerAtMaximum"]
    assert 'horizontalpodautoscaler=~"web"' in hpa["expr"] and hpa["for"] == "15m"
    assert found["ContainerRestarting"]["expr"].endswith("[15m]) >= 3")


def test_one_hpa_alert_covers_every_colour():
    hpa = rules(monitoring(hpa_names=("web-blue", "web-green")))["AutoscalerAtMaximum"]
    assert 'horizontalpodautoscaler=~"web-blue|web-green"' in hpa["expr"]


def test_no_hpa_alert_without_an_hpa_and_every_colour_counts():
    found = rules(monitoring(deployments=("web-blue", "web-green")))
    assert "AutoscalerAtMaximum" not in found
    assert 'deployment=~"web-blue|web-green"' in found["NoReplicasAvailable"]["expr"]


def test_thresholds_and_prometheus_labels_come_from_alerting():
    rec = monitoring(
        alerting=Alerting(cpu_limit_ratio=0.9, restarts=5, prometheus_labels={"release": "kps"})
    )
    found = rules(rec)
    assert found["HighCPUAgainstLimit"]["expr"].endswith("> 0.9")
    assert found["ContainerRestarting"]["expr"].endswith(">= 5")
    for type_ in (RULE, MONITOR):
        assert rec.one(type_).inputs["metadata"]["labels"]["release"] == "kps"


def test_service_monitor_scrapes_the_metrics_port_of_the_apps_services():
    spec = monitoring().one(MONITOR).inputs["spec"]
    assert spec == {
        "selector": {
            "matchLabels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"}
        },
        "namespaceSelector": {"matchNames": ["team"]},
        "podTargetLabels": ["rollouts-pod-template-hash"],
        "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s", "scheme": "http"}],
    }


def test_no_service_monitor_without_a_metrics_port():
    assert monitoring(metrics_port_name=None).by_type(MONITOR) == []


@pytest.mark.parametrize("hpas", [(), ("web",), ("web-blue", "web-green")])
def test_rendered_objects_are_valid_against_the_crds(hpas):
    rec = monitoring(hpa_names=hpas)
    for r in (rec.one(RULE), rec.one(MONITOR)):
        assert crds.errors(r.inputs) == [], r.type


@pytest.mark.parametrize(
    ("alerting", "path", "message"),
    [
        ({"cpuLimitRatio": 0}, "cpuLimitRatio", "greater than 0"),
        ({"cpuLimitRatio": 1.5}, "cpuLimitRatio", "less than or equal to 1"),
        ({"cpuLimitRatio": "0.8"}, "cpuLimitRatio", "valid number"),
        ({"cpuFor": "ten minutes"}, "cpuFor", "pattern"),
        ({"scrapeInterval": "30"}, "scrapeInterval", "pattern"),
        ({"restarts": 0}, "restarts", "greater than or equal to 1"),
        ({"metricsPath": "metrics"}, "metricsPath", "pattern"),
        ({"prometheusLabels": {"bad key!": "x"}}, "prometheusLabels", "not Kubernetes label keys"),
        ({"prometheusLabels": {"release": 1}}, "prometheusLabels.release", "valid string"),
    ],
)
def test_bad_alerting_is_rejected(alerting, path, message):
    rejects(Alerting, alerting, path, message)


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        ({"deployments": ["Web"]}, "deployments.0", "pattern"),
        ({"hpaNames": ["web_blue"]}, "hpaNames.0", "pattern"),
        ({"metricsPortName": "a-very-long-port-name"}, "metricsPortName", "at most 15"),
    ],
)
def test_bad_monitoring_args_are_rejected(overrides, path, message):
    rejects(MonitoringArgs, {"app": "web", "namespace": "ns", **overrides}, path, message)


def test_the_monitor_keeps_the_rollout_version_label_on_the_series():
    """Issue 19, defect 8: pre-promotion analysis filters on rollouts_pod_template_hash."""
    rec = testing.run(lambda: Monitoring("web", MonitoringArgs(app="web", namespace="prod")))
    monitor = rec.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor").inputs["spec"]
    assert monitor["podTargetLabels"] == ["rollouts-pod-template-hash"]
