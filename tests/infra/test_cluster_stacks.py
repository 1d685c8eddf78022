"""Staging and prod create their EKS cluster (under mocks); dev creates and imports nothing of AWS."""

import datetime
import json

import pytest

from infra import synth
from tests.conftest import load_stack_file, synthesized
from webplatform.cluster._checks import EKS_STANDARD_SUPPORT_ENDS

EKS_STACKS = {
    "staging": "webplatform-staging",
    "uat": "webplatform-uat",
    "prod": "webplatform-production",
}


@pytest.fixture(scope="module")
def synths():
    return {stack: synthesized(stack) for stack in ("dev", *EKS_STACKS)}


def test_dev_registers_no_aws_resource_and_never_imports_the_aws_sdk(synths, sdk_imports):
    assert not [r for r in synths["dev"].recording.resources if r.type.startswith("aws:")]
    assert not [m for m in sdk_imports["dev"] if m.startswith("pulumi_aws")]


@pytest.mark.parametrize("stack", EKS_STACKS)
def test_eks_stacks_hold_vpc_cluster_nodes_addons_and_the_apps(synths, stack):
    types = {r.type for r in synths[stack].recording.resources}
    assert {
        "aws:ec2/vpc:Vpc",
        "aws:eks/cluster:Cluster",
        "kubernetes:karpenter.sh/v1:NodePool",
        "kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
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
    assert cluster.inputs["version"] == "1.35"
    assert cluster.inputs["upgradePolicy"] == {"supportType": "STANDARD"}
    assert cluster.inputs["computeConfig"]["enabled"] is True
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
    cluster = rec.one("aws:eks/cluster:Cluster")
    # Auto Mode starts nodes in the cluster's subnets: the private ones only.
    assert sorted(cluster.inputs["vpcConfig"]["subnetIds"]) == sorted(
        f"{s.name}-id" for s in private
    )


STATEFUL = (
    "aws:ec2/vpc:Vpc",
    "aws:eks/cluster:Cluster",
    "aws:kms/key:Key",
    "aws:secretsmanager/secret:Secret",
    "aws:cloudwatch/logGroup:LogGroup",
)


def test_prod_protects_every_stateful_resource_from_one_setting_and_staging_nothing(synths):
    rec = synths["prod"].recording
    stateful = [r for r in rec.resources if r.type in STATEFUL]
    assert {r.type for r in stateful} == set(STATEFUL)
    assert [r.urn for r in stateful if not r.protect] == []
    # Nothing else: node pools, add-ons, roles stay replaceable.
    assert {r.type for r in rec.resources if r.protect} == set(STATEFUL)
    assert rec.one("aws:eks/cluster:Cluster").inputs["deletionProtection"]
    # The app's KMS keys (its region's and its replica region's) and the EKS key: every key
    # is protected, not only the cluster's.
    assert len([r for r in stateful if r.type == "aws:kms/key:Key"]) == 3
    assert not [r.urn for r in synths["staging"].recording.resources if r.protect]


def test_protect_is_one_setting_turning_it_off_unprotects_everything(write_stack):
    document = load_stack_file("prod")
    document["config"]["webplatform:cluster"]["protect"] = False
    rec = synth.synthesize("prod", write_stack("prod", document)).recording
    assert not [r.urn for r in rec.resources if r.protect]


@pytest.mark.parametrize("stack", EKS_STACKS)
def test_addons_wait_for_the_node_pool_and_apps_for_the_addons(synths, stack):
    rec = synths[stack].recording
    provider = rec.one("pulumi:providers:kubernetes")
    assert rec.one("aws:eks/cluster:Cluster").urn in provider.dependencies
    pool = rec.one("kubernetes:karpenter.sh/v1:NodePool")
    assert pool.provider.startswith(provider.urn + "::")
    addons = rec.one("webplatform:cluster_addons:ClusterAddons")
    assert pool.urn in addons.dependencies  # add-on pods need nodes
    deployments = rec.by_type("kubernetes:apps/v1:Deployment")
    assert deployments
    for deployment in deployments:
        assert deployment.provider.startswith(provider.urn + "::")
    for release in rec.by_type("kubernetes:helm.sh/v3:Release"):
        assert release.provider.startswith(provider.urn + "::")
    # and the apps wait for the add-ons (Gateway API CRDs, issuer, Argo CRDs)
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
        "envoy-gateway": addons["envoyGateway"]["version"],
        "cert-manager": addons["certManager"]["version"],
    }
    assert versions["envoy-gateway"].startswith("v1.")
    assert not [r for r in rec.by_type("kubernetes:core/v1:Namespace") if "ingress-nginx" in r.urn]
    # metrics-server is the EKS managed add-on, at the newest version for the cluster's minor
    (addon,) = rec.by_type("aws:eks/addon:Addon")
    assert addon.inputs["addonName"] == "metrics-server"
    assert addon.inputs["addonVersion"].endswith("-eksbuild.35")
    acme = rec.one("kubernetes:cert-manager.io/v1:ClusterIssuer").inputs["spec"]["acme"]
    assert acme["server"] == addons["certManager"]["issuer"]["server"]


def test_argo_rollouts_flag_in_the_stack_file_installs_the_controller(write_stack):
    document = load_stack_file("staging")
    document["config"]["webplatform:cluster"]["addons"]["argoRollouts"]["enabled"] = True
    document["config"]["webplatform:cluster"]["addons"]["argoRollouts"]["pluginSha256"] = "ab" * 32
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


def past_standard_support(today: datetime.date) -> list[str]:
    """Stacks whose Kubernetes minor has left EKS standard support by ``today``."""
    found = []
    for stack in ("dev", *EKS_STACKS):
        version = load_stack_file(stack)["config"]["webplatform:kubernetes"]["version"]
        ends = EKS_STANDARD_SUPPORT_ENDS.get(version)
        if ends is None or today >= ends:
            found.append(
                f"Pulumi.{stack}.yaml: Kubernetes {version} (standard support ends {ends})"
            )
    return found


def test_each_stacks_kubernetes_minor_is_still_in_eks_standard_support():
    """Fails once a stack's minor is past its end of standard support (today, from the clock):
    then move the stack up a minor (and the table in webplatform.cluster._checks) before AWS
    bills extended support or, with upgradePolicy STANDARD, upgrades the cluster unasked."""
    assert past_standard_support(datetime.date.today()) == []


def test_the_support_check_fails_on_the_day_135_leaves_standard_support():
    assert EKS_STANDARD_SUPPORT_ENDS["1.33"] == datetime.date(2026, 7, 29)  # the date
    assert past_standard_support(datetime.date(2027, 3, 26)) == []
    assert len(past_standard_support(datetime.date(2027, 3, 27))) == 4  # every stack file, 1.35


@pytest.mark.parametrize("stack", EKS_STACKS)
def test_pod_identity_association_takes_the_clusters_output(synths, stack):
    rec = synths[stack].recording
    cluster = rec.one("aws:eks/cluster:Cluster")
    association = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.inputs["clusterName"] == EKS_STACKS[stack]
    # An output of the cluster, not a string from config: created after the cluster.
    assert association.property_dependencies["clusterName"] == (cluster.urn,)
    assert "webplatform:pod_identity:PodIdentity$" in association.urn
    release = next(
        r
        for r in rec.by_type("kubernetes:helm.sh/v3:Release")
        if r.inputs["name"] == "external-secrets"
    )
    # The operator's pods start only once the association exists (EKS injects credentials
    # into pods created after it).
    assert association.urn in release.dependencies


def test_a_stack_without_an_eks_minor_is_refused_naming_the_key(write_stack, capsys):
    document = load_stack_file("staging")
    document["config"]["webplatform:kubernetes"]["version"] = "1.36"
    code = synth.main(
        ["--stack", "staging", "--config-file", str(write_stack("staging", document))]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "webplatform:kubernetes.version: EKS offers 1.30, 1.31, 1.32, 1.33, 1.34, 1.35" in err
