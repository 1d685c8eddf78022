import pytest

from tests import crds
from webplatform import AnalysisArgs, ArgoRelease, Resources, WebApp, WebAppArgs, testing

ROLLOUT = "kubernetes:argoproj.io/v1alpha1:Rollout"
TEMPLATE = "kubernetes:argoproj.io/v1alpha1:AnalysisTemplate"
RES = Resources(cpu_request="250m", memory_request="256Mi", cpu_limit="500m", memory_limit="512Mi")
ANALYSIS = AnalysisArgs(prometheus_address="http://prometheus.monitoring.svc:9090")


def build(strategy, **release):
    rel = ArgoRelease(strategy=strategy, analysis=ANALYSIS, **release)
    args = WebAppArgs(
        namespace="prod",
        image="ghcr.io/acme/web:1.0.0",
        port=8080,
        replicas=3,
        resources=RES,
        release=rel,
    )
    return testing.run(lambda: WebApp("web", args))


def test_blue_green_rollout_follows_reference_000():
    rec = build("blueGreen")
    spec = rec.one(ROLLOUT).inputs["spec"]
    bg = spec["strategy"]["blueGreen"]
    assert (bg["activeService"], bg["previewService"]) == ("web", "web-preview")
    assert bg["autoPromotionEnabled"] is False
    assert bg["scaleDownDelaySeconds"] == 30
    assert bg["prePromotionAnalysis"] == {
        "templates": [{"templateName": "web-success-rate"}],
        "args": [{"name": "service-name", "value": "web-preview"}],
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


def test_canary_nginx_traffic_routing_is_optional():
    rec = build("canary", nginx_stable_ingress="web")
    canary = rec.one(ROLLOUT).inputs["spec"]["strategy"]["canary"]
    assert canary["trafficRouting"] == {"nginx": {"stableIngress": "web"}}


def test_analysis_template_queries_prometheus_for_the_success_rate():
    spec = build("blueGreen").one(TEMPLATE).inputs["spec"]
    (metric,) = spec["metrics"]
    assert metric["provider"]["prometheus"]["address"] == "http://prometheus.monitoring.svc:9090"
    assert "{{args.service-name}}" in metric["provider"]["prometheus"]["query"]
    assert metric["successCondition"] == "result[0] >= 0.95"
    assert spec["args"] == [{"name": "service-name"}]


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
    for dep in [rec.one(TEMPLATE), *rec.by_type("kubernetes:core/v1:Service")]:
        assert dep.urn in rollout.dependencies


@pytest.mark.parametrize("strategy", ["blueGreen", "canary"])
def test_rendered_objects_match_the_argo_crd_schemas(strategy):
    rec = build(strategy, **({"nginx_stable_ingress": "web"} if strategy == "canary" else {}))
    for resource in (rec.one(ROLLOUT), rec.one(TEMPLATE)):
        obj = testing.whole_numbers(resource.inputs)
        assert crds.is_custom(obj)
        assert crds.errors(obj) == []


def test_crd_validation_catches_a_misspelt_field():
    obj = testing.whole_numbers(build("blueGreen").one(ROLLOUT).inputs)
    obj["spec"]["strategy"]["blueGreen"]["autoPromotionEnable"] = False
    assert any("autoPromotionEnable" in error for error in crds.errors(obj))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"strategy": "linear"}, "must be 'blueGreen' or 'canary'"),
        ({"strategy": "canary", "canary_weights": (10, 50)}, "ending at 100"),
        ({"strategy": "canary", "canary_weights": (50, 10, 100)}, "strictly increasing"),
        ({"strategy": "blueGreen", "nginx_stable_ingress": "web"}, "canary strategy only"),
    ],
)
def test_bad_release_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ArgoRelease(analysis=ANALYSIS, **kwargs)


def test_bad_analysis_options():
    with pytest.raises(ValueError, match="http"):
        AnalysisArgs(prometheus_address="prometheus:9090")
    with pytest.raises(ValueError, match="could never fail"):
        AnalysisArgs(prometheus_address="http://p", count=2, failure_limit=2)


def test_the_autoscaler_targets_the_rollout_not_a_deployment():
    from webplatform import Autoscaling

    rel = ArgoRelease(strategy="canary", analysis=ANALYSIS)
    args = WebAppArgs(
        namespace="prod",
        image="ghcr.io/acme/web:1.0.0",
        port=8080,
        replicas=None,
        resources=RES,
        release=rel,
        autoscaling=Autoscaling(min_replicas=3, max_replicas=10),
    )
    rec = testing.run(lambda: WebApp("web", args))
    (hpa,) = rec.by_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    assert hpa.inputs["spec"]["scaleTargetRef"] == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": "web",
    }
    assert "replicas" not in rec.one(ROLLOUT).inputs["spec"]
