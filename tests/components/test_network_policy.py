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
        # Anywhere on 443 but metadata/Pod Identity, the VPC, Services and pods.
        "to": [
            {
                "ipBlock": {
                    "cidr": "0.0.0.0/0",
                    "except": [
                        "169.254.0.0/16",
                        "10.0.0.0/8",
                        "172.16.0.0/12",
                        "192.168.0.0/16",
                        "100.64.0.0/10",
                    ],
                }
            }
        ],
        "ports": [{"port": 443, "protocol": "TCP"}],
    }


def test_the_443_rule_never_reaches_metadata_the_api_server_or_pods():
    import ipaddress

    (block,) = [p["ipBlock"] for p in policy()["egress"][1]["to"]]

    def allowed(address):
        ip = ipaddress.ip_address(address)
        return ip in ipaddress.ip_network(block["cidr"]) and not any(
            ip in ipaddress.ip_network(e) for e in block["except"]
        )

    # IMDS, the Pod Identity agent, a VPC endpoint / API server ENI, EKS Service IPs, a pod.
    for address in (
        "169.254.169.254",
        "169.254.170.23",
        "10.30.4.17",
        "172.20.0.1",
        "10.100.0.1",
        "100.64.3.9",
        "192.168.1.10",
    ):
        assert not allowed(address), address
    assert allowed("203.0.113.10") and allowed("52.94.236.248")


def test_a_named_backend_in_an_excluded_range_stays_reachable():
    access = NetworkAccess(backends=(Backend(cidr="10.30.8.0/24", port=443),))
    *_, backend = policy(access)["egress"]
    assert backend == {
        "to": [{"ipBlock": {"cidr": "10.30.8.0/24"}}],
        "ports": [{"port": 443, "protocol": "TCP"}],
    }


def test_only_exclusions_inside_each_cidr_are_carved_out():
    from webplatform.guardrails.network_policy import carve_out

    assert carve_out("10.0.0.0/8", ("10.30.0.0/16", "10.0.0.0/8", "169.254.0.0/16")) == [
        "10.30.0.0/16"
    ]
    # a range covered by a wider exclusion is not listed twice
    assert carve_out("0.0.0.0/0", ("10.0.0.0/8", "10.30.0.0/16")) == ["10.0.0.0/8"]


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
