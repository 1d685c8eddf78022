"""The Cloudflare edge in front of an HTTPS origin: proxied DNS, HTTPS-only zone, caching, headers.

Reference 004 does this with a Worker and a rules file; here it is all
declarative, in pulumi-cloudflare v6 resources:

- a **proxied** ``DnsRecord`` (CNAME to the origin) per host name, so traffic
  goes through Cloudflare's edge and the origin's address is not published;
- **zone settings** as ``ZoneSetting`` resources: always use HTTPS, minimum
  TLS 1.2, SSL mode *strict* (Cloudflare checks the origin's certificate, so
  the origin must present a valid one for the host name; "full" and
  "flexible" would accept any certificate or plain HTTP), automatic HTTPS
  rewrites. These are zone-wide: they apply to every host in the zone;
- one **cache rule** (phase ``http_request_cache_settings``): paths under
  ``/assets/`` (fingerprinted, immutable files) are cached with a one-year
  edge and browser TTL, overriding the origin. Reference 004 matches with
  the regex operator ``matches``, which only Business and Enterprise plans
  allow; ``starts_with`` works on every plan. Everything else keeps
  Cloudflare's default: the origin's ``Cache-Control`` is respected, and
  without it only static file types are cached, never HTML;
- one **response header transform rule** (phase
  ``http_response_headers_transform``): HSTS one year with
  includeSubDomains, ``X-Frame-Options``, ``X-Content-Type-Options``,
  ``Referrer-Policy`` and the stack's ``Content-Security-Policy``.
  ``X-XSS-Protection`` (reference 004) is left out: browsers have removed the
  XSS auditor it controlled; the CSP is what protects against XSS now.

Both rules only match this component's host names, so other hosts in the zone
are not affected.

**One entry-point ruleset per phase per zone.** Cloudflare keeps a single
zone entry-point ruleset for each phase; a second ``Ruleset`` of the same
phase on the same zone replaces (or fails against) the first. This component
therefore puts all its rules of a phase into one ruleset, and two
``CloudflareEdge`` components cannot share a zone: to serve several sites from
one zone, give one component all of their host names (``aliases``).

The API token is provider configuration, not an argument: set
``cloudflare:apiToken`` as a Pulumi secret (or ``CLOUDFLARE_API_TOKEN``), or
pass your own ``cloudflare.Provider`` through ``opts``. The token needs Zone
DNS Edit, Zone Settings Edit, Cache Rules Edit and Transform Rules Edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare

from webplatform import _validation
from webplatform.edge import _checks as _edge

CACHE_PHASE = "http_request_cache_settings"
HEADERS_PHASE = "http_response_headers_transform"


@dataclass(frozen=True, kw_only=True)
class CloudflareEdgeArgs:
    zone_id: pulumi.Input[str]
    """The Cloudflare zone (32 hex characters) holding the host names."""
    host: str
    """The public host name (e.g. ``staging.example.com``), inside the zone."""
    origin_host: str
    """Host name of the origin (the cluster's ingress); the proxied records point to it. With
    SSL strict it must present a valid certificate for ``host`` (Cloudflare sends ``host`` as
    SNI and Host header)."""
    content_security_policy: str
    """The ``Content-Security-Policy`` header; required; must set ``default-src``."""
    aliases: Sequence[str] = ()
    """Other host names in the zone served the same way; default none."""
    min_tls_version: str = "1.2"
    """Zone minimum TLS version for viewers: ``1.2`` (default) or ``1.3``."""
    assets_path_prefix: str = "/assets/"
    """Path prefix of fingerprinted, immutable files; default ``/assets/``."""
    assets_ttl_seconds: int = _edge.ONE_YEAR_SECONDS
    """Edge and browser TTL of assets; default one year."""
    hsts_max_age_seconds: int = _edge.ONE_YEAR_SECONDS
    """HSTS max-age; default one year."""
    hsts_include_subdomains: bool = True
    """HSTS includeSubDomains; default true."""
    hsts_preload: bool = False
    """HSTS preload; default false (a slow-to-undo commitment for the whole domain)."""
    frame_options: str = "DENY"
    """``X-Frame-Options``: DENY (default) or SAMEORIGIN."""
    referrer_policy: str = "strict-origin-when-cross-origin"
    """``Referrer-Policy``; default ``strict-origin-when-cross-origin``."""

    def __post_init__(self) -> None:
        if isinstance(self.zone_id, str):
            _edge.zone_id("zone_id", self.zone_id)
        _edge.hostname("host", self.host)
        _edge.hostnames("aliases", self.aliases, host=self.host)
        _edge.hostname("origin_host", self.origin_host)
        if self.origin_host in (self.host, *self.aliases):
            raise ValueError(
                f"origin_host={self.origin_host!r}: must differ from the host and aliases "
                "(a proxied record cannot point to itself)"
            )
        _edge.content_security_policy("content_security_policy", self.content_security_policy)
        _validation.one_of("min_tls_version", self.min_tls_version, _edge.MIN_TLS_VERSIONS)
        prefix = self.assets_path_prefix
        if (
            not prefix.startswith("/")
            or not prefix.endswith("/")
            or prefix == "/"
            or any(c in prefix for c in '"\\ ')
        ):
            raise ValueError(
                f"assets_path_prefix={prefix!r}: must be a path like '/assets/' "
                "(leading and trailing '/', not '/' alone, no quotes, backslashes or spaces)"
            )
        _edge.check_edge_headers(self)

    @property
    def hostnames(self) -> list[str]:
        return [self.host, *self.aliases]

    @property
    def host_expression(self) -> str:
        """A rule expression matching this component's host names (validated: no quotes)."""
        return "http.host in {" + " ".join(f'"{h}"' for h in self.hostnames) + "}"


class CloudflareEdge(pulumi.ComponentResource):
    """Proxied DNS records, HTTPS-only zone settings, a cache ruleset and a headers ruleset."""

    domain_name: pulumi.Output[str]
    """The proxied host name (Cloudflare has no separate CDN name: the host is the edge)."""
    cache_ruleset_id: pulumi.Output[str]
    headers_ruleset_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: CloudflareEdgeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:cdn_cloudflare:CloudflareEdge", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        records = [
            cloudflare.DnsRecord(
                f"{name}-dns-record"
                if host == args.host
                else f"{name}-dns-record-{_edge.slug(host)}",
                cloudflare.DnsRecordArgs(
                    zone_id=args.zone_id,
                    name=host,
                    type="CNAME",
                    content=args.origin_host,
                    proxied=True,
                    ttl=1,  # 'automatic': the only TTL a proxied record may have
                    comment="Managed by Pulumi (webplatform)",
                ),
                opts=child,
            )
            for host in args.hostnames
        ]
        for setting, value in (
            ("always_use_https", "on"),
            ("min_tls_version", args.min_tls_version),
            ("ssl", "strict"),
            ("automatic_https_rewrites", "on"),
        ):
            cloudflare.ZoneSetting(
                f"{name}-{setting.replace('_', '-')}",
                cloudflare.ZoneSettingArgs(zone_id=args.zone_id, setting_id=setting, value=value),
                opts=child,
            )
        cache = self._cache_ruleset(name, args, child)
        headers = self._headers_ruleset(name, args, child)

        self.domain_name = records[0].name
        self.cache_ruleset_id = cache.id
        self.headers_ruleset_id = headers.id
        self.register_outputs(
            {
                "domain_name": self.domain_name,
                "cache_ruleset_id": self.cache_ruleset_id,
                "headers_ruleset_id": self.headers_ruleset_id,
            }
        )

    @staticmethod
    def _cache_ruleset(
        name: str, args: CloudflareEdgeArgs, child: pulumi.ResourceOptions
    ) -> cloudflare.Ruleset:
        """The zone's one entry-point ruleset of the cache phase, holding all our cache rules."""
        ttl = args.assets_ttl_seconds
        return cloudflare.Ruleset(
            f"{name}-cache-rules",
            cloudflare.RulesetArgs(
                zone_id=args.zone_id,
                kind="zone",
                phase=CACHE_PHASE,
                name="webplatform cache rules",
                description=f"Cache rules for {', '.join(args.hostnames)}",
                rules=[
                    cloudflare.RulesetRuleArgs(
                        description=f"Cache {args.assets_path_prefix} for {ttl} s (immutable)",
                        expression=(
                            f"{args.host_expression} and "
                            f'starts_with(http.request.uri.path, "{args.assets_path_prefix}")'
                        ),
                        action="set_cache_settings",
                        action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                            cache=True,
                            edge_ttl=cloudflare.RulesetRuleActionParametersEdgeTtlArgs(
                                mode="override_origin", default=ttl
                            ),
                            browser_ttl=cloudflare.RulesetRuleActionParametersBrowserTtlArgs(
                                mode="override_origin", default=ttl
                            ),
                        ),
                        enabled=True,
                    )
                ],
            ),
            opts=child,
        )

    @staticmethod
    def _headers_ruleset(
        name: str, args: CloudflareEdgeArgs, child: pulumi.ResourceOptions
    ) -> cloudflare.Ruleset:
        """The zone's one entry-point ruleset of the response-header phase: the security headers."""

        def set_(value: str) -> cloudflare.RulesetRuleActionParametersHeadersArgs:
            return cloudflare.RulesetRuleActionParametersHeadersArgs(operation="set", value=value)

        headers = {
            "Strict-Transport-Security": set_(
                _edge.hsts_value(
                    args.hsts_max_age_seconds,
                    include_subdomains=args.hsts_include_subdomains,
                    preload=args.hsts_preload,
                )
            ),
            "X-Frame-Options": set_(args.frame_options),
            "X-Content-Type-Options": set_("nosniff"),
            "Referrer-Policy": set_(args.referrer_policy),
            "Content-Security-Policy": set_(args.content_security_policy),
            # No X-XSS-Protection: obsolete (see the module docstring).
        }
        return cloudflare.Ruleset(
            f"{name}-response-headers",
            cloudflare.RulesetArgs(
                zone_id=args.zone_id,
                kind="zone",
                phase=HEADERS_PHASE,
                name="webplatform response headers",
                description=f"Security headers for {', '.join(args.hostnames)}",
                rules=[
                    cloudflare.RulesetRuleArgs(
                        description="Security headers and HSTS",
                        expression=args.host_expression,
                        action="rewrite",
                        action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                            headers=headers
                        ),
                        enabled=True,
                    )
                ],
            ),
            opts=child,
        )
