"""An EKS cluster in Auto Mode, built from pulumi-aws primitives, secure by default.

Why not ``pulumi-eks``: its ``Cluster`` is a remote (multi-language)
component; mocks see one opaque resource and none of its children, so none
of the settings below could be asserted by a test. Here every child is an
``aws.*`` resource our tests inspect.

What it sets, and why:

- **Nodes: EKS Auto Mode** (``compute_config``, ``storage_config`` and
  ``kubernetes_network_config.elastic_load_balancing``, all three on, as EKS
  requires). Chosen over Karpenter: Auto Mode *is* Karpenter, run by AWS off
  the cluster, so there is no controller to install, upgrade and keep
  scheduled, no interruption queue and EventBridge rules, no controller IAM
  role, and no managed node group to host the autoscaler. AWS also runs and
  upgrades what our managed add-ons used to be (VPC CNI, kube-proxy, CoreDNS,
  the Pod Identity agent, EBS CSI) and patches the nodes (Bottlerocket, read
  only root, SELinux, IMDSv2 with one hop, no SSH); a node lives at most 21
  days. The price is a management fee on each Auto Mode instance (about 12 %
  of its EC2 price); Karpenter would save it and cost a controller to run.
  Only the built-in ``system`` node pool is on (CriticalAddonsOnly); the apps
  run on a custom NodePool with CPU and memory limits (:mod:`.node_pool`),
  which bound the bill and which the stack checks its autoscaler maxima
  against, so no pod could exist that the pool would refuse to place.
- **Version**: ``upgrade_policy`` is ``STANDARD``, set explicitly: at the end
  of standard support AWS upgrades the cluster instead of billing extended
  support (six times the control-plane price). Versions EKS offers and their
  end-of-standard-support dates are one table, :data:`.EKS_STANDARD_SUPPORT_ENDS`.
- **Access**: authentication mode ``API`` (access entries only, no
  ``aws-auth`` ConfigMap) and ``bootstrap_cluster_creator_admin_permissions``
  off. The bootstrap flag grants admin to whoever happens to create the
  cluster, invisibly and once; instead the deploying role (CI) and the admin
  roles get explicit access entries with ``AmazonEKSClusterAdminPolicy``, so
  who administers the cluster is in the code and in the state. (EKS itself
  adds the Auto Mode node role's entry.)
- **Endpoint**: private access always on; public access off unless CIDRs are
  given, and ``0.0.0.0/0`` only with ``allow_open_to_internet``.
- **Secrets**: envelope encryption with a customer KMS key that rotates
  yearly, 30-day deletion window. The key policy lets named roles (CI and the
  admin roles) administer the key, and the account *use* it only through EKS in
  this region (``kms:ViaService``), never directly: nothing to the account root
  that an IAM policy could widen.
- **Logs**: control-plane logs ``api``, ``audit`` and ``authenticator`` to a
  log group created first with a retention (left to EKS, the group would keep
  logs forever).
- **Add-ons**: ``bootstrap_self_managed_addons`` off (Auto Mode requires it).
  Managed add-ons beyond what Auto Mode runs (default: ``metrics-server``, which
  the HPA reads) get the most recent version EKS publishes for the cluster's
  Kubernetes version (``aws.eks.get_addon_version``), so they move with the
  cluster; pin one in ``addon_versions`` to hold it back.
- **Protection**: ``protect`` covers every stateful resource here: the
  cluster (plus EKS deletion protection), its KMS key and its log group.

The component never builds a Kubernetes provider on its own: call
:meth:`EksCluster.kubernetes_provider` to get one from its kubeconfig.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import pulumi
import pulumi_kubernetes as k8s
from pydantic import AfterValidator, Field, model_validator

from webplatform._kms import service_only_key_policy
from webplatform._model import Args, Items, at
from webplatform.cluster._checks import (
    DEFAULT_KUBERNETES_VERSION,
    EKS_STANDARD_SUPPORT_ENDS,
    ClusterName,
    EksVersion,
    KmsDeletionWindowDays,
    LogRetentionDays,
    RoleArn,
    Wired,
    at_least,
    duplicates,
    role_name,
)
from webplatform.cluster.pod_identity import PodIdentity, PodIdentityArgs
from webplatform.guardrails.dry_run_only import GroupName

__all__ = [
    "DEFAULT_KUBERNETES_VERSION",
    "EKS_STANDARD_SUPPORT_ENDS",
    "ClusterAccessArgs",
    "EksCluster",
    "EksClusterArgs",
    "EndpointArgs",
    "kubeconfig",
]

LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
REQUIRED_LOG_TYPES: tuple[LogType, ...] = ("api", "audit", "authenticator")
ADMIN_POLICY = "cluster-access-policy/AmazonEKSClusterAdminPolicy"
#: What the cluster role needs for Auto Mode to run nodes, volumes, load balancers and pod
#: networking for the cluster (AWS managed policies, "Learn about identity and access in EKS
#: Auto Mode").
CLUSTER_POLICIES = (
    "AmazonEKSComputePolicy",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingPolicy",
)
#: The Auto Mode node role: the minimal node policy and image pulls, nothing else (pods get
#: AWS access through Pod Identity, never through the node).
NODE_POLICIES = ("AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly")
#: Built-in Auto Mode node pools: only ``system`` (tainted CriticalAddonsOnly). The built-in
#: ``general-purpose`` pool has no limits, so apps would escape the capacity bound.
BUILT_IN_NODE_POOLS = ("system",)
#: What EKS itself picks for the Service range of a VPC in 10.0.0.0/8 (else 10.100.0.0/16).
DEFAULT_SERVICE_CIDR = "172.20.0.0/16"
#: The Kubernetes provider's client rate limit (its defaults: 50 requests/s, burst 120). A
#: preview or an `up` reads every object (`refresh: always`) and dry-runs every apply, a few
#: requests per object: at 30 apps (about 970 objects) the default held a no-change preview at
#: 42 s, this at 23 s, same CPU (bench/README.md, issue 21). The API server's priority and
#: fairness still bounds what one client gets; readiness waits are unchanged.
KUBE_CLIENT_SETTINGS = k8s.KubeClientSettingsArgs(qps=1000, burst=2000)


def _service_cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value)
    except ValueError:
        raise ValueError("not an IPv4 range in CIDR notation (e.g. '172.20.0.0/16')") from None
    if network.version != 4 or not 12 <= network.prefixlen <= 24:
        raise ValueError("must be an IPv4 range from /12 to /24 (EKS's bounds)")
    private = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
    if not any(network.subnet_of(p) for p in private):  # type: ignore[arg-type]
        raise ValueError("must be within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
    return value


ServiceCidr = Annotated[str, AfterValidator(_service_cidr)]


def cluster_dns_ip(service_cidr: str) -> str:
    """The cluster DNS address: EKS gives the ``kube-dns`` Service the range's 10th address
    (``172.20.0.10``). On Auto Mode no CoreDNS pods stand behind it: CoreDNS runs as a system
    service on every node, and pods reach it through this address (aws/containers-roadmap
    #2546, #2552), which is therefore what a NetworkPolicy must allow for DNS."""
    return str(ipaddress.ip_network(service_cidr).network_address + 10)


_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:policy/[\w+=,.@/-]{1,512}$")
#: The CI role's access policy when ``ci_scope`` is ``namespaces``: admin within them only.
NAMESPACE_ADMIN_POLICY = "cluster-access-policy/AmazonEKSAdminPolicy"
_ADDON_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
_ADDON_VERSION = re.compile(r"^v\d+\.\d+\.\d+-eksbuild\.\d+$")

if TYPE_CHECKING:  # imported where used: a stack without AWS never loads pulumi_aws
    import pulumi_aws as aws


class ClusterAccessArgs(Args):
    """Who may do what on the cluster (``cluster.access``): access entries, nothing implicit."""

    ci_role_arn: RoleArn
    """The IAM role ``pulumi up`` runs as (CI) for this environment and cluster only (the
    program refuses a role another stack file names); required. What it may do on the
    cluster is ``ci_scope``."""
    ci_scope: Literal["namespaces", "cluster"] = "namespaces"
    """The CI role's Kubernetes access. Default ``namespaces``: ``AmazonEKSAdminPolicy`` in
    the namespaces the stack manages only (``EksClusterArgs.ci_namespaces``), no
    cluster-scoped writes. ``cluster``: ``AmazonEKSClusterAdminPolicy``; needed by a stack
    that installs cluster add-ons (Helm charts bring CRDs, ClusterRoles and webhooks, and
    RBAC lets only a holder of every permission a ClusterRole grants create it)."""
    admin_role_arns: Annotated[
        Items[RoleArn],
        at_least(1, "name at least one admin role (otherwise only CI could reach it)"),
    ]
    """IAM roles of the humans who administer the cluster (cluster admin through access
    entries) and its KMS key; required, at least one (otherwise only CI could reach it)."""
    preview_role_arn: RoleArn | None = None
    """The read-only IAM role of previews and drift checks; default none. It gets an access
    entry in ``preview_group`` and no access policy: the stack's
    :class:`~webplatform.guardrails.dry_run_only.DryRunOnly` grants that group reads and
    dry-run writes and refuses every real write at admission."""
    preview_group: GroupName = "webplatform:preview"
    """Kubernetes group of ``preview_role_arn``; default ``webplatform:preview``."""
    permissions_boundary_arn: str | None = None
    """ARN of an IAM managed policy set as the permissions boundary of every role the stack
    creates (cluster, node, Pod Identity roles); default none. Required by the program in
    production."""

    @model_validator(mode="after")
    def _one_entry_per_role(self) -> ClusterAccessArgs:
        roles = [self.ci_role_arn, *self.admin_role_arns]
        if self.preview_role_arn is not None:
            roles.append(self.preview_role_arn)
        twice = duplicates([role_name(a) for a in roles])
        if twice:
            raise at(
                "admin_role_arns",
                message=f"roles {twice} are named twice (ciRoleArn, adminRoleArns and "
                "previewRoleArn together); each role gets one access entry",
            )
        if self.permissions_boundary_arn is not None and not _POLICY_ARN.match(
            self.permissions_boundary_arn
        ):
            raise at(
                "permissions_boundary_arn",
                message="must be an IAM managed policy ARN "
                "(arn:aws:iam::<12-digit account>:policy/<name>)",
            )
        return self


class EndpointArgs(Args):
    """Who may reach the Kubernetes API from outside the VPC (``cluster.endpoint``)."""

    public_access_cidrs: Items[str] = ()
    """IPv4 CIDRs allowed to reach the public API endpoint; default none, and then the public
    endpoint is off (reachable only from inside the VPC)."""
    allow_open_to_internet: bool = False
    """Accept ``0.0.0.0/0`` in ``public_access_cidrs``; default false (an explicit opt-in,
    a strict boolean: ``"y"`` is an error, not a yes)."""

    @model_validator(mode="after")
    def _cidrs(self) -> EndpointArgs:
        import ipaddress

        for cidr in self.public_access_cidrs:
            try:
                network = ipaddress.IPv4Network(cidr)
            except ValueError:
                raise at(
                    "public_access_cidrs",
                    message=f"{cidr!r} is not an IPv4 CIDR (e.g. '203.0.113.0/24')",
                ) from None
            if network.prefixlen == 0 and not self.allow_open_to_internet:
                raise at(
                    "public_access_cidrs",
                    message=f"{cidr!r} opens the Kubernetes API endpoint to the whole "
                    "internet; list your CI and VPN egress CIDRs instead, or allow it "
                    "explicitly (allowOpenToInternet: true)",
                )
        return self


class EksClusterArgs(Args):
    cluster_name: ClusterName
    """The EKS cluster's name; required (one cluster per environment, named after it)."""
    version: EksVersion = DEFAULT_KUBERNETES_VERSION
    """Kubernetes minor as a string; default ``"1.35"`` (EKS standard support until
    2027-03-27). One of :data:`EKS_STANDARD_SUPPORT_ENDS`."""
    private_subnet_ids: Annotated[
        Items[Wired[str]], at_least(2, "EKS needs subnets in at least 2 availability zones")
    ]
    """Private subnets in 2+ zones: the control plane's interfaces and every node go here."""
    access: ClusterAccessArgs
    """CI and admin roles (access entries); required."""
    endpoint: EndpointArgs = Field(default_factory=EndpointArgs)
    """Public API endpoint access; default none (private endpoint only)."""
    ci_namespaces: Items[str] = ()
    """Namespaces the CI role administers when ``access.ci_scope`` is ``namespaces`` (the
    program passes the ones the stack manages); default none, and then that scope is an
    error."""
    log_retention_days: LogRetentionDays = 90
    """Retention of the control-plane log group; default 90 days."""
    log_types: Items[LogType] = REQUIRED_LOG_TYPES
    """Control-plane log types; default api, audit, authenticator (all three required); may
    add controllerManager and scheduler."""
    managed_addons: Items[str] = ("metrics-server",)
    """EKS managed add-ons beyond what Auto Mode runs itself; default ``metrics-server`` (the
    HPA's metrics; an EKS community add-on). Each gets the most recent version for the
    cluster's Kubernetes version unless pinned in ``addon_versions``."""
    addon_versions: dict[str, str] = Field(default_factory=dict)
    """Managed add-on name -> exact version (``v0.8.1-eksbuild.1``) to hold it back; default
    none: the most recent version for the cluster's Kubernetes version."""
    service_ipv4_cidr: ServiceCidr = DEFAULT_SERVICE_CIDR
    """Range of Service ClusterIPs; default ``172.20.0.0/16``, what EKS picks itself for a
    VPC in 10.0.0.0/8 (so an existing cluster sees no change). Set explicitly because the
    cluster DNS address (:attr:`EksCluster.cluster_dns_ip`) derives from it. Must not
    overlap the VPC. Changing it replaces the cluster."""
    kms_deletion_window_days: KmsDeletionWindowDays = 30
    """Days a deleted Secrets key waits before it is gone; default 30, the maximum."""
    protect: bool = False
    """Protect the cluster (and turn on EKS deletion protection), its KMS key and its log
    group; default false. Node pools and add-ons stay replaceable."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags on every AWS resource; default none."""

    @model_validator(mode="after")
    def _lists(self) -> EksClusterArgs:
        missing = [t for t in REQUIRED_LOG_TYPES if t not in self.log_types]
        if missing:
            raise at(
                "log_types",
                message=f"must include {', '.join(REQUIRED_LOG_TYPES)} (missing "
                f"{', '.join(missing)}); controllerManager and scheduler are optional",
            )
        if self.access.ci_scope == "namespaces" and not self.ci_namespaces:
            raise at(
                "ci_namespaces",
                message="access.ciScope is 'namespaces' but no namespace is given: name the "
                "namespaces the CI role deploys to, or set ciScope: cluster",
            )
        bad = [a for a in self.managed_addons if not _ADDON_NAME.match(a)]
        if bad or duplicates(list(self.managed_addons)):
            raise at(
                "managed_addons",
                message="EKS add-on names, each once (lowercase letters, digits and '-')",
            )
        unknown = sorted(set(self.addon_versions) - set(self.managed_addons))
        if unknown:
            raise at(
                "addon_versions",
                message=f"{unknown} are not in managedAddons "
                f"({', '.join(self.managed_addons) or 'none'})",
            )
        for addon, version in self.addon_versions.items():
            if not _ADDON_VERSION.match(version):
                raise at(
                    "addon_versions",
                    addon,
                    message="must be an exact EKS add-on version such as 'v0.8.1-eksbuild.1'",
                )
        return self


def _policy(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _service_role_policy(service: str, actions: Sequence[str] = ("sts:AssumeRole",)) -> str:
    action: str | list[str] = actions[0] if len(actions) == 1 else list(actions)
    return _policy([{"Effect": "Allow", "Principal": {"Service": service}, "Action": action}])


def _oidc_issuer(identities: Sequence[Any]) -> str:
    oidcs = identities[0].oidcs if identities else None
    return str(oidcs[0].issuer) if oidcs else ""


def secrets_key_policy(
    account_id: str, partition: str, region: str, admin_arns: Sequence[str]
) -> dict[str, Any]:
    """The EKS secrets key's policy: named roles administer it; it is used only via EKS.

    Administration (never data operations, never ``CreateGrant``) goes to ``admin_arns``
    (the CI role and ``access.adminRoleArns``), not the account root. Use is a second
    statement that holds only for requests EKS makes in this region on the account's
    behalf (``kms:ViaService``), which is how the cluster role encrypts Secrets. Who can
    decrypt: EKS, for the API server; no principal directly.
    """
    return service_only_key_policy(
        admin_arns=admin_arns,
        account_id=account_id,
        partition=partition,
        region=region,
        service="eks",
        sid="UseKeyOnlyThroughEks",
        use_actions=(
            "kms:CreateGrant",
            "kms:Decrypt",
            "kms:DescribeKey",
            "kms:Encrypt",
            "kms:GenerateDataKey*",
            "kms:ListGrants",
            "kms:ReEncrypt*",
        ),
    )


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
    """EKS control plane in Auto Mode, KMS key, log group, access entries and managed add-ons."""

    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    node_role_name: pulumi.Output[str]
    private_subnet_ids: tuple[pulumi.Input[str], ...]
    """The subnets the cluster and its nodes use (as given)."""
    """The Auto Mode node role (EKS made its access entry): a custom NodeClass names it."""
    cluster_security_group_id: pulumi.Output[str]
    """The security group EKS made for the cluster: the nodes' (a custom NodeClass selects it)."""
    cluster_dns_ip: str
    """The cluster DNS address pods resolve through (:func:`cluster_dns_ip`)."""
    """A secret: the kubeconfig (``aws eks get-token`` exec auth) for this cluster."""
    cluster: pulumi.CustomResource
    """The ``aws.eks.Cluster``."""
    addons: list[pulumi.CustomResource]
    """The managed add-ons; they become ACTIVE once nodes run their pods, so nothing Kubernetes
    waits for them (nodes come from the NodePool the Kubernetes provider creates)."""
    ready: list[pulumi.Resource]
    """What Kubernetes objects must wait for: the cluster and the deployer's access.
    :meth:`kubernetes_provider` makes its provider depend on them."""

    def __init__(
        self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:cluster:EksCluster", name, None, opts)
        import pulumi_aws as aws

        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        partition = args.access.ci_role_arn.split(":")[1]
        self._permissions_boundary_arn = args.access.permissions_boundary_arn
        self._key_admins = (args.access.ci_role_arn, *args.access.admin_role_arns)

        # Auto Mode: EKS tags the sessions it starts with this role (sts:TagSession).
        role = aws.iam.Role(
            f"{name}-cluster-role",
            assume_role_policy=_service_role_policy(
                "eks.amazonaws.com", ("sts:AssumeRole", "sts:TagSession")
            ),
            permissions_boundary=args.access.permissions_boundary_arn,
            tags=tags,
            opts=child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-cluster-policy",
                role=role.name,
                policy_arn=f"arn:{partition}:iam::aws:policy/AmazonEKSClusterPolicy",
                opts=child,
            ),
            *(
                aws.iam.RolePolicyAttachment(
                    f"{name}-cluster-{policy}",
                    role=role.name,
                    policy_arn=f"arn:{partition}:iam::aws:policy/{policy}",
                    opts=child,
                )
                for policy in CLUSTER_POLICIES
            ),
        ]
        node_role = aws.iam.Role(
            f"{name}-node-role",
            assume_role_policy=_service_role_policy("ec2.amazonaws.com"),
            permissions_boundary=args.access.permissions_boundary_arn,
            tags=tags,
            opts=child,
        )
        attachments += [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=node_role.name,
                policy_arn=f"arn:{partition}:iam::aws:policy/{policy}",
                opts=child,
            )
            for policy in NODE_POLICIES
        ]
        key = self._secrets_key(name, args, tags)
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
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            version=args.version,
            role_arn=role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=list(args.private_subnet_ids),
                endpoint_private_access=True,
                endpoint_public_access=bool(args.endpoint.public_access_cidrs),
                public_access_cidrs=list(args.endpoint.public_access_cidrs) or None,
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn),
                resources=["secrets"],
            ),
            # EKS Auto Mode: compute, block storage and load balancing go together.
            compute_config=aws.eks.ClusterComputeConfigArgs(
                enabled=True,
                node_pools=list(BUILT_IN_NODE_POOLS),
                node_role_arn=node_role.arn,
            ),
            storage_config=aws.eks.ClusterStorageConfigArgs(
                block_storage=aws.eks.ClusterStorageConfigBlockStorageArgs(enabled=True)
            ),
            kubernetes_network_config=aws.eks.ClusterKubernetesNetworkConfigArgs(
                service_ipv4_cidr=args.service_ipv4_cidr,
                elastic_load_balancing=aws.eks.ClusterKubernetesNetworkConfigElasticLoadBalancingArgs(
                    enabled=True
                ),
            ),
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            enabled_cluster_log_types=list(args.log_types),
            bootstrap_self_managed_addons=False,
            deletion_protection=args.protect,
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, depends_on=[*attachments, key_use, logs]
            ),
        )
        access = self._access_entries(name, args, partition)
        self.addons = [self._addon(name, addon, args) for addon in args.managed_addons]

        self.cluster_name = self.cluster.name
        self.node_role_name = node_role.name
        self.private_subnet_ids = tuple(args.private_subnet_ids)
        self.cluster_security_group_id = self.cluster.vpc_config.apply(
            lambda config: config.cluster_security_group_id or ""
        )
        self.cluster_dns_ip = cluster_dns_ip(args.service_ipv4_cidr)
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
        self.ready = [self.cluster, *access]
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

        It depends on :attr:`ready`, so every object created with it waits for the
        cluster and the deployer's access entry, and is deleted before them (a
        LoadBalancer Service goes before the subnets it uses).
        """
        return k8s.Provider(
            name,
            # ConfigMaps and Secrets updated in place: see infra.stack.MUTABLE_SETTINGS.
            k8s.ProviderArgs(
                kubeconfig=self.kubeconfig,
                enable_server_side_apply=True,
                enable_config_map_mutable=True,
                enable_secret_mutable=True,
                kube_client_settings=KUBE_CLIENT_SETTINGS,
            ),
            opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(depends_on=self.ready), opts),
        )

    def pod_identity(
        self,
        name: str,
        namespace: str,
        service_account: str,
        policy_statements: pulumi.Input[Sequence[Mapping[str, Any]]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> PodIdentity:
        """AWS permissions for pods of ``namespace``/``service_account`` in this cluster: an IAM role
        with ``policy_statements``, trusted by EKS Pod Identity, and its association. The
        association takes :attr:`cluster_name` (an output of the cluster), so it is created
        after the cluster exists: a first ``pulumi up`` cannot race it. See
        :class:`webplatform.cluster.pod_identity.PodIdentity`."""
        return PodIdentity(
            name,
            PodIdentityArgs(
                cluster_name=self.cluster_name,
                namespace=namespace,
                service_account=service_account,
                policy_statements=policy_statements,
                permissions_boundary_arn=self._permissions_boundary_arn,
            ),
            opts=opts,
        )

    def _secrets_key(self, name: str, args: EksClusterArgs, tags: dict[str, str]) -> aws.kms.Key:
        """A rotating customer key, usable only through EKS (:func:`secrets_key_policy`)."""
        import pulumi_aws as aws

        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        region = aws.get_region_output(opts=invoke)
        key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"Envelope encryption of Kubernetes Secrets in EKS cluster {args.cluster_name}",
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=args.kms_deletion_window_days,
            policy=pulumi.Output.all(identity.account_id, partition.partition, region.region).apply(
                lambda v: json.dumps(secrets_key_policy(v[0], v[1], v[2], self._key_admins))
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
        """One access entry per role; returns the deployer's entry and association.

        Admins: cluster admin. CI: ``ci_scope`` (admin in the stack's namespaces, or cluster
        admin). Preview: an entry in its group and no access policy (RBAC and the
        dry-run-only admission policy decide, :mod:`webplatform.guardrails.dry_run_only`).
        """
        import pulumi_aws as aws

        cluster = cast("aws.eks.Cluster", self.cluster)
        access = args.access
        deployer: list[pulumi.Resource] = []
        for arn in (access.ci_role_arn, *access.admin_role_arns):
            role = role_name(arn)
            entry = aws.eks.AccessEntry(
                f"{name}-access-{role}",
                cluster_name=cluster.name,
                principal_arn=arn,
                type="STANDARD",
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self),
            )
            scoped = arn == access.ci_role_arn and access.ci_scope == "namespaces"
            association = aws.eks.AccessPolicyAssociation(
                # The CI role's association keeps its name (and URN) whatever its scope.
                f"{name}-access-{role}-admin",
                cluster_name=cluster.name,
                principal_arn=entry.principal_arn,
                policy_arn=f"arn:{partition}:eks::aws:"
                f"{NAMESPACE_ADMIN_POLICY if scoped else ADMIN_POLICY}",
                access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(
                    type="namespace", namespaces=list(args.ci_namespaces)
                )
                if scoped
                else aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=pulumi.ResourceOptions(parent=self),
            )
            if arn == access.ci_role_arn:
                deployer = [entry, association]
        if access.preview_role_arn is not None:
            aws.eks.AccessEntry(
                f"{name}-access-{role_name(access.preview_role_arn)}",
                cluster_name=cluster.name,
                principal_arn=access.preview_role_arn,
                type="STANDARD",
                kubernetes_groups=[access.preview_group],
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return deployer

    def _addon(self, name: str, addon: str, args: EksClusterArgs) -> aws.eks.Addon:
        import pulumi_aws as aws

        cluster = cast("aws.eks.Cluster", self.cluster)
        version: pulumi.Input[str]
        if addon in args.addon_versions:
            version = args.addon_versions[addon]
        else:
            # The newest version EKS publishes for this Kubernetes minor: moves with the cluster.
            version = aws.eks.get_addon_version_output(
                addon_name=addon,
                kubernetes_version=cluster.version,
                most_recent=True,
                opts=pulumi.InvokeOutputOptions(parent=self),
            ).version
        return aws.eks.Addon(
            f"{name}-addon-{addon}",
            cluster_name=cluster.name,
            addon_name=addon,
            addon_version=version,
            # Pulumi owns the add-ons' configuration: overwrite drift rather than keep it.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
