"""An app's public route through the Gateway API: HTTPS only, security headers, a rate limit.

ingress-nginx, which the references (001, 004) use, was retired by Kubernetes SIG
Network in March 2026 (no releases, no security fixes since). Its successor is the
Gateway API; the implementation here is Envoy Gateway (see :mod:`webplatform.edge.gateway`
for why). Per app, in the app's namespace:

- an ``HTTPRoute`` named ``<app>`` attached to the stack Gateway's HTTPS listeners
  of the app's hosts (``sectionName: https-<host>``), sending ``path`` to the app's
  Service, with a ``ResponseHeaderModifier`` filter that sets HSTS and the security
  headers of reference 004 (``X-Frame-Options``, ``X-Content-Type-Options``,
  ``Referrer-Policy``; not ``X-XSS-Protection``, which browsers dropped and which can
  open holes in old ones). For an Argo canary the rule has a second backend, the
  canary Service at weight 0, whose weight the Argo Rollouts Gateway API plugin sets
  (Pulumi owns the route, so a ``pulumi up`` in the middle of a canary puts the weights
  back to 100/0 until the controller's next step: release with ``pulumi up``, then let the
  canary finish before the next one);
- an ``HTTPRoute`` named ``<app>-redirect`` on the HTTP listeners, whose only rule
  is a ``RequestRedirect`` filter to ``https`` (301): plain HTTP never reaches the app;
- with a rate limit, an Envoy Gateway ``BackendTrafficPolicy`` named ``<app>``
  targeting the HTTPS route: a *local* limit per client IP (``sourceCIDR`` of type
  ``Distinct`` over all of IPv4 and IPv6), enforced by each Envoy replica on its own.
  Local, not global, because a global limit needs a Redis-backed rate-limit service
  deployed and configured in Envoy Gateway, one more stateful system to run and secure
  for a per-client cap whose purpose is to blunt abuse, not to bill exactly: with N
  Envoy replicas a client gets at most N times the limit. Behind a CDN the address Envoy
  sees is the CDN's edge: the Gateway then trusts the CDN's ``X-Forwarded-For`` entry
  (``GatewayArgs.trusted_proxy_hops``), or one edge location would be one "client".

TLS is the Gateway's: cert-manager (``--enable-gateway-api``) makes a Certificate for
the HTTPS listeners' hostnames from the Gateway's ``cert-manager.io/cluster-issuer``
annotation, so the route holds no certificate reference.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator

from webplatform._labels import app_labels
from webplatform._model import Args, Input, Items
from webplatform._types import DnsLabel, Hostname, Port, ServiceName, Subdomain, Wired

GATEWAY_API = "gateway.networking.k8s.io/v1"
ENVOY_GATEWAY_API = "gateway.envoyproxy.io/v1alpha1"
ONE_YEAR_SECONDS = 31_536_000
IssuerKind = Literal["ClusterIssuer", "Issuer"]
RateUnit = Literal["Second", "Minute", "Hour"]


class RateLimit(Args):
    """Requests per client IP per unit of time, per Envoy replica; over it, 429."""

    requests: Annotated[int, Field(ge=1, le=1_000_000)] = 20
    """Requests allowed per client IP per ``unit``; default 20 (per second)."""
    unit: RateUnit = "Second"
    """``Second`` (default), ``Minute`` or ``Hour``."""


class RouteSettings(Args):
    """Where an app is published and how: its hosts, certificate issuer, headers and limit.

    ``hosts`` is the one list of the app's public names: the HTTPRoute, the Gateway's
    listeners and their certificate, and a CDN's origin all derive from it.
    """

    hosts: Annotated[Items[Hostname], Field(min_length=1, max_length=16)]
    """Public DNS names (lowercase, fully qualified), the first being the primary; required."""
    issuer: Subdomain
    """cert-manager issuer that signs the certificate of these hosts, e.g. ``letsencrypt``;
    required (a ClusterIssuer unless ``issuerKind`` says otherwise)."""
    issuer_kind: IssuerKind = "ClusterIssuer"
    """``ClusterIssuer`` (default) or an ``Issuer`` in the Gateway's namespace."""
    path: Annotated[str, Field(pattern=r"^/[^\s?#]*$", max_length=1024)] = "/"
    """Path prefix sent to the app; default ``/`` (everything)."""
    rate_limit: RateLimit | None = RateLimit()
    """Per-client limit; default 20 requests per second. ``null``: no limit."""
    hsts_max_age_seconds: Annotated[int, Field(ge=0, le=63_072_000)] = ONE_YEAR_SECONDS
    """HSTS max-age; default one year (reference 004). 0 tells browsers to forget it."""
    hsts_include_subdomains: bool = True
    """HSTS includeSubDomains; default true (reference 004)."""
    hsts_preload: bool = False
    """HSTS preload; default false (a slow-to-undo commitment for the whole domain)."""
    frame_options: Literal["DENY", "SAMEORIGIN"] = "DENY"
    """X-Frame-Options; default ``DENY`` (reference 004)."""
    referrer_policy: Literal[
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    ] = "strict-origin-when-cross-origin"
    """Referrer-Policy; default ``strict-origin-when-cross-origin`` (references 000, 004)."""

    @field_validator("hosts")
    @classmethod
    def _unique(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(hosts)) != len(hosts):
            raise ValueError("each host may appear once")
        return hosts

    @property
    def primary_host(self) -> str:
        return self.hosts[0]

    def response_headers(self) -> dict[str, str]:
        """The headers every response through the route carries."""
        hsts = f"max-age={self.hsts_max_age_seconds}"
        if self.hsts_include_subdomains:
            hsts += "; includeSubDomains"
        if self.hsts_preload:
            hsts += "; preload"
        return {
            "Strict-Transport-Security": hsts,
            "X-Frame-Options": self.frame_options,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": self.referrer_policy,
        }


def listener_names(host: str) -> tuple[str, str]:
    """The Gateway's (HTTP, HTTPS) listener names for ``host``: stable, whatever the order."""
    return f"http-{host}", f"https-{host}"


class PublicRouteArgs(Args):
    """The HTTPRoutes (and rate-limit policy) of one app on the stack's Gateway."""

    app: ServiceName
    """The app's name; the routes are ``<app>`` and ``<app>-redirect``."""
    namespace: Input[str]
    """The app's namespace (the Gateway admits routes from it)."""
    service_name: Input[str]
    """The Service to route to (a ``Service.service_name``; an Argo canary's stable Service)."""
    service_port: Port
    """The Service's port (not the container's)."""
    canary_service_name: Wired[str] | None = None
    """Argo canary: the canary Service, a second backend at weight 0 whose weight the Argo
    Rollouts Gateway API plugin moves; default none."""
    gateway_name: DnsLabel
    """The stack's Gateway (``Gateway.gateway_name``)."""
    gateway_namespace: DnsLabel
    """The Gateway's namespace."""
    route: RouteSettings
    """Hosts, issuer, headers and limit."""

    @staticmethod
    def object_names(app: str, route: RouteSettings) -> dict[str, list[str]]:
        """The objects the route of ``app`` creates in the app's namespace, by kind."""
        names = {"HTTPRoute": [app, f"{app}-redirect"]}
        if route.rate_limit is not None:
            names["BackendTrafficPolicy"] = [app]
        return names


def _parents(args: PublicRouteArgs, https: bool) -> list[dict[str, Any]]:
    return [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "namespace": args.gateway_namespace,
            "name": args.gateway_name,
            "sectionName": listener_names(host)[1 if https else 0],
        }
        for host in args.route.hosts
    ]


def _rate_limit(limit: RateLimit) -> dict[str, Any]:
    """A local limit per distinct client address, IPv4 and IPv6 each a rule of its own."""
    return {
        "local": {
            "rules": [
                {
                    "clientSelectors": [{"sourceCIDR": {"type": "Distinct", "value": cidr}}],
                    "limit": {"requests": limit.requests, "unit": limit.unit},
                }
                for cidr in ("0.0.0.0/0", "::/0")
            ]
        }
    }


class PublicRoute(pulumi.ComponentResource):
    """An app's HTTPS route, its HTTP-to-HTTPS redirect and its per-client rate limit."""

    route_name: pulumi.Output[str]
    """The HTTPS HTTPRoute's name (the Argo canary's plugin moves its weights)."""
    url: str
    """``https://<primary host><path>``."""

    def __init__(
        self, name: str, args: PublicRouteArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:route:PublicRoute", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        route = args.route
        labels = app_labels(args.app)
        backends: list[dict[str, Any]] = [
            {"kind": "Service", "name": args.service_name, "port": args.service_port}
        ]
        if args.canary_service_name is not None:
            backends[0]["weight"] = 100
            backends.append(
                {
                    "kind": "Service",
                    "name": args.canary_service_name,
                    "port": args.service_port,
                    "weight": 0,
                }
            )
        headers = [{"name": k, "value": v} for k, v in route.response_headers().items()]
        https = k8s.apiextensions.CustomResource(
            f"{name}-https",
            api_version=GATEWAY_API,
            kind="HTTPRoute",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.app, namespace=args.namespace, labels=labels
            ),
            spec={
                "parentRefs": _parents(args, https=True),
                "hostnames": list(route.hosts),
                "rules": [
                    {
                        "matches": [{"path": {"type": "PathPrefix", "value": route.path}}],
                        "filters": [
                            {
                                "type": "ResponseHeaderModifier",
                                "responseHeaderModifier": {"set": headers},
                            }
                        ],
                        "backendRefs": backends,
                    }
                ],
            },
            opts=child,
        )
        k8s.apiextensions.CustomResource(
            f"{name}-redirect",
            api_version=GATEWAY_API,
            kind="HTTPRoute",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{args.app}-redirect", namespace=args.namespace, labels=labels
            ),
            spec={
                "parentRefs": _parents(args, https=False),
                "hostnames": list(route.hosts),
                "rules": [
                    {
                        "filters": [
                            {
                                "type": "RequestRedirect",
                                "requestRedirect": {"scheme": "https", "statusCode": 301},
                            }
                        ]
                    }
                ],
            },
            opts=child,
        )
        if route.rate_limit is not None:
            k8s.apiextensions.CustomResource(
                f"{name}-rate-limit",
                api_version=ENVOY_GATEWAY_API,
                kind="BackendTrafficPolicy",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=args.app, namespace=args.namespace, labels=labels
                ),
                spec={
                    "targetRefs": [
                        {
                            "group": "gateway.networking.k8s.io",
                            "kind": "HTTPRoute",
                            "name": args.app,
                        }
                    ],
                    "rateLimit": _rate_limit(route.rate_limit),
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[https]),
            )
        # Derived from the resource so that whatever uses the name waits for the route.
        self.route_name = https.id.apply(lambda _: args.app)
        self.url = f"https://{route.primary_host}{route.path}"
        self.register_outputs({"route_name": self.route_name, "url": self.url})
