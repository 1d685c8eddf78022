"""The EKS cluster's secure defaults (Auto Mode), asserted on what it registers."""

import json
import re

import pulumi
import pytest
from pydantic import ValidationError

from webplatform import testing
from webplatform._model import FieldError
from webplatform.cluster._checks import DEFAULT_KUBERNETES_VERSION, EKS_STANDARD_SUPPORT_ENDS
from webplatform.cluster.eks import (
    ClusterAccessArgs,
    EksCluster,
    EksClusterArgs,
    EndpointArgs,
    secrets_key_policy,
)

ACCOUNT = "123456789012"
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/ci/webplatform-deploy"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/platform-admin"
SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]
ACCESS = {"ci_role_arn": DEPLOYER, "admin_role_arns": [ADMIN]}


def args(**overrides):
    values = {
        "cluster_name": "webplatform-test",
        "private_subnet_ids": SUBNETS,
        "access": ACCESS,
        "ci_namespaces": ["web"],
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


def test_default_version_is_135_in_standard_support_with_the_standard_upgrade_policy(rec):
    cluster = rec.one("aws:eks/cluster:Cluster").inputs
    assert DEFAULT_KUBERNETES_VERSION == "1.35"
    assert cluster["version"] == "1.35"
    # STANDARD: AWS upgrades at the end of standard support instead of billing extended.
    assert cluster["upgradePolicy"] == {"supportType": "STANDARD"}


def test_auto_mode_is_on_with_only_the_system_pool_built_in(rec):
    cluster = rec.one("aws:eks/cluster:Cluster").inputs
    assert cluster["computeConfig"] == {
        "enabled": True,
        "nodePools": ["system"],  # general-purpose has no limits: apps would escape them
        "nodeRoleArn": f"arn:aws:iam::{ACCOUNT}:role/eks-node-role",
    }
    assert cluster["storageConfig"] == {"blockStorage": {"enabled": True}}
    assert cluster["kubernetesNetworkConfig"] == {"elasticLoadBalancing": {"enabled": True}}
    assert cluster["bootstrapSelfManagedAddons"] is False
    assert not rec.by_type("aws:eks/nodeGroup:NodeGroup")
    assert not rec.by_type("aws:ec2/launchTemplate:LaunchTemplate")


def test_cluster_and_node_roles_have_the_auto_mode_policies_and_nothing_more(rec):
    attached = {
        a.inputs["policyArn"].rsplit("/", 1)[1]: a.inputs["role"]
        for a in rec.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    }
    assert attached == {
        "AmazonEKSClusterPolicy": "eks-cluster-role",
        "AmazonEKSComputePolicy": "eks-cluster-role",
        "AmazonEKSBlockStoragePolicy": "eks-cluster-role",
        "AmazonEKSLoadBalancingPolicy": "eks-cluster-role",
        "AmazonEKSNetworkingPolicy": "eks-cluster-role",
        "AmazonEKSWorkerNodeMinimalPolicy": "eks-node-role",
        "AmazonEC2ContainerRegistryPullOnly": "eks-node-role",
    }
    trust = json.loads(rec.one("aws:iam/role:Role", "eks-cluster-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    cluster = rec.one("aws:eks/cluster:Cluster")
    for attachment in rec.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        assert attachment.urn in cluster.dependencies  # roles complete before the cluster


def test_access_is_by_access_entries_only_and_the_creator_gets_nothing_implicit(rec):
    access = rec.one("aws:eks/cluster:Cluster").inputs["accessConfig"]
    assert access == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    entries = {e.inputs["principalArn"]: e for e in rec.by_type("aws:eks/accessEntry:AccessEntry")}
    assert set(entries) == {DEPLOYER, ADMIN}
    assert {e.name for e in entries.values()} == {
        "eks-access-webplatform-deploy",
        "eks-access-platform-admin",
    }
    associations = {
        a.inputs["principalArn"]: a
        for a in rec.by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    }
    assert associations[ADMIN].inputs["policyArn"] == (
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    )
    assert associations[ADMIN].inputs["accessScope"] == {"type": "cluster"}
    # CI: no cluster admin by default, admin only in the stack's namespaces.
    assert associations[DEPLOYER].inputs["policyArn"] == (
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy"
    )
    assert associations[DEPLOYER].inputs["accessScope"] == {
        "type": "namespace",
        "namespaces": ["web"],
    }


def test_ci_is_cluster_admin_only_when_the_stack_file_says_so():
    rec = build(access={**ACCESS, "ci_scope": "cluster"})
    (ci,) = [
        a
        for a in rec.by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        if a.inputs["principalArn"] == DEPLOYER
    ]
    assert ci.inputs["policyArn"].endswith("/AmazonEKSClusterAdminPolicy")
    assert ci.name == "eks-access-webplatform-deploy-admin"  # same URN whatever the scope


def test_the_preview_role_gets_a_group_and_no_access_policy():
    preview = f"arn:aws:iam::{ACCOUNT}:role/webplatform-preview"
    rec = build(access={**ACCESS, "preview_role_arn": preview})
    entry = rec.one("aws:eks/accessEntry:AccessEntry", "eks-access-webplatform-preview")
    assert entry.inputs["principalArn"] == preview
    assert entry.inputs["kubernetesGroups"] == ["webplatform:preview"]
    assert preview not in {
        a.inputs["principalArn"]
        for a in rec.by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    }


def test_every_role_the_cluster_creates_carries_the_permissions_boundary():
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/webplatform-boundary"

    def program():
        cluster = EksCluster("eks", args(access={**ACCESS, "permissions_boundary_arn": boundary}))
        cluster.pod_identity(
            "app", "web", "web", [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]
        )

    rec = testing.run(program, stack="test")
    roles = rec.by_type("aws:iam/role:Role")
    assert len(roles) == 3  # cluster, node, Pod Identity
    assert {r.inputs.get("permissionsBoundary") for r in roles} == {boundary}


@pytest.mark.parametrize(
    ("access", "where", "message"),
    [
        ({"ciScope": "admin"}, "ciScope", "'namespaces' or 'cluster'"),
        ({"previewGroup": "system:masters"}, "previewGroup", "reserved"),
        (
            {"permissionsBoundaryArn": "arn:aws:iam::123456789012:role/x"},
            "permissions_boundary_arn",
            "managed policy ARN",
        ),
        ({"previewRoleArn": ADMIN}, "admin_role_arns", "named twice"),
    ],
)
def test_bad_access_settings_name_the_key(access, where, message):
    with pytest.raises(ValidationError) as raised:
        ClusterAccessArgs.model_validate(
            {"ciRoleArn": DEPLOYER, "adminRoleArns": [ADMIN], **access}
        )
    (error,) = raised.value.errors()
    located = getattr((error.get("ctx") or {}).get("error"), "loc", ())
    assert where in (*error["loc"], *located)
    assert message in str(raised.value)


def test_namespace_scope_needs_namespaces():
    with pytest.raises(ValidationError, match="no namespace is given"):
        args(ci_namespaces=[])


def test_endpoint_is_private_only_by_default(rec):
    vpc_config = rec.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert vpc_config["endpointPrivateAccess"] is True
    assert vpc_config["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc_config
    assert vpc_config["subnetIds"] == SUBNETS


def test_public_endpoint_is_limited_to_the_given_cidrs():
    rec = build(endpoint=EndpointArgs(public_access_cidrs=["203.0.113.0/24"]))
    vpc_config = rec.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert vpc_config["endpointPublicAccess"] is True
    assert vpc_config["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_secrets_key_rotates_and_is_usable_only_through_eks(rec):
    key = rec.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == 30
    policy = json.loads(key.inputs["policy"])
    assert policy == secrets_key_policy(ACCOUNT, "aws", "us-west-2", [DEPLOYER, ADMIN])
    # Named administrators, not the account root (whose IAM could grant kms:PutKeyPolicy).
    admin = next(s for s in policy["Statement"] if s["Sid"] == "AdministerKey")
    assert admin["Principal"] == {"AWS": sorted([ADMIN, DEPLOYER])}
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert set(statements) == {"AdministerKey", "UseKeyOnlyThroughEks"}
    every_action = [a for s in policy["Statement"] for a in s["Action"]]
    assert "kms:*" not in every_action
    # Administration never includes data operations or grants.
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:CreateGrant"} & set(
        statements["AdministerKey"]["Action"]
    )
    assert "Condition" not in statements["AdministerKey"]
    assert statements["UseKeyOnlyThroughEks"]["Condition"] == {
        "StringEquals": {
            "kms:ViaService": "eks.us-west-2.amazonaws.com",
            "kms:CallerAccount": ACCOUNT,
        }
    }
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


def test_managed_addon_version_is_the_newest_for_the_clusters_version(rec):
    (addon,) = rec.by_type("aws:eks/addon:Addon")
    assert addon.inputs["addonName"] == "metrics-server"
    # The mock answers get_addon_version with a build number that follows the minor.
    assert addon.inputs["addonVersion"] == "v0.8.1-eksbuild.35"
    older = build(version="1.34").one("aws:eks/addon:Addon")
    assert older.inputs["addonVersion"] == "v0.8.1-eksbuild.34"


def test_a_pinned_addon_version_holds_it_back_and_an_empty_list_installs_none():
    pinned = build(addon_versions={"metrics-server": "v0.7.2-eksbuild.3"})
    assert pinned.one("aws:eks/addon:Addon").inputs["addonVersion"] == "v0.7.2-eksbuild.3"
    assert not build(managed_addons=[]).by_type("aws:eks/addon:Addon")


def test_the_provider_waits_for_the_cluster_and_the_deployers_access_not_the_addons(rec):
    provider = rec.one("pulumi:providers:kubernetes")
    deps = set(provider.dependencies)
    assert rec.one("aws:eks/cluster:Cluster").urn in deps
    deployer = rec.one(
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
        "eks-access-webplatform-deploy-admin",
    )
    assert deployer.urn in deps
    # An add-on becomes ACTIVE once nodes run it, and nodes come from the NodePool this
    # provider creates: waiting for it here would deadlock a first `pulumi up`.
    assert rec.one("aws:eks/addon:Addon").urn not in deps
    assert provider.is_secret("kubeconfig")


def test_kubeconfig_is_a_secret_using_short_lived_tokens(rec):
    assert "kubeconfig" in rec.secret_outputs
    config = json.loads(rec.stack_outputs["kubeconfig"])
    user = config["users"][0]["user"]
    assert "token" not in user and "client-key-data" not in user
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


def test_nothing_is_protected_by_default_and_protect_covers_every_stateful_resource(rec):
    assert not any(r.protect for r in rec.resources)
    protected = build(protect=True)
    assert {(r.type, r.name) for r in protected.resources if r.protect} == {
        ("aws:eks/cluster:Cluster", "eks-cluster"),
        ("aws:kms/key:Key", "eks-secrets-key"),
        ("aws:cloudwatch/logGroup:LogGroup", "eks-control-plane-logs"),
    }
    assert protected.one("aws:eks/cluster:Cluster").inputs["deletionProtection"] is True


def test_every_child_is_parented_to_the_component(rec):
    component = rec.one("webplatform:cluster:EksCluster")
    for r in rec.resources:
        if r.type not in ("webplatform:cluster:EksCluster", "pulumi:providers:kubernetes"):
            assert r.parent == component.urn, r.urn


def test_pod_identity_helper_takes_the_clusters_output_so_it_waits_for_the_cluster():
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}

    def program():
        cluster = EksCluster("eks", args())
        cluster.pod_identity("web-s3", "web-staging", "web", [statement])

    rec = testing.run(program, stack="test")
    association = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.inputs["clusterName"] == "webplatform-test"
    cluster = rec.one("aws:eks/cluster:Cluster")
    # The name is the cluster's output: the engine orders the association after it.
    assert association.property_dependencies["clusterName"] == (cluster.urn,)
    role = json.loads(rec.one("aws:iam/role:Role", "web-s3-role").inputs["assumeRolePolicy"])
    assert role["Statement"][0]["Condition"]["StringEquals"]["aws:RequestTag/eks-cluster-arn"] == (
        f"arn:aws:eks:us-west-2:{ACCOUNT}:cluster/webplatform-test"
    )


def problem(exc_info) -> tuple[tuple, str]:
    """(location, message) of the one error a ValidationError holds."""
    (error,) = exc_info.value.errors()
    ctx = (error.get("ctx") or {}).get("error")
    loc = tuple(error["loc"])
    if isinstance(ctx, FieldError):
        return loc + ctx.loc, str(ctx)
    return loc, error["msg"]


@pytest.mark.parametrize(
    ("overrides", "where", "message"),
    [
        ({"version": "1.29"}, ("version",), "must be a Kubernetes minor EKS offers"),
        ({"version": "1.36"}, ("version",), "1.30, 1.31, 1.32, 1.33, 1.34, 1.35"),
        ({"version": 1.35}, ("version",), "valid string"),
        ({"version": "1.3"}, ("version",), "EKS offers"),
        (
            {"endpoint": {"public_access_cidrs": ["0.0.0.0/0"]}},
            ("endpoint", "public_access_cidrs"),
            "opens the Kubernetes API endpoint to the whole internet",
        ),
        (
            {"endpoint": {"public_access_cidrs": ["0.0.0.0/0"], "allow_open_to_internet": "y"}},
            ("endpoint", "allow_open_to_internet"),
            "valid boolean",
        ),
        (
            {"endpoint": {"public_access_cidrs": ["10.0.0.300/24"]}},
            ("endpoint", "public_access_cidrs"),
            "is not an IPv4 CIDR",
        ),
        (
            {"access": {"ci_role_arn": DEPLOYER, "admin_role_arns": []}},
            ("access", "admin_role_arns"),
            "name at least one admin role",
        ),
        (
            {"access": {"ci_role_arn": DEPLOYER, "admin_role_arns": ["arn:aws:iam::1:user/b"]}},
            ("access", "admin_role_arns", 0),
            "must be an IAM role ARN",
        ),
        (
            {"access": {"ci_role_arn": DEPLOYER, "admin_role_arns": [DEPLOYER]}},
            ("access", "admin_role_arns"),
            "named twice",
        ),
        (
            {"private_subnet_ids": ["subnet-a"]},
            ("private_subnet_ids",),
            "at least 2 availability zones",
        ),
        ({"log_retention_days": 45}, ("log_retention_days",), "CloudWatch Logs accepts only"),
        ({"log_retention_days": "90"}, ("log_retention_days",), "valid integer"),
        ({"log_types": ["api"]}, ("log_types",), "must include api, audit, authenticator"),
        ({"log_types": ["api", "audit", "authenticator", "kubelet"]}, ("log_types", 3), "Input"),
        ({"cluster_name": "-bad"}, ("cluster_name",), "starting with a letter or digit"),
        ({"managed_addons": ["Metrics"]}, ("managed_addons",), "EKS add-on names"),
        (
            {"addon_versions": {"aws-ebs-csi-driver": "v1.0.0-eksbuild.1"}},
            ("addon_versions",),
            "not in managedAddons",
        ),
        (
            {"addon_versions": {"metrics-server": "latest"}},
            ("addon_versions", "metrics-server"),
            "exact EKS add-on version",
        ),
        ({"kms_deletion_window_days": 31}, ("kms_deletion_window_days",), "less than or equal"),
        ({"protect": "off"}, ("protect",), "valid boolean"),
        ({"protect": 1}, ("protect",), "valid boolean"),
        ({"nodeGroup": {}}, ("nodeGroup",), "Extra inputs are not permitted"),
    ],
)
def test_bad_args_are_rejected_naming_field_and_rule(overrides, where, message):
    with pytest.raises(ValidationError) as exc_info:
        args(**overrides)
    loc, text = problem(exc_info)
    assert loc == where
    assert message in text


def test_args_are_frozen_and_echo_no_value():
    built = args()
    with pytest.raises(ValidationError):
        built.protect = True  # type: ignore[misc]
    with pytest.raises(ValidationError) as exc_info:
        args(protect="sup3r-secret-value")
    assert "sup3r-secret-value" not in str(exc_info.value)


def test_open_endpoint_only_when_explicitly_allowed():
    rec = build(
        endpoint=EndpointArgs(public_access_cidrs=["0.0.0.0/0"], allow_open_to_internet=True)
    )
    assert rec.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]["publicAccessCidrs"] == [
        "0.0.0.0/0"
    ]


def test_access_model_accepts_camel_case_keys_as_a_stack_file_writes_them():
    access = ClusterAccessArgs.model_validate(
        {"ciRoleArn": DEPLOYER, "adminRoleArns": [ADMIN]}, by_name=False
    )
    assert access.admin_role_arns == (ADMIN,)


def test_the_support_table_is_ordered_and_defaults_to_its_newest_minor():
    minors = [int(v.split(".")[1]) for v in EKS_STANDARD_SUPPORT_ENDS]
    assert minors == sorted(minors) and minors == list(range(minors[0], minors[-1] + 1))
    dates = list(EKS_STANDARD_SUPPORT_ENDS.values())
    assert dates == sorted(dates)
    assert list(EKS_STANDARD_SUPPORT_ENDS)[-1] == DEFAULT_KUBERNETES_VERSION
    assert re.fullmatch(r"1\.\d+", DEFAULT_KUBERNETES_VERSION)
