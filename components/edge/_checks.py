"""Checks and header values shared by the two CDN components and the stack config.

Kept free of provider SDK imports so that validating a stack file never pays
for ``pulumi_aws`` or ``pulumi_cloudflare``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from webplatform import _validation

#: One year, the HSTS max-age browsers' preload lists expect and the TTL of fingerprinted assets.
ONE_YEAR_SECONDS = 31_536_000

_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$)({_LABEL}\.)+[a-z][-a-z0-9]{{0,61}}[a-z0-9]$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

#: CloudFront price classes (edge locations used); 100 is North America and Europe.
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
#: CloudFront viewer security policies at least as strict as TLSv1.2_2021 (TLS 1.2+, no CBC).
MINIMUM_PROTOCOL_VERSIONS = ("TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025")
#: Cloudflare zone minimum TLS versions we allow.
MIN_TLS_VERSIONS = ("1.2", "1.3")
FRAME_OPTIONS = ("DENY", "SAMEORIGIN")
REFERRER_POLICIES = (
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
)


def hostname(field: str, value: str) -> None:
    """A fully qualified DNS name in lowercase, without scheme, port, path or trailing dot."""
    if not isinstance(value, str) or not _HOSTNAME.match(value):
        raise ValueError(
            f"{field}={value!r}: must be a fully qualified host name in lowercase "
            "(e.g. 'www.example.com'), without scheme, port or path"
        )


def hostnames(field: str, values: Iterable[str], *, host: str) -> None:
    """Extra names of a site: each a host name, none repeated, none equal to the main host."""
    seen: set[str] = set()
    for value in values:
        hostname(field, value)
        if value == host or value in seen:
            raise ValueError(f"{field}: {value!r} is listed twice (or equals the host)")
        seen.add(value)


def certificate_domain(field: str, value: str) -> None:
    """A host name, or a wildcard one level deep (``*.example.com``)."""
    hostname(field, value.removeprefix("*."))


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


def content_security_policy(field: str, value: str) -> None:
    """A CSP must be one header line and set ``default-src``, the fallback for every fetch type.

    Without ``default-src`` a policy only restricts the directives it lists and
    leaves every other kind of resource unrestricted, which is rarely meant.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"{field}: a Content-Security-Policy is required (e.g. \"default-src 'self'\")"
        )
    if _CONTROL.search(value):
        raise ValueError(f"{field}={value!r}: must be a single header line (no control characters)")
    directives = {d.strip().split(" ", 1)[0].lower() for d in value.split(";") if d.strip()}
    if "default-src" not in directives:
        raise ValueError(
            f"{field}={value!r}: must set default-src, the fallback for resource types "
            "the policy does not list"
        )


def hsts_value(max_age_seconds: int, *, include_subdomains: bool, preload: bool) -> str:
    value = f"max-age={max_age_seconds}"
    if include_subdomains:
        value += "; includeSubDomains"
    if preload:
        value += "; preload"
    return value


def check_hsts(max_age_seconds: int, include_subdomains: bool, preload: bool) -> None:
    if isinstance(max_age_seconds, bool) or max_age_seconds < 1:
        raise ValueError(f"hsts_max_age_seconds={max_age_seconds!r}: must be a positive number")
    if preload and (max_age_seconds < ONE_YEAR_SECONDS or not include_subdomains):
        raise ValueError(
            f"hsts_preload=True needs hsts_max_age_seconds >= {ONE_YEAR_SECONDS} and "
            "hsts_include_subdomains=True (the browsers' preload list rejects less)"
        )


def zone_id(field: str, value: str) -> None:
    """Cloudflare zone IDs are 32 lowercase hex characters."""
    if (
        not isinstance(value, str)
        or len(value) != 32
        or any(c not in "0123456789abcdef" for c in value)
    ):
        raise ValueError(
            f"{field}={value!r}: must be a Cloudflare zone ID (32 lowercase hex characters, "
            "from the zone's Overview page)"
        )


def hosted_zone_id(field: str, value: str) -> None:
    """Route 53 hosted zone IDs: 'Z' and up to 31 uppercase letters and digits."""
    if not isinstance(value, str) or not re.fullmatch(r"Z[A-Z0-9]{1,31}", value):
        raise ValueError(
            f"{field}={value!r}: must be a Route 53 hosted zone ID like 'Z0123456789ABCDEFGHIJ' "
            "(without the '/hostedzone/' prefix)"
        )


def s3_bucket_name(field: str, value: str) -> None:
    """An S3 bucket name, not its domain: the component adds ``.s3.amazonaws.com`` itself."""
    if (
        not isinstance(value, str)
        or not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", value)
        or ".." in value
        or value.endswith(".amazonaws.com")
    ):
        raise ValueError(
            f"{field}={value!r}: must be an S3 bucket name (not a URL or domain), "
            "e.g. 'acme-cdn-logs'"
        )


def slug(host: str) -> str:
    """A host name as a resource-name suffix: ``*.example.com`` -> ``wildcard-example-com``."""
    return host.replace("*", "wildcard").replace(".", "-")


def check_edge_headers(args: Any) -> None:
    """Checks both CDN components share: asset TTL, HSTS and the security headers' values."""
    ttl = args.assets_ttl_seconds
    if isinstance(ttl, bool) or ttl < 1:
        raise ValueError(f"assets_ttl_seconds={ttl!r}: must be positive")
    check_hsts(args.hsts_max_age_seconds, args.hsts_include_subdomains, args.hsts_preload)
    _validation.one_of("frame_options", args.frame_options, FRAME_OPTIONS)
    _validation.one_of("referrer_policy", args.referrer_policy, REFERRER_POLICIES)
