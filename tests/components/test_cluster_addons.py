"""Cluster add-ons: pinned Helm releases, namespaces with Pod Security, the ClusterIssuer."""

import re

import pulumi
import pulumi_kubernetes as k8s
import pytest

from webplatform import testing
from webplatform.cluster.addons import (
    LETSENCRYPT_STAGING,
    ClusterAddons,
    ClusterAddonsArgs,
    ClusterIssuerArgs,
    HelmChart,
)

VERSIONS = {
    "ingress_nginx_version": "4.12.1",
    "cert_manager_version": "v1.17.2",
    "metrics_server_version": "3.12.2",
}
ISSUER = ClusterIssuerArgs(email="platform@example.com", server=LETSENCRYPT_STAGING)
RELEASE = "kubernetes:helm.sh/v3:Release"


def build(**overrides):
    def program():
        provider = k8s.Provider("k8s", context="test")
        ClusterAddons(
            "addons",
            ClusterAddonsArgs(**{**VERSIONS, "cluster_issuer": ISSUER, **overrides}),
            opts=pulumi.ResourceOptions(provider=provider),
        )

    return testing.run(program, stack="test")


@pytest.fixture(scope="module")
def rec():
    return build()


def releases(rec):
    return {r.inputs["name"]: r for r in rec.by_type(RELEASE)}


def test_each_chart_is_pinned_from_its_repository(rec):
    found = {
        name: (r.inputs["chart"], r.inputs["version"], r.inputs["repositoryOpts"]["repo"])
        for name, r in releases(rec).items()
    }
    assert found == {
        "ingress-nginx": ("ingress-nginx", "4.12.1", "https://kubernetes.github.io/ingress-nginx"),
        "cert-manager": ("cert-manager", "v1.17.2", "https://charts.jetstack.io"),
        "metrics-server": (
            "metrics-server",
            "3.12.2",
            "https://kubernetes-sigs.github.io/metrics-server",
        ),
    }
    for release in releases(rec).values():
        assert release.inputs["atomic"] is True and release.inputs["cleanupOnFail"] is True


def test_namespaces_enforce_pod_security(rec):
    namespaces = {
        n.inputs["metadata"]["name"]: n.inputs["metadata"]["labels"]
        for n in rec.by_type("kubernetes:core/v1:Namespace")
    }
    assert set(namespaces) == {"ingress-nginx", "cert-manager"}
    assert namespaces["cert-manager"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert namespaces["ingress-nginx"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert namespaces["ingress-nginx"]["pod-security.kubernetes.io/warn"] == "restricted"
    assert releases(rec)["metrics-server"].inputs["namespace"] == "kube-system"
    assert releases(rec)["cert-manager"].inputs["namespace"] == "cert-manager"


def test_ingress_nginx_values_lock_snippets_and_use_an_nlb(rec):
    controller = releases(rec)["ingress-nginx"].inputs["values"]["controller"]
    assert controller["allowSnippetAnnotations"] is False
    assert controller["replicaCount"] == 2
    annotations = controller["service"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb"
    assert releases(rec)["cert-manager"].inputs["values"]["crds"]["enabled"] is True


def test_cluster_issuer_from_the_args_waits_for_cert_manager(rec):
    issuer = rec.one("kubernetes:cert-manager.io/v1:ClusterIssuer")
    assert issuer.inputs["metadata"]["name"] == "letsencrypt"
    acme = issuer.inputs["spec"]["acme"]
    assert acme["email"] == "platform@example.com"
    assert acme["server"] == LETSENCRYPT_STAGING
    assert acme["solvers"] == [{"http01": {"ingress": {"ingressClassName": "nginx"}}}]
    assert releases(rec)["cert-manager"].urn in issuer.dependencies


def test_every_object_uses_the_given_provider_and_is_parented(rec):
    provider = rec.one("pulumi:providers:kubernetes")
    for r in rec.resources:
        if r.custom and r.type.startswith("kubernetes:"):
            assert r.provider.startswith(provider.urn + "::"), r.urn
        if (
            r.type != "pulumi:providers:kubernetes"
            and r.type != "webplatform:cluster_addons:ClusterAddons"
        ):
            assert "webplatform:cluster_addons:ClusterAddons$" in r.urn, r.urn


def test_argo_rollouts_only_when_asked_for(rec):
    assert "argo-rollouts" not in releases(rec)
    with_argo = build(argo_rollouts=True, argo_rollouts_version="2.39.5")
    argo = releases(with_argo)["argo-rollouts"]
    assert (argo.inputs["chart"], argo.inputs["version"]) == ("argo-rollouts", "2.39.5")
    assert argo.inputs["namespace"] == "argo-rollouts"


def test_extra_charts_install_after_cert_manager():
    extra = HelmChart(
        name="external-secrets",
        chart="external-secrets",
        repo="https://charts.external-secrets.io",
        version="0.14.3",
        namespace="external-secrets",
    )
    rec = build(extra_charts=[extra])
    release = releases(rec)["external-secrets"]
    assert releases(rec)["cert-manager"].urn in release.dependencies
    namespace = rec.one("kubernetes:core/v1:Namespace", "addons-external-secrets-namespace")
    assert (
        namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"ingress_nginx_version": "4.x"},
            "ingress_nginx_version='4.x': must be an exact chart version",
        ),
        ({"cert_manager_version": "^1.17"}, "must be an exact chart version"),
        (
            {"argo_rollouts": True},
            "argo_rollouts_version=None: required when argo_rollouts is true",
        ),
        ({"ingress_replicas": 0}, "ingress_replicas=0"),
        (
            {
                "extra_charts": [
                    HelmChart(
                        name="cert-manager",
                        chart="x",
                        repo="https://x",
                        version="1.0.0",
                        namespace="x",
                    )
                ]
            },
            "['cert-manager'] are used twice",
        ),
    ],
)
def test_bad_args(overrides, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ClusterAddonsArgs(**{**VERSIONS, "cluster_issuer": ISSUER, **overrides})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"email": "nobody"}, "email='nobody': not an email address"),
        ({"email": "a@b.io", "server": "http://acme"}, "starts with https://"),
    ],
)
def test_bad_issuer(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ClusterIssuerArgs(**kwargs)


def test_chart_repo_must_be_https():
    with pytest.raises(ValueError, match=re.escape("repo='http://charts': must be an https://")):
        HelmChart(name="x", chart="x", repo="http://charts", version="1.0.0", namespace="x")
