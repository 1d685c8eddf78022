import pulumi
import pytest

from webplatform import (
    Alerting,
    Autoscaling,
    DisruptionPolicy,
    IngressRoute,
    Namespace,
    NamespaceArgs,
    NetworkAccess,
    Resources,
    WebApp,
    WebAppArgs,
    testing,
)

RES = Resources(cpu_request="100m", memory_request="128Mi", cpu_limit="200m", memory_limit="256Mi")


def app_program(**overrides):
    def program():
        ns = Namespace("team", NamespaceArgs(name="team"))
        base = dict(namespace=ns.name, image="ghcr.io/acme/web:2.0.0", port=8080, resources=RES)
        app = WebApp("web", WebAppArgs(**{**base, **overrides}))
        pulumi.export("url", app.internal_url)

    return program


def test_app_wires_settings_workload_and_service_together():
    rec = testing.run(
        app_program(env={"MODE": "x"}, secret_env={"TOKEN": pulumi.Output.secret("t0k3n")})
    )
    deployment = rec.one("kubernetes:apps/v1:Deployment")
    service = rec.one("kubernetes:core/v1:Service")
    template = deployment.inputs["spec"]["template"]
    assert (
        service.inputs["spec"]["selector"] == deployment.inputs["spec"]["selector"]["matchLabels"]
    )
    assert service.inputs["spec"]["selector"].items() <= template["metadata"]["labels"].items()
    (container,) = template["spec"]["containers"]
    refs = {next(iter(src)): src[next(iter(src))]["name"] for src in container["envFrom"]}
    assert refs == {
        "configMapRef": rec.one("kubernetes:core/v1:ConfigMap").inputs["metadata"]["name"],
        "secretRef": rec.one("kubernetes:core/v1:Secret").inputs["metadata"]["name"],
    }
    for r in rec.resources:
        if (
            r.type.startswith("kubernetes:")
            and "metadata" in r.inputs
            and r.type != "kubernetes:core/v1:Namespace"
        ):
            assert r.inputs["metadata"]["namespace"] == "team", r.urn


def test_every_child_hangs_under_the_app_component():
    rec = testing.run(app_program())
    app = rec.one("webplatform:app:WebApp")
    for r in rec.resources:
        if r.type.startswith("kubernetes:") and r.type != "kubernetes:core/v1:Namespace":
            assert "webplatform:app:WebApp$" in r.urn, r.urn
            assert r.name.startswith("web-"), r.name
    assert {r.type for r in rec.children(app)} == {
        "webplatform:settings:AppSettings",
        "webplatform:workload:Workload",
        "webplatform:service:Service",
    }


def test_outputs_are_registered_and_exported():
    rec = testing.run(app_program(service_port=8000))
    app = rec.one("webplatform:app:WebApp")
    assert app.outputs["service_name"] == "web"
    assert app.outputs["internal_url"] == "http://web.team.svc.cluster.local:8000"
    assert rec.stack_outputs["url"] == "http://web.team.svc.cluster.local:8000"


def test_app_name_must_be_a_dns_label():
    with pytest.raises(ValueError, match="DNS label"):
        testing.run(
            lambda: WebApp(
                "Web_App", WebAppArgs(namespace="n", image="a:1", port=80, resources=RES)
            )
        )


GUARDED = dict(
    replicas=None,
    metrics_port=9090,
    autoscaling=Autoscaling(min_replicas=3, max_replicas=10),
    disruption_budget=DisruptionPolicy(min_available=2),
    network_policy=NetworkAccess(),
    ingress=IngressRoute(host="web.example.com", issuer="letsencrypt-prod"),
    monitoring=Alerting(),
)


def test_guardrails_are_off_by_default():
    rec = testing.run(app_program())
    kinds = {r.type.split(":")[-1] for r in rec.resources}
    assert kinds.isdisjoint(
        {"HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "Ingress"}
    )
    assert rec.one("kubernetes:apps/v1:Deployment").inputs["spec"]["replicas"] == 1


def test_guardrails_are_wired_to_the_apps_own_objects():
    rec = testing.run(app_program(**GUARDED))
    deployment = rec.one("kubernetes:apps/v1:Deployment").inputs
    service = rec.one("kubernetes:core/v1:Service").inputs
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert "replicas" not in deployment["spec"], "the HPA owns the count"
    hpa = rec.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    pdb = rec.one("kubernetes:policy/v1:PodDisruptionBudget").inputs["spec"]
    policy = rec.one("kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs["spec"]
    for selector in (pdb["selector"]["matchLabels"], policy["podSelector"]["matchLabels"]):
        assert selector.items() <= pod_labels.items()
    (path,) = rec.one("kubernetes:networking.k8s.io/v1:Ingress").inputs["spec"]["rules"][0]["http"][
        "paths"
    ]
    assert path["backend"]["service"] == {
        "name": service["metadata"]["name"],
        "port": {"number": 80},
    }
    monitor = rec.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor").inputs["spec"]
    assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert {p["name"] for p in service["spec"]["ports"]} >= {monitor["endpoints"][0]["port"]}
    app = rec.one("webplatform:app:WebApp")
    assert {r.type for r in rec.children(app)} >= {
        "webplatform:autoscaling:Autoscaler",
        "webplatform:disruption:DisruptionBudget",
        "webplatform:network_policy:AppNetworkPolicy",
        "webplatform:ingress:Ingress",
        "webplatform:monitoring:Monitoring",
    }
    assert app.outputs["public_url"] == "https://web.example.com/"


def test_autoscaling_and_a_fixed_replica_count_are_refused_together():
    with pytest.raises(ValueError, match="replicas=3: must be None when autoscaling is set"):
        WebAppArgs(
            namespace="n",
            image="a:1",
            port=80,
            resources=RES,
            replicas=3,
            autoscaling=Autoscaling(min_replicas=3, max_replicas=10),
        )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"replicas": None, "autoscaling": Autoscaling(min_replicas=2, max_replicas=10)},
            "min_available=2 with autoscaling.min_replicas=2",
        ),
        ({"replicas": 2}, "min_available=2 with replicas=2"),
    ],
)
def test_a_budget_is_checked_against_the_fewest_pods_the_app_runs(extra, message):
    with pytest.raises(ValueError, match=message):
        WebAppArgs(
            namespace="n",
            image="a:1",
            port=80,
            resources=RES,
            disruption_budget=DisruptionPolicy(min_available=2),
            **extra,
        )


def test_an_external_secret_is_read_by_envfrom_like_our_own():
    rec = testing.run(app_program(external_secret_name="web-secrets"))
    assert rec.by_type("kubernetes:core/v1:Secret") == []
    (container,) = rec.one("kubernetes:apps/v1:Deployment").inputs["spec"]["template"]["spec"][
        "containers"
    ]
    assert {"secretRef": {"name": "web-secrets"}} in container["envFrom"]
