"""An Ingress for ingress-nginx: cert-manager TLS, HTTPS only, a per-client rate limit.

Every annotation here is checked against the ingress-nginx annotation list
(kubernetes/ingress-nginx, ``docs/user-guide/nginx-configuration/annotations.md``).
Reference 004 uses annotations that ingress-nginx does not have, which the
controller silently ignores:

- ``nginx.ingress.kubernetes.io/hsts`` and ``.../hsts-max-age`` do not exist.
  HSTS is a *controller* setting: the ingress-nginx ConfigMap keys ``hsts``
  (on by default), ``hsts-max-age``, ``hsts-include-subdomains`` and
  ``hsts-preload``, applied to every server that has TLS. This Ingress always
  has TLS, so it gets the header; set the age on the controller, not here.
  (A per-Ingress header would need a ``configuration-snippet``, which
  ingress-nginx disables by default since 1.9 because snippets can read the
  controller's secrets.)
- ``nginx.ingress.kubernetes.io/rate-limit`` does not exist. The real ones are
  ``limit-rps`` / ``limit-rpm`` (requests per client IP, with a burst of
  ``limit-burst-multiplier`` times that, default 5) and ``limit-connections``.
  The limits are per controller replica.
- ``kubernetes.io/ingress.class`` is deprecated since Kubernetes 1.18:
  ``spec.ingressClassName`` replaces it.

``ssl-redirect`` is already the controller's default once TLS is set; we also
set ``force-ssl-redirect`` so HTTP is redirected (308) even if TLS is
terminated in front of the controller (an AWS load balancer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from webplatform import _validation
from webplatform._labels import app_labels

_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
NGINX = "nginx.ingress.kubernetes.io"
IssuerKind = Literal["ClusterIssuer", "Issuer"]
PathType = Literal["Prefix", "Exact"]


@dataclass(frozen=True, kw_only=True)
class IngressRoute:
    """Where an app is published and how: host, certificate issuer, limits."""

    host: str
    """Public DNS name (lowercase, fully qualified); required."""
    issuer: str
    """cert-manager issuer that signs the certificate, e.g. ``letsencrypt-prod``; required."""
    issuer_kind: IssuerKind = "ClusterIssuer"
    """``ClusterIssuer`` (default) or a namespaced ``Issuer``."""
    tls_secret_name: str | None = None
    """Secret cert-manager writes the certificate to; default ``<app>-tls``."""
    ingress_class_name: str = "nginx"
    """The IngressClass of the controller; default ``nginx``."""
    path: str = "/"
    """Default ``/``."""
    path_type: PathType = "Prefix"
    """Default ``Prefix``."""
    limit_rps: int | None = 20
    """Requests per second per client IP (burst 5x); default 20. ``None``: no limit."""
    limit_connections: int | None = None
    """Concurrent connections per client IP; default none."""

    def __post_init__(self) -> None:
        if not isinstance(self.host, str) or not _HOST.match(self.host):
            raise ValueError(
                f"host={self.host!r}: must be a fully qualified, lowercase DNS name "
                "like 'web.example.com'"
            )
        _validation.dns_label("issuer", self.issuer, max_length=253)
        _validation.one_of("issuer_kind", self.issuer_kind, ("ClusterIssuer", "Issuer"))
        if self.tls_secret_name is not None:
            _validation.dns_label("tls_secret_name", self.tls_secret_name, max_length=253)
        _validation.dns_label("ingress_class_name", self.ingress_class_name)
        if not self.path.startswith("/"):
            raise ValueError(f"path={self.path!r}: must start with '/'")
        _validation.one_of("path_type", self.path_type, ("Prefix", "Exact"))
        for name in ("limit_rps", "limit_connections"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or value < 1):
                raise ValueError(f"{name}={value!r}: must be at least 1, or None for no limit")

    def annotations(self) -> dict[str, str]:
        """The cert-manager and ingress-nginx annotations (values are strings, as the API requires)."""
        issuer_key = "cluster-issuer" if self.issuer_kind == "ClusterIssuer" else "issuer"
        found = {
            f"cert-manager.io/{issuer_key}": self.issuer,
            f"{NGINX}/ssl-redirect": "true",
            f"{NGINX}/force-ssl-redirect": "true",
        }
        if self.limit_rps is not None:
            found[f"{NGINX}/limit-rps"] = str(self.limit_rps)
        if self.limit_connections is not None:
            found[f"{NGINX}/limit-connections"] = str(self.limit_connections)
        return found


@dataclass(frozen=True, kw_only=True)
class IngressArgs:
    app: str
    """The app's name; the Ingress is named after it."""
    namespace: pulumi.Input[str]
    service_name: pulumi.Input[str]
    """The Service to route to (a ``Service.service_name``)."""
    service_port: int
    """The Service's port (not the container's)."""
    route: IngressRoute
    """Host, issuer and limits."""

    def __post_init__(self) -> None:
        _validation.dns_label("app", self.app)
        _validation.port("service_port", self.service_port)


class Ingress(pulumi.ComponentResource):
    """A ``networking.k8s.io/v1`` Ingress with TLS from cert-manager, HTTPS only, rate-limited."""

    ingress_name: pulumi.Output[str]
    url: str
    """``https://<host><path>``."""

    def __init__(
        self, name: str, args: IngressArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:ingress:Ingress", name, None, opts)
        route = args.route
        net = k8s.networking.v1
        ingress = net.Ingress(
            f"{name}-ingress",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.app,
                namespace=args.namespace,
                labels=app_labels(args.app),
                annotations=route.annotations(),
            ),
            spec=net.IngressSpecArgs(
                ingress_class_name=route.ingress_class_name,
                tls=[
                    net.IngressTLSArgs(
                        hosts=[route.host], secret_name=route.tls_secret_name or f"{args.app}-tls"
                    )
                ],
                rules=[
                    net.IngressRuleArgs(
                        host=route.host,
                        http=net.HTTPIngressRuleValueArgs(
                            paths=[
                                net.HTTPIngressPathArgs(
                                    path=route.path,
                                    path_type=route.path_type,
                                    backend=net.IngressBackendArgs(
                                        service=net.IngressServiceBackendArgs(
                                            name=args.service_name,
                                            port=net.ServiceBackendPortArgs(
                                                number=args.service_port
                                            ),
                                        )
                                    ),
                                )
                            ]
                        ),
                    )
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.ingress_name = ingress.metadata.name
        self.url = f"https://{route.host}{route.path}"
        self.register_outputs({"ingress_name": self.ingress_name, "url": self.url})
