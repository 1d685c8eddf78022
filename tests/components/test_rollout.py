import pytest

from tests import crds
from tests.model_errors import rejects
from webplatform import (
    AnalysisArgs,
    ArgoRelease,
    GatewayRef,
    Quantities,
    Resources,
    RolloutArgs,
    RouteSettings,
    WebApp,
    WebAppArgs,
    WebAppSpec,
    testing,
)

ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
TEMPLATE = "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate"
HTTPROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
RES = Resources(
    requests=Quantities(cpu="250m", memory="256Mi"), limits=Quantities(cpu="500m", memory="512Mi")
)
ANALYSIS = AnalysisArgs(prometheus_address="http://prometheus.monitoring.svc:9090")


ROUTE = RouteSettings(hosts=("web.example.com",), issuer="letsencrypt")
GATEWAY = GatewayRef(name="web-prod", namespace="envoy-gateway-system")


def build(strategy, route=False, **release):
    rel = ArgoRelease(analysis=ANALYSIS, **release)
    args = WebAppArgs(
        namespace="prod",
        image="ghcr.io/acme/web:1.0.0",
        port=8080,
        replicas=3,
        resources=RES,
        strategy="argoBlueGreen" if strategy == "blueGreen" else "argoCanary",
        argo=rel,
        route=ROUTE if route else None,
        gateway=GATEWAY if route else None,
    )
    return testing.run(lambda: WebApp("web", args))


def test_blue_green_rollout_follows_reference_000():
    rec = build("blueGreen")
    spec = rec.one(ROLLOUT).inputs["spec"]
    bg = spec["strategy"]["blueGreen"]
    assert (bg["activeService"], bg["previewService"]) == ("web", "web-preview")
    assert bg["autoPromotionEnabled"] is False
    assert bg["scaleDownDelaySeconds"] == 30
    # Issue 19, defect 8: before promotion the new version is measured on its own pods.
    assert bg["prePromotionAnalysis"] == {
        "templates": [{"templateName": "web-preview-rate"}],
        "args": [
            {"name": "namespace", "value": "prod"},
            {"name": "preview-hash", "valueFrom": {"podTemplateHashValue": "Latest"}},
        ],
    }
    assert bg["postPromotionAnalysis"]["args"] == [{"name": "service-name", "value": "web"}]
    services = {s.inputs["metadata"]["name"] for s in rec.by_type("kubernetes:core/v1:Service")}
    assert services == {"web", "web-preview"}
    assert rec.by_type("kubernetes:apps/v1:Deployment") == []


def test_canary_steps_10_25_50_75_100_with_pause_and_analysis_between():
    rec = build("canary", canary_pause_seconds=120)
    canary = rec.one(ROLLOUT).inputs["spec"]["strategy"]["canary"]
    assert (canary["stableService"], canary["canaryService"]) == ("web", "web-canary")
    weights = [s["setWeight"] for s in canary["steps"] if "setWeight" in s]
    assert weights == [10, 25, 50, 75, 100]
    steps = canary["steps"]
    for i, step in enumerate(steps):
        if "setWeight" in step and step["setWeight"] < 100:
            assert steps[i + 1] == {"pause": {"duration": "120s"}}
            assert steps[i + 2]["analysis"]["args"] == [
                {"name": "service-name", "value": "web-canary"}
            ]
    assert "trafficRouting" not in canary


def test_a_canary_with_a_route_shifts_traffic_through_the_gateway_api_plugin():
    rec = build("canary", route=True)
    canary = rec.one(ROLLOUT).inputs["spec"]["strategy"]["canary"]
    assert canary["trafficRouting"] == {
        "plugins": {"argoproj-labs/gatewayAPI": {"httpRoute": "web", "namespace": "prod"}}
    }
    (route,) = [r for r in rec.by_type(HTTPROUTE) if r.inputs["metadata"]["name"] == "web"]
    assert route.inputs["spec"]["rules"][0]["backendRefs"] == [
        {"kind": "Service", "name": "web", "port": 80, "weight": 100},
        {"kind": "Service", "name": "web-canary", "port": 80, "weight": 0},
    ]
    analysis = next(s["analysis"] for s in canary["steps"] if "analysis" in s)
    assert analysis["args"] == [
        {"name": "service-name", "value": "web-canary"},
        {"name": "route-cluster", "value": "httproute/prod/web/rule/0"},
    ]


def test_a_blue_green_rollout_with_a_route_keeps_one_backend_and_reads_its_metrics():
    rec = build("blueGreen", route=True)
    bg = rec.one(ROLLOUT).inputs["spec"]["strategy"]["blueGreen"]
    assert "trafficRouting" not in bg
    assert bg["postPromotionAnalysis"]["args"][1] == {
        "name": "route-cluster",
        "value": "httproute/prod/web/rule/0",
    }
    route = next(r for r in rec.by_type(HTTPROUTE) if r.inputs["metadata"]["name"] == "web")
    assert route.inputs["spec"]["rules"][0]["backendRefs"] == [
        {"kind": "Service", "name": "web", "port": 80}
    ]


def test_analysis_template_queries_prometheus_for_the_success_rate():
    spec = build("blueGreen").one(TEMPLATE, "web-rollout-analysis-template").inputs["spec"]
    (metric,) = spec["metrics"]
    assert metric["provider"]["prometheus"]["address"] == "http://prometheus.monitoring.svc:9090"
    query = metric["provider"]["prometheus"]["query"]
    # Envoy Gateway's upstream response classes for the route's cluster, 5xx as failures.
    assert (
        query.count('envoy_cluster_upstream_rq_xx{envoy_cluster_name="{{args.route-cluster}}"') == 2
    )
    assert 'envoy_response_code_class!="5"' in query
    assert "nginx" not in query
    assert metric["successCondition"] == "result[0] >= 0.95"
    assert spec["args"] == [{"name": "service-name"}, {"name": "route-cluster", "value": "none"}]


def test_rollout_pod_is_the_hardened_pod():
    spec = build("canary").one(ROLLOUT).inputs["spec"]
    pod = spec["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    (container,) = pod["containers"]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    assert spec["replicas"] == 3


def test_rollout_waits_for_its_services_and_analysis_template():
    rec = build("blueGreen")
    rollout = rec.one(ROLLOUT)
    for dep in [*rec.by_type(TEMPLATE), *rec.by_type("kubernetes:core/v1:Service")]:
        assert dep.urn in rollout.dependencies


@pytest.mark.parametrize("strategy", ["blueGreen", "canary"])
def test_rendered_objects_match_the_argo_crd_schemas(strategy):
    rec = build(strategy, route=True)
    for resource in (rec.one(ROLLOUT), *rec.by_type(TEMPLATE)):
        obj = testing.whole_numbers(resource.inputs)
        assert crds.is_custom(obj)
        assert crds.errors(obj) == []


def test_crd_validation_catches_a_misspelt_field():
    obj = testing.whole_numbers(build("blueGreen").one(ROLLOUT).inputs)
    obj["spec"]["strategy"]["blueGreen"]["autoPromotionEnable"] = False
    assert any("autoPromotionEnable" in error for error in crds.errors(obj))


ARGO = {"analysis": {"prometheusAddress": "http://prometheus.monitoring.svc:9090"}}


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        ({"canaryWeights": [10, 50]}, "canaryWeights", "ending at 100"),
        ({"canaryWeights": [50, 10, 100]}, "canaryWeights", "strictly increasing"),
        ({"canaryWeights": [10, 10, 100]}, "canaryWeights", "strictly increasing"),
        ({"canaryWeights": []}, "canaryWeights", "ending at 100"),
        ({"canaryWeights": [0, 100]}, "canaryWeights.0", "greater than or equal to 1"),
        ({"canaryWeights": [50, 101]}, "canaryWeights.1", "less than or equal to 100"),
        ({"canaryPauseSeconds": -1}, "canaryPauseSeconds", "greater than or equal to 0"),
        ({"scaleDownDelaySeconds": "30"}, "scaleDownDelaySeconds", "valid integer"),
        ({"nginxStableIngress": "web"}, "nginxStableIngress", "Extra inputs"),
        ({"strategy": "canary"}, "strategy", "Extra inputs"),
        (
            {"analysis": {"prometheusAddress": "prometheus:9090"}},
            "analysis.prometheusAddress",
            "pattern",
        ),
        (
            {"analysis": {"prometheusAddress": "http://p", "count": 2, "failureLimit": 2}},
            "analysis.failureLimit",
            "could never fail",
        ),
        (
            {"analysis": {"prometheusAddress": "http://p", "successRate": 0}},
            "analysis.successRate",
            "greater than 0",
        ),
        (
            {"analysis": {"prometheusAddress": "http://p", "successRate": 1.5}},
            "analysis.successRate",
            "less than or equal to 1",
        ),
        (
            {"analysis": {"prometheusAddress": "http://p", "query": ""}},
            "analysis.query",
            "at least 1 character",
        ),
        ({"analysis": {}}, "analysis.prometheusAddress", "Field required"),
    ],
)
def test_bad_release_options(overrides, path, message):
    rejects(ArgoRelease, {**ARGO, **overrides}, path, message)


def test_a_whole_percentage_and_a_fraction_are_both_success_rates():
    assert (
        ArgoRelease.model_validate(
            {"analysis": {"prometheusAddress": "http://p", "successRate": 1}}
        ).analysis.success_rate
        == 1
    )


@pytest.mark.parametrize(
    ("strategy", "argo", "path", "message"),
    [
        ("argoCanary", None, "argo", "required by strategy argoCanary"),
        ("argoBlueGreen", None, "argo", "required by strategy argoBlueGreen"),
        ("rolling", ARGO, "argo", "only with strategy argoBlueGreen or argoCanary"),
        ("argoLinear", ARGO, "strategy", "'rolling', 'blueGreen', 'argoBlueGreen' or 'argoCanary'"),
    ],
)
def test_strategy_and_options_go_together(strategy, argo, path, message):
    data = {
        "image": "ghcr.io/acme/web:1.0.0",
        "port": 8080,
        "replicas": 3,
        "resources": {
            "requests": {"cpu": "1", "memory": "1Gi"},
            "limits": {"cpu": "1", "memory": "1Gi"},
        },
        "strategy": strategy,
        **({"argo": argo} if argo else {}),
    }
    rejects(WebAppSpec, data, path, message)


def test_object_names_of_each_argo_strategy():
    assert RolloutArgs.object_names("web", "canary")["Service"] == ["web", "web-canary"]
    assert RolloutArgs.object_names("web", "blueGreen") == {
        "Rollout": ["web"],
        "AnalysisTemplate": ["web-success-rate", "web-preview-rate"],
        "Service": ["web", "web-preview"],
        "ServiceAccount": ["web"],
    }


def test_the_autoscaler_targets_the_rollout_not_a_deployment():
    from webplatform import Autoscaling

    args = WebAppArgs(
        namespace="prod",
        image="ghcr.io/acme/web:1.0.0",
        port=8080,
        replicas=3,
        resources=RES,
        strategy="argoCanary",
        argo=ArgoRelease(analysis=ANALYSIS),
        autoscaling=Autoscaling(max_replicas=10),
    )
    rec = testing.run(lambda: WebApp("web", args))
    (hpa,) = rec.by_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    assert hpa.inputs["spec"]["scaleTargetRef"] == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": "web",
    }
    assert "replicas" not in rec.one(ROLLOUT).inputs["spec"]


def test_pre_promotion_analysis_measures_the_new_version_not_the_route():
    """Issue 19, defect 8: the route carries only the old version before promotion; the
    pre-promotion template reads the new ReplicaSet's pods (by their pod-template-hash)."""
    rec = build("blueGreen", route=True)
    templates = {t.inputs["metadata"]["name"]: t.inputs["spec"] for t in rec.by_type(TEMPLATE)}
    preview = templates["web-preview-rate"]
    assert preview["args"] == [{"name": "namespace"}, {"name": "preview-hash"}]
    query = preview["metrics"][0]["provider"]["prometheus"]["query"]
    assert "route-cluster" not in query and "envoy_cluster" not in query
    assert query.count('rollouts_pod_template_hash="{{args.preview-hash}}"') == 2
    bg = rec.one(ROLLOUT).inputs["spec"]["strategy"]["blueGreen"]
    assert bg["prePromotionAnalysis"]["templates"] == [{"templateName": "web-preview-rate"}]
    # After promotion the route does carry the new version: its cluster is the right measure.
    assert bg["postPromotionAnalysis"]["templates"] == [{"templateName": "web-success-rate"}]
    # The series keep the pod label the query filters on: test_monitoring.py.
