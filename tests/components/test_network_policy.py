import pytest

from tests.model_errors import rejects
from webplatform import (
    AppNetworkPolicy,
    AppNetworkPolicyArgs,
    Backend,
    DefaultDeny,
    DefaultDenyArgs,
    NetworkAccess,
    testing,
)

NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PODS = {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"}


def ns(name):
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def policy(access=None, metrics_port=9090):
    args = AppNetworkPolicyArgs(
        app="web",
        namespace="team",
        pod_selector=PODS,
        port=8080,
        metrics_port=metrics_port,
        access=access or NetworkAccess(),
    )
    return testing.run(lambda: AppNetworkPolicy("web", args)).one(NP).inputs["spec"]


def test_default_deny_selects_every_pod_and_allows_nothing():
    rec = testing.run(lambda: DefaultDeny("team", DefaultDenyArgs(namespace="team")))
    deny = rec.one(NP)
    assert deny.inputs["metadata"] == {
        "name": "default-deny",
        "namespace": "team",
        "labels": {
            "app.kubernetes.io/part-of": "webplatform",
            "app.kubernetes.io/managed-by": "pulumi",
        },
    }
    assert deny.inputs["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_ingress_from_the_gateway_on_the_pod_port_and_from_monitoring_on_metrics():
    spec = policy()
    assert spec["podSelector"] == {"matchLabels": PODS}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"] == [
        {"from": [ns("envoy-gateway-system")], "ports": [{"port": 8080, "protocol": "TCP"}]},
        {"from": [ns("monitoring")], "ports": [{"port": 9090, "protocol": "TCP"}]},
    ]


def test_no_metrics_port_means_no_monitoring_rule():
    assert [r["from"] for r in policy(metrics_port=None)["ingress"]] == [
        [ns("envoy-gateway-system")]
    ]


def test_egress_dns_goes_to_the_dns_pods_only_then_443():
    dns, https = policy()["egress"]
    assert dns == {
        "to": [{**ns("kube-system"), "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
    }
    assert https == {
        "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
        "ports": [{"port": 443, "protocol": "TCP"}],
    }


def test_named_backends_and_narrowed_https():
    access = NetworkAccess(
        https_egress_cidrs=("10.0.0.0/16",),
        backends=(
            Backend(namespace="payments", port=8080, pod_labels={"app": "api"}),
            Backend(cidr="10.1.0.0/24", port=5432),
        ),
        monitoring_namespace=None,
    )
    spec = policy(access)
    assert len(spec["ingress"]) == 1
    _, https, payments, database = spec["egress"]
    assert https["to"] == [{"ipBlock": {"cidr": "10.0.0.0/16"}}]
    assert payments == {
        "to": [{**ns("payments"), "podSelector": {"matchLabels": {"app": "api"}}}],
        "ports": [{"port": 8080, "protocol": "TCP"}],
    }
    assert database == {
        "to": [{"ipBlock": {"cidr": "10.1.0.0/24"}}],
        "ports": [{"port": 5432, "protocol": "TCP"}],
    }


def test_no_https_egress_when_asked():
    assert len(policy(NetworkAccess(https_egress_cidrs=()))["egress"]) == 1


def test_the_gateway_namespace_is_a_setting_and_can_be_closed():
    assert policy(NetworkAccess(gateway_namespace="edge"))["ingress"][0]["from"] == [ns("edge")]
    assert [r["from"] for r in policy(NetworkAccess(gateway_namespace=None))["ingress"]] == [
        [ns("monitoring")]
    ]


@pytest.mark.parametrize(
    ("backend", "path", "message"),
    [
        ({"port": 80}, "namespace", "set exactly one"),
        ({"port": 80, "namespace": "a", "cidr": "10.0.0.0/8"}, "namespace", "set exactly one"),
        ({"port": 80, "cidr": "10.0.0.300/8"}, "cidr", "CIDR notation"),
        (
            {"port": 80, "cidr": "10.0.0.0/8", "podLabels": {"a": "b"}},
            "podLabels",
            "only apply to a namespace",
        ),
        ({"port": 0, "namespace": "a"}, "port", "greater than or equal to 1"),
        ({"port": "80", "namespace": "a"}, "port", "valid integer"),
        ({"port": 80, "namespace": "Bad_NS"}, "namespace", "pattern"),
        ({"port": 80, "namespace": "a", "protocol": "SCTP"}, "protocol", "'TCP' or 'UDP'"),
    ],
)
def test_bad_backends_are_rejected(backend, path, message):
    rejects(Backend, backend, path, message)


@pytest.mark.parametrize(
    ("access", "path", "message"),
    [
        ({"dnsPodLabels": {}}, "dnsPodLabels", "at least 1 item"),
        ({"httpsEgressCidrs": ["anywhere"]}, "httpsEgressCidrs.0", "CIDR notation"),
        ({"httpsEgressCidrs": "0.0.0.0/0"}, "httpsEgressCidrs", "valid tuple"),
        ({"gatewayNamespace": "Envoy"}, "gatewayNamespace", "pattern"),
        (
            {"ingressControllerNamespace": "ingress-nginx"},
            "ingressControllerNamespace",
            "Extra inputs",
        ),
        ({"monitoringNamespace": ""}, "monitoringNamespace", "pattern"),
        ({"backends": [{"port": 80}]}, "backends.0.namespace", "set exactly one"),
    ],
)
def test_bad_access_is_rejected(access, path, message):
    rejects(NetworkAccess, access, path, message)


def test_an_empty_pod_selector_is_rejected():
    rejects(
        AppNetworkPolicyArgs,
        {"app": "web", "namespace": "n", "podSelector": {}, "port": 80},
        "podSelector",
        "at least 1 item",
    )
