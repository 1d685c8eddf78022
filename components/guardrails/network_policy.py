"""NetworkPolicies: deny everything in a namespace, then allow each app exactly what it needs.

Two components, because the two halves have different owners:

- :class:`DefaultDeny` belongs to the namespace (one per namespace): an empty
  pod selector with both policy types and no rules, so any pod without an
  allow-policy of its own (a debug pod, a forgotten job) can neither receive
  nor send traffic;
- :class:`AppNetworkPolicy` belongs to an app: ingress from the Gateway's
  namespace (Envoy Gateway's proxies run in ``envoy-gateway-system``) on the app's port and from the monitoring namespace on
  the metrics port; egress to the cluster DNS (53 TCP and UDP), to 443, and to
  named backends.

Where the references (001, 004) differ, and why:

- namespaces are selected on ``kubernetes.io/metadata.name``, the label the API
  server sets on every namespace, not on ``name:``, which only matches if
  someone labelled the namespace by hand (otherwise the rule silently admits
  nothing);
- DNS egress goes to the DNS pods in ``kube-system`` (``k8s-app: kube-dns``, the
  label CoreDNS keeps on EKS), not to port 53 anywhere, which would let a
  compromised pod tunnel data out over DNS to any resolver;
- ports are the *pod's* ports (the container port), not the Service port:
  policies apply after the Service has translated the port, so reference 004's
  ``port: 80`` in front of a pod listening on 8080 admits nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Annotated, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import AfterValidator, Field, model_validator

from webplatform._labels import PART_OF, app_labels
from webplatform._model import Args, Input, Items, at
from webplatform._types import DnsLabel, Labels, Port, ServiceName, Wired

#: The label Kubernetes sets on every namespace (1.21+); nobody has to remember to add it.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
#: Where Envoy Gateway runs its controller and, by default, its Envoy proxies.
GATEWAY_NAMESPACE = "envoy-gateway-system"
Protocol = Literal["TCP", "UDP"]
#: Not "the internet": link-local (169.254.169.254 metadata, 169.254.170.23 Pod Identity),
#: RFC 1918 (VPCs, EKS Service ranges 10.100.0.0/16 and 172.20.0.0/16, pod IPs from the
#: VPC) and RFC 6598 shared space (100.64.0.0/10, custom pod networking).
PRIVATE_RANGES = (
    "169.254.0.0/16",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
)


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value)
    except ValueError:
        raise ValueError("not a network in CIDR notation (e.g. '10.0.0.0/16')") from None
    return value


Cidr = Annotated[str, AfterValidator(_cidr)]


def carve_out(cidr: str, excluded: Items[str]) -> list[str]:
    """The ranges of ``excluded`` that lie strictly inside ``cidr`` (what ``ipBlock.except``
    accepts), without one already covered by another; in the given order."""
    network = ipaddress.ip_network(cidr)
    inside = [
        ipaddress.ip_network(e)
        for e in dict.fromkeys(excluded)
        if ipaddress.ip_network(e).version == network.version
        and ipaddress.ip_network(e).subnet_of(network)  # type: ignore[arg-type]
        and ipaddress.ip_network(e) != network
    ]
    return [
        str(e)
        for e in inside
        if not any(o != e and e.subnet_of(o) for o in inside)  # type: ignore[arg-type]
    ]


def _namespace_selector(namespace: str) -> k8s.meta.v1.LabelSelectorArgs:
    return k8s.meta.v1.LabelSelectorArgs(match_labels={NAMESPACE_NAME_LABEL: namespace})


class Backend(Args):
    """One egress destination: pods in a namespace, or an address range, on one port."""

    port: Port
    """Destination port (the backend pod's port, not its Service port); required."""
    namespace: DnsLabel | None = None
    """Namespace of the backend pods; set this or ``cidr``."""
    pod_labels: Labels = {}
    """Narrow to these pods within ``namespace``; default all pods of it."""
    cidr: Cidr | None = None
    """An address range outside the cluster (e.g. a database subnet); set this or ``namespace``."""
    protocol: Protocol = "TCP"
    """``TCP`` or ``UDP``; default ``TCP``."""

    @model_validator(mode="after")
    def _one_destination(self) -> Backend:
        if (self.namespace is None) == (self.cidr is None):
            raise at("namespace", message="set exactly one of namespace and cidr")
        if self.cidr is not None and self.pod_labels:
            raise at("pod_labels", message="only apply to a namespace backend, not to a cidr")
        return self

    def to_k8s(self) -> k8s.networking.v1.NetworkPolicyEgressRuleArgs:
        if self.cidr is not None:
            peer = k8s.networking.v1.NetworkPolicyPeerArgs(
                ip_block=k8s.networking.v1.IPBlockArgs(cidr=self.cidr)
            )
        else:
            assert self.namespace is not None
            peer = k8s.networking.v1.NetworkPolicyPeerArgs(
                namespace_selector=_namespace_selector(self.namespace),
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(self.pod_labels))
                if self.pod_labels
                else None,
            )
        return k8s.networking.v1.NetworkPolicyEgressRuleArgs(
            to=[peer],
            ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=self.port, protocol=self.protocol)],
        )


class NetworkAccess(Args):
    """Who may talk to an app and whom it may talk to, beyond the namespace's default deny."""

    gateway_namespace: DnsLabel | None = GATEWAY_NAMESPACE
    """Namespace of the Gateway's proxies, admitted on the app port; default
    ``envoy-gateway-system`` (Envoy Gateway). ``null``: not reachable from the Gateway."""
    monitoring_namespace: DnsLabel | None = "monitoring"
    """Namespace of Prometheus, admitted on the metrics port; default ``monitoring``. ``null``: no scraping."""
    dns_namespace: DnsLabel = "kube-system"
    """Namespace of the cluster DNS; default ``kube-system``."""
    dns_pod_labels: Annotated[Labels, Field(min_length=1)] = {"k8s-app": "kube-dns"}
    """Labels of the DNS pods; default ``k8s-app: kube-dns`` (CoreDNS on EKS and most
    distributions). Not empty: that would open port 53 to every pod of the DNS namespace."""
    https_egress_cidrs: Items[Cidr] = ("0.0.0.0/0",)
    """Ranges the app may reach on 443 (external APIs); default anywhere (references 001,
    004) but :attr:`https_egress_except`. ``[]``: none."""
    https_egress_except: Items[Cidr] = PRIVATE_RANGES
    """Ranges carved out of :attr:`https_egress_cidrs` (each ``except`` lies inside its
    cidr, so a range outside every cidr is simply not reachable anyway). Default the
    link-local range (instance metadata, the EKS Pod Identity agent) and the private and
    shared ranges where the API server, VPC endpoints, Services and pods live
    (:data:`PRIVATE_RANGES`); the program adds the cluster's VPC and Service ranges. What
    the app must reach in there it names in ``backends``, which are rules of their own."""
    backends: Items[Backend] = ()
    """Other destinations (in-cluster services, databases); default none."""


class DefaultDenyArgs(Args):
    """The namespace-wide deny-all policy."""

    namespace: Input[str]
    """The namespace to lock down (a ``Namespace.name``)."""
    policy_name: DnsLabel = "default-deny"
    """The policy's name in the cluster; default ``default-deny``."""


class DefaultDeny(pulumi.ComponentResource):
    """Denies all ingress and egress for every pod of a namespace that no other policy allows."""

    policy_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: DefaultDenyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:network_policy:DefaultDeny", name, None, opts)
        policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.policy_name,
                namespace=args.namespace,
                labels={
                    "app.kubernetes.io/part-of": PART_OF,
                    "app.kubernetes.io/managed-by": "pulumi",
                },
            ),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(),
                policy_types=["Ingress", "Egress"],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.policy_name = policy.metadata.name
        self.register_outputs({"policy_name": self.policy_name})


class AppNetworkPolicyArgs(Args):
    """One app's allow-list."""

    app: ServiceName
    """The app's name; the policy is named ``<app>``."""
    namespace: Input[str]
    """The app's namespace."""
    pod_selector: Mapping[str, Wired[str]] = Field(min_length=1)
    """Labels of the app's pods (every colour of a blue-green pair); not empty (it would
    open every pod)."""
    port: Port
    """The pods' HTTP port (container port), admitted from the Gateway."""
    metrics_port: Port | None = None
    """The pods' metrics port, admitted from monitoring; default none."""
    access: NetworkAccess = NetworkAccess()
    """Default: the Gateway and monitoring in, DNS and 443 out, no backends."""


class AppNetworkPolicy(pulumi.ComponentResource):
    """The allow-list of one app, on top of its namespace's :class:`DefaultDeny`."""

    policy_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: AppNetworkPolicyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:network_policy:AppNetworkPolicy", name, None, opts)
        access = args.access
        net = k8s.networking.v1
        ingress = []
        if access.gateway_namespace is not None:
            ingress.append(
                net.NetworkPolicyIngressRuleArgs(
                    from_=[
                        net.NetworkPolicyPeerArgs(
                            namespace_selector=_namespace_selector(access.gateway_namespace)
                        )
                    ],
                    ports=[net.NetworkPolicyPortArgs(port=args.port, protocol="TCP")],
                )
            )
        if access.monitoring_namespace is not None and args.metrics_port is not None:
            ingress.append(
                net.NetworkPolicyIngressRuleArgs(
                    from_=[
                        net.NetworkPolicyPeerArgs(
                            namespace_selector=_namespace_selector(access.monitoring_namespace)
                        )
                    ],
                    ports=[net.NetworkPolicyPortArgs(port=args.metrics_port, protocol="TCP")],
                )
            )
        egress = [
            net.NetworkPolicyEgressRuleArgs(
                to=[
                    net.NetworkPolicyPeerArgs(
                        namespace_selector=_namespace_selector(access.dns_namespace),
                        pod_selector=k8s.meta.v1.LabelSelectorArgs(
                            match_labels=dict(access.dns_pod_labels)
                        ),
                    )
                ],
                ports=[
                    net.NetworkPolicyPortArgs(port=53, protocol="UDP"),
                    net.NetworkPolicyPortArgs(port=53, protocol="TCP"),
                ],
            )
        ]
        if access.https_egress_cidrs:
            egress.append(
                net.NetworkPolicyEgressRuleArgs(
                    to=[
                        net.NetworkPolicyPeerArgs(
                            ip_block=net.IPBlockArgs(
                                cidr=cidr,
                                except_=carve_out(cidr, access.https_egress_except) or None,
                            )
                        )
                        for cidr in access.https_egress_cidrs
                    ],
                    ports=[net.NetworkPolicyPortArgs(port=443, protocol="TCP")],
                )
            )
        egress += [backend.to_k8s() for backend in access.backends]
        policy = net.NetworkPolicy(
            f"{name}-network-policy",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.app, namespace=args.namespace, labels=app_labels(args.app)
            ),
            spec=net.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(args.pod_selector)),
                policy_types=["Ingress", "Egress"],
                ingress=ingress,
                egress=egress,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.policy_name = policy.metadata.name
        self.register_outputs({"policy_name": self.policy_name})
