"""The public route (HTTPRoutes + Envoy Gateway rate limit) and the stack's Gateway."""

import pytest

from tests import crds
from tests.model_errors import rejects
from webplatform import (
    Gateway,
    GatewayArgs,
    PublicRoute,
    PublicRouteArgs,
    RateLimit,
    RouteSettings,
    testing,
)

HTTPROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
POLICY = "kubernetes:gateway.envoyproxy.io/v1alpha1:BackendTrafficPolicy"
HOSTS = ("web.example.com", "www.example.com")


def route(canary=None, **settings):
    args = PublicRouteArgs(
        app="web",
        namespace="team",
        service_name="web",
        service_port=80,
        canary_service_name=canary,
        gateway_name="team",
        gateway_namespace="envoy-gateway-system",
        route=RouteSettings(hosts=HOSTS, issuer="letsencrypt", **settings),
    )
    return testing.run(lambda: PublicRoute("web-route", args))


def routes(rec):
    return {r.inputs["metadata"]["name"]: r for r in rec.by_type(HTTPROUTE)}


def test_https_route_attaches_to_the_https_listeners_of_its_hosts():
    spec = routes(route())["web"].inputs["spec"]
    assert spec["hostnames"] == list(HOSTS)
    assert spec["parentRefs"] == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "namespace": "envoy-gateway-system",
            "name": "team",
            "sectionName": f"https-{host}",
        }
        for host in HOSTS
    ]
    (rule,) = spec["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    assert rule["backendRefs"] == [{"kind": "Service", "name": "web", "port": 80}]


def test_hsts_and_security_headers_are_set_on_every_response_without_x_xss_protection():
    (rule,) = routes(route())["web"].inputs["spec"]["rules"]
    (headers,) = rule["filters"]
    assert headers["type"] == "ResponseHeaderModifier"
    assert {h["name"]: h["value"] for h in headers["responseHeaderModifier"]["set"]} == {
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }


def test_hsts_settings_change_the_header():
    (rule,) = routes(route(hsts_include_subdomains=False, hsts_preload=True))["web"].inputs["spec"][
        "rules"
    ]
    values = {h["name"]: h["value"] for h in rule["filters"][0]["responseHeaderModifier"]["set"]}
    assert values["Strict-Transport-Security"] == "max-age=31536000; preload"


def test_plain_http_is_only_ever_redirected_to_https():
    spec = routes(route())["web-redirect"].inputs["spec"]
    assert [p["sectionName"] for p in spec["parentRefs"]] == [f"http-{h}" for h in HOSTS]
    assert spec["rules"] == [
        {
            "filters": [
                {
                    "type": "RequestRedirect",
                    "requestRedirect": {"scheme": "https", "statusCode": 301},
                }
            ]
        }
    ]
    assert "backendRefs" not in spec["rules"][0]


def test_rate_limit_is_local_per_distinct_client_address_on_the_https_route():
    rec = route(rate_limit=RateLimit(requests=100, unit="Minute"))
    policy = rec.one(POLICY)
    assert policy.inputs["metadata"]["name"] == "web"
    assert policy.inputs["spec"]["targetRefs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "web"}
    ]
    rules = policy.inputs["spec"]["rateLimit"]["local"]["rules"]
    assert [r["clientSelectors"] for r in rules] == [
        [{"sourceCIDR": {"type": "Distinct", "value": "0.0.0.0/0"}}],
        [{"sourceCIDR": {"type": "Distinct", "value": "::/0"}}],
    ]
    assert all(r["limit"] == {"requests": 100, "unit": "Minute"} for r in rules)
    assert "global" not in policy.inputs["spec"]["rateLimit"]
    assert routes(rec)["web"].urn in policy.dependencies


def test_default_limit_is_20_per_second_and_none_turns_it_off():
    (rule, _) = route().one(POLICY).inputs["spec"]["rateLimit"]["local"]["rules"]
    assert rule["limit"] == {"requests": 20, "unit": "Second"}
    assert route(rate_limit=None).by_type(POLICY) == []


def test_a_canary_gets_a_second_backend_at_weight_zero():
    (rule,) = routes(route(canary="web-canary"))["web"].inputs["spec"]["rules"]
    assert rule["backendRefs"] == [
        {"kind": "Service", "name": "web", "port": 80, "weight": 100},
        {"kind": "Service", "name": "web-canary", "port": 80, "weight": 0},
    ]


def test_outputs_and_parents():
    rec = route()
    component = rec.one("webplatform:route:PublicRoute")
    assert component.outputs == {"route_name": "web", "url": "https://web.example.com/"}
    for child in (*rec.by_type(HTTPROUTE), rec.one(POLICY)):
        assert child.parent == component.urn
    assert {r.name for r in rec.children(component)} == {
        "web-route-https",
        "web-route-redirect",
        "web-route-rate-limit",
    }


def gateway(**overrides):
    values = dict(
        gateway_name="team",
        routes_namespace="team",
        hosts={"web": HOSTS, "api": ("api.example.com",)},
        issuer="letsencrypt",
    )
    return testing.run(lambda: Gateway("gateway", GatewayArgs(**{**values, **overrides})))


def test_gateway_has_http_and_https_listeners_per_host_with_the_apps_certificate():
    gw = gateway().one(GATEWAY).inputs
    assert gw["metadata"]["namespace"] == "envoy-gateway-system"
    assert gw["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    assert gw["spec"]["gatewayClassName"] == "envoy-gateway"
    listeners = {item["name"]: item for item in gw["spec"]["listeners"]}
    assert sorted(listeners) == sorted(
        f"{scheme}-{host}" for host in (*HOSTS, "api.example.com") for scheme in ("http", "https")
    )
    https = listeners["https-www.example.com"]
    assert (https["port"], https["protocol"], https["hostname"]) == (
        443,
        "HTTPS",
        "www.example.com",
    )
    assert https["tls"] == {
        "mode": "Terminate",
        "certificateRefs": [{"group": "", "kind": "Secret", "name": "team-web-tls"}],
    }
    assert listeners["https-api.example.com"]["tls"]["certificateRefs"][0]["name"] == "team-api-tls"
    http = listeners["http-web.example.com"]
    assert (http["port"], http["protocol"]) == (80, "HTTP") and "tls" not in http
    for listener in listeners.values():
        # the apps' routes, and cert-manager's ACME challenge route (Gateway's namespace) on
        # both: a renewal's challenge redirected to HTTPS must find it too (issue 19)
        admitted = ["team", "envoy-gateway-system"]
        assert listener["allowedRoutes"] == {
            "namespaces": {
                "from": "Selector",
                "selector": {
                    "matchExpressions": [
                        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": admitted}
                    ]
                },
            },
            "kinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}],
        }


CLIENT_POLICY = "kubernetes:gateway.envoyproxy.io/v1alpha1:ClientTrafficPolicy"


def test_behind_a_cdn_the_client_is_taken_from_x_forwarded_for():
    assert gateway().by_type(CLIENT_POLICY) == []
    rec = gateway(trusted_proxy_hops=1)
    policy = rec.one(CLIENT_POLICY).inputs
    assert policy["metadata"]["namespace"] == "envoy-gateway-system"
    assert policy["spec"] == {
        "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "team"}],
        "clientIPDetection": {"xForwardedFor": {"numTrustedHops": 1}},
    }
    assert rec.one(GATEWAY).urn in rec.one(CLIENT_POLICY).dependencies
    assert crds.errors(testing.whole_numbers(policy)) == []


def test_a_namespaced_issuer_uses_the_issuer_annotation():
    gw = gateway(issuer_kind="Issuer", issuer="local-ca").one(GATEWAY).inputs
    assert gw["metadata"]["annotations"] == {"cert-manager.io/issuer": "local-ca"}


def test_rendered_gateway_objects_are_valid_against_the_vendored_crds():
    rec = route(canary="web-canary")
    objects = [*rec.by_type(HTTPROUTE), rec.one(POLICY), gateway().one(GATEWAY)]
    for obj in objects:
        body = testing.whole_numbers(obj.inputs)
        assert crds.is_custom(body)
        assert crds.errors(body) == [], obj.type


def test_crd_validation_would_catch_a_wrong_filter_and_a_bad_listener():
    (https,) = [r for r in route().by_type(HTTPROUTE) if r.inputs["metadata"]["name"] == "web"]
    body = testing.whole_numbers(https.inputs)
    body["spec"]["rules"][0]["filters"][0]["type"] = "ResponseHeaderModifer"
    assert crds.errors(body)
    gw = testing.whole_numbers(gateway().one(GATEWAY).inputs)
    gw["spec"]["listeners"][0]["protocol"] = "HTTPX"
    gw["spec"]["listeners"][0]["hostnme"] = "x"
    found = crds.errors(gw)
    assert any("hostnme" in e for e in found), found


GOOD_GATEWAY = {
    "gatewayName": "team",
    "routesNamespace": "team",
    "hosts": {"web": ["web.example.com"]},
    "issuer": "letsencrypt",
}


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        (
            {"hosts": {"web": ["a.example.com"], "api": ["a.example.com"]}},
            "hosts.api",
            "also a host of app web",
        ),
        ({"hosts": {f"app{i}": [f"h{i}.example.com"] for i in range(33)}}, "hosts", "at most 64"),
        ({"hosts": {}}, "hosts", "at least 1 item"),
        ({"hosts": {"Web": ["a.example.com"]}}, "hosts.Web.[key]", "pattern"),
        ({"hosts": {"web": ["A.example.com"]}}, "hosts.web.0", "pattern"),
        ({"gatewayName": "Team"}, "gatewayName", "pattern"),
        ({"namespace": ""}, "namespace", "pattern"),
        ({"issuerKind": "Vault"}, "issuerKind", "'ClusterIssuer' or 'Issuer'"),
        ({"gatewayClassName": "e g"}, "gatewayClassName", "pattern"),
        ({"trustedProxyHops": -1}, "trustedProxyHops", "greater than or equal to 0"),
        ({"trustedProxyHops": 6}, "trustedProxyHops", "less than or equal to 5"),
    ],
)
def test_bad_gateways_are_rejected(overrides, path, message):
    rejects(GatewayArgs, {**GOOD_GATEWAY, **overrides}, path, message)


def test_gateway_object_names():
    args = GatewayArgs.model_validate(
        {**GOOD_GATEWAY, "hosts": {"web": ["a.example.com"], "api": ["b.example.com"]}},
        by_name=False,
    )
    assert args.object_names() == {"Gateway": ["team"], "Secret": ["team-web-tls", "team-api-tls"]}
