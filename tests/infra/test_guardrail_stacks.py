"""What each stack file asks of the guardrails reaches the cluster objects (issue 5)."""

import pytest

from infra.config import AppSpec
from tests.conftest import STACKS, synthesized
from webplatform import Autoscaling, NetworkAccess, WebAppSpec
from webplatform.guardrails.autoscaling import FAST_SCALE_UP, SLOW_SCALE_DOWN

KINDS_GUARDED = {
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "HTTPRoute",
    "Gateway",
    "BackendTrafficPolicy",
    "ClientTrafficPolicy",
    "PrometheusRule",
    "ServiceMonitor",
}


@pytest.fixture(scope="module")
def objects():
    found = {}
    for stack in STACKS:
        by_kind: dict[str, list] = {}
        for obj in synthesized(stack).kubernetes_objects():
            by_kind.setdefault(obj["kind"], []).append(obj)
        found[stack] = by_kind
    return found


def one(objects, stack, kind):
    (obj,) = objects[stack][kind]
    return obj


def test_prod_autoscalers_have_the_reference_numbers_one_per_colour(objects):
    hpas = objects["prod"]["HorizontalPodAutoscaler"]
    targets = {h["spec"]["scaleTargetRef"]["name"] for h in hpas}
    assert targets == {"web-blue", "web-green"}
    for hpa in hpas:
        assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        check_prod_numbers(hpa["spec"])
    for deployment in objects["prod"]["Deployment"]:
        # created with the floor, then the HPA's (ignoreChanges; tests/components/test_app.py)
        assert deployment["spec"]["replicas"] == 3


def check_prod_numbers(spec):
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 10)
    targets = {m["resource"]["name"]: m["resource"]["target"] for m in spec["metrics"]}
    assert targets == {
        "cpu": {"type": "Utilization", "averageUtilization": 70},
        "memory": {"type": "Utilization", "averageUtilization": 80},
    }
    down, up = spec["behavior"]["scaleDown"], spec["behavior"]["scaleUp"]
    assert down["stabilizationWindowSeconds"] == 300
    assert down["policies"] == [{"periodSeconds": 60, "type": "Percent", "value": 10}]
    assert up["stabilizationWindowSeconds"] == 0 and up["selectPolicy"] == "Max"
    assert up["policies"] == [
        {"periodSeconds": 15, "type": "Percent", "value": 100},
        {"periodSeconds": 15, "type": "Pods", "value": 4},
    ]


def test_prod_budget_keeps_two_and_staging_drains_one_at_a_time(objects):
    assert one(objects, "prod", "PodDisruptionBudget")["spec"]["minAvailable"] == 2
    staging = one(objects, "staging", "PodDisruptionBudget")["spec"]
    assert staging["maxUnavailable"] == 1 and "minAvailable" not in staging


def test_uat_has_prods_guardrails_at_uat_size(objects):
    hpas = objects["uat"]["HorizontalPodAutoscaler"]
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas} == {"web-blue", "web-green"}
    prod = objects["prod"]["HorizontalPodAutoscaler"][0]["spec"]
    for hpa in hpas:
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 4)
        assert hpa["spec"]["metrics"] == prod["metrics"]
        assert hpa["spec"]["behavior"] == prod["behavior"]
    budget = one(objects, "uat", "PodDisruptionBudget")["spec"]
    assert budget["maxUnavailable"] == 1 and "minAvailable" not in budget
    assert {k for k in KINDS_GUARDED if k in objects["uat"]} == KINDS_GUARDED
    (gateway,) = objects["uat"]["Gateway"]
    assert {item["hostname"] for item in gateway["spec"]["listeners"]} == {"uat-origin.example.com"}
    resources = [
        c["resources"]
        for stack in ("uat", "prod")
        for d in objects[stack]["Deployment"]
        for c in d["spec"]["template"]["spec"]["containers"]
    ]
    assert all(r == resources[0] for r in resources)  # per-pod size: prod's


def test_staging_autoscaler_takes_the_component_defaults(objects):
    spec = objects["staging"]["HorizontalPodAutoscaler"][0]["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 4)
    assert [m["resource"]["target"]["averageUtilization"] for m in spec["metrics"]] == [70, 80]
    assert spec["behavior"]["scaleUp"]["policies"][1] == {
        "periodSeconds": 15,
        "type": "Pods",
        "value": 4,
    }


def test_dev_is_lean_but_keeps_network_policies_and_the_security_context(objects):
    dev = objects["dev"]
    # Dev keeps one public route: review stacks (dev-pr-<N>) derive their host from it; no
    # autoscaler, budget or alerts, and no CDN (so no forwarded-for trust).
    public = {"HTTPRoute", "Gateway", "BackendTrafficPolicy"}
    assert (KINDS_GUARDED - public).isdisjoint(dev)
    (gateway,) = dev["Gateway"]
    assert {item["hostname"] for item in gateway["spec"]["listeners"]} == {"dev.example.com"}
    names = sorted(p["metadata"]["name"] for p in dev["NetworkPolicy"])
    assert names == ["default-deny", "web"]
    pod = dev["Deployment"][0]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_denies_by_default_and_selects_namespaces_by_their_builtin_label(
    objects, stack
):
    policies = {p["metadata"]["name"]: p["spec"] for p in objects[stack]["NetworkPolicy"]}
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    app = policies["web"]
    peers = [peer for rule in app["ingress"] for peer in rule["from"]]
    peers += [peer for rule in app["egress"] for peer in rule["to"]]
    for peer in peers:
        if "namespaceSelector" in peer:
            assert list(peer["namespaceSelector"]["matchLabels"]) == ["kubernetes.io/metadata.name"]
    assert app["ingress"][0]["ports"] == [{"port": 8080, "protocol": "TCP"}]


def test_prod_policy_admits_monitoring_on_metrics_and_reaches_the_named_backend(objects):
    app = next(p for p in objects["prod"]["NetworkPolicy"] if p["metadata"]["name"] == "web")[
        "spec"
    ]
    monitoring = app["ingress"][1]
    assert monitoring["ports"] == [{"port": 9090, "protocol": "TCP"}]
    backend = app["egress"][-1]
    assert backend == {
        "ports": [{"port": 8080, "protocol": "TCP"}],
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "backend"}}}],
    }


@pytest.mark.parametrize(("stack", "limit"), [("prod", 100), ("staging", 50)])
def test_public_route_gateway_and_rate_limit(objects, stack, limit):
    gateway = one(objects, stack, "Gateway")
    issuer = one(objects, stack, "ClusterIssuer")
    expected = {
        "pulumi.com/patchForce": "true",  # every object of the stack (infra.stack)
        # EKS: `pulumi up` waits for the load balancer's address (issue 19)
        "pulumi.com/waitFor": "jsonpath={.status.addresses[0].value}",
    }
    if stack == "prod":
        # the certificate comes from the ClusterIssuer this same stack installs; staging's
        # is Cloudflare's Origin CA certificate, given to the Gateway (issue 19)
        expected["cert-manager.io/cluster-issuer"] = issuer["metadata"]["name"]
    assert gateway["metadata"]["annotations"] == expected
    assert gateway["metadata"]["namespace"] == "envoy-gateway-system"
    routes = {r["metadata"]["name"]: r["spec"] for r in objects[stack]["HTTPRoute"]}
    assert sorted(routes) == ["web", "web-redirect"]
    listeners = {item["name"] for item in gateway["spec"]["listeners"]}
    for spec in routes.values():
        assert {p["sectionName"] for p in spec["parentRefs"]} <= listeners
        assert {p["name"] for p in spec["parentRefs"]} == {gateway["metadata"]["name"]}
    policy = one(objects, stack, "BackendTrafficPolicy")
    assert {r["limit"]["requests"] for r in policy["spec"]["rateLimit"]["local"]["rules"]} == {
        limit
    }
    # the route's namespace is the one the Gateway admits, and the app's policy admits it back
    https = next(item for item in gateway["spec"]["listeners"] if item["protocol"] == "HTTPS")
    (admitted,) = https["allowedRoutes"]["namespaces"]["selector"]["matchExpressions"]
    # with cert-manager, its ACME solver's route too: a renewal may arrive on 443 (issue 19)
    solver = ["envoy-gateway-system"] if stack == "prod" else []
    assert admitted["values"] == [policy["metadata"]["namespace"], *solver]
    web = next(p for p in objects[stack]["NetworkPolicy"] if p["metadata"]["name"] == "web")
    assert web["spec"]["ingress"][0]["from"] == [
        {
            "namespaceSelector": {
                "matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}
            }
        }
    ]


def test_behind_each_stacks_cdn_the_gateway_trusts_one_forwarding_hop(objects):
    for stack in ("prod", "staging"):  # CloudFront and Cloudflare
        policy = one(objects, stack, "ClientTrafficPolicy")
        assert policy["spec"]["clientIPDetection"] == {"xForwardedFor": {"numTrustedHops": 1}}


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_cluster_issuer_answers_challenges_through_this_stacks_gateway(objects, stack):
    gateway = one(objects, stack, "Gateway")
    issuer = one(objects, stack, "ClusterIssuer")
    (solver,) = issuer["spec"]["acme"]["solvers"]
    (parent,) = solver["http01"]["gatewayHTTPRoute"]["parentRefs"]
    assert (parent["name"], parent["namespace"]) == (
        gateway["metadata"]["name"],
        gateway["metadata"]["namespace"],
    )
    (cls,) = objects[stack]["GatewayClass"]
    assert gateway["spec"]["gatewayClassName"] == cls["metadata"]["name"]


def test_prod_route_hosts_include_the_cloudfront_origin_and_staging_the_cloudflare_name(objects):
    hosts = {s: one(objects, s, "Gateway")["spec"]["listeners"] for s in ("prod", "staging")}
    assert {item["hostname"] for item in hosts["prod"]} == {"origin.example.com"}
    assert {item["hostname"] for item in hosts["staging"]} == {"staging.example.com"}


def test_prod_alerts(objects):
    rule = one(objects, "prod", "PrometheusRule")
    alerts = [r["alert"] for r in rule["spec"]["groups"][0]["rules"]]
    assert "AutoscalerAtMaximum" in alerts and "HighCPUAgainstLimit" in alerts
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_no_stack_renders_an_ingress(objects):
    for stack in STACKS:
        assert "Ingress" not in objects[stack], stack


def test_omitted_config_keys_fall_back_to_component_defaults_not_a_third_layer():
    base = {
        "image": "ghcr.io/acme/web:1.0.0",
        "port": 8080,
        "replicas": 2,
        "resources": {
            "requests": {"cpu": "1", "memory": "1Gi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        },
    }
    app = AppSpec.model_validate({**base, "autoscaling": {"maxReplicas": 4}, "networkPolicy": {}})
    assert app.autoscaling == Autoscaling(max_replicas=4)
    up = {
        "stabilizationWindowSeconds": 60,
        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}],
    }
    scaling = AppSpec.model_validate(
        {**base, "autoscaling": {"maxReplicas": 4, "scaleUp": up}}
    ).autoscaling
    assert scaling is not None
    assert scaling.scale_up.stabilization_window_seconds == 60
    assert scaling.scale_up.select_policy == FAST_SCALE_UP.select_policy
    assert scaling.scale_down == SLOW_SCALE_DOWN
    assert app.network_policy == NetworkAccess()
    assert app.network_policy.gateway_namespace == "envoy-gateway-system"


def test_the_stack_app_model_is_the_component_model_plus_secret_references():
    assert issubclass(AppSpec, WebAppSpec)
    own = set(AppSpec.model_fields) - set(WebAppSpec.model_fields)
    assert own == {"secret_env"}


def test_the_stack_app_lists_its_secret_only_when_it_has_secret_settings():
    base = {
        "image": "ghcr.io/acme/web:1.0.0",
        "port": 8080,
        "replicas": 1,
        "resources": {
            "requests": {"cpu": "1", "memory": "1Gi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        },
    }
    assert "Secret" not in AppSpec.model_validate(base).object_names("web")
    with_secret = AppSpec.model_validate({**base, "secretEnv": {"DB": "webDb"}})
    assert with_secret.object_names("web")["Secret"] == ["web-secrets"]
