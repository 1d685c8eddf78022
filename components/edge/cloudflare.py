"""The Cloudflare edge in front of an HTTPS origin: proxied DNS, HTTPS-only zone, caching, headers.

Reference 004 does this with a Worker and a rules file; here it is all
declarative, in pulumi-cloudflare v6 resources:

- a **proxied** ``DnsRecord`` per host name, a CNAME to ``origin_address``
  (the load balancer in front of the cluster's Gateway: the stack wires the
  Gateway's published address, never a name typed into the stack file), so traffic goes
  through Cloudflare's edge and the origin's address is not published. The
  host names are the app's own route hosts: Cloudflare sends the proxied name
  as SNI and ``Host`` to the origin, so with SSL *strict* the origin presents
  the route's certificate, which covers exactly those names. The CNAME target
  is only an address: it is never sent as a name, and needs no certificate;
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

- with ``origin_header``, one **request header transform rule** (phase
  ``http_request_late_transform``) that sets a secret header on every request
  Cloudflare sends to the origin; the Gateway's route refuses requests without it
  (:mod:`webplatform.edge.origin`). Why a secret header, and not only Cloudflare's
  published IP ranges or zone-level Authenticated Origin Pulls: both of those prove
  "came through Cloudflare", not "came through *our* zone", and any Cloudflare customer
  can point a record of theirs at our load balancer; the header's value is known only
  to our zone and the cluster. The stack adds the published ranges as well
  (:func:`published_ranges`, the load balancer's source ranges), so a direct client
  does not even reach Envoy; transform rules exist on every plan.

The rules only match this component's host names, so other hosts in the zone
are not affected.

**The origin's certificate** (:class:`CloudflareOriginCertificate`): a Cloudflare
Origin CA certificate for the route's hosts, its key made by the ``tls`` provider and
kept as a Pulumi secret, given to the Gateway as its TLS Secret. Why not Let's Encrypt
through cert-manager, as the CloudFront stacks do: Cloudflare proxies the hosts with
"always use HTTPS", so an HTTP-01 challenge is redirected at the edge and SSL strict
needs a valid origin certificate before anything can answer (a first issuance never
succeeds); a DNS-01 solver would work, but needs a zone-wide DNS-edit token inside the
cluster (whoever reads it can re-point every name of the zone) and a renewal loop that
can fail silently; and Let's Encrypt's *staging* CA, which the staging stack uses, is not
trusted by SSL strict at all. The Origin CA certificate is trusted by Cloudflare's strict
mode only (browsers reject it: one more reason the origin is useless without the edge),
needs no credential in the cluster, and is valid for ``origin_certificate_days``
(default 15 years, Cloudflare's default): rotate it with ``pulumi up --replace`` on the
key. The API token then also needs "SSL and Certificates: Edit" on the zone.

**One entry-point ruleset per phase per zone.** Cloudflare keeps a single
zone entry-point ruleset for each phase; a second ``Ruleset`` of the same
phase on the same zone replaces (or fails against) the first. This component
therefore puts all its rules of a phase into one ruleset, and two
``CloudflareEdge`` components cannot share a zone: to serve several sites from
one zone, give one component all of their host names (``aliases``).

**When the zone already has an entry-point ruleset for one of these phases**
(rules made in the dashboard, by Terraform or by an older stack), ``pulumi up``
fails to create ours. Do not delete it: import it into this component, then
let the next ``pulumi up`` replace its rules with ours (copy any rule you want
to keep into this component first, as every rule of the phase is ours after
that). Find its ID, then import it under the component's resource name (the
first, failed ``pulumi up`` has already recorded the component, whose URN
``pulumi stack --show-urns`` prints)::

    curl -s -H "Authorization: Bearer $CLOUDFLARE_API_TOKEN" \\
      https://api.cloudflare.com/client/v4/zones/<zone_id>/rulesets/phases/<phase>/entrypoint \\
      | jq -r .result.id
    pulumi import cloudflare:index/ruleset:Ruleset <name>-cache-rules \\
      zones/<zone_id>/<ruleset_id> --parent 'edge=<urn of the CloudflareEdge>' \\
      --generate-code=false

(``<name>-response-headers`` for the phase ``http_response_headers_transform``).
The import ID is ``zones/<zone_id>/<ruleset_id>`` in pulumi-cloudflare v6 (its
docs: ``<{accounts|zones}/{account_id|zone_id}>/<ruleset_id>``; v4 wrote
``zone/...``). ``--generate-code=false`` because this component already declares
the resource; then run ``pulumi up``.

The API token is provider configuration, not an argument: set
``cloudflare:apiToken`` as a Pulumi secret (or ``CLOUDFLARE_API_TOKEN``), or
pass your own ``cloudflare.Provider`` through ``opts``. The token needs Zone
DNS Edit, Zone Settings Edit, Cache Rules Edit, Transform Rules Edit and SSL and
Certificates Edit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import pulumi
from pydantic import Field, field_validator, model_validator

from webplatform._model import Args, Input, Items, at
from webplatform.edge import _checks as _edge
from webplatform.edge._checks import EdgeHeaders, Hostname
from webplatform.edge.origin import OriginHeader

if TYPE_CHECKING:  # the SDK is imported when the edge is built, not when args are checked
    import pulumi_cloudflare as cloudflare

CACHE_PHASE = "http_request_cache_settings"
HEADERS_PHASE = "http_response_headers_transform"
REQUEST_HEADERS_PHASE = "http_request_late_transform"
#: Validity periods Cloudflare's Origin CA issues, in days.
OriginCertificateDays = Literal[7, 30, 90, 365, 730, 1095, 5475]


class CloudflareSettings(EdgeHeaders):
    """Everything a stack may choose about the Cloudflare edge; :class:`CloudflareEdgeArgs`
    adds the host names it proxies (in a stack, the app's route hosts)."""

    zone_id: Input[str] = Field(json_schema_extra={"pattern": "^[0-9a-f]{32}$"})
    """The Cloudflare zone (32 hex characters) holding the host names; required."""
    min_tls_version: Literal["1.2", "1.3"] = "1.2"
    """Zone minimum TLS version for viewers; default 1.2 (1.0 and 1.1 are deprecated)."""
    assets_path_prefix: str = "/assets/"
    """Path prefix of fingerprinted files, cached for the assets TTL; default ``/assets/``."""

    @field_validator("zone_id")
    @classmethod
    def _zone(cls, value: Any) -> Any:
        return _edge.zone_id(value) if isinstance(value, str) else value

    origin_certificate_days: OriginCertificateDays = 5475
    """Validity of the origin's Cloudflare Origin CA certificate; default 5475 (15 years,
    Cloudflare's default: nothing renews it; rotate with ``pulumi up --replace``)."""

    @field_validator("assets_path_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        """The prefix goes into a rule expression between quotes: no quote may end it early."""
        if (
            not value.startswith("/")
            or not value.endswith("/")
            or value == "/"
            or any(c in value for c in '"\\ ')
        ):
            raise ValueError(
                "must be a path like '/assets/': leading and trailing '/', not '/' alone, "
                "no quotes, backslashes or spaces"
            )
        return value


class CloudflareEdgeArgs(CloudflareSettings):
    """The settings plus the host names to proxy and where they point."""

    origin_address: Input[str]
    """CNAME target of the proxied records: the Gateway's load balancer (``Gateway.address``);
    required; only an address, never sent as SNI or Host."""
    origin_header: OriginHeader | None = None
    """A secret header Cloudflare adds to every request to the origin, which the Gateway
    requires; default none (the origin is then reachable without Cloudflare)."""

    @field_validator("origin_address")
    @classmethod
    def _origin(cls, value: Any) -> Any:
        return _edge.hostname(value) if isinstance(value, str) else value

    host: Hostname
    """The main proxied host name (e.g. ``web.staging.example.com``), inside the zone."""
    aliases: Items[Hostname] = ()
    """Other host names in the zone served the same way; default none."""

    @model_validator(mode="after")
    def _names(self) -> CloudflareEdgeArgs:
        repeated = _edge.distinct_names(self.host, self.aliases)
        if repeated is not None:
            raise at(
                "aliases",
                message=f"{repeated!r} is listed twice or equals the host; list each name once",
            )
        if isinstance(self.origin_address, str):
            problem = _edge.origin_problem(self.origin_address, self.hostnames)
            if problem is not None:
                raise at(
                    "origin_address",
                    message=problem + "; point the records at the Gateway's load balancer",
                )
        return self

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
        import pulumi_cloudflare as cloudflare

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
                    content=args.origin_address,
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

        if args.origin_header is not None:
            self._request_headers_ruleset(name, args, args.origin_header, child)

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
        import pulumi_cloudflare as cloudflare

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
        import pulumi_cloudflare as cloudflare

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

    @staticmethod
    def _request_headers_ruleset(
        name: str, args: CloudflareEdgeArgs, header: OriginHeader, child: pulumi.ResourceOptions
    ) -> cloudflare.Ruleset:
        """The zone's one entry-point ruleset of the late request-header phase: the secret
        header the origin requires (set last, so no earlier rule or client value survives)."""
        import pulumi_cloudflare as cloudflare

        return cloudflare.Ruleset(
            f"{name}-origin-header",
            cloudflare.RulesetArgs(
                zone_id=args.zone_id,
                kind="zone",
                phase=REQUEST_HEADERS_PHASE,
                name="webplatform origin header",
                description=f"Origin verification header for {', '.join(args.hostnames)}",
                rules=[
                    cloudflare.RulesetRuleArgs(
                        description="Prove to the origin that the request came through this zone",
                        expression=args.host_expression,
                        action="rewrite",
                        action_parameters=cloudflare.RulesetRuleActionParametersArgs(
                            headers={
                                header.name: cloudflare.RulesetRuleActionParametersHeadersArgs(
                                    operation="set", value=pulumi.Output.secret(header.value)
                                )
                            }
                        ),
                        enabled=True,
                    )
                ],
            ),
            opts=child,
        )


def published_ranges() -> pulumi.Output[list[str]]:
    """Cloudflare's published IPv4 and IPv6 ranges, read at every deploy (they change rarely;
    a change shows in the preview as a change of the load balancer's source ranges)."""
    import pulumi_cloudflare as cloudflare

    found = cloudflare.get_ip_ranges_output()
    return pulumi.Output.all(found.ipv4_cidrs, found.ipv6_cidrs).apply(
        lambda both: sorted({*(both[0] or []), *(both[1] or [])})
    )


class CloudflareOriginCertificateArgs(Args):
    """The origin's Cloudflare Origin CA certificate (why: see the module docstring)."""

    hostnames: Annotated[Items[Hostname], Field(min_length=1)]
    """The names it covers: the app's route hosts; required."""
    validity_days: OriginCertificateDays = 5475
    """Validity; default 5475 days (Cloudflare's default)."""


class CloudflareOriginCertificate(pulumi.ComponentResource):
    """An ECDSA P-256 key, its CSR and the Origin CA certificate Cloudflare signs for it."""

    certificate: pulumi.Output[str]
    """The certificate, PEM."""
    private_key: pulumi.Output[str]
    """Its private key, PEM; a Pulumi secret."""

    def __init__(
        self,
        name: str,
        args: CloudflareOriginCertificateArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        import pulumi_cloudflare as cloudflare
        import pulumi_tls as tls

        super().__init__("webplatform:cdn_cloudflare:CloudflareOriginCertificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        key = tls.PrivateKey(
            f"{name}-key", tls.PrivateKeyArgs(algorithm="ECDSA", ecdsa_curve="P256"), opts=child
        )
        request = tls.CertRequest(
            f"{name}-csr",
            tls.CertRequestArgs(
                private_key_pem=key.private_key_pem,
                dns_names=list(args.hostnames),
                subject=tls.CertRequestSubjectArgs(common_name=args.hostnames[0]),
            ),
            opts=child,
        )
        certificate = cloudflare.OriginCaCertificate(
            f"{name}-certificate",
            cloudflare.OriginCaCertificateArgs(
                csr=request.cert_request_pem,
                hostnames=list(args.hostnames),
                request_type="origin-ecc",
                requested_validity=args.validity_days,
            ),
            opts=child,
        )
        self.certificate = certificate.certificate
        self.private_key = pulumi.Output.secret(key.private_key_pem)
        self.register_outputs({"certificate": self.certificate, "private_key": self.private_key})
