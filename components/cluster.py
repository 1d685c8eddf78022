"""An EKS cluster built from pulumi-aws primitives, secure by default.

Why not ``pulumi-eks``: its ``Cluster`` is a remote (multi-language)
component; mocks see one opaque resource and none of its children, so none
of the settings below could be asserted by a test. Here every child is an
``aws.*`` resource our tests inspect.

What it sets, and why:

- **Access**: authentication mode ``API`` (access entries only, no
  ``aws-auth`` ConfigMap) and ``bootstrap_cluster_creator_admin_permissions``
  off. The bootstrap flag grants admin to whoever happens to create the
  cluster, invisibly and once; instead the deploying role (CI) and the admin
  roles get explicit access entries with ``AmazonEKSClusterAdminPolicy``, so
  who administers the cluster is in the code and in the state.
- **Endpoint**: private access always on; public access off unless CIDRs are
  given, and ``0.0.0.0/0`` only with ``allow_open_public_endpoint``.
- **Secrets**: envelope encryption with a customer KMS key that rotates
  yearly, 30-day deletion window; the key policy is explicit.
- **Logs**: control-plane logs ``api``, ``audit`` and ``authenticator`` to a
  log group created first with a retention (left to EKS, the group would keep
  logs forever).
- **Nodes**: one managed node group (Amazon Linux 2023) in the private
  subnets, through a launch template that requires IMDSv2 with a hop limit of
  1 (pods cannot reach the node's credentials; they use Pod Identity, see
  :mod:`components.pod_identity`) and encrypted gp3 root volumes.
- **Add-ons**: ``bootstrap_self_managed_addons`` off, and ``vpc-cni``,
  ``kube-proxy``, ``eks-pod-identity-agent`` and ``coredns`` as managed
  ``eks.Addon`` resources, so their versions and configuration are in the
  state rather than in self-managed manifests nobody upgrades. The first three
  are created before the nodes (nodes are not Ready without a CNI); CoreDNS
  after them (its pods need nodes to become ACTIVE).

The component never builds a Kubernetes provider on its own: call
:meth:`EksCluster.kubernetes_provider` to get one from its kubeconfig.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import _eks_checks
from components.pod_identity import PodIdentity, PodIdentityArgs

MIN_MINOR = _eks_checks.MIN_MINOR
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
REQUIRED_LOG_TYPES = ("api", "audit", "authenticator")
#: Managed add-ons installed before the node group (nodes need them to become Ready).
ADDONS_BEFORE_NODES = ("vpc-cni", "kube-proxy", "eks-pod-identity-agent")
#: Managed add-ons installed once nodes exist (their pods must be scheduled to become ACTIVE).
ADDONS_AFTER_NODES = ("coredns",)
ADMIN_POLICY = "cluster-access-policy/AmazonEKSClusterAdminPolicy"
NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
    # The VPC CNI runs on the host network with the node's role; moving it to Pod
    # Identity needs the agent before the CNI, which the node bootstrap cannot order.
    "AmazonEKS_CNI_Policy",
)
check_version = _eks_checks.kubernetes_version
role_name = _eks_checks.role_name


@dataclass(frozen=True, kw_only=True)
class NodeGroupArgs:
    """Size and shape of the managed node group."""

    instance_types: Sequence[str]
    """EC2 instance types, e.g. ``["m6i.large"]``; required (cost and capacity are per stack)."""
    min_size: int
    """Fewest nodes; required."""
    desired_size: int
    """Nodes at creation; required, between min and max."""
    max_size: int
    """Most nodes; required."""
    disk_size_gib: int = 50
    """Root volume size (encrypted gp3); default 50 GiB."""
    ami_type: str = "AL2023_x86_64_STANDARD"
    """EKS AMI family; default Amazon Linux 2023 x86_64. Use ``AL2023_ARM_64_STANDARD`` with
    Graviton instance types."""

    def __post_init__(self) -> None:
        _eks_checks.instance_types("instance_types", self.instance_types)
        _eks_checks.node_sizes(self.min_size, self.desired_size, self.max_size)
        if not 20 <= self.disk_size_gib <= 16384:
            raise ValueError(f"disk_size_gib={self.disk_size_gib!r}: must be 20 to 16384")
        if not self.ami_type.startswith("AL2023_"):
            raise ValueError(
                f"ami_type={self.ami_type!r}: must be an Amazon Linux 2023 type (AL2023_...); "
                "Amazon Linux 2 is end of life for EKS"
            )


@dataclass(frozen=True, kw_only=True)
class EksClusterArgs:
    cluster_name: str
    """The EKS cluster's name; required (one cluster per environment, named after it)."""
    version: str
    """Kubernetes version ``MAJOR.MINOR``, at least 1.30; required."""
    private_subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets in 2+ zones: the control plane's interfaces and every node go here."""
    deployer_role_arn: str
    """The IAM role ``pulumi up`` runs as (CI); gets cluster admin through an access entry, so
    it can install the add-ons and apps. Required."""
    admin_role_arns: Sequence[str]
    """IAM roles of the humans who administer the cluster; cluster admin through access entries.
    Required, at least one (otherwise only CI could reach the cluster)."""
    node_group: NodeGroupArgs
    """Size and shape of the managed node group; required."""
    public_access_cidrs: Sequence[str] = ()
    """CIDRs allowed to reach the public API endpoint; default none, and then the public
    endpoint is off (only reachable from inside the VPC)."""
    allow_open_public_endpoint: bool = False
    """Allow ``0.0.0.0/0`` in ``public_access_cidrs``; default false."""
    log_retention_days: int = 90
    """Retention of the control-plane log group; default 90 days."""
    log_types: Sequence[str] = REQUIRED_LOG_TYPES
    """Control-plane log types; default api, audit, authenticator (required ones); may add
    controllerManager and scheduler."""
    addon_versions: Mapping[str, str] = field(default_factory=dict)
    """Managed add-on name -> version; default none: EKS installs the default version for the
    cluster's Kubernetes version."""
    kms_deletion_window_days: int = 30
    """Days a deleted Secrets key waits before it is gone; default 30, the maximum."""
    protect: bool = False
    """Protect the cluster (and turn on EKS deletion protection) and its KMS key; default false.
    The node group and add-ons stay replaceable."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on every AWS resource; default none."""

    def __post_init__(self) -> None:
        _eks_checks.cluster_name("cluster_name", self.cluster_name)
        check_version("version", self.version)
        if len(self.private_subnet_ids) < 2:
            raise ValueError(
                f"private_subnet_ids: {len(self.private_subnet_ids)} given; EKS needs subnets "
                "in at least 2 availability zones"
            )
        role_name("deployer_role_arn", self.deployer_role_arn)
        if not self.admin_role_arns:
            raise ValueError("admin_role_arns=[]: name at least one admin role")
        for arn in self.admin_role_arns:
            role_name("admin_role_arns", arn)
        _eks_checks.distinct_roles(
            "deployer_role_arn and admin_role_arns", [self.deployer_role_arn, *self.admin_role_arns]
        )
        _eks_checks.public_cidrs(
            "public_access_cidrs", self.public_access_cidrs, self.allow_open_public_endpoint
        )
        _eks_checks.log_retention("log_retention_days", self.log_retention_days)
        unknown = sorted(set(self.log_types) - set(LOG_TYPES))
        missing = sorted(set(REQUIRED_LOG_TYPES) - set(self.log_types))
        if unknown or missing:
            raise ValueError(
                f"log_types={list(self.log_types)!r}: must include {', '.join(REQUIRED_LOG_TYPES)} "
                f"and only use {', '.join(LOG_TYPES)}"
            )
        unknown = sorted(set(self.addon_versions) - {*ADDONS_BEFORE_NODES, *ADDONS_AFTER_NODES})
        if unknown:
            raise ValueError(
                f"addon_versions: {unknown} are not managed add-ons of this component "
                f"({', '.join((*ADDONS_BEFORE_NODES, *ADDONS_AFTER_NODES))})"
            )
        if not 7 <= self.kms_deletion_window_days <= 30:
            raise ValueError(
                f"kms_deletion_window_days={self.kms_deletion_window_days!r}: must be 7 to 30"
            )


def _policy(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _service_role_policy(service: str) -> str:
    return _policy(
        [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]
    )


def _oidc_issuer(identities: Sequence[Any]) -> str:
    oidcs = identities[0].oidcs if identities else None
    return str(oidcs[0].issuer) if oidcs else ""


def kubeconfig(name: str, endpoint: str, ca_data: str, arn: str) -> str:
    """A kubeconfig that authenticates with ``aws eks get-token`` (short-lived tokens, no key
    stored); the region comes from the cluster's ARN."""
    region = arn.split(":")[3]
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": name,
                    "cluster": {"server": endpoint, "certificate-authority-data": ca_data},
                }
            ],
            "users": [
                {
                    "name": name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": [
                                "eks",
                                "get-token",
                                "--cluster-name",
                                name,
                                "--region",
                                region,
                                "--output",
                                "json",
                            ],
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
        },
        indent=2,
    )


class EksCluster(pulumi.ComponentResource):
    """EKS control plane, KMS key, log group, access entries, node group and managed add-ons."""

    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    """A secret: the kubeconfig (``aws eks get-token`` exec auth) for this cluster."""
    cluster: aws.eks.Cluster
    node_group: aws.eks.NodeGroup
    ready: list[pulumi.Resource]
    """What Kubernetes objects must wait for: the node group, the managed add-ons and the
    deployer's access. :meth:`kubernetes_provider` makes its provider depend on them."""

    def __init__(
        self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:cluster:EksCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        partition = args.deployer_role_arn.split(":")[1]

        role = aws.iam.Role(
            f"{name}-cluster-role",
            assume_role_policy=_service_role_policy("eks.amazonaws.com"),
            tags=tags,
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-cluster-policy",
            role=role.name,
            policy_arn=f"arn:{partition}:iam::aws:policy/AmazonEKSClusterPolicy",
            opts=child,
        )
        key = self._secrets_key(name, args, role, tags)
        key_use = aws.iam.RolePolicy(
            f"{name}-cluster-encryption",
            role=role.id,
            policy=key.arn.apply(
                lambda arn: _policy(
                    [
                        {
                            "Effect": "Allow",
                            "Action": [
                                "kms:Encrypt",
                                "kms:Decrypt",
                                "kms:ListGrants",
                                "kms:DescribeKey",
                            ],
                            "Resource": arn,
                        }
                    ]
                )
            ),
            opts=child,
        )
        logs = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=f"/aws/eks/{args.cluster_name}/cluster",  # the name EKS writes to
            retention_in_days=args.log_retention_days,
            tags=tags,
            opts=child,
        )
        self.cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            version=args.version,
            role_arn=role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=list(args.private_subnet_ids),
                endpoint_private_access=True,
                endpoint_public_access=bool(args.public_access_cidrs),
                public_access_cidrs=list(args.public_access_cidrs) or None,
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=list(args.log_types),
            bootstrap_self_managed_addons=False,
            deletion_protection=args.protect,
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, depends_on=[attachment, key_use, logs]
            ),
        )
        access = self._access_entries(name, args, partition)
        early = [self._addon(name, addon, args, []) for addon in ADDONS_BEFORE_NODES]
        self.node_group = self._node_group(name, args, partition, tags, early)
        late = [self._addon(name, addon, args, [self.node_group]) for addon in ADDONS_AFTER_NODES]

        self.cluster_name = self.cluster.name
        self.endpoint = self.cluster.endpoint
        self.oidc_issuer_url = self.cluster.identities.apply(_oidc_issuer)
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(
                self.cluster.name,
                self.cluster.endpoint,
                self.cluster.certificate_authority.data,
                self.cluster.arn,
            ).apply(lambda v: kubeconfig(*v))
        )
        self.ready = [self.node_group, *early, *late, *access]
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "endpoint": self.endpoint,
                "oidc_issuer_url": self.oidc_issuer_url,
                "kubeconfig": self.kubeconfig,
            }
        )

    def kubernetes_provider(
        self, name: str, opts: pulumi.ResourceOptions | None = None
    ) -> k8s.Provider:
        """A Kubernetes provider for this cluster, built only when asked for.

        It depends on :attr:`ready`, so every object created with it waits for
        nodes, CNI, CoreDNS and the deployer's access entry, and is deleted
        before them (a LoadBalancer Service goes before the subnets it uses).
        """
        return k8s.Provider(
            name,
            # ConfigMaps/Secrets in place: see infra.stack.MUTABLE_SETTINGS.
            k8s.ProviderArgs(
                kubeconfig=self.kubeconfig,
                enable_server_side_apply=True,
                enable_config_map_mutable=True,
                enable_secret_mutable=True,
            ),
            opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(depends_on=self.ready), opts),
        )

    def pod_identity(
        self,
        name: str,
        namespace: str,
        service_account: str,
        policy_statements: Sequence[Mapping[str, Any]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> PodIdentity:
        """AWS permissions for pods of ``namespace``/``service_account`` in this cluster: an IAM role
        with ``policy_statements``, trusted by EKS Pod Identity, and its association. See
        :class:`components.pod_identity.PodIdentity`."""
        return PodIdentity(
            name,
            PodIdentityArgs(
                cluster_name=self.cluster_name,
                namespace=namespace,
                service_account=service_account,
                policy_statements=policy_statements,
            ),
            opts=opts,
        )

    def _secrets_key(
        self, name: str, args: EksClusterArgs, role: aws.iam.Role, tags: dict[str, str]
    ) -> aws.kms.Key:
        """A rotating customer key; the policy lets the account's IAM policies grant use of it
        (the AWS default, written out so it is reviewable) and nothing else."""
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"Envelope encryption of Kubernetes Secrets in EKS cluster {args.cluster_name}",
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=args.kms_deletion_window_days,
            policy=pulumi.Output.all(partition.partition, identity.account_id).apply(
                lambda v: _policy(
                    [
                        {
                            "Sid": "AccountAdministersTheKeyThroughIam",
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:{v[0]}:iam::{v[1]}:root"},
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ]
                )
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.kms.Alias(
            f"{name}-secrets-key",
            name=f"alias/eks/{args.cluster_name}-secrets",
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return key

    def _access_entries(
        self, name: str, args: EksClusterArgs, partition: str
    ) -> list[pulumi.Resource]:
        """One access entry and one cluster-admin association per role; returns the deployer's."""
        deployer: list[pulumi.Resource] = []
        for arn in (args.deployer_role_arn, *args.admin_role_arns):
            role = role_name("role", arn)
            entry = aws.eks.AccessEntry(
                f"{name}-access-{role}",
                cluster_name=self.cluster.name,
                principal_arn=arn,
                type="STANDARD",
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self),
            )
            association = aws.eks.AccessPolicyAssociation(
                f"{name}-access-{role}-admin",
                cluster_name=self.cluster.name,
                principal_arn=entry.principal_arn,
                policy_arn=f"arn:{partition}:eks::aws:{ADMIN_POLICY}",
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=pulumi.ResourceOptions(parent=self),
            )
            if arn == args.deployer_role_arn:
                deployer = [entry, association]
        return deployer

    def _addon(
        self, name: str, addon: str, args: EksClusterArgs, after: list[pulumi.Resource]
    ) -> aws.eks.Addon:
        return aws.eks.Addon(
            f"{name}-addon-{addon}",
            cluster_name=self.cluster.name,
            addon_name=addon,
            addon_version=args.addon_versions.get(addon),
            # Pulumi owns the add-ons' configuration: overwrite drift rather than keep it.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=after),
        )

    def _node_group(
        self,
        name: str,
        args: EksClusterArgs,
        partition: str,
        tags: dict[str, str],
        after: list[aws.eks.Addon],
    ) -> aws.eks.NodeGroup:
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-node-role",
            assume_role_policy=_service_role_policy("ec2.amazonaws.com"),
            tags=tags,
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=role.name,
                policy_arn=f"arn:{partition}:iam::aws:policy/{policy}",
                opts=child,
            )
            for policy in NODE_POLICIES
        ]
        template = aws.ec2.LaunchTemplate(
            f"{name}-nodes",
            description=f"Nodes of EKS cluster {args.cluster_name}: IMDSv2 only, encrypted root",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                # 1 hop: the node itself reaches IMDS, containers (one hop further) do not.
                http_put_response_hop_limit=1,
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=args.node_group.disk_size_gib,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(
                    resource_type=kind, tags={**tags, "Name": f"{args.cluster_name}-node"}
                )
                for kind in ("instance", "volume")
            ],
            update_default_version=True,
            tags=tags,
            opts=child,
        )
        # The managed node group registers its role as an EC2_LINUX access entry itself.
        # Name left to Pulumi (random suffix), so a replacement can be created before the old
        # group is deleted.
        return aws.eks.NodeGroup(
            f"{name}-nodes",
            cluster_name=self.cluster.name,
            version=self.cluster.version,
            node_role_arn=role.arn,
            subnet_ids=list(args.private_subnet_ids),
            ami_type=args.node_group.ami_type,
            capacity_type="ON_DEMAND",
            instance_types=list(args.node_group.instance_types),
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=args.node_group.min_size,
                desired_size=args.node_group.desired_size,
                max_size=args.node_group.max_size,
            ),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*attachments, *after]),
        )
