"""What the two CDN components share: host-name types, the security-header settings, checks.

Kept free of provider SDK imports so that validating a stack file never pays
for ``pulumi_aws`` or ``pulumi_cloudflare``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field, field_validator, model_validator

from webplatform._model import Args, at

#: One year, the HSTS max-age browsers' preload lists expect and the TTL of fingerprinted assets.
ONE_YEAR_SECONDS = 31_536_000

_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$)({_LABEL}\.)+[a-z][-a-z0-9]{{0,61}}[a-z0-9]$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

FrameOptions = Literal["DENY", "SAMEORIGIN"]
ReferrerPolicy = Literal[
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
]
FRAME_OPTIONS: tuple[str, ...] = get_args(FrameOptions)
REFERRER_POLICIES: tuple[str, ...] = get_args(ReferrerPolicy)


def hostname(value: str) -> str:
    if not _HOSTNAME.match(value):
        raise ValueError(
            f"{value!r} is not a fully qualified host name in lowercase; write it like "
            "'www.example.com' (no scheme, port, path or trailing dot)"
        )
    return value


def _certificate_domain(value: str) -> str:
    if not _HOSTNAME.match(value.removeprefix("*.")):
        raise ValueError(
            f"{value!r} is not a host name or a one-level wildcard; write it like "
            "'www.example.com' or '*.example.com'"
        )
    return value


#: A fully qualified DNS name in lowercase, without scheme, port, path or trailing dot.
Hostname = Annotated[str, AfterValidator(hostname)]
#: A host name, or a wildcard one level deep (``*.example.com``).
CertificateDomain = Annotated[str, AfterValidator(_certificate_domain)]


def covers(certificate: str, host: str) -> bool:
    """Whether a certificate name is valid for ``host``: equal, or a wildcard for exactly one label.

    ``*.example.com`` covers ``www.example.com`` but neither ``example.com`` nor
    ``a.b.example.com`` (RFC 6125: the wildcard stands for one whole label).
    """
    if certificate == host:
        return True
    if certificate.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == certificate[2:]
    return False


def distinct_names(host: str, aliases: Iterable[str]) -> str | None:
    """The first alias that repeats another or equals the host, or None."""
    seen = {host}
    for alias in aliases:
        if alias in seen:
            return alias
        seen.add(alias)
    return None


def origin_problem(origin: str, public_names: Iterable[str]) -> str | None:
    """Why ``origin`` cannot be the origin of a CDN serving ``public_names``, or None.

    An origin that is one of the CDN's own public names would send the CDN's
    requests back to itself (CloudFront), or be a record pointing at itself (Cloudflare).
    """
    names = list(public_names)
    if origin in names:
        return (
            f"the origin {origin!r} is also one of the CDN's public names {names}; "
            "the CDN would be its own origin"
        )
    return None


def hosted_zone_id(value: str) -> str:
    """Route 53 hosted zone IDs: 'Z' and up to 31 uppercase letters and digits."""
    if not re.fullmatch(r"Z[A-Z0-9]{1,31}", value):
        raise ValueError(
            f"{value!r} is not a Route 53 hosted zone ID; write it like "
            "'Z0123456789ABCDEFGHIJ' (without the '/hostedzone/' prefix)"
        )
    return value


def zone_id(value: str) -> str:
    """Cloudflare zone IDs are 32 lowercase hex characters."""
    if len(value) != 32 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError(
            "must be a Cloudflare zone ID: 32 lowercase hex characters, "
            "from the zone's Overview page"
        )
    return value


def slug(host: str) -> str:
    """A host name as a resource-name suffix: ``*.example.com`` -> ``wildcard-example-com``."""
    return host.replace("*", "wildcard").replace(".", "-")


def hsts_value(max_age_seconds: int, *, include_subdomains: bool, preload: bool) -> str:
    value = f"max-age={max_age_seconds}"
    if include_subdomains:
        value += "; includeSubDomains"
    if preload:
        value += "; preload"
    return value


class EdgeHeaders(Args):
    """The settings both CDN components share: the security headers and the assets' TTL."""

    content_security_policy: str
    """The ``Content-Security-Policy`` header, with ``default-src``; required: no default fits."""
    assets_ttl_seconds: int = Field(default=ONE_YEAR_SECONDS, ge=1, le=ONE_YEAR_SECONDS)
    """Edge and browser TTL of assets; default (and at most) one year, ``immutable``'s span."""
    hsts_max_age_seconds: int = Field(default=ONE_YEAR_SECONDS, ge=1)
    """HSTS max-age; default one year, what the browsers' preload lists ask for."""
    hsts_include_subdomains: bool = True
    """HSTS includeSubDomains; default true: every name under the host is HTTPS-only too."""
    hsts_preload: bool = False
    """HSTS preload; default false: it commits the whole domain and is slow to undo."""
    frame_options: FrameOptions = "DENY"
    """``X-Frame-Options``; default DENY (no framing; SAMEORIGIN allows the site itself)."""
    referrer_policy: ReferrerPolicy = "strict-origin-when-cross-origin"
    """``Referrer-Policy``; default strict-origin-when-cross-origin (browsers' own default)."""

    @field_validator("content_security_policy")
    @classmethod
    def _csp(cls, value: str) -> str:
        """Without ``default-src`` a policy restricts only the directives it lists, rarely meant."""
        if not value.strip():
            raise ValueError("a Content-Security-Policy is required, e.g. \"default-src 'self'\"")
        if _CONTROL.search(value):
            raise ValueError("must be a single header line (no control characters)")
        directives = {d.strip().split(" ", 1)[0].lower() for d in value.split(";") if d.strip()}
        if "default-src" not in directives:
            raise ValueError(
                "must set default-src, the fallback for every resource type the policy does "
                "not list; add e.g. \"default-src 'self'\""
            )
        return value

    @model_validator(mode="after")
    def _preload(self) -> EdgeHeaders:
        if self.hsts_preload and (
            self.hsts_max_age_seconds < ONE_YEAR_SECONDS or not self.hsts_include_subdomains
        ):
            raise at(
                "hsts_preload",
                message=f"true needs hstsMaxAgeSeconds >= {ONE_YEAR_SECONDS} and "
                "hstsIncludeSubdomains: true (the browsers' preload list refuses less); "
                "raise those or set hstsPreload: false",
            )
        return self
