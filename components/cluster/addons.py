"""What every cluster needs before apps: ingress, certificates, metrics, optionally Argo Rollouts.

Installed with Helm at versions pinned by the caller (the stack file), each in
its own namespace with Pod Security Admission labels:

- ``ingress-nginx`` behind an AWS Network Load Balancer, two replicas,
  snippet annotations off (they let an Ingress author inject nginx config);
  namespace ``baseline`` (the controller adds ``NET_BIND_SERVICE``), with
  ``restricted`` audited and warned;
- ``cert-manager`` with its CRDs, and a ``ClusterIssuer`` (ACME, HTTP-01
  through the nginx ingress class) that Ingresses name for their TLS
  certificates; namespace ``restricted``;
- ``metrics-server`` in ``kube-system``: the HPA reads CPU and memory from it;
- the Argo Rollouts controller, only when ``argo_rollouts`` is set (blue-green
  and canary apps need it); namespace ``baseline``, ``restricted`` warned.

Why ``helm.v3.Release`` and not ``helm.v4.Chart``: a Release is one resource
whose inputs (chart, pinned version, values) our tests and the offline synth
can read; ``v4.Chart`` is a provider-side component whose children mocks never
see, so nothing about it could be asserted offline. A Release also runs the
chart's own hooks and upgrade logic (cert-manager's CRD handling, the
ingress-nginx admission webhook jobs) exactly as Helm does, and ``atomic``
rolls a failed upgrade back. The price is a coarser diff (values, not
objects); ``pulumi preview`` still shows value changes.

New charts (the External Secrets Operator, for one) are one more
:class:`HelmChart` in :meth:`ClusterAddons._charts`, or passed in
``extra_charts`` without touching this module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from webplatform import _validation
from webplatform.guardrails.namespace import Namespace, NamespaceArgs, PodSecurityLevel

LETSENCRYPT_PRODUCTION = "https://acme-v02.api.letsencrypt.org/directory"
LETSENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"
_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BUILT_IN = ("ingress-nginx", "cert-manager", "metrics-server", "argo-rollouts")


def check_chart_version(field: str, version: str) -> None:
    """A chart version must be exact: a range would let an upgrade in unreviewed."""
    if not isinstance(version, str) or not _VERSION.match(version):
        raise ValueError(
            f"{field}={version!r}: must be an exact chart version like '4.12.1' or 'v1.17.2'"
        )


@dataclass(frozen=True, kw_only=True)
class HelmChart:
    """One chart to install as a Helm release."""

    name: str
    """Release name, and the suffix of its Pulumi resources (frozen once released)."""
    chart: str
    """Chart name in the repository."""
    repo: str
    """Chart repository URL (https)."""
    version: str
    """Exact chart version."""
    namespace: str
    """Namespace of the release."""
    values: Mapping[str, Any] = field(default_factory=dict)
    """Chart values; default none."""
    pod_security: PodSecurityLevel | None = "restricted"
    """Pod Security level enforced on the namespace, which this component creates; ``None``
    for an existing namespace (``kube-system``). Audit and warn are always ``restricted``."""

    def __post_init__(self) -> None:
        _validation.dns_label("name", self.name, max_length=53)  # Helm's release name limit
        _validation.dns_label("namespace", self.namespace)
        check_chart_version(f"{self.name}.version", self.version)
        if not self.repo.startswith("https://"):
            raise ValueError(f"repo={self.repo!r}: must be an https:// chart repository")


@dataclass(frozen=True, kw_only=True)
class ClusterIssuerArgs:
    """The ACME ``ClusterIssuer`` Ingresses get their certificates from."""

    email: str
    """Contact for expiry and revocation notices from the ACME server; required."""
    server: str = LETSENCRYPT_PRODUCTION
    """ACME directory URL; default Let's Encrypt production. Use :data:`LETSENCRYPT_STAGING`
    where untrusted certificates are fine (it has far higher rate limits)."""
    name: str = "letsencrypt"
    """The issuer's name, which Ingresses reference; default ``letsencrypt``."""
    ingress_class: str = "nginx"
    """Ingress class that serves HTTP-01 challenges; default ``nginx``."""

    def __post_init__(self) -> None:
        if not isinstance(self.email, str) or not _EMAIL.match(self.email):
            raise ValueError(f"email={self.email!r}: not an email address")
        if not self.server.startswith("https://"):
            raise ValueError(f"server={self.server!r}: an ACME directory URL starts with https://")
        _validation.dns_label("name", self.name)


@dataclass(frozen=True, kw_only=True)
class ClusterAddonsArgs:
    ingress_nginx_version: str
    """ingress-nginx chart version; required (pinned per stack)."""
    cert_manager_version: str
    """cert-manager chart version; required."""
    metrics_server_version: str
    """metrics-server chart version; required."""
    cluster_issuer: ClusterIssuerArgs
    """The ACME issuer; required (the email is yours to give)."""
    argo_rollouts: bool = False
    """Install the Argo Rollouts controller; default false (only blue-green/canary apps need it)."""
    argo_rollouts_version: str | None = None
    """argo-rollouts chart version; required when ``argo_rollouts`` is set."""
    ingress_replicas: int = 2
    """ingress-nginx controller replicas; default 2, so a node drain keeps ingress up."""
    extra_charts: Sequence[HelmChart] = ()
    """More charts to install after cert-manager; default none."""

    def __post_init__(self) -> None:
        check_chart_version("ingress_nginx_version", self.ingress_nginx_version)
        check_chart_version("cert_manager_version", self.cert_manager_version)
        check_chart_version("metrics_server_version", self.metrics_server_version)
        if self.argo_rollouts:
            if self.argo_rollouts_version is None:
                raise ValueError("argo_rollouts_version=None: required when argo_rollouts is true")
            check_chart_version("argo_rollouts_version", self.argo_rollouts_version)
        if isinstance(self.ingress_replicas, bool) or self.ingress_replicas < 1:
            raise ValueError(f"ingress_replicas={self.ingress_replicas!r}: must be 1 or more")
        names = [c.name for c in self.extra_charts]
        clash = sorted({n for n in names if names.count(n) > 1} | (set(names) & set(_BUILT_IN)))
        if clash:
            raise ValueError(f"extra_charts: release names {clash} are used twice")


class ClusterAddons(pulumi.ComponentResource):
    """Helm releases of the cluster's shared controllers, and cert-manager's ClusterIssuer."""

    releases: dict[str, k8s.helm.v3.Release]
    """Release name -> release, for ``depends_on`` (an Ingress needs ingress-nginx's webhook)."""
    cluster_issuer_name: str

    def __init__(
        self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:cluster_addons:ClusterAddons", name, None, opts)
        self.releases = {}
        for chart in self._charts(args):
            after = [self.releases["cert-manager"]] if chart.name not in _BUILT_IN else []
            self.releases[chart.name] = self._release(name, chart, after)

        issuer = args.cluster_issuer
        k8s.apiextensions.CustomResource(
            f"{name}-cluster-issuer",
            api_version="cert-manager.io/v1",
            kind="ClusterIssuer",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=issuer.name),
            spec={
                "acme": {
                    "email": issuer.email,
                    "server": issuer.server,
                    "privateKeySecretRef": {"name": f"{issuer.name}-account-key"},
                    "solvers": [
                        {"http01": {"ingress": {"ingressClassName": issuer.ingress_class}}}
                    ],
                }
            },
            # The ClusterIssuer kind exists once cert-manager's CRDs are installed.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.releases["cert-manager"]]),
        )
        self.cluster_issuer_name = issuer.name
        self.register_outputs(
            {
                "releases": {n: r.status for n, r in self.releases.items()},
                "cluster_issuer_name": self.cluster_issuer_name,
            }
        )

    @staticmethod
    def _charts(args: ClusterAddonsArgs) -> list[HelmChart]:
        charts = [
            HelmChart(
                name="ingress-nginx",
                chart="ingress-nginx",
                repo="https://kubernetes.github.io/ingress-nginx",
                version=args.ingress_nginx_version,
                namespace="ingress-nginx",
                pod_security="baseline",
                values={
                    "controller": {
                        "replicaCount": args.ingress_replicas,
                        "allowSnippetAnnotations": False,
                        "metrics": {"enabled": True},
                        "service": {
                            "externalTrafficPolicy": "Local",  # keep client IPs for rate limits
                            "annotations": {
                                "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
                            },
                        },
                    }
                },
            ),
            HelmChart(
                name="cert-manager",
                chart="cert-manager",
                repo="https://charts.jetstack.io",
                version=args.cert_manager_version,
                namespace="cert-manager",
                values={"crds": {"enabled": True, "keep": True}},
            ),
            HelmChart(
                name="metrics-server",
                chart="metrics-server",
                repo="https://kubernetes-sigs.github.io/metrics-server",
                version=args.metrics_server_version,
                namespace="kube-system",
                pod_security=None,
            ),
        ]
        if args.argo_rollouts:
            assert args.argo_rollouts_version is not None  # checked in ClusterAddonsArgs
            charts.append(
                HelmChart(
                    name="argo-rollouts",
                    chart="argo-rollouts",
                    repo="https://argoproj.github.io/argo-helm",
                    version=args.argo_rollouts_version,
                    namespace="argo-rollouts",
                    pod_security="baseline",
                    values={"installCRDs": True, "dashboard": {"enabled": False}},
                )
            )
        return [*charts, *args.extra_charts]

    def _release(
        self, name: str, chart: HelmChart, after: Sequence[pulumi.Resource]
    ) -> k8s.helm.v3.Release:
        namespace: pulumi.Input[str] = chart.namespace
        if chart.pod_security is not None:
            namespace = Namespace(
                f"{name}-{chart.name}",
                NamespaceArgs(name=chart.namespace, enforce=chart.pod_security),
                opts=pulumi.ResourceOptions(parent=self),
            ).name
        return k8s.helm.v3.Release(
            f"{name}-{chart.name}",
            k8s.helm.v3.ReleaseArgs(
                name=chart.name,
                chart=chart.chart,
                version=chart.version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo),
                namespace=namespace,
                values=dict(chart.values),
                atomic=True,
                cleanup_on_fail=True,
                max_history=10,
                timeout=600,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
        )
