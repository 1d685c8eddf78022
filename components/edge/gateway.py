"""The stack's Gateway: HTTP and HTTPS listeners per public host, TLS from cert-manager.

Why Envoy Gateway (``gatewayClassName`` default ``envoy-gateway``, the GatewayClass the
cluster add-ons create for it) among the maintained Gateway API implementations:

- it runs on any conformant cluster: EKS, kind, and our local control plane alike,
  with its data plane (Envoy) in the cluster, where the AWS Load Balancer Controller's
  Gateway support needs AWS load balancers and so cannot be tested off AWS;
- it is a CNCF (Envoy) project with a release line current in late 2026 (v1.9), full
  core conformance for ``HTTPRoute``, and the extension policies we need
  (``BackendTrafficPolicy`` for per-client rate limits, ``ClientTrafficPolicy`` for
  client-IP detection) as typed CRDs rather than annotations;
- NGINX Gateway Fabric also fits, but keeps rate limiting in its own newer policy
  types; Envoy Gateway's have been stable longer.

One Gateway per stack, named after the stack's app namespace (two stacks can share a
cluster), in Envoy Gateway's namespace, where the Envoy proxies it spawns also run
(the apps' network policies admit that namespace). Per public host, two listeners:
``http-<host>`` on 80 (whose only route is the app's redirect to HTTPS) and
``https-<host>`` on 443 terminating TLS with the Secret ``<gateway>-<app>-tls``. Routes
are admitted only from the apps' namespace (``allowedRoutes`` on
``kubernetes.io/metadata.name``), and on the HTTP listeners also from the Gateway's own
namespace, where cert-manager puts the temporary HTTPRoute that answers an ACME HTTP-01
challenge (its exact path wins over the redirect's prefix ``/``).

The ``cert-manager.io/cluster-issuer`` (or ``issuer``) annotation makes cert-manager's
gateway-shim (cert-manager started with Gateway API support, ``config.enableGatewayAPI``)
create one Certificate per Secret, for the hostnames of the HTTPS listeners that name it:
each app's hosts get one certificate. The issuer's HTTP-01 solver must use a
``gatewayHTTPRoute`` on this Gateway (an ingress solver has no ingress class to use).
With cert-manager, the HTTPS listeners admit routes from the Gateway's namespace too:
Let's Encrypt follows redirects, so a renewal's challenge that arrives on 443 (an HTTP
request redirected to HTTPS by the app's own redirect route, HSTS, or a proxy in front)
must find the solver's route there as well; on the HTTP listener alone, renewal fails as
soon as anything in front upgrades the request.

A listener's certificate may instead be given (``certificates``: a CDN's origin
certificate, see :mod:`webplatform.edge.cloudflare`): the Gateway then holds it in the
TLS Secret itself, and has no cert-manager annotation (cert-manager's gateway-shim would
make a Certificate for every TLS Secret of an annotated Gateway and overwrite the given
one), so all of a Gateway's apps use given certificates, or none does.

With ``proxy`` (EKS), the Gateway names an ``EnvoyProxy`` (:mod:`webplatform.edge.proxy`)
in ``spec.infrastructure.parametersRef``: an internet-facing NLB, several proxy replicas
spread over zones, a disruption budget. ``address`` is the load balancer's DNS name, read
from the Gateway's ``status.addresses`` once Envoy Gateway has programmed it (the provider
waits for that); DNS records and the CDN's origin are built from it.
"""

from __future__ import annotations

from typing import Annotated, Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, model_validator

from webplatform._labels import PART_OF
from webplatform._model import Args, Input, Items, at
from webplatform._types import DnsLabel, Hostname, ServiceName, Subdomain, Wired
from webplatform.edge.proxy import ENVOY_PROXY_KIND, ProxySettings, envoy_proxy_spec
from webplatform.edge.route import ENVOY_GATEWAY_API, GATEWAY_API, IssuerKind, listener_names
from webplatform.guardrails.network_policy import GATEWAY_NAMESPACE, NAMESPACE_NAME_LABEL

#: pulumi-kubernetes' annotation naming what to wait for on a custom resource.
WAIT_FOR = "pulumi.com/waitFor"
#: The Gateway API's limit on listeners per Gateway.
MAX_LISTENERS = 64


class GivenCertificate(Args):
    """A certificate the caller provides for an app's hosts (PEM), instead of cert-manager's."""

    certificate: Input[str]
    """The certificate chain, PEM; required."""
    private_key: Input[str]
    """Its private key, PEM; required; a Pulumi secret (kept secret in the TLS Secret)."""


class _ObservedResource(k8s.apiextensions.CustomResource):
    """A custom resource whose ``status`` the program reads back (the SDK's class declares
    only its inputs as outputs; the provider returns the live object once it is ready)."""

    status: pulumi.Output[Any]

    def _internal_init(  # type: ignore[override]
        self,
        resource_name: str,
        api_version: str,
        kind: str,
        opts: pulumi.ResourceOptions | None = None,
        metadata: Any = None,
        spec: Any = None,
    ) -> None:
        # What the SDK's own kinds do for their status (e.g. Deployment): an output-only
        # property, None in the inputs, which the engine fills from the live object.
        props = k8s.apiextensions.CustomResourceArgs.__new__(k8s.apiextensions.CustomResourceArgs)
        props.__dict__.update(
            api_version=api_version, kind=kind, metadata=metadata, spec=spec, status=None
        )
        pulumi.CustomResource.__init__(
            self,
            f"kubernetes:{api_version}:{kind}",
            resource_name,
            props,  # type: ignore[arg-type]  # an input type, as the SDK's own classes pass
            opts,
        )


class GatewayArgs(Args):
    """One Gateway for a stack's public apps."""

    gateway_name: DnsLabel
    """The Gateway's name; required (the stack passes its app namespace's name)."""
    namespace: DnsLabel = GATEWAY_NAMESPACE
    """Namespace of the Gateway (and its TLS Secrets); default ``envoy-gateway-system``."""
    gateway_class_name: DnsLabel = "envoy-gateway"
    """The GatewayClass of the implementation; default ``envoy-gateway``, the class
    ``ClusterAddons`` creates for Envoy Gateway's controller."""
    routes_namespace: Input[str]
    """The only namespace whose routes may attach (the apps' namespace)."""
    hosts: Annotated[dict[ServiceName, Items[Hostname]], Field(min_length=1)]
    """App name -> its public hosts (``RouteSettings.hosts``); required."""
    issuer: Subdomain
    """cert-manager issuer of every listener's certificate; required."""
    issuer_kind: IssuerKind = "ClusterIssuer"
    """``ClusterIssuer`` (default) or an ``Issuer`` in the Gateway's namespace."""
    proxy: ProxySettings | None = None
    """The proxies' EnvoyProxy (internet-facing NLB, replicas, spread, budget); default none:
    Envoy Gateway's defaults (one proxy, an internal NLB on EKS). Set on every cluster where
    Envoy Gateway programs this Gateway."""
    source_ranges: Wired[list[str]] | None = None
    """With ``proxy``: the only client CIDRs the load balancer admits (a CDN's published
    ranges); default none: any address (the origin is then guarded by its route's policy)."""
    certificates: dict[ServiceName, GivenCertificate] = Field(default_factory=dict)
    """App -> the certificate of its hosts, given instead of cert-manager's; default none.
    Either every app of ``hosts`` has one, or none."""
    trusted_proxy_hops: Annotated[int, Field(ge=0, le=5)] = 0
    """Proxies in front of the Gateway that append the client's address to
    ``X-Forwarded-For`` (a CDN: 1); default 0, the connection's address is the client.
    Behind a CDN, 0 would make every client of one CDN edge location one "client" for the
    per-client rate limit; N > 0 adds an Envoy Gateway ``ClientTrafficPolicy`` taking the
    client from the N-th address from the right (set it only when the Gateway is reachable
    through those proxies alone, or clients can choose their address: a stack with a CDN
    guards the route with :class:`~webplatform.edge.origin.OriginGuard`)."""

    @model_validator(mode="after")
    def _listeners(self) -> GatewayArgs:
        owner: dict[str, str] = {}
        for app, hosts in self.hosts.items():
            for host in hosts:
                if host in owner and owner[host] != app:
                    raise at(
                        "hosts",
                        app,
                        message=f"{host} is also a host of app {owner[host]}; a host routes "
                        "to one app",
                    )
                owner[host] = app
        given = set(self.certificates)
        if given and given != set(self.hosts):
            raise at(
                "certificates",
                message=f"given for {sorted(given)} but not for "
                f"{sorted(set(self.hosts) - given)}: cert-manager would take over every TLS "
                "Secret of the Gateway; give a certificate for every app, or none",
            )
        if 2 * len(owner) > MAX_LISTENERS:
            raise at(
                "hosts",
                message=f"{len(owner)} hosts need {2 * len(owner)} listeners; a Gateway has "
                f"at most {MAX_LISTENERS} (two per host)",
            )
        return self

    @property
    def uses_cert_manager(self) -> bool:
        return not self.certificates

    def tls_secret(self, app: str) -> str:
        return f"{self.gateway_name}-{app}-tls"

    def object_names(self) -> dict[str, list[str]]:
        """The objects of the Gateway's namespace: the Gateway, its client policy and, by
        cert-manager, the TLS Secrets."""
        names = {
            "Gateway": [self.gateway_name],
            "Secret": [self.tls_secret(app) for app in self.hosts],
        }
        if self.trusted_proxy_hops:
            names["ClientTrafficPolicy"] = [self.gateway_name]
        if self.proxy is not None:
            names["EnvoyProxy"] = [self.gateway_name]
        return names


def _allowed(*namespaces: pulumi.Input[str]) -> dict[str, Any]:
    return {
        "namespaces": {
            "from": "Selector",
            "selector": {
                "matchExpressions": [
                    {"key": NAMESPACE_NAME_LABEL, "operator": "In", "values": list(namespaces)}
                ]
            },
        },
        "kinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}],
    }


def _listeners(args: GatewayArgs) -> list[dict[str, Any]]:
    listeners = []
    for app, hosts in args.hosts.items():
        for host in hosts:
            http, https = listener_names(host)
            listeners.append(
                {
                    "name": http,
                    "hostname": host,
                    "port": 80,
                    "protocol": "HTTP",
                    # With cert-manager, also its ACME solver's route (in this namespace).
                    "allowedRoutes": _allowed(args.routes_namespace, args.namespace)
                    if args.uses_cert_manager
                    else _allowed(args.routes_namespace),
                }
            )
            listeners.append(
                {
                    "name": https,
                    "hostname": host,
                    "port": 443,
                    "protocol": "HTTPS",
                    "tls": {
                        "mode": "Terminate",
                        "certificateRefs": [
                            {"group": "", "kind": "Secret", "name": args.tls_secret(app)}
                        ],
                    },
                    # cert-manager's solver route too: a renewal's challenge may arrive on 443.
                    "allowedRoutes": _allowed(args.routes_namespace, args.namespace)
                    if args.uses_cert_manager
                    else _allowed(args.routes_namespace),
                }
            )
    return listeners


class Gateway(pulumi.ComponentResource):
    """A ``gateway.networking.k8s.io/v1`` Gateway with per-host HTTP and HTTPS listeners."""

    gateway_name: str
    """The Gateway's name (routes' ``parentRefs``)."""
    namespace: str
    """The Gateway's namespace."""
    address: pulumi.Output[str | None]
    """The load balancer's address (an NLB's DNS name on EKS) from ``status.addresses``;
    None where nothing programs the Gateway (the local control plane)."""

    def __init__(
        self, name: str, args: GatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:gateway:Gateway", name, None, opts)
        issuer_key = "cluster-issuer" if args.issuer_kind == "ClusterIssuer" else "issuer"
        labels = {"app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/managed-by": "pulumi"}
        before: list[pulumi.Resource] = []
        spec: dict[str, Any] = {
            "gatewayClassName": args.gateway_class_name,
            "listeners": _listeners(args),
        }
        if args.proxy is not None:
            before.append(
                k8s.apiextensions.CustomResource(
                    f"{name}-proxy",
                    api_version=ENVOY_GATEWAY_API,
                    kind=ENVOY_PROXY_KIND,
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=args.gateway_name, namespace=args.namespace, labels=labels
                    ),
                    spec=envoy_proxy_spec(
                        args.proxy, args.gateway_name, args.namespace, args.source_ranges
                    ),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
            spec["infrastructure"] = {
                "parametersRef": {
                    "group": ENVOY_GATEWAY_API.partition("/")[0],
                    "kind": ENVOY_PROXY_KIND,
                    "name": args.gateway_name,
                }
            }
        for app, given in args.certificates.items():
            before.append(
                k8s.core.v1.Secret(
                    f"{name}-tls-{app}",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=args.tls_secret(app), namespace=args.namespace, labels=labels
                    ),
                    type="kubernetes.io/tls",
                    string_data={
                        "tls.crt": given.certificate,
                        "tls.key": pulumi.Output.secret(given.private_key),
                    },
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        gateway = _ObservedResource(
            f"{name}-gateway",
            api_version=GATEWAY_API,
            kind="Gateway",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.gateway_name,
                namespace=args.namespace,
                labels=labels,
                annotations=_annotations(args, issuer_key) or None,
            ),
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=before),
        )
        if args.trusted_proxy_hops:
            k8s.apiextensions.CustomResource(
                f"{name}-client-traffic",
                api_version=ENVOY_GATEWAY_API,
                kind="ClientTrafficPolicy",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=args.gateway_name, namespace=args.namespace, labels=labels
                ),
                spec={
                    "targetRefs": [
                        {
                            "group": "gateway.networking.k8s.io",
                            "kind": "Gateway",
                            "name": args.gateway_name,
                        }
                    ],
                    "clientIPDetection": {
                        "xForwardedFor": {"numTrustedHops": args.trusted_proxy_hops}
                    },
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
            )
        self.gateway_name = args.gateway_name
        self.namespace = args.namespace
        self.address = gateway.status.apply(_address)
        self.register_outputs(
            {
                "gateway_name": self.gateway_name,
                "namespace": self.namespace,
                "address": self.address,
            }
        )


def _annotations(args: GatewayArgs, issuer_key: str) -> dict[str, str]:
    found = {}
    if args.uses_cert_manager:
        found[f"cert-manager.io/{issuer_key}"] = args.issuer
    if args.proxy is not None:
        # The provider waits until Envoy Gateway publishes the load balancer's address
        # (pulumi-kubernetes' generic await), so ``address`` is known when the CDN's
        # records are made, not empty on the first `pulumi up`.
        found[WAIT_FOR] = "jsonpath={.status.addresses[0].value}"
    return found


def _address(status: Any) -> str | None:
    """The first address Envoy Gateway published (the NLB's DNS name), or None."""
    for address in (status or {}).get("addresses") or []:
        if address.get("value"):
            return str(address["value"])
    return None
