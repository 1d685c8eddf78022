"""Staging and prod create their EKS cluster (under mocks); dev creates and imports nothing of AWS."""

import json
import subprocess
import sys

import pytest

from infra import synth
from tests.conftest import ROOT, load_stack_file

EKS_STACKS = {
    "staging": "webplatform-staging",
    "uat": "webplatform-uat",
    "prod": "webplatform-production",
}


@pytest.fixture(scope="module")
def synths():
    return {stack: synth.synthesize(stack) for stack in ("dev", *EKS_STACKS)}


def test_dev_registers_no_aws_resource_and_never_imports_the_aws_sdk(synths):
    assert not [r for r in synths["dev"].recording.resources if r.type.startswith("aws:")]
    script = (
        "import sys\n"
        "from infra import synth\n"
        "rec = synth.synthesize('dev').recording\n"
        "assert rec.by_type('kubernetes:apps/v1:Deployment'), 'dev ran'\n"
        "print(sorted(m for m in sys.modules if m.startswith('pulumi_aws')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("stack", EKS_STACKS)
def test_eks_stacks_hold_vpc_cluster_nodes_addons_and_the_apps(synths, stack):
    types = {r.type for r in synths[stack].recording.resources}
    assert {
        "aws:ec2/vpc:Vpc",
        "aws:eks/cluster:Cluster",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:eks/addon:Addon",
        "aws:kms/key:Key",
        "kubernetes:helm.sh/v3:Release",
        "kubernetes:cert-manager.io/v1:ClusterIssuer",
        "kubernetes:apps/v1:Deployment",
    } <= types


@pytest.mark.parametrize("stack", EKS_STACKS)
def test_cluster_named_per_environment_at_the_stack_version(synths, stack):
    rec = synths[stack].recording
    cluster = rec.one("aws:eks/cluster:Cluster")
    assert cluster.inputs["name"] == EKS_STACKS[stack]
    assert cluster.inputs["version"] == "1.33"
    assert cluster.urn.endswith(f"::{EKS_STACKS[stack]}-cluster")
    outputs = rec.stack_outputs
    assert outputs["cluster"]["name"] == EKS_STACKS[stack]
    assert ".us-west-2.eks.amazonaws.com" in outputs["cluster"]["endpoint"]
    assert "kubeconfig" in rec.secret_outputs
    assert synths[stack].resources()["outputs"]["kubeconfig"] == "[secret]"


@pytest.mark.parametrize("stack", EKS_STACKS)
def test_endpoint_limited_to_the_stack_cidrs(synths, stack):
    vpc_config = synths[stack].recording.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]
    cidrs = load_stack_file(stack)["config"]["webplatform:cluster"]["endpoint"]
    assert vpc_config["endpointPrivateAccess"] is True
    assert vpc_config["publicAccessCidrs"] == cidrs["publicAccessCidrs"]
    assert "0.0.0.0/0" not in vpc_config["publicAccessCidrs"]


@pytest.mark.parametrize(("stack", "zones", "nats"), [("staging", 2, 1), ("prod", 3, 3)])
def test_zones_and_nat_gateways_come_from_the_stack_file(synths, stack, zones, nats):
    rec = synths[stack].recording
    private = [r for r in rec.by_type("aws:ec2/subnet:Subnet") if "-private-" in r.name]
    assert len(private) == zones
    assert len(rec.by_type("aws:ec2/natGateway:NatGateway")) == nats
    nodes = rec.one("aws:eks/nodeGroup:NodeGroup")
    assert sorted(nodes.inputs["subnetIds"]) == sorted(f"{s.name}-id" for s in private)


def test_prod_protects_vpc_cluster_and_key_and_staging_nothing(synths):
    protected = sorted(r.type for r in synths["prod"].recording.resources if r.protect)
    assert protected == ["aws:ec2/vpc:Vpc", "aws:eks/cluster:Cluster", "aws:kms/key:Key"]
    assert synths["prod"].recording.one("aws:eks/cluster:Cluster").inputs["deletionProtection"]
    assert not [r.urn for r in synths["staging"].recording.resources if r.protect]


@pytest.mark.parametrize("stack", EKS_STACKS)
def test_apps_wait_for_nodes_through_the_provider(synths, stack):
    rec = synths[stack].recording
    provider = rec.one("pulumi:providers:kubernetes")
    assert rec.one("aws:eks/nodeGroup:NodeGroup").urn in provider.dependencies
    deployments = rec.by_type("kubernetes:apps/v1:Deployment")
    assert deployments
    for deployment in deployments:
        assert deployment.provider.startswith(provider.urn + "::")
    for release in rec.by_type("kubernetes:helm.sh/v3:Release"):
        assert release.provider.startswith(provider.urn + "::")
    # and the apps wait for the add-ons (ingress controller, issuer, metrics server)
    # (a dependency on a component is a dependency on each of its children)
    app = rec.one("webplatform:app:WebApp")
    releases = [
        r for r in rec.by_type("kubernetes:helm.sh/v3:Release") if "ClusterAddons$" in r.urn
    ]
    assert releases and all(r.urn in app.dependencies for r in releases)


@pytest.mark.parametrize("stack", EKS_STACKS)
def test_addon_versions_and_issuer_come_from_the_stack_file(synths, stack):
    addons = load_stack_file(stack)["config"]["webplatform:cluster"]["addons"]
    rec = synths[stack].recording
    versions = {
        r.inputs["name"]: r.inputs["version"]
        for r in rec.by_type("kubernetes:helm.sh/v3:Release")
        if "ClusterAddons$" in r.urn
    }
    assert versions == {
        "ingress-nginx": addons["ingressNginx"]["version"],
        "cert-manager": addons["certManager"]["version"],
        "metrics-server": addons["metricsServer"]["version"],
    }
    acme = rec.one("kubernetes:cert-manager.io/v1:ClusterIssuer").inputs["spec"]["acme"]
    assert acme["server"] == addons["certManager"]["issuer"]["server"]


def test_argo_rollouts_flag_in_the_stack_file_installs_the_controller(write_stack):
    document = load_stack_file("staging")
    document["config"]["webplatform:cluster"]["addons"]["argoRollouts"]["enabled"] = True
    rec = synth.synthesize("staging", write_stack("staging", document)).recording
    names = {r.inputs["name"] for r in rec.by_type("kubernetes:helm.sh/v3:Release")}
    assert "argo-rollouts" in names


def test_open_endpoint_in_prod_only_with_the_explicit_flag(write_stack):
    document = load_stack_file("prod")
    endpoint = document["config"]["webplatform:cluster"]["endpoint"]
    endpoint.update(publicAccessCidrs=["0.0.0.0/0"], allowOpenToInternet=True)
    rec = synth.synthesize("prod", write_stack("prod", document)).recording
    assert rec.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]["publicAccessCidrs"] == [
        "0.0.0.0/0"
    ]


def test_kubeconfig_never_reaches_the_synth_files_in_clear(synths, tmp_path):
    _, resources = synth.write(synths["staging"], tmp_path)
    document = json.loads(resources.read_text())
    provider = next(r for r in document["resources"] if r["type"] == "pulumi:providers:kubernetes")
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    assert "get-token" not in resources.read_text()
