import pytest

from tests.model_errors import rejects
from webplatform import Service, ServiceArgs, testing

SVC = "kubernetes:core/v1:Service"
SELECTOR = {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"}


def test_cluster_ip_service_targets_the_named_http_port():
    rec = testing.run(
        lambda: Service("web-service", ServiceArgs(app="web", namespace="ns", selector=SELECTOR))
    )
    spec = rec.one(SVC).inputs["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["selector"] == SELECTOR
    assert spec["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    assert rec.one(SVC).inputs["metadata"]["name"] == "web"


def test_metrics_port_is_exposed_when_asked():
    rec = testing.run(
        lambda: Service(
            "s",
            ServiceArgs(app="web", namespace="ns", selector=SELECTOR, port=8000, metrics_port=9090),
        )
    )
    ports = {p["name"]: (p["port"], p["targetPort"]) for p in rec.one(SVC).inputs["spec"]["ports"]}
    assert ports == {"http": (8000, "http"), "metrics": (9090, "metrics")}


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        ({"selector": {}}, "selector", "at least 1 item"),
        ({"metricsPort": 80}, "metricsPort", "must differ from the Service port"),
        ({"port": 9090, "metricsPort": 9090}, "metricsPort", "must differ"),
        ({"serviceName": "1web"}, "serviceName", "pattern"),
        ({"serviceName": "web_api"}, "serviceName", "pattern"),
        ({"app": "w" * 64}, "app", "at most 63"),
        ({"port": 0}, "port", "greater than or equal to 1"),
        ({"port": "80"}, "port", "valid integer"),
        ({"extraLabels": {"a": "has space"}}, "extraLabels", "label values"),
    ],
)
def test_bad_args_are_rejected(overrides, path, message):
    rejects(
        ServiceArgs,
        {"app": "web", "namespace": "ns", "selector": SELECTOR, **overrides},
        path,
        message,
    )
