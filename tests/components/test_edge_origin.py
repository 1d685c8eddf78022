"""The Gateway's data plane (EnvoyProxy), given certificates, and the origin guard (issue 19)."""

import pulumi
import pytest

from tests import crds
from tests.model_errors import rejects
from webplatform import Gateway, GatewayArgs, testing
from webplatform.edge.gateway import GivenCertificate
from webplatform.edge.origin import OriginGuard, OriginGuardArgs, OriginHeader
from webplatform.edge.proxy import ProxySettings

GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
ENVOY_PROXY = "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy"
SECURITY_POLICY = "kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy"
SECRET = "kubernetes:core/v1:Secret"
HOSTS = {"web": ("web.example.com",)}


def gateway(**overrides):
    values = dict(
        gateway_name="public",
        namespace="envoy-gateway-system",
        routes_namespace="team",
        hosts=HOSTS,
        issuer="letsencrypt",
    )
    return testing.run(lambda: Gateway("gateway", GatewayArgs(**{**values, **overrides})))


def rendered(resource):
    """The object as the provider sends it, for the CRD schema."""
    return testing.whole_numbers(
        {
            "apiVersion": resource.inputs["apiVersion"],
            "kind": resource.inputs["kind"],
            "metadata": resource.inputs["metadata"],
            "spec": resource.inputs["spec"],
        }
    )


def test_without_proxy_settings_the_gateway_has_no_envoy_proxy_and_no_address():
    """The local control plane: nothing provisions a load balancer, nothing to configure."""
    rec = gateway()
    assert rec.by_type(ENVOY_PROXY) == []
    assert "infrastructure" not in rec.one(GATEWAY).inputs["spec"]
    outputs = rec.one("webplatform:gateway:Gateway").outputs or {}
    assert outputs.get("address") is None


def test_proxy_settings_make_an_internet_facing_nlb_with_spread_replicas_and_a_budget():
    rec = gateway(proxy=ProxySettings(replicas=3), source_ranges=["198.51.100.0/24"])
    proxy = rec.one(ENVOY_PROXY)
    gw = rec.one(GATEWAY)
    assert crds.errors(rendered(proxy)) == []
    assert crds.errors(rendered(gw)) == []
    assert gw.inputs["spec"]["infrastructure"]["parametersRef"] == {
        "group": "gateway.envoyproxy.io",
        "kind": "EnvoyProxy",
        "name": "public",
    }
    assert proxy.inputs["metadata"]["namespace"] == gw.inputs["metadata"]["namespace"]
    kube = proxy.inputs["spec"]["provider"]["kubernetes"]
    service = kube["envoyService"]
    assert service["annotations"] == {
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
    }
    assert (service["type"], service["loadBalancerClass"]) == (
        "LoadBalancer",
        "eks.amazonaws.com/nlb",
    )
    assert service["loadBalancerSourceRanges"] == ["198.51.100.0/24"]
    deployment = kube["envoyDeployment"]
    assert deployment["replicas"] == 3
    spread = deployment["pod"]["topologySpreadConstraints"]
    assert [c["topologyKey"] for c in spread] == [
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    ]
    for constraint in spread:
        assert constraint["whenUnsatisfiable"] == "DoNotSchedule"
        assert constraint["labelSelector"]["matchLabels"] == {
            "gateway.envoyproxy.io/owning-gateway-name": "public",
            "gateway.envoyproxy.io/owning-gateway-namespace": "envoy-gateway-system",
        }
    assert kube["envoyPDB"] == {"maxUnavailable": 1}
    resources = deployment["container"]["resources"]
    assert resources["limits"] == {"cpu": "500m", "memory": "256Mi"}
    # The proxy config exists before the Gateway that names it.
    assert proxy.urn in gw.dependencies
    # The address comes from the Gateway's status (the mocks stand in for Envoy Gateway).
    address = rec.one("webplatform:gateway:Gateway").outputs["address"]
    assert address.endswith(".elb.us-west-2.amazonaws.com")


def test_default_proxy_settings_are_two_replicas():
    assert ProxySettings().replicas == 2
    rejects(ProxySettings, {"replicas": 0}, "replicas", "greater than or equal to 1")
    rejects(ProxySettings, {"cpu": "lots"}, "cpu", "CPU quantity")


def test_given_certificates_replace_cert_manager_on_the_gateway():
    key = pulumi.Output.secret("-----BEGIN PRIVATE KEY-----\nk\n-----END PRIVATE KEY-----\n")
    rec = gateway(certificates={"web": GivenCertificate(certificate="CERT", private_key=key)})
    gw = rec.one(GATEWAY)
    assert "cert-manager.io/cluster-issuer" not in (gw.inputs["metadata"].get("annotations") or {})
    secret = rec.one(SECRET)
    assert secret.inputs["type"] == "kubernetes.io/tls"
    assert secret.inputs["metadata"]["name"] == "public-web-tls"
    assert secret.is_secret("stringData.tls.key")
    listeners = gw.inputs["spec"]["listeners"]
    for listener in listeners:  # no ACME solver route to admit
        values = listener["allowedRoutes"]["namespaces"]["selector"]["matchExpressions"][0]
        assert values["values"] == ["team"]
    assert secret.urn in gw.dependencies


def test_given_certificates_for_some_apps_only_are_refused():
    given = GivenCertificate(certificate="C", private_key="K")
    with pytest.raises(ValueError, match="cert-manager would take over"):
        GatewayArgs(
            gateway_name="public",
            routes_namespace="team",
            hosts={"web": ("web.example.com",), "api": ("api.example.com",)},
            issuer="letsencrypt",
            certificates={"web": given},
        )


def test_origin_guard_requires_the_header_from_a_secret_on_the_apps_route():
    value = pulumi.Output.secret("s3cr3t-origin-value")
    rec = testing.run(
        lambda: OriginGuard(
            "web-cdn-origin",
            OriginGuardArgs(
                app="web",
                namespace="team",
                route_name="web",
                value=value,
            ),
        )
    )
    policy = rec.one(SECURITY_POLICY)
    assert crds.errors(rendered(policy)) == []
    spec = policy.inputs["spec"]
    assert spec["targetRefs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "web"}
    ]
    assert spec["apiKeyAuth"] == {
        "credentialRefs": [{"group": "", "kind": "Secret", "name": "web-cdn-origin"}],
        "extractFrom": [{"headers": ["x-origin-verify"]}],
        "sanitize": True,
    }
    secret = rec.one(SECRET)
    assert secret.inputs["metadata"] == {
        "name": "web-cdn-origin",
        "namespace": "team",
        "labels": secret.inputs["metadata"]["labels"],
    }
    assert secret.inputs["stringData"] == {"cdn": "s3cr3t-origin-value"}
    assert secret.is_secret("stringData.cdn")
    assert "s3cr3t-origin-value" not in str(policy.inputs)
    assert secret.urn in policy.dependencies


def test_origin_header_names_are_lowercase_x_headers():
    rejects(OriginHeader, {"name": "Authorization", "value": "v"}, "name", "pattern")


def test_with_a_load_balancer_the_provider_waits_for_the_gateways_address():
    annotations = gateway(proxy=ProxySettings()).one(GATEWAY).inputs["metadata"]["annotations"]
    assert annotations["pulumi.com/waitFor"] == "jsonpath={.status.addresses[0].value}"
    plain = gateway().one(GATEWAY).inputs["metadata"]["annotations"]
    assert "pulumi.com/waitFor" not in plain  # local: nothing would ever publish one


def test_origin_guard_generates_its_secret_when_given_none_and_hands_it_to_the_cdn():
    holder = {}

    def program():
        holder["guard"] = OriginGuard(
            "web-cdn-origin",
            OriginGuardArgs(app="web", namespace="team", route_name="web"),
        )

    rec = testing.run(program)
    password = rec.one("random:index/randomPassword:RandomPassword")
    assert password.name == "web-cdn-origin-value"
    assert password.inputs == {"length": 48, "special": False}
    assert password.parent == rec.one("webplatform:origin:OriginGuard").urn
    secret = rec.one(SECRET)
    assert secret.is_secret("stringData.cdn")
    assert secret.inputs["stringData"]["cdn"].startswith("mock-")  # the generated value
    header = holder["guard"].header
    assert header.name == "x-origin-verify"
    assert isinstance(header.value, pulumi.Output)
