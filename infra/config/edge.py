"""The CDN in front of an app: the components' own settings models, chosen by ``provider``
(``cloudfront``, ``cloudflare`` or ``none``), plus ``app``, the app it fronts.

Nothing here restates a component setting. The origin is derived from that app's route
(``apps.<app>.route.hosts``), never written twice: CloudFront's origin is the route's
primary host, Cloudflare proxies the route's hosts (a rule of :mod:`infra.config.stack`).
``provider: none`` may name another stack's CDN that fails over to this stack's route
(``failoverFor``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union

from pydantic import Field, ValidationError, WrapValidator, model_validator
from pydantic_core import ErrorDetails, InitErrorDetails

from infra.config._base import _DNS_LABEL, AppName
from webplatform._model import Args, FieldError, at
from webplatform.edge.cloudflare import CloudflareSettings
from webplatform.edge.cloudfront import CloudFrontSettings

if TYPE_CHECKING:
    from infra.config.apps import AppSpec

CdnProvider = Literal["cloudfront", "cloudflare", "none"]


class _Fronts(Args):
    app: AppName
    """The app the CDN fronts (a key of ``apps``); its route's hosts give the origin."""


class CloudFrontCdnSpec(CloudFrontSettings, _Fronts):
    """``provider: cloudfront``: the component's settings and the app it fronts."""

    provider: Literal["cloudfront"]
    """CloudFront (ACM, Route 53, WAF), for a stack whose cluster is on AWS."""

    #: The key to fix when the origin is one of the public names: the route's host is the origin.
    origin_key: ClassVar[str] = "app"

    @model_validator(mode="after")
    def _origin_zone(self) -> CloudFrontCdnSpec:
        """The origin host's record (to the Gateway's load balancer) needs a Route 53 zone."""
        if self.origin_zone_id is None and self.hosted_zone_id is None:
            raise at(
                "origin_zone_id",
                message="required without hostedZoneId: the Route 53 zone (an ID like "
                "Z0123456789ABCDEFGHIJ) in which the stack points the origin host (the route's "
                "primary host) at the Gateway's load balancer",
            )
        return self

    def public_names(self, route_hosts: tuple[str, ...]) -> list[str]:
        """The names viewers use: the host and its aliases (the origin is the route's host)."""
        return self.hostnames

    def origin(self, route_hosts: tuple[str, ...]) -> str:
        """The route's primary host: the name CloudFront sends as SNI and Host."""
        return route_hosts[0]


class CloudflareEdgeSpec(CloudflareSettings, _Fronts):
    """``provider: cloudflare``: the component's settings and the app it fronts."""

    provider: Literal["cloudflare"]
    """Cloudflare's proxy in front of the app's route hosts."""

    origin_key: ClassVar[str] = "app"

    def public_names(self, route_hosts: tuple[str, ...]) -> list[str]:
        """The proxied names: the route's hosts, which its certificate covers."""
        return list(route_hosts)

    def origin(self, route_hosts: tuple[str, ...]) -> Any:
        """None: the proxied records point at the Gateway's load balancer, an address the
        stack reads from the Gateway (no name in the stack file to check)."""
        return None


class FailoverOrigin(Args):
    """This stack's route is the failover origin of another stack's CloudFront (prod-dr).

    Without it the recovery region's origin would have no DNS record and would not require
    the header the distribution sends, so a failover would reach nothing (or anything could
    reach the origin). The header's value is the other stack's output ``originHeader`` (a
    secret), read with a stack reference in the same backend, organization and project.
    """

    stack: Annotated[str, Field(pattern=_DNS_LABEL, max_length=63)]
    """The stack whose CDN fails over to this one (``prod``); required."""
    app: AppName
    """The app whose route's primary host is that CDN's ``failoverOriginHost``; required."""
    origin_zone_id: Annotated[str, Field(pattern=r"^Z[A-Z0-9]{1,31}$")]
    """The Route 53 zone of that host, where the stack points it at its own load balancer;
    required."""


class NoCdn(Args):
    """``provider: none``: no CDN; the app's route is reached directly."""

    provider: Literal["none"]
    """No CDN of this stack's own."""
    failover_for: FailoverOrigin | None = None
    """Another stack's CDN that fails over to this stack's route (Pulumi.prod-dr.yaml);
    default none."""
    trusted_proxy_hops: int = Field(default=0, ge=0, le=2)
    """Proxies in front of the Gateway that another stack manages, whose ``X-Forwarded-For``
    entries the Gateway trusts to find the client (the per-client rate limit); default 0. A
    recovery stack behind prod's CloudFront (Pulumi.prod-dr.yaml) sets 1, as a stack with its
    own CDN does."""


def _without_tag(value: Any, handler: Any) -> Any:
    """Validate the member ``provider`` picks, with errors at the stack file's keys: a tagged
    union puts the tag in each error's location (``cdn.cloudfront.host``); the key is
    ``cdn.host``."""
    try:
        return handler(value)
    except ValidationError as error:
        details = [d for d in map(_untagged, error.errors()) if d is not None]
        raise ValidationError.from_exception_data(error.title, details) from None


def _untagged(item: ErrorDetails) -> InitErrorDetails | None:
    loc, kind = item["loc"], item["type"]
    tag = str(loc[0]) if loc and loc[0] in _MEMBERS else None
    if any(str(part).startswith(("json-or-python[", "is-instance[")) for part in loc):
        return None  # Input[T]: the "or an Output" half; a stack file holds plain values
    loc = tuple(part for part in loc if part not in ("str", "int", "bool"))  # Input[T]'s plain half
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        missing = " and is missing" if kind == "union_tag_not_found" else ""
        return _located("provider", f"must be cloudfront, cloudflare or none (no CDN){missing}")
    if tag is not None:
        loc, fields = loc[1:], _MEMBERS[tag].model_fields
        if kind == "extra_forbidden" and len(loc) == 1 and loc[0] not in fields:
            # Name the keys this provider allows, provider and app first (a field's snake_case
            # name stays a plain unknown key: the report suggests its camelCase).
            names = sorted(fields, key=lambda n: n not in ("provider", "app"))
            allowed = ", ".join(fields[n].alias or n for n in names)
            return _located(str(loc[0]), f"unknown key for provider {tag}; allowed: {allowed}")
    detail = InitErrorDetails(type=kind, loc=loc, input=item.get("input"))
    if "ctx" in item:
        detail["ctx"] = item["ctx"]
    return detail


def _located(key: str, message: str) -> InitErrorDetails:
    error = FieldError((key,), message)
    return InitErrorDetails(type="value_error", loc=(), input=None, ctx={"error": error})


_MEMBERS: dict[str, type[Args]] = {
    "cloudfront": CloudFrontCdnSpec,
    "cloudflare": CloudflareEdgeSpec,
    "none": NoCdn,
}

Cdn = Annotated[
    Union[CloudFrontCdnSpec, CloudflareEdgeSpec, NoCdn],  # noqa: UP007 - a runtime type object
    Field(discriminator="provider"),
    WrapValidator(_without_tag),
]


def route_hosts(apps: Mapping[str, AppSpec], name: str) -> tuple[str, ...]:
    """The public hosts of app ``name``'s route (first = primary); () without a route."""
    app = apps.get(name)
    route = app.route if app is not None else None
    return tuple(route.hosts) if route is not None else ()
