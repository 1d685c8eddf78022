"""An EKS Auto Mode NodeClass that enforces NetworkPolicies, and the switch that turns enforcement on.

EKS Auto Mode admits every ``NetworkPolicy`` and enforces none of them until
two things hold (AWS EKS user guide, "Use network policies with EKS Auto
Mode", ``auto-net-pol``):

1. the ConfigMap ``amazon-vpc-cni`` in ``kube-system`` says
   ``enable-network-policy-controller: "true"`` (Auto Mode runs the VPC CNI
   itself, so no ``aws-node`` DaemonSet or add-on setting exists to flip);
2. the nodes come from a NodeClass whose ``networkPolicy`` is set. The
   built-in ``default`` NodeClass cannot be edited, so the apps' NodePool
   names this one instead.

The NodeClass repeats what the ``default`` one gives (the guide,
``create-node-class``: ``role``, ``subnetSelectorTerms`` and
``securityGroupSelectorTerms`` are required): the cluster's Auto Mode node
role (EKS already made its access entry; another role would need its own,
with ``AmazonEKSAutoNodePolicy``), the cluster's private subnets by id, and
the cluster security group EKS created.

``networkPolicy`` is the default for pods no policy selects. ``DefaultAllow``
(the default here): the apps' namespace carries its own default-deny policy
(:class:`webplatform.guardrails.network_policy.DefaultDeny`), while the
add-ons' namespaces (Envoy Gateway, cert-manager, the operators), whose charts
bring no policies, keep working. ``DefaultDeny`` isolates every pod of every
namespace that has no allow-list: only for clusters where each workload
brings one. ``networkPolicyEventLogs: Enabled`` writes allowed and denied
flows to a log on each node, which is how a denied connection is found.
"""

from __future__ import annotations

from typing import Annotated, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import AfterValidator, Field

from webplatform import _validation
from webplatform._model import Args, Items
from webplatform._types import Wired

__all__ = ["NodeClass", "NodeClassArgs"]

API_VERSION = "eks.amazonaws.com/v1"
#: The ConfigMap EKS Auto Mode reads to turn its network policy controller on.
VPC_CNI_CONFIG = "amazon-vpc-cni"
ENFORCEMENT_KEY = "enable-network-policy-controller"


def _name(value: str) -> str:
    _validation.dns_label("name", value)
    return value


class NodeClassArgs(Args):
    """A NodeClass for the apps' NodePool, with NetworkPolicy enforcement on."""

    role: Wired[str]
    """Name of the nodes' IAM role (``EksCluster.node_role_name``); required."""
    subnet_ids: Annotated[Items[Wired[str]], Field(min_length=1)]
    """Subnets the nodes go in (the cluster's private subnets); required."""
    security_group_ids: Annotated[Items[Wired[str]], Field(min_length=1)]
    """The nodes' security groups (``EksCluster.cluster_security_group_id``); required."""
    network_policy: Literal["DefaultAllow", "DefaultDeny"] = "DefaultAllow"
    """What pods that no NetworkPolicy selects may do; default ``DefaultAllow`` (the apps'
    namespaces deny by policy; add-on namespaces have none). See the module docstring."""
    network_policy_event_logs: Literal["Enabled", "Disabled"] = "Enabled"
    """Log allowed/denied flows on each node; default ``Enabled`` (how a denial is found)."""
    name: Annotated[str, AfterValidator(_name)] = "apps"
    """The NodeClass's name, which the NodePool references; default ``apps``."""


class NodeClass(pulumi.ComponentResource):
    """An ``eks.amazonaws.com/v1`` NodeClass and the ``amazon-vpc-cni`` ConfigMap that turns
    NetworkPolicy enforcement on; see the module docstring."""

    name: pulumi.Output[str]
    """The NodeClass's name, known once it exists (a NodePool naming it waits for it)."""
    enforcement: k8s.core.v1.ConfigMap
    """The switch, for ``depends_on`` (policies are enforced only once it exists)."""

    def __init__(
        self, name: str, args: NodeClassArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:cluster:NodeClass", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Server-side apply: an existing ConfigMap (made by hand, per the guide) is adopted,
        # and the patchForce annotation the stack adds keeps this key ours.
        self.enforcement = k8s.core.v1.ConfigMap(
            f"{name}-network-policy-controller",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=VPC_CNI_CONFIG, namespace="kube-system"),
            data={ENFORCEMENT_KEY: "true"},
            opts=child,
        )
        node_class = k8s.apiextensions.CustomResource(
            f"{name}-node-class",
            api_version=API_VERSION,
            kind="NodeClass",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.name),
            spec={
                "role": args.role,
                "subnetSelectorTerms": [{"id": s} for s in args.subnet_ids],
                "securityGroupSelectorTerms": [{"id": g} for g in args.security_group_ids],
                "networkPolicy": args.network_policy,
                "networkPolicyEventLogs": args.network_policy_event_logs,
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.enforcement]),
        )
        self.name = node_class.id.apply(lambda _: args.name)
        self.register_outputs({"name": self.name})
