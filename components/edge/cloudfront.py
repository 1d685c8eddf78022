"""A CloudFront distribution in front of an HTTPS origin, with its certificate, headers and WAF.

What references 000 and 003 build by hand, with these choices:

- **Certificate**: ACM, DNS-validated, for the host and its aliases, created
  in us-east-1 (the only region CloudFront reads certificates from) with the
  us-east-1 provider the caller passes in; the region is also pinned on the
  resource, so a provider configured for another region cannot put it where
  CloudFront cannot use it. With a Route 53 hosted zone the validation records
  and alias records (A and AAAA) are created; without one the validation
  records are an output to create at the DNS host, and ``pulumi up`` waits
  for them. Viewers get SNI only, and TLSv1.2_2021 or newer.
- **Origin**: a custom origin over HTTPS only (TLSv1.2), so nothing between
  the edge and the cluster is in clear text. The origin is a host name of the
  app's own public route (the stack passes the route's primary host), never
  one of the viewer names: CloudFront sends ``origin_host`` as SNI and as the
  ``Host`` header, which the route matches and its certificate covers.
  With ``origin_address`` (the Gateway's load balancer, ``Gateway.address``), the
  origin host's own DNS record is made here too: a CNAME in Route 53
  (``origin_zone_id``, default the viewer names' ``hosted_zone_id``) to the load
  balancer, so the name CloudFront connects to, and Let's Encrypt's HTTP-01 check of
  the route's certificate, reach the Gateway. With ``origin_header``, CloudFront adds a
  secret header to every origin request, which the Gateway requires
  (:mod:`webplatform.edge.origin`: why a header rather than the origin-facing prefix list).
- **Caching** (default behaviour): reference 000 uses the managed
  CachingDisabled policy, which turns the CDN into a TLS proxy: every request,
  cacheable pages and assets included, goes to the origin. Here:

  - cache policy: our own ``<name>-cache-policy``: TTL min 0, default 0, max
    one year, so the origin decides with ``Cache-Control`` (no header means
    not cached; ``private``/``no-store`` are never cached, which a minimum TTL
    above 0 would override); query strings in the cache key, so ``?page=2``
    is not served ``?page=1``; neither the ``Host`` header nor cookies in the
    key. No managed policy does this: UseOriginCacheControlHeaders(-QueryStrings)
    key on ``Host`` and every cookie (and what is in the key is sent to the
    origin, so the origin would get the viewer's ``Host``, which its
    certificate and route need not cover; and each distinct cookie set would
    be its own cache entry), CachingOptimized caches a day when the origin says
    nothing, at least a second even under ``no-store``, and drops query strings
    from the key;
  - origin request policy: the managed AllViewerExceptHostHeader: every viewer
    header but ``Host``, all cookies and all query strings reach the origin
    without being part of the key. A response that depends on a cookie must
    therefore say ``private`` or ``no-store``.

  ``/assets/*`` (fingerprinted, immutable files) has its own policy that keeps
  them a year at the edge whatever the origin says, ignores cookies and query
  strings, and tells browsers ``immutable``. Never put a file whose content
  changes under a fixed name in ``/assets/``.
- **Security headers** (a response headers policy, overriding the origin's):
  HSTS one year with includeSubDomains, ``X-Frame-Options``,
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy`` and the stack's
  ``Content-Security-Policy``. ``X-XSS-Protection`` (references 000 and 004)
  is left out: browsers have removed the XSS auditor it controlled, and its
  ``mode=block`` could itself be abused to leak data; the CSP is what
  protects against XSS now.
- **WAF**: a WAFv2 web ACL (scope CLOUDFRONT, hence us-east-1) with a per-IP
  rate-based rule first (so every request counts towards the limit) and the
  AWS managed IP reputation, common and known-bad-inputs rule groups.
  Requests are allowed unless a rule blocks them. Note that the common rule
  set blocks request bodies over 8 KB (``SizeRestrictions_BODY``).
- HTTP/2 and HTTP/3, IPv6, compression, PriceClass_100 (North America and
  Europe) by default; access logs (legacy S3 logging, which needs a bucket
  with ACLs enabled) only when a bucket is given.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import pulumi
from pydantic import AfterValidator, Field, InstanceOf, field_validator, model_validator

from webplatform._model import Args, Input, Items, at
from webplatform._types import Wired
from webplatform.edge import _checks as _edge
from webplatform.edge._checks import CertificateDomain, EdgeHeaders, Hostname
from webplatform.edge.origin import OriginHeader

if TYPE_CHECKING:  # the SDK is imported when a distribution is built, not when args are checked
    import pulumi_aws as aws

#: The default behaviour's cache policy is our own (``<name>-cache-policy``): no managed policy
#: keeps the origin's Cache-Control with a default TTL of 0 *and* leaves Host and cookies out of
#: the cache key (see the module docstring). These managed ones are named to say why not:
#: "UseOriginCacheControlHeaders-QueryStrings" keys on Host and all cookies (the origin would get
#: the viewer's Host, and every cookie set would be its own cache entry); "CachingOptimized"
#: caches a day when the origin says nothing, at least a second even when it says ``no-store``,
#: and ignores query strings; "CachingDisabled" (reference 000) caches nothing.
USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS = "4cc15a8a-d715-48a4-82b8-cc0b614638fe"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
#: Managed origin request policy "AllViewerExceptHostHeader": every viewer header but Host,
#: all cookies and all query strings go to the origin (not into the cache key), so the origin
#: sees its own name as Host and SNI, the name its certificate covers.
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
#: Hosted zone of every CloudFront distribution, for Route 53 alias records.
CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2"

#: AWS managed rule groups, in evaluation order after the rate limit.
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)
ORIGIN_ID = "origin"
#: The recovery region's origin, and the group that fails over to it (``failover_origin_host``).
FAILOVER_ORIGIN_ID = "origin-failover"
ORIGIN_GROUP_ID = "origin-group"
#: What the primary origin answers when CloudFront should ask the failover origin instead
#: (CloudFront also fails over when it cannot connect or times out).
FAILOVER_STATUS_CODES = (500, 502, 503, 504)
ActiveOrigin = Literal["primary", "failover"]
_ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]
_READ_METHODS = ["GET", "HEAD", "OPTIONS"]
_CACHED_METHODS = ["GET", "HEAD"]

PriceClass = Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"]
#: Viewer security policies at least as strict as TLSv1.2_2021 (TLS 1.2+, no CBC ciphers).
MinimumProtocolVersion = Literal["TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"]


def _bucket_name(value: str) -> str:
    if (
        not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", value)
        or ".." in value
        or value.endswith(".amazonaws.com")
    ):
        raise ValueError(
            f"{value!r} is not an S3 bucket name; give the bucket's name, not its URL or "
            "domain, e.g. 'acme-cdn-logs' (the component adds '.s3.amazonaws.com')"
        )
    return value


class AccessLogs(Args):
    """CloudFront standard (legacy S3) access logs."""

    bucket: Annotated[str, AfterValidator(_bucket_name)]
    """S3 bucket *name* (not URL) for the logs; required; the bucket needs ACLs enabled."""
    prefix: str = ""
    """Prefix of the log objects, e.g. ``cdn/prod/``; default none."""
    include_cookies: bool = False
    """Whether logs include cookies; default false (they often carry session tokens)."""

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if value.startswith("/"):
            raise ValueError("must not start with '/' (S3 keys have no leading slash), e.g. 'cdn/'")
        return value


class CloudFrontSettings(EdgeHeaders):
    """Everything a stack may choose about a CloudFront CDN; :class:`CloudFrontCdnArgs` adds
    the wiring (the origin, the us-east-1 provider, tags)."""

    host: Hostname
    """The public host name viewers use (e.g. ``www.example.com``); required."""
    aliases: Items[Hostname] = ()
    """Other host names served by the distribution (e.g. the apex); default none."""
    certificate_domain: CertificateDomain | None = None
    """The certificate's main name, may be ``*.example.com``; default the host; must cover it."""
    hosted_zone_id: Input[str | None] = Field(
        default=None, json_schema_extra={"type": "string", "pattern": "^Z[A-Z0-9]{1,31}$"}
    )
    """Route 53 zone of the host names; default none: validation records become an output."""
    origin_zone_id: Input[str | None] = Field(
        default=None, json_schema_extra={"type": "string", "pattern": "^Z[A-Z0-9]{1,31}$"}
    )
    """Route 53 zone of the origin host (the route's primary host), where its record pointing
    at the Gateway's load balancer is made; default ``hostedZoneId``."""
    price_class: PriceClass = "PriceClass_100"
    """Edge locations used; default PriceClass_100 (North America and Europe, the cheapest)."""
    minimum_protocol_version: MinimumProtocolVersion = "TLSv1.2_2021"
    """Viewer TLS security policy; default TLSv1.2_2021 (TLS 1.2+, no CBC ciphers)."""
    waf_rate_limit: int = Field(default=2000, ge=10, le=2_000_000_000)
    """Requests per 5 minutes per IP before WAF blocks; default 2000 (WAF allows 10 to 2e9)."""
    access_logs: AccessLogs | None = None
    """Standard access logs to an S3 bucket; default none: no access logs."""
    assets_path_pattern: str = "/assets/*"
    """Path of fingerprinted files, cached for the assets TTL; default ``/assets/*``."""
    failover_origin_host: Hostname | None = None
    """The recovery region's origin (its stack's route host, e.g. ``origin-dr.example.com``);
    default none. With it, reads (GET/HEAD/OPTIONS, the only methods CloudFront fails over)
    of the assets behaviour go through an origin group that retries there when the primary
    answers 500/502/503/504 or cannot be reached; ``active_origin`` moves everything else."""
    active_origin: ActiveOrigin = "primary"
    """Where the default behaviour (every method) sends requests: ``primary`` (default, the
    app's route host) or ``failover`` (``failover_origin_host``): region loss is this one
    config change and ``pulumi up``, no code change (docs/guides/recovery.md, runbook)."""

    @field_validator("hosted_zone_id", "origin_zone_id")
    @classmethod
    def _zone(cls, value: Any) -> Any:
        return _edge.hosted_zone_id(value) if isinstance(value, str) else value

    @field_validator("assets_path_pattern")
    @classmethod
    def _assets(cls, value: str) -> str:
        if not value.startswith("/") or value == "/*":
            raise ValueError(
                "must start with '/' and not be '/*' (that is the default behaviour), "
                "e.g. '/assets/*'"
            )
        return value

    @model_validator(mode="after")
    def _names(self) -> CloudFrontSettings:
        repeated = _edge.distinct_names(self.host, self.aliases)
        if repeated is not None:
            raise at(
                "aliases",
                message=f"{repeated!r} is listed twice or equals the host; list each name once",
            )
        if self.active_origin == "failover" and self.failover_origin_host is None:
            raise at(
                "active_origin",
                message="'failover' needs failover_origin_host (the recovery region's origin)",
            )
        failover = self.failover_origin_host
        problem = None if failover is None else _edge.origin_problem(failover, self.hostnames)
        if problem is not None:
            raise at(
                "failover_origin_host", message=problem + "; use the recovery stack's route host"
            )
        domain = self.certificate_domain
        if domain is not None and not _edge.covers(domain, self.host):
            raise at(
                "certificate_domain",
                message=f"{domain!r} does not cover the host {self.host!r}; use the host or "
                "a wildcard one level above it",
            )
        return self

    @property
    def hostnames(self) -> list[str]:
        return [self.host, *self.aliases]

    @property
    def certificate_names(self) -> tuple[str, list[str]]:
        """The certificate's domain name and its subject alternative names."""
        main = self.certificate_domain or self.host
        return main, [h for h in self.hostnames if not _edge.covers(main, h)]


class CloudFrontCdnArgs(CloudFrontSettings):
    """The settings plus what the caller wires in: the origin, the us-east-1 provider, tags."""

    origin_host: Hostname
    """The origin's host name (a route host); required; sent as SNI and Host, so certified."""
    us_east_1_provider: InstanceOf[pulumi.ProviderResource]
    """An ``aws.Provider`` for us-east-1 (certificate, web ACL); required: we build none."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags on the certificate, web ACL and distribution; default none."""
    origin_address: Wired[str] | None = None
    """The Gateway's load balancer (``Gateway.address``): the origin host's DNS record points
    at it; default none (the record is made elsewhere). Needs a zone (``origin_zone_id`` or
    ``hosted_zone_id``)."""
    origin_header: OriginHeader | None = None
    """The secret header CloudFront sends to the origin, which the Gateway requires; default
    none (the origin is then reachable without CloudFront)."""

    @field_validator("us_east_1_provider")
    @classmethod
    def _aws(cls, value: pulumi.ProviderResource) -> pulumi.ProviderResource:
        if value.package != "aws":
            raise ValueError("must be an aws.Provider for region us-east-1")
        return value

    @model_validator(mode="after")
    def _origin(self) -> CloudFrontCdnArgs:
        problem = _edge.origin_problem(self.origin_host, self.hostnames)
        if problem is not None:
            raise at("origin_host", message=problem + "; use the app's own route host")
        if self.failover_origin_host == self.origin_host:
            raise at(
                "failover_origin_host",
                message="is the primary origin; use the recovery region's route host",
            )
        if self.origin_address is not None and self.origin_zone is None:
            raise at(
                "origin_zone_id",
                message="required with origin_address: the Route 53 zone of the origin host "
                f"{self.origin_host} (or set hosted_zone_id)",
            )
        return self

    @property
    def origin_zone(self) -> pulumi.Input[str] | None:
        """Where the origin host's record goes: ``origin_zone_id``, else ``hosted_zone_id``."""
        zone = self.origin_zone_id if self.origin_zone_id is not None else self.hosted_zone_id
        return cast("pulumi.Input[str] | None", zone)


class CloudFrontCdn(pulumi.ComponentResource):
    """CloudFront distribution + ACM certificate + response headers policy + WAFv2 web ACL."""

    domain_name: pulumi.Output[str]
    """The distribution's ``*.cloudfront.net`` name: the target of the host's DNS record."""
    hosted_zone_id: pulumi.Output[str]
    """CloudFront's hosted zone, for alias records made elsewhere."""
    distribution_id: pulumi.Output[str]
    certificate_arn: pulumi.Output[str]
    web_acl_arn: pulumi.Output[str]
    validation_records: pulumi.Output[list[dict[str, str]]]
    """DNS records (``name``, ``type``, ``value``) that validate the certificate; created
    in Route 53 when a hosted zone is given, otherwise to create at the DNS host."""

    def __init__(
        self, name: str, args: CloudFrontCdnArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        import pulumi_aws as aws

        super().__init__("webplatform:cdn_cloudfront:CloudFrontCdn", name, None, opts)
        self._name = name
        self._args = args
        east = pulumi.ResourceOptions(parent=self, provider=args.us_east_1_provider)
        child = pulumi.ResourceOptions(parent=self)

        certificate_arn = self._certificate(east)
        web_acl = self._web_acl(east)
        origin_record = self._origin_record(child)
        distribution = aws.cloudfront.Distribution(
            f"{name}-distribution",
            aws.cloudfront.DistributionArgs(
                enabled=True,
                comment=_comment(f"webplatform: {args.host}"),
                aliases=args.hostnames,
                origins=[self._origin(), *self._failover_origins()],
                origin_groups=self._origin_groups(),
                default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                    target_origin_id=FAILOVER_ORIGIN_ID
                    if args.active_origin == "failover"
                    else ORIGIN_ID,
                    viewer_protocol_policy="redirect-to-https",
                    allowed_methods=_ALL_METHODS,
                    cached_methods=_CACHED_METHODS,
                    compress=True,
                    cache_policy_id=self._default_cache_policy(child).id,
                    origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST_HEADER,
                    response_headers_policy_id=self._headers_policy("headers", None, child).id,
                ),
                ordered_cache_behaviors=[self._assets_behaviour(child)],
                http_version="http2and3",
                is_ipv6_enabled=True,
                price_class=args.price_class,
                restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                    geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                        restriction_type="none", locations=[]
                    )
                ),
                viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
                    acm_certificate_arn=certificate_arn,
                    ssl_support_method="sni-only",
                    minimum_protocol_version=args.minimum_protocol_version,
                ),
                logging_config=self._logging(),
                web_acl_id=web_acl.arn,
                tags=dict(args.tags) or None,
            ),
            # CloudFront resolves the origin host: its record first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=origin_record),
        )
        if args.hosted_zone_id is not None:
            self._alias_records(distribution, self._zone, child)

        self.domain_name = distribution.domain_name
        self.hosted_zone_id = distribution.hosted_zone_id
        self.distribution_id = distribution.id
        self.certificate_arn = certificate_arn
        self.web_acl_arn = web_acl.arn
        self.register_outputs(
            {
                "domain_name": self.domain_name,
                "hosted_zone_id": self.hosted_zone_id,
                "distribution_id": self.distribution_id,
                "certificate_arn": self.certificate_arn,
                "web_acl_arn": self.web_acl_arn,
                "validation_records": self.validation_records,
            }
        )

    @property
    def _zone(self) -> pulumi.Input[str]:
        """The hosted zone, once known to be set (``Input[str | None]`` keeps pydantic's
        union flat; mypy needs the narrowing)."""
        return cast("pulumi.Input[str]", self._args.hosted_zone_id)

    def _certificate(self, east: pulumi.ResourceOptions) -> pulumi.Output[str]:
        """The certificate, its DNS validation, and the validated ARN (what CloudFront may use)."""
        import pulumi_aws as aws

        args, name = self._args, self._name
        main, sans = args.certificate_names
        certificate = aws.acm.Certificate(
            f"{name}-certificate",
            aws.acm.CertificateArgs(
                domain_name=main,
                subject_alternative_names=sans or None,
                validation_method="DNS",
                region="us-east-1",
                options=aws.acm.CertificateOptionsArgs(
                    certificate_transparency_logging_preference="ENABLED"
                ),
                tags=dict(args.tags) or None,
            ),
            opts=east,
        )
        options = certificate.domain_validation_options
        self.validation_records = options.apply(
            lambda items: sorted(
                (
                    {
                        "name": o.resource_record_name or "",
                        "type": o.resource_record_type or "",
                        "value": o.resource_record_value or "",
                    }
                    for o in {o.resource_record_name: o for o in items or []}.values()
                ),
                key=lambda r: r["name"],
            )
        )
        fqdns: list[pulumi.Output[str]] | None = None
        if args.hosted_zone_id is not None:
            # One record per name ACM asks for; '*.x' and 'x' share one, so key by the bare name.
            bare = sorted({d.removeprefix("*.") for d in [main, *sans]})
            fqdns = []
            for domain in bare:
                option = options.apply(functools.partial(_option_for, domain=domain))
                record = aws.route53.Record(
                    f"{name}-validation-{_edge.slug(domain)}",
                    aws.route53.RecordArgs(
                        zone_id=self._zone,
                        name=option.apply(lambda o: o.resource_record_name or ""),
                        type=option.apply(lambda o: o.resource_record_type or "CNAME"),
                        records=[option.apply(lambda o: o.resource_record_value or "")],
                        ttl=300,
                        # ACM reuses one record per name across certificates: a replacement
                        # certificate must be able to take over the existing record.
                        allow_overwrite=True,
                    ),
                    opts=pulumi.ResourceOptions(parent=self),
                )
                fqdns.append(record.fqdn)
        validation = aws.acm.CertificateValidation(
            f"{name}-certificate-validation",
            aws.acm.CertificateValidationArgs(
                certificate_arn=certificate.arn,
                validation_record_fqdns=fqdns,
                region="us-east-1",
            ),
            opts=east,
        )
        return validation.certificate_arn

    def _web_acl(self, east: pulumi.ResourceOptions) -> aws.wafv2.WebAcl:
        import pulumi_aws as aws

        args, name = self._args, self._name

        def visibility(metric: str) -> dict[str, Any]:
            return {
                "cloudwatch_metrics_enabled": True,
                "metric_name": metric,
                "sampled_requests_enabled": True,
            }

        rules = [
            aws.wafv2.WebAclRuleArgs(
                name="rate-limit-per-ip",
                priority=0,
                action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
                statement=aws.wafv2.WebAclRuleStatementArgs(
                    rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                        limit=args.waf_rate_limit,
                        aggregate_key_type="IP",
                        evaluation_window_sec=300,
                    )
                ),
                visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
                    **visibility(f"{name}-rate-limit-per-ip")
                ),
            )
        ]
        for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1):
            rules.append(
                aws.wafv2.WebAclRuleArgs(
                    name=group,
                    priority=priority,
                    override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                        none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()
                    ),
                    statement=aws.wafv2.WebAclRuleStatementArgs(
                        managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                            vendor_name="AWS", name=group
                        )
                    ),
                    visibility_config=aws.wafv2.WebAclRuleVisibilityConfigArgs(
                        **visibility(f"{name}-{group}")
                    ),
                )
            )
        return aws.wafv2.WebAcl(
            f"{name}-web-acl",
            aws.wafv2.WebAclArgs(
                scope="CLOUDFRONT",
                region="us-east-1",
                description=_comment(f"Edge protection for {args.host}"),
                default_action=aws.wafv2.WebAclDefaultActionArgs(
                    allow=aws.wafv2.WebAclDefaultActionAllowArgs()
                ),
                rules=rules,
                visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(**visibility(name)),
                tags=dict(args.tags) or None,
            ),
            opts=east,
        )

    def _origin_record(self, child: pulumi.ResourceOptions) -> list[pulumi.Resource]:
        """The origin host's CNAME to the Gateway's load balancer (an NLB's DNS name)."""
        import pulumi_aws as aws

        args = self._args
        if args.origin_address is None or args.origin_zone is None:
            return []
        return [
            aws.route53.Record(
                f"{self._name}-origin-record",
                aws.route53.RecordArgs(
                    zone_id=args.origin_zone,
                    name=args.origin_host,
                    type="CNAME",
                    records=[args.origin_address],
                    ttl=300,
                ),
                opts=child,
            )
        ]

    def _origin(self) -> aws.cloudfront.DistributionOriginArgs:
        import pulumi_aws as aws

        header = self._args.origin_header
        return aws.cloudfront.DistributionOriginArgs(
            origin_id=ORIGIN_ID,
            custom_headers=None
            if header is None
            else [
                aws.cloudfront.DistributionOriginCustomHeaderArgs(
                    name=header.name, value=pulumi.Output.secret(header.value)
                )
            ],
            domain_name=self._args.origin_host,
            custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                http_port=80,
                https_port=443,
                origin_protocol_policy="https-only",
                origin_ssl_protocols=["TLSv1.2"],
            ),
        )

    def _failover_origins(self) -> list[aws.cloudfront.DistributionOriginArgs]:
        """The recovery region's origin: the primary's settings (HTTPS only, TLS 1.2, and
        whatever else the primary sends), another id and host; none without one."""
        host = self._args.failover_origin_host
        if host is None:
            return []
        origin = copy.copy(self._origin())
        pulumi.set(origin, "origin_id", FAILOVER_ORIGIN_ID)
        pulumi.set(origin, "domain_name", host)
        return [origin]

    def _origin_groups(self) -> list[aws.cloudfront.DistributionOriginGroupArgs] | None:
        """Primary first, then the recovery region's origin; ``None`` (no change to existing
        distributions) without a failover origin."""
        import pulumi_aws as aws

        if self._args.failover_origin_host is None:
            return None
        return [
            aws.cloudfront.DistributionOriginGroupArgs(
                origin_id=ORIGIN_GROUP_ID,
                failover_criteria=aws.cloudfront.DistributionOriginGroupFailoverCriteriaArgs(
                    status_codes=list(FAILOVER_STATUS_CODES)
                ),
                members=[
                    aws.cloudfront.DistributionOriginGroupMemberArgs(origin_id=ORIGIN_ID),
                    aws.cloudfront.DistributionOriginGroupMemberArgs(origin_id=FAILOVER_ORIGIN_ID),
                ],
            )
        ]

    def _headers_policy(
        self, role: str, cache_control: str | None, child: pulumi.ResourceOptions
    ) -> aws.cloudfront.ResponseHeadersPolicy:
        """The security headers; with ``cache_control``, also that header (for the assets)."""
        import pulumi_aws as aws

        args = self._args
        security = aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigArgs(
            strict_transport_security=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurityArgs(
                access_control_max_age_sec=args.hsts_max_age_seconds,
                include_subdomains=args.hsts_include_subdomains,
                preload=args.hsts_preload,
                override=True,
            ),
            frame_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigFrameOptionsArgs(
                frame_option=args.frame_options, override=True
            ),
            content_type_options=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentTypeOptionsArgs(
                override=True
            ),
            referrer_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigReferrerPolicyArgs(
                referrer_policy=args.referrer_policy, override=True
            ),
            content_security_policy=aws.cloudfront.ResponseHeadersPolicySecurityHeadersConfigContentSecurityPolicyArgs(
                content_security_policy=args.content_security_policy, override=True
            ),
            # No xss_protection: X-XSS-Protection is obsolete (see the module docstring).
        )
        custom = None
        if cache_control is not None:
            custom = aws.cloudfront.ResponseHeadersPolicyCustomHeadersConfigArgs(
                items=[
                    aws.cloudfront.ResponseHeadersPolicyCustomHeadersConfigItemArgs(
                        header="Cache-Control", value=cache_control, override=True
                    )
                ]
            )
        return aws.cloudfront.ResponseHeadersPolicy(
            f"{self._name}-{role}",
            aws.cloudfront.ResponseHeadersPolicyArgs(
                comment=_comment(f"Security headers for {args.host}"),
                security_headers_config=security,
                custom_headers_config=custom,
            ),
            opts=child,
        )

    def _assets_behaviour(
        self, child: pulumi.ResourceOptions
    ) -> aws.cloudfront.DistributionOrderedCacheBehaviorArgs:
        import pulumi_aws as aws

        args = self._args
        ttl = args.assets_ttl_seconds
        # min = default = max: the edge keeps them for the TTL whatever the origin says.
        policy = self._cache_policy(
            "assets-cache-policy",
            f"Fingerprinted assets of {args.host}: {ttl} s at the edge",
            ttl=(ttl, ttl, ttl),
            query_strings="none",
            child=child,
        )
        headers = self._headers_policy("assets-headers", f"public, max-age={ttl}, immutable", child)
        return aws.cloudfront.DistributionOrderedCacheBehaviorArgs(
            path_pattern=args.assets_path_pattern,
            target_origin_id=ORIGIN_ID if args.failover_origin_host is None else ORIGIN_GROUP_ID,
            viewer_protocol_policy="redirect-to-https",
            allowed_methods=_READ_METHODS,
            cached_methods=_CACHED_METHODS,
            compress=True,
            cache_policy_id=policy.id,
            response_headers_policy_id=headers.id,
        )

    def _default_cache_policy(self, child: pulumi.ResourceOptions) -> aws.cloudfront.CachePolicy:
        """The origin's Cache-Control decides (min 0, default 0: no header, not cached; at most a
        year); query strings are in the key, Host and cookies are not (see the module docstring)."""
        return self._cache_policy(
            "cache-policy",
            f"Origin Cache-Control for {self._args.host}; key: path and query string",
            ttl=(0, 0, _edge.ONE_YEAR_SECONDS),
            query_strings="all",
            child=child,
        )

    def _cache_policy(
        self,
        role: str,
        comment: str,
        *,
        ttl: tuple[int, int, int],
        query_strings: Literal["none", "all"],
        child: pulumi.ResourceOptions,
    ) -> aws.cloudfront.CachePolicy:
        """A cache policy keyed on the path (and query strings if asked), never on headers or
        cookies; ``ttl`` is (min, default, max) in seconds."""
        import pulumi_aws as aws

        lowest, default, highest = ttl
        return aws.cloudfront.CachePolicy(
            f"{self._name}-{role}",
            aws.cloudfront.CachePolicyArgs(
                comment=_comment(comment),
                min_ttl=lowest,
                default_ttl=default,
                max_ttl=highest,
                parameters_in_cache_key_and_forwarded_to_origin=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginArgs(
                    cookies_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs(
                        cookie_behavior="none"
                    ),
                    headers_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs(
                        header_behavior="none"
                    ),
                    query_strings_config=aws.cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs(
                        query_string_behavior=query_strings
                    ),
                    enable_accept_encoding_brotli=True,
                    enable_accept_encoding_gzip=True,
                ),
            ),
            opts=child,
        )

    def _logging(self) -> aws.cloudfront.DistributionLoggingConfigArgs | None:
        import pulumi_aws as aws

        logs = self._args.access_logs
        if logs is None:
            return None
        return aws.cloudfront.DistributionLoggingConfigArgs(
            bucket=f"{logs.bucket}.s3.amazonaws.com",
            prefix=logs.prefix or None,
            include_cookies=logs.include_cookies,
        )

    def _alias_records(
        self,
        distribution: aws.cloudfront.Distribution,
        zone_id: pulumi.Input[str],
        child: pulumi.ResourceOptions,
    ) -> None:
        """A and AAAA alias records for every host name (IPv6 is on, so AAAA too)."""
        import pulumi_aws as aws

        for host in self._args.hostnames:
            for record_type in ("A", "AAAA"):
                aws.route53.Record(
                    f"{self._name}-alias-{_edge.slug(host)}-{record_type.lower()}",
                    aws.route53.RecordArgs(
                        zone_id=zone_id,
                        name=host,
                        type=record_type,
                        aliases=[
                            aws.route53.RecordAliasArgs(
                                name=distribution.domain_name,
                                zone_id=distribution.hosted_zone_id,
                                evaluate_target_health=False,
                            )
                        ],
                    ),
                    opts=child,
                )


def _option_for(
    items: Sequence[aws.acm.outputs.CertificateDomainValidationOption] | None, domain: str
) -> aws.acm.outputs.CertificateDomainValidationOption:
    """The validation option ACM returned for ``domain`` (or its wildcard)."""
    for item in items or []:
        if item.domain_name in (domain, f"*.{domain}"):
            return item
    raise ValueError(f"ACM returned no validation record for {domain!r}")


def _comment(text: str) -> str:
    """CloudFront and WAF cap comments and descriptions at 128 characters."""
    return text if len(text) <= 128 else text[:125] + "..."
