"""Where the apps run: an existing cluster, or a VPC and EKS cluster (Auto Mode) this stack creates.

Every setting here is a component's model (``VpcSettings``, ``NodePoolArgs``,
``ClusterAccessArgs``, ``EndpointArgs``, ``ClusterAddonsArgs``...), composed:
defaults, bounds and docs live once, in the component. What this module adds is
about a stack: which keys a mode needs, and the rules that read more than the
cluster (:func:`check`: the Kubernetes version EKS offers, and whether every
app at its peak fits the node pool: :meth:`WebAppSpec.peak`, ``NodePoolArgs.check_fits``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from infra.config._base import MAX_KUBERNETES_MINOR, MIN_KUBERNETES_MINOR, only_the_switch
from webplatform._model import Args, FieldError, Items, at
from webplatform.cluster._checks import (
    DEFAULT_KUBERNETES_VERSION,
    EKS_STANDARD_SUPPORT_ENDS,
    ClusterName,
    LogRetentionDays,
)
from webplatform.cluster.addons import ClusterAddonsArgs
from webplatform.cluster.eks import ClusterAccessArgs, EndpointArgs  # pulumi_aws loads lazily
from webplatform.cluster.monitoring_stack import MonitoringSettings
from webplatform.cluster.node_pool import NodePoolArgs
from webplatform.cluster.vpc import VpcSettings

if TYPE_CHECKING:
    from infra.config.stack import StackConfig


class KubernetesSpec(Args):
    """The cluster the stack deploys to (``webplatform:kubernetes``)."""

    version: str = DEFAULT_KUBERNETES_VERSION
    """The cluster's Kubernetes minor as a string, e.g. ``"1.35"`` (the default, the EKS
    cluster's version too); manifests are validated against its schema."""
    context: str | None = None
    """kubeconfig context to deploy to; default the current one (mode existing only)."""
    render_yaml_to_directory: str | None = None
    """Write manifests to this directory instead of applying them (no cluster needed)."""
    skip_await: Items[Literal["Gateway", "HTTPRoute", "Service"]] = ()
    """Kinds the provider must not wait on (annotation ``pulumi.com/skipAwait``); default
    none. Only for a cluster where nothing programs them (no gateway controller or load
    balancer, as on the local control plane), where the wait would never end."""
    await_timeout_seconds: int | None = Field(default=None, ge=30)
    """Default '-': the provider's own (10 minutes for a rollout). How long ``pulumi up``
    waits for an object to become ready before it fails."""

    @model_validator(mode="after")
    def _version_and_target(self) -> KubernetesSpec:
        major, _, minor = self.version.partition(".")
        if (
            major != "1"
            or not minor.isdigit()
            or not (MIN_KUBERNETES_MINOR <= int(minor) <= MAX_KUBERNETES_MINOR)
        ):
            raise at(
                "version",
                message=f"must be '1.{MIN_KUBERNETES_MINOR}' to '1.{MAX_KUBERNETES_MINOR}' "
                f"as a quoted string 'MAJOR.MINOR' (e.g. \"{DEFAULT_KUBERNETES_VERSION}\")",
            )
        if self.context and self.render_yaml_to_directory:
            raise at("context", message="set either context or renderYamlToDirectory, not both")
        return self


#: The keys ``mode: eks`` needs (field names).
_EKS_REQUIRED = ("name", "vpc", "node_pool", "access", "addons")


class ClusterSpec(Args):
    """Where the apps run (``webplatform:cluster``): an existing cluster (``kubernetes.context``
    or ``renderYamlToDirectory``), or a VPC and an EKS Auto Mode cluster this stack creates."""

    mode: Literal["existing", "eks"] = "existing"
    """'existing' (default): deploy to the cluster ``kubernetes`` points at. 'eks': create a
    VPC and an EKS cluster here, at ``kubernetes.version``."""
    name: ClusterName | None = None
    """EKS cluster name, one per environment (mode eks, required)."""
    vpc: VpcSettings | None = None
    """The cluster's VPC (mode eks, required)."""
    node_pool: NodePoolArgs | None = None
    """The Auto Mode NodePool the apps run on, with its CPU and memory limits (mode eks,
    required); every app at its autoscaler maximum must fit."""
    access: ClusterAccessArgs | None = None
    """Who gets cluster admin (mode eks, required)."""
    endpoint: EndpointArgs | None = None
    """Public API endpoint access (mode eks); default the EksCluster's: private only."""
    log_retention_days: LogRetentionDays | None = None
    """Control-plane log retention (mode eks); default the EksCluster's (90 days)."""
    addons: ClusterAddonsArgs | None = None
    """Helm add-ons, pinned (mode eks, required)."""
    monitoring: MonitoringSettings | None = None
    """kube-prometheus-stack (pinned) and the alert receiver (mode eks); required when an app
    has ``monitoring``: its ServiceMonitor and PrometheusRule need the operator's CRDs, and
    something must read them."""
    protect: bool = False
    """Protect every stateful resource from deletion: VPC, cluster, KMS keys, secrets and
    log groups (one setting for all); default false. A strict boolean: ``"off"`` is an error."""

    @model_validator(mode="after")
    def _mode(self) -> ClusterSpec:
        if self.mode == "eks":
            for field in _EKS_REQUIRED:
                if getattr(self, field) is None:
                    raise at(field, message="required when mode is 'eks'")
            return self
        only_the_switch(
            self,
            "mode",
            "applies only to mode 'eks' (this stack's mode is 'existing': it deploys to the "
            "cluster webplatform:kubernetes points at)",
        )
        return self


def check(config: StackConfig) -> None:
    """The cluster's rules across the stack; raises a located error (:func:`webplatform._model.at`)."""
    if config.cluster.mode != "eks":
        return
    version = config.kubernetes.version
    if version not in EKS_STANDARD_SUPPORT_ENDS:
        raise at(
            "kubernetes",
            "version",
            message=f"EKS offers {', '.join(EKS_STANDARD_SUPPORT_ENDS)}; this stack's cluster is "
            f'EKS (cluster.mode: eks), so use one of them ("{DEFAULT_KUBERNETES_VERSION}" '
            "is in standard support longest)",
        )
    access = config.cluster.access
    if (
        config.environment == "production"
        and access is not None
        and access.permissions_boundary_arn is None
    ):
        raise at(
            "cluster",
            "access",
            "permissions_boundary_arn",
            message="required in production: the IAM policy every role this stack creates "
            "gets as its permissions boundary (arn:aws:iam::<account>:policy/<name>)",
        )
    _check_service_range(config)
    _check_monitoring(config)
    pool = config.cluster.node_pool
    assert pool is not None  # mode eks, validated
    try:  # every app at its most pods must fit, or an autoscaler would leave pods pending
        pool.check_fits({name: app.peak() for name, app in sorted(config.apps.items())})
    except FieldError as exc:
        raise at("cluster", "node_pool", *exc.loc, message=str(exc)) from None


def _check_monitoring(config: StackConfig) -> None:
    """An app with alerts on a cluster this stack builds needs the stack's monitoring."""
    if config.cluster.monitoring is not None:
        return
    watched = sorted(name for name, app in config.apps.items() if app.monitoring is not None)
    if watched:
        raise at(
            "cluster",
            "monitoring",
            message=f"required: apps {watched} have monitoring, whose ServiceMonitor and "
            "PrometheusRule need the Prometheus Operator's CRDs and a Prometheus to read "
            "them; add {version: <kube-prometheus-stack chart>, receiver: {kind, credential}}",
        )


def _check_service_range(config: StackConfig) -> None:
    """The VPC must not overlap the cluster's Service range (EKS refuses it, and the cluster
    DNS address the network policies allow lives there)."""
    import ipaddress

    from webplatform.cluster.eks import DEFAULT_SERVICE_CIDR

    vpc = config.cluster.vpc
    assert vpc is not None  # mode eks, validated
    if ipaddress.ip_network(vpc.cidr).overlaps(ipaddress.ip_network(DEFAULT_SERVICE_CIDR)):
        raise at(
            "cluster",
            "vpc",
            "cidr",
            message=f"overlaps the cluster's Service range {DEFAULT_SERVICE_CIDR}; use a VPC "
            "range outside it (e.g. in 10.0.0.0/8)",
        )
