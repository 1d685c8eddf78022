"""What every cluster needs before apps: the Gateway API, certificates, metrics, optionally Argo Rollouts.

Installed with Helm at versions pinned by the caller (the stack file), each in
its own namespace with Pod Security Admission labels:

- **Envoy Gateway** (``oci://docker.io/envoyproxy/gateway-helm``), the Gateway
  API implementation: its chart brings the Gateway API CRDs (standard channel)
  and the controller, which turns each ``Gateway`` into an Envoy deployment
  and an AWS load balancer. This component adds the ``GatewayClass``
  (:data:`GATEWAY_CLASS`) the stack's Gateway names. It replaces ingress-nginx,
  retired by Kubernetes SIG Network in March 2026 (no releases, no CVE fixes).
  Namespace ``envoy-gateway-system``, ``baseline`` (the proxies bind low
  ports), ``restricted`` audited and warned;
- **cert-manager** with its CRDs and its Gateway API support on
  (``config.gatewayAPI.enabled``; ``enableGatewayAPI`` is its deprecated
  spelling since 1.21), and a ``ClusterIssuer`` (ACME, HTTP-01 answered
  through an HTTPRoute on the stack's Gateway) that routes' certificates come
  from; installed after the Gateway API CRDs exist (cert-manager reads them at
  start); namespace ``restricted``;
- **metrics-server** in ``kube-system`` when asked for: the HPA reads CPU and
  memory from it. On EKS it is the managed add-on instead (its version follows
  the cluster's, see :mod:`webplatform.cluster.eks`), so EKS stacks leave it out;
- the **Argo Rollouts** controller, only when ``argo_rollouts.enabled`` (blue-green
  and canary apps need it), with the Gateway API traffic-router plugin
  (``argoproj-labs/gatewayAPI``) so a canary shifts weights on the app's
  HTTPRoute; namespace ``baseline``, ``restricted`` warned.

Why ``helm.v3.Release`` and not ``helm.v4.Chart``: a Release is one resource
whose inputs (chart, pinned version, values) our tests and the offline synth
can read; ``v4.Chart`` is a provider-side component whose children mocks never
see, so nothing about it could be asserted offline. A Release also runs the
chart's own hooks and upgrade logic (cert-manager's CRD handling) exactly as
Helm does, and ``atomic`` rolls a failed upgrade back. The price is a coarser
diff (values, not objects); ``pulumi preview`` still shows value changes.

New charts (the External Secrets Operator, for one) are one more
:class:`HelmChart` in :meth:`ClusterAddons._charts`, or passed in
``extra_charts`` without touching this module.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import AfterValidator, Field, model_validator

from webplatform import _validation
from webplatform._model import Args, Items, at
from webplatform.cluster._checks import ChartVersion, duplicates
from webplatform.guardrails.namespace import Namespace, NamespaceArgs, PodSecurityLevel

LETSENCRYPT_PRODUCTION = "https://acme-v02.api.letsencrypt.org/directory"
LETSENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"
#: Where Envoy Gateway runs, and where it puts each Gateway's Envoy proxies.
GATEWAY_NAMESPACE = "envoy-gateway-system"
#: The GatewayClass this component creates; the stack's Gateway names it.
GATEWAY_CLASS = "envoy-gateway"
ENVOY_GATEWAY_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"
ENVOY_GATEWAY_CHART = "oci://docker.io/envoyproxy/gateway-helm"
#: The Argo Rollouts traffic-router plugin for the Gateway API (argoproj-labs), pinned:
#: the controller downloads it at start. Bump with the argo-rollouts chart.
GATEWAY_API_PLUGIN = "argoproj-labs/gatewayAPI"
GATEWAY_API_PLUGIN_VERSION = "v0.16.0"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BUILT_IN = ("envoy-gateway", "cert-manager", "metrics-server", "argo-rollouts")


def _dns_label(value: str) -> str:
    _validation.dns_label("name", value)
    return value


def _release_name(value: str) -> str:
    _validation.dns_label("name", value, max_length=53)  # Helm's release name limit
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("not an email address")
    return value


def _https(value: str) -> str:
    if not value.startswith("https://"):
        raise ValueError("must be an https:// URL")
    return value


DnsLabel = Annotated[str, AfterValidator(_dns_label)]


class HelmChart(Args):
    """One chart to install as a Helm release."""

    name: Annotated[str, AfterValidator(_release_name)]
    """Release name, and the suffix of its Pulumi resources (frozen once released)."""
    chart: str
    """Chart name in ``repo``, or a full OCI reference (``oci://registry/path/chart``)."""
    version: ChartVersion
    """Exact chart version."""
    namespace: DnsLabel
    """Namespace of the release."""
    repo: Annotated[str, AfterValidator(_https)] | None = None
    """Chart repository URL (https); default none, for a chart given as an OCI reference."""
    values: dict[str, Any] = Field(default_factory=dict)
    """Chart values; default none."""
    pod_security: PodSecurityLevel | None = "restricted"
    """Pod Security level enforced on the namespace, which this component creates; ``None``
    for an existing namespace (``kube-system``). Audit and warn are always ``restricted``."""

    @model_validator(mode="after")
    def _source(self) -> HelmChart:
        if (self.repo is None) != self.chart.startswith("oci://"):
            raise at(
                "repo",
                message="give an https:// repo with a chart name, or no repo with an "
                "oci:// chart reference",
            )
        return self


class ChartArgs(Args):
    """One pinned chart of the cluster's add-ons."""

    version: ChartVersion
    """Exact chart version; required (an upgrade is a reviewed change of the stack file)."""


class ClusterIssuerArgs(Args):
    """The ACME ``ClusterIssuer`` routes get their certificates from (``certManager.issuer``)."""

    email: Annotated[str, AfterValidator(_email)]
    """Contact for expiry and revocation notices from the ACME server; required."""
    server: Annotated[str, AfterValidator(_https)] = LETSENCRYPT_PRODUCTION
    """ACME directory URL; default Let's Encrypt production. Use :data:`LETSENCRYPT_STAGING`
    where untrusted certificates are fine (it has far higher rate limits)."""
    name: DnsLabel = "letsencrypt"
    """The issuer's name, which routes' certificates reference; default ``letsencrypt``."""
    gateway_name: DnsLabel = "public"
    """The Gateway (in :data:`GATEWAY_NAMESPACE`) whose HTTP listener answers HTTP-01
    challenges; default ``public``, the stack's one Gateway."""


class CertManagerArgs(ChartArgs):
    """cert-manager's chart and its ClusterIssuer (``addons.certManager``)."""

    issuer: ClusterIssuerArgs
    """The ACME issuer; required (the email is yours to give)."""


class ArgoRolloutsArgs(Args):
    """The Argo Rollouts controller (``addons.argoRollouts``); off unless an app needs it."""

    enabled: bool = False
    """Install the controller; default false (only argoBlueGreen/argoCanary apps need it)."""
    version: ChartVersion | None = None
    """Exact argo-rollouts chart version; required when enabled."""
    plugin_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None
    """SHA-256 (64 lowercase hex digits) of the Gateway API plugin binary
    (``gatewayapi-plugin-linux-amd64`` of :data:`GATEWAY_API_PLUGIN_VERSION`, from the
    release's checksums); required when enabled: the controller downloads the plugin at
    every start and refuses a binary that does not match."""

    @model_validator(mode="after")
    def _version(self) -> ArgoRolloutsArgs:
        if self.enabled and self.version is None:
            raise at("version", message="required when enabled is true (an exact chart version)")
        if self.enabled and self.plugin_sha256 is None:
            raise at(
                "plugin_sha256",
                message="required when enabled is true: the SHA-256 of "
                f"gatewayapi-plugin-linux-amd64 {GATEWAY_API_PLUGIN_VERSION} (the controller "
                "downloads it from GitHub at start; without a checksum any binary is run)",
            )
        return self


class ClusterAddonsArgs(Args):
    """The cluster's shared controllers, each pinned (``cluster.addons``)."""

    envoy_gateway: ChartArgs
    """Envoy Gateway chart (``gateway-helm``, a v1.x tag such as ``v1.9.1``); required."""
    cert_manager: CertManagerArgs
    """cert-manager chart and its ClusterIssuer; required."""
    metrics_server: ChartArgs | None = None
    """metrics-server chart; default none (on EKS the managed add-on provides it). Set it on
    a cluster where nothing else serves the metrics API."""
    argo_rollouts: ArgoRolloutsArgs = Field(default_factory=ArgoRolloutsArgs)
    """Argo Rollouts controller; default off."""
    gateway_controller_replicas: int = Field(default=2, ge=1, le=5)
    """Envoy Gateway controller replicas; default 2, so a node drain keeps Gateway changes
    and certificate routes flowing."""
    extra_charts: Items[HelmChart] = ()
    """More charts to install after cert-manager; default none."""

    @model_validator(mode="after")
    def _names(self) -> ClusterAddonsArgs:
        names = [c.name for c in self.extra_charts]
        clash = sorted(set(duplicates(names)) | (set(names) & set(_BUILT_IN)))
        if clash:
            raise at("extra_charts", message=f"release names {clash} are used twice")
        return self


class ClusterAddons(pulumi.ComponentResource):
    """Helm releases of the cluster's shared controllers, the GatewayClass and the ClusterIssuer."""

    releases: dict[str, k8s.helm.v3.Release]
    """Release name -> release, for ``depends_on`` (a route needs the Gateway API CRDs)."""
    cluster_issuer_name: str
    gateway_class_name: str

    def __init__(
        self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:cluster_addons:ClusterAddons", name, None, opts)
        self.releases = {}
        for chart in self._charts(args):
            if chart.name == "envoy-gateway":
                after: list[pulumi.Resource] = []
            elif chart.name == "cert-manager":
                after = [self.releases["envoy-gateway"]]  # reads the Gateway API CRDs at start
            else:
                after = [self.releases["cert-manager"]]
            self.releases[chart.name] = self._release(name, chart, after)

        k8s.apiextensions.CustomResource(
            f"{name}-gateway-class",
            api_version="gateway.networking.k8s.io/v1",
            kind="GatewayClass",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=GATEWAY_CLASS),
            spec={"controllerName": ENVOY_GATEWAY_CONTROLLER},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.releases["envoy-gateway"]]),
        )
        issuer = args.cert_manager.issuer
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
                        {
                            "http01": {
                                "gatewayHTTPRoute": {
                                    "parentRefs": [
                                        {
                                            "group": "gateway.networking.k8s.io",
                                            "kind": "Gateway",
                                            "name": issuer.gateway_name,
                                            "namespace": GATEWAY_NAMESPACE,
                                        }
                                    ]
                                }
                            }
                        }
                    ],
                }
            },
            # The ClusterIssuer kind exists once cert-manager's CRDs are installed.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.releases["cert-manager"]]),
        )
        self.cluster_issuer_name = issuer.name
        self.gateway_class_name = GATEWAY_CLASS
        self.register_outputs(
            {
                "releases": {n: r.status for n, r in self.releases.items()},
                "cluster_issuer_name": self.cluster_issuer_name,
                "gateway_class_name": self.gateway_class_name,
            }
        )

    @staticmethod
    def _charts(args: ClusterAddonsArgs) -> list[HelmChart]:
        charts = [
            HelmChart(
                name="envoy-gateway",
                chart=ENVOY_GATEWAY_CHART,
                version=args.envoy_gateway.version,
                namespace=GATEWAY_NAMESPACE,
                pod_security="baseline",
                values={
                    # Envoy Gateway's CRDs and the Gateway API's (standard channel), upgraded
                    # with the chart (its default, written out: the routes depend on it).
                    "crds": {"enabled": True},
                    "deployment": {"replicas": args.gateway_controller_replicas},
                    # A drain keeps one controller (the chart's default budget is 0).
                    "podDisruptionBudget": {
                        "minAvailable": min(1, args.gateway_controller_replicas - 1)
                    },
                },
            ),
            HelmChart(
                name="cert-manager",
                chart="cert-manager",
                repo="https://charts.jetstack.io",
                version=args.cert_manager.version,
                namespace="cert-manager",
                values={
                    "crds": {"enabled": True, "keep": True},
                    "config": {
                        "apiVersion": "controller.config.cert-manager.io/v1alpha1",
                        "kind": "ControllerConfiguration",
                        # Since 1.21 the key; `enableGatewayAPI: true` is its deprecated form.
                        "gatewayAPI": {"enabled": True},
                    },
                },
            ),
        ]
        if args.metrics_server is not None:
            charts.append(
                HelmChart(
                    name="metrics-server",
                    chart="metrics-server",
                    repo="https://kubernetes-sigs.github.io/metrics-server",
                    version=args.metrics_server.version,
                    namespace="kube-system",
                    pod_security=None,
                )
            )
        argo = args.argo_rollouts
        if argo.enabled:
            assert argo.version is not None  # checked in ArgoRolloutsArgs
            charts.append(
                HelmChart(
                    name="argo-rollouts",
                    chart="argo-rollouts",
                    repo="https://argoproj.github.io/argo-helm",
                    version=argo.version,
                    namespace="argo-rollouts",
                    pod_security="baseline",
                    values={
                        "installCRDs": True,
                        "dashboard": {"enabled": False},
                        "controller": {
                            "trafficRouterPlugins": [
                                {
                                    "name": GATEWAY_API_PLUGIN,
                                    "location": "https://github.com/argoproj-labs/"
                                    "rollouts-plugin-trafficrouter-gatewayapi/releases/download/"
                                    f"{GATEWAY_API_PLUGIN_VERSION}/gatewayapi-plugin-linux-amd64",
                                    "sha256": argo.plugin_sha256,
                                }
                            ]
                        },
                        # The plugin edits HTTPRoute weights with the controller's RBAC.
                        "providerRBAC": {"enabled": True, "providers": {"gatewayAPI": True}},
                    },
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
                repository_opts=None
                if chart.repo is None
                else k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo),
                namespace=namespace,
                values=dict(chart.values),
                atomic=True,
                cleanup_on_fail=True,
                max_history=10,
                timeout=600,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(after)),
        )
