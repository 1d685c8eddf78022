"""The origin answers only the CDN: a secret header the CDN adds and the Gateway requires.

Once the Gateway's load balancer is internet-facing, anyone can resolve the origin host
and connect to it directly, skipping the CDN's WAF, cache and headers, and forging the
one ``X-Forwarded-For`` hop the Gateway trusts (``GatewayArgs.trusted_proxy_hops``), so
choosing the address the per-client rate limit counts. The CDN therefore sends a header
whose value is a secret (CloudFront: an origin custom header; Cloudflare: a request
header transform rule), and this component makes the app's route refuse requests
without it: an Envoy Gateway ``SecurityPolicy`` with ``apiKeyAuth`` on the app's
HTTPRoute, the value read from a Kubernetes Secret in the app's namespace (never from a
ConfigMap or the policy itself), and ``sanitize`` on, so the app never sees the header.
A direct client gets 401 before the route's backend; its forged ``X-Forwarded-For``
reaches nothing. Through the CDN, the CDN appends the address it saw, which is the one
address the Gateway trusts.

Why a header and not (only) a network rule:

- CloudFront: the origin-facing managed prefix list
  (``com.amazonaws.global.cloudfront.origin-facing``) admits *every* CloudFront
  distribution, any AWS customer's, so it does not prove the request passed our WAF;
  EKS Auto Mode documents no annotation that puts a prefix list on the NLB's security
  group; and it would shut out Let's Encrypt's HTTP-01 requests to the origin host,
  which the CloudFront stacks' certificates need. AWS's own guidance for restricting a
  custom origin is this header (plus the prefix list where the origin allows it).
- Cloudflare: the same reasoning for its published ranges; the stack adds them too
  (see :mod:`webplatform.edge.cloudflare`), since its origin needs no HTTP-01.

Only the app's HTTPS route is guarded: cert-manager's ACME solver route and the HTTP
listener's redirect stay reachable (a redirect to HTTPS, and a challenge token, are
harmless).
"""

from __future__ import annotations

from typing import Annotated

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from webplatform._labels import app_labels
from webplatform._model import Args, Input
from webplatform._types import ServiceName
from webplatform.edge.route import ENVOY_GATEWAY_API

#: The header the CDN sends (lowercase: Envoy sees HTTP/2-style lowercase names).
ORIGIN_HEADER = "x-origin-verify"
#: The client id under which the CDN's key is stored in the Secret (``apiKeyAuth``'s format:
#: one key per client id).
CDN_CLIENT = "cdn"

HeaderName = Annotated[str, Field(pattern=r"^x-[a-z0-9-]{1,60}$")]


class OriginHeader(Args):
    """The secret header a CDN adds to every request it sends to the origin."""

    name: HeaderName = ORIGIN_HEADER
    """The header's name; default ``x-origin-verify``."""
    value: Input[str]
    """Its value; required; a Pulumi secret (:class:`OriginGuard` generates one)."""


class OriginGuardArgs(Args):
    """An app's route that answers only requests carrying the CDN's secret header."""

    app: ServiceName
    """The app; the Secret and the policy are ``<app>-cdn-origin``."""
    namespace: Input[str]
    """The app's namespace (the route's, so the policy may target it)."""
    route_name: Input[str]
    """The app's HTTPS HTTPRoute (``PublicRoute.route_name``)."""
    header_name: HeaderName = ORIGIN_HEADER
    """The header the CDN sends; default ``x-origin-verify``."""
    value: Input[str] | None = None
    """The header's value, a Pulumi secret; default none: generated here (48 letters and
    digits by the ``random`` provider, never typed or shown; rotate with
    ``pulumi up --replace`` on ``<name>-value``)."""


class OriginGuard(pulumi.ComponentResource):
    """A Secret with the CDN's key and a SecurityPolicy requiring it on the app's route."""

    header: OriginHeader
    """What the CDN must send (pass it to the CDN component); its value is a secret."""
    policy_name: str

    def __init__(
        self, name: str, args: OriginGuardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:origin:OriginGuard", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        object_name = f"{args.app}-cdn-origin"
        labels = app_labels(args.app)
        value = args.value
        if value is None:
            import pulumi_random as random

            value = random.RandomPassword(
                f"{name}-value", random.RandomPasswordArgs(length=48, special=False), opts=child
            ).result
        header = OriginHeader(name=args.header_name, value=pulumi.Output.secret(value))
        secret = k8s.core.v1.Secret(
            f"{name}-key",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=object_name, namespace=args.namespace, labels=labels
            ),
            type="Opaque",
            string_data={CDN_CLIENT: header.value},
            opts=child,
        )
        k8s.apiextensions.CustomResource(
            f"{name}-policy",
            api_version=ENVOY_GATEWAY_API,
            kind="SecurityPolicy",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=object_name, namespace=args.namespace, labels=labels
            ),
            spec={
                "targetRefs": [
                    {
                        "group": "gateway.networking.k8s.io",
                        "kind": "HTTPRoute",
                        "name": args.route_name,
                    }
                ],
                "apiKeyAuth": {
                    "credentialRefs": [{"group": "", "kind": "Secret", "name": object_name}],
                    "extractFrom": [{"headers": [header.name]}],
                    "sanitize": True,
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[secret]),
        )
        self.header = header
        self.policy_name = object_name
        self.register_outputs({"policy_name": self.policy_name})
