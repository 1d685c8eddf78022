import pulumi
import pytest

from components import Namespace, NamespaceArgs, Resources, WebApp, WebAppArgs, testing

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
