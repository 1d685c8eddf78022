import pulumi
import pytest

from tests.model_errors import rejects
from webplatform import (
    Alerting,
    Autoscaling,
    DisruptionPolicy,
    GatewayRef,
    Namespace,
    NamespaceArgs,
    NetworkAccess,
    Quantities,
    Resources,
    RouteSettings,
    WebApp,
    WebAppArgs,
    WebAppSpec,
    testing,
)

RES = Resources(
    requests=Quantities(cpu="100m", memory="128Mi"), limits=Quantities(cpu="200m", memory="256Mi")
)


def app_program(**overrides):
    def program():
        ns = Namespace("team", NamespaceArgs(name="team"))
        base = dict(
            namespace=ns.name, image="ghcr.io/acme/web:2.0.0", port=8080, replicas=1, resources=RES
        )
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


@pytest.mark.parametrize("name", ["Web_App", "1web", "web-", "w" * 64])
def test_app_name_must_be_a_dns_1035_label(name):
    with pytest.raises(ValueError, match="DNS-1035"):
        testing.run(
            lambda: WebApp(
                name,
                WebAppArgs(namespace="n", image="a:1", port=80, replicas=1, resources=RES),
            )
        )


GUARDED = dict(
    replicas=3,
    metrics_port=9090,
    autoscaling=Autoscaling(max_replicas=10),
    disruption_budget=DisruptionPolicy(min_available=2),
    network_policy=NetworkAccess(),
    route=RouteSettings(hosts=("web.example.com", "www.example.com"), issuer="letsencrypt"),
    gateway=GatewayRef(name="team", namespace="envoy-gateway-system"),
    monitoring=Alerting(),
)


def test_guardrails_are_off_by_default():
    rec = testing.run(app_program())
    kinds = {r.type.split(":")[-1] for r in rec.resources}
    assert kinds.isdisjoint(
        {"HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "HTTPRoute"}
    )
    assert rec.one("kubernetes:apps/v1:Deployment").inputs["spec"]["replicas"] == 1
    assert rec.one("kubernetes:apps/v1:Deployment").ignore_changes == ()  # the program's count


def test_guardrails_are_wired_to_the_apps_own_objects():
    rec = testing.run(app_program(**GUARDED))
    deployment = rec.one("kubernetes:apps/v1:Deployment").inputs
    service = rec.one("kubernetes:core/v1:Service").inputs
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    # Created with the HPA's floor (so `up` waits for that many ready pods), then the HPA's:
    # the engine keeps the field out of later applies.
    assert deployment["spec"]["replicas"] == 3
    assert rec.one("kubernetes:apps/v1:Deployment").ignore_changes == ("spec.replicas",)
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
    assert hpa["minReplicas"] == 3, "replicas is the HPA's floor"
    routes = {
        r.inputs["metadata"]["name"]: r.inputs["spec"]
        for r in rec.by_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute")
    }
    (rule,) = routes["web"]["rules"]
    assert rule["backendRefs"] == [
        {"kind": "Service", "name": service["metadata"]["name"], "port": 80}
    ]
    assert routes["web"]["hostnames"] == ["web.example.com", "www.example.com"]
    assert {p["sectionName"] for p in routes["web-redirect"]["parentRefs"]} == {
        "http-web.example.com",
        "http-www.example.com",
    }
    monitor = rec.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor").inputs["spec"]
    assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert {p["name"] for p in service["spec"]["ports"]} >= {monitor["endpoints"][0]["port"]}
    app = rec.one("webplatform:app:WebApp")
    assert {r.type for r in rec.children(app)} >= {
        "webplatform:autoscaling:Autoscaler",
        "webplatform:disruption:DisruptionBudget",
        "webplatform:network_policy:AppNetworkPolicy",
        "webplatform:route:PublicRoute",
        "webplatform:monitoring:Monitoring",
    }
    assert app.outputs["public_url"] == "https://web.example.com/"


SPEC = {
    "image": "ghcr.io/acme/web:1.0.0",
    "port": 8080,
    "replicas": 2,
    "resources": {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "200m", "memory": "256Mi"},
    },
}


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        ({"image": None}, "image", "required with strategy rolling"),
        ({"replicas": 0}, "replicas", "greater than or equal to 1"),
        ({"replicas": True}, "replicas", "valid integer"),
        ({"replicas": "3"}, "replicas", "valid integer"),
        ({"replicas": 3.0}, "replicas", "valid integer"),
        ({"port": "8080"}, "port", "valid integer"),
        ({"metricsPort": 8080}, "metricsPort", "must differ from port"),
        ({"metricsPort": 9090, "servicePort": 9090}, "servicePort", "must differ from metricsPort"),
        ({"servicePort": 0}, "servicePort", "greater than or equal to 1"),
        ({"env": {"1BAD": "x"}}, "env.1BAD.[key]", "pattern"),
        ({"env": {"PORT": 8080}}, "env.PORT", "valid string"),
        ({"env": {"DATE": "2024-01-31", "ON": False}}, "env.ON", "valid string"),
        ({"autoscaling": {"maxReplicas": 1}}, "autoscaling.maxReplicas", "below replicas"),
        (
            {"disruptionBudget": {"minAvailable": 2}},
            "disruptionBudget.minAvailable",
            "would keep all 2",
        ),
        (
            {"disruptionBudget": {"minAvailable": "100%"}},
            "disruptionBudget.minAvailable",
            "would keep all 2",
        ),
        (
            {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}},
            "rollingUpdate.maxSurge",
            "cannot both be 0",
        ),
        ({"route": {"hosts": [], "issuer": "letsencrypt"}}, "route.hosts", "at least 1 item"),
        (
            {"route": {"hosts": ["Web.Example.com"], "issuer": "letsencrypt"}},
            "route.hosts.0",
            "pattern",
        ),
        ({"route": {"hosts": ["web"], "issuer": "letsencrypt"}}, "route.hosts.0", "pattern"),
        (
            {"route": {"hosts": ["web.example.com."], "issuer": "letsencrypt"}},
            "route.hosts.0",
            "pattern",
        ),
        (
            {"route": {"hosts": ["*.example.com"], "issuer": "letsencrypt"}},
            "route.hosts.0",
            "pattern",
        ),
        (
            {"route": {"hosts": ["a.example.com", "a.example.com"], "issuer": "le"}},
            "route.hosts",
            "once",
        ),
        ({"route": {"hosts": ["a.example.com"]}}, "route.issuer", "Field required"),
        (
            {"route": {"hosts": ["a.example.com"], "issuer": "Lets_Encrypt"}},
            "route.issuer",
            "pattern",
        ),
        (
            {"route": {"hosts": ["a.example.com"], "issuer": "le", "issuerKind": "Cluster"}},
            "route.issuerKind",
            "'ClusterIssuer' or 'Issuer'",
        ),
        (
            {"route": {"hosts": ["a.example.com"], "issuer": "le", "path": "api"}},
            "route.path",
            "pattern",
        ),
        (
            {"route": {"hosts": ["a.example.com"], "issuer": "le", "rateLimit": {"requests": 0}}},
            "route.rateLimit.requests",
            "greater than or equal to 1",
        ),
        (
            {
                "route": {
                    "hosts": ["a.example.com"],
                    "issuer": "le",
                    "rateLimit": {"requests": 5, "unit": "Day"},
                }
            },
            "route.rateLimit.unit",
            "'Second', 'Minute' or 'Hour'",
        ),
        (
            {"route": {"hosts": ["a.example.com"], "issuer": "le", "hstsMaxAgeSeconds": -1}},
            "route.hstsMaxAgeSeconds",
            "greater than or equal to 0",
        ),
        (
            {"route": {"hosts": ["a.example.com"], "issuer": "le", "frameOptions": "ALLOW"}},
            "route.frameOptions",
            "'DENY' or 'SAMEORIGIN'",
        ),
        (
            {"route": {"hosts": ["a.example.com"], "host": "a.example.com", "issuer": "le"}},
            "route.host",
            "Extra inputs",
        ),
        ({"ingress": {"host": "a.example.com", "issuer": "le"}}, "ingress", "Extra inputs"),
        (
            {"networkPolicy": {"ingressControllerNamespace": "ingress-nginx"}},
            "networkPolicy.ingressControllerNamespace",
            "Extra inputs",
        ),
        ({"service_port": 80}, "service_port", "Extra inputs"),
        ({"monitoring": {"restarts": 0}}, "monitoring.restarts", "greater than or equal to 1"),
    ],
)
def test_bad_app_settings_name_the_key(overrides, path, message):
    data = {k: v for k, v in {**SPEC, **overrides}.items() if v is not None}
    rejects(WebAppSpec, data, path, message)


def test_the_stack_file_spelling_is_refused_from_python_only_where_it_differs():
    spec = WebAppSpec(image="ghcr.io/acme/web:1.0.0", port=8080, replicas=1, resources=RES)
    assert spec.service_port == 80 and spec.strategy == "rolling"


def test_a_route_needs_the_gateway_and_the_policy_must_admit_it():
    base = dict(namespace="n", image="a:1", port=80, replicas=1, resources=RES)
    route = RouteSettings(hosts=("a.example.com",), issuer="le")
    with pytest.raises(ValueError, match="required with route"):
        WebAppArgs(**base, route=route)
    with pytest.raises(ValueError, match="must be envoy-gateway-system, where the Gateway runs"):
        WebAppArgs(
            **base,
            route=route,
            gateway=GatewayRef(name="g", namespace="envoy-gateway-system"),
            network_policy=NetworkAccess(gateway_namespace="ingress-nginx"),
        )
    with pytest.raises(ValueError, match=r"\['A'\] are also in env"):
        WebAppArgs(**base, env={"A": "1"}, secret_env={"A": "2"})


def test_object_names_list_every_object_by_kind():
    spec = WebAppSpec.model_validate(
        {
            **SPEC,
            "metricsPort": 9090,
            "autoscaling": {"maxReplicas": 4},
            "disruptionBudget": {},
            "networkPolicy": {},
            "monitoring": {},
            "route": {"hosts": ["a.example.com"], "issuer": "le"},
        },
        by_name=False,
    )
    assert spec.object_names("web") == {
        "ConfigMap": ["web-config"],
        "Deployment": ["web"],
        "Service": ["web"],
        "ServiceAccount": ["web"],
        "HorizontalPodAutoscaler": ["web"],
        "PodDisruptionBudget": ["web"],
        "NetworkPolicy": ["web"],
        "PrometheusRule": ["web"],
        "ServiceMonitor": ["web"],
        "HTTPRoute": ["web", "web-redirect"],
        "BackendTrafficPolicy": ["web"],
    }
    with_secret = WebAppArgs(
        **spec.model_dump(),
        namespace="n",
        secret_env={"A": "x"},
        gateway=GatewayRef(name="g", namespace="envoy-gateway-system"),
    )
    assert with_secret.object_names("web")["Secret"] == ["web-secrets"]
    spec.check_names("w" * 54)
    with pytest.raises(
        ValueError, match=r"HTTPRoute 'w{55}-redirect' .64 characters.*at most 54 characters"
    ):
        spec.check_names("w" * 55)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"replicas": 2, "autoscaling": Autoscaling(max_replicas=10)}, "would keep all 2 pod"),
        ({"replicas": 2}, "would keep all 2 pod"),
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
