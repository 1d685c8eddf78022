"""Cluster add-ons: pinned Helm releases, namespaces with Pod Security, GatewayClass, ClusterIssuer."""

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pydantic import ValidationError

from webplatform import testing
from webplatform.cluster.addons import (
    ENVOY_GATEWAY_CHART,
    GATEWAY_API_PLUGIN_VERSION,
    GATEWAY_CLASS,
    GATEWAY_NAMESPACE,
    LETSENCRYPT_STAGING,
    ClusterAddons,
    ClusterAddonsArgs,
    ClusterIssuerArgs,
    HelmChart,
)

ISSUER = {"email": "platform@example.com", "server": LETSENCRYPT_STAGING}
BASE = {
    "envoy_gateway": {"version": "v1.9.1"},
    "cert_manager": {"version": "v1.21.2", "issuer": ISSUER},
}
RELEASE = "kubernetes:helm.sh/v3:Release"


def build(**overrides):
    def program():
        provider = k8s.Provider("k8s", context="test")
        ClusterAddons(
            "addons",
            ClusterAddonsArgs(**{**BASE, **overrides}),
            opts=pulumi.ResourceOptions(provider=provider),
        )

    return testing.run(program, stack="test")


@pytest.fixture(scope="module")
def rec():
    return build()


def releases(rec):
    return {r.inputs["name"]: r for r in rec.by_type(RELEASE)}


def test_each_chart_is_pinned_from_its_source_and_ingress_nginx_is_gone(rec):
    found = {
        name: (r.inputs["chart"], r.inputs["version"], (r.inputs.get("repositoryOpts") or {}))
        for name, r in releases(rec).items()
    }
    assert found == {
        # An OCI chart: no repository, the reference is the chart.
        "envoy-gateway": ("oci://docker.io/envoyproxy/gateway-helm", "v1.9.1", {}),
        "cert-manager": ("cert-manager", "v1.21.2", {"repo": "https://charts.jetstack.io"}),
    }
    assert ENVOY_GATEWAY_CHART == "oci://docker.io/envoyproxy/gateway-helm"
    for release in releases(rec).values():
        assert release.inputs["atomic"] is True and release.inputs["cleanupOnFail"] is True
    assert not [r for r in rec.resources if "ingress" in r.name]


def test_namespaces_enforce_pod_security(rec):
    namespaces = {
        n.inputs["metadata"]["name"]: n.inputs["metadata"]["labels"]
        for n in rec.by_type("kubernetes:core/v1:Namespace")
    }
    assert set(namespaces) == {GATEWAY_NAMESPACE, "cert-manager"}
    assert namespaces["cert-manager"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert namespaces[GATEWAY_NAMESPACE]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert namespaces[GATEWAY_NAMESPACE]["pod-security.kubernetes.io/warn"] == "restricted"


def test_cert_manager_has_gateway_api_support_on_and_starts_after_the_gateway_crds(rec):
    values = releases(rec)["cert-manager"].inputs["values"]
    assert values["crds"] == {"enabled": True, "keep": True}
    assert values["config"] == {
        "apiVersion": "controller.config.cert-manager.io/v1alpha1",
        "kind": "ControllerConfiguration",
        "gatewayAPI": {"enabled": True},
    }
    # The Gateway API CRDs come with Envoy Gateway's chart; cert-manager reads them at start.
    assert releases(rec)["envoy-gateway"].urn in releases(rec)["cert-manager"].dependencies


def test_envoy_gateway_runs_two_controllers_and_its_gateway_class_follows_it(rec):
    values = releases(rec)["envoy-gateway"].inputs["values"]
    assert values == {
        "crds": {"enabled": True},  # the Gateway API CRDs come with the chart
        "deployment": {"replicas": 2},
        "podDisruptionBudget": {"minAvailable": 1},
    }
    single = releases(build(gateway_controller_replicas=1))["envoy-gateway"]
    # One replica: a budget of 1 would block every drain.
    assert single.inputs["values"]["podDisruptionBudget"] == {"minAvailable": 0}
    gateway_class = rec.one("kubernetes:gateway.networking.k8s.io/v1:GatewayClass")
    assert gateway_class.inputs["metadata"]["name"] == GATEWAY_CLASS
    assert gateway_class.inputs["spec"] == {
        "controllerName": "gateway.envoyproxy.io/gatewayclass-controller"
    }
    assert releases(rec)["envoy-gateway"].urn in gateway_class.dependencies
    component = rec.one("webplatform:cluster_addons:ClusterAddons")
    assert component.outputs["gateway_class_name"] == GATEWAY_CLASS


def test_cluster_issuer_answers_http01_through_the_stacks_gateway(rec):
    issuer = rec.one("kubernetes:cert-manager.io/v1:ClusterIssuer")
    assert issuer.inputs["metadata"]["name"] == "letsencrypt"
    acme = issuer.inputs["spec"]["acme"]
    assert acme["email"] == "platform@example.com"
    assert acme["server"] == LETSENCRYPT_STAGING
    assert acme["solvers"] == [
        {
            "http01": {
                "gatewayHTTPRoute": {
                    "parentRefs": [
                        {
                            "group": "gateway.networking.k8s.io",
                            "kind": "Gateway",
                            "name": "public",
                            "namespace": GATEWAY_NAMESPACE,
                        }
                    ]
                }
            }
        }
    ]
    assert releases(rec)["cert-manager"].urn in issuer.dependencies


def test_every_object_uses_the_given_provider_and_is_parented(rec):
    provider = rec.one("pulumi:providers:kubernetes")
    for r in rec.resources:
        if r.custom and r.type.startswith("kubernetes:"):
            assert r.provider.startswith(provider.urn + "::"), r.urn
        if r.type not in (
            "pulumi:providers:kubernetes",
            "webplatform:cluster_addons:ClusterAddons",
        ):
            assert "webplatform:cluster_addons:ClusterAddons$" in r.urn, r.urn


def test_metrics_server_chart_only_when_asked_for(rec):
    assert "metrics-server" not in releases(rec)
    chart = releases(build(metrics_server={"version": "3.13.1"}))["metrics-server"]
    assert (chart.inputs["chart"], chart.inputs["version"]) == ("metrics-server", "3.13.1")
    assert chart.inputs["namespace"] == "kube-system"


def test_argo_rollouts_only_when_asked_for_with_the_gateway_api_plugin(rec):
    assert "argo-rollouts" not in releases(rec)
    digest = "ab" * 32  # a test value: the real one comes from the plugin's release
    with_argo = build(argo_rollouts={"enabled": True, "version": "2.41.0", "plugin_sha256": digest})
    argo = releases(with_argo)["argo-rollouts"]
    assert (argo.inputs["chart"], argo.inputs["version"]) == ("argo-rollouts", "2.41.0")
    assert argo.inputs["namespace"] == "argo-rollouts"
    values = argo.inputs["values"]
    (plugin,) = values["controller"]["trafficRouterPlugins"]
    assert plugin["name"] == "argoproj-labs/gatewayAPI"
    assert f"/download/{GATEWAY_API_PLUGIN_VERSION}/" in plugin["location"]
    assert plugin["sha256"] == digest  # the controller refuses any other binary
    assert values["providerRBAC"]["providers"] == {"gatewayAPI": True}
    assert releases(with_argo)["cert-manager"].urn in argo.dependencies


def test_extra_charts_install_after_cert_manager():
    extra = HelmChart(
        name="external-secrets",
        chart="external-secrets",
        repo="https://charts.external-secrets.io",
        version="2.10.0",
        namespace="external-secrets",
    )
    rec = build(extra_charts=[extra])
    release = releases(rec)["external-secrets"]
    assert releases(rec)["cert-manager"].urn in release.dependencies
    namespace = rec.one("kubernetes:core/v1:Namespace", "addons-external-secrets-namespace")
    assert (
        namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    )


def located(raised) -> tuple[tuple, str]:
    error = raised.value.errors()[0]
    ctx = (error.get("ctx") or {}).get("error")
    loc = tuple(error["loc"]) + tuple(getattr(ctx, "loc", ()))
    return loc, (str(ctx) if ctx is not None else error["msg"])


@pytest.mark.parametrize(
    ("overrides", "where", "message"),
    [
        (
            {"envoy_gateway": {"version": "1.x"}},
            ("envoy_gateway", "version"),
            "exact chart version",
        ),
        ({"envoy_gateway": {"version": 1.9}}, ("envoy_gateway", "version"), "valid string"),
        ({"envoy_gateway": None}, ("envoy_gateway",), "valid dictionary"),
        (
            {"cert_manager": {"version": "^1.21", "issuer": ISSUER}},
            ("cert_manager", "version"),
            "exact chart version",
        ),
        (
            {"cert_manager": {"version": "v1.21.2"}},
            ("cert_manager", "issuer"),
            "Field required",
        ),
        (
            {"argo_rollouts": {"enabled": True}},
            ("argo_rollouts", "version"),
            "required when enabled is true",
        ),
        (
            {"argo_rollouts": {"enabled": True, "version": "2.41.0"}},
            ("argo_rollouts", "plugin_sha256"),
            "without a checksum any binary is run",
        ),
        (
            {"argo_rollouts": {"enabled": True, "version": "2.41.0", "plugin_sha256": "abc"}},
            ("argo_rollouts", "plugin_sha256"),
            "should match pattern",
        ),
        (
            {"argo_rollouts": {"enabled": "yes", "version": "2.41.0"}},
            ("argo_rollouts", "enabled"),
            "valid boolean",
        ),
        ({"gateway_controller_replicas": 0}, ("gateway_controller_replicas",), "greater than"),
        ({"ingress_nginx": {"version": "4.12.1"}}, ("ingress_nginx",), "Extra inputs"),
        (
            {
                "extra_charts": [
                    {
                        "name": "cert-manager",
                        "chart": "x",
                        "repo": "https://x",
                        "version": "1.0.0",
                        "namespace": "x",
                    }
                ]
            },
            ("extra_charts",),
            "['cert-manager'] are used twice",
        ),
    ],
)
def test_bad_args(overrides, where, message):
    with pytest.raises(ValidationError) as raised:
        ClusterAddonsArgs(**{**BASE, **overrides})
    loc, text = located(raised)
    assert loc == where
    assert message in text


@pytest.mark.parametrize(
    ("kwargs", "where", "message"),
    [
        ({"email": "nobody"}, ("email",), "not an email address"),
        ({"email": "a@b.io", "server": "http://acme"}, ("server",), "must be an https:// URL"),
        ({"email": "a@b.io", "gateway_name": "Public"}, ("gateway_name",), "DNS label"),
        ({"email": "a@b.io", "name": "le_prod"}, ("name",), "DNS label"),
    ],
)
def test_bad_issuer(kwargs, where, message):
    with pytest.raises(ValidationError) as raised:
        ClusterIssuerArgs(**kwargs)
    loc, text = located(raised)
    assert loc == where and message in text


@pytest.mark.parametrize(
    ("kwargs", "where", "message"),
    [
        ({"repo": "http://charts"}, ("repo",), "must be an https:// URL"),
        ({"repo": None}, ("repo",), "oci:// chart reference"),
        ({"chart": "oci://r/c", "repo": "https://charts"}, ("repo",), "oci:// chart reference"),
        ({"name": "x" * 54}, ("name",), "at most 53 characters"),
        ({"version": "latest"}, ("version",), "exact chart version"),
    ],
)
def test_bad_chart(kwargs, where, message):
    values = {
        "name": "x",
        "chart": "x",
        "repo": "https://charts",
        "version": "1.0.0",
        "namespace": "x",
    }
    with pytest.raises(ValidationError) as raised:
        HelmChart(**{**values, **kwargs})
    loc, text = located(raised)
    assert loc == where and message in text


def test_stack_file_shape_is_accepted_by_alias():
    args = ClusterAddonsArgs.model_validate(
        {
            "envoyGateway": {"version": "v1.9.1"},
            "certManager": {"version": "v1.21.2", "issuer": {"email": "a@b.io"}},
            "argoRollouts": {"enabled": False, "version": "2.41.0"},
        },
        by_name=False,
    )
    assert args.cert_manager.issuer.gateway_name == "public"
    assert args.metrics_server is None
