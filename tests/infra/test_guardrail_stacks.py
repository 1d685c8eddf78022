"""What each stack file asks of the guardrails reaches the cluster objects (issue 5)."""

import pytest

from infra import synth
from infra.config import AutoscalingSpec, NetworkPolicySpec
from tests.conftest import STACKS
from webplatform import Autoscaling
from webplatform.guardrails.autoscaling import FAST_SCALE_UP, SLOW_SCALE_DOWN

KINDS_GUARDED = {
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Ingress",
    "PrometheusRule",
    "ServiceMonitor",
}


@pytest.fixture(scope="module")
def objects():
    found = {}
    for stack in STACKS:
        by_kind: dict[str, list] = {}
        for obj in synth.synthesize(stack).kubernetes_objects():
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
        assert "replicas" not in deployment["spec"]


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
    (ingress,) = objects["uat"]["Ingress"]
    assert [r["host"] for r in ingress["spec"]["rules"]] == ["uat-origin.example.com"]
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
    # Dev keeps one public route: review stacks (dev-pr-<N>) derive their host from it.
    assert (KINDS_GUARDED - {"Ingress"}).isdisjoint(dev)
    (ingress,) = dev["Ingress"]
    assert [r["host"] for r in ingress["spec"]["rules"]] == ["dev.example.com"]
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


def test_prod_ingress_and_alerts(objects):
    ingress = one(objects, "prod", "Ingress")
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/limit-rps"] == "100"
    # the certificate comes from the ClusterIssuer this same stack installs
    issuer = one(objects, "prod", "ClusterIssuer")
    assert (
        ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
        == issuer["metadata"]["name"]
    )
    assert issuer["spec"]["acme"]["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    assert ingress["spec"]["tls"] == [{"hosts": ["web.example.com"], "secretName": "web-tls"}]
    rule = one(objects, "prod", "PrometheusRule")
    alerts = [r["alert"] for r in rule["spec"]["groups"][0]["rules"]]
    assert "AutoscalerAtMaximum" in alerts and "HighCPUAgainstLimit" in alerts
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_omitted_config_keys_fall_back_to_component_defaults_not_a_third_layer():
    assert AutoscalingSpec(max_replicas=4).to_args(2) == Autoscaling(min_replicas=2, max_replicas=4)
    up = {
        "stabilizationWindowSeconds": 60,
        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}],
    }
    scaling = AutoscalingSpec.model_validate({"maxReplicas": 4, "scaleUp": up}).to_args(2)
    assert scaling.scale_up.stabilization_window_seconds == 60
    assert scaling.scale_up.select_policy == FAST_SCALE_UP.select_policy
    assert scaling.scale_down == SLOW_SCALE_DOWN
    assert NetworkPolicySpec().to_args().ingress_controller_namespace == "ingress-nginx"
