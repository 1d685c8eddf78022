"""The EKS cluster's secure defaults, asserted on what it registers."""

import json
import re

import pulumi
import pytest

from webplatform import testing
from webplatform.cluster.eks import EksCluster, EksClusterArgs, NodeGroupArgs

ACCOUNT = "123456789012"
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/ci/webplatform-deploy"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/platform-admin"
SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]


def args(**overrides):
    values = {
        "cluster_name": "webplatform-test",
        "version": "1.33",
        "private_subnet_ids": SUBNETS,
        "deployer_role_arn": DEPLOYER,
        "admin_role_arns": [ADMIN],
        "node_group": NodeGroupArgs(
            instance_types=["m6i.large"], min_size=2, desired_size=3, max_size=5
        ),
    }
    values.update(overrides)
    return EksClusterArgs(**values)


def build(**overrides):
    def program():
        cluster = EksCluster("eks", args(**overrides))
        cluster.kubernetes_provider("k8s")
        pulumi.export("kubeconfig", cluster.kubeconfig)
        pulumi.export("oidc", cluster.oidc_issuer_url)

    return testing.run(program, stack="test")


@pytest.fixture(scope="module")
def rec():
    return build()


def test_access_is_by_access_entries_only_and_the_creator_gets_nothing_implicit(rec):
    access = rec.one("aws:eks/cluster:Cluster").inputs["accessConfig"]
    assert access == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    entries = {e.inputs["principalArn"]: e for e in rec.by_type("aws:eks/accessEntry:AccessEntry")}
    assert set(entries) == {DEPLOYER, ADMIN}
    assert {e.name for e in entries.values()} == {
        "eks-access-webplatform-deploy",
        "eks-access-platform-admin",
    }
    for association in rec.by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation"):
        assert association.inputs["policyArn"] == (
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        )
        assert association.inputs["accessScope"] == {"type": "cluster"}
    principals = {
        a.inputs["principalArn"]
        for a in rec.by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    }
    assert principals == {DEPLOYER, ADMIN}


def test_endpoint_is_private_only_by_default(rec):
    vpc_config = rec.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert vpc_config["endpointPrivateAccess"] is True
    assert vpc_config["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc_config
    assert vpc_config["subnetIds"] == SUBNETS


def test_public_endpoint_is_limited_to_the_given_cidrs():
    rec = build(public_access_cidrs=["203.0.113.0/24"])
    vpc_config = rec.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert vpc_config["endpointPublicAccess"] is True
    assert vpc_config["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_secrets_are_encrypted_with_a_rotating_customer_key(rec):
    key = rec.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    policy = json.loads(key.inputs["policy"])
    assert [s["Principal"] for s in policy["Statement"]] == [
        {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    ]
    encryption = rec.one("aws:eks/cluster:Cluster").inputs["encryptionConfig"]
    assert encryption == {
        "provider": {"keyArn": f"arn:aws:kms:us-west-2:{ACCOUNT}:key/eks-secrets-key-id"},
        "resources": ["secrets"],
    }


def test_control_plane_logs_go_to_a_log_group_with_retention_created_first(rec):
    cluster = rec.one("aws:eks/cluster:Cluster")
    assert cluster.inputs["enabledClusterLogTypes"] == ["api", "audit", "authenticator"]
    group = rec.one("aws:cloudwatch/logGroup:LogGroup", "eks-control-plane-logs")
    assert group.inputs["name"] == "/aws/eks/webplatform-test/cluster"
    assert group.inputs["retentionInDays"] == 90
    assert group.urn in cluster.dependencies


def test_nodes_require_imdsv2_with_one_hop_and_encrypted_volumes(rec):
    template = rec.one("aws:ec2/launchTemplate:LaunchTemplate").inputs
    assert template["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
    }
    (device,) = template["blockDeviceMappings"]
    assert device["ebs"]["encrypted"] == "true"
    assert device["ebs"]["volumeType"] == "gp3"
    assert device["ebs"]["volumeSize"] == 50


def test_node_group_is_al2023_in_the_private_subnets_with_the_given_sizes(rec):
    nodes = rec.one("aws:eks/nodeGroup:NodeGroup").inputs
    assert nodes["amiType"] == "AL2023_x86_64_STANDARD"
    assert nodes["subnetIds"] == SUBNETS
    assert nodes["instanceTypes"] == ["m6i.large"]
    assert nodes["scalingConfig"] == {"minSize": 2, "desiredSize": 3, "maxSize": 5}
    assert nodes["launchTemplate"]["version"] == "1"
    assert "remoteAccess" not in nodes  # no SSH


def test_managed_addons_replace_the_self_managed_bootstrap(rec):
    cluster = rec.one("aws:eks/cluster:Cluster")
    assert cluster.inputs["bootstrapSelfManagedAddons"] is False
    addons = {a.inputs["addonName"]: a for a in rec.by_type("aws:eks/addon:Addon")}
    assert set(addons) == {"vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent"}
    nodes = rec.one("aws:eks/nodeGroup:NodeGroup")
    # Nodes wait for the CNI (they are not Ready without one); CoreDNS waits for nodes.
    assert addons["vpc-cni"].urn in nodes.dependencies
    assert nodes.urn in addons["coredns"].dependencies


def test_the_provider_waits_for_nodes_addons_and_the_deployers_access(rec):
    provider = rec.one("pulumi:providers:kubernetes")
    deps = set(provider.dependencies)
    assert rec.one("aws:eks/nodeGroup:NodeGroup").urn in deps
    assert {a.urn for a in rec.by_type("aws:eks/addon:Addon")} <= deps
    deployer = rec.one(
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
        "eks-access-webplatform-deploy-admin",
    )
    assert deployer.urn in deps
    assert provider.is_secret("kubeconfig")


def test_kubeconfig_is_a_secret_using_short_lived_tokens(rec):
    assert "kubeconfig" in rec.secret_outputs
    config = json.loads(rec.stack_outputs["kubeconfig"])
    user = config["users"][0]["user"]
    assert "token" not in user and "client-key-data" not in user
    assert user["exec"]["command"] == "aws"
    assert user["exec"]["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        "webplatform-test",
        "--region",
        "us-west-2",  # from the cluster's ARN: the component reads no config
        "--output",
        "json",
    ]
    component = rec.one("webplatform:cluster:EksCluster")
    assert "kubeconfig" in component.output_secret_paths
    assert rec.stack_outputs["oidc"].startswith("https://oidc.eks.us-west-2.amazonaws.com/id/")


def test_nothing_is_protected_by_default_and_protect_covers_cluster_and_key_only(rec):
    assert not any(r.protect for r in rec.resources)
    protected = build(protect=True)
    assert {r.type for r in protected.resources if r.protect} == {
        "aws:eks/cluster:Cluster",
        "aws:kms/key:Key",
    }
    assert protected.one("aws:eks/cluster:Cluster").inputs["deletionProtection"] is True


def test_every_child_is_parented_to_the_component(rec):
    component = rec.one("webplatform:cluster:EksCluster")
    for r in rec.resources:
        if r.type not in ("webplatform:cluster:EksCluster", "pulumi:providers:kubernetes"):
            assert r.parent == component.urn, r.urn


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"version": "1.29"},
            "version='1.29': must be a Kubernetes version 'MAJOR.MINOR', 1.30 or newer",
        ),
        ({"version": "1.3"}, "1.30 or newer"),
        (
            {"public_access_cidrs": ["0.0.0.0/0"]},
            "opens the Kubernetes API endpoint to the whole internet",
        ),
        ({"public_access_cidrs": ["10.0.0.300/24"]}, "is not an IPv4 CIDR"),
        ({"admin_role_arns": []}, "name at least one admin role"),
        ({"admin_role_arns": ["arn:aws:iam::123:user/bob"]}, "must be an IAM role ARN"),
        ({"admin_role_arns": [DEPLOYER]}, "named twice"),
        ({"private_subnet_ids": ["subnet-a"]}, "at least 2 availability zones"),
        ({"log_retention_days": 45}, "log_retention_days=45: CloudWatch Logs accepts only"),
        ({"log_types": ["api"]}, "must include api, audit, authenticator"),
        ({"cluster_name": "-bad"}, "cluster_name='-bad'"),
        ({"addon_versions": {"aws-ebs-csi-driver": "v1"}}, "not managed add-ons"),
    ],
)
def test_bad_args_are_rejected_naming_field_and_rule(overrides, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        args(**overrides)


def test_open_endpoint_only_when_explicitly_allowed():
    rec = build(public_access_cidrs=["0.0.0.0/0"], allow_open_public_endpoint=True)
    assert rec.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]["publicAccessCidrs"] == [
        "0.0.0.0/0"
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"min_size": 3, "desired_size": 2}, "need 0 <= min <= desired <= max"),
        ({"instance_types": []}, "name at least one instance type"),
        ({"instance_types": ["large"]}, "not EC2 instance types"),
        ({"ami_type": "AL2_x86_64"}, "Amazon Linux 2023"),
        ({"disk_size_gib": 8}, "disk_size_gib=8"),
    ],
)
def test_bad_node_group_args(overrides, message):
    values = {"instance_types": ["m6i.large"], "min_size": 1, "desired_size": 2, "max_size": 3}
    with pytest.raises(ValueError, match=message):
        NodeGroupArgs(**{**values, **overrides})


def test_pod_identity_helper_binds_a_role_to_a_service_account_of_this_cluster():
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}

    def program():
        cluster = EksCluster("eks", args())
        cluster.pod_identity("web-s3", "web-staging", "web", [statement])

    rec = testing.run(program, stack="test")
    association = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs
    assert association["clusterName"] == "webplatform-test"
    assert (association["namespace"], association["serviceAccount"]) == ("web-staging", "web")
    role = rec.one("aws:iam/role:Role", "web-s3-role")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "Service": "pods.eks.amazonaws.com"
    }
